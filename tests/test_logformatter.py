"""crawler/logformatter.py: a dropped item is one short line (url, reason)."""

from __future__ import annotations

import logging

from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.log import logformatter_adapter
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.logformatter import MAX_REASON, ShortLogFormatter

URL = "https://news.example/2024/05/harbour-plan.html"


def _dropped_line(item: dict[str, object], exception: Exception) -> tuple[int, str]:
    crawler = get_crawler(Spider, {"LOG_FORMATTER": project_settings.LOG_FORMATTER})
    crawler.spider = Spider("s")
    crawler.spider.crawler = crawler
    formatter = build_from_crawler(
        load_object(crawler.settings["LOG_FORMATTER"]), crawler
    )
    assert isinstance(formatter, ShortLogFormatter)
    level, message, args = logformatter_adapter(
        formatter.dropped(item, exception, None, crawler.spider)
    )
    return level, message % args


def test_a_dropped_article_is_logged_as_its_url_and_reason() -> None:
    item: dict[str, object] = {
        "url": URL,
        "title": "Harbour plan",
        "text": "word " * 3000,
    }
    level, line = _dropped_line(item, DropItem(f"junk text (urls): {URL}"))
    assert line == f"Dropped {URL}: junk text (urls)"
    assert level == logging.WARNING  # Scrapy's DEFAULT_DROPITEM_LOG_LEVEL


def test_the_exception_log_level_and_a_long_reason_are_kept_short() -> None:
    level, line = _dropped_line({"url": URL}, DropItem("x" * 5000, log_level="DEBUG"))
    assert level == logging.DEBUG
    assert len(line) < len(URL) + MAX_REASON + 20


def test_an_item_without_url() -> None:
    _, line = _dropped_line({"title": "t"}, DropItem("no url"))
    assert line == "Dropped (no url): no url"
