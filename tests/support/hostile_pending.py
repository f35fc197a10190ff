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
