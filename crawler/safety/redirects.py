"""Drop redirects that leave the site: an off-site redirect must not re-crawl a mirror.

Scrapy follows a redirect (or a meta refresh) wherever it points. This middleware
refuses a redirected request whose host is neither one of its site's domains nor the
host of the URL first requested (a feed hosted elsewhere may redirect within its host).
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

logger = logging.getLogger(__name__)


class OffsiteRedirectMiddleware:
    """Downloader middleware; counts ``safety/offsite_redirect``."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("SAFETY_BLOCK_OFFSITE_REDIRECTS"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        chain = request.meta.get("redirect_urls")
        site_id = request.meta.get("site")
        if not chain or site_id is None:
            return None
        site = getattr(self.crawler.spider, "sites", {}).get(site_id)
        if site is None:
            return None
        host = (urlparse(request.url).hostname or "").lower()
        first_host = (urlparse(chain[0]).hostname or "").lower()
        if host == first_host or site.owns_url(request.url):
            return None
        self.stats.inc_value("safety/offsite_redirect")
        logger.info("Off-site redirect dropped: %s -> %s", chain[-1], request.url)
        raise IgnoreRequest(f"safety: off-site redirect to {request.url}")
