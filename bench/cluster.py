"""Cluster benchmark: what sharing a Redis frontier costs and what it keeps.

Starts a throw-away ``redis-server`` and the generated news site (tests/support) on
127.0.0.1, then crawls the site:

- ``scaling``: the same site with 1, 2 and 3 workers (and once without cluster mode),
  no delay, every page answered after ``--latency`` seconds: wall time from the
  first to the last request, pages per second, Redis script calls (round trips)
  and commands (counting those inside scripts) per fetched page, and the bytes of
  a queued request;
- ``politeness``: three workers, one site with ``download_delay`` each of
  ``--delays``: server-side gaps between consecutive requests (min, the first
  three at start-up, 5th percentile, median) and the requests re-scheduled
  rather than sent too close;
- ``fairness``: three workers, a fast site (``--articles`` stories, no delay, every
  page ``--latency`` s) and a slow one (``--slow-delay`` between requests) served
  under two host names: how many slow-site requests were fetched before the fast
  site's last article, when each site ended, the slow site's smallest gap, and
  the lease counters (hosts skipped as busy);
- ``recovery``: two workers, one killed with SIGKILL while it holds leases: how long
  until its requests were fetched again, and whether every article was written once.

    .venv/bin/python bench/cluster.py [--articles 120] [--latency 0.2]
        [--delays 0.2,1.0] [--slow-delay 1.0] [--lease 5] [--concurrency 8]
        [--only scaling|politeness|fairness|recovery]

Figures depend on the machine (2 shared cores here); docs/cluster.md quotes a run.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.newssite import NewsSite  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.server import Page, SiteServer  # noqa: E402
from tests.test_cluster import Cluster  # noqa: E402


def _slow(server: SiteServer, latency: float) -> None:
    for path, page in list(server.pages.items()):
        server.pages[path] = Page(
            page.body,
            page.status,
            page.content_type,
            page.headers,
            latency,
            page.gzip_body,
        )


def _commands(redis: RedisServer) -> tuple[int, int]:
    """(script calls, commands including those run inside scripts)."""
    stats: dict[str, Any] = redis.client().info("commandstats")
    scripts = int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
    return scripts, sum(int(v["calls"]) for v in stats.values())


def scaling(tmp: Path, args: argparse.Namespace) -> None:
    print(
        f"scaling: {args.articles} stories, every page {args.latency} s, no delay, "
        f"CONCURRENT_REQUESTS {args.concurrency} per worker, 8 per host in all"
    )
    for workers in (0, 1, 2, 3):
        run = tmp / f"scaling-{workers}"
        run.mkdir()
        site = NewsSite(n_articles=args.articles)
        with RedisServer(run / "redis") as redis, SiteServer() as server:
            site.install(server)
            _slow(server, args.latency)
            sites = site.write_site_file(
                run / "sites",
                server.url,
                crawl={"download_delay": 0.0001, "concurrency": 8},
            )
            settings: dict[str, Any] = {
                "CONCURRENT_REQUESTS": args.concurrency,
                "SEEN_ENABLED": False,
            }
            if workers == 0:  # the single-machine crawl, for reference
                settings["CLUSTER_REDIS_URL"] = ""
                settings["AUTOTHROTTLE_ENABLED"] = False
            cluster = Cluster(run, redis, sites, settings=settings)
            before = _commands(redis)
            for n in range(max(1, workers)):
                cluster.start(f"w{n}")
            cluster.wait_all(timeout=600)
            times = sorted(e.time for e in server.log)
            pages = len(times)
            span = times[-1] - times[0]
            after = _commands(redis)
            scripts, commands = after[0] - before[0], after[1] - before[1]
            ids = Counter(i["id"] for i in cluster.all_items())
        label = "no cluster" if workers == 0 else f"{workers} worker(s)"
        per_page = (
            f", per page {scripts / pages:.1f} script calls, "
            f"{commands / pages:.1f} Redis commands"
            if workers
            else ""
        )
        print(
            f"  {label:12} {pages} pages in {span:.1f} s = {pages / span:.1f} "
            f"pages/s, {len(ids)} articles, duplicates "
            f"{sum(n - 1 for n in ids.values())}{per_page}"
        )
    print(f"  a queued article request: {_request_size(tmp)}")


def _request_size(tmp: Path) -> str:
    """Bytes of one pickled article request, as the scheduler queues it (the
    spider built from a crawler, as in a worker: its callbacks are looked up)."""
    import pickle

    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.spiders.newsites import NewsitesSpider

    site = NewsSite(n_articles=8)
    base = "http://127.0.0.1:8000"
    sites = site.write_site_file(tmp / "size-sites", base)
    crawler = get_crawler(NewsitesSpider, {"SITES_DIR": str(sites)})
    spider = NewsitesSpider.from_crawler(crawler)
    request = Request(
        f"{base}{site.stories[0].path}",
        callback=spider.parse_article,
        errback=spider.on_error,
        meta={"site": "herald", "article": True},
        cb_kwargs={"site_id": "herald"},
    )
    data = pickle.dumps(request.to_dict(spider=spider), protocol=-1)
    with RedisServer(tmp / "size-redis") as redis:
        client = redis.client()
        client.zadd("q", {data: 0})
        memory = client.memory_usage("q")
    return (
        f"{len(data)} bytes pickled, {memory} bytes of Redis memory for a "
        "one-item queue"
    )


def _gaps(times: list[float]) -> list[float]:
    times = sorted(times)
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def _stat(cluster: Cluster, name: str) -> int:
    return sum(int(w.stats().get(name, 0)) for w in cluster.workers)


def _lag(cluster: Cluster) -> str:
    """How late requests were written after their check, and the waits it caused."""
    worst = max(
        int(w.stats().get("cluster/politeness/send_lag_max_ms", 0))
        for w in cluster.workers
    )
    return (
        f"send lag max {worst} ms, waited for a late previous send "
        f"{_stat(cluster, 'cluster/politeness/waited_for_previous_send')}"
    )


def politeness(tmp: Path, args: argparse.Namespace) -> None:
    for delay in (float(d) for d in args.delays.split(",")):
        run = tmp / f"politeness-{delay}"
        run.mkdir()
        site = NewsSite(n_articles=16)
        with RedisServer(run / "redis") as redis, SiteServer() as server:
            site.install(server)
            sites = site.write_site_file(
                run / "sites", server.url, crawl={"download_delay": delay}
            )
            cluster = Cluster(run, redis, sites, settings={"SEEN_ENABLED": False})
            for n in range(3):
                cluster.start(f"p{n}")
            cluster.wait_all(timeout=600)
            times = sorted(e.time for e in server.log)
        gaps = _gaps(times)
        p5 = sorted(gaps)[max(0, len(gaps) // 20 - 1)]
        print(
            f"politeness: 3 workers, download_delay {delay} s, {len(times)} "
            f"requests: gap min {min(gaps):.3f} s (start-up, first 3: "
            f"{min(gaps[:3]):.3f} s), p5 {p5:.3f} s, median "
            f"{statistics.median(gaps):.3f} s, mean "
            f"{(times[-1] - times[0]) / len(gaps):.3f} s; re-scheduled: late "
            f"{_stat(cluster, 'cluster/politeness/late_requeued')}, taken "
            f"{_stat(cluster, 'cluster/politeness/taken_requeued')}; "
            f"{_lag(cluster)}"
        )


def fairness(tmp: Path, args: argparse.Namespace) -> None:
    """A fast and a slow site crawled together by three workers.

    The hosts are names (``herald.test`` slow, ``tribune.test`` fast) resolved to
    127.0.0.1 by the test network guard. Equal-priority requests are ordered by
    their bytes in the old single queue, so there the slow site comes first, as in
    the case that was measured (every lease held by the slow site)."""
    run = tmp / "fairness"
    run.mkdir()
    os.environ["NEWSITES_NETGUARD_HOSTS"] = (
        "herald.test=127.0.0.1,tribune.test=127.0.0.1"
    )
    slow_site = NewsSite(n_articles=args.slow_articles, name="Herald")
    fast_site = NewsSite(n_articles=args.articles, name="Tribune")
    with (
        RedisServer(run / "redis") as redis,
        SiteServer() as slow,
        SiteServer() as fast,
    ):
        slow_base = f"http://herald.test:{slow.port}"
        fast_base = f"http://tribune.test:{fast.port}"
        slow.pages = slow_site.pages(slow_base)
        fast.pages = fast_site.pages(fast_base)
        _slow(fast, args.latency)
        sites = run / "sites"
        # The slow site lists every article in its sitemaps, found within its first
        # few requests: its articles (priority 10) are queued early, while the fast
        # site still has section pages (priority 0) to walk.
        slow_site.write_site_file(
            sites,
            slow_base,
            site_id="herald",
            discovery={
                "robots_sitemaps": True,
                "feed_autodiscovery": False,
                "sections": None,
            },
            crawl={"download_delay": args.slow_delay},
        )
        fast_site.write_site_file(
            sites,
            fast_base,
            site_id="tribune",
            crawl={"download_delay": 0.0001, "concurrency": args.concurrency},
        )
        cluster = Cluster(
            run,
            redis,
            sites,
            settings={"CONCURRENT_REQUESTS": args.concurrency, "SEEN_ENABLED": False},
        )
        for n in range(3):
            cluster.start(f"f{n}")
        cluster.wait_all(timeout=900)
        articles = {s.path for s in fast_site.stories}
        fast_times = [e.time for e in fast.log]
        last_fast = max(e.time for e in fast.log if e.path in articles)
        slow_times = sorted(e.time for e in slow.log)
    start = min(fast_times + slow_times)
    before = sum(1 for t in slow_times if t < last_fast)
    items = cluster.all_items()
    print(
        f"fairness: 3 workers x CONCURRENT_REQUESTS {args.concurrency}; fast site "
        f"{len(fast_times)} requests ({args.articles} articles, {args.latency} s "
        f"each), slow site {len(slow_times)} requests ({args.slow_delay} s apart)"
    )
    print(
        f"  slow-site requests before the fast site's last article: {before}; "
        f"fast site's last article at {last_fast - start:.1f} s, slow site's last "
        f"request at {slow_times[-1] - start:.1f} s; slow-site gap min "
        f"{min(_gaps(slow_times)):.3f} s; {len(items)} articles written"
    )
    print(
        f"  leases: skipped_busy_host "
        f"{_stat(cluster, 'cluster/lease/skipped_busy_host')}, skipped_booked_host "
        f"{_stat(cluster, 'cluster/lease/skipped_booked_host')}, all_hosts_busy "
        f"{_stat(cluster, 'cluster/lease/all_hosts_busy')}; re-scheduled late "
        f"{_stat(cluster, 'cluster/politeness/late_requeued')}, taken "
        f"{_stat(cluster, 'cluster/politeness/taken_requeued')}; {_lag(cluster)}"
    )


def recovery(tmp: Path, args: argparse.Namespace) -> None:
    run = tmp / "recovery"
    run.mkdir()
    site = NewsSite(n_articles=24)
    with RedisServer(run / "redis") as redis, SiteServer() as server:
        site.install(server)
        for story in site.stories:
            server.pages[story.path] = Page(server.pages[story.path].body, delay=0.5)
        sites = site.write_site_file(
            run / "sites", server.url, crawl={"download_delay": 0.05, "concurrency": 4}
        )
        cluster = Cluster(
            run,
            redis,
            sites,
            settings={"CLUSTER_LEASE_SECONDS": args.lease, "SEEN_ENABLED": False},
        )
        victim = cluster.start("a")
        cluster.start("b")
        client = redis.client()
        held: list[bytes] = []
        while victim.proc.poll() is None:
            held = [
                t
                for t in client.zrange(f"newsites:{cluster.run_id}:leases", 0, -1)
                if t.startswith(b"a:")
            ]
            if held and len(cluster.all_items()) >= 3:
                break
            time.sleep(0.02)
        killed = time.time()
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        cluster.wait_all(timeout=600)
        counters = {
            k.decode(): int(v)
            for k, v in client.hgetall(f"newsites:{cluster.run_id}:counters").items()
        }
        ids = Counter(i["id"] for i in cluster.all_items())
        expected = len(site.canonical_urls(server.url))
        after = [e.time - killed for e in server.log if e.time > killed]
    print(
        f"recovery: victim held {len(held)} leases at SIGKILL (lease "
        f"{args.lease} s); re-queued {counters.get('requeued_expired', 0)}; last "
        f"request {max(after):.1f} s after the kill; {len(ids)}/{expected} "
        f"articles, duplicates {sum(n - 1 for n in ids.values())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument(
        "--delays",
        default="0.2,1.0",
        help="download_delay of each politeness run, comma-separated",
    )
    parser.add_argument(
        "--slow-delay",
        type=float,
        default=1.0,
        help="download_delay of the slow site (fairness)",
    )
    parser.add_argument(
        "--slow-articles",
        type=int,
        default=150,
        help="stories of the slow site (fairness)",
    )
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="CONCURRENT_REQUESTS of each worker (scaling)",
    )
    parser.add_argument(
        "--only", choices=("scaling", "politeness", "fairness", "recovery")
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        tmp = Path(folder)
        for name, func in (
            ("scaling", scaling),
            ("politeness", politeness),
            ("fairness", fairness),
            ("recovery", recovery),
        ):
            if args.only in (None, name):
                func(tmp, args)


if __name__ == "__main__":
    main()
