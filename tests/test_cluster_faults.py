"""Cluster faults, end to end (issue 14): restarts that cannot destroy output, Redis
outages and Redis loss, and the exit status of each case.

Real ``redis-server`` and real ``scrapy crawl newsites`` workers over the generated
site (helpers from tests/test_cluster.py). No assertion on wall-clock timing: the
tests wait for states (lines written, leases held) and check counts.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from crawler.cli import main as newsites_main
from crawler.cluster.status import read_status
from tests.support.newssite import NewsSite
from tests.support.redis_server import RedisServer
from tests.support.server import Page, SiteServer
from tests.test_cluster import Cluster, Worker, site_on

RUN_LOST = 9  # scrapy crawl's exit status for a cluster run that ended short


def slow_site(server: SiteServer, tmp: Path, n: int, delay: float = 0.4) -> NewsSite:
    """A site whose article pages answer after ``delay`` s: a run lasts long enough
    for something to happen in the middle of it."""
    site = NewsSite(n_articles=n)
    site.install(server)
    for story in site.stories:
        server.pages[story.path] = Page(server.pages[story.path].body, delay=delay)
    return site


def wait_for(
    worker_or_cluster: Cluster | Worker, lines: int, timeout: float = 60
) -> None:
    """Until at least ``lines`` article lines are written (every worker alive)."""
    workers = (
        worker_or_cluster.workers
        if isinstance(worker_or_cluster, Cluster)
        else [worker_or_cluster]
    )
    deadline = time.monotonic() + timeout
    while sum(len(w.items()) for w in workers) < lines:
        for w in workers:
            assert w.proc.poll() is None, f"{w.name} ended early:\n{w.log()[-3000:]}"
        assert time.monotonic() < deadline, "no progress:\n" + "\n".join(
            w.log()[-2000:] for w in workers
        )
        time.sleep(0.05)


def ids(lines: list[dict[str, object]]) -> Counter[str]:
    return Counter(str(item["id"]) for item in lines)


def test_a_killed_worker_restarted_with_the_same_command_keeps_what_it_wrote(
    tmp_path: Path,
) -> None:
    """The documented recovery: the same command again, the same output file. The
    lines written before the kill stay (an -O used to empty them while the seen
    store kept their articles from being fetched again); a half line is cut."""
    with RedisServer(tmp_path / "redis") as redis, SiteServer() as server:
        site = slow_site(server, tmp_path, 12)
        sites_dir = site.write_site_file(tmp_path / "sites", server.url, crawl={})
        cluster = Cluster(tmp_path, redis, sites_dir)
        victim = cluster.start("a")
        wait_for(victim, 3)
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        before = victim.items()
        with victim.output.open("a") as out:  # as if killed in the middle of a line
            out.write('{"id": "0123456789abcdef", "url": "http://cut')
        # Its leases expire now (the test drives the expiry, not the clock).
        client = redis.client()
        leases = f"newsites:{cluster.run_id}:leases"
        client.zadd(leases, dict.fromkeys(client.zrange(leases, 0, -1), 0))
        again = cluster.start("a", output=victim.output)
        again.wait(120)
        expected = site.canonical_urls(server.url)
    assert again.proc.returncode == 0, again.log()[-3000:]
    after = again.items()
    assert after[: len(before)] == before, "the restart changed what was written"
    assert all(line.endswith("}") for line in again.output.read_text().splitlines())
    assert "Recovered the output of a killed crawl" in again.log()
    written = ids(after)
    assert {str(i["url"]) for i in after} == expected, cluster.logs()
    # A kill between a line and its claim's mark may leave that one article twice.
    assert sum(n - 1 for n in written.values()) <= 1, written


def test_a_worker_killed_after_marking_an_article_leaves_no_claim_open(
    tmp_path: Path,
) -> None:
    """The kill lands after the article's line is written and marked exported, before
    its claim is settled (tests/support/killer.py puts it there every time). The
    re-fetch finds the article exported and settles the dead worker's claim: the run
    finishes (exit 0), with every article once. It used to end "short" (exit 9) with
    nothing missing: the claim stayed open (the flaky killed-worker test in CI)."""
    from scrapy.utils.project import get_project_settings

    from tests.support.killer import ORDER, KillAfterMarked

    extensions = dict(get_project_settings().getdict("EXTENSIONS"))
    extensions[f"{KillAfterMarked.__module__}.KillAfterMarked"] = ORDER
    with RedisServer(tmp_path / "redis") as redis, SiteServer() as server:
        site = NewsSite(n_articles=6)
        sites_dir = site_on(server, tmp_path, site, download_delay=0.02)
        cluster = Cluster(tmp_path, redis, sites_dir, run_id="killed")
        cluster.settings = {"EXTENSIONS": json.dumps(extensions)}
        victim = cluster.start("a")
        victim.wait(120)
        client = redis.client()
        prefix = f"newsites:{cluster.run_id}:"
        claims = {
            k.decode(): v.decode() for k, v in client.hgetall(prefix + "claims").items()
        }
        marked = client.hlen("test:seen:articles")
        leases = prefix + "leases"
        client.zadd(leases, dict.fromkeys(client.zrange(leases, 0, -1), 0))
        cluster.settings = {}
        survivor = cluster.start("b")
        survivor.wait(120)
        expected = site.canonical_urls(server.url)
        status = read_status(client, cluster.run_id)
    assert victim.proc.returncode == -signal.SIGKILL, victim.log()[-3000:]
    # The state the kill must leave: one line written and marked, its claim open.
    assert len(victim.items()) == 1 and marked == 1, (victim.items(), marked)
    assert list(claims) == [victim.items()[0]["id"]], claims
    assert claims[victim.items()[0]["id"]] != "written", claims
    assert survivor.proc.returncode == 0, survivor.log()[-3000:]
    assert survivor.stats().get("cluster/claim_settled_exported") == 1, survivor.stats()
    assert status.finished and status.state == "finished", status
    assert status.counters.get("articles_written") == len(expected), status
    written = ids(victim.items() + survivor.items())
    assert {str(i["url"]) for i in victim.items() + survivor.items()} == expected
    assert set(written.values()) == {1}, written


def test_a_rerun_of_a_finished_run_id_loses_nothing(tmp_path: Path) -> None:
    """The cron example names runs by date: a second run that day reuses the id.
    The workers' files keep their lines, and merge never shrinks the merged file."""
    with RedisServer(tmp_path / "redis") as redis, SiteServer() as server:
        site = NewsSite(n_articles=6)
        sites_dir = site_on(server, tmp_path, site, download_delay=0.02)
        first = Cluster(tmp_path, redis, sites_dir, run_id="2024-11-29")
        worker = first.start("w1")
        worker.wait(120)
        written = worker.output.read_text()
        merged = tmp_path / "merged.jsonl"
        assert newsites_main(["merge", str(worker.output), "-o", str(merged)]) == 0
        again = first.start("w1", output=worker.output)
        again.wait(120)
        status = read_status(redis.client(), first.run_id)
        expected = site.canonical_urls(server.url)
    assert worker.proc.returncode == 0 and again.proc.returncode == 0, first.logs()
    assert {str(i["url"]) for i in worker.items()} == expected
    assert again.output.read_text() == written, "the rerun changed the output"
    assert newsites_main(["merge", str(again.output), "-o", str(merged)]) == 0
    assert len(merged.read_text().splitlines()) == len(expected)
    assert status.finished, status


