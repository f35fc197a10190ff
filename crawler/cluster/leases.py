"""The run's in-flight book in Redis: pop with a lease, release, renew, requeue.

A request popped from the shared queue is not gone: it moves, in the same atomic
script, to ``inflight`` under a lease token with a deadline. Its worker renews the
lease while it works and releases it once the request is fully handled (children
enqueued, item written). When a worker dies its leases stop being renewed; any
worker then puts the requests back in the queue (at most CLUSTER_MAX_REQUEUES times
each). Every script reads the Redis clock, so workers' clocks never matter.

The queue is one sorted set per host plus an index of the hosts with queued work.
Pop takes the best-priority request among the hosts that are not busy: a host may
have at most ``ceil(CLUSTER_LEASE_AHEAD_SECONDS / its delay)`` leases in flight
across the run, what its politeness lets the cluster fetch soon, so one slow site
never holds every worker's leases while other sites wait. The per-host key names
are built inside the scripts: one Redis, not Redis Cluster (docs/cluster.md).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Request

from crawler.cluster.config import KEY_ROOT, ClusterConfig, RunKeys

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.statscollectors import StatsCollector

#: ``request.meta`` key holding the lease token of a request popped by this worker.
LEASE_META = "cluster_lease"
#: Prefix of the shared per-host keys (``newsites:hosts:<host>:next`` ...).
HOST_KEY_ROOT = f"{KEY_ROOT}:hosts:"

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# A lease held for a host: ``inflight_host`` names its host, ``host_leased`` counts
# them per host. Every script that ends a lease calls this (KEYS given by name).
_UNHOLD = """
local function unhold(inflight_host, host_leased, tok)
  local host = redis.call('HGET', inflight_host, tok)
  if host then
    redis.call('HDEL', inflight_host, tok)
    if redis.call('HINCRBY', host_leased, host, -1) <= 0 then
      redis.call('HDEL', host_leased, host)
    end
  end
  return host
end
"""

# Queue ``data`` for ``host``: into the host's queue, and the host into the index of
# hosts with queued work, at the best score of its queue.
_PUSH = """
local function push(queued_hosts, queue_prefix, host, score, data)
  redis.call('ZADD', queue_prefix .. host, score, data)
  local best = redis.call('ZSCORE', queued_hosts, host)
  if not best or tonumber(score) < tonumber(best) then
    redis.call('ZADD', queued_hosts, score, host)
  end
end
"""

# KEYS: queued_hosts, inflight, inflight_score, leases, inflight_host, host_leased,
#       host_caps
# ARGV: token, lease seconds, host queue prefix, host key root, lease-ahead seconds
# The best-priority request of the hosts that may take one more lease: a host is
# skipped while its leases in flight reach its cap ("busy") or while its next start
# is booked further ahead than the lease-ahead time ("booked": a Retry-After pause,
# another run on the host). Hosts are scanned in order of their best score, so the
# result is the best request among the hosts that are not skipped.
# Returns {data or false, host, skipped busy, skipped booked}.
_POP = (
    _NOW
    + """
local busy, booked = 0, 0
local ahead = tonumber(ARGV[5])
local offset = 0
while true do
  local hosts = redis.call('ZRANGE', KEYS[1], offset, offset + 99)
  if #hosts == 0 then break end
  for _, host in ipairs(hosts) do
    local cap = tonumber(redis.call('HGET', KEYS[7], host) or '0')
    if cap > 0 and tonumber(redis.call('HGET', KEYS[6], host) or '0') >= cap then
      busy = busy + 1
    elseif ahead > 0 and
        tonumber(redis.call('GET', ARGV[4] .. host .. ':next') or '0') > now + ahead
    then
      booked = booked + 1
    else
      local queue = ARGV[3] .. host
      local r = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
      if #r > 0 then
        redis.call('ZREM', queue, r[1])
        local rest = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
        if #rest == 0 then
          redis.call('ZREM', KEYS[1], host)
        else
          redis.call('ZADD', KEYS[1], rest[2], host)
        end
        redis.call('HSET', KEYS[2], ARGV[1], r[1])
        redis.call('HSET', KEYS[3], ARGV[1], r[2])
        redis.call('HSET', KEYS[5], ARGV[1], host)
        redis.call('HINCRBY', KEYS[6], host, 1)
        redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), ARGV[1])
        return {r[1], host, busy, booked}
      end
      redis.call('ZREM', KEYS[1], host)  -- an index entry without a queue
    end
  end
  offset = offset + 100
