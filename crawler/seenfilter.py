"""Filter what earlier runs exported: before download (URL) and after extraction (text).

``SeenFilterMiddleware`` (a downloader middleware, first in line) refuses article
requests whose URL is already in the seen store (``SeenSkip``, an ``IgnoreRequest``),
so the page is never downloaded, however the request was scheduled; entry pages
(feeds, sitemaps, sections) always pass. It also remembers the URLs an article was
redirected from, so the store knows them as aliases.

``SeenDedupPipeline`` (the last item pipeline) drops an article whose canonical URL
was exported earlier (it may have been fetched under another URL) and an article of
the same site with the same text (a story republished under a new URL), sets the
item's ``version``, and records the article as pending in the store: the
``SeenMarker`` extension marks it exported once the feeds wrote it.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, IgnoreRequest, NotConfigured
from scrapy.http import Response

from crawler.discovery import parse_date
from crawler.extensions.seen_marker import SeenMarker
from crawler.seen import PendingArticle, fingerprint
from crawler.urls import normalize_url

logger = logging.getLogger(__name__)


def _marker(crawler: Crawler) -> SeenMarker:
    marker = crawler.get_extension(SeenMarker)
    if marker is None:
        raise NotConfigured("the seen store is off (SEEN_ENABLED)")
    return marker


def is_newer(hint: str | None, exported_at: str | None) -> bool:
    """True when the date hint (sitemap lastmod, feed date) is after the export."""
    if not hint or not exported_at:
        return False
    hinted, exported = parse_date(hint), parse_date(exported_at)
    return hinted is not None and exported is not None and hinted > exported


class SeenSkip(IgnoreRequest):
    """An article request not sent: the article was exported by an earlier run."""


class SeenFilterMiddleware:
    """Drop requests for article pages already exported; remember redirect aliases."""

    def __init__(self, crawler: Crawler, marker: SeenMarker) -> None:
        self.crawler = crawler
        self.marker = marker
        self.stats = crawler.stats
        settings = crawler.settings
        self.match_query_variants = settings.getbool("SEEN_MATCH_QUERY_VARIANTS")
        self.recrawl_updated = settings.getbool("SEEN_RECRAWL_UPDATED")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenFilterMiddleware:
        return cls(crawler, _marker(crawler))

    def process_request(self, request: Request) -> None:
        if not request.meta.get("article") or request.meta.get("entry"):
            return
        if self.marker.stopped:
            raise IgnoreRequest("the crawl is stopping (output or seen store failed)")
        url = normalize_url(request.url)
        try:
            record = self.marker.store.lookup(url, self.match_query_variants)
        except Exception as exc:  # noqa: BLE001 - the store's I/O
            self.marker.stop_on_store_failure(exc)
            raise IgnoreRequest("the seen store failed") from exc
        if record is None:
            self.stats.inc_value("seen/new_url")
            return
        if self.recrawl_updated and is_newer(request.meta.get("date_hint"),
                                             record.exported_at):
            self.stats.inc_value("seen/recrawl_updated")
            return
        site = request.meta.get("site", "?")
        self.stats.inc_value("seen/skipped")
        self.stats.inc_value(f"seen/skipped/{site}")
        logger.debug("Exported earlier, not fetched: %s (as %s)", url, record.url)
        # The spider's errback sees an IgnoreRequest: refused, not a failed page.
        raise SeenSkip(f"exported earlier as {record.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        redirects = request.meta.get("redirect_urls")
        if request.meta.get("article") and redirects:
            fetched = normalize_url(response.url)
            self.marker.aliases.setdefault(fetched, set()).update(
                normalize_url(u) for u in redirects
            )
        return response


class SeenDedupPipeline:
    """Drop articles exported earlier (same URL or same text); make the rest pending."""

    def __init__(self, crawler: Crawler, marker: SeenMarker) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.marker = marker
        settings = crawler.settings
        self.recrawl_updated = settings.getbool("SEEN_RECRAWL_UPDATED")
        self.max_bits = settings.getint("SEEN_NEAR_DUPLICATE_BITS")
        self.min_words = settings.getint("SEEN_NEAR_DUPLICATE_MIN_WORDS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenDedupPipeline:
        return cls(crawler, _marker(crawler))

    def process_item(self, item: Any) -> Any:
        if self.marker.stopped:
            # The output or the store failed: the crawl is stopping. Not written,
            # not marked: the next run fetches it again.
            self.stats.inc_value("seen/dropped_while_stopping")
            raise DropItem("the crawl is stopping (output or seen store failed)",
                           log_level="DEBUG")
        try:
            return self._process(item)
        except DropItem:
            raise
        except Exception as exc:  # noqa: BLE001 - the store's I/O (a full disk)
            self.marker.stop_on_store_failure(exc)
            raise DropItem("the seen store failed", log_level="DEBUG") from exc

    def _process(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url, site = adapter.get("url") or "", adapter.get("site") or ""
        store = self.marker.store
        fp = fingerprint(adapter.get("text") or "")
        version = 1
        previous = store.get(url)
        if previous is not None:
            if not self.recrawl_updated or previous.text_hash == fp.text_hash:
                self.stats.inc_value("seen/duplicate_url")
                # Expected in every incremental run, and counted: no log noise.
                raise DropItem(f"exported earlier: {url}", log_level="DEBUG")
            version = previous.version + 1
            self.stats.inc_value("seen/new_version")
        duplicate = store.find_duplicate(site, fp, url, self.max_bits, self.min_words)
        if duplicate is not None:
            self.stats.inc_value("seen/duplicate_content")
            raise DropItem(f"same text as {duplicate.url} ({duplicate.state}): {url}",
                           log_level="INFO")
        if "version" in adapter.field_names():
            adapter["version"] = version
        fetched = normalize_url(adapter.get("source_url") or url)
        aliases = ({fetched} | self.marker.aliases.pop(fetched, set())) - {url}
        if self.marker.marking:
            store.add_pending(PendingArticle(
                url=url, id=adapter.get("id") or "", site=site, version=version,
                fingerprint=fp, run=self.marker.run, aliases=tuple(sorted(aliases)),
            ))
            self.marker.pending[url] = id(item)
        return item
