"""Drop an article whose text is not prose: an entity flood, a sitemap shown as HTML.

The extractor judges pages by their markup; a hostile or broken page can still hand
it a "body" of 600 KB of ``&AA<`` or a table of URLs and dates. This pipeline looks at
the text itself: too many URLs, too few word tokens (two letters in a row, any
script), or a few tokens repeated over and over, and the item is dropped with a
reason (``safety/junk_text``). The thresholds sit far from real articles: on the
extraction dev set (104 pages) the lowest word share is 36% (a standings table), the
highest URL share 2.5%, the lowest distinct-token share 12%.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

logger = logging.getLogger(__name__)

_URL = re.compile(r"^(https?://|www\.)\S+$|^\S+\.(html?|php|aspx?)$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}")  # two letters in a row, any script
SAMPLE_TOKENS = 5000
# A flood repeats a handful of tokens; prose never falls near 2% distinct tokens
# (the lowest of the extraction dev set's 90 long articles is 12%, a meal plan).
MIN_TOKENS_FOR_VARIETY = 500
MIN_DISTINCT_SHARE = 0.02


def junk_reason(text: str, min_word_share: float, max_url_share: float) -> str | None:
    """Why ``text`` is not prose (None when it is)."""
    tokens = text.split()[:SAMPLE_TOKENS]
    if not tokens:
        return None
    is_url = [_URL.match(t) is not None for t in tokens]
    urls = sum(is_url)
    if urls / len(tokens) > max_url_share:
        return f"{urls} of {len(tokens)} tokens are URLs"
    words = sum(
        1 for t, url in zip(tokens, is_url, strict=True) if not url and _WORD.search(t)
    )
    if words / len(tokens) < min_word_share:
        return f"only {words} of {len(tokens)} tokens are words"
    if len(tokens) >= MIN_TOKENS_FOR_VARIETY:
        distinct = len({t.lower() for t in tokens})
        if distinct / len(tokens) < MIN_DISTINCT_SHARE:
            return f"{len(tokens)} tokens, only {distinct} different"
    return None


class JunkTextPipeline:
    """Item pipeline; counts ``safety/junk_text``."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.min_word_share = settings.getfloat("SAFETY_MIN_WORD_SHARE")
        self.max_url_share = settings.getfloat("SAFETY_MAX_URL_SHARE")
        if not self.min_word_share and not self.max_url_share:
            raise NotConfigured
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JunkTextPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        reason = junk_reason(
            adapter.get("text") or "", self.min_word_share, self.max_url_share or 1.0
        )
        if reason is None:
            return item
        self.stats.inc_value("safety/junk_text")
        logger.info("Not prose (%s): %s", reason, adapter.get("url"))
        raise DropItem(f"junk text ({reason}): {adapter.get('url')}")
