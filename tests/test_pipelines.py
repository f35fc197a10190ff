"""Item pipelines, end to end: a real ``scrapy crawl`` over a local site."""

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

VARIANTS = ["/news/ferry?ref=home", "/news/ferry?section=local", "/news/ferry?page=1"]


def test_one_article_under_three_query_strings_is_written_once(
    tmp_path: Path,
) -> None:
    """Without the seen store: a page with no rel=canonical linked under three query
    strings is one article, written once; the others are counted drops."""
    with SiteServer() as server:
        for path in VARIANTS:
            server.add(path, article_html("Ferry story", 4))
        server.add("/news/other", article_html("Other story", 5))
        sites = sitemap_site(tmp_path, server, [*VARIANTS, "/news/other"])
        run = crawl(tmp_path, sites)
    assert run.titles() == ["Ferry story", "Other story"], run.stats
    assert run.stat("pipeline/dropped/duplicate_text") == 2, run.stats


def test_with_the_seen_store_its_pipeline_judges_the_texts(tmp_path: Path) -> None:
    """With SEEN_ENABLED the store compares texts (exact and near), as it always did:
    the same drops are counted as seen/duplicate_content."""
    with SiteServer() as server:
        for path in VARIANTS:
            server.add(path, article_html("Ferry story", 4))
        sites = sitemap_site(tmp_path, server, VARIANTS)
        run = crawl(tmp_path, sites, settings={
            "SEEN_ENABLED": True, "SEEN_DB": str(tmp_path / "seen.sqlite3")})
    assert run.titles() == ["Ferry story"], run.stats
    assert run.stat("seen/duplicate_content") == 2, run.stats
    assert run.stat("pipeline/dropped/duplicate_text") == 0, run.stats
