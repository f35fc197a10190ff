"""Cluster fairness and the politeness floor (crawler/cluster/leases.py, politeness.py).

End-to-end, with a real ``redis-server`` and real ``scrapy crawl newsites`` workers:
a slow site (a long delay) crawled beside a fast one must not hold the workers'
leases while the fast site waits, and no two requests to one host may leave closer
than its delay, whichever worker sends them. The assertions read the order and the
timestamps the test servers recorded, never how long anything took.
In-process, against the same real Redis: the per-host queues and lease caps of the
lease book, and the turn-taking script of the politeness middleware.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.settings import Settings

from crawler.cluster.config import ClusterConfig, RunKeys
from crawler.cluster.leases import LeaseBook
from crawler.cluster.scheduler import RESCHEDULED_META
from crawler.cluster.status import read_status
from crawler.middlewares.budget import COUNTED_UNSENT_META
from tests.support.newssite import NewsSite
from tests.support.redis_server import RedisServer
from tests.support.server import SiteServer
from tests.test_cluster import Cluster

# Two host names for two sites served on 127.0.0.1 (the network guard resolves them).
SLOW_HOST, FAST_HOST = "herald.test", "tribune.test"
HOSTS_ENV = f"{SLOW_HOST}=127.0.0.1,{FAST_HOST}=127.0.0.1"


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server; a missing binary fails the test with how to install it."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


def _stat(cluster: Cluster, name: str) -> int:
    return sum(int(w.stats().get(name, 0)) for w in cluster.workers)


def _gaps(times: list[float]) -> list[float]:
    times = sorted(times)
    return [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)]


# --- end to end -----------------------------------------------------------------------


def test_a_slow_site_does_not_hold_the_leases_the_fast_site_needs(
    tmp_path: Path, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers, two leases each; the slow site (2.5 s between requests) may hold
    ceil(CLUSTER_LEASE_AHEAD_SECONDS / 2.5) = 1 lease at a time, so the fast site
    always has the others and is done while most of the slow site still waits.
    Politeness is a floor, so the slow site's requests are spread over at least
    2.5 s each, whatever the machine's load (checked too: no two closer, while the
    same workers fetch and extract the fast site): what is compared is how many of
    them came before the fast site's last article, not how long anything took."""
    monkeypatch.setenv("NEWSITES_NETGUARD_HOSTS", HOSTS_ENV)
    delay = 2.5
    slow_site = NewsSite(n_articles=6, name="Herald")
    fast_site = NewsSite(n_articles=12, name="Tribune")
    sites = tmp_path / "sites"
    with SiteServer() as slow, SiteServer() as fast:
        slow_base = f"http://{SLOW_HOST}:{slow.port}"
        fast_base = f"http://{FAST_HOST}:{fast.port}"
        slow.pages = slow_site.pages(slow_base)
        fast.pages = fast_site.pages(fast_base)
        # The slow site: its home page and the articles it links to.
        slow_site.write_site_file(
            sites,
            slow_base,
            site_id="herald",
            discovery={"sections": None, "max_section_pages": None},
            crawl={"download_delay": delay},
        )
        fast_site.write_site_file(
            sites,
            fast_base,
            site_id="tribune",
            crawl={"download_delay": 0.001, "concurrency": 4},
        )
        cluster = Cluster(tmp_path, redis, sites)
        for name in ("w1", "w2"):
            cluster.start(name)
        cluster.wait_all(timeout=240)
        fast_articles = {s.path for s in fast_site.stories}
        fast_log = [(e.time, e.path) for e in fast.log]
        slow_times = sorted(e.time for e in slow.log)
        expected = slow_site.canonical_urls(slow_base) | fast_site.canonical_urls(
            fast_base
        )
    assert [w.proc.returncode for w in cluster.workers] == [0, 0], cluster.logs()
    urls = Counter(item["url"] for item in cluster.all_items())
    assert set(urls) == expected and max(urls.values()) == 1, (
        f"missing {sorted(expected - set(urls))}, twice "
        f"{[u for u, n in urls.items() if n > 1]}\n{cluster.logs()}"
    )
    last_fast = max(t for t, path in fast_log if path in fast_articles)
    before = [t for t in slow_times if t < last_fast]
    assert len(slow_times) >= 8, f"too few slow-site requests to judge: {slow_times}"
    # The delay is a floor while the same workers are busy with the fast site's pages
    # too (a worker extracting one site's article must not wake late and send the
    # other site's request early); 10 ms for the server's timestamps alone.
    close = [g for g in _gaps(slow_times) if g < delay - 0.01]
    assert not close, (
        f"slow-site requests closer than its {delay} s delay: {close}; the shared "
        "delay is not a floor while the workers serve another site "
        "(crawler/cluster/politeness.py, _TAKE_TURN)"
    )
    assert len(before) <= len(slow_times) // 2, (
        f"{len(before)} of the slow site's {len(slow_times)} requests came before the "
        "fast site's last article: the slow site held the leases the fast site "
        "needed (crawler/cluster/leases.py, _POP and the host caps)\n"
        f"{cluster.logs()}"
    )
    assert _stat(cluster, "cluster/lease/skipped_busy_host") > 0, (
        "no pop skipped the slow site although it had requests queued beyond its cap"
    )
    status = read_status(redis.client(), cluster.run_id)
    assert status.finished and status.queued == 0 and status.leased == 0, status
    cluster.assert_offline()


