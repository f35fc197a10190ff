"""One crawl's use of the seen store: the store object and the state its components
share, owned by one add-on.

``SeenStoreAddon`` (in ``ADDONS``) opens the store when the first component asks for
it (``seen_run_of(crawler)``) and hands every component the same ``SeenRun``: the
marker (marker.py), the filter middleware and the dedup pipeline (filter.py) and the
spider. None of them looks another up; what they share lives here, each piece with
one writer:

- ``aliases``: URLs an article was redirected from (written by the filter, taken by
  the pipeline);
- ``hints``: the date each article page's link gave (filter -> pipeline);
- ``pending``: articles the pipeline made pending (pipeline -> marker);
- ``marking``, ``run``: set by the marker once the feeds are open;
- ``write_failed`` / ``store_failed``: the crawl is stopping, nothing more is
  exported (``stopped``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawler.store import (
    RunRecord,
    SeenLock,
    SeenRecord,
    SeenStore,
    SeenStoreError,
    SqliteSeenStore,
    exported_ids,
    resolve_path,
)

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


class SeenRun:
    """The seen store of one crawl and what its components share (see above)."""

    def __init__(self, crawler: Crawler, store: SeenStore) -> None:
        self.crawler = crawler
        self.store = store
        settings = crawler.settings
        self.match_query_variants = settings.getbool("SEEN_MATCH_QUERY_VARIANTS")
        self.recrawl_updated = settings.getbool("SEEN_RECRAWL_UPDATED")
        #: the store's run id: SEEN_RUN_ID (newsites run), else started by the marker
        self.run = settings.getint("SEEN_RUN_ID")
        self.marking = False
        self.write_failed = False
        self.store_failed = False
        #: fetched URL -> URLs it was redirected from
        self.aliases: dict[str, set[str]] = {}
        #: fetched URL -> the date (UTC ISO) its link gave, until its item comes
        self.hints: dict[str, str] = {}
        #: canonical URL -> id() of the item made pending
        self.pending: dict[str, int] = {}
        self.lock: SeenLock | None = None

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    @classmethod
    def open(cls, crawler: Crawler) -> SeenRun:
        """Open the store (and lock a SQLite one unless ``newsites run`` holds the
        lock), then settle what killed crawls left pending. ``SeenStoreError``."""
        store = open_store(crawler)
        seen = cls(crawler, store)
        if not seen.run and isinstance(store, SqliteSeenStore):
            # A crawl of its own (not `newsites run`, which holds the lock already).
            try:
                seen.lock = SeenLock.acquire(Path(store.path))
            except SeenStoreError:
                store.close()
                raise
        seen.recover()
        return seen

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
                marked + discarded,
                marked,
                discarded,
            )

    # --- asking the store ----------------------------------------------------------
    def exported_earlier(
        self, url: str, date_hint: str | None, site: str
    ) -> SeenRecord | None:
        """The stored article that makes fetching ``url`` (normalized) pointless, or
        None to fetch it: new, or updated after its export (SEEN_RECRAWL_UPDATED and
        ``date_hint``, the link's date, is later). Counted: ``seen/new_url``,
        ``seen/recrawl_updated``, ``seen/skipped``. A store that fails stops the crawl
        and raises ``IgnoreRequest``."""
        from scrapy.exceptions import IgnoreRequest

        from crawler.store.filter import is_updated

        if self.stopped:
            raise IgnoreRequest("the crawl is stopping (output or seen store failed)")
        try:
            record = self.store.lookup(url, self.match_query_variants)
        except Exception as exc:  # noqa: BLE001 - the store's I/O
            self.stop_on_store_failure(exc)
            raise IgnoreRequest("the seen store failed") from exc
        if record is None:
            self.stats.inc_value("seen/new_url")
            return None
        if self.recrawl_updated and is_updated(date_hint, record):
            self.stats.inc_value("seen/recrawl_updated")
            return None
        self.stats.inc_value("seen/skipped")
        self.stats.inc_value(f"seen/skipped/{site}")
        logger.debug("Exported earlier, not fetched: %s (as %s)", url, record.url)
        return record

    # --- stopping ------------------------------------------------------------------
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
        logger.error(
            "The seen store %s failed (%s): stopping the crawl",
            self.store.path,
            exc,
            exc_info=True,
        )
        self._close_spider("seen_store_failed")

    def stop_on_write_failure(self, why: str, url: str) -> None:
        """A feed could not write a line (a full disk, a file size limit): the file
        may now end with part of it. Stop the crawl; stop marking."""
        self.stats.inc_value(f"seen/not_marked/{why}")
        self.write_failed = True
        logger.error(
            "A feed could not write %s (disk full?): not marked; stopping the crawl. "
            "Every article written whole so far is kept and marked.",
            url,
        )
        self._close_spider("feed_write_failed")

    def _close_spider(self, reason: str) -> None:
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    def close(self) -> None:
        self.store.close()
        if self.lock is not None:
            self.lock.release()


class SeenStoreAddon:
    """Add-on (``ADDONS``): the owner of the crawl's ``SeenRun`` (SEEN_ENABLED)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._run: SeenRun | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenStoreAddon:
        return cls(crawler)

    def update_settings(self, settings: Any) -> None:
        """Nothing to change: the components are listed in settings.py and stay
        off without SEEN_ENABLED."""

    @property
    def run(self) -> SeenRun:
        if self._run is None:
            self._run = SeenRun.open(self.crawler)
        return self._run


def seen_run_of(crawler: Crawler) -> SeenRun:
    """The crawl's ``SeenRun`` (opened on first use); ``NotConfigured`` without
    SEEN_ENABLED, ``SeenStoreError`` when the store is unusable."""
    if not crawler.settings.getbool("SEEN_ENABLED"):
        # bare, as Scrapy's own components do when a setting switches them off: a
        # message would make Scrapy log "Disabled ..." as a warning on every crawl
        raise NotConfigured
    addon = crawler.get_addon(SeenStoreAddon)
    if addon is None:
        raise NotConfigured
    return addon.run