end
return {false, '', busy, booked}
"""
)

# KEYS: dupefilter, queued_hosts, inflight, inflight_score, leases, done,
#       inflight_host, host_leased, host_caps
# ARGV: data, score, fingerprint ('' = do not filter), token of the request this one
# replaces ('' = none; a retry or redirect: its lease ends once this one is queued),
# host queue prefix, host, the host's lease cap (0 = none)
_ENQUEUE = (
    _UNHOLD
    + _PUSH
    + """
local added = 1
if ARGV[3] ~= '' then added = redis.call('SADD', KEYS[1], ARGV[3]) end
if added == 1 then
  push(KEYS[2], ARGV[5], ARGV[6], ARGV[2], ARGV[1])
  redis.call('HSET', KEYS[9], ARGV[6], ARGV[7])
  redis.call('DEL', KEYS[6])
end
if ARGV[4] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[4])
  redis.call('HDEL', KEYS[4], ARGV[4])
  redis.call('ZREM', KEYS[5], ARGV[4])
  unhold(KEYS[7], KEYS[8], ARGV[4])
end
return added
"""
)

# KEYS: inflight, inflight_score, leases, inflight_host, host_leased; ARGV: tokens.
# Returns how many were ours.
_RELEASE = (
    _UNHOLD
    + """
local n = 0
for _, tok in ipairs(ARGV) do
  redis.call('HDEL', KEYS[1], tok)
  redis.call('HDEL', KEYS[2], tok)
  unhold(KEYS[4], KEYS[5], tok)
  n = n + redis.call('ZREM', KEYS[3], tok)
end
return n
"""
)

# KEYS: leases, workers, seeding, marker
# ARGV: lease seconds, worker id, seeding (0/1), tokens
# Returns how many leases were renewed, or -1 when the run's marker is gone (Redis
# lost the run's data): then nothing is written, so nothing of the run is recreated.
# Workers silent for 3 leases (killed) leave the list of workers.
_RENEW = (
    _NOW
    + """
if redis.call('EXISTS', KEYS[4]) == 0 then return -1 end
local until_ = now + tonumber(ARGV[1])
local beats = redis.call('HGETALL', KEYS[2])
for i = 1, #beats, 2 do
  if tonumber(beats[i + 1]) < now - 3 * tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[2], beats[i])
  end
end
redis.call('HSET', KEYS[2], ARGV[2], now)
if ARGV[3] == '1' then redis.call('ZADD', KEYS[3], until_, ARGV[2]) end
local n = 0
for i = 4, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], until_, ARGV[i])
    n = n + 1
  end
end
return n
"""
)

# KEYS: leases, inflight, inflight_score, queued_hosts, requeues, counters, done,
#       inflight_host, host_leased
# ARGV: max requeues, batch size, mode ('expired' | 'tokens' | 'failed'), host
# queue prefix, tokens
# 'expired': every lease past its deadline goes back, counted against max requeues.
# 'tokens': a closing worker hands back its own unfinished requests (not counted).
# 'failed': a worker gives back requests whose children or items it could not
# save (Redis down, a pipeline error), counted against max requeues.
# A request goes back to its host's queue, at its score.
_REQUEUE = (
    _NOW
    + _UNHOLD
    + _PUSH
    + """
local toks
if ARGV[3] == 'expired' then
  toks = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now,
                    'LIMIT', 0, tonumber(ARGV[2]))
else
  toks = {}
  for i = 5, #ARGV do toks[#toks + 1] = ARGV[i] end
end
local requeued, dropped = 0, 0
for _, tok in ipairs(toks) do
  local data = redis.call('HGET', KEYS[2], tok)
  local score = redis.call('HGET', KEYS[3], tok)
  local held = redis.call('ZREM', KEYS[1], tok)
  redis.call('HDEL', KEYS[2], tok)
  redis.call('HDEL', KEYS[3], tok)
  local host = unhold(KEYS[8], KEYS[9], tok) or ''
  if data and held == 1 then
    local n = 0
    if ARGV[3] ~= 'tokens' then
      n = redis.call('HINCRBY', KEYS[5], redis.sha1hex(data), 1)
    end
    if n <= tonumber(ARGV[1]) then
      push(KEYS[4], ARGV[4], host, score or 0, data)
      redis.call('DEL', KEYS[7])
      requeued = requeued + 1
    else
      dropped = dropped + 1
    end
  end
end
if requeued > 0 then
  redis.call('HINCRBY', KEYS[6], 'requeued_' .. ARGV[3], requeued)
end
if dropped > 0 then
  redis.call('HINCRBY', KEYS[6], 'dropped_after_requeues', dropped)