@pytest.mark.parametrize("persistent", [True, False], ids=["aof", "no-persistence"])
def test_redis_restarted_mid_run(tmp_path: Path, persistent: bool) -> None:
    """Redis stops for ~2 s in the middle of a run and comes back. With its data
    (append-only file) the workers ride the outage out: every article written
    exactly once, exit 0, the run finished. Without it the run's data is gone: the
    workers stop with exit status 9 and the run is not reported finished."""
    redis = RedisServer(tmp_path / "redis", persistent=persistent).start()
    try:
        with SiteServer() as server:
            site = slow_site(server, tmp_path, 16, delay=0.3)
            sites_dir = site.write_site_file(
                tmp_path / "sites", server.url, crawl={"concurrency": 4}
            )
            cluster = Cluster(
                tmp_path,
                redis,
                sites_dir,
                settings={"SEEN_REDIS_PREFIX": "faults:seen"},
            )
            cluster.start("w1")
            cluster.start("w2")
            wait_for(cluster, 3)
            redis.restart(down_seconds=2)
            cluster.wait_all(180)
            expected = site.canonical_urls(server.url)
            status = read_status(redis.client(), cluster.run_id)
    finally:
        redis.stop()
    codes = [w.proc.returncode for w in cluster.workers]
    stats = [w.stats() for w in cluster.workers]
    if persistent:
        assert codes == [0, 0], cluster.logs()
        written = ids(cluster.all_items())
        assert {str(i["url"]) for i in cluster.all_items()} == expected, (
            f"missing {expected - {str(i['url']) for i in cluster.all_items()}}\n"
            + cluster.logs()
        )
        assert max(written.values()) == 1, written
        assert status.finished, status
    else:
        assert codes == [RUN_LOST, RUN_LOST], cluster.logs()
        assert all(s.get("finish_reason") == "cluster_run_lost" for s in stats), stats
        assert all("are gone from Redis" in w.log() for w in cluster.workers)
        assert not status.finished and status.state != "finished", status


