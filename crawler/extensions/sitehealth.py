"""Count, per site, the pages that answered, so a run can tell a site that is down.

A site is down for ``newsites run`` when none of its entry pages (feeds, sitemaps,
sections, home) answered with a status below 400: refused connections, timeouts, DNS
failures, an unreachable robots.txt (which disallows everything) and 4xx/5xx answers
all leave ``health/<site>/entry_ok`` at 0. Counters, from Scrapy's
``response_received`` (final responses, after redirects and retries):

``health/<site>/entry_ok``, ``health/<site>/entry_http_error``,
``health/<site>/article_ok``, ``health/<site>/article_http_error``.
"""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response


class SiteHealth:
    """Per-site counters of answered entry and article pages."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteHealth:
        ext = cls(crawler)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def response_received(self, response: Response, request: Request) -> None:
        site = request.meta.get("site")
        if not site:
            return  # robots.txt and other requests of no site
        kind = "entry" if request.meta.get("entry") else "article"
        outcome = "ok" if response.status < 400 else "http_error"
        self.stats.inc_value(f"health/{site}/{kind}_{outcome}")
