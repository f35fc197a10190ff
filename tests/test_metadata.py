"""Metadata read from a page (crawler/extraction/metadata.py): dates, authors, titles.

Each page here is written for the test and shows one convention seen across many
sites; the figures that justify the rules are in docs/extraction.md.
"""

from __future__ import annotations

import json

import pytest
from lxml import html

from crawler.extraction import extract_page
from crawler.extraction.metadata import (
    drop_site_tail,
    find_dates,
    page_markup,
    read_metadata,
    split_authors,
)

BODY = "".join(
    f"<p>Paragraph {i}: the council met on Tuesday to weigh the harbour plan, and "
    f"the vote was put off until the engineers report in the spring.</p>"
    for i in range(6)
)


def page(
    head: str = "", body_top: str = "", title: str = "Harbour plan vote delayed"
) -> str:
    return (
        f'<html lang="en"><head><title>{title}</title>{head}</head><body>'
        f"<article>{body_top}{BODY}</article></body></html>"
    )


def ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


# --- class 7: dates ---------------------------------------------------------------


def test_epoch_milliseconds_in_the_published_time_meta_give_the_date() -> None:
    head = '<meta property="article:published_time" content="1714638600000">'
    record = extract_page(page(head), url="https://news.example/harbour")
    assert record.date == "2024-05-02T08:30:00+00:00", record.date


def test_an_unparseable_first_candidate_does_not_end_the_search() -> None:
    head = '<meta property="article:published_time" content="just now">' + ld(
        {"@type": "NewsArticle", "datePublished": "2024-05-02T08:30:00Z"}
    )
    record = extract_page(page(head), url="https://news.example/harbour")
    assert record.date is not None and record.date.startswith("2024-05-02T08:30")


def test_a_date_with_an_offset_wins_over_a_local_time_hours_apart() -> None:
    """The meta tag's local wall clock and JSON-LD's instant are the same time in
    two zones: the one that says its zone is the one that can be trusted."""
    head = (
        '<meta property="article:published_time" content="2024-05-02T10:30:00">'
        + ld({"@type": "NewsArticle", "datePublished": "2024-05-02T08:30:00+00:00"})
    )
    record = extract_page(page(head), url="https://news.example/harbour")
    assert record.date == "2024-05-02T08:30:00+00:00", record.date


# --- class 8: authors -------------------------------------------------------------


def authors_of(head: str) -> list[str]:
    tree = html.fromstring(page(head))
    return split_authors(read_metadata(tree, "https://news.example/harbour").authors)


def test_an_article_nested_in_a_web_pages_main_entity_gives_its_authors() -> None:
    head = ld(
        {
            "@context": "https://schema.org",
            "@type": "WebPage",
            "mainEntity": {
                "@type": "NewsArticle",
                "headline": "Harbour plan vote delayed",
                "author": [{"@type": "Person", "name": "Ada Lovelace"}],
            },
        }
    )
    assert authors_of(head) == ["Ada Lovelace"]


def test_an_article_in_a_graph_gives_its_authors() -> None:
    head = ld(
        {
            "@graph": [
                {"@type": "WebSite", "name": "Harbour News"},
                {"@type": "NewsArticle", "author": {"name": "Grace Hopper"}},
            ]
        }
    )
    assert authors_of(head) == ["Grace Hopper"]


def test_a_person_with_only_given_and_family_name() -> None:
    head = ld(
        {
            "@type": "NewsArticle",
            "author": {"@type": "Person", "givenName": "Ada", "familyName": "Lovelace"},
        }
    )
    assert authors_of(head) == ["Ada Lovelace"]


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("ada.lovelace@news.example (Ada Lovelace)", ["Ada Lovelace"]),
        ("Ada Lovelace <ada@news.example>", ["Ada Lovelace"]),
        ("mailto:desk@y.example", []),
        ("Ana y Luis", ["Ana", "Luis"]),
    ],
)
def test_an_e_mail_address_in_an_author_tag_leaves_the_name(
    raw: str, names: list[str]
) -> None:
    assert split_authors(raw) == names


def test_author_names_are_normalized_before_duplicates_are_dropped() -> None:
    # a zero-width space or a decomposed accent does not make a second author
    raw = ["Jane\u200b Doe", "Jane Doe", "Rene\u0301 Roy", "Ren\u00e9 Roy", "\u200b"]
    assert split_authors(raw) == ["Jane Doe", "Ren\u00e9 Roy"]


def test_the_site_credited_alone_is_the_author() -> None:
    # a newsroom that signs with its own name: the only byline there is
    newsroom = {"@type": "Organization", "name": "Harbour News"}
    head = '<meta property="og:site_name" content="Harbour News">' + ld(
        {"@type": "NewsArticle", "author": newsroom}
    )
    record = extract_page(page(head), url="https://news.example/harbour")
    assert record.authors == ["Harbour News"]


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Ada Lovelace, Harbour News", ["Ada Lovelace"]),
        ("Ada Lovelace, HARBOUR NEWS NORTH", ["Ada Lovelace"]),
        (["Harbour News", "Ada Lovelace"], ["Ada Lovelace"]),
        ("harbournews.example", ["harbournews.example"]),
    ],
)
def test_the_sites_name_beside_a_person_is_not_an_author(
    raw: str | list[str], names: list[str]
) -> None:
    assert split_authors(raw, "Harbour News") == names


