"""Bodies cut short: never extract an article from half a page.

A body with a ``Content-Length`` or chunked framing that ends early already fails in
Scrapy (``DOWNLOAD_FAIL_ON_DATALOSS``). A body delimited by closing the connection has
no framing: Scrapy flags every such response ``partial``, complete or not. For HTML,
this middleware takes a missing closing ``</html>`` (or ``</body>``) near the end of a
``partial`` (or ``dataloss``) body as the sign of a cut: the request is retried (up to
``RETRY_TIMES``) and then dropped, counted. Pages whose servers both close-delimit
and omit ``</html>`` (legal, but rare) are lost; turn ``SAFETY_CHECK_TRUNCATION`` off
for such a site's crawl.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response

logger = logging.getLogger(__name__)

TAIL_BYTES = 4096
_END_TAG = re.compile(rb"</\s*(html|body)\s*>", re.IGNORECASE)


def looks_complete(body: bytes) -> bool:
    """True when the last bytes of an HTML body close the document."""
    return bool(_END_TAG.search(body[-TAIL_BYTES:]))


class TruncatedBodyMiddleware:
    """Downloader middleware; counts ``safety/partial_body`` (unframed but whole),
    ``safety/truncated_retry`` and ``safety/truncated`` (dropped after retries)."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("SAFETY_CHECK_TRUNCATION"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TruncatedBodyMiddleware:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response
    ) -> Request | Response:
        unframed = "partial" in response.flags or "dataloss" in response.flags
        if not unframed or not isinstance(response, HtmlResponse):
            return response
        if looks_complete(response.body):
            self.stats.inc_value("safety/partial_body")
            return response
        spider: Any = self.crawler.spider
        retry = get_retry_request(request, spider=spider, reason="truncated_body")
        if retry is not None:
            self.stats.inc_value("safety/truncated_retry")
            return retry
        self.stats.inc_value("safety/truncated")
        logger.warning(
            "Dropped %s: body cut before </html> (%d bytes)",
            response.url,
            len(response.body),
        )
        raise IgnoreRequest("safety: truncated body")
