"""Open the crawl's seen store and mark each article exported once its line is on disk.

``SeenMarker`` uses the crawl's ``SeenRun`` (crawler/store/run.py), the store and
the state it shares with the filter and the pipeline. It looks at the feeds and
connects to ``item_scraped`` only at ``engine_started``, which Scrapy sends after
every ``from_crawler`` and every ``spider_opened`` handler: by then the FeedExporter
has opened its feeds, and, connected to ``item_scraped`` in its ``from_crawler``, it
writes each item before the marker sees it (pydispatch calls receivers in connection
order), whatever the extension orders are. That is the one order that matters, and
it is made here, explicitly, not left to the orders in settings.

Before marking, it checks that every feed that accepts the item counted it, flushes
each feed file and, with SEEN_FSYNC, fsyncs it. When a feed fails to write (a full
disk), the file may end with part of a line: the marker stops the crawl
(``feed_write_failed``) and marks nothing more; what is pending is settled from the
output itself (``SeenStore.resolve_pending``), by ``newsites run`` as soon as the
crawl ends, else at the next start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.feedexport import FeedExporter, FileFeedStorage
from scrapy.settings import BaseSettings

from crawler.store import (
    SeenLock,
    SeenLockHeld,
    SeenStore,
    SeenStoreError,
    SqliteSeenStore,
    resolve_path,
)
from crawler.store.run import SeenRun, seen_run_of
from crawler.urls import normalize_url

logger = logging.getLogger(__name__)


def store_refusal(settings: BaseSettings) -> tuple[int, str] | None:
    """Why a ``scrapy crawl`` with the seen store on cannot start, as the exit status
    of ``newsites run`` and one line: the store's lock is held (75) or the store is
    unusable (6). Checked by the crawl command before the crawl, where a
    ``from_crawler`` error would end in a traceback. None when it can start."""
    from crawler.cli.run import EXIT_LOCKED, EXIT_STORE

    if not settings.getbool("SEEN_ENABLED") or settings.get("SEEN_BACKEND") == "redis":
        return None
    value = settings.get("SEEN_DB") or ""
    if not value:
        return EXIT_STORE, "SEEN_DB is empty: set the path of the seen store"
    path = resolve_path(value)
    try:
        lock = SeenLock.acquire(path)
    except SeenLockHeld as exc:
        return EXIT_LOCKED, str(exc)
    except OSError as exc:
        return EXIT_STORE, f"cannot lock the seen store {path}: {exc}"
    try:
        if not settings.getbool("SEEN_RESET"):  # a reset happens once, in the crawl
            SqliteSeenStore.open(path, durable=False).close()
    except SeenStoreError as exc:
        return EXIT_STORE, f"seen store error: {exc}"
    finally:
        lock.release()
    return None


def _check_feeds(crawler: Crawler) -> None:
    """Refuse feed options under which 'written' cannot be checked per item."""
    settings = crawler.settings
    feeds = settings.getdict("FEEDS")
    if settings.getint("FEED_EXPORT_BATCH_ITEM_COUNT") or any(
        (options or {}).get("batch_item_count") for options in feeds.values()
    ):
        raise SeenStoreError(
            "The seen store cannot be used with batch_item_count / "
            "FEED_EXPORT_BATCH_ITEM_COUNT: turn batching off or set SEEN_ENABLED=False"
        )


class SeenMarker:
    """Marks an article exported in the seen store after every feed wrote it."""

    def __init__(self, crawler: Crawler, seen: SeenRun) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.seen = seen
        self.fsync = crawler.settings.getbool("SEEN_FSYNC")
        self._own_run = False
        self.feeds: FeedExporter | None = None
        self._counts: dict[int, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenMarker:
        if not crawler.settings.getbool("SEEN_ENABLED"):
            raise NotConfigured
        _check_feeds(crawler)
        try:
            seen = seen_run_of(crawler)
        except SeenStoreError as exc:
            logger.critical("Seen store error: %s", exc)
            raise
        ext = cls(crawler, seen)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_error)
        return ext

    @property
    def store(self) -> SeenStore:
        return self.seen.store

    # --- signals -------------------------------------------------------------------
    def engine_started(self) -> None:
        # Scrapy's own feed exporter: read (its slots), never written to.
        self.feeds = self.crawler.get_extension(FeedExporter)
        slots = self.feeds.slots if self.feeds is not None else []
        outputs = [
            str(Path(slot.storage.path).resolve())
            for slot in slots
            if isinstance(slot.storage, FileFeedStorage)
        ]
        if not slots:
            logger.warning(
                "Seen store %s: no FEEDS output (-o/-O) configured, so nothing will be "
                "marked exported; seen articles are still skipped",
                self.store.path,
            )
        self.seen.marking = bool(slots)
        self._counts = {id(slot): slot.itemcount for slot in slots}
        if self.seen.run:
            if outputs:
                self.store.set_run_outputs(self.seen.run, outputs)
        else:
            self.seen.run = self.store.start_run(outputs)
            self._own_run = True
        # Connected now, after every from_crawler (FeedExporter's included): the
        # feeds write an item before it is marked.
        self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def item_scraped(self, item: Any) -> None:
        if not self.seen.marking or self.feeds is None:
            return
        url = ItemAdapter(item).get("url") or ""
        accepted = [slot for slot in self.feeds.slots if slot.filter.accepts(item)]
        written = True
        for slot in accepted:
            before = self._counts.get(id(slot), 0)
            self._counts[id(slot)] = slot.itemcount
            if slot.itemcount != before + 1:
                written = False
        if self.seen.pending.pop(url, None) is None:
            self.stats.inc_value("seen/not_marked/not_pending")
            logger.error("Not marked: %s never reached the seen pipeline", url)
            return
        if not accepted:
            self.stats.inc_value("seen/not_marked/no_feed")
            self.store.discard_pending(url)
            return
        if self.seen.stopped:
            # After a failed write the output, not the store, is the truth: left
            # pending, settled from the output (`newsites run` does it at once).
            self.stats.inc_value("seen/not_marked/after_write_failure")
            return
        if not written:
            self.seen.stop_on_write_failure("export_failed", url)
            return
        if not self._flush(accepted, url):
            return
        try:
            marked = self.store.mark_exported(url)
        except Exception as exc:  # noqa: BLE001 - the store's I/O (a full disk)
            # Its line is written and it stays pending: settled from the output.
            self.seen.stop_on_store_failure(exc)
            return
        if marked is None:
            self.stats.inc_value("seen/not_marked/not_pending")
            logger.error("Not marked: %s was no longer pending in the store", url)
            return
        self.stats.inc_value("seen/marked")

    def _flush(self, slots: list[Any], url: str) -> bool:
        """Flush (and with SEEN_FSYNC fsync) the feed files; False if that failed."""
        try:
            for slot in slots:
                if slot.file is not None:
                    slot.file.flush()
                    if self.fsync:
                        os.fsync(slot.file.fileno())
        except (OSError, ValueError, AttributeError):
            logger.debug("Flushing the feeds failed", exc_info=True)
            self.seen.stop_on_write_failure("flush_failed", url)
            return False
        return True

    def item_dropped(self, item: Any) -> None:
        """A later pipeline dropped (or failed on) an item made pending: forget it."""
        adapter = ItemAdapter(item)
        url = adapter.get("url")
        if adapter.get("source_url"):
            self.seen.aliases.pop(normalize_url(adapter["source_url"]), None)
        if url and self.seen.pending.get(url) == id(item):
            del self.seen.pending[url]
            try:
                self.store.discard_pending(url)
            except Exception as exc:  # noqa: BLE001 - left pending: settled later
                self.seen.stop_on_store_failure(exc)
                return
            self.stats.inc_value("seen/pending_discarded")

    def spider_closed(self, reason: str) -> None:
        try:
            if self._own_run:
                self.store.finish_run(self.seen.run, reason)
            self.stats.set_value("seen/store_articles", self.store.counts()["articles"])
        except Exception as exc:  # noqa: BLE001 - a full disk; the next start settles
            logger.error("Cannot finish the run in the seen store: %s", exc)
        self.seen.close()
