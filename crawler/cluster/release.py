"""End a request's lease once the request is fully handled, on every path.

A lease may end only when nothing of the request is left to lose: its child
requests are in the shared queue and its items went through the pipelines (the
feed exporter, connected first, has flushed the JSONL line). The paths:

- a response: ``ReleaseAfterCallbackMiddleware`` (outermost spider middleware)
  queues the callback's requests itself, synchronously, counts its items, and
  releases once the callback is exhausted and every item was scraped, dropped or
  failed (item signals);
- a download that finally failed: ``ReleaseOnFailureMiddleware`` (outermost
  downloader middleware, so no retry or redirect follows);
- a retry or redirect: the scheduler, when the successor is queued;
- anything else (a middleware dropping a response): the heartbeat's sweep, once
  the engine no longer holds the request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.cluster.addon import cluster_of
from crawler.cluster.leases import LEASE_META
from crawler.store.filter import ExportedEarlier, SeenSkip

logger = logging.getLogger(__name__)


def lease_of(response: Response | None) -> str | None:
    request = getattr(response, "request", None)
    return request.meta.get(LEASE_META) if request is not None else None


class ReleaseAfterCallbackMiddleware:
    """Spider middleware: release a response's lease after its outputs are handled."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.book = cluster_of(crawler).book
        self.stats = crawler.stats
        self.pending: dict[str, int] = {}  # lease -> items not yet through pipelines
        self.exhausted: set[str] = set()  # leases whose callback output ended
        self.failed: set[str] = set()  # leases with a child or item not saved
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)

    def engine_started(self) -> None:
        # Connected now, after the feed exporter (from_crawler) and the seen marker
        # (its own engine_started handler, connected earlier): the line is written,
        # then marked exported, and only then does the lease end.
        self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        self.crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        self.crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseAfterCallbackMiddleware:
        return cls(crawler)

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        token = lease_of(response)
        if token is None or token not in self.book.held:
            async for output in result:
                yield output
            return
        self.pending[token] = 0
        self.book.busy.add(token)
        try:
            async for output in result:
                if isinstance(output, Request):
                    # A child, not this request's successor: it must not end our lease.
                    output.meta.pop(LEASE_META, None)
                    # What the scraper would do, but now: once this loop ends, every
                    # child is in the shared queue (or filtered as a duplicate).
                    self._queue_child(token, output)
                    continue
                if output is not None:
                    self.pending[token] += 1
                    self.book.item_leases[id(output)] = token
                yield output
        finally:
            self.exhausted.add(token)
            self._maybe_release(token)

    def _queue_child(self, token: str, request: Request) -> None:
        try:
            self.crawler.engine.crawl(request)
        except Exception:  # noqa: BLE001 - Redis down longer than it is retried
            # The child is not queued: the request that found it is fetched again.
            self.failed.add(token)
            self.stats.inc_value("cluster/child_not_queued")
            logger.error("Could not queue %s", request.url, exc_info=True)
            return
        self.stats.inc_value("cluster/children_queued")

    def item_scraped(self, item: Any) -> None:
        self.item_done(item, written=True)

    def item_dropped(self, item: Any, exception: BaseException | None = None) -> None:
        if isinstance(exception, ExportedEarlier):
            self._settle_exported(exception.record.id)
        self.item_done(item, written=False)

    def _settle_exported(self, article: str) -> None:
        try:
            self.book.settle_exported(article)
        except Exception:  # noqa: BLE001 - Redis down longer than it is retried
            # Left open, the claim makes the run report itself short: loud, not lost.
            logger.error("Could not settle the claim of %s", article, exc_info=True)

    def item_error(self, item: Any) -> None:
        # A pipeline failed (e.g. the claim, Redis down): the article is not written.
        token = self.book.item_leases.get(id(item))
        if token is not None:
            self.failed.add(token)
        self.item_done(item, written=False)

    def item_done(self, item: Any, written: bool) -> None:
        try:
            self.book.settle_claim(item, written)
        except Exception:  # noqa: BLE001 - Redis down longer than it is retried
            # An unsettled claim of a dead lease is taken over by the next fetch.
            logger.error("Could not settle the claim of an item", exc_info=True)
            token = self.book.item_leases.get(id(item))
            if token is not None and not written:
                self.failed.add(token)
        token = self.book.item_leases.pop(id(item), None)
        if token is None or token not in self.pending:
            return
        self.pending[token] -= 1
        self._maybe_release(token)

    def _maybe_release(self, token: str) -> None:
        if token in self.exhausted and self.pending.get(token, 0) <= 0:
            self.exhausted.discard(token)
            self.pending.pop(token, None)
            try:
                if token in self.failed:
                    self.failed.discard(token)
                    self.book.abandon(token)  # fetched again, by any worker
                else:
                    self.book.release(token, "handled")
            except Exception:  # noqa: BLE001 - Redis down longer than it is retried
                # Forgotten here, the lease expires and any worker puts it back.
                self.stats.inc_value("cluster/release_errors")
                logger.error("Could not end lease %s", token, exc_info=True)


class ReleaseOnFailureMiddleware:
    """Downloader middleware: release the lease of a download that finally failed."""

    def __init__(self, crawler: Crawler) -> None:
        self.book = cluster_of(crawler).book

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseOnFailureMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Outermost: called only when no middleware turned the failure into a retry,
        # a redirect or a response. The errback follows (ours yields nothing).
        token = request.meta.get(LEASE_META)
        if token is None:
            return
        if isinstance(exception, SeenSkip):
            # Exported already (perhaps by a worker that died before settling).
            try:
                self.book.settle_exported(exception.record.id)
            except RedisError:
                logger.error(
                    "Could not settle the claim of %s",
                    exception.record.id,
                    exc_info=True,
                )
            self.book.release(token, "exported_earlier")
            return
        if isinstance(exception, RedisError):
            # Not the site's failure: a middleware could not reach Redis (an
            # outage longer than CLUSTER_REDIS_RETRY_SECONDS). Fetch it again.
            self.book.stats.inc_value("cluster/redis_failed_requests")
            try:
                self.book.abandon(token)
            except RedisError:
                pass  # no longer renewed here: its lease expires, any worker requeues
            return
        self.book.release(token, "failed")
