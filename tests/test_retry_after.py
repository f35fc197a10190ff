"""crawler/middlewares/retry_after.py: 429/503 wait for Retry-After, host paused."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.middlewares.retry_after import RetryAfterMiddleware, parse_retry_after
from tests.support.crawl import run_crawl
from tests.support.newssite import NewsSite
from tests.support.server import SiteServer

NOW = datetime(2024, 11, 3, 12, 0, tzinfo=UTC)
SETTINGS = {
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 2,
    "RETRY_HTTP_CODES": [500, 503, 429],
    "RETRY_AFTER_ENABLED": True,
    "RETRY_AFTER_HTTP_CODES": [429, 503],
    "RETRY_AFTER_MAX_DELAY": 60.0,
    "RETRY_AFTER_BACKOFF_BASE": 2.0,
    "RETRY_AFTER_BACKOFF_MAX": 5.0,
}


# --- the header -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),  # past: now
        ("-1", None),
        ("1.5", None),  # delay-seconds is a whole number
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


# --- decisions (no network) -------------------------------------------------------


def middleware(**overrides: Any) -> tuple[RetryAfterMiddleware, Crawler]:
    crawler = get_crawler(Spider, {**SETTINGS, **overrides})
    crawler.spider = crawler._create_spider("policy")
    return RetryAfterMiddleware.from_crawler(crawler), crawler


def answer(
    status: int, retry_after: str | None = None, retries: int = 0, **meta: Any
) -> tuple[Request, Response]:
    request = Request("https://news.example/a", meta={"retry_times": retries, **meta})
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return request, HtmlResponse(
        request.url, status=status, headers=headers, request=request
    )


def paused_for(mw: RetryAfterMiddleware, host: str = "news.example") -> float:
    return mw.paused_until.get(host, 0.0) - time.monotonic()


def test_429_with_retry_after_is_retried_and_pauses_the_host() -> None:
    mw, crawler = middleware()
    request, response = answer(429, "30")
    retry = mw.process_response(request, response)
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert 29 < paused_for(mw) <= 30
    assert crawler.stats.get_value("retry_after/honoured") == 1


def test_503_without_header_backs_off_exponentially_up_to_the_max() -> None:
    waits = []
    for retries in (0, 1):
        mw, crawler = middleware(RETRY_TIMES=5)
        mw.process_response(*answer(503, retries=retries))
        waits.append(round(paused_for(mw)))
        assert crawler.stats.get_value("retry_after/backoff") == 1
    mw, _ = middleware(RETRY_TIMES=5)
    mw.process_response(*answer(503, retries=3))  # 2 * 2**3 = 16 > 5
    waits.append(round(paused_for(mw)))
    assert waits == [2, 4, 5]


def test_a_longer_retry_after_than_the_max_is_given_up() -> None:
    mw, crawler = middleware()
    request, response = answer(429, "3600")
    assert mw.process_response(request, response) is response
    assert crawler.stats.get_value("retry_after/too_long") == 1
    assert crawler.stats.get_value("retry/count") is None
    assert 59 < paused_for(mw) <= 60  # the host still rests, as long as we allow


def test_a_bad_header_is_counted_and_backs_off() -> None:
    mw, crawler = middleware()
    retry = mw.process_response(*answer(429, "tomorrow-ish"))
    assert isinstance(retry, Request)
    assert crawler.stats.get_value("retry_after/bad_header") == 1
    assert crawler.stats.get_value("retry_after/backoff") == 1


def test_exhausted_retries_return_the_answer_but_still_pause() -> None:
    mw, crawler = middleware()
    request, response = answer(429, "10", retries=2)
    assert mw.process_response(request, response) is response
    assert crawler.stats.get_value("retry/max_reached") == 1
    assert paused_for(mw) > 9


def test_other_codes_and_dont_retry_behave_as_scrapy() -> None:
    mw, _ = middleware()
    retry = mw.process_response(*answer(500))
    assert isinstance(retry, Request)  # retried at once by RetryMiddleware
    request, response = answer(429, "5", dont_retry=True)
    assert mw.process_response(request, response) is response
    assert mw.paused_until == {}


def test_switched_off_429_is_retried_at_once() -> None:
    mw, crawler = middleware(RETRY_AFTER_ENABLED=False)
    assert isinstance(mw.process_response(*answer(429, "30")), Request)
    assert mw.paused_until == {}
    assert crawler.stats.get_value("retry_after/honoured") is None


def test_requests_to_other_hosts_do_not_wait() -> None:
    mw, crawler = middleware()
    mw.pause("other.example", 30)
    started = time.monotonic()
    asyncio.run(mw.process_request(Request("https://news.example/b")))
    assert time.monotonic() - started < 5
    assert crawler.stats.get_value("retry_after/delayed_requests") is None


# --- a real crawl -----------------------------------------------------------------


def test_crawl_waits_for_retry_after_and_gives_up_on_long_waits(tmp_path: Path) -> None:
    site = NewsSite(n_articles=8)  # RSS: world stories 4 and 0 (+ members, refused)
    patient, hopeless = site.newest_first("world")[:2]
    served: dict[str, int] = {}

    def throttle(handler: Any) -> bool:
        count = served.get(handler.path, 0)
        served[handler.path] = count + 1
        if handler.path == patient.path and count == 0:
            wait = "1"
        elif handler.path == hopeless.path:
            wait = "30"  # > RETRY_AFTER_MAX_DELAY
        else:
            return False
        handler.send_response(429 if handler.path == patient.path else 503)
        handler.send_header("Retry-After", wait)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return True

    with SiteServer() as server:
        site.install(server)
        server.handlers.append(throttle)
        sites = site.write_site_file(
            tmp_path / "sites",
            server.url,
            discovery={
                "feeds": [server.url + "/feeds/rss.xml"],
                "feed_autodiscovery": None,
                "robots_sitemaps": None,
                "sections": None,
                "max_section_pages": None,
            },
        )
        result = run_crawl(
            tmp_path,
            settings={
                "SITES_DIR": sites,
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_START_DELAY": 0,
                "RETRY_AFTER_MAX_DELAY": 2,
            },
        )
        log = [(entry.time, entry.path) for entry in server.log]
        base = server.url
    assert result.returncode == 0, result.log[-3000:]
    assert [i["url"] for i in result.items] == [base + patient.path]
    times = [t for t, path in log if path == patient.path]
    assert len(times) == 2, log
    # the retry came no sooner than the server asked (a lower bound, not a speed)
    assert times[1] - times[0] >= 1.0, times
    assert [p for _, p in log].count(hopeless.path) == 1, "a too-long wait was retried"
    assert result.stat("retry_after/honoured") == 1, result.stats
    assert result.stat("retry_after/too_long") == 1, result.stats