def test_a_meta_author_naming_the_site_gives_way_to_the_byline() -> None:
    # CMSs fill <meta name="author"> with the site's host; the page signs a person
    head = '<meta name="author" content="harbournews.example">'
    byline = '<p class="author">By Ada Lovelace, Harbour News North</p>'
    tree = html.fromstring(page(head, body_top=byline))
    meta = read_metadata(tree, "https://harbournews.example/harbour")
    assert meta.authors == "Ada Lovelace, Harbour News North"
    assert split_authors(meta.authors, "Harbour News") == ["Ada Lovelace"]


def test_a_second_author_meta_names_the_writer_when_the_first_names_the_site() -> None:
    # a CMS writes <meta name="author"> twice: the newsroom first, then the writer
    head = (
        '<meta property="og:site_name" content="Harbour News">'
        '<meta name="author" content="Harbour News">'
        '<meta name="author" content="Ada Lovelace">'
    )
    record = extract_page(page(head), url="https://news.example/harbour")
    assert record.authors == ["Ada Lovelace"], record.authors


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("김하늘 기자", ["김하늘"]),
        ("김하늘기자, 이바다 특파원", ["김하늘", "이바다"]),
        ("山田花子記者", ["山田花子"]),
        ("기자", []),
    ],
)
def test_a_job_title_after_a_cjk_name_is_dropped(raw: str, names: list[str]) -> None:
    assert split_authors(raw) == names


# --- class 10: titles -------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Harbour plan vote delayed again - Coastal Daily News",
        "Harbour plan vote delayed again | Coastal Daily | by Ada Lovelace",
        "Harbour plan vote delayed again * Coastal Daily * by Ada Lovelace",
        "Harbour plan vote delayed again-Politicsㅣ Coastal Daily",
        "Harbour plan vote delayed again – Coastal – 02.05.2024",
    ],
)
def test_a_site_tail_after_the_pages_own_headline_is_dropped(title: str) -> None:
    head = f'<meta property="og:title" content="{title}">'
    record = extract_page(
        page(head, body_top="<h1>Harbour plan vote delayed again</h1>", title=title),
        url="https://news.example/harbour",
    )
    assert record.title == "Harbour plan vote delayed again", record.title


def test_a_title_longer_than_the_headline_without_a_separator_is_kept() -> None:
    assert (
        drop_site_tail("Harbour plan vote delayed again today", ["Harbour plan vote"])
        == "Harbour plan vote delayed again today"
    )


# --- what the page declares about itself -------------------------------------------


@pytest.mark.parametrize(
    ("head", "description"),
    [
        # og:description first, whichever attribute names it (many CMSs write name=)
        (
            '<meta name="description" content="Short summary.">'
            '<meta name="og:description" content="The social summary.">',
            "The social summary.",
        ),
        ('<meta name="description" content="Short summary.">', "Short summary."),
        ('<meta name="twitter:description" content="Card text.">', "Card text."),
        ('<meta name="description" content="  ">', None),
    ],
)
def test_the_description_is_the_first_summary_meta_tag(
    head: str, description: str | None
) -> None:
    record = extract_page(page(head), url="https://news.example/harbour")
    assert record.description == description


def test_canonical_headlines_and_json_ld_are_read_wherever_they_are() -> None:
    """The page's declarations are gathered in one walk: a canonical link, an <h1>
    and a JSON-LD block in the body count as they do in the head."""
    body_top = (
        '<link rel="Canonical canonical" href="https://news.example/harbour-plan">'
        "<h1>Harbour plan vote delayed again</h1>"
        + ld({"@type": "NewsArticle", "author": {"name": "Ada Lovelace"}})
    )
    meta = read_metadata(
        html.fromstring(page(body_top=body_top, title="Harbour plan | Daily")),
        "https://news.example/harbour",
    )
    assert meta.canonical_url == "https://news.example/harbour-plan"
    assert meta.headlines[0] == "Harbour plan vote delayed again"
    assert meta.authors == ["Ada Lovelace"]
    assert "Harbour plan | Daily" in meta.titles and "Harbour plan" in meta.titles


TIMES_PAGE = """<html><body>
<header><time datetime="2020-01-01">Today</time></header>
<main><time itemprop="dateCreated" datetime="2024-11-28T09:00:00+01:00">28 Nov</time>
<article><p>Posted <time datetime="2024-11-29T10:00:00+01:00">29 Nov</time></p>
</article></main></body></html>"""


def test_time_elements_give_the_date_in_an_article_or_marked_in_page_order() -> None:
    """Without a date in the meta tags or JSON-LD, a <time> inside an <article> or
    with an itemprop gives it, the first in page order; a <time> elsewhere (the
    header's clock) does not."""
    markup = page_markup(html.fromstring(TIMES_PAGE))
    published, _ = find_dates(markup.times, {}, [])
    assert published == "2024-11-28T09:00:00+01:00"
    unmarked = TIMES_PAGE.replace(' itemprop="dateCreated"', "")
    markup = page_markup(html.fromstring(unmarked))
    published, _ = find_dates(markup.times, {}, [])
    assert published == "2024-11-29T10:00:00+01:00"
