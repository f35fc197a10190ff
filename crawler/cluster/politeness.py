"""Per-host politeness shared by every worker: the site file's delay and concurrency
hold for the whole cluster, not per process.

Before a request leaves this worker, the middleware (last before the downloader)
takes one of the host's ``concurrency`` places in Redis, then reserves the host's
next turn, at least ``delay`` after the previous turn and after the last request
that left, by any worker, and sleeps until then. The delay is a floor: on waking,
one script checks that no request to the host left less than ``delay`` ago and
records this one as the host's last start (``newsites:hosts:<host>:last``); a
request whose turn was taken, or that woke too late to leave before the next
reserved turn, is not sent but re-scheduled (back to the shared queue; its lease
ends once it is there). A busy or descheduled process can write a request to its
socket well after the check, so the host's last start is moved up twice more: when
the request has been written (two reactor turns later) and when its answer or error
comes back (a request reaches the server before its answer leaves it, so the delay
is a floor at the server, counted from the answer as Nutch and Heritrix count it).
Until its write is recorded, a request let out holds the host: the next one waits
for that record (briefly, else it is re-scheduled) instead of leaving before a
request whose process was descheduled between its check and its write. A
request that finds, on waking, the previous one's record moved up by less than a
quarter of the delay waits the difference instead of being re-scheduled. The place
is given back when the response or the error comes back; a dead worker's places
expire after DOWNLOAD_TIMEOUT plus a margin. The keys are per host, not per run, so
two runs on one Redis share a host's limits too. Times come from the Redis clock.
Scrapy's own per-process delay is set to 0 by the add-on, so the two never add up.

Two signals from a host move its limits for every worker: a robots.txt Crawl-delay
for our user agent (at most CRAWL_DELAY_MAX) raises its delay, and a 429 or 503
answer with Retry-After (at most RETRY_AFTER_MAX_DELAY; else
RETRY_AFTER_BACKOFF_BASE) pushes its next start back, so no worker asks again before
the server said.
"""

from __future__ import annotations

import uuid
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor, task

from crawler.cluster.addon import cluster_of
from crawler.cluster.config import RunKeys
from crawler.cluster.scheduler import RESCHEDULED_META
from crawler.middlewares.budget import COUNTED_UNSENT_META
from crawler.middlewares.retry_after import parse_retry_after

#: ``request.meta`` key: (host, token) of the place this request holds.
PLACE_META = "cluster_host_place"
# While every place of a host is taken, retry after this long, doubled each time
# up to the maximum (fewer Redis calls when a host is busy for long).
_POLL_MIN = 0.02
_POLL_MAX = 0.32
# A dead worker's place is reclaimed this long after DOWNLOAD_TIMEOUT.
_PLACE_MARGIN = 30.0
# Starts are reserved this much more than the delay apart, so a request that wakes
# up to this late still leaves before the next reserved turn; later than that it is
# re-scheduled when another request has reserved the following turn.
_LATE_TOLERANCE = 0.01
# A worker's first request to a host opens a connection (name lookup, thread pool,
# TCP) after its turn is taken, so it reaches the server later than the others; it
# is recorded as leaving this much later (at most half the delay), so that the next
# request keeps the delay at the server too (a 0.975-s gap at 1 s before this).
_FIRST_CONNECTION_MARGIN = 0.05
# A tolerance no waking misses: the take script does not judge lateness.
_NO_LATE_CHECK = 1e9
#: ``request.meta`` key on a request sent under a host delay: the delay and the
#: request's token.
_SENT_META = "cluster_sent_with_delay"
# A request that finds the previous one was written up to this share of the delay
# later than its check waits for the difference (at most this many times) instead
# of being re-scheduled; a turn taken outright leaves a bigger shortfall.
_SHORT_WAIT_SHARE = 0.25
_SHORT_WAITS = 3
# A request let out and not yet written (its process busy or descheduled before the
# write) holds the host: the next one polls this often, for at most the short-wait
# share of the delay, then is re-scheduled. A dead worker's hold expires after this.
_UNWRITTEN_POLL = 0.005
_UNWRITTEN_SECONDS = 2.0

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS: host active set; ARGV: token, concurrency, place lifetime. 1 = taken.
_TAKE_PLACE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
  return 1
