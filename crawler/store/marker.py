"""Open the crawl's seen store and mark each article exported once its line is on disk.

``SeenMarker`` owns the store for the whole crawl (the seen filter and the dedup
pipeline reach it through ``crawler.get_extension(SeenMarker)``). It looks at the
feeds and connects to ``item_scraped`` only at ``engine_started``, which Scrapy sends
after every ``from_crawler`` and every ``spider_opened`` handler: by then the
FeedExporter has opened its feeds, and, connected to ``item_scraped`` in its
``from_crawler``, it writes each item before the marker sees it (pydispatch calls
receivers in connection order), whatever the extension orders are.

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
from scrapy.utils.defer import deferred_from_coro

from crawler.store import (
    RunRecord,
    SeenLock,
    SeenLockHeld,
    SeenStore,
    SeenStoreError,
    SqliteSeenStore,
    exported_ids,
    resolve_path,
)
from crawler.urls import normalize_url

logger = logging.getLogger(__name__)


def open_store(crawler: Crawler) -> SeenStore:
    """The SEEN_DB store, reset first with SEEN_RESET; SeenStoreError if unusable."""
    settings = crawler.settings
    if settings.get("SEEN_BACKEND") == "redis":  # shared by a cluster's workers
        from crawler.store.redis import RedisSeenStore

        return RedisSeenStore.from_settings(settings)
    value = settings.get("SEEN_DB") or ""
    if not value:
        raise SeenStoreError("SEEN_DB is empty: set the path of the seen store")
    return SqliteSeenStore.open(
        resolve_path(value),
        reset=settings.getbool("SEEN_RESET"),
        durable=settings.getbool("SEEN_FSYNC"),
    )


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

    def __init__(self, crawler: Crawler, store: SeenStore) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = store
        self.fsync = crawler.settings.getbool("SEEN_FSYNC")
        self.run = crawler.settings.getint("SEEN_RUN_ID")
        self._own_run = False
        self.marking = False
        self.write_failed = False
        self.store_failed = False
        self.feeds: FeedExporter | None = None
        self._counts: dict[int, int] = {}
        #: fetched URL -> URLs it was redirected from (filled by the seen filter)
        self.aliases: dict[str, set[str]] = {}
        #: canonical URL -> id() of the item the dedup pipeline made pending
        self.pending: dict[str, int] = {}
        self._lock: SeenLock | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenMarker:
        if not crawler.settings.getbool("SEEN_ENABLED"):
            raise NotConfigured
        _check_feeds(crawler)
        try:
            store = open_store(crawler)
        except SeenStoreError as exc:
            logger.critical("Seen store error: %s", exc)
            raise
        ext = cls(crawler, store)
        if not ext.run and isinstance(store, SqliteSeenStore):
            # A crawl of its own (not `newsites run`, which holds the lock already).
            try:
                ext._lock = SeenLock.acquire(Path(store.path))
            except SeenStoreError as exc:
                store.close()
                logger.critical("Seen store error: %s", exc)
                raise
        ext.recover()
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_error)
        return ext

    def recover(self) -> None:
        """Settle articles a killed crawl left pending (looked up in its outputs)."""

        def ids(run: RunRecord | None) -> set[str]:
            return exported_ids(run.outputs) if run is not None else set()

        marked, discarded = self.store.resolve_pending(ids)
        if marked or discarded:
            self.stats.inc_value("seen/recovered/marked", marked)
            self.stats.inc_value("seen/recovered/discarded", discarded)
            logger.warning(
                "Seen store: a killed crawl left %d article(s) pending: %d found in "
                "its output and marked, %d not written and forgotten",
                marked + discarded, marked, discarded,
            )

    # --- signals -------------------------------------------------------------------
    def engine_started(self) -> None:
        self.feeds = self.crawler.get_extension(FeedExporter)
        slots = self.feeds.slots if self.feeds is not None else []
        outputs = [
            str(Path(slot.storage.path).resolve())
            for slot in slots if isinstance(slot.storage, FileFeedStorage)
        ]
        if not slots:
            logger.warning(
                "Seen store %s: no FEEDS output (-o/-O) configured, so nothing will be "
                "marked exported; seen articles are still skipped", self.store.path,
            )
        self.marking = bool(slots)
        self._counts = {id(slot): slot.itemcount for slot in slots}
        if self.run:
            if outputs:
                self.store.set_run_outputs(self.run, outputs)
        else:
            self.run = self.store.start_run(outputs)
            self._own_run = True
        # Connected now, after every from_crawler (FeedExporter's included): the
        # feeds write an item before it is marked.
        self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def item_scraped(self, item: Any) -> None:
        if not self.marking or self.feeds is None:
            return
        url = ItemAdapter(item).get("url") or ""
        accepted = [slot for slot in self.feeds.slots if slot.filter.accepts(item)]
        written = True
        for slot in accepted:
            before = self._counts.get(id(slot), 0)
            self._counts[id(slot)] = slot.itemcount
            if slot.itemcount != before + 1:
                written = False
        if self.pending.pop(url, None) is None:
            self.stats.inc_value("seen/not_marked/not_pending")
            logger.error("Not marked: %s never reached the seen pipeline", url)
            return
        if not accepted:
            self.stats.inc_value("seen/not_marked/no_feed")
            self.store.discard_pending(url)
            return
        if self.stopped:
            # After a failed write the output, not the store, is the truth: left
            # pending, settled from the output (`newsites run` does it at once).
            self.stats.inc_value("seen/not_marked/after_write_failure")
            return
        if not written:
            self._stop_on_write_failure("export_failed", url)
            return
        try:
            for slot in accepted:
                if slot.file is not None:
                    slot.file.flush()
                    if self.fsync:
                        os.fsync(slot.file.fileno())
        except (OSError, ValueError, AttributeError):
            logger.debug("Flushing the feeds failed", exc_info=True)
            self._stop_on_write_failure("flush_failed", url)
            return
        try:
            marked = self.store.mark_exported(url)
        except Exception as exc:  # noqa: BLE001 - the store's I/O (a full disk)
            # Its line is written and it stays pending: settled from the output.
            self.stop_on_store_failure(exc)
            return
        if marked is None:
            self.stats.inc_value("seen/not_marked/not_pending")
            logger.error("Not marked: %s was no longer pending in the store", url)
            return
        self.stats.inc_value("seen/marked")

    @property
    def stopped(self) -> bool:
        """True once a feed or the store failed: nothing more is exported."""
        return self.write_failed or self.store_failed

    def stop_on_store_failure(self, exc: BaseException) -> None:
        """The store cannot be read or written mid-crawl: stop (once, loudly)."""
        self.stats.inc_value("seen/store_failed")
        if self.store_failed:
            return
        self.store_failed = True
        logger.error("The seen store %s failed (%s): stopping the crawl",
                     self.store.path, exc, exc_info=True)
        deferred_from_coro(
            self.crawler.engine.close_spider_async(reason="seen_store_failed")
        )

    def _stop_on_write_failure(self, why: str, url: str) -> None:
        """A feed could not write a line (a full disk, a file size limit): the file
        may now end with part of it. Stop the crawl; stop marking."""
        self.stats.inc_value(f"seen/not_marked/{why}")
        self.write_failed = True
        logger.error(
            "A feed could not write %s (disk full?): not marked; stopping the crawl. "
            "Every article written whole so far is kept and marked.", url,
        )
        deferred_from_coro(
            self.crawler.engine.close_spider_async(reason="feed_write_failed")
        )

    def item_dropped(self, item: Any) -> None:
        """A later pipeline dropped (or failed on) an item made pending: forget it."""
        adapter = ItemAdapter(item)
        url = adapter.get("url")
        if adapter.get("source_url"):
            self.aliases.pop(normalize_url(adapter["source_url"]), None)
        if url and self.pending.get(url) == id(item):
            del self.pending[url]
            try:
                self.store.discard_pending(url)
            except Exception as exc:  # noqa: BLE001 - left pending: settled later
                self.stop_on_store_failure(exc)
                return
            self.stats.inc_value("seen/pending_discarded")

    def spider_closed(self, reason: str) -> None:
        try:
            if self._own_run:
                self.store.finish_run(self.run, reason)
            self.stats.set_value("seen/store_articles", self.store.counts()["articles"])
        except Exception as exc:  # noqa: BLE001 - a full disk; the next start settles
            logger.error("Cannot finish the run in the seen store: %s", exc)
        self.store.close()
        if self._lock is not None:
            self._lock.release()