end
return {requeued, dropped}
"""
)

# Requests queued in all: the sum of the host queues in the index.
# KEYS: queued_hosts; ARGV: host queue prefix.
QUEUED_SUM = """
local function queued_sum(queued_hosts, queue_prefix)
  local q = 0
  for _, host in ipairs(redis.call('ZRANGE', queued_hosts, 0, -1)) do
    q = q + redis.call('ZCARD', queue_prefix .. host)
  end
  return q
end
"""

_QUEUED = QUEUED_SUM + "return queued_sum(KEYS[1], ARGV[1])"

# KEYS: queued_hosts, leases, seeding, done, marker, claims, counters
# ARGV: worker id, '1' to mark the run done if finished, host queue prefix.
# Atomic with every script above, so "done" is never set over new work. Returns
# queued, leased, seeding, done, marker present, and once nothing is outstanding
# the books: claims never written, requests given up.
_SNAPSHOT = (
    _NOW
    + QUEUED_SUM
    + """
if redis.call('EXISTS', KEYS[5]) == 0 then return {0, 0, 0, 0, 0, 0, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local q = queued_sum(KEYS[1], ARGV[3])
local l = redis.call('ZCARD', KEYS[2])
local s = redis.call('ZCARD', KEYS[3])
local unwritten, given_up = 0, 0
if q == 0 and l == 0 and s == 0 then
  for _, v in ipairs(redis.call('HVALS', KEYS[6])) do
    if v ~= 'written' then unwritten = unwritten + 1 end
  end
  given_up = tonumber(redis.call('HGET', KEYS[7], 'dropped_after_requeues') or '0')
  if ARGV[2] == '1' then
    redis.call('SET', KEYS[4], ARGV[1] .. ' ' .. now)
  end
end
return {q, l, s, redis.call('EXISTS', KEYS[4]), 1, unwritten, given_up}
"""
)


# KEYS: claims, counters; ARGV: article id, lease token, 'written' or '' (forget).
_SETTLE_CLAIM = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('HINCRBY', KEYS[2], 'articles_written', 1)
end
return 1
"""

# KEYS: claims, leases, counters; ARGV: article id.
# The store holds the article exported, so its line was written: a claim left by a
# worker that died between marking the article and settling its claim is settled
# as written. A claim whose lease is live is its worker's to settle.
_SETTLE_EXPORTED = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or cur == 'written' then return 0 end
if redis.call('ZSCORE', KEYS[2], cur) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'written')
redis.call('HINCRBY', KEYS[3], 'articles_written', 1)
return 1
"""


@dataclass(frozen=True)
class Snapshot:
    """The run's outstanding work at one instant."""

    queued: int
    leased: int
    seeding: int
    done_marked: bool = False
    run_lost: bool = False  # the run's marker is gone: Redis lost the run's data
    unwritten: int = 0  # claims never written (counted once nothing is outstanding)
    given_up: int = 0  # requests dropped after CLUSTER_MAX_REQUEUES

    @property
    def finished(self) -> bool:
        """True when nothing is queued, nothing leased and no worker is seeding."""
        return (
            not self.run_lost
            and self.queued == 0
            and self.leased == 0
            and self.seeding == 0
        )

    @property
    def missing(self) -> int:
        """Work the finished run did not do: articles claimed but never written,
        requests given up."""
        return self.unwritten + self.given_up


class RunLost(RuntimeError):
    """The run's marker is gone from Redis: it restarted without its data, or the
    run was cleared under a live worker. The run cannot be completed from here."""


