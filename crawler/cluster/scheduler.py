"""scrapy-redis's scheduler, made safe for several workers and dead ones.

What changes from ``scrapy_redis.scheduler.Scheduler`` (see docs/cluster.md):

- enqueue is one atomic script: fingerprint into the dupefilter and request into the
  queue together, so a worker killed in between loses nothing;
- pop moves the request to the run's in-flight book under a lease
  (``crawler.cluster.leases``) instead of deleting it;
- requests wait in one queue per host, and pop skips a host that already has as
  many leases in flight as its politeness lets the run fetch soon;
- a retry or redirect carrying a lease ends that lease once it is itself queued;
- closing never flushes the shared queue and dupefilter; it hands this worker's
  unfinished requests back to the queue;
- stats calls without the deprecated ``spider=`` argument.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.spiders import Spider
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.cluster.addon import ClusterAddon, cluster_of
from crawler.cluster.config import ClusterConfigError, redacted, ride_out_outages
from crawler.cluster.leases import LEASE_META, LeaseBook

#: ``request.meta`` flag of a request put back unsent (``crawler.cluster.politeness``):
#: its fingerprint is already in the dupefilter, so this one enqueue skips it.
RESCHEDULED_META = "cluster_rescheduled"

logger = logging.getLogger(__name__)


class ClusterScheduler(RedisScheduler):
    """The shared frontier of a run: priority queue + dupefilter + leases in Redis."""

    book: LeaseBook
    cluster: ClusterAddon

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        try:
            cluster = cluster_of(crawler)
        except NotConfigured as exc:
            raise ClusterConfigError(
                "ClusterScheduler needs cluster mode: set CLUSTER_REDIS_URL and "
                "CLUSTER_RUN_ID instead of SCHEDULER"
            ) from exc
        try:
            instance: ClusterScheduler = super().from_settings(crawler.settings)
        except Exception as exc:  # redis raises ConnectionError, TimeoutError...
            raise ClusterConfigError(
                "cannot reach Redis at CLUSTER_REDIS_URL="
                f"{redacted(cluster.cfg.redis_url)}: {exc}"
            ) from exc
        ride_out_outages(instance.server, cluster.cfg.retry_seconds)
        instance.stats = crawler.stats
        instance.book = cluster.book
        instance.cluster = cluster
        instance.crawler = crawler
        return instance

    def open(self, spider: Spider) -> None:
        super().open(spider)
        queued = self.book.queued()
        if queued:
            self.stats.set_value("cluster/queued_at_open", queued)

    def close(self, reason: str) -> None:
        # SCHEDULER_PERSIST is forced on; the run's keys are cleared by
        # `newsites cluster clear`, never by one worker leaving.
        returned = self.book.give_back()
        if returned:
            logger.info(
                "Handed %d unfinished requests back to the shared queue", returned
            )

    def enqueue_request(self, request: Request) -> bool:
        replaces = request.meta.pop(LEASE_META, None) or ""
        rescheduled = request.meta.pop(RESCHEDULED_META, False)
        fingerprint = (
            ""
            if request.dont_filter or rescheduled
            else self.df.request_fingerprint(request)
        )
        host = (urlparse_cached(request).hostname or "").lower()
        data = self.queue._encode_request(request)
        added = self.book.enqueue(
            data,
            -request.priority,
            fingerprint,
            replaces,
            host=host,
            cap=self.cluster.lease_cap(host),
        )
        if not added:
            self.df.log(request, self.spider)
            self.stats.inc_value("dupefilter/filtered")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        popped = self.book.pop()
        if popped is None:
            return None
        data, token = popped
        request: Request = self.queue._decode_request(data)
        request.meta[LEASE_META] = token
        self.book.hold(token, request)
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return self.book.has_queued()

    def __len__(self) -> int:
        return self.book.queued()