def test_the_delay_is_a_floor_across_workers(
    tmp_path: Path, redis: RedisServer
) -> None:
    """Three workers, one site with a 1-s delay: the server records no two requests
    closer than the delay, the first ones at start-up included, however late a
    loaded worker writes its request after the check: the delay counts from each
    answer too, and a request reaches the server before its answer leaves it. The
    10-ms allowance is for the timestamps alone (the server's clock is read after
    the request's headers). A delay that is not shared, or a late worker that
    still sends, gives gaps of a few milliseconds."""
    delay = 1.0
    site = NewsSite(n_articles=6)
    with SiteServer() as server:
        site.install(server)
        sites_dir = site.write_site_file(
            tmp_path / "sites", server.url, crawl={"download_delay": delay}
        )
        cluster = Cluster(tmp_path, redis, sites_dir)
        for name in ("p1", "p2", "p3"):
            cluster.start(name)
        cluster.wait_all(timeout=240)
        times = sorted(entry.time for entry in server.log)
    assert [w.proc.returncode for w in cluster.workers] == [0, 0, 0], cluster.logs()
    gaps = _gaps(times)
    assert len(gaps) >= 10, f"too few requests to judge: {len(times)}"
    close = [g for g in gaps if g < delay - 0.01]
    assert not close, (
        f"requests closer than the {delay} s delay: {close} (all gaps {gaps}); the "
        "shared delay is not a floor (crawler/cluster/politeness.py, _TAKE_TURN)"
    )
    assert _stat(cluster, "cluster/politeness/delayed") > 0, (
        "no request waited for the shared delay"
    )
    for worker in cluster.workers:
        stats = worker.stats()
        assert stats.get("cluster/released", 0) == stats.get("cluster/leased", 0), (
            worker.name,
            stats,
        )


# --- the lease book: per-host queues and caps -----------------------------------------


class _Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def _book(redis: RedisServer, worker: str, **changes: Any) -> LeaseBook:
    values: dict[str, Any] = {
        "CLUSTER_REDIS_URL": redis.url,
        "CLUSTER_RUN_ID": "fair",
        "CLUSTER_WORKER_ID": worker,
        "CLUSTER_LEASE_SECONDS": 30,
        "CLUSTER_HEARTBEAT_SECONDS": 1,
        "CLUSTER_MAX_REQUEUES": 3,
        **changes,
    }
    config = ClusterConfig.from_settings(Settings(values))
    assert config is not None
    book = LeaseBook(redis.client(), config, _Stats())  # type: ignore[arg-type]
    book.renew()
    return book


def _take(book: LeaseBook) -> tuple[bytes, str] | None:
    popped = book.pop()
    if popped is not None:
        book.hold(popped[1], object())  # type: ignore[arg-type]
    return popped


