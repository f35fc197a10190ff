"""Count downloads stopped by a limit: over DOWNLOAD_MAXSIZE, past DOWNLOAD_TIMEOUT.

Scrapy enforces both limits (it cancels a body over the size limit, with or without
``Content-Length``, and a download that takes longer than the timeout, slow headers
and slow drips alike). This middleware only makes the outcome a named counter:
``safety/too_large`` and ``safety/timeout``.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError


class DownloadLimitsMiddleware:
    """Downloader middleware that counts limit hits; the exception goes on."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadLimitsMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, DownloadCancelledError):
            self.stats.inc_value("safety/too_large")
        elif isinstance(exception, DownloadTimeoutError):
            self.stats.inc_value("safety/timeout")
        return None
