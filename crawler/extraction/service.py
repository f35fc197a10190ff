"""Where extraction runs for the spider: a pool of worker processes, or inline.

With ``EXTRACT_WORKERS`` > 0 (default: one per CPU) every page goes to a
``WorkerPool`` as its response arrives; the spider's ``await`` is bridged to the
reactor by a Deferred fired from the pool's feeder thread, so downloading, link
parsing and writing never wait on trafilatura, and every core extracts. A page that
kills or hangs its worker costs that page only: it fails with
``ExtractionError("crashed")`` or ``ExtractionError("timeout")``, which the spider
counts as ``extract/crashed`` / ``extract/timeout`` like any other reason, and the
worker is replaced. ``EXTRACT_WORKERS = 0`` runs ``extract_page`` in the callback.

In-flight work is bounded (``EXTRACT_MAX_PENDING``): when full, the callback waits,
its response stays in Scrapy's scraper slot, and once that slot holds
``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` bytes the engine stops taking new requests, so
downloads slow to what extraction can take instead of piling up in memory.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.python.failure import Failure

from crawler.extraction.page import ExtractedPage, ExtractionError
from crawler.extraction.pool import (
    PoolBroken,
    PoolConfig,
    WorkerCrashed,
    WorkerPool,
    WorkerTimeout,
)
from crawler.sites import SiteConfig

logger = logging.getLogger(__name__)

# Small pages that run every stage of ``extract_page`` once, in each new worker.
_WARMUP_ARTICLE = (
    '<html lang="en"><head><title>Warm-up page - Example</title>'
    '<meta property="article:published_time" content="2024-01-02T03:04:05+00:00">'
    "</head><body><article><h1>Warm-up page</h1><p>By Ada Lovelace</p>"
    + "<p>The harbour council said the sea wall would be repaired before winter, "
    "after engineers found storm damage along the old pier and the ferry quay.</p>"
    * 6
    + "</article></body></html>"
)
# Text in a bare <div>: trafilatura's fast pass finds too little, so the full pass
# runs with its fallbacks, which load justext's stoplists of every language (89 ms,
# 14 MB): measured, a worker otherwise loads them on one of its first real pages.
_WARMUP_FALLBACK = (
    '<html lang="en"><head><title>Warm-up fallback - Example</title></head><body>'
    "<div>"
    "The harbour council said the sea wall would be repaired before winter, after "
    "engineers found storm damage along the old pier and the ferry quay.</div>"
    "<div><a href='/'>Home</a></div></body></html>"
)


#: Imported by the workers (and preloaded in the fork server), never by the crawler.
EXTRACTOR_MODULE = "crawler.extraction.extractor"
#: The pool's target, by name: a worker imports the extractor and what it needs, not
#: this module (which imports Scrapy and Twisted, ~22 MB a worker).
WORKER_TARGET = f"{EXTRACTOR_MODULE}:extract_page"
#: Run once in each new worker, so its first real pages pay no lazy set-up: every
#: stage of ``extract_page`` (trafilatura's fast pass, then its full pass with
#: fallbacks, htmldate, lxml's parsers). Not py3langid's model (74 MB and 0.6 s a
#: worker): it is loaded only by a worker that meets a page of no declared language.
WARMUP_TASKS: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...] = (
    ((_WARMUP_ARTICLE, "http://warm-up.invalid/a"), {"min_words": 10}),
    ((_WARMUP_FALLBACK, "http://warm-up.invalid/b"), {"min_words": 10}),
)


def extract_page(*args: Any, **kwargs: Any) -> ExtractedPage:
    """``extractor.extract_page`` in this process (no pool, or a broken one),
    imported on first use, so a crawl whose pool works never loads trafilatura
    here."""
    from crawler.extraction.extractor import extract_page as extract

    return extract(*args, **kwargs)


def pool_config(settings: BaseSettings) -> PoolConfig:
    """The pool's configuration from ``EXTRACT_*`` settings (``NotConfigured`` at 0)."""
    workers = settings.getint("EXTRACT_WORKERS")
    if workers < 0:
        workers = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1)
        )
    if workers == 0:
        raise NotConfigured("EXTRACT_WORKERS is 0: extraction runs in the callback")
    try:
        return PoolConfig(
            workers=workers,
            timeout=settings.getfloat("EXTRACT_TIMEOUT"),
            memory_mb=settings.getint("EXTRACT_WORKER_MEMORY_MB"),
            max_tasks=settings.getint("EXTRACT_WORKER_MAX_TASKS"),
            trim_budget=settings.getfloat("EXTRACT_WORKER_TRIM_BUDGET"),
            start_method=settings.get("EXTRACT_START_METHOD"),
        )
    except ValueError as exc:
        raise ValueError(f"EXTRACT_* settings: {exc}") from exc


