"""Item pipelines, end to end: a real ``scrapy crawl`` over a local site."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile import (
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    sentence,
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


def boilerplate() -> str:
    """Three paragraphs every article of the site carries (its template)."""
    return "".join(
        f"<p>{sentence(900_000 + 2 * i)} {sentence(900_001 + 2 * i)}</p>"
        for i in range(3)
    )


def stub_html(title: str) -> str:
    """An 8-word story (under EXTRACT_MIN_WORDS, 15) padded to an article's length
    by the site's template."""
    words = " ".join(f"word{i}" for i in range(7))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body><article><h1>{title}</h1>"
            f'<time datetime="2024-05-02">2 May 2024</time><p>Stub {words}.</p>'
            f"{boilerplate()}</article></body></html>")


def test_the_length_floor_applies_to_the_text_left_after_template_stripping(
    tmp_path: Path,
) -> None:
    """A page that passes the floor only thanks to the site's template paragraphs is
    not an article once they are stripped (``pipeline/dropped/too_short``)."""
    settings = {"TEMPLATE_DB": str(tmp_path / "templates.sqlite3"),
                "TEMPLATE_MIN_ARTICLES": 2}
    stories = [f"/news/story-{i}" for i in range(3)]
    with SiteServer() as server:
        for i, path in enumerate(stories):
            server.add(path, article_html(f"Story {i}", 10 + i, extra=boilerplate()))
        sites = sitemap_site(tmp_path, server, stories)
        learn = crawl(tmp_path, sites, settings=settings)
        server.add("/news/stub", stub_html("Stub story"))
        sites = sitemap_site(tmp_path, server, [*stories, "/news/stub"])
        run = crawl(tmp_path, sites, settings=settings)
    assert learn.titles() == ["Story 0", "Story 1", "Story 2"], learn.stats
    assert run.stat("template/paragraphs_dropped") >= 3 * 4, run.stats
    assert "Stub story" not in run.titles(), [
        item["text"] for item in run.items if item["title"] == "Stub story"]
    assert run.stat("pipeline/dropped/too_short") == 1, run.stats
    assert run.titles() == ["Story 0", "Story 1", "Story 2"], run.stats


def test_normalize_pipeline_counts_words_and_leaves_the_rest_as_extracted() -> None:
    """Extraction writes every field in its final form (tests/test_extractor.py);
    the pipeline only sets ``word_count`` (white-space separated words)."""
    from scrapy.utils.test import get_crawler

    from crawler.pipelines import NormalizePipeline

    item = {"title": "Café", "text": "One two\n\n三四五 six", "authors": ["A"]}
    NormalizePipeline.from_crawler(get_crawler()).process_item(item)
    assert item == {
        "title": "Café",
        "text": "One two\n\n三四五 six",
        "authors": ["A"],
        "word_count": 4,
    }