def test_a_busy_host_is_skipped_and_the_best_other_request_is_leased(
    redis: RedisServer,
) -> None:
    book = _book(redis, "one")
    stats: Counter[str] = book.stats.values  # type: ignore[attr-defined]
    for n in range(3):  # the slow host: best priority, cap 1
        book.enqueue(f"slow-{n}".encode(), -10, f"s{n}", "", host="slow.example", cap=1)
    book.enqueue(b"fast-low", 5, "f1", "", host="fast.example", cap=0)
    book.enqueue(b"fast-high", -5, "f2", "", host="fast.example", cap=0)
    assert book.queued() == 5 and book.has_queued()
    first = _take(book)
    assert first is not None and first[0] == b"slow-0", first
    # The slow host has its one lease: the best request of the others comes next.
    second, third = _take(book), _take(book)
    assert second is not None and second[0] == b"fast-high", second
    assert third is not None and third[0] == b"fast-low", third
    assert stats["cluster/lease/skipped_busy_host"] == 2, stats
    assert book.pop() is None, "a busy host's request was leased over its cap"
    assert stats["cluster/lease/all_hosts_busy"] == 1, stats
    assert book.queued() == 2 and book.has_queued()
    book.release(first[1], "handled")
    again = _take(book)
    assert again is not None and again[0] == b"slow-1", "the freed host got no lease"
    snapshot = book.snapshot()
    assert (snapshot.queued, snapshot.leased) == (1, 3), snapshot


def test_a_host_booked_far_ahead_is_skipped(redis: RedisServer) -> None:
    """A host whose next start is further than CLUSTER_LEASE_AHEAD_SECONDS away (a
    Retry-After pause) keeps its requests in the queue."""
    book = _book(redis, "one")
    client = redis.client()
    seconds, micros = client.time()
    client.set(RunKeys.host_next("paused.example"), str(seconds + micros / 1e6 + 60))
    book.enqueue(b"paused", -10, "p", "", host="paused.example", cap=0)
    book.enqueue(b"other", 0, "o", "", host="other.example", cap=0)
    popped = _take(book)
    assert popped is not None and popped[0] == b"other", popped
    assert book.pop() is None
    assert book.stats.values["cluster/lease/skipped_booked_host"] == 2  # type: ignore[attr-defined]


def test_expired_and_handed_back_leases_return_to_their_host_queue(
    redis: RedisServer,
) -> None:
    dead = _book(redis, "dead")
    alive = _book(redis, "alive")
    dead.enqueue(b"a", -1, "a", "", host="one.example", cap=1)
    dead.enqueue(b"b", -1, "b", "", host="one.example", cap=1)
    popped = _take(dead)
    assert popped is not None and alive.pop() is None, "the cap did not hold"
    redis.client().zadd(dead.keys.leases, {popped[1]: 0})  # its lease runs out
    assert alive.requeue_expired() == (1, 0)
    status = read_status(redis.client(), "fair")
    assert (status.queued, status.leased) == (2, 0), status
    # The host's lease count went back with it: the host may be leased again.
    taken = _take(alive)
    assert taken is not None and taken[0] == b"a", taken
    assert alive.give_back() == 1
    assert alive.queued() == 2
    assert not redis.client().hgetall(alive.keys.host_leased), "a lease count stayed"


def test_a_rescheduled_request_ends_its_lease_without_the_dupefilter(
    redis: RedisServer,
) -> None:
    """What the scheduler does with a request the politeness middleware put back:
    queued again (its fingerprint is already in the dupefilter), the lease ended."""
    book = _book(redis, "one")
    book.enqueue(b"page", 0, "fp", "", host="one.example", cap=1)
    popped = _take(book)
    assert popped is not None
    assert book.enqueue(b"page", 0, "", popped[1], host="one.example", cap=1)
    assert popped[1] not in book.held
    assert book.snapshot().leased == 0
    again = _take(book)
    assert again is not None and again[0] == b"page", "the host's cap was not freed"


# --- the politeness floor: turn-taking ------------------------------------------------


def _politeness(redis: RedisServer) -> Any:
    from scrapy.utils.test import get_crawler

    from crawler.cluster.politeness import SharedPolitenessMiddleware

    crawler = get_crawler(
        settings_dict={
            "ADDONS": {"crawler.cluster.addon.ClusterAddon": 0},
            "CLUSTER_REDIS_URL": redis.url,
            "CLUSTER_RUN_ID": "fair",
            "CLUSTER_LEASE_SECONDS": 30,
            "CLUSTER_HEARTBEAT_SECONDS": 1,
            "CLUSTER_SHARED_POLITENESS": True,
            "DOWNLOAD_DELAY": 1.0,
        }
    )
    return SharedPolitenessMiddleware.from_crawler(crawler)