end
return 0
"""
)

# KEYS: host next-start key, host last-start key; ARGV: step (delay + tolerance).
# Reserves the host's next turn, at least a step after the last reserved turn and
# after the last request that left. Returns {seconds to wait, the turn} (strings:
# Lua numbers would come back truncated to integers; six decimals, as tostring
# keeps only 14 digits).
_RESERVE_START = (
    _NOW
    + """
local step = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(now, nxt, last + step)
local following = start + step
redis.call('SET', KEYS[1], string.format('%.6f', following),
           'PX', math.ceil((following - now) * 1000) + 60000)
return {string.format('%.6f', start - now), string.format('%.6f', start)}
"""
)

# KEYS: host next-start key, host last-start key, host unwritten key
# ARGV: delay, this request's turn, tolerance, step, margin, token, unwritten lifetime
# Just before sending: {'taken', seconds short} when a request to the host left
# less than the delay ago; 'late' when this one woke after its turn (plus the
# tolerance) and another request has reserved the following turn (sending now would
# crowd it); else 'ok', and this request is recorded as the host's last start (plus
# the margin of a first connection).
_TAKE_TURN = (
    _NOW
    + """
local delay = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if now - last < delay then
  return {'taken', string.format('%.6f', last + delay - now)}
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {'unwritten', '0'}
end
local turn = tonumber(ARGV[2])
if now > turn + tonumber(ARGV[3]) then
  local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
  if nxt > turn + tonumber(ARGV[4]) + 0.000001 then return {'late', '0'} end
