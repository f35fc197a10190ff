"""scrapy-redis's scheduler, made safe for several workers and dead ones.

What changes from ``scrapy_redis.scheduler.Scheduler`` (see docs/cluster.md):

- enqueue is one atomic script: fingerprint into the dupefilter and request into the
  queue together, so a worker killed in between loses nothing;
- pop moves the request to the run's in-flight book under a lease
  (``crawler.cluster.leases``) instead of deleting it;
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
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.cluster.addon import cluster_of
from crawler.cluster.config import ClusterConfigError, redacted, ride_out_outages
from crawler.cluster.leases import LEASE_META, LeaseBook

logger = logging.getLogger(__name__)


class ClusterScheduler(RedisScheduler):
    """The shared frontier of a run: priority queue + dupefilter + leases in Redis."""

    book: LeaseBook

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
        instance.crawler = crawler
        return instance

    def open(self, spider: Spider) -> None:
        super().open(spider)
        queued = len(self.queue)
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
        fingerprint = (
            "" if request.dont_filter else self.df.request_fingerprint(request)
        )
        data = self.queue._encode_request(request)
        added = self.book.enqueue(data, -request.priority, fingerprint, replaces)
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
        return len(self.queue) > 0