def test_a_turn_is_taken_once_and_a_late_request_gives_way(
    redis: RedisServer,
) -> None:
    turns = _politeness(redis).turns
    host, delay, tolerance = "floor.example", 1.0, 0.01
    step = delay + tolerance
    wait, first = turns.reserve(host, step)
    assert wait == 0, "the first request of a host waited"
    _, second = turns.reserve(host, step)
    assert float(second) - float(first) >= step - 1e-6, (first, second)
    time.sleep(0.05)  # the first request leaves later than its tolerance...
    assert turns.take(host, delay, first, tolerance, step)[0] == "late", (
        "a late request was let out beside the next reserved turn"
    )
    client = redis.client()
    client.delete(RunKeys.host_next(host))  # ...nobody reserved after it any more:
    assert turns.take(host, delay, first, tolerance, step) == ("ok", 0)
    # Once it left, no other request may within the delay, whatever its turn said.
    outcome, short = turns.take(host, delay, second, tolerance, step)
    assert outcome == "taken" and 0.9 < short <= delay, (outcome, short)
    # A new reservation starts a full step after the request that left.
    _, third = turns.reserve(host, step)
    last = float(client.get(RunKeys.host_last(host)) or 0)
    assert float(third) >= last + step - 1e-6, (last, third)
    # A worker's first request to a host counts as leaving later (its connection).
    client.delete(RunKeys.host_next(host), RunKeys.host_last(host))
    seconds, micros = client.time()
    _, fourth = turns.reserve(host, step)
    assert turns.take(host, delay, fourth, tolerance, step, 0.05)[0] == "ok"
    last = float(client.get(RunKeys.host_last(host)) or 0)
    assert last >= seconds + micros / 1e6 + 0.05, "the first connection's margin"


def test_a_request_written_late_moves_the_hosts_last_start(
    redis: RedisServer,
) -> None:
    """The check records a request's start before it is written; when the process
    writes it later (busy or descheduled), the record moves up to then, and the
    next request waits for the difference instead of leaving early."""
    turns = _politeness(redis).turns
    client = redis.client()
    host, delay, tolerance = "lag.example", 0.5, 0.01
    step = delay + tolerance
    _, first = turns.reserve(host, step)
    assert turns.take(host, delay, first, tolerance, step)[0] == "ok"
    checked = float(client.get(RunKeys.host_last(host)) or 0)
    time.sleep(0.08)  # ...written 80 ms after its check
    lag = turns.record_sent(host, delay)
    assert lag >= 0.08, lag
    moved = float(client.get(RunKeys.host_last(host)) or 0)
    assert moved - checked >= 0.08, (checked, moved)
    # A record never moves back: an earlier write changes nothing.
    client.set(RunKeys.host_last(host), f"{moved + 10:.6f}")
    assert turns.record_sent(host, delay) == 0
    assert float(client.get(RunKeys.host_last(host)) or 0) == round(moved + 10, 6)


def test_a_request_not_yet_written_holds_the_host_until_it_is(
    redis: RedisServer,
) -> None:
    """A request let out (its check passed) whose process is descheduled before it
    writes the request: its turn is over by the clock, but the next request must
    not leave before it. It is told 'unwritten' until the first one's write is
    recorded, then its own check runs as usual; a hold no write ends (a dead
    worker) expires."""
    turns = _politeness(redis).turns
    client = redis.client()
    host, delay, tolerance = "unwritten.example", 0.05, 0.01
    step = delay + tolerance
    _, first = turns.reserve(host, step)
    assert turns.take(host, delay, first, tolerance, step, token="a")[0] == "ok"
    _, second = turns.reserve(host, step)
    time.sleep(2 * step)  # the second one's turn has come; the first is not written
    assert turns.take(host, delay, second, 1e9, step, token="b") == ("unwritten", 0)
    turns.record_sent(host, delay, token="b")  # another request's record...
    assert client.get(RunKeys.host_unwritten(host)) == b"a", "...ends no other hold"
    time.sleep(delay)
    assert turns.take(host, delay, second, 1e9, step, token="b")[0] == "unwritten"
    turns.record_sent(host, delay, token="a")  # the first one is written now...
    outcome, _ = turns.take(host, delay, second, 1e9, step, token="b")
    assert outcome == "taken", "the delay counts from the first one's write"
    time.sleep(delay)
    assert turns.take(host, delay, second, 1e9, step, token="b")[0] == "ok"
    assert client.pttl(RunKeys.host_unwritten(host)) > 0, "no expiry on the hold"


