"""Cluster benchmark: what sharing a Redis frontier costs and what it keeps.

Starts a throw-away ``redis-server`` and the generated news site (tests/support) on
127.0.0.1, then crawls the site:

- ``scaling``: the same site with 1, 2 and 3 workers (and once without cluster mode),
  no delay, every page answered after ``--latency`` seconds: wall time from the
  first to the last request, pages per second, Redis script calls (round trips)
  and commands (counting those inside scripts) per fetched page, and the bytes of
  a queued request;
- ``politeness``: three workers, one site with ``download_delay`` ``--delay``:
  server-side gaps between consecutive requests (min, 5th percentile, median);
- ``recovery``: two workers, one killed with SIGKILL while it holds leases: how long
  until its requests were fetched again, and whether every article was written once.

    .venv/bin/python bench/cluster.py [--articles 120] [--latency 0.2] [--delay 0.2]
        [--lease 5] [--concurrency 8] [--only scaling|politeness|recovery]

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
        server.pages[path] = Page(page.body, page.status, page.content_type,
                                  page.headers, latency, page.gzip_body)


def _commands(redis: RedisServer) -> tuple[int, int]:
    """(script calls, commands including those run inside scripts)."""
    stats: dict[str, Any] = redis.client().info("commandstats")
    scripts = int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
    return scripts, sum(int(v["calls"]) for v in stats.values())


def scaling(tmp: Path, args: argparse.Namespace) -> None:
    print(f"scaling: {args.articles} stories, every page {args.latency} s, no delay, "
          f"CONCURRENT_REQUESTS {args.concurrency} per worker, 8 per host in all")
    for workers in (0, 1, 2, 3):
        run = tmp / f"scaling-{workers}"
        run.mkdir()
        site = NewsSite(n_articles=args.articles)
        with RedisServer(run / "redis") as redis, SiteServer() as server:
            site.install(server)
            _slow(server, args.latency)
            sites = site.write_site_file(run / "sites", server.url,
                                         crawl={"download_delay": 0.0001,
                                                "concurrency": 8})
            settings: dict[str, Any] = {"CONCURRENT_REQUESTS": args.concurrency,
                                        "SEEN_ENABLED": False}
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
        per_page = (f", per page {scripts / pages:.1f} script calls, "
                    f"{commands / pages:.1f} Redis commands" if workers else "")
        print(f"  {label:12} {pages} pages in {span:.1f} s = {pages / span:.1f} "
              f"pages/s, {len(ids)} articles, duplicates "
              f"{sum(n - 1 for n in ids.values())}{per_page}")
    size_site = NewsSite(n_articles=8)
    with RedisServer(tmp / "size-redis") as redis:
        client = redis.client()
        from scrapy import Request

        from crawler.spiders.newsites import NewsitesSpider

        spider = NewsitesSpider()
        import pickle

        story = size_site.stories[0]
        request = Request(f"http://127.0.0.1:8000{story.path}",
                          callback=spider.parse_article, errback=spider.on_error,
                          meta={"site": "herald", "article": True},
                          cb_kwargs={"site_id": "herald"})
        data = pickle.dumps(request.to_dict(spider=spider), protocol=-1)
        client.zadd("q", {data: 0})
        print(f"  a queued article request: {len(data)} bytes pickled, "
              f"{client.memory_usage('q')} bytes of Redis memory for a one-item queue")


def politeness(tmp: Path, args: argparse.Namespace) -> None:
    run = tmp / "politeness"
    run.mkdir()
    site = NewsSite(n_articles=16)
    with RedisServer(run / "redis") as redis, SiteServer() as server:
        site.install(server)
        sites = site.write_site_file(run / "sites", server.url,
                                     crawl={"download_delay": args.delay})
        cluster = Cluster(run, redis, sites, settings={"SEEN_ENABLED": False})
        for n in range(3):
            cluster.start(f"p{n}")
        cluster.wait_all(timeout=600)
        times = sorted(e.time for e in server.log)
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    p5 = gaps[max(0, len(gaps) // 20 - 1)]
    print(f"politeness: 3 workers, download_delay {args.delay} s, {len(times)} "
          f"requests: gap min {gaps[0]:.3f} s, p5 {p5:.3f} s, median "
          f"{statistics.median(gaps):.3f} s, mean "
          f"{(times[-1] - times[0]) / len(gaps):.3f} s")


def recovery(tmp: Path, args: argparse.Namespace) -> None:
    run = tmp / "recovery"
    run.mkdir()
    site = NewsSite(n_articles=24)
    with RedisServer(run / "redis") as redis, SiteServer() as server:
        site.install(server)
        for story in site.stories:
            server.pages[story.path] = Page(server.pages[story.path].body, delay=0.5)
        sites = site.write_site_file(run / "sites", server.url,
                                     crawl={"download_delay": 0.05, "concurrency": 4})
        cluster = Cluster(run, redis, sites, settings={
            "CLUSTER_LEASE_SECONDS": args.lease, "SEEN_ENABLED": False})
        victim = cluster.start("a")
        cluster.start("b")
        client = redis.client()
        held: list[bytes] = []
        while victim.proc.poll() is None:
            held = [t for t in client.zrange(f"newsites:{cluster.run_id}:leases", 0, -1)
                    if t.startswith(b"a:")]
            if held and len(cluster.all_items()) >= 3:
                break
            time.sleep(0.02)
        killed = time.time()
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        cluster.wait_all(timeout=600)
        counters = {k.decode(): int(v) for k, v in
                    client.hgetall(f"newsites:{cluster.run_id}:counters").items()}
        ids = Counter(i["id"] for i in cluster.all_items())
        expected = len(site.canonical_urls(server.url))
        after = [e.time - killed for e in server.log if e.time > killed]
    print(f"recovery: victim held {len(held)} leases at SIGKILL (lease "
          f"{args.lease} s); re-queued {counters.get('requeued_expired', 0)}; last "
          f"request {max(after):.1f} s after the kill; {len(ids)}/{expected} "
          f"articles, duplicates {sum(n - 1 for n in ids.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8,
                        help="CONCURRENT_REQUESTS of each worker (scaling)")
    parser.add_argument("--only", choices=("scaling", "politeness", "recovery"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        tmp = Path(folder)
        for name, func in (("scaling", scaling), ("politeness", politeness),
                           ("recovery", recovery)):
            if args.only in (None, name):
                func(tmp, args)


if __name__ == "__main__":
    main()
