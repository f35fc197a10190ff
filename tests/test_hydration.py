"""The body of a page whose article is only in its hydration data (``hydration``).

Pages are written here, small and synthetic: a Next.js app-router page (flight
pushes), a pages-router page (``__NEXT_DATA__``), and an ordinary page beside them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from crawler.extraction import ExtractionError, extract_page
from crawler.extraction import extractor as extractor_module
from crawler.extraction.hydration import flight_rows, is_furniture_key

URL = "https://news.example.org/2025/03/04/river-ferry"
TITLE = "River ferry returns after winter repairs"

PARAGRAPHS = [
    "The river ferry returned to service on Tuesday morning after three months of "
    "repairs to its hull and engines at the shipyard downstream.",
    "The operator said the crossings would run every twenty minutes on weekdays and "
    "every half hour at weekends, as they did before the winter.",
    "Commuters who had taken the long road round through the valley said the "
    "return of the ferry would save them almost an hour each day.",
    "A second boat, ordered last year, should join the service in the autumn once "
    "its trials on the lake are finished and the crew has been trained.",
]
NAV = ["Weather warning for the coast", "Election results by district", "Sport"]
RELATED = [
    "Bridge tolls to rise in the new year",
    "Harbour works delayed again by storms",
    "New cycle path along the canal opens",
]


def shell(scripts: str, *, nav: list[str] = NAV) -> bytes:
    """A page whose DOM has a head, a menu and no article: only ``scripts``."""
    menu = "".join(f'<li><a href="/s/{i}">{t}</a></li>' for i, t in enumerate(nav))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{TITLE} | River Times</title>
<meta property="og:title" content="{TITLE}">
<meta property="og:site_name" content="River Times">
<meta name="author" content="Ada Lovelace">
<meta property="article:published_time" content="2025-03-04T08:30:00+01:00">
</head><body><header><ul>{menu}</ul></header><div id="__next"></div>
{scripts}
</body></html>""".encode()


def push(chunk: str) -> str:
    return f"<script>self.__next_f.push({json.dumps([1, chunk])})</script>"


def flight_page() -> bytes:
    """App router: the article HTML as a flight text row split over two pushes,
    a JSON row beside it holding the menu as HTML and related headlines."""
    article = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    nav_html = "<ul>" + "".join(f'<li><a href="/n">{t}</a></li>' for t in NAV)
    # neutral keys: the menu is left out for its links, the headlines as no prose
    state = {"block": nav_html + "</ul>", "items": [{"title": t} for t in RELATED]}
    size = len(article.encode("utf-8"))
    rows = f'1:I[100,[],"Article"]\n2:{json.dumps(state)}\n3:T{size:x},'
    return shell(
        "<script>(self.__next_f=self.__next_f||[]).push([0])</script>"
        + push(rows)
        + push(article[:100])
        + push(article[100:])
        + push('4:["$","$L1",null,{"html":"$3"}]\n')
    )


def next_data_page(body: Any, *, nav: list[str] = NAV) -> bytes:
    """Pages router: the article in ``__NEXT_DATA__``'s page props."""
    data = {
        "props": {
            "pageProps": {
                "article": {"headline": TITLE, "body": body},
                "related": [{"title": t, "url": "/r"} for t in RELATED],
            }
        },
        "page": "/[slug]",
    }
    return shell(
        '<script id="__NEXT_DATA__" type="application/json">'
        f"{json.dumps(data)}</script>",
        nav=nav,
    )


def assert_article(html: bytes) -> None:
    page = extract_page(html, URL)
    assert page.body_source == "hydration", page.body_source
    assert page.paragraphs == PARAGRAPHS, page.paragraphs
    assert page.title == TITLE
    assert page.authors == ["Ada Lovelace"]
    assert page.date == "2025-03-04T08:30:00+01:00"
    for furniture in NAV + RELATED:
        assert furniture not in page.text, f"{furniture!r} is menu or teaser, not body"


def test_the_body_of_flight_pushes_joined_in_order() -> None:
    assert_article(flight_page())


def test_the_html_body_of_next_data() -> None:
    assert_article(next_data_page("".join(f"<p>{p}</p>" for p in PARAGRAPHS)))


def test_a_plain_text_body_of_next_data() -> None:
    assert_article(next_data_page("\n\n".join(PARAGRAPHS)))


def test_a_body_of_blocks_in_next_data_beside_teasers_with_summaries() -> None:
    blocks = [{"type": "paragraph", "model": {"text": p}} for p in PARAGRAPHS]
    html = next_data_page(blocks).replace(
        b'"url": "/r"}',
        b'"url": "/r", "summary": "A teaser of another story, one sentence long."}',
    )
    assert_article(html)


def test_no_article_in_the_hydration_data_is_still_no_body() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_page(next_data_page("A standfirst, no article.", nav=[]), URL)
    assert caught.value.reason == "no_body"


def test_an_ordinary_page_never_reads_its_hydration_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("hydration data read on a page with a body")

    monkeypatch.setattr(extractor_module, "hydration_body", fail)
    blob = json.dumps({"props": {"body": "<p>Other words entirely here.</p>" * 20}})
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = shell(
        f'<script id="__NEXT_DATA__" type="application/json">{blob}</script>'
    ).replace(b'<div id="__next"></div>', f"<article>{paras}</article>".encode())
    page = extract_page(html, URL)
    assert page.body_source == "trafilatura"
    assert page.paragraphs == PARAGRAPHS


@pytest.mark.parametrize(
    ("key", "furniture"),
    [
        ("flyOutMenu", True),
        ("related_articles", True),
        ("topNav", True),
        ("body", False),
        ("unavailable", False),
        ("contentHtml", False),
    ],
)
def test_furniture_keys(key: str, furniture: bool) -> None:
    assert is_furniture_key(key) is furniture


def test_flight_text_rows_are_measured_in_utf8_bytes() -> None:
    text = "Zürich – 東京\nnext line"
    stream = f'0:["a"]\n1:T{len(text.encode()):x},{text}2:{{"b":1}}\n'
    assert list(flight_rows(stream)) == [
        ("0", "", '["a"]'),
        ("1", "T", text),
        ("2", "", '{"b":1}'),
    ]


def test_an_unreadable_flight_stream_ends_quietly() -> None:
    assert list(flight_rows('0:["a"]\nnot a row: x')) == [("0", "", '["a"]')]
