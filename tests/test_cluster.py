"""Cluster mode (crawler/cluster/): real workers sharing a real redis-server.

End-to-end: two or three ``scrapy crawl newsites`` processes crawl the generated
news site (tests/support/newssite.py) served on 127.0.0.1 and share one run in a
``redis-server`` started for the test. They must write every article exactly once
across their outputs, fetch no page twice, survive a worker killed with SIGKILL, and
keep the site's delay between any two requests, whichever worker sends them.
In-process: the Redis scripts of the lease book, the settings checks, the add-on
staying off without a Redis URL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from crawler.cli import main as merge_main
from crawler.cluster.addon import ClusterAddon
from crawler.cluster.config import ClusterConfig, ClusterConfigError
from crawler.cluster.leases import LeaseBook
from crawler.cluster.status import read_status
from tests.support.crawl import PROJECT_ROOT
from tests.support.newssite import NewsSite
from tests.support.redis_server import RedisServer
from tests.support.server import Page, SiteServer

NETGUARD_DIR = Path(__file__).resolve().parent / "support" / "netguard"

# Every worker of these tests: few requests held per worker so that the work is
# shared, and leases far longer than any stall of a loaded machine, so that no live
# worker loses one; the test that kills a worker expires the dead worker's leases
# itself (the expiry is driven by the test, not by the clock).
WORKER_SETTINGS: dict[str, Any] = {
    "CLUSTER_LEASE_SECONDS": 60,
    "CLUSTER_HEARTBEAT_SECONDS": 0.5,
    "CONCURRENT_REQUESTS": 2,
    "EXTRACT_WORKERS": 0,
    "DOWNLOAD_TIMEOUT": 10,
    "LOG_LEVEL": "INFO",
    # "Done" is the shared store of exported articles, in the same Redis.
    "SEEN_ENABLED": True,
    "SEEN_BACKEND": "redis",
    "SEEN_REDIS_PREFIX": "test:seen",
}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server; a missing binary fails the test with how to install it."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


# --- workers --------------------------------------------------------------------------


@dataclass
class Worker:
    """One ``scrapy crawl newsites`` subprocess of the run."""

    name: str
    proc: subprocess.Popen[bytes]
    output: Path
    stats_file: Path
    log_file: Path

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"worker {self.name} still running after {timeout} s; log tail:\n"
                f"{self.log()[-3000:]}"
            ) from None

    def items(self) -> list[dict[str, Any]]:
        """Complete JSON lines of the output (a killed worker may cut its last one)."""
        if not self.output.exists():
            return []
        data = self.output.read_text(encoding="utf-8")
        return [json.loads(line) for line in data[: data.rfind("\n") + 1].splitlines()]

    def stats(self) -> dict[str, Any]:
        if not self.stats_file.exists():
            return {}
        return dict(json.loads(self.stats_file.read_text()))

    def log(self) -> str:
        return (
            self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        )


@dataclass
class Cluster:
    """Starts workers of one run against ``redis`` and the site in ``sites_dir``."""

    tmp: Path
    redis: RedisServer
    sites_dir: Path
    run_id: str = "test-run"
    settings: dict[str, Any] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

    def start(self, name: str, output: Path | None = None) -> Worker:
        """Start a worker; ``output``: its JSONL file (default: a new one)."""
        number = len(self.workers)
        out = self.tmp / "out"
        out.mkdir(exist_ok=True)
        worker = Worker(
            name,
            proc=None,  # type: ignore[arg-type]
            output=output or out / f"worker-{number}.jsonl",
            stats_file=out / f"worker-{number}.stats.json",
            log_file=out / f"worker-{number}.log",
        )
        settings = {
            **WORKER_SETTINGS,
            "SITES_DIR": self.sites_dir,
            "CLUSTER_REDIS_URL": self.redis.url,
            "CLUSTER_RUN_ID": self.run_id,
            "CLUSTER_WORKER_ID": name,
            "STATS_FILE": worker.stats_file,
            **self.settings,
        }
        cmd = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "newsites",
            "-o",  # append: a restarted worker goes on after what it wrote
            str(worker.output),
        ]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(NETGUARD_DIR), os.environ.get("PYTHONPATH", "")) if p
            ),
            "NEWSITES_NETGUARD_LOG": str(self.tmp / "netguard.jsonl"),
        }
        with worker.log_file.open("wb") as log:
            worker.proc = subprocess.Popen(
                cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.workers.append(worker)
        return worker

    def wait_all(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.wait(max(1.0, deadline - time.monotonic()))

    def all_items(self) -> list[dict[str, Any]]:
        return [item for worker in self.workers for item in worker.items()]

    def logs(self) -> str:
        return "\n".join(f"--- {w.name}\n{w.log()[-2500:]}" for w in self.workers)

    def assert_offline(self) -> None:
        guard = self.tmp / "netguard.jsonl"
        seen = guard.read_text() if guard.exists() else ""
        assert not seen, f"a worker tried to reach beyond 127.0.0.1:\n{seen[:2000]}"


def site_on(server: SiteServer, tmp: Path, site: NewsSite, **crawl: Any) -> Path:
    site.install(server)
    return site.write_site_file(tmp / "sites", server.url, crawl=crawl)


def assert_each_article_once(cluster: Cluster, expected: set[str]) -> None:
    items = cluster.all_items()
    counts = Counter(item["id"] for item in items)
    twice = {i: n for i, n in counts.items() if n > 1}
    assert not twice, (
        f"articles written more than once across the workers' outputs: {twice}; "
        "the run-level claim (crawler/cluster/claims.py) or the shared dupefilter "
        f"let a duplicate through\n{cluster.logs()}"
    )
    urls = {item["url"] for item in items}
    assert urls == expected, (
        f"missing {sorted(expected - urls)}, unexpected {sorted(urls - expected)}\n"
        f"{cluster.logs()}"
    )


def fetched_twice(server: SiteServer) -> dict[str, int]:
    counts = Counter(server.paths())
    # robots.txt: once as the spider's entry point (shared), once per worker's
    # robots.txt middleware (each process keeps its own parser).
    counts.pop("/robots.txt", None)
    return {path: n for path, n in counts.items() if n > 1}


# --- end to end -----------------------------------------------------------------------


def test_three_workers_share_the_frontier_and_write_each_article_once(
    tmp_path: Path, redis: RedisServer
) -> None:
    """Then a later run (a new run id, same seen store) downloads no article again."""
    site = NewsSite(n_articles=16)
    with SiteServer() as server:
        sites_dir = site_on(server, tmp_path, site, download_delay=0.05)
        cluster = Cluster(tmp_path, redis, sites_dir, run_id="monday")
        for name in ("w1", "w2", "w3"):
            cluster.start(name)
        cluster.wait_all()
        expected = site.canonical_urls(server.url)
        twice = fetched_twice(server)
        robots = server.requested("/robots.txt")
        server.clear_log()
        later = Cluster(tmp_path / "later", redis, sites_dir, run_id="tuesday")
        later.tmp.mkdir()
        again = later.start("t1")
        again.wait()
        refetched = {p for p in server.paths() if p in {s.path for s in site.stories}}
    assert [w.proc.returncode for w in cluster.workers] == [0, 0, 0], cluster.logs()
    assert_each_article_once(cluster, expected)
    assert not twice, f"pages fetched twice across workers: {twice}\n{cluster.logs()}"
    assert robots <= 4, f"robots.txt fetched {robots} times for 3 workers"
    stats = [w.stats() for w in cluster.workers]
    working = [
        w.name
        for w, s in zip(cluster.workers, stats, strict=True)
        if s.get("scheduler/dequeued/redis", 0) > 0
    ]
    assert len(working) >= 2, (
        f"only {working} took requests from the shared queue: the work was not "
        f"shared\n{cluster.logs()}"
    )
    for worker, s in zip(cluster.workers, stats, strict=True):
        assert s.get("finish_reason") == "finished", (worker.name, s)
        assert s.get("cluster/finished") == 1, (
            f"{worker.name} closed without seeing the run finished: {s}"
        )
        # Every lease ended on a known path, never by the safety-net sweep.
        assert s.get("cluster/released", 0) == s.get("cluster/leased", 0), s
        assert "cluster/released/sweep" not in s, s
    status = read_status(redis.client(), cluster.run_id)
    assert status.finished and status.queued == 0 and status.leased == 0, status
    assert status.counters.get("articles_written") == len(expected), status
    seen = redis.client().hlen("test:seen:articles")
    assert seen == len(expected), f"{seen} articles marked in the shared seen store"
    cluster.assert_offline()
    # The later run: everything exported is skipped before download.
    assert again.proc.returncode == 0, again.log()[-3000:]
    assert again.items() == [], "the later run exported the same articles again"
    assert not refetched, f"the later run downloaded exported articles: {refetched}"
    assert again.stats().get("seen/skipped", 0) >= len(expected), again.stats()


def test_a_killed_worker_loses_nothing_and_a_rerun_completes_the_set(
    tmp_path: Path, redis: RedisServer
) -> None:
    """SIGKILL a worker while it holds leased requests; its requests come back once
    the leases expire (expired by the test), and the worker started again (same id)
    joins the run."""
    site = NewsSite(n_articles=16)
    with SiteServer() as server:
        sites_dir = site_on(server, tmp_path, site, download_delay=0.05, concurrency=4)
        for story in site.stories:  # slow articles: the victim has some in flight
            server.pages[story.path] = Page(server.pages[story.path].body, delay=0.6)
        cluster = Cluster(tmp_path, redis, sites_dir)
        victim = cluster.start("a")
        survivor = cluster.start("b")
        client = redis.client()
        keys = f"newsites:{cluster.run_id}:"
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            held = [
                t for t in client.zrange(keys + "leases", 0, -1) if t.startswith(b"a:")
            ]
            if held and victim.items():  # mid-run: written some, holds some
                break
            assert victim.proc.poll() is None, f"victim ended early\n{cluster.logs()}"
            time.sleep(0.05)
        else:
            raise AssertionError(f"victim never held a lease mid-run\n{cluster.logs()}")
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        # What the dead worker held at its death; its leases run out now.
        held = [t for t in client.zrange(keys + "leases", 0, -1) if t.startswith(b"a:")]
        client.zadd(keys + "leases", dict.fromkeys(held, 0))
        written_by_victim = len(victim.items())
        rerun = cluster.start("a")  # the same command again, as an operator would
        survivor.wait()
        rerun.wait()
        expected = site.canonical_urls(server.url)
    assert survivor.proc.returncode == 0 and rerun.proc.returncode == 0, cluster.logs()
    # A kill between the feed's line and the claim's "written" mark leaves that line
    # in the victim's file while its lease brings the page back to another worker:
    # only such an article may have two lines, and `newsites merge`, the documented
    # last step, keeps one line per article.
    victim_ids = {item["id"] for item in victim.items()}
    twice = {
        i for i, n in Counter(i["id"] for i in cluster.all_items()).items() if n > 1
    }
    assert twice <= victim_ids and len(twice) <= len(held), (twice, cluster.logs())
    merged = tmp_path / "merged.jsonl"
    outputs = [str(w.output) for w in cluster.workers]
    assert merge_main(["merge", *outputs, "-o", str(merged)]) == 0
    lines = [json.loads(line) for line in merged.read_text().splitlines()]
    assert sorted(r["url"] for r in lines) == sorted(expected), cluster.logs()
    status = read_status(client, cluster.run_id)
    assert status.counters.get("requeued_expired", 0) >= len(held), (
        f"the victim held {len(held)} leases but only "
        f"{status.counters.get('requeued_expired', 0)} came back: {status}"
    )
    assert status.finished, status
    assert 0 < written_by_victim < len(expected), written_by_victim
    cluster.assert_offline()


def test_the_site_delay_holds_across_workers(
    tmp_path: Path, redis: RedisServer
) -> None:
    """Three workers, one site with download_delay 0.2 s: the server never sees two
    requests closer than the delay (10 ms for the timestamps), on a loaded machine
    too: the delay counts from each answer as well as from each check."""
    delay = 0.2
    site = NewsSite(n_articles=8)
    with SiteServer() as server:
        sites_dir = site_on(server, tmp_path, site, download_delay=delay)
        cluster = Cluster(tmp_path, redis, sites_dir)
        for name in ("p1", "p2", "p3"):
            cluster.start(name)
        cluster.wait_all()
        times = sorted(entry.time for entry in server.log)
    assert [w.proc.returncode for w in cluster.workers] == [0, 0, 0], cluster.logs()
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) >= 15, f"too few requests to judge: {len(times)}"
    # A delay that is not shared gives many close pairs (gaps ~0.01 s).
    close = [round(g, 3) for g in gaps if g < delay - 0.01]
    assert not close, (
        f"{len(close)} pairs of requests closer than the delay ({delay} s): the "
        f"delay is not a floor across workers (gaps: {[round(g, 3) for g in gaps]})"
    )
    mean = (times[-1] - times[0]) / len(gaps)
    assert mean >= 0.95 * delay, f"mean gap {mean:.3f} s < {delay}"
    delayed = sum(
        w.stats().get("cluster/politeness/delayed", 0) for w in cluster.workers
    )
    assert delayed > 0, "no request waited for the shared delay"


def test_an_unreachable_redis_stops_the_worker_with_a_clear_message(
    tmp_path: Path, redis: RedisServer
) -> None:
    port = redis.port
    redis.stop()  # a port nobody listens on any more
    site = NewsSite(n_articles=4)
    with SiteServer() as server:
        sites_dir = site_on(server, tmp_path, site)
        cluster = Cluster(
            tmp_path,
            redis,
            sites_dir,
            settings={
                "CLUSTER_REDIS_URL": f"redis://127.0.0.1:{port}/0",
                "SEEN_ENABLED": False,
            },
        )
        worker = cluster.start("lonely")
        worker.wait(60)
        fetched = server.paths()
    assert worker.proc.returncode != 0, worker.log()[-2000:]
    assert "cannot reach Redis at CLUSTER_REDIS_URL" in worker.log(), worker.log()[
        -3000:
    ]
    assert fetched == [], f"a worker without its frontier fetched {fetched}"


# --- the lease book against a real Redis ----------------------------------------------


class _Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def _config(redis: RedisServer, worker: str, **changes: Any) -> ClusterConfig:
    values: dict[str, Any] = {
        "CLUSTER_REDIS_URL": redis.url,
        "CLUSTER_RUN_ID": "unit",
        "CLUSTER_WORKER_ID": worker,
        "CLUSTER_LEASE_SECONDS": 30,
        "CLUSTER_HEARTBEAT_SECONDS": 1,
        "CLUSTER_MAX_REQUEUES": 1,
        "CLUSTER_SHARED_POLITENESS": True,
        **changes,
    }
    config = ClusterConfig.from_settings(Settings(values))
    assert config is not None
    return config


def _book(redis: RedisServer, worker: str, **changes: Any) -> LeaseBook:
    stats: Any = _Stats()
    book = LeaseBook(redis.client(), _config(redis, worker, **changes), stats)
    book.renew()  # enters the run, as a worker does when its spider opens
    return book


def test_a_popped_request_stays_in_the_run_until_released(redis: RedisServer) -> None:
    book = _book(redis, "one")
    assert book.enqueue(b"page-1", -10, "fp1", "")
    assert not book.enqueue(b"page-1 again", -10, "fp1", ""), "dupefilter let it in"
    popped = book.pop()
    assert popped is not None and popped[0] == b"page-1"
    data, token = popped
    book.hold(token, object())  # type: ignore[arg-type]
    snapshot = book.snapshot(mark_done=True)
    assert (snapshot.queued, snapshot.leased) == (0, 1), snapshot
    assert not snapshot.done_marked, "a run with a request in flight marked done"
    book.release(token, "handled")
    snapshot = book.snapshot(mark_done=True)
    assert snapshot.finished and snapshot.done_marked, snapshot
    assert book.enqueue(b"page-2", 0, "fp2", ""), "a new request was not queued"
    assert not book.snapshot().done_marked, "a new request did not undo 'done'"


def test_an_expired_lease_goes_back_to_the_queue_once(redis: RedisServer) -> None:
    dead = _book(
        redis, "dead", CLUSTER_LEASE_SECONDS=0.4, CLUSTER_HEARTBEAT_SECONDS=0.1
    )
    alive = _book(redis, "alive")
    dead.enqueue(b"article", -10, "fp", "")
    popped = dead.pop()
    assert popped is not None
    assert alive.requeue_expired() == (0, 0), "a live lease was taken away"
    time.sleep(0.5)  # the dead worker never renews
    assert alive.requeue_expired() == (1, 0)
    again = alive.pop()
    assert again is not None and again[0] == b"article", "the request did not come back"
    time.sleep(0.01)
    # CLUSTER_MAX_REQUEUES=1: a request whose workers keep dying is dropped, counted.
    redis.client().zadd(alive.keys.leases, {again[1]: 0})
    assert alive.requeue_expired() == (0, 1)
    assert alive.stats.values["cluster/dropped_after_requeues"] == 1  # type: ignore[attr-defined]


def test_a_closing_worker_hands_its_requests_back(redis: RedisServer) -> None:
    book = _book(redis, "closing")
    book.enqueue(b"a", 0, "fa", "")
    book.enqueue(b"b", 0, "fb", "")
    for _ in range(2):
        popped = book.pop()
        assert popped is not None
        book.hold(popped[1], object())  # type: ignore[arg-type]
    assert book.give_back() == 2
    snapshot = book.snapshot()
    assert (snapshot.queued, snapshot.leased) == (2, 0), snapshot


def test_a_seeding_worker_keeps_the_run_open(redis: RedisServer) -> None:
    book = _book(redis, "seeder")
    book.set_seeding(True)
    assert not book.snapshot(mark_done=True).finished
    book.set_seeding(False)
    assert book.snapshot(mark_done=True).finished


# --- politeness signals --------------------------------------------------------------


def _politeness(redis: RedisServer, **settings: Any) -> Any:
    from scrapy.utils.test import get_crawler

    from crawler.cluster.politeness import SharedPolitenessMiddleware

    crawler = get_crawler(
        settings_dict={
            "ADDONS": {"crawler.cluster.addon.ClusterAddon": 0},
            "CLUSTER_REDIS_URL": redis.url,
            "CLUSTER_RUN_ID": "unit",
            "CLUSTER_LEASE_SECONDS": 30,
            "CLUSTER_HEARTBEAT_SECONDS": 1,
            "CLUSTER_MAX_REQUEUES": 3,
            "CLUSTER_SHARED_POLITENESS": True,
            "DOWNLOAD_DELAY": 0.5,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
            "CRAWL_DELAY_MAX": 30,
            "RETRY_AFTER_ENABLED": True,
            "RETRY_AFTER_HTTP_CODES": [429, 503],
            "RETRY_AFTER_MAX_DELAY": 120,
            "RETRY_AFTER_BACKOFF_BASE": 2,
            **settings,
        }
    )
    return SharedPolitenessMiddleware.from_crawler(crawler)


def test_robots_crawl_delay_becomes_the_cluster_delay(redis: RedisServer) -> None:
    from scrapy import Request

    mw = _politeness(redis, CRAWL_DELAY_MAX=4)
    assert mw.cluster.limit_for("news.example").delay == 0.5
    robots = SimpleNamespace(crawl_delay=lambda agent: 10)
    mw.robots_parsed(robots, Request("http://news.example/robots.txt"))
    assert mw.cluster.limit_for("news.example").delay == 4, "not capped at the max"
    assert mw.cluster.limit_for("other.example").delay == 0.5


def test_retry_after_pauses_the_host_for_every_worker(redis: RedisServer) -> None:
    from scrapy import Request
    from scrapy.http import Response

    mw = _politeness(redis)
    request = Request("http://busy.example/a")
    answer = Response(request.url, status=429, headers={"Retry-After": "7"})
    assert mw.process_response(request, answer) is answer
    client = redis.client()
    seconds, micros = client.time()
    until = float(client.get("newsites:hosts:busy.example:next") or 0)
    assert 6.5 < until - (seconds + micros / 1e6) <= 7.01, "host not paused 7 s"


# --- settings -------------------------------------------------------------------------


def test_without_a_redis_url_the_addon_stays_off() -> None:
    settings = get_project_settings()
    addon = ClusterAddon(SimpleNamespace())  # type: ignore[arg-type]
    with pytest.raises(NotConfigured):
        addon.update_settings(settings)
    assert settings.get("SCHEDULER") == "crawler.scheduler.SpillingScheduler"
    assert "crawler.cluster.addon.ClusterAddon" in settings.getdict("ADDONS")


def test_cluster_mode_installs_the_shared_frontier(redis: RedisServer) -> None:
    settings = get_project_settings()
    settings.set("CLUSTER_REDIS_URL", redis.url, priority="cmdline")
    settings.set("CLUSTER_RUN_ID", "2024-05-02", priority="cmdline")
    settings.set("DOWNLOAD_SLOTS", {"news.example": {"delay": 2.0}}, priority="spider")
    addon = ClusterAddon(SimpleNamespace())  # type: ignore[arg-type]
    addon.update_settings(settings)
    assert settings.get("SCHEDULER") == "crawler.cluster.scheduler.ClusterScheduler"
    assert settings.get("DUPEFILTER_CLASS") == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings.getbool("SCHEDULER_PERSIST") is True
    assert settings.get("SCHEDULER_QUEUE_KEY") == "newsites:2024-05-02:requests"
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    assert settings.getdict("DOWNLOAD_SLOTS")["news.example"]["delay"] == 0
    assert addon.limit_for("NEWS.example").delay == 2.0
    assert not settings.getbool("AUTOTHROTTLE_ENABLED")
    mws = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert mws["crawler.cluster.politeness.SharedPolitenessMiddleware"] == 990


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"CLUSTER_RUN_ID": ""}, "CLUSTER_RUN_ID must name the run"),
        ({"CLUSTER_RUN_ID": "a b"}, "CLUSTER_RUN_ID must name the run"),
        ({"CLUSTER_REDIS_URL": "http://x"}, "CLUSTER_REDIS_URL must be a redis://"),
        ({"CLUSTER_LEASE_SECONDS": 2}, "at least 3 x CLUSTER_HEARTBEAT_SECONDS"),
    ],
)
def test_bad_cluster_settings_are_named(changes: dict[str, Any], message: str) -> None:
    values = {
        "CLUSTER_REDIS_URL": "redis://127.0.0.1:1/0",
        "CLUSTER_RUN_ID": "r",
        "CLUSTER_LEASE_SECONDS": 30,
        "CLUSTER_HEARTBEAT_SECONDS": 1,
        **changes,
    }
    with pytest.raises(ClusterConfigError, match=message):
        ClusterConfig.from_settings(Settings(values))
