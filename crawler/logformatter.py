"""Log lines for Scrapy's events, kept short: a dropped item is its URL and reason.

Scrapy's ``LogFormatter.dropped`` logs the reason and then the whole item (an
article is kilobytes of text on one line). Ours logs ``Dropped <url>: <reason>``;
the counters say how many, ``-o`` keeps the records that were written.
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter, is_item
from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure

#: A reason longer than this is cut (an exception may carry a long message).
MAX_REASON = 300


def drop_reason(exception: BaseException, url: str) -> str:
    """The exception's message without the item's URL our pipelines append."""
    reason = str(exception).strip() or type(exception).__name__
    if url:
        reason = reason.removesuffix(f": {url}").removesuffix(url).strip()
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 1] + "…"
    return reason


class ShortLogFormatter(LogFormatter):
    """``LOG_FORMATTER``: one short line per dropped item."""

    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        url = str(ItemAdapter(item).get("url") or "") if is_item(item) else ""
        result["msg"] = "Dropped %(url)s: %(reason)s"
        result["args"] = {
            "url": url or "(no url)",
            "reason": drop_reason(exception, url),
        }
        return result
