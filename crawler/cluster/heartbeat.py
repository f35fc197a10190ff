"""Each worker's heartbeat: renew leases, recover dead workers' requests, tell "done".

Every CLUSTER_HEARTBEAT_SECONDS the extension renews the leases this worker holds,
puts requests whose lease expired (their worker died) back in the queue, releases
leases the engine has finished with but no release path saw, and wakes the engine
so that an idle worker picks up requests other workers queued.

A worker stays open while the run has work anywhere: when Scrapy finds it idle it
asks Redis, in one atomic snapshot, whether any request is queued or leased or any
worker is still seeding; only when none is does it close with reason ``finished``
and mark the run done (``newsites cluster status`` reads it).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.cluster.addon import cluster_of
from crawler.cluster.leases import RunLost

logger = logging.getLogger(__name__)


class ClusterHeartbeat:
    """Extension: the heartbeat loop and the shared idle/finish decision."""

    def __init__(self, crawler: Crawler) -> None:
        cluster = cluster_of(crawler)
        self.crawler = crawler
        self.stats = crawler.stats
        self.book = cluster.book
        self.interval = cluster.cfg.heartbeat_seconds
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterHeartbeat:
        return cls(crawler)

    def spider_opened(self) -> None:
        self.book.renew()  # enters the run (creates its marker if first)
        logger.info(
            "Cluster worker %s joined run %s",
            self.book.config.worker_id,
            self.book.config.run_id,
        )
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(self.interval, now=False)

    def beat(self) -> None:
        try:
            self.sweep()
            self.book.renew()
            self.book.requeue_expired()
        except RunLost as exc:
            self.run_lost(str(exc))
            return
        except Exception:  # noqa: BLE001 - Redis I/O boundary; the next beat retries
            self.stats.inc_value("cluster/heartbeat_errors")
            logger.error("Cluster heartbeat failed", exc_info=True)
            return
        self.wake_engine()

    def run_lost(self, why: str) -> None:
        """Stop at once: the run's data is gone, so "finished" can never be told."""
        if self.stats.get_value("cluster/run_lost"):
            return
        self.stats.set_value("cluster/run_lost", 1)
        logger.error("Stopping: %s", why)
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        assert self.crawler.engine is not None
        deferred_from_coro(
            self.crawler.engine.close_spider_async(reason="cluster_run_lost")
        )

    def sweep(self) -> None:
        """Release leases of requests the engine has finished with (no path saw it)."""
        slot: Any = getattr(self.crawler.engine, "_slot", None)
        inprogress = getattr(slot, "inprogress", None)
        if inprogress is None:  # engine closing, or a Scrapy without this attribute
            return
        for token, request in list(self.book.held.items()):
            # busy: its callback or items are still being handled (items may wait
            # on pipelines, e.g. a claim retried through a Redis outage)
            if request not in inprogress and token not in self.book.busy:
                self.book.release(token, "sweep")

    def wake_engine(self) -> None:
        # Scrapy polls an idle scheduler every 5 s; a shared queue fills from other
        # processes, so ask for requests on every beat instead.
        slot: Any = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and getattr(slot, "nextcall", None) is not None:
            slot.nextcall.schedule()

    def spider_idle(self) -> None:
        self.sweep()
        self.book.requeue_expired()
        snapshot = self.book.snapshot(mark_done=True)
        if snapshot.run_lost:
            self.run_lost(
                f"the keys of run {self.book.config.run_id} are gone from Redis "
                "(restarted without persistence, or cleared)"
            )
            raise DontCloseSpider("closing: the run's data is gone")
        if snapshot.finished:
            self.stats.set_value("cluster/finished", 1)
            if snapshot.missing:
                self.stats.set_value("cluster/incomplete", snapshot.missing)
                logger.error(
                    "Run %s ended short: %d article(s) claimed and never written, "
                    "%d request(s) given up after CLUSTER_MAX_REQUEUES",
                    self.book.config.run_id,
                    snapshot.unwritten,
                    snapshot.given_up,
                )
                return
            logger.info(
                "Run %s finished: nothing queued, leased or seeding",
                self.book.config.run_id,
            )
            return
        self.stats.inc_value("cluster/idle_waits")
        raise DontCloseSpider(
            f"run has work: {snapshot.queued} queued, {snapshot.leased} leased, "
            f"{snapshot.seeding} seeding"
        )

    def spider_closed(self, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        try:
            self.book.leave()
        except Exception:  # noqa: BLE001 - Redis I/O boundary at shutdown
            logger.warning("Could not unregister worker from Redis", exc_info=True)
