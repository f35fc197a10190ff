"""Cluster settings read once into ``ClusterConfig``; the Redis key names of a run."""

from __future__ import annotations

import math
import os
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from scrapy.settings import BaseSettings

if TYPE_CHECKING:
    from redis import Redis

#: Every key of every run starts with this, so a shared Redis stays readable.
KEY_ROOT = "newsites"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ClusterConfigError(ValueError):
    """Cluster settings are unusable; the message names the setting and the fix."""


def missing_extra_message(exc: ImportError) -> str:
    return (
        f"cluster mode needs the redis extra ({exc.name or exc} is not installed): "
        "pip install 'newsites[redis]'"
    )


@dataclass(frozen=True)
class RunKeys:
    """The Redis keys of one run (``newsites:<run id>:...``)."""

    run_id: str

    @property
    def prefix(self) -> str:
        return f"{KEY_ROOT}:{self.run_id}:"

    @property
    def queue(self) -> str:
        """scrapy-redis's queue key (``SCHEDULER_QUEUE_KEY``), left empty: requests
        wait in one queue per host (``host_queue``), so one slow site cannot take
        every lease."""
        return self.prefix + "requests"

    @property
    def host_queue_prefix(self) -> str:
        """``host_queue(host)`` is this + the host name."""
        return self.prefix + "requests:"

    def host_queue(self, host: str) -> str:
        """Sorted set of the serialized requests to ``host``, by score (-priority)."""
        return self.host_queue_prefix + host

    @property
    def queued_hosts(self) -> str:
        """Sorted set host -> best score of its queue: every host with queued work."""
        return self.prefix + "queued_hosts"

    @property
    def inflight_host(self) -> str:
        """Hash lease token -> host of the leased request."""
        return self.prefix + "inflight_host"

    @property
    def host_leased(self) -> str:
        """Hash host -> leases in flight for it (every worker of the run)."""
        return self.prefix + "host_leased"

    @property
    def host_caps(self) -> str:
        """Hash host -> most leases it may have in flight (0: no cap), from
        CLUSTER_LEASE_AHEAD_SECONDS and its delay; written on every enqueue."""
        return self.prefix + "host_caps"

    @property
    def dupefilter(self) -> str:
        """Set of request fingerprints ever enqueued in this run."""
        return self.prefix + "dupefilter"

    @property
    def inflight(self) -> str:
        """Hash lease token -> serialized request, for requests popped by a worker."""
        return self.prefix + "inflight"

    @property
    def inflight_score(self) -> str:
        """Hash lease token -> the request's queue score, to put it back in place."""
        return self.prefix + "inflight_score"

    @property
    def leases(self) -> str:
        """Sorted set lease token -> deadline (Redis clock, seconds)."""
        return self.prefix + "leases"

    @property
    def requeues(self) -> str:
        """Hash sha1(request) -> how many times an expired lease put it back."""
        return self.prefix + "requeues"

    @property
    def seeding(self) -> str:
        """Sorted set worker id -> deadline, while that worker's start() runs."""
        return self.prefix + "seeding"

    @property
    def workers(self) -> str:
        """Hash worker id -> last heartbeat (Redis clock)."""
        return self.prefix + "workers"

    @property
    def counters(self) -> str:
        """Hash of run-wide counters (requeued, dropped, finished_by...)."""
        return self.prefix + "counters"

    @property
    def done(self) -> str:
        """Set when a worker found the run finished; deleted by any new request."""
        return self.prefix + "done"

    @property
    def marker(self) -> str:
        """Set by the first worker of the run and never deleted but by ``cluster
        clear``: a live worker that finds it gone knows Redis lost the run's data."""
        return self.prefix + "marker"

    @property
    def claims(self) -> str:
        """Hash article id -> lease token of its writer, or ``written``."""
        return self.prefix + "claims"

    @staticmethod
    def host_next(host: str) -> str:
        """When the next request to ``host`` may start (shared by every run)."""
        return f"{KEY_ROOT}:hosts:{host}:next"

    @staticmethod
    def host_last(host: str) -> str:
        """When the last request to ``host`` was let out (shared by every run)."""
        return f"{KEY_ROOT}:hosts:{host}:last"

    @staticmethod
    def host_unwritten(host: str) -> str:
        """Token of the request to ``host`` let out and not yet written (expires)."""
        return f"{KEY_ROOT}:hosts:{host}:unwritten"

    @staticmethod
    def host_active(host: str) -> str:
        """Sorted set token -> expiry of the requests to ``host`` in flight."""
        return f"{KEY_ROOT}:hosts:{host}:active"


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class ClusterConfig:
    """The CLUSTER_* settings, validated."""

    redis_url: str
    run_id: str
    worker_id: str
    lease_seconds: float
    heartbeat_seconds: float
    max_requeues: int
    shared_politeness: bool
    retry_seconds: float = 0.0
    lease_ahead_seconds: float = 2.0

    @property
    def keys(self) -> RunKeys:
        return RunKeys(self.run_id)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ClusterConfig | None:
        """``None`` when CLUSTER_REDIS_URL is empty (single-machine crawl)."""
        url = (settings.get("CLUSTER_REDIS_URL") or "").strip()
        if not url:
            return None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ClusterConfigError(
                "CLUSTER_REDIS_URL must be a redis://, rediss:// or unix:// URL, "
                f"not {url!r}"
            )
        run_id = (settings.get("CLUSTER_RUN_ID") or "").strip()
        if not _RUN_ID.fullmatch(run_id):
            raise ClusterConfigError(
                "CLUSTER_RUN_ID must name the run (letters, digits, '_', '.', '-'; at "
                f"most 64), the same on every worker, e.g. 2024-05-02; got {run_id!r}"
            )
        lease = settings.getfloat("CLUSTER_LEASE_SECONDS")
        beat = settings.getfloat("CLUSTER_HEARTBEAT_SECONDS")
        if beat <= 0 or lease < 3 * beat:
            raise ClusterConfigError(
                "CLUSTER_LEASE_SECONDS must be at least 3 x CLUSTER_HEARTBEAT_SECONDS "
                f"(> 0), so a live worker always renews in time; got {lease} and {beat}"
            )
        max_requeues = settings.getint("CLUSTER_MAX_REQUEUES")
        if max_requeues < 0:
            raise ClusterConfigError(
                f"CLUSTER_MAX_REQUEUES must be >= 0, not {max_requeues}"
            )
        return cls(
            redis_url=url,
            run_id=run_id,
            worker_id=(settings.get("CLUSTER_WORKER_ID") or "").strip()
            or default_worker_id(),
            lease_seconds=lease,
            heartbeat_seconds=beat,
            max_requeues=max_requeues,
            shared_politeness=settings.getbool("CLUSTER_SHARED_POLITENESS"),
            retry_seconds=max(0.0, settings.getfloat("CLUSTER_REDIS_RETRY_SECONDS")),
            lease_ahead_seconds=max(
                0.0, settings.getfloat("CLUSTER_LEASE_AHEAD_SECONDS", 2.0)
            ),
        )


