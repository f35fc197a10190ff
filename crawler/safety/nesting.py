"""Flag HTML nested deeper than lxml reads: its text would vanish without a word.

libxml2's HTML parser stops descending at 256 levels (without ``XML_PARSE_HUGE``) and
silently drops what lies deeper, so a page with its article 5,000 ``<div>`` deep
extracts as "no body" with nothing to say why. This middleware measures the nesting
depth of each HTML body with a tag scan (void elements and the elements HTML closes
implicitly, such as ``<p>`` and ``<li>``, do not count) and, past ``MAX_DEPTH``,
counts ``safety/deep_nesting`` and logs the URL. The page itself goes on: whatever
lxml can read is still extracted.

Article pages are not scanned here: they are parsed in an extraction worker anyway,
which reads libxml2's own "Excessive depth" error from its parse (no extra cost, and
none on the reactor) and the spider counts the same ``safety/deep_nesting``. This
middleware scans the pages the crawler parses itself: feeds, sitemaps, sections.
"""

from __future__ import annotations

import logging
import re

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response
from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

MAX_DEPTH = 255  # libxml2's HTML parser limit without XML_PARSE_HUGE
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")
# Never closed (void) or closed implicitly by their next sibling: not counted.
_UNCOUNTED = frozenset(
    b"area base br col embed hr img input link meta param source track wbr "
    b"p li dt dd tr td th option thead tbody tfoot colgroup rp rt".split()
)


def nesting_depth(body: bytes, stop_at: int = MAX_DEPTH + 1) -> int:
    """The deepest element nesting of ``body`` (stops counting at ``stop_at``)."""
    depth = deepest = 0
    for match in _TAG.finditer(body):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _UNCOUNTED:
            continue
        if closing:
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest >= stop_at:
                break
    return deepest


def report_deep_nesting(stats: StatsCollector, url: str) -> None:
    """Count ``safety/deep_nesting`` and log the page (here and in the spider)."""
    stats.inc_value("safety/deep_nesting")
    logger.warning(
        "HTML nested deeper than %d levels: text below is lost: %s", MAX_DEPTH, url
    )


class DeepNestingMiddleware:
    """Downloader middleware; counts ``safety/deep_nesting``, changes nothing."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeepNestingMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if (
            isinstance(response, HtmlResponse)
            and not request.meta.get("article")  # the extraction worker checks
            and nesting_depth(response.body) > MAX_DEPTH
        ):
            report_deep_nesting(self.stats, response.url)
        return response
