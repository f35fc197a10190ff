"""Keep each host's download delay at or above its floor: the site file's
``crawl.download_delay`` and the host's robots.txt ``Crawl-delay``.

AutoThrottle sets a download slot's delay after every response, anywhere between
``DOWNLOAD_DELAY`` and ``AUTOTHROTTLE_MAX_DELAY``: a per-site delay given through
``DOWNLOAD_SLOTS`` lasts until the first fast response, and Scrapy does not apply
``Crawl-delay`` at all. This middleware learns the floors (from ``DOWNLOAD_SLOTS`` at
start, from the ``robots_parsed`` signal of the robots.txt middleware, capped at
``CRAWL_DELAY_MAX``) and raises a slot's delay back to its floor before each request
and right after AutoThrottle's adjustment of each response. It never lowers a delay.

Counters: ``crawl_delay/robots`` (hosts whose robots.txt has a Crawl-delay for us),
``crawl_delay/capped`` (ones above ``CRAWL_DELAY_MAX``), ``crawl_delay/enforced``
(times a slot's delay was raised back to its floor).
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.middlewares import slot_key


class CrawlDelayMiddleware:
    """Downloader middleware: per-host minimum delays that AutoThrottle cannot lower."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("CRAWL_DELAY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_delay = settings.getfloat("CRAWL_DELAY_MAX")
        self.user_agent = str(
            settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or ""
        )
        self.floors: dict[str, float] = {
            key: float(conf["delay"])
            for key, conf in settings.getdict("DOWNLOAD_SLOTS").items()
            if isinstance(conf, dict) and conf.get("delay")
        }
        # Connected after AutoThrottle (an extension, built before the downloader), so
        # the floor is applied after its adjustment and before the next request leaves.
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(
            self._response_downloaded, signal=signals.response_downloaded
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        return cls(crawler)

    def _robots_parsed(self, robotparser: Any, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        if not delay or delay <= 0:
            return
        self.stats.inc_value("crawl_delay/robots")
        if delay > self.max_delay:
            self.stats.inc_value("crawl_delay/capped")
            delay = self.max_delay
        key = slot_key(request)
        self.floors[key] = max(self.floors.get(key, 0.0), float(delay))
        self.enforce(key)

    def _response_downloaded(self, response: Response, request: Request) -> None:
        self.enforce(slot_key(request))

    def process_request(self, request: Request) -> None:
        self.enforce(slot_key(request))

    def enforce(self, key: str) -> None:
        """Raise slot ``key``'s delay to its floor (if the slot exists and is lower)."""
        floor = self.floors.get(key)
        if not floor:
            return
        slot = self.crawler.engine.downloader.slots.get(key)
        if slot is not None and slot.delay < floor:
            slot.delay = floor
            self.stats.inc_value("crawl_delay/enforced")