def test_sigterm_exits_130_and_a_rerun_appends(tmp_path: Path) -> None:
    """A worker stopped with SIGTERM (a deploy, a shutdown) reports it: exit 130."""
    with RedisServer(tmp_path / "redis") as redis, SiteServer() as server:
        site = slow_site(server, tmp_path, 10)
        sites_dir = site.write_site_file(tmp_path / "sites", server.url, crawl={})
        cluster = Cluster(tmp_path, redis, sites_dir)
        worker = cluster.start("t1")
        wait_for(worker, 2)
        worker.proc.send_signal(signal.SIGTERM)
        worker.wait(120)
        stopped = worker.stats()
        status = read_status(redis.client(), cluster.run_id)
    assert worker.proc.returncode == 130, worker.log()[-3000:]
    assert stopped.get("finish_reason") == "shutdown", stopped
    assert not status.finished, status


def test_cluster_status_reports_an_incomplete_run(tmp_path: Path) -> None:
    """A run whose books do not balance (an article claimed and never written,
    requests given up) is "incomplete: N missing", exit 3, never "finished"."""
    with RedisServer(tmp_path / "redis") as redis, SiteServer() as server:
        site = NewsSite(n_articles=3)
        sites_dir = site_on(server, tmp_path, site, download_delay=0.02)
        cluster = Cluster(tmp_path, redis, sites_dir, run_id="books")
        worker = cluster.start("w1")
        worker.wait(120)
        client = redis.client()
        assert (
            newsites_main(["cluster", "status", "--redis", redis.url, "--run", "books"])
            == 0
        )
        client.hset("newsites:books:claims", "f" * 16, "dead-worker:1:0")
        client.hincrby("newsites:books:counters", "dropped_after_requeues", 2)
        status = read_status(client, "books")
        code = newsites_main(
            ["cluster", "status", "--redis", redis.url, "--run", "books", "--json"]
        )
    assert worker.proc.returncode == 0, worker.log()[-3000:]
    assert status.state == "incomplete: 3 missing", status
    assert code == 3


def test_a_worker_run_ended_short_exits_9(tmp_path: Path) -> None:
    """A worker that finds the run ended with missing work says so: exit 9."""
    with RedisServer(tmp_path / "redis") as redis, SiteServer() as server:
        site = NewsSite(n_articles=8)
        sites_dir = site_on(server, tmp_path, site, download_delay=0.02)
        client = redis.client()
        client.hincrby("newsites:short:counters", "dropped_after_requeues", 1)
        cluster = Cluster(tmp_path, redis, sites_dir, run_id="short")
        worker = cluster.start("w1")
        worker.wait(120)
        expected = site.canonical_urls(server.url)
    assert worker.proc.returncode == RUN_LOST, worker.log()[-3000:]
    assert worker.stats().get("cluster/incomplete") == 1, worker.stats()
    assert "ended short" in worker.log()
    assert {str(i["url"]) for i in worker.items()} == expected