class ExtractionService:
    """Runs ``extract_page`` for the spider, in worker processes or inline."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.pool: WorkerPool | None = None
        try:
            config = pool_config(settings)
        except NotConfigured:
            return
        self.pool = WorkerPool(
            WORKER_TARGET,
            config,
            warmup_tasks=WARMUP_TASKS,
            on_event=self._on_event,
            preload=[EXTRACTOR_MODULE],
        )
        # Two tasks sit in each worker (one running, one next); one more per worker
        # waits in the queue, so a worker never waits for the reactor to send more.
        pending = settings.getint("EXTRACT_MAX_PENDING") or 3 * config.workers
        self.slots = DeferredSemaphore(max(pending, config.workers))
        # Start now (the spider may build this service in its spider_opened handler,
        # too late to hear that signal); workers start in the feeder threads.
        self.pool.start()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionService:
        return cls(crawler)

    # --- life ---------------------------------------------------------------------
    async def spider_closed(self) -> None:
        """Stop the workers in a thread; the spider is closed when they are gone."""
        from twisted.internet.threads import deferToThread

        if self.pool is not None:
            workers = self.pool.config.workers
            self.crawler.stats.set_value("extract_pool/workers", workers)
            await maybe_deferred_to_future(deferToThread(self.pool.close))

    def _on_event(self, name: str) -> None:
        """A pool event (feeder thread) becomes ``extract_pool/workers_<name>``."""
        from twisted.internet import reactor

        reactor.callFromThread(  # type: ignore[attr-defined]
            self.crawler.stats.inc_value, f"extract_pool/workers_{name}"
        )

    # --- work ---------------------------------------------------------------------
    async def extract(
        self, body: bytes, url: str, site: SiteConfig, **options: Any
    ) -> ExtractedPage:
        """``extract_page(body, url, site, **options)``; raises ``ExtractionError``."""
        if self.pool is None or self.pool.broken:
            return extract_page(body, url, site, **options)
        if self.slots.tokens == 0:  # back-pressure: the pool is full
            self.crawler.stats.inc_value("extract_pool/waited")
        await maybe_deferred_to_future(self.slots.acquire())
        try:
            future = self.pool.submit(body, url, site, **options)
            return await maybe_deferred_to_future(_deferred_from_future(future))
        except WorkerCrashed as exc:
            logger.warning("Extraction worker crashed on %s: %s", url, exc)
            raise ExtractionError("crashed", str(exc)) from exc
        except WorkerTimeout as exc:
            logger.warning("Extraction timed out on %s: %s", url, exc)
            raise ExtractionError("timeout", str(exc)) from exc
        except PoolBroken:
            # Counted (extract_pool/workers_broken) and logged as an error by the pool;
            # the crawl goes on with extraction in this process.
            return extract_page(body, url, site, **options)
        finally:
            self.slots.release()


def _deferred_from_future(future: Future[Any]) -> Deferred[Any]:
    """A Deferred fired in the reactor thread when ``future`` (any thread) is done."""
    from twisted.internet import reactor

    d: Deferred[Any] = Deferred()

    def fire(done: Future[Any]) -> None:
        exc = done.exception()
        if exc is None:
            d.callback(done.result())
        else:
            d.errback(Failure(exc))

    future.add_done_callback(
        lambda done: reactor.callFromThread(fire, done)  # type: ignore[attr-defined]
    )
    return d
