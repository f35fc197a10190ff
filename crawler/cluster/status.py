"""Read a run's state from Redis (for ``newsites cluster status``), and clear a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.cluster.config import RunKeys
from crawler.cluster.leases import QUEUED_SUM

if TYPE_CHECKING:
    from redis import Redis

# KEYS: queued_hosts, leases, seeding, dupefilter, workers, counters, done, claims,
#       marker; ARGV: host queue prefix
_READ = (
    QUEUED_SUM
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local unwritten = 0
for _, v in ipairs(redis.call('HVALS', KEYS[8])) do
  if v ~= 'written' then unwritten = unwritten + 1 end
end
return {
  tostring(now),
  queued_sum(KEYS[1], ARGV[1]),
  redis.call('ZCARD', KEYS[2]),
  redis.call('ZCOUNT', KEYS[2], '-inf', now),
  redis.call('ZCOUNT', KEYS[3], now, '+inf'),
  redis.call('SCARD', KEYS[4]),
  redis.call('HGETALL', KEYS[5]),
  redis.call('HGETALL', KEYS[6]),
  redis.call('GET', KEYS[7]) or '',
  unwritten,
  redis.call('EXISTS', KEYS[9]),
}
"""
)


#: A worker silent this long is shown as "gone?" (live workers beat every second or
#: so; a killed one is removed from the list by the others after 3 leases).
GONE_SECONDS = 60.0


@dataclass(frozen=True)
class RunStatus:
    """One consistent reading of a run (every count from the same instant)."""

    run_id: str
    queued: int
    leased: int
    expired_leases: int
    seeding: int
    requests_seen: int
    done_marked: bool
    workers: dict[str, float] = field(default_factory=dict)  # id -> seconds since beat
    counters: dict[str, int] = field(default_factory=dict)
    unwritten: int = 0  # articles claimed and not (yet) written
    marker: bool = True  # the run's marker exists (its data is in Redis)

    @property
    def started(self) -> bool:
        return self.requests_seen > 0 or self.marker

    @property
    def ended(self) -> bool:
        """A worker found nothing queued, leased or seeding, and that still holds."""
        return (
            self.marker
            and self.done_marked
            and self.queued == 0
            and self.leased == 0
            and self.seeding == 0
        )

    @property
    def missing(self) -> int:
        """What an ended run did not do: articles claimed and never written, and
        requests given up after CLUSTER_MAX_REQUEUES."""
        return self.unwritten + self.counters.get("dropped_after_requeues", 0)

    @property
    def finished(self) -> bool:
        """Ended with the books balanced: every claimed article written."""
        return self.ended and self.missing == 0

    @property
    def lost(self) -> bool:
        """Keys of the run exist without its marker: Redis lost the run's data."""
        return not self.marker and (self.requests_seen > 0 or bool(self.counters))

    @property
    def state(self) -> str:
        if self.finished:
            return "finished"
        if self.ended:
            return f"incomplete: {self.missing} missing"
        if self.lost:
            return "lost: the run's marker is gone (Redis lost the run's data?)"
        if not self.started:
            return (
                "not started (no key of this run in Redis: never started, cleared, "
                "or Redis restarted without its data)"
            )
        return "running"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state}

    def describe(self) -> str:
        c = self.counters
        workers = ", ".join(
            f"{w} ({age:.0f} s ago{'; gone?' if age > GONE_SECONDS else ''})"
            for w, age in sorted(self.workers.items())
        )
        return "\n".join(
            [
                f"run {self.run_id}: {self.state}",
                f"  queued {self.queued}, in flight {self.leased} "
                f"({self.expired_leases} with an expired lease), "
                f"workers seeding {self.seeding}",
                f"  requests seen {self.requests_seen}, re-queued after a worker died "
                f"{c.get('requeued_expired', 0)}, handed back on close "
                f"{c.get('requeued_tokens', 0)}, dropped after "
                f"CLUSTER_MAX_REQUEUES {c.get('dropped_after_requeues', 0)}",
                f"  articles written {c.get('articles_written', 0)}, claimed and not "
                f"written {self.unwritten}",
                f"  workers: {workers or 'none'}",
            ]
        )


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _pairs(flat: list[Any]) -> dict[str, str]:
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


def read_status(server: Redis, run_id: str) -> RunStatus:
    k = RunKeys(run_id)
    script = server.register_script(_READ)
    raw: list[Any] = script(
        keys=[
            k.queued_hosts,
            k.leases,
            k.seeding,
            k.dupefilter,
            k.workers,
            k.counters,
            k.done,
            k.claims,
            k.marker,
        ],
        args=[k.host_queue_prefix],
    )
    now = float(_text(raw[0]))
    workers = {w: round(now - float(t), 1) for w, t in _pairs(raw[6]).items()}
    counters = {name: int(v) for name, v in _pairs(raw[7]).items()}
    return RunStatus(
        run_id=run_id,
        queued=int(raw[1]),
        leased=int(raw[2]),
        expired_leases=int(raw[3]),
        seeding=int(raw[4]),
        requests_seen=int(raw[5]),
        done_marked=bool(_text(raw[8])),
        workers=workers,
        counters=counters,
        unwritten=int(raw[9]),
        marker=bool(int(raw[10])),
    )


def clear_run(server: Redis, run_id: str) -> int:
    """Delete every key of the run; returns how many were deleted."""
    deleted = 0
    batch: list[bytes] = []
    for key in server.scan_iter(match=RunKeys(run_id).prefix + "*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(server.unlink(*batch))
            batch.clear()
    if batch:
        deleted += int(server.unlink(*batch))
    return deleted
