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
        run = crawl(
            tmp_path,
            sites,
            settings={"SEEN_ENABLED": True, "SEEN_DB": str(tmp_path / "seen.sqlite3")},
        )
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
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><article><h1>{title}</h1>"
        f'<time datetime="2024-05-02">2 May 2024</time><p>Stub {words}.</p>'
        f"{boilerplate()}</article></body></html>"
    )


def test_the_length_floor_applies_to_the_text_left_after_template_stripping(
    tmp_path: Path,
) -> None:
    """A page that passes the floor only thanks to the site's template paragraphs is
    not an article once they are stripped (``pipeline/dropped/too_short``)."""
    settings = {
        "TEMPLATE_DB": str(tmp_path / "templates.sqlite3"),
        "TEMPLATE_MIN_ARTICLES": 2,
    }
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
        item["text"] for item in run.items if item["title"] == "Stub story"
    ]
    assert run.stat("pipeline/dropped/too_short") == 1, run.stats
    assert run.titles() == ["Story 0", "Story 1", "Story 2"], run.stats


JAPANESE_PARAGRAPHS = [
    "市の図書館は来月から開館時間を夜九時まで延長すると発表した。"
    "仕事帰りの利用者が増えていることを受けた措置で、土曜日も同じ時間まで開く。",
    "図書館によると、昨年度の夜間の貸し出しは前の年より二割ほど多かった。"
    "職員の配置を見直し、追加の費用はかからないという。",
    "館長は記者会見で「学生や働く人がもっと気軽に来られる場所にしたい」と話した。"
    "新しい時間は試験的に半年続け、利用状況を見て続けるかどうか決める。",
]


def test_an_article_in_a_script_without_spaces_passes_the_floor(
    tmp_path: Path,
) -> None:
    """Japanese has no spaces between words: the length floor and word_count count
    its characters (crawler/extraction/cleanup.py count_words), in the pipelines as
    in the extractor. Split on spaces, this article had 3 "words" and was dropped
    as too_short."""
    body = "".join(f"<p>{p}</p>" for p in JAPANESE_PARAGRAPHS)
    page = (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        "<title>図書館、夜九時まで開館へ</title></head><body><article>"
        "<h1>図書館、夜九時まで開館へ</h1>"
        f'<time datetime="2024-05-02">2024年5月2日</time>{body}</article>'
        "</body></html>"
    )
    with SiteServer() as server:
        server.add("/news/library", page)
        sites = sitemap_site(tmp_path, server, ["/news/library"])
        run = crawl(tmp_path, sites)
    assert run.titles() == ["図書館、夜九時まで開館へ"], run.stats
    [item] = run.items
    assert item["word_count"] > 40, item["word_count"]
    assert run.stat("pipeline/dropped/too_short") == 0, run.stats
