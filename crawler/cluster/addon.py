"""The Scrapy add-on that switches cluster mode on when CLUSTER_REDIS_URL is set.

Listed in ``ADDONS`` by crawler/settings.py; without a Redis URL it disables itself
and the crawl is the single-machine one. With a URL it installs the scrapy-redis
scheduler and dupefilter under the run's key prefix, the lease middlewares, the
heartbeat extension and the shared politeness middleware, and it turns Scrapy's
per-process delays into cluster-wide ones. It also owns the run-time objects the
components share (Redis client, lease book, host limits): one per crawler, no
module state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from crawler.cluster.config import (
    ClusterConfig,
    ClusterConfigError,
    connect,
    missing_extra_message,
    ride_out_outages,
)

if TYPE_CHECKING:
    from redis import Redis

    from crawler.cluster.leases import LeaseBook

# Settings cluster mode cannot work without: set above command-line priority.
_FORCE = "cmdline"


@dataclass(frozen=True)
class HostLimit:
    """Cluster-wide politeness for a host: seconds between starts, requests at once."""

    delay: float
    concurrency: int


class ClusterAddon:
    """Turn a crawl into one worker of the run named by CLUSTER_RUN_ID."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.config: ClusterConfig | None = None
        self.host_limits: dict[str, HostLimit] = {}
        self.default_limit = HostLimit(0.0, 1)
        self._server: Redis | None = None
        self._book: LeaseBook | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterAddon:
        return cls(crawler)

    # --- settings ------------------------------------------------------------------
    def update_settings(self, settings: BaseSettings) -> None:
        config = ClusterConfig.from_settings(settings)
        if config is None:
            raise NotConfigured  # no Redis URL: the single-machine crawl, untouched
        try:
            import redis  # noqa: F401
            import scrapy_redis  # noqa: F401
        except ImportError as exc:
            raise ClusterConfigError(missing_extra_message(exc)) from exc
        self.config = config
        keys = config.keys
        for name, value in {
            "SCHEDULER": "crawler.cluster.scheduler.ClusterScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": keys.queue,
            "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
            # Never wipe the shared queue when one worker closes (scrapy-redis's
            # default does, and the others then fetch everything again).
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_FLUSH_ON_START": False,
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
            "REDIS_URL": config.redis_url,
        }.items():
            settings.set(name, value, priority=_FORCE)
        # Outermost on both sides: they see a request's final outcome.
        settings["SPIDER_MIDDLEWARES"].set(
            "crawler.cluster.release.ReleaseAfterCallbackMiddleware",
            10,
            priority=_FORCE,
        )
        settings["SPIDER_MIDDLEWARES"].set(
            "crawler.cluster.seeding.SeedingMiddleware", 11, priority=_FORCE
        )
        settings["DOWNLOADER_MIDDLEWARES"].set(
            "crawler.cluster.release.ReleaseOnFailureMiddleware", 10, priority=_FORCE
        )
        # Last pipeline: after every drop, before the feeds write the item.
        settings["ITEM_PIPELINES"].set(
            "crawler.cluster.claims.ClusterClaimPipeline", 950, priority=_FORCE
        )
        settings["EXTENSIONS"].set(
            "crawler.cluster.heartbeat.ClusterHeartbeat", 950, priority=_FORCE
        )
        if config.shared_politeness:
            self._share_politeness(settings)

    def _share_politeness(self, settings: BaseSettings) -> None:
        """Move every delay and per-host concurrency from Scrapy's slots to Redis.

        The site files' values (already in DOWNLOAD_SLOTS, set by the spider) and
        DOWNLOAD_DELAY / CONCURRENT_REQUESTS_PER_DOMAIN for other hosts become
        cluster-wide limits; each process then sends without a delay of its own.
        AutoThrottle adapts one process's delay only, so it is off in cluster mode.
        """
        self.default_limit = HostLimit(
            settings.getfloat("DOWNLOAD_DELAY"),
            max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")),
        )
        slots: dict[str, Any] = dict(settings.getdict("DOWNLOAD_SLOTS"))
        local: dict[str, Any] = {}
        for host, conf in slots.items():
            self.host_limits[host.lower()] = HostLimit(
                float(conf.get("delay", self.default_limit.delay)),
                max(1, int(conf.get("concurrency", self.default_limit.concurrency))),
            )
            local[host] = {**conf, "delay": 0.0, "randomize_delay": False}
        settings.set("DOWNLOAD_SLOTS", local, priority=_FORCE)
        settings.set("DOWNLOAD_DELAY", 0.0, priority=_FORCE)
        settings.set("RANDOMIZE_DOWNLOAD_DELAY", False, priority=_FORCE)
        settings.set("AUTOTHROTTLE_ENABLED", False, priority=_FORCE)
        # Its per-process floors would add a local wait after the shared one; the
        # shared middleware applies robots.txt Crawl-delay cluster-wide instead.
        settings.set("CRAWL_DELAY_ENABLED", False, priority=_FORCE)
        settings["DOWNLOADER_MIDDLEWARES"].set(
            "crawler.cluster.politeness.SharedPolitenessMiddleware",
            990,
            priority=_FORCE,
        )

    def limit_for(self, host: str) -> HostLimit:
        return self.host_limits.get(host.lower(), self.default_limit)

    def lease_cap(self, host: str) -> int:
        """The most leases ``host`` may have in flight across the run (0: no cap):
        what its delay lets the cluster fetch in CLUSTER_LEASE_AHEAD_SECONDS,
        ``ceil(ahead / delay)``. More would sit in workers waiting for the host's
        turn while other sites' requests wait in the queue. No cap without a delay
        or without shared politeness (each process then keeps its own delay)."""
        ahead = self.cfg.lease_ahead_seconds
        delay = self.limit_for(host).delay
        if not self.cfg.shared_politeness or ahead <= 0 or delay <= 0:
            return 0
        return max(1, math.ceil(ahead / delay))

    def raise_delay(self, host: str, delay: float) -> bool:
        """Make ``host``'s delay at least ``delay`` (robots.txt Crawl-delay)."""
        limit = self.limit_for(host)
        if delay <= limit.delay:
            return False
        self.host_limits[host.lower()] = HostLimit(delay, limit.concurrency)
        return True

    # --- run-time objects ------------------------------------------------------------
    @property
    def cfg(self) -> ClusterConfig:
        """The cluster settings (cluster mode is on wherever this is used)."""
        if self.config is None:
            raise NotConfigured("cluster mode is off")
        return self.config

    @property
    def server(self) -> Redis:
        if self._server is None:
            self._server = ride_out_outages(
                connect(self.cfg.redis_url), self.cfg.retry_seconds
            )
        return self._server

    @property
    def book(self) -> LeaseBook:
        if self._book is None:
            from crawler.cluster.leases import LeaseBook

            assert self.crawler.stats is not None
            self._book = LeaseBook(self.server, self.cfg, self.crawler.stats)
        return self._book


def cluster_of(crawler: Crawler) -> ClusterAddon:
    """The crawler's cluster add-on; ``NotConfigured`` when cluster mode is off."""
    addon = crawler.get_addon(ClusterAddon)
    if addon is None or addon.config is None:
        raise NotConfigured("cluster mode is off (CLUSTER_REDIS_URL is empty)")
    return addon
