"""Hostile page content: lying charsets, absurd nesting, pages that are not articles.

Cases 10, 11 and 15 of issue 7. Every HTML body reaches the extractor as UTF-8
bytes (crawler/safety/charset.py), so the known sentence of each page must come out
exactly, whatever the page says about itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile import (
    HostileCrawl,
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    sitemap_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")


LATIN = "Le café de la façade coûte 5 € « déjà » — naïve œuvre à Zürich."
JAPANESE = "東京の天気は晴れで、気温は二十度です。"


def page(title: str, sentence: str, charset_meta: str = "") -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    html = article_html(title, 4, extra=f"<p>{sentence}</p>")
    return html.replace('<meta charset="utf-8">', meta)


def variant(
    title: str, sentence: str, codec: str, header: str = "", meta: str = ""
) -> tuple[bytes, str, str]:
    """A page encoded with ``codec``, its header and ``<meta>`` charsets (if any)."""
    content_type = f"text/html; charset={header}" if header else "text/html"
    return page(title, sentence, meta).encode(codec), content_type, sentence


# path -> (body bytes, Content-Type header, the sentence that must come out)
ENCODINGS: dict[str, tuple[bytes, str, str]] = {
    "/news/cp1252-header": variant(
        "Cp1252 header", LATIN, "cp1252", header="windows-1252"
    ),
    "/news/cp1252-meta-only": variant(
        "Cp1252 meta", LATIN, "cp1252", meta="windows-1252"
    ),
    "/news/cp1252-nothing": variant("Cp1252 unlabelled", LATIN, "cp1252"),
    "/news/sjis-header": variant(
        "Shift JIS header", JAPANESE, "shift_jis", header="shift_jis"
    ),
    "/news/sjis-meta-only": variant(
        "Shift JIS meta", JAPANESE, "shift_jis", meta="shift_jis"
    ),
    "/news/lying-header": variant(
        "Lying header", LATIN, "utf-8", header="iso-8859-1", meta="utf-8"
    ),
    "/news/lying-meta": variant("Lying meta", LATIN, "cp1252", meta="utf-8"),
    "/news/invalid-utf8": (
        page("Invalid UTF-8", LATIN, "utf-8")
        .encode("utf-8")
        .replace(b"<h1>", b"<h1>\xff\xfe\xc3", 1),
        "text/html; charset=utf-8",
        LATIN,
    ),
    "/news/utf16-bom": (
        b"\xff\xfe" + page("UTF-16 with BOM", LATIN).encode("utf-16-le"),
        "text/html",
        LATIN,
    ),
}


def test_every_encoding_variant_gives_the_known_sentence(tmp_path: Path) -> None:
    """Case 10: cp1252 and Shift_JIS with and without charset header, meta only,
    a lying header, a lying meta, invalid UTF-8 and UTF-16 with BOM."""
    with SiteServer() as server:
        for path, (body, content_type, _) in ENCODINGS.items():
            server.add(path, body, content_type=content_type)
        sites = sitemap_site(tmp_path, server, list(ENCODINGS))
        run = crawl(tmp_path, sites)
        port = str(server.port)
    by_path = {item["source_url"].split(port, 1)[1]: item for item in run.items}
    problems = []
    for path, (_, _, sentence) in ENCODINGS.items():
        item = by_path.get(path)
        if item is None:
            problems.append(f"{path}: no item")
        elif sentence not in item["text"]:
            last = item["text"].split("\n\n")[-1]
            problems.append(f"{path}: {last!r}")
    assert not problems, "\n".join(problems)
    recoded = sum(v for k, v in run.stats.items() if k.startswith("safety/charset/"))
    assert recoded == 8, run.stats  # all but the UTF-8 page under a lying header
    assert run.stat("safety/charset_mismatch") == 1, run.stats  # that header


def refused(run: HostileCrawl) -> int:
    """Pages refused with a reason: by the extractor (``extract/<reason>``) or as
    not prose (``safety/junk_text``)."""
    by_extractor = sum(
        v
        for k, v in run.stats.items()
        if k.startswith("extract/") and k.count("/") == 1 and k != "extract/ok"
    )
    return by_extractor + run.stat("safety/junk_text")


def nested(depth: int, inner: str) -> str:
    return "<div>" * depth + inner + "</div>" * depth


def test_deep_nesting_malformed_html_and_entity_floods_stay_bounded(
    tmp_path: Path,
) -> None:
    """Case 11: 5,000-deep nesting (lxml drops text below ~255 levels: counted, not
    emitted), malformed HTML (still the article), a DOCTYPE entity bomb (never
    expanded) and a 1 MB flood of character references (not prose: dropped): no
    crash, no junk item, each page the article or a counted reason."""
    good = article_html("Good story", 1)
    deep_body = "".join(f"<p>{s}</p>" for s in ("Deep text " * 30,) * 4)
    pages = {
        "/news/good": good,
        "/news/deep": (
            "<html><head><title>Deep story</title></head><body><article><h1>Deep "
            f"story</h1>{nested(5000, deep_body)}</article></body></html>"
        ),
        "/news/malformed": (
            article_html("Malformed story", 2)
            .replace("</p>", "", 3)
            .replace("<article>", "<article><div><span>")
            .replace("</body>", "</div></div></div></span><p <p>>< / ><b><i></body>")
            + "</html></html><<<>>>"
        ),
        "/news/entities": (
            "<html><head><title>Entity flood</title></head><body><article><h1>Entity"
            " flood</h1><p>"
            + "&amp;&#x41;&#65;&lt;&nbsp;" * 200_000
            + "</p></article></body></html>"
        ),
        "/news/doctype-laughs": (
            '<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
            '&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
            '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
            + article_html("Laughing story", 3, extra="<p>&d;&d;&d;&d;</p>").replace(
                "<!DOCTYPE html>", ""
            )
        ),
    }
    with SiteServer() as server:
        for path, html in pages.items():
            server.add(path, html)
        sites = sitemap_site(tmp_path, server, list(pages))
        run = crawl(tmp_path, sites, timeout=120)
    titles = run.titles()
    assert "Good story" in titles and "Malformed story" in titles, titles
    assert run.result.returncode == 0 and "Traceback" not in run.log, run.log[-4000:]
    for item in run.items:
        assert "aaaaaaaaaaaaaaaaaaaa" not in item["text"], "an entity was expanded"
        assert len(item["text"]) < 100_000, f"{item['title']}: junk text"
    assert "Entity flood" not in titles, titles
    assert "Deep story" not in titles and run.stat("safety/deep_nesting") == 1, (
        run.stats
    )
    assert run.stat("safety/junk_text") == 1, run.stats
    assert len(run.items) + refused(run) == len(pages), (titles, run.stats)


def test_pages_that_are_not_articles_are_never_emitted(tmp_path: Path) -> None:
    """Case 15: an index page, a link farm and a sitemap rendered as HTML, at
    article-like URLs, are refused with a counted reason."""
    teasers = "".join(
        f'<li><a href="/news/{i}">Headline number {i}</a> <span>Short teaser {i}.'
        "</span></li>"
        for i in range(60)
    )
    farm = " ".join(
        f'<a href="/x/{i}">cheap pills best price {i}</a>' for i in range(400)
    )
    rows = "".join(
        f"<tr><td><a href='http://127.0.0.1/news/{i}'>http://127.0.0.1/news/{i}</a>"
        f"</td><td>2024-05-{i % 28 + 1:02d}</td></tr>"
        for i in range(300)
    )
    pages = {
        "/news/good": article_html("Good story", 1),
        "/news/index": (
            "<html><head><title>Latest news</title></head><body><h1>"
            f"Latest news</h1><ul>{teasers}</ul></body></html>"
        ),
        "/news/farm": (
            "<html><head><title>Best deals</title></head><body>"
            f"<div>{farm}</div></body></html>"
        ),
        "/news/sitemap": (
            "<html><head><title>XML Sitemap</title></head><body><h1>XML Sitemap</h1>"
            f"<table>{rows}</table></body></html>"
        ),
    }
    with SiteServer() as server:
        for path, html in pages.items():
            server.add(path, html)
        sites = sitemap_site(tmp_path, server, list(pages))
        run = crawl(tmp_path, sites)
    assert run.titles() == ["Good story"], [
        (i["title"], i["text"][:200]) for i in run.items
    ]
    assert refused(run) == 3, run.stats


def test_malformed_urls_in_a_page_cost_neither_the_page_nor_the_crawl(
    tmp_path: Path,
) -> None:
    """``http://host:abc/`` is not a URL urllib can parse (ValueError): as a
    canonical link and as links in the body it is skipped and counted."""
    extra = (
        '<link rel="canonical" href="http://example.com:abc/story">'
        '<p><a href="http://example.com:abc/x">A story elsewhere</a> and '
        '<a href="http://[::1/y">another</a>.</p>'
    )
    with SiteServer() as server:
        server.add("/news/odd-links", article_html("Odd links story", 4, extra=extra))
        sites = sitemap_site(tmp_path, server, ["/news/odd-links"])
        run = crawl(tmp_path, sites)
    assert run.titles() == ["Odd links story"], run.stats
    assert run.stat("extract/canonical_malformed") == 1, run.stats
    assert run.stat("extract/malformed_links") == 3, run.stats
