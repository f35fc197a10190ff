"""Hostile-input tests that fail today: issue 7 cases waiting for a change elsewhere.

This module is not collected (its name does not start with ``test_``); run it with
``.venv/bin/pytest tests/support/hostile_pending.py -q``. Each test states the change
it waits for (also listed in docs/safety.md, "Open cases"). When one passes, move it
into the matching ``tests/test_hostile_*.py`` module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile import (
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    sitemap_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")

# --- case 10: encodings ---------------------------------------------------------------
# Waits for: the spider passing the response's header charset to the extractor, and a
# decoder that follows the WHATWG order (BOM, then bytes that are valid UTF-8, then
# the header charset, then <meta charset>, then a guess), instead of trafilatura's
# decode_file guess alone (which reads cp1252 as cp1250/cp1257 here).

LATIN = "Le café de la façade coûte 5 € « déjà » — naïve œuvre à Zürich."
JAPANESE = "東京の天気は晴れで、気温は二十度です。"


def page(title: str, sentence: str, charset_meta: str = "") -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    html = article_html(title, 4, extra=f"<p>{sentence}</p>")
    return html.replace('<meta charset="utf-8">', meta)


# path -> (body bytes, Content-Type header, the sentence that must come out)
ENCODINGS: dict[str, tuple[bytes, str, str]] = {
    "/news/cp1252-header": (
        page("Cp1252 header", LATIN).encode("cp1252"),
        "text/html; charset=windows-1252",
        LATIN,
    ),
    "/news/cp1252-meta-only": (
        page("Cp1252 meta", LATIN, "windows-1252").encode("cp1252"),
        "text/html",
        LATIN,
    ),
    "/news/cp1252-nothing": (
        page("Cp1252 unlabelled", LATIN).encode("cp1252"),
        "text/html",
        LATIN,
    ),
    "/news/sjis-header": (
        page("Shift JIS header", JAPANESE).encode("shift_jis"),
        "text/html; charset=shift_jis",
        JAPANESE,
    ),
    "/news/sjis-meta-only": (
        page("Shift JIS meta", JAPANESE, "shift_jis").encode("shift_jis"),
        "text/html",
        JAPANESE,
    ),
    "/news/lying-header": (
        page("Lying header", LATIN, "utf-8").encode("utf-8"),
        "text/html; charset=iso-8859-1",
        LATIN,
    ),
    "/news/lying-meta": (
        page("Lying meta", LATIN, "utf-8").encode("cp1252"),
        "text/html",
        LATIN,
    ),
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


# --- case 11: an entity flood is junk, not an article --------------------------------
# Waits for: the extractor refusing text that is mostly not words (here 600 KB of
# "&AA< "), e.g. a share of alphabetic words below a floor -> extract/not_text.


def test_an_entity_flood_gives_no_item(tmp_path: Path) -> None:
    flood = (
        "<html><head><title>Entity flood</title></head><body><article><h1>Entity"
        " flood</h1><p>"
        + "&amp;&#x41;&#65;&lt;&nbsp;" * 200_000
        + "</p></article></body></html>"
    )
    with SiteServer() as server:
        server.add("/news/good", article_html("Good story", 1))
        server.add("/news/entities", flood)
        sites = sitemap_site(tmp_path, server, ["/news/good", "/news/entities"])
        run = crawl(tmp_path, sites)
    assert run.titles() == ["Good story"], [i["text"][:100] for i in run.items]


# --- case 15: a sitemap rendered as HTML is not an article ---------------------------
# Waits for: the extractor refusing a page whose text is mostly URLs and dates (or
# whose link density is high), e.g. -> extract/not_article.


def test_a_sitemap_rendered_as_html_is_not_emitted(tmp_path: Path) -> None:
    base = "http://127.0.0.1"
    rows = "".join(
        f"<tr><td><a href='{base}/news/{i}'>{base}/news/{i}</a></td>"
        f"<td>2024-05-{i % 28 + 1:02d}</td></tr>"
        for i in range(300)
    )
    page = (
        "<html><head><title>XML Sitemap</title></head><body><h1>XML Sitemap</h1>"
        f"<table>{rows}</table></body></html>"
    )
    with SiteServer() as server:
        server.add("/news/good", article_html("Good story", 1))
        server.add("/news/sitemap", page)
        sites = sitemap_site(tmp_path, server, ["/news/good", "/news/sitemap"])
        run = crawl(tmp_path, sites)
    assert run.titles() == ["Good story"], run.titles()