end
local margin = tonumber(ARGV[5] or '0')
redis.call('SET', KEYS[2], string.format('%.6f', now + margin),
           'PX', math.ceil((delay + margin) * 1000) + 60000)
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[3], ARGV[6], 'PX', math.ceil(tonumber(ARGV[7]) * 1000))
end
return {'ok', '0'}
"""
)

# KEYS: host last-start key, host unwritten key; ARGV: key lifetime (s), token.
# After a request was written: the host's last start becomes now when that is later
# than recorded, and the host is no longer waiting for this request's write.
# Returns how much later (the send lag), '0' when not later.
_RECORD_SENT = (
    _NOW
    + """
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if now <= last then return '0' end
redis.call('SET', KEYS[1], string.format('%.6f', now),
           'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 60000)
return string.format('%.6f', now - last)
"""
)

# KEYS: host next-start key; ARGV: pause. No start before now + pause.
_PAUSE = (
    _NOW
    + """
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local following = math.max(nxt, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.6f', following),
           'PX', math.ceil((following - now) * 1000) + 60000)
return 1
"""
)


class HostTurns:
    """The shared per-host turns (``newsites:hosts:<host>:next`` and ``:last``)."""

    def __init__(self, server: Any) -> None:
        self._reserve = server.register_script(_RESERVE_START)
        self._take = server.register_script(_TAKE_TURN)
        self._record_sent = server.register_script(_RECORD_SENT)

    def reserve(self, host: str, step: float) -> tuple[float, str]:
        """Seconds to wait for the host's next turn, and the turn (Redis time)."""
        wait, turn = self._reserve(
            keys=[RunKeys.host_next(host), RunKeys.host_last(host)], args=[step]
        )
        return float(wait), turn.decode() if isinstance(turn, bytes) else str(turn)

    def take(
        self,
        host: str,
        delay: float,
        turn: str,
        tolerance: float,
        step: float,
        margin: float = 0.0,
        token: str = "",
    ) -> tuple[str, float]:
        """'ok' (recorded as the host's last start, ``margin`` seconds later than
        now, and as the host's request not yet written, ``token``), 'taken' with
        the seconds until the delay is over, 'unwritten' (the request let out
        before has not been written yet) or 'late'."""
        outcome, short = self._take(
            keys=[
                RunKeys.host_next(host),
                RunKeys.host_last(host),
                RunKeys.host_unwritten(host),
            ],
            args=[delay, turn, tolerance, step, margin, token, _UNWRITTEN_SECONDS],
        )
        return _text(outcome), float(_text(short))

    def record_sent(self, host: str, lifetime: float, token: str = "") -> float:
        """The host's last start moves up to now (a request was just written) and
        the host no longer waits for request ``token``'s write; returns how many
        seconds later than recorded, 0 when not later."""
        lag = self._record_sent(
            keys=[RunKeys.host_last(host), RunKeys.host_unwritten(host)],
            args=[lifetime, token],
        )
        return float(_text(lag))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _sleep(seconds: float) -> None:
    await maybe_deferred_to_future(task.deferLater(reactor, seconds))


class SharedPolitenessMiddleware:
    """Downloader middleware (last before the download): cluster-wide host limits."""

    def __init__(self, crawler: Crawler) -> None:
        self.cluster = cluster_of(crawler)
        self.stats = crawler.stats
        server = self.cluster.server
        self.place_lifetime = (
            crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + _PLACE_MARGIN
        )
        self._take_place = server.register_script(_TAKE_PLACE)
        self.turns = HostTurns(server)
        #: hosts this worker has sent to (it holds a connection to them)
        self.connected_hosts: set[str] = set()
        self._pause = server.register_script(_PAUSE)
        self._server = server
        settings = crawler.settings
        self.user_agent = str(
            settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or ""
        )
        self.max_crawl_delay = settings.getfloat("CRAWL_DELAY_MAX")
        self.pause_codes = (
            {int(c) for c in settings.getlist("RETRY_AFTER_HTTP_CODES")}
            if settings.getbool("RETRY_AFTER_ENABLED")
            else set()
        )
        self.max_pause = settings.getfloat("RETRY_AFTER_MAX_DELAY")
        self.default_pause = settings.getfloat("RETRY_AFTER_BACKOFF_BASE")
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPolitenessMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> Request | None:
        host = (urlparse_cached(request).hostname or "").lower()
        limit = self.cluster.limit_for(host)
        token = uuid.uuid4().hex
        waited_for_place = False
        poll = _POLL_MIN
        while not self._take_place(
            keys=[RunKeys.host_active(host)],
            args=[token, limit.concurrency, self.place_lifetime],
        ):
            waited_for_place = True
            await _sleep(poll)
            poll = min(poll * 2, _POLL_MAX)
        request.meta[PLACE_META] = (host, token)
        if waited_for_place:
            self.stats.inc_value("cluster/politeness/waited_for_place")
        if limit.delay <= 0:
            return None
        first = host not in self.connected_hosts
        outcome = await self._wait_for_turn(host, limit.delay, first, token)
        if outcome == "ok":
            request.meta[_SENT_META] = (limit.delay, token)
            return None
        # Not sent: it would leave closer than the delay to another start.
        self._give_place_back(request)
        self.stats.inc_value(f"cluster/politeness/{outcome}_requeued")
        return self._rescheduled(request)

    async def _wait_for_turn(
        self, host: str, delay: float, first: bool, token: str
    ) -> str:
        """Reserve the host's next turn, sleep until it, then take it: 'ok' to
        send, 'taken' or 'late' when this request must not leave now.

        A process whose reactor was busy (a long callback) wakes late; a late
        request would leave right beside the next reserved one. Turns are reserved
        ``delay + tolerance`` apart, so one that wakes up to ``tolerance`` late still
        leaves ``delay`` after the previous one; the check on waking holds the delay
        as a floor whatever happened meanwhile. A request let out but not yet
        written holds the host until its write is recorded (its process may be
        descheduled between the check and the write): the next one waits for that
        rather than leave before it.
        """
        tolerance = min(_LATE_TOLERANCE, delay / 4)
        step = delay + tolerance
        wait, turn = self.turns.reserve(host, step)
        if wait > 0:
            self.stats.inc_value("cluster/politeness/delayed")
            self.stats.inc_value("cluster/politeness/delay_ms", int(wait * 1000))
            await _sleep(wait)
        margin = min(_FIRST_CONNECTION_MARGIN, delay / 2) if first else 0.0
        outcome = await self._take(host, delay, turn, tolerance, step, margin, token)
        if outcome == "ok":
            self.connected_hosts.add(host)
            self._record_when_written(host, delay + margin, token)
        return outcome

    async def _take(
        self,
        host: str,
        delay: float,
        turn: str,
        tolerance: float,
        step: float,
        margin: float,
        token: str,
    ) -> str:
        """The take on waking, with the short waits: for the previous request's
        write to be recorded, and for a previous request written a little later
        than its check."""
        unwritten_wait = 0.0
        short_waits = 0
        while True:
            outcome, short = self.turns.take(
                host, delay, turn, tolerance, step, margin, token
            )
            if outcome == "unwritten":
                if unwritten_wait >= delay * _SHORT_WAIT_SHARE:
                    return outcome
                self.stats.inc_value("cluster/politeness/waited_for_previous_write")
                await _sleep(_UNWRITTEN_POLL)
                unwritten_wait += _UNWRITTEN_POLL
                continue
            if outcome != "taken" or short > delay * _SHORT_WAIT_SHARE:
                return outcome
            if short_waits == _SHORT_WAITS:
                return outcome
            short_waits += 1
            # The request before this one was written or answered later than its
            # check: wait the difference. Waking late from this wait is not judged
            # again (the next request's own check keeps the delay from this one).
            self.stats.inc_value("cluster/politeness/waited_for_previous_send")
            await _sleep(short)
            tolerance = _NO_LATE_CHECK

    def _record_when_written(self, host: str, lifetime: float, token: str) -> None:
        """Move the host's last start up to the moment this request was written.

        The request goes to the downloader once this middleware returns; its bytes
        reach the socket when the reactor next writes (a new connection needs one
        turn more). Two reactor turns later is the earliest moment it has surely
        left, and the later moment is the safe one to count the delay from."""

        def next_turn() -> None:
            task.deferLater(reactor, 0, self._record_sent, host, lifetime, token)

        task.deferLater(reactor, 0, next_turn)

    def _record_sent(
        self, host: str, lifetime: float, token: str, count_lag: bool = True
    ) -> None:
        try:
            lag = self.turns.record_sent(host, lifetime, token)
        except RedisError:
            self.stats.inc_value("cluster/politeness/send_not_recorded")
            return
        if lag > 0 and count_lag:
            lag_ms = round(lag * 1000)
            self.stats.inc_value("cluster/politeness/send_lag_ms", lag_ms)
            self.stats.max_value("cluster/politeness/send_lag_max_ms", lag_ms)

    @staticmethod
    def _rescheduled(request: Request) -> Request:
        """A copy for the scheduler: it goes back to the shared queue (ending this
        request's lease once queued, like a retry), or, for a request that did not
        come from the scheduler (robots.txt), is downloaded again at once. The
        request budget counted it on its way here: marked, it is not counted again
        (``budget.COUNTED_UNSENT_META``)."""
        again = request.replace()
        again.meta[RESCHEDULED_META] = True
        again.meta[COUNTED_UNSENT_META] = True
        return again

    def process_response(self, request: Request, response: Response) -> Response:
        self._give_place_back(request)
        self._record_answer(request)
        if response.status in self.pause_codes:
            header = response.headers.get("Retry-After")
            wait = parse_retry_after(header.decode("latin-1") if header else None)
            pause = min(self.default_pause if wait is None else wait, self.max_pause)
            if pause > 0:
                host = (urlparse_cached(request).hostname or "").lower()
                self._pause(keys=[RunKeys.host_next(host)], args=[pause])
                self.stats.inc_value("cluster/politeness/host_paused")
        return response

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        if not delay or delay <= 0:
            return
        host = (urlparse_cached(request).hostname or "").lower()
        if self.cluster.raise_delay(host, min(float(delay), self.max_crawl_delay)):
            self.stats.inc_value("cluster/politeness/robots_crawl_delay")

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_place_back(request)
        self._record_answer(request)

    def _record_answer(self, request: Request) -> None:
        """The host's last start moves up to this request's answer (or error).

        A request reaches the server before its answer comes back, whatever
        happened in between: a name lookup and a new connection after the check,
        a process descheduled on a busy machine. Counting the delay from the
        answer (as Nutch and Heritrix do) makes it a floor at the server; the cost
        is one answer time per request to a host served one at a time."""
        sent: tuple[float, str] | None = request.meta.pop(_SENT_META, None)
        if sent is not None:
            host = (urlparse_cached(request).hostname or "").lower()
            self._record_sent(host, sent[0], sent[1], count_lag=False)

    def _give_place_back(self, request: Request) -> None:
        # Popped, so a retry or redirect copied from this request holds no place.
        place: Any = request.meta.pop(PLACE_META, None)
        if place is not None:
            host, token = place
            try:
                self._server.zrem(RunKeys.host_active(host), token)
            except RedisError:
                # Redis down: the place is reclaimed once it expires; the response
                # itself must not fail for it (its article would be lost).
                self.stats.inc_value("cluster/politeness/place_not_returned")