class LeaseBook:
    """This worker's view of the run's queue, leases and counters (one per crawler)."""

    def __init__(
        self, server: Redis, config: ClusterConfig, stats: StatsCollector
    ) -> None:
        self.server = server
        self.config = config
        self.keys: RunKeys = config.keys
        self.stats = stats
        self.held: dict[str, Request] = {}
        #: id(item) -> lease of the response it came from (until the item is done)
        self.item_leases: dict[int, str] = {}
        #: id(item) -> (article id, lease) claimed by ``ClusterClaimPipeline``
        self.claims: dict[int, tuple[str, str]] = {}
        self.seeding = False
        #: leases whose callback output or items are still being handled: the
        #: heartbeat's sweep leaves them alone (``crawler.cluster.release``)
        self.busy: set[str] = set()
        self._joined = False
        #: the run's marker was found gone: write nothing more of the run
        self.lost = False
        self._tokens = (
            f"{config.worker_id}:{uuid.uuid4().hex[:8]}:{n}" for n in itertools.count()
        )
        self._pop = server.register_script(_POP)
        self._enqueue = server.register_script(_ENQUEUE)
        self._release = server.register_script(_RELEASE)
        self._renew = server.register_script(_RENEW)
        self._requeue = server.register_script(_REQUEUE)
        self._snapshot = server.register_script(_SNAPSHOT)
        self._settle_claim = server.register_script(_SETTLE_CLAIM)
        self._settle_exported = server.register_script(_SETTLE_EXPORTED)
        self._queued = server.register_script(_QUEUED)

    # --- queue ---------------------------------------------------------------------
    def enqueue(
        self,
        data: bytes,
        score: float,
        fingerprint: str,
        replaces: str,
        host: str = "",
        cap: int = 0,
    ) -> bool:
        """Add a request to its host's queue unless its fingerprint was seen; end
        the lease it replaces. ``cap``: the most leases ``host`` may have in flight
        (0: no cap), see ``ClusterAddon.lease_cap``."""
        k = self.keys
        added = self._enqueue(
            keys=[
                k.dupefilter,
                k.queued_hosts,
                k.inflight,
                k.inflight_score,
                k.leases,
                k.done,
                k.inflight_host,
                k.host_leased,
                k.host_caps,
            ],
            args=[data, score, fingerprint, replaces, k.host_queue_prefix, host, cap],
        )
        if replaces and replaces in self.held:
            # A retry or redirect of a leased request is queued: that lease is done.
            self._forget(replaces)
            self.stats.inc_value("cluster/released")
            self.stats.inc_value("cluster/released/successor_queued")
        return bool(added)

    def pop(self) -> tuple[bytes, str] | None:
        """The best-priority request among the hosts that may take one more lease,
        with a new lease token; None when nothing is queued or every host with
        queued work is busy (counted: ``cluster/lease/*``)."""
        token = next(self._tokens)
        k = self.keys
        data, _host, busy, booked = self._pop(
            keys=[
                k.queued_hosts,
                k.inflight,
                k.inflight_score,
                k.leases,
                k.inflight_host,
                k.host_leased,
                k.host_caps,
            ],
            args=[
                token,
                self.config.lease_seconds,
                k.host_queue_prefix,
                HOST_KEY_ROOT,
                self.config.lease_ahead_seconds,
            ],
        )
        if busy:
            self.stats.inc_value("cluster/lease/skipped_busy_host", int(busy))
        if booked:
            self.stats.inc_value("cluster/lease/skipped_booked_host", int(booked))
        if data is None:
            if busy or booked:
                self.stats.inc_value("cluster/lease/all_hosts_busy")
            return None
        return bytes(data), token

    def has_queued(self) -> bool:
        """True when any host has a request queued (one Redis command)."""
        return bool(self.server.zcard(self.keys.queued_hosts))

    def queued(self) -> int:
        """Requests queued in the run, all hosts together."""
        return int(
            self._queued(
                keys=[self.keys.queued_hosts], args=[self.keys.host_queue_prefix]
            )
        )

    def hold(self, token: str, request: Request) -> None:
        self.held[token] = request
        self.stats.inc_value("cluster/leased")

    # --- leases --------------------------------------------------------------------
    def release(self, token: str, how: str) -> None:
        """The request is fully handled: end its lease (``how`` names the path)."""
        if token not in self.held:
            return
        self._forget(token)
        k = self.keys
        ours = self._release(
            keys=[
                k.inflight,
                k.inflight_score,
                k.leases,
                k.inflight_host,
                k.host_leased,
            ],
            args=[token],
        )
        self.stats.inc_value("cluster/released")
        self.stats.inc_value(f"cluster/released/{how}")
        if not ours:
            # The lease had expired and another worker re-queued the request.
            self.stats.inc_value("cluster/lease_lost")

    def abandon(self, token: str) -> None:
        """Give back a request whose children or items could not all be saved, so
        that it is fetched again. If Redis cannot take it back now, its lease, no
        longer renewed, expires and any worker puts it back."""
        if token not in self.held:
            return
        self._forget(token)
        self.stats.inc_value("cluster/abandoned")
        requeued, dropped = self._run_requeue("failed", [token], 1)
        if dropped:
            self.stats.inc_value("cluster/dropped_after_requeues", dropped)

    def _forget(self, token: str) -> None:
        self.held.pop(token, None)
        self.busy.discard(token)

    def renew(self) -> None:
        """Extend every lease this worker holds; record this worker as alive.

        The first call enters the run: the first worker of the run creates its
        marker, which every later call needs; ``RunLost`` when it is gone (Redis
        lost the run's data)."""
        k = self.keys
        if not self._joined:
            self.server.set(k.marker, self.config.worker_id, nx=True)
            self._joined = True
        tokens = list(self.held)
        renewed = self._renew(
            keys=[k.leases, k.workers, k.seeding, k.marker],
            args=[
                self.config.lease_seconds,
                self.config.worker_id,
                "1" if self.seeding else "0",
                *tokens,
            ],
        )
        if int(renewed) < 0:
            self.lost = True
            raise RunLost(
                f"the keys of run {self.config.run_id} are gone from Redis (restarted "
                "without persistence, or the run was cleared): the run cannot be "
                "completed; see docs/cluster.md, Redis"
            )
        lost = len(tokens) - int(renewed)
        if lost > 0:
            self.stats.inc_value("cluster/lease_lost", lost)

    def requeue_expired(self, batch: int = 500) -> tuple[int, int]:
        """Put requests whose lease expired (their worker died) back in the queue."""
        requeued, dropped = self._run_requeue("expired", [], batch)
        if requeued:
            self.stats.inc_value("cluster/requeued_expired", requeued)
        if dropped:
            self.stats.inc_value("cluster/dropped_after_requeues", dropped)
        return requeued, dropped

    def give_back(self) -> int:
        """Hand back every request this worker still holds (called on close)."""
        tokens = list(self.held)
        if not tokens or self.lost:  # a lost run's keys must not be recreated
            return 0
        self.held.clear()
        requeued, _ = self._run_requeue("tokens", tokens, len(tokens))
        self.stats.inc_value("cluster/given_back", requeued)
        return requeued

    def _run_requeue(self, mode: str, tokens: list[str], batch: int) -> tuple[int, int]:
        k = self.keys
        result: Any = self._requeue(
            keys=[
                k.leases,
                k.inflight,
                k.inflight_score,
                k.queued_hosts,
                k.requeues,
                k.counters,
                k.done,
                k.inflight_host,
                k.host_leased,
            ],
            args=[
                self.config.max_requeues,
                batch,
                mode,
                k.host_queue_prefix,
                *tokens,
            ],
        )
        return int(result[0]), int(result[1])

    def settle_claim(self, item: Any, written: bool) -> None:
        """Mark the item's claim written, or forget it (dropped or failed)."""
        claim = self.claims.pop(id(item), None)
        if claim is not None:
            article, token = claim
            self._settle_claim(
                keys=[self.keys.claims, self.keys.counters],
                args=[article, token, "written" if written else ""],
            )

    def settle_exported(self, article: str) -> bool:
        """The seen store holds ``article`` exported: settle a claim its dead
        worker left unsettled as written (counted ``cluster/claim_settled_exported``).
        Without this, the article's re-fetch, dropped as exported, would leave the
        claim open and the run "ended short" with nothing missing."""
        k = self.keys
        settled = bool(
            self._settle_exported(keys=[k.claims, k.leases, k.counters], args=[article])
        )
        if settled:
            self.stats.inc_value("cluster/claim_settled_exported")
        return settled

    # --- run state -----------------------------------------------------------------
    def set_seeding(self, seeding: bool) -> None:
        """Mark this worker's start() as running (its requests are still coming)."""
        self.seeding = seeding
        if seeding:
            self.renew()
        else:
            self.server.zrem(self.keys.seeding, self.config.worker_id)

    def snapshot(self, mark_done: bool = False) -> Snapshot:
        """Queued, leased and seeding counts; ``mark_done`` records a finished run."""
        k = self.keys
        queued, leased, seeding, done, marker, unwritten, given_up = self._snapshot(
            keys=[
                k.queued_hosts,
                k.leases,
                k.seeding,
                k.done,
                k.marker,
                k.claims,
                k.counters,
            ],
            args=[
                self.config.worker_id,
                "1" if mark_done else "0",
                k.host_queue_prefix,
            ],
        )
        self.lost = self.lost or not int(marker)
        return Snapshot(
            int(queued),
            int(leased),
            int(seeding),
            bool(done),
            run_lost=not int(marker),
            unwritten=int(unwritten),
            given_up=int(given_up),
        )

    def leave(self) -> None:
        """This worker stops: drop it from the live workers and the seeders."""
        pipe = self.server.pipeline()
        pipe.hdel(self.keys.workers, self.config.worker_id)
        pipe.zrem(self.keys.seeding, self.config.worker_id)
        pipe.execute()