def test_the_next_request_waits_for_a_late_write_instead_of_leaving(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the middleware: while a request sleeps until its turn, the request
    before it is written 0.1 s after its own check (its record moves up). On
    waking, this one waits the difference, counted, instead of leaving early or
    being re-scheduled. (Sleeps block here, as no reactor runs.)"""
    from crawler.cluster import politeness

    client = redis.client()
    host, delay = "wait.example", 0.5
    seconds, micros = client.time()
    previous = seconds + micros / 1e6  # the previous request's check
    client.set(RunKeys.host_last(host), f"{previous:.6f}")
    written_late = previous + 0.1
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        time.sleep(seconds)
        if not sleeps:  # the previous request's write, seen late
            client.set(RunKeys.host_last(host), f"{written_late:.6f}")
        sleeps.append(seconds)

    monkeypatch.setattr(politeness, "_sleep", sleep)
    mw = _politeness(redis)
    monkeypatch.setattr(mw, "_record_when_written", lambda *args: None)
    mw.connected_hosts.add(host)

    outcome = asyncio.run(mw._wait_for_turn(host, delay, first=False, token="t"))
    sent = float(client.get(RunKeys.host_last(host)) or 0)
    assert outcome == "ok", sleeps
    assert sent - written_late >= delay - 1e-6, "left within the delay of the write"
    assert len(sleeps) >= 2 and sleeps[1] <= 0.12, sleeps
    assert mw.stats.get_value("cluster/politeness/waited_for_previous_send") >= 1


def test_the_delay_counts_from_the_answer_too(redis: RedisServer) -> None:
    """A request reaches the server before its answer comes back: the answer (or
    the error) moves the host's last start up to then; a request that was not
    sent under a delay (nothing recorded) changes nothing."""
    from scrapy.http import HtmlResponse

    mw = _politeness(redis)
    client = redis.client()
    host = "answer.example"
    seconds, micros = client.time()
    checked = seconds + micros / 1e6 - 0.3  # its check, 0.3 s before the answer
    client.set(RunKeys.host_last(host), f"{checked:.6f}")
    sent = Request(f"http://{host}/a", meta={"cluster_sent_with_delay": (1.0, "t")})
    mw.process_response(sent, HtmlResponse(sent.url, request=sent))
    answered = float(client.get(RunKeys.host_last(host)) or 0)
    assert answered - checked >= 0.3 - 1e-3, (checked, answered)
    assert "cluster_sent_with_delay" not in sent.meta, "a redirect would record again"
    client.set(RunKeys.host_last(host), f"{checked:.6f}")
    failed = Request(f"http://{host}/b", meta={"cluster_sent_with_delay": (1.0, "t")})
    mw.process_exception(failed, TimeoutError())
    assert float(client.get(RunKeys.host_last(host)) or 0) > checked + 0.3 - 1e-3
    client.set(RunKeys.host_last(host), f"{checked:.6f}")
    unsent = Request(f"http://{host}/c")
    mw.process_response(unsent, HtmlResponse(unsent.url, request=unsent))
    assert float(client.get(RunKeys.host_last(host)) or 0) == round(checked, 6)


def test_a_request_put_back_is_marked_for_the_scheduler(redis: RedisServer) -> None:
    mw = _politeness(redis)
    request = Request("http://floor.example/a", meta={"cluster_lease": "w:1"})
    again = mw._rescheduled(request)
    assert again is not request and again.url == request.url
    assert again.meta[RESCHEDULED_META] is True
    assert again.meta[COUNTED_UNSENT_META] is True, "the budget counted it already"
    assert again.meta["cluster_lease"] == "w:1", "the lease must end once queued"
    assert RESCHEDULED_META not in request.meta