def test_crawl_exit_codes_from_stats() -> None:
    from crawler.commands.crawl import crawl_exit_code

    cases = {
        130: {"finish_reason": "shutdown"},
        7: {"finish_reason": "feed_write_failed"},
        6: {"finish_reason": "seen_store_failed"},
        8: {"finish_reason": "closespider_timeout"},
        9: {"finish_reason": "cluster_run_lost"},
        0: {"finish_reason": "finished"},
    }
    for code, stats in cases.items():
        assert crawl_exit_code(stats) == code, stats
    assert crawl_exit_code({}) == 130, "no finish_reason: stopped by a second signal"
    assert crawl_exit_code({"finish_reason": "finished", "cluster/incomplete": 2}) == 9


def test_minus_O_and_an_unreachable_redis_are_one_line_each(tmp_path: Path) -> None:
    """-O is refused in cluster mode with one line (exit 2), before any request."""
    import subprocess
    import sys

    from tests.support.crawl import PROJECT_ROOT

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "newsites",
            "-O",
            str(tmp_path / "w.jsonl"),
            "-s",
            "CLUSTER_REDIS_URL=redis://:pw@127.0.0.1:1/0",
            "-s",
            "CLUSTER_RUN_ID=r1",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("scrapy crawl: error: cluster mode: -O would empty")
    ), result.stderr
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "newsites",
            "-o",
            str(tmp_path / "w.jsonl"),
            "-s",
            "CLUSTER_REDIS_URL=redis://:pw@127.0.0.1:1/0",
            "-s",
            "CLUSTER_RUN_ID=r1",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 69, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "scrapy crawl: cannot reach Redis at CLUSTER_REDIS_URL="
        "redis://:***@127.0.0.1:1/0"
    ), result.stderr
    assert ":pw@" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "w.jsonl").exists(), "a refused worker opened its output"


def test_a_silent_worker_leaves_the_list_of_workers(tmp_path: Path) -> None:
    """A SIGKILLed worker sends no more heartbeats: after 3 leases the live workers
    drop it from the run's list (cluster status no longer shows it forever)."""
    from tests.test_cluster import _book

    with RedisServer(tmp_path / "redis") as redis:
        alive = _book(redis, "alive", CLUSTER_LEASE_SECONDS=3)
        client = redis.client()
        workers = f"newsites:{alive.config.run_id}:workers"
        now = float(client.time()[0])
        client.hset(workers, mapping={"killed": now - 10, "recent": now - 1})
        alive.renew()
        left = {k.decode() for k in client.hkeys(workers)}
    assert left == {"alive", "recent"}, left


def test_an_outage_longer_than_the_retries_loses_nothing(tmp_path: Path) -> None:
    """Redis down longer than CLUSTER_REDIS_RETRY_SECONDS: Redis calls fail (claims,
    child requests, lease ends, pops). What failed is fetched again once Redis is
    back (its lease expires, or it is given back), and nothing is refused as a
    duplicate by a worker that had seen it in memory: every article once."""
    redis = RedisServer(tmp_path / "redis", persistent=True).start()
    try:
        with SiteServer() as server:
            site = slow_site(server, tmp_path, 16, delay=0.3)
            sites_dir = site.write_site_file(
                tmp_path / "sites", server.url, crawl={"concurrency": 4}
            )
            cluster = Cluster(
                tmp_path,
                redis,
                sites_dir,
                settings={
                    "CLUSTER_REDIS_RETRY_SECONDS": 0.3,
                    "CLUSTER_LEASE_SECONDS": 8,
                    "SEEN_REDIS_PREFIX": "outage:seen",
                },
            )
            cluster.start("w1")
            cluster.start("w2")
            wait_for(cluster, 3)
            redis.restart(down_seconds=3)
            cluster.wait_all(240)
            expected = site.canonical_urls(server.url)
            status = read_status(redis.client(), cluster.run_id)
    finally:
        redis.stop()
    items = cluster.all_items()
    assert {str(i["url"]) for i in items} == expected, (
        f"missing {sorted(expected - {str(i['url']) for i in items})}\n"
        + cluster.logs()
    )
    written = ids(items)
    assert max(written.values()) == 1, written
    assert status.finished, status
