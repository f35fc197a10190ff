"""crawler/middlewares/crawl_delay.py and budget.py: per-host delay floors that
AutoThrottle cannot lower, and the hard per-site request cap."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Slot
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.frontier import Frontier
from crawler.middlewares.budget import RequestBudgetMiddleware
from crawler.middlewares.crawl_delay import CrawlDelayMiddleware
from tests.support.crawl import CrawlResult, run_crawl
from tests.support.newssite import NewsSite
from tests.support.server import SiteServer

# RANDOMIZE_DOWNLOAD_DELAY spreads a delay d over [0.5 d, 1.5 d].
MIN_GAP = 0.5 * 1.0 - 0.05


class FakeRobots:
    def __init__(self, delay: float | None) -> None:
        self.delay = delay

    def crawl_delay(self, user_agent: str) -> float | None:
        return self.delay


def delay_middleware(**settings: Any) -> tuple[CrawlDelayMiddleware, dict[str, Slot]]:
    crawler = get_crawler(
        Spider, {"CRAWL_DELAY_ENABLED": True, "CRAWL_DELAY_MAX": 10.0, **settings}
    )
    slots = {"news.example": Slot(concurrency=1, delay=0.1)}
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots=slots))  # type: ignore[assignment]
    return CrawlDelayMiddleware.from_crawler(crawler), slots


def test_site_delays_from_download_slots_are_floors() -> None:
    mw, slots = delay_middleware(DOWNLOAD_SLOTS={"news.example": {"delay": 2.0}})
    mw.process_request(Request("https://news.example/a"))
    assert slots["news.example"].delay == 2.0
    slots["news.example"].delay = 0.3  # what AutoThrottle does after a fast answer
    mw.process_request(Request("https://news.example/b"))
    assert slots["news.example"].delay == 2.0


def test_robots_crawl_delay_becomes_a_floor_capped_at_the_max() -> None:
    mw, slots = delay_middleware()
    mw._robots_parsed(FakeRobots(3.0), Request("https://news.example/a"))
    assert slots["news.example"].delay == 3.0
    mw._robots_parsed(FakeRobots(3600.0), Request("https://news.example/a"))
    assert slots["news.example"].delay == 10.0
    assert mw.stats.get_value("crawl_delay/capped") == 1


def test_no_crawl_delay_changes_nothing_and_a_floor_never_lowers() -> None:
    mw, slots = delay_middleware()
    mw._robots_parsed(FakeRobots(None), Request("https://news.example/a"))
    assert slots["news.example"].delay == 0.1
    slots["news.example"].delay = 5.0
    mw._robots_parsed(FakeRobots(1.0), Request("https://news.example/a"))
    assert slots["news.example"].delay == 5.0


def test_crawl_delay_can_be_switched_off() -> None:
    with pytest.raises(NotConfigured):
        CrawlDelayMiddleware.from_crawler(
            get_crawler(Spider, {"CRAWL_DELAY_ENABLED": False})
        )


def test_budget_refuses_past_the_cap_per_site() -> None:
    """The middleware keeps no count of its own: it asks the spider's frontier."""
    crawler = get_crawler(Spider)
    crawler.stats = MemoryStatsCollector(crawler)
    crawler.spider = SimpleNamespace(frontier=Frontier(crawler))  # type: ignore[assignment]
    mw = RequestBudgetMiddleware.from_crawler(crawler)
    for _ in range(3):
        mw.process_request(
            Request("https://a.example/", meta={"site": "a", "max_requests": 3})
        )
    with pytest.raises(IgnoreRequest):
        mw.process_request(
            Request("https://a.example/x", meta={"site": "a", "max_requests": 3})
        )
    mw.process_request(
        Request("https://b.example/", meta={"site": "b", "max_requests": 3})
    )
    mw.process_request(Request("https://a.example/robots.txt"))  # no site: free
    assert crawler.stats.get_value("discovery/over_max_requests/a") == 1
    crawler.spider = Spider(name="other")  # another spider: no frontier, no budget
    mw.process_request(
        Request("https://a.example/y", meta={"site": "a", "max_requests": 3})
    )


# --- real crawls: AutoThrottle on, no global delay --------------------------------


def crawl_gaps(
    tmp: Path, site: NewsSite, **crawl: Any
) -> tuple[CrawlResult, list[float]]:
    """Crawl the site's RSS feed and its articles; gaps between the site's requests."""
    with SiteServer() as server:
        site.install(server)
        sites = site.write_site_file(
            tmp / "sites",
            server.url,
            crawl=crawl,
            discovery={
                "feeds": [server.url + "/feeds/rss.xml"],
                "feed_autodiscovery": None,
                "robots_sitemaps": None,
                "sections": None,
                "max_section_pages": None,
            },
        )
        result = run_crawl(
            tmp,
            settings={
                "SITES_DIR": sites,
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": True,
                "AUTOTHROTTLE_START_DELAY": 0,
            },
        )
        times = [entry.time for entry in server.log]
    assert result.returncode == 0, result.log[-3000:]
    return result, [b - a for a, b in zip(times, times[1:], strict=False)]


def test_robots_crawl_delay_is_kept_under_autothrottle(tmp_path: Path) -> None:
    site = NewsSite(n_articles=12, crawl_delay=1.0)
    result, gaps = crawl_gaps(tmp_path, site)
    assert len(result.items) == 3, result.items  # world stories 8, 4, 0
    assert len(gaps) >= 4, gaps  # robots.txt, feed, three articles
    assert min(gaps) >= MIN_GAP, gaps
    assert result.stat("crawl_delay/robots") == 1, result.stats


def test_site_download_delay_is_kept_under_autothrottle(tmp_path: Path) -> None:
    result, gaps = crawl_gaps(tmp_path, NewsSite(n_articles=12), download_delay=1.0)
    assert len(gaps) >= 4, gaps
    assert min(gaps) >= MIN_GAP, gaps
    # AutoThrottle lowered the delay after fast answers; the floor put it back
    assert result.stat("crawl_delay/enforced") > 0, result.stats
