"""End to end: real crawls of the generated news site (tests/support/newssite.py).

The site has every entry point (autodiscovered RSS and Atom feeds, robots.txt with a
sitemap index of a news sitemap and a gzipped sitemap, paginated sections), a
robots-disallowed section, three URLs for some articles (tracking parameters, a
``#comments`` fragment, an AMP copy with ``rel=canonical``), articles of different
ages, some dated by no entry point, and two non-articles matching the article URL
pattern. Assertions are on the JSONL items, the stats and the server's request log.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawl import CrawlResult, run_crawl
from tests.support.newssite import (
    DISALLOWED_PREFIX,
    LISTING_PATH,
    NON_ARTICLE_PATHS,
    NewsSite,
)
from tests.support.server import Page, SiteServer

# No politeness delays against our own loopback server (AutoThrottle stays on).
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0}
NOT_ARTICLE_REASONS = {
    "too_short",
    "no_body",
    "no_title",
    "listing_like",
    "not_article",
}


@dataclass
class Crawled:
    site: NewsSite
    base: str
    result: CrawlResult
    paths: list[str]  # every request the server saw, in order
    agents: set[str] = field(default_factory=set)  # User-Agent headers seen

    def stat(self, key: str) -> Any:
        return self.result.stat(key)

    def urls(self) -> list[str]:
        return sorted(item["url"] for item in self.result.items)

    def requested(self, path: str) -> int:
        return self.paths.count(path)


def crawl_site(
    tmp: Path,
    site: NewsSite,
    *,
    args: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    expect_ok: bool = True,
    **tables: Any,
) -> Crawled:
    with SiteServer() as server:
        base = server.url
        site.install(server)
        sites_dir = site.write_site_file(tmp / "sites", base, **tables)
        result = run_crawl(
            tmp,
            settings={"SITES_DIR": sites_dir, **FAST, **(settings or {})},
            args=args,
        )
        paths = server.paths()
        agents = {entry.headers.get("User-Agent", "") for entry in server.log}
    if expect_ok:
        assert result.returncode == 0, result.log[-4000:]
    return Crawled(site, base, result, paths, agents)


def shared_crawl(
    factory: pytest.TempPathFactory,
    name: str,
    site: NewsSite,
    run: Callable[[Path, NewsSite], Crawled],
) -> Crawled:
    """``run`` once per test session, even with several xdist workers: the first
    worker crawls, the others read its result (JSON beside the workers' temp dirs).
    ``site`` must be built the same way by every worker (it is deterministic)."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    cache = root / f"discovery-crawl-{name}.json"
    with open(root / f"discovery-crawl-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists():
            saved = json.loads(cache.read_text(encoding="utf-8"))
            return Crawled(
                site, saved["base"], CrawlResult(**saved["result"]), saved["paths"]
            )
        crawled = run(root / f"discovery-crawl-{name}", site)
        cache.write_text(
            json.dumps(
                {
                    "base": crawled.base,
                    "paths": crawled.paths,
                    "result": asdict(crawled.result),
                }
            ),
            encoding="utf-8",
        )
        return crawled


def missing_and_extra(crawled: Crawled, expected: set[str]) -> str:
    got = set(crawled.urls())
    return (
        f"missing: {sorted(expected - got)}\nextra: {sorted(got - expected)}\n"
        f"requests: {crawled.paths}"
    )


# --- a full crawl ---------------------------------------------------------------


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    return shared_crawl(tmp_path_factory, "full", NewsSite(n_articles=24), crawl_site)


def test_every_allowed_article_once_and_nothing_else(full: Crawled) -> None:
    expected = full.site.canonical_urls(full.base)
    assert set(full.urls()) == expected, missing_and_extra(full, expected)
    assert len(full.result.items) == len(expected), "an article was written twice"
    ids = [item["id"] for item in full.result.items]
    assert len(set(ids)) == len(ids)


def test_article_pages_are_fetched_once_and_never_with_tracking(full: Crawled) -> None:
    for story in full.site.allowed_stories():
        assert full.requested(story.path) == 1, (story.path, full.paths)
    assert not [p for p in full.paths if "utm_" in p or "#" in p], full.paths


def test_the_disallowed_section_is_never_requested(full: Crawled) -> None:
    assert not [p for p in full.paths if p.startswith(DISALLOWED_PREFIX)], full.paths
    # ...though the home page, the RSS feed, the archive sitemap and the site file's
    # sections all point there: robots.txt refused each of them.
    assert full.stat("robotstxt/forbidden") >= 2, full.result.stats
    assert full.stat("discovery/refused/article") >= 1
    assert full.stat("discovery/refused/entry") == 1  # the members section


def test_every_kind_of_entry_point_is_read(full: Crawled) -> None:
    stats = full.result.stats
    assert full.stat("discovery/feeds_autodiscovered") == 2, stats  # RSS and Atom
    assert full.stat("discovery/feeds_parsed") == 2, stats
    assert full.stat("discovery/robots_sitemaps") == 1, stats
    # The spider's robots.txt (for its Sitemap: lines) is the one the robots
    # middleware fetched: downloaded once.
    assert full.requested("/robots.txt") == 1, full.paths
    assert full.stat("robotstxt/reused") == 1, stats
    assert full.stat("discovery/sitemap_indexes_parsed") == 1, stats
    assert full.stat("discovery/sitemaps_parsed") == 2, stats  # news + gzipped
    assert full.stat("discovery/section_pages") >= 6, stats  # 3 sections x 2 pages
    for path in (
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/sitemaps/news.xml",
        "/sitemaps/archive.xml.gz",
        "/world/?page=2",
    ):
        assert full.requested(path) == 1, (path, full.paths)


def test_pages_that_are_not_articles_are_counted_and_skipped(full: Crawled) -> None:
    for path in NON_ARTICLE_PATHS:
        assert full.requested(path) == 1, (path, full.paths)
        assert not [i for i in full.result.items if i["source_url"].endswith(path)]
    skipped = {
        key.split("/", 1)[1]: value
        for key, value in full.result.stats.items()
        if key.startswith("extract/") and key.split("/", 1)[1] in NOT_ARTICLE_REASONS
    }
    assert sum(skipped.values()) == len(NON_ARTICLE_PATHS), skipped
    assert full.stat("extract/listing_like") == 1, (LISTING_PATH, skipped)


def test_an_article_under_three_urls_is_one_record(full: Crawled) -> None:
    story = full.site.newest_first("business")[0]
    records = [i for i in full.result.items if i["url"] == full.base + story.path]
    assert len(records) == 1, records
    assert records[0]["source_url"] in (
        full.base + story.path,
        full.base + str(story.amp_path),
    )
    # the AMP copy is a second page: fetched at most once, never a second record
    assert full.requested(str(story.amp_path)) <= 1
    assert full.stat("discovery/duplicate_url") > 0  # tracking/fragment variants


def test_records_carry_canonical_url_and_page_fields(full: Crawled) -> None:
    by_url = {i["url"]: i for i in full.result.items}
    story = full.site.allowed_stories()[0]
    record = by_url[full.base + story.path]
    assert record["title"] == story.title
    assert record["date"] and record["date"].startswith(f"{story.published:%Y-%m-%d}")
    assert record["site"] == "herald"


# --- skipping old articles before download --------------------------------------


@pytest.fixture(scope="module")
def since_crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Crawled, datetime]:
    site = NewsSite(n_articles=40)
    since = site.stories[24].published

    def run(tmp: Path, site: NewsSite) -> Crawled:
        return crawl_site(tmp, site, args={"since": since.isoformat()})

    return shared_crawl(tmp_path_factory, "since", site, run), since


def test_since_keeps_only_articles_published_since(
    since_crawl: tuple[Crawled, datetime],
) -> None:
    crawled, since = since_crawl
    expected = crawled.site.canonical_urls(crawled.base, since)
    assert set(crawled.urls()) == expected, missing_and_extra(crawled, expected)


def test_since_never_requests_an_article_an_entry_point_dated_earlier(
    since_crawl: tuple[Crawled, datetime],
) -> None:
    crawled, since = since_crawl
    old = [
        s
        for s in crawled.site.stories
        if s.dated_by_entry_points and s.published < since
    ]
    assert old
    requested = [s.path for s in old if s.path in crawled.paths]
    requested += [str(s.amp_path) for s in old if s.amp_path in crawled.paths]
    assert not requested, f"old articles requested: {requested}"
    assert crawled.stat("discovery/skipped_old") > 0


def test_since_fetches_undated_articles_and_filters_them_after_extraction(
    since_crawl: tuple[Crawled, datetime],
) -> None:
    crawled, since = since_crawl
    undated_old = [
        s
        for s in crawled.site.stories
        if not s.dated_by_entry_points and s.published < since
    ]
    assert undated_old
    for story in undated_old:
        assert crawled.requested(story.path) == 1, story.path
    assert crawled.stat("extract/skipped_old") == len(undated_old), crawled.result.stats


def test_since_stops_a_section_at_its_first_all_old_page(
    since_crawl: tuple[Crawled, datetime],
) -> None:
    crawled, _ = since_crawl
    # world, 10 stories newest first, 4 a page: page 2 is all older than `since`
    assert "/world/?page=2" in crawled.paths
    assert "/world/?page=3" not in crawled.paths, crawled.paths
    assert crawled.stat("discovery/section_stopped_old") >= 1


def test_a_since_that_is_not_a_date_fails_before_any_request(tmp_path: Path) -> None:
    crawled = crawl_site(
        tmp_path, NewsSite(n_articles=4), args={"since": "yesterday"}, expect_ok=False
    )
    assert crawled.result.returncode != 0
    assert "since='yesterday' is not an ISO date" in crawled.result.log
    assert crawled.paths == []


# --- other discovery modes and caps ---------------------------------------------


def test_section_pages_by_url_pattern(tmp_path: Path) -> None:
    site = NewsSite(n_articles=24, next_links=False)
    crawled = crawl_site(
        tmp_path,
        site,
        discovery={
            "feed_autodiscovery": False,
            "robots_sitemaps": False,
            "page_url": "?page={page}",
        },
    )
    expected = site.canonical_urls(crawled.base)
    assert set(crawled.urls()) == expected, missing_and_extra(crawled, expected)
    assert "/world/?page=2" in crawled.paths
    # page 3 does not exist: its 404 ends the section, it is not an error
    assert crawled.stat("discovery/section_end") >= 1, crawled.result.stats
    assert crawled.stat("errors/entry") == 0, crawled.result.stats


def test_link_following_fallback_is_bounded_by_depth(tmp_path: Path) -> None:
    site = NewsSite(n_articles=24)
    crawled = crawl_site(
        tmp_path,
        site,
        discovery={
            "feed_autodiscovery": None,
            "robots_sitemaps": None,
            "sections": None,
            "max_section_pages": None,
            "follow_links": True,
            "max_depth": 1,
        },
    )
    # depth 0: the home page; depth 1: what it links to (first section pages)
    reachable = set(site.newest_first()[: site.home_size])
    for section in site.sections:
        reachable |= set(site.newest_first(section)[: site.per_page])
    expected = {crawled.base + s.path for s in reachable if s.allowed}
    assert set(crawled.urls()) == expected, missing_and_extra(crawled, expected)
    assert not [p for p in crawled.paths if "?page=" in p], "depth 2 was followed"
    assert not [p for p in crawled.paths if "feeds" in p or "sitemap" in p]


def test_max_articles_caps_records_and_article_requests(tmp_path: Path) -> None:
    site = NewsSite(n_articles=24)
    crawled = crawl_site(tmp_path, site, crawl={"max_articles": 5})
    assert len(crawled.result.items) == 5, crawled.urls()
    article_requests = [p for p in crawled.paths if p.endswith(".html")]
    # 5 articles, plus at most the two non-articles and the AMP copy
    assert len(article_requests) <= 5 + len(NON_ARTICLE_PATHS) + 1, article_requests
    assert crawled.stat("discovery/over_max_articles/herald") > 0


def test_max_requests_caps_requests(tmp_path: Path) -> None:
    crawled = crawl_site(tmp_path, NewsSite(n_articles=24), crawl={"max_requests": 8})
    # the robots.txt middleware's own request is not the spider's
    assert len(crawled.paths) <= 8 + 1, crawled.paths
    assert crawled.stat("discovery/over_max_requests/herald") > 0


FEED_ONLY = {
    "feed_autodiscovery": None,
    "robots_sitemaps": None,
    "sections": None,
    "max_section_pages": None,
}


def test_per_site_max_age_days_skips_old_articles(tmp_path: Path) -> None:
    # stories every 12 h up to now, 6 h away from the 5-day boundary
    now = datetime.now(UTC).replace(microsecond=0)
    site = NewsSite(
        n_articles=20,
        start=now - timedelta(days=10, hours=-6),
        interval=timedelta(hours=12),
    )
    crawled = crawl_site(tmp_path, site, crawl={"max_age_days": 5})
    expected = site.canonical_urls(crawled.base, since=now - timedelta(days=5))
    assert set(crawled.urls()) == expected, missing_and_extra(crawled, expected)
    assert crawled.stat("discovery/skipped_old") > 0


def test_the_user_agent_names_the_project_and_the_contact(tmp_path: Path) -> None:
    site = NewsSite(n_articles=4)
    crawled = crawl_site(
        tmp_path,
        site,
        discovery={"feeds": [], **FEED_ONLY},
        settings={"NEWSITES_CONTACT_URL": "https://ops.example/crawler"},
    )
    assert crawled.paths, "nothing was requested"
    assert crawled.agents == {
        "newsites/0.1 (+https://github.com/newsites/newsites)"
        " (contact: https://ops.example/crawler)"
    }, crawled.agents


# --- a site file without [articles] allow ---------------------------------------

_TOPICS = ("harbour council", "ferry timetable", "winter budget", "river bridge")


def _linked_article(n: int) -> str:
    """An article whose every paragraph links a topic page inside a sentence, as
    news sites link tags, people and earlier stories in their own text."""
    paragraphs = "".join(
        f"<p>Story {n}, part {i}: residents met on Tuesday to discuss the "
        f'<a href="/topics/{i % 4}/">{_TOPICS[i % 4]}</a> with officials, who '
        "promised a written answer before the end of the month and a second "
        "meeting in the spring if the first proposals are not accepted.</p>"
        for i in range(8)
    )
    return (
        f"<html lang='en'><head><title>Story {n} of the town</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/archive/'>Town archive</a></nav>"
        f"<article><h1>Story {n} of the town</h1>{paragraphs}</article></body></html>"
    )


def _archive_page() -> str:
    teasers = "".join(
        f"<li><h3><a href='/story-{n}/'>Story {n} of the town</a></h3>"
        f"<p>Story {n} of the town: what residents were told this week.</p></li>"
        for n in range(6)
    )
    return (
        "<html lang='en'><head><title>Town archive</title></head><body>"
        f"<main><h1>Town archive</h1><ul>{teasers}</ul></main></body></html>"
    )


def test_without_allow_in_text_links_do_not_make_an_article_listing_like(
    tmp_path: Path,
) -> None:
    """`[articles] allow` left out means every same-site URL may be an article: the
    links inside an article's sentences (to topic pages) then count as article
    links, and made whole articles `listing_like`."""
    pages = {f"/story-{n}/": Page(_linked_article(n)) for n in range(6)}
    pages["/archive/"] = Page(_archive_page())
    home_links = "".join(f"<a href='/story-{n}/'>Story {n}</a> " for n in range(6))
    pages["/"] = Page(f"<html><body><a href='/archive/'>Archive</a> {home_links}")
    with SiteServer(pages) as server:
        base = server.url
        sites = tmp_path / "sites"
        sites.mkdir()
        (sites / "town.toml").write_text(f'home = "{base}/"\n')
        result = run_crawl(tmp_path, settings={"SITES_DIR": sites, **FAST})
    assert result.returncode == 0, result.log[-3000:]
    urls = {item["url"].removeprefix(base) for item in result.items}
    assert urls == {f"/story-{n}/" for n in range(6)}, result.log[-3000:]
    assert result.stat("extract/listing_like") == 1  # the archive, still refused


def test_a_site_selector_for_another_template_is_counted_and_the_page_kept(
    tmp_path: Path,
) -> None:
    """A site file written for another template: its body selector matches the byline
    of these pages and its date selector a line that is no date. Every article is
    still written with its whole body and its published date, and each distrusted
    selector is counted, so that a stale site file shows in the stats."""
    site = NewsSite(n_articles=6)
    crawled = crawl_site(
        tmp_path,
        site,
        extraction={"body": "p.byline", "date": "p.byline"},
        settings=FAST,
    )
    items = crawled.result.items
    assert len(items) == len(site.canonical_urls(crawled.base)), crawled.urls()
    stories = {crawled.base + s.path: s for s in site.stories}
    for item in items:
        story = stories[item["url"]]
        assert all(p in item["text"] for p in story.paragraphs), item["text"]
        assert item["date"], item
    for name in ("body", "date"):
        assert crawled.stat(f"extract/site_selector_rejected/{name}") == len(items), (
            name,
            crawled.result.stats,
        )