def connect(url: str, **kwargs: Any) -> Redis:
    """A Redis client (bytes replies, short timeouts); ``ClusterConfigError``."""
    try:
        import redis
    except ImportError as exc:
        raise ClusterConfigError(missing_extra_message(exc)) from exc
    options: dict[str, Any] = {
        "socket_timeout": 30,
        "socket_connect_timeout": 10,
        "health_check_interval": 30,
    }
    options.update(kwargs)
    return redis.Redis.from_url(url, **options)


def unreachable(settings: BaseSettings) -> str | None:
    """Why a cluster worker cannot start: its Redis does not answer (one line, the
    password hidden). None when it answers or cluster mode is off. Asked once, with
    no retry, before the crawl is built, where a failure would end in a traceback."""
    config = ClusterConfig.from_settings(settings)
    if config is None:
        return None
    try:
        connect(config.redis_url, socket_connect_timeout=5, socket_timeout=5).ping()
    except ClusterConfigError as exc:
        return str(exc)
    except Exception as exc:  # redis.exceptions.ConnectionError, AuthenticationError...
        return (
            f"cannot reach Redis at CLUSTER_REDIS_URL={redacted(config.redis_url)}: "
            f"{str(exc).rstrip('.')}; nothing crawled"
        )
    return None


def ride_out_outages(server: Redis, seconds: float) -> Redis:
    """Make every call of ``server`` retry connection errors and timeouts for about
    ``seconds`` (exponential back-off from 50 ms, at most 1 s apart); redis-py
    reconnects on each try. Returns ``server``."""
    if seconds <= 0:
        return server
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    cap = 1.0
    # 50 ms doubling reaches the 1-s cap after 5 tries (~1.55 s in all).
    retries = 5 + max(0, math.ceil((seconds - 1.55) / cap))
    server.set_retry(Retry(ExponentialBackoff(cap=cap, base=0.05), retries))
    return server


def redacted(url: str) -> str:
    """``url`` without its password (``redis://:***@host``), for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
