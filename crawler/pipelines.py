"""Item pipelines: validate -> drop in-run duplicates (FEEDS writes).

Records arrive in their final form from extraction (``crawler.extraction``: text,
dates, authors normalized, ``word_count`` script-aware), so no pipeline normalizes
or counts them again; template stripping (crawler/extraction/template.py) recounts
what it shortens."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.extraction.cleanup import count_words
from crawler.items import unwritten
from crawler.store import without_query, words_of
from crawler.urls import url_key


class _Component:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def drop(self, reason: str, item: Any) -> DropItem:
        self.stats.inc_value(f"pipeline/dropped/{reason}")
        return DropItem(f"{reason}: {ItemAdapter(item).get('url')}")


class ValidatePipeline(_Component):
    """Drop, with a counted reason, an item without title, body or id, or whose body
    is under the length floor.

    The extractor applies the floor (EXTRACT_MIN_WORDS, the site's ``min_words``)
    too, but site-template stripping (TemplatePipeline, before this one) can take a
    page under it: a stub padded by the site's boilerplate is not an article."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.min_words = crawler.settings.getint("EXTRACT_MIN_WORDS")

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if not adapter.get("url") or not re.fullmatch(
            r"[0-9a-f]{16}", adapter.get("id") or ""
        ):
            raise self.drop("no_id", item)
        if not adapter.get("title"):
            raise self.drop("no_title", item)
        if not adapter.get("text"):
            raise self.drop("no_text", item)
        # script-aware, as the extractor's floor: Japanese has no spaces to split on
        if count_words(adapter["text"]) < self.floor(adapter.get("site")):
            raise self.drop("too_short", item)
        return item

    def floor(self, site_id: str | None) -> int:
        """The fewest words an article of ``site_id`` has (as the extractor asks)."""
        site = getattr(self.crawler.spider, "sites", {}).get(site_id)
        return max(self.min_words, site.articles.min_words if site else 0)


class DuplicateUrlPipeline(_Component):
    """Drop an article this run already produced: the same canonical URL, or, without
    the seen store, the same text under the same URL with another query string (a page
    without rel=canonical linked as ``?ref=home``, ``?section=local``...).

    With SEEN_ENABLED the seen store's pipeline compares texts, exact and near, with
    pending articles of this run too (``seen/duplicate_content``)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # keys (``url_key``), not strings: one entry per article written, all run long
        self.seen: set[bytes] = set()
        self.compare_texts = not crawler.settings.getbool("SEEN_ENABLED")
        self.variants: set[bytes] = set()
        crawler.signals.connect(self.item_not_written, signal=signals.item_error)
        crawler.signals.connect(self.item_not_written, signal=signals.item_dropped)

    def item_not_written(
        self,
        item: Any,
        exception: BaseException | None = None,
        failure: Any = None,
        **_: Any,
    ) -> None:
        """Forget an article a later pipeline failed on (or left to another
        worker): a later fetch of it is not a duplicate of a written one."""
        if unwritten(exception, failed=failure is not None):
            adapter = ItemAdapter(item)
            url = str(adapter.get("url") or "")
            self.seen.discard(url_key(url))
            if self.compare_texts:
                self.variants.discard(variant_key(url, adapter.get("text") or ""))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url = str(adapter.get("url") or "")
        key = url_key(url)
        if key in self.seen:
            raise self.drop("duplicate_url", item)
        if self.compare_texts:
            variant = variant_key(url, adapter.get("text") or "")
            if variant in self.variants:
                raise self.drop("duplicate_text", item)
            self.variants.add(variant)
        self.seen.add(key)
        return item


def variant_key(url: str, text: str) -> bytes:
    """The key of a text under a URL without its query string."""
    return url_key(f"{without_query(url)} {text_key(text)}")


def text_key(text: str) -> str:
    """SHA-256 of the text's words (case, punctuation and spacing ignored)."""
    return hashlib.sha256(" ".join(words_of(text)).encode("utf-8")).hexdigest()
