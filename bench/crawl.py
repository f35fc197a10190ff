"""Crawl benchmark: a generated news site on nginx, crawled naively and by ``newsites``.

    .venv/bin/python bench/crawl.py [--articles 5000] [--workdir /tmp/newsites-bench]
        [--only a,b] [--incremental] [--jobdir] [--concurrency 16] [--json FILE]

Needs nginx (Debian: ``apt-get install nginx-light``): the site must be served by a
server that is never the limit, and the bench first measures it alone to show that.

1. ``bench/sitegen.py`` writes (or completes) a site of N articles of 30-200 KB with
   fronts, tag and author pages, a feed, a news sitemap and a sitemap index.
2. nginx serves it on 127.0.0.1; a concurrent keep-alive fetcher measures it alone.
3. (a) a naive spider written here: extraction in the callback (the same
   ``extract_page`` as the project, so both do the same work per article) and every
   link followed. (b) ``scrapy crawl newsites`` with a site file pointing at the site
   (feed + sitemaps), extraction in the worker pool.
4. Both write JSON lines; the bench checks they wrote the same articles.
5. ``--incremental``: (b) runs with the seen store, then 1% new articles are added
   and (b) runs again: feeds and sitemaps re-read, old articles not fetched.

For each crawl it prints wall seconds, pages fetched, pages/s, articles written,
articles/s, CPU seconds and CPU/wall of the whole process tree (the crawler and its
workers, sampled from /proc every 0.25 s), and the peak over the run of the summed
RSS and of the summed PSS of that tree (PSS splits pages shared between processes,
e.g. a worker and the fork server it came from, so its sum is the memory really
used; the RSS sum counts shared pages once per process). Both crawlers use 16
concurrent requests, no delay, no AutoThrottle, robots.txt obeyed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import realpages  # noqa: E402  (bench/ is not a package)
import sitegen  # noqa: E402

SAMPLE_SECONDS = 0.25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --- the naive baseline ---------------------------------------------------------------
def run_baseline_child(args: argparse.Namespace) -> None:
    """(a) in this process: a plain Scrapy spider, extraction in its callback."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response, TextResponse
    from scrapy.linkextractors import LinkExtractor
    from scrapy.selector import Selector
    from scrapy.utils.sitemap import Sitemap

    from crawler.extraction import ExtractionError, extract_page
    from crawler.sites import load_sites
    from crawler.urls import normalize_url

    class BaselineSpider(scrapy.Spider):
        """Extract every article page in the callback. ``discovery``: ``links``
        (a): follow every link from the home page; ``feeds`` (a'): read the site
        file's feeds and sitemaps, as newsites does, and follow no link."""

        name = "baseline"

        def __init__(
            self, start: str, sites_dir: str, discovery: str, **kwargs: Any
        ) -> None:
            super().__init__(**kwargs)
            self.start_urls = [start]
            self.site = next(iter(load_sites(sites_dir).values()))
            self.discovery = discovery
            # Every link (the site's host only: LinkExtractor's allow_domains would
            # compare against host:port, so the offsite middleware does it).
            self.allowed_domains = list(self.site.domains)
            self.links = LinkExtractor()

        async def start(self) -> Any:
            if self.discovery == "links":
                for url in self.start_urls:
                    yield scrapy.Request(url, callback=self.parse)
                return
            for url in self.site.discovery.feeds:
                yield scrapy.Request(url, callback=self.parse_feed)
            for url in self.site.discovery.sitemaps:
                yield scrapy.Request(url, callback=self.parse_sitemap)

        def _article(self, url: str) -> Iterator[Any]:
            if self.site.articles.is_article_url(url):
                yield scrapy.Request(url, callback=self.parse)

        def parse_feed(self, response: Response, **kwargs: Any) -> Iterator[Any]:
            sel = Selector(text=response.text, type="xml")
            sel.remove_namespaces()
            for url in sel.xpath("//item/link/text() | //entry/link/@href").getall():
                yield from self._article(url.strip())

        def parse_sitemap(self, response: Response, **kwargs: Any) -> Iterator[Any]:
            sitemap = Sitemap(response.body)
            for entry in sitemap:
                if sitemap.type == "sitemapindex":
                    yield scrapy.Request(entry["loc"], callback=self.parse_sitemap)
                else:
                    yield from self._article(entry["loc"])

        def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
            if self.site.articles.is_article_url(response.url):
                try:
                    page = extract_page(
                        response.body, response.url, self.site, min_words=40
                    )
                except ExtractionError as exc:
                    self.crawler.stats.inc_value(f"extract/{exc.reason}")
                else:
                    yield {
                        "url": normalize_url(response.url),
                        "title": page.title,
                        "date": page.date,
                        "authors": page.authors,
                        "text": page.text,
                    }
            if self.discovery == "links" and isinstance(response, TextResponse):
                for link in self.links.extract_links(response):
                    yield response.follow(link.url, callback=self.parse)

    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": args.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": True,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "INFO",
            "FEEDS": {args.out: {"format": "jsonlines", "overwrite": True}},
        }
    )
    crawler = process.create_crawler(BaselineSpider)

    def write_stats() -> None:
        Path(args.stats).write_text(json.dumps(crawler.stats.get_stats(), default=str))

    from scrapy import signals

    crawler.signals.connect(write_stats, signal=signals.engine_stopped, weak=False)
    process.crawl(
        crawler, start=args.start, sites_dir=args.sites, discovery=args.discovery
    )
    process.start()


# --- measuring a process tree ---------------------------------------------------------
def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    kids = _children()
    tree, i = [root], 0
    while i < len(tree):
        tree.extend(kids.get(tree[i], []))
        i += 1
    return tree


def _cpu_rss(pid: int) -> tuple[float, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(
        fields[21]
    ) * PAGE_SIZE


def _pss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class TreeUsage:
    """CPU and memory of a process tree, sampled from /proc."""

    cpu_by_pid: dict[int, float] = field(default_factory=dict)
    peak_rss: int = 0
    peak_pss: int = 0
    processes: int = 0
    #: Peak RSS of one process of each role (main, fork server, worker, tracker).
    peak_rss_by_role: dict[str, int] = field(default_factory=dict)

    @property
    def cpu(self) -> float:
        return sum(self.cpu_by_pid.values())


class TreeSampler(threading.Thread):
    """Sample a process tree every ``SAMPLE_SECONDS`` until ``stop()``."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.usage = TreeUsage()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        rss = pss = 0
        for pid in process_tree(self.root):
            try:
                cpu, resident = _cpu_rss(pid)
                proportional = _pss(pid)
                role = self._role(pid)
            except (OSError, IndexError, ValueError):
                continue
            self.usage.cpu_by_pid[pid] = cpu  # a process's last sample counts
            rss += resident
            pss += proportional
            peaks = self.usage.peak_rss_by_role
            peaks[role] = max(peaks.get(role, 0), resident)
        self.usage.peak_rss = max(self.usage.peak_rss, rss)
        self.usage.peak_pss = max(self.usage.peak_pss, pss)
        self.usage.processes = max(self.usage.processes, len(self.usage.cpu_by_pid))

    def _role(self, pid: int) -> str:
        if pid == self.root:
            return "main"
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"resource_tracker" in cmdline:
            return "tracker"
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        if b"forkserver" in cmdline and parent == self.root:
            return "fork server"
        return "worker"

    def stop(self) -> TreeUsage:
        self._stop_event.set()
        self.join()
        return self.usage


# --- the server -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Nginx:
    """nginx serving ``root`` on 127.0.0.1:``port``; config and logs in ``workdir``.

    ``servers``: more sites, one server block each, as (loopback address, root) on
    the same port. ``access_log``: log every request with its end time in ms
    resolution (``$msec``) to ``access.log`` (off by default: it costs nginx time)."""

    def __init__(
        self,
        root: Path,
        port: int,
        workdir: Path,
        *,
        servers: list[tuple[str, Path]] | None = None,
        access_log: bool = False,
    ) -> None:
        self.root, self.port, self.workdir = root, port, workdir
        self.servers = servers or [("127.0.0.1", root)]
        self.access_log = access_log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def access_log_path(self) -> Path:
        return self.workdir / "nginx" / "access.log"

    def start(self) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise SystemExit("nginx is required: apt-get install nginx-light")
        conf_dir = self.workdir / "nginx"
        (conf_dir / "tmp").mkdir(parents=True, exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        conf = conf_dir / "nginx.conf"
        self.access_log_path.unlink(missing_ok=True)
        log = (
            f"log_format bench '$msec $server_addr $status $body_bytes_sent "
            f"$request_uri'; access_log {self.access_log_path} bench buffer=256k "
            "flush=5s;"
            if self.access_log
            else "access_log off;"
        )
        servers = "\n".join(
            f"  server {{ listen {host}:{self.port}; root {root}; index index.html; }}"
            for host, root in self.servers
        )
        conf.write_text(f"""
worker_processes 1; daemon off; {user}
pid {conf_dir}/nginx.pid; error_log {conf_dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  {log} sendfile on; tcp_nopush on; keepalive_requests 1000000;
  types {{ text/html html; application/xml xml; application/rss+xml rss;
          text/plain txt; }}
  default_type application/octet-stream;
  client_body_temp_path {conf_dir}/tmp; proxy_temp_path {conf_dir}/tmp;
  fastcgi_temp_path {conf_dir}/tmp; uwsgi_temp_path {conf_dir}/tmp;
  scgi_temp_path {conf_dir}/tmp;
{servers}
}}
""")
        self.process = subprocess.Popen(
            [
                binary,
                "-e",
                str(conf_dir / "error.log"),
                "-p",
                str(conf_dir),
                "-c",
                str(conf),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                address = (self.servers[-1][0], self.port)
                with socket.create_connection(address, timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    err = (
                        self.process.stderr.read().decode()
                        if self.process.stderr
                        else ""
                    )
                    raise SystemExit(f"nginx did not start: {err}") from None
                time.sleep(0.1)
        raise SystemExit("nginx did not start listening in 10 s")

    def cpu(self) -> float:
        if self.process is None:
            return 0.0
        total = 0.0
        for pid in process_tree(self.process.pid):
            try:
                total += _cpu_rss(pid)[0]
            except OSError:
                pass
        return total

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


async def _fetch_all(port: int, paths: list[str], concurrency: int) -> tuple[int, int]:
    """GET every path over ``concurrency`` keep-alive connections: (count, bytes)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    totals = [0, 0]

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while not queue.empty():
            path = queue.get_nowait()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            totals[0] += 1
            totals[1] += length
        writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return totals[0], totals[1]


def measure_server(port: int, paths: list[str], concurrency: int) -> dict[str, float]:
    """The server alone, with a simple Python fetcher (itself the likelier limit)."""
    start = time.perf_counter()
    count, size = asyncio.run(_fetch_all(port, paths, concurrency))
    wall = time.perf_counter() - start
    return {
        "requests": count,
        "req_per_s": count / wall,
        "mb_per_s": size / wall / 2**20,
    }


# --- crawls ---------------------------------------------------------------------------
@dataclass
class CrawlFigures:
    """One crawl's outcome."""

    name: str
    wall: float
    pages: int
    articles: int
    cpu: float
    main_cpu: float
    peak_rss_mb: float
    peak_pss_mb: float
    processes: int
    server_cpu: float
    returncode: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.wall

    @property
    def cpu_per_wall(self) -> float:
        return self.cpu / self.wall


def run_measured(
    name: str, cmd: list[str], out: Path, stats_file: Path, log: Path, server: Nginx
) -> tuple[CrawlFigures, set[str]]:
    """Run one crawl command, sampling its process tree; read its items and stats."""
    out.unlink(missing_ok=True)
    stats_file.unlink(missing_ok=True)
    server_cpu = server.cpu()
    start = time.perf_counter()
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        # Wait for the exit without reaping: the zombie's /proc/<pid>/stat still
        # holds its final CPU time (its own only: wait4's rusage would add the
        # workers it reaped, already counted from their own samples).
        try:
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        except KeyboardInterrupt:  # Ctrl-C: stop the crawl too, then give up
            proc.send_signal(signal.SIGINT)
            proc.wait()
            raise
        wall = time.perf_counter() - start
        usage = sampler.stop()
        try:
            usage.cpu_by_pid[proc.pid] = _cpu_rss(proc.pid)[0]
        except OSError:
            pass
        proc.wait()
    urls = set()
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            urls.add(json.loads(line)["url"])
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    figures = CrawlFigures(
        name=name,
        wall=wall,
        pages=int(stats.get("downloader/response_count", 0)),
        articles=len(urls),
        cpu=usage.cpu,
        main_cpu=usage.cpu_by_pid[proc.pid],
        peak_rss_mb=usage.peak_rss / 2**20,
        peak_pss_mb=usage.peak_pss / 2**20,
        processes=usage.processes,
        server_cpu=server.cpu() - server_cpu,
        returncode=proc.returncode,
        extra={
            k: v
            for k, v in stats.items()
            if k.startswith(
                (
                    "extract/crashed",
                    "extract/timeout",
                    "extract_pool/",
                    "seen/",
                    "scheduler/enqueued/disk",
                )
            )
        },
    )
    figures.extra["peak RSS MB by process"] = {
        role: round(size / 2**20) for role, size in usage.peak_rss_by_role.items()
    }
    return figures, urls


def crawl_commands(
    args: argparse.Namespace, work: Path, base: str, sites: Path, tag: str, seen: bool
) -> dict[str, list[str]]:
    common = [
        "-s",
        f"CONCURRENT_REQUESTS={args.concurrency}",
        "-s",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
    ]
    # newsites' per-site request budget (5,000 by default) would end a crawl of a
    # larger N early: (b) at N = 20,000 fetched 5,001 pages.
    budget = ["-s", f"BUDGET_MAX_REQUESTS={2 * args.articles + 1000}"]

    def baseline(name: str, discovery: str) -> list[str]:
        return [
            sys.executable,
            str(Path(__file__).resolve()),
            "baseline-child",
            "--start",
            f"{base}/",
            "--sites",
            str(sites),
            "--out",
            str(work / f"{name}-{tag}.jsonl"),
            "--stats",
            str(work / f"{name}-{tag}.json"),
            "--concurrency",
            str(args.concurrency),
            "--discovery",
            discovery,
        ]

    # --prelude: run a file in the crawler process first (to try a change, e.g. a
    # patched spider method, without editing the project).
    runner = ["-m", "scrapy"]
    if args.prelude:
        runner = [
            "-c",
            f"exec(open({str(args.prelude)!r}).read())\n"
            "from scrapy.cmdline import execute\nexecute()",
        ]
    newsites = [
        sys.executable,
        *runner,
        "crawl",
        "newsites",
        "-O",
        str(work / f"b-{tag}.jsonl"),
        "-s",
        f"SITES_DIR={sites}",
        "-s",
        f"STATS_FILE={work / f'b-{tag}.json'}",
        "-s",
        "LOG_LEVEL=INFO",
        *common,
        *budget,
        *args.setting,
    ]
    if seen:
        newsites += [
            "-s",
            "SEEN_ENABLED=True",
            "-s",
            f"SEEN_DB={work / 'seen.sqlite3'}",
        ]
    if args.jobdir:
        jobdir = work / f"jobdir-{tag}"
        shutil.rmtree(jobdir, ignore_errors=True)
        newsites += ["-s", f"JOBDIR={jobdir}"]
    return {"a": baseline("a", "links"), "a2": baseline("a2", "feeds"), "b": newsites}


def print_table(rows: list[CrawlFigures]) -> None:
    head = (
        "crawl",
        "wall s",
        "pages",
        "pages/s",
        "articles",
        "art/s",
        "CPU s",
        "of which main",
        "CPU/wall",
        "peak RSS MB",
        "peak PSS MB",
        "procs",
        "nginx CPU s",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print(
            f"| {r.name} | {r.wall:.1f} | {r.pages} | {r.pages_per_s:.1f} | "
            f"{r.articles}"
            f" | {r.articles_per_s:.1f} | {r.cpu:.1f} | {r.main_cpu:.1f}"
            f" | {r.cpu_per_wall:.2f}"
            f" | {r.peak_rss_mb:.0f} | {r.peak_pss_mb:.0f} | {r.processes}"
            f" | {r.server_cpu:.1f} |"
        )


LABELS = {
    "a": "(a) naive, every link",
    "a2": "(a') naive, feeds+sitemaps",
    "b": "(b) newsites",
}
WHAT = {
    "a": "a plain Scrapy spider that starts at the home page, follows every link of "
    "every page (fronts, tag and author pages, articles) and extracts each article "
    "page in its callback, on the reactor thread (one core)",
    "a2": "the same spider given newsites' discovery: it reads the site file's feed "
    "and sitemap index, requests only the article URLs they list, follows no link, "
    "and extracts in its callback (one core)",
    "b": "scrapy crawl newsites: feed and sitemaps from the site file, extraction in "
    "its worker pool (both cores)",
}
_ARTICLE_INDEX = re.compile(r"-(\d+)\.html$")


def check_bodies(
    out: Path, n: int, seed: int, real: sitegen.RealPages, sample: int = 300
) -> dict[str, Any]:
    """Did the crawl extract the generated body text, not the template's?

    Up to ``sample`` written articles (evenly spread) are rendered again and their
    ``text`` compared with the generated body (``realpages.body_check``)."""
    texts: dict[int, str] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        found = _ARTICLE_INDEX.search(item["url"])
        if found:
            texts[int(found.group(1))] = item.get("text", "")
    chosen = sorted(texts)[:: max(1, len(texts) // sample)][:sample]
    checks = []
    for index in chosen:
        article = sitegen.render_real_article(
            sitegen.article_meta(index, seed), seed, real
        )
        checks.append(realpages.body_check(article, texts[index]))
    k = max(1, len(checks))
    return {
        "written": len(texts),
        "of": n,
        "checked": len(checks),
        "passed": sum(c.passed() for c in checks) / k,
        "no_template_text": sum(c.template_share <= 0.2 for c in checks) / k,
        "mean_recall": sum(c.recall for c in checks) / k,
        "mean_template_share": sum(c.template_share for c in checks) / k,
    }


def _crawl_names(only: str) -> list[str]:
    names = [{"a'": "a2"}.get(n.strip(), n.strip()) for n in only.split(",")]
    for name in names:
        if name not in LABELS:
            raise SystemExit(f"--only: unknown crawl {name!r} (a, a' or a2, b)")
    return names


def run_single_site(args: argparse.Namespace) -> None:
    """One site: (a), (a'), (b), and (b) again after 1% new articles."""
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site_root = work / ("site" if args.pages == "synthetic" else "site-real")
    real = sitegen.load_real_pages(args.corpora) if args.pages == "real" else None
    t0 = time.perf_counter()
    summary = sitegen.generate_site(site_root, args.articles, base, real=real)
    print(
        f"site ({args.pages} pages): {summary.articles} articles, {summary.pages} "
        f"files, generated in {time.perf_counter() - t0:.0f} s; {summary.size_line()}"
    )
    if real is not None:
        print(f"  from {len(real.templates)} templates of 30-500 KB (cycled)")
    sites = work / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "ledger.toml").write_text(sitegen.site_file(base), encoding="utf-8")

    server = Nginx(site_root, port, work)
    server.start()
    results: dict[str, Any] = {
        "articles": args.articles,
        "pages": args.pages,
        "page_sizes": _sizes(summary.article_sizes),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    try:
        sample = list(summary.article_paths[: min(len(summary.article_paths), 3000)])
        alone = measure_server(port, sample, args.concurrency)
        results["server"] = alone
        print(
            f"server alone: {alone['req_per_s']:.0f} article pages/s "
            f"({alone['mb_per_s']:.0f} MB/s) fetched by a Python client over "
            f"{args.concurrency} connections"
        )

        tag = str(args.articles)
        if args.incremental:  # a fresh seen store: the URLs carry this run's port
            for old in work.glob("seen.sqlite3*"):
                old.unlink()
        commands = crawl_commands(args, work, base, sites, tag, seen=args.incremental)
        rows: list[CrawlFigures] = []
        written: dict[str, set[str]] = {}
        for name in _crawl_names(args.only):
            print(f"running {LABELS[name]} ...", flush=True)
            figures, urls = run_measured(
                LABELS[name],
                commands[name],
                work / f"{name}-{tag}.jsonl",
                work / f"{name}-{tag}.json",
                work / f"{name}-{tag}.log",
                server,
            )
            rows.append(figures)
            written[name] = urls
        if args.incremental:
            grown = int(args.articles * 1.01)
            sitegen.generate_site(site_root, grown, base, real=real)
            again = crawl_commands(args, work, base, sites, f"{tag}-rerun", seen=True)
            print(
                f"running (b) again after {grown - args.articles} new articles ...",
                flush=True,
            )
            figures, urls = run_measured(
                "(b) re-run, +1%",
                again["b"],
                work / f"b-{tag}-rerun.jsonl",
                work / f"b-{tag}-rerun.json",
                work / f"b-{tag}-rerun.log",
                server,
            )
            rows.append(figures)
            results["rerun_new_articles"] = grown - args.articles
    finally:
        server.stop()

    print()
    print_table(rows)
    by = {name: r for name, r in zip(written, rows, strict=False)}
    for name in written:
        print(f"{LABELS[name]}: {WHAT[name]}.")
    if "b" in by:
        b = by["b"]
        for name in ("a", "a2"):
            if name not in by:
                continue
            a = by[name]
            same = written[name] == written["b"]
            ratio = b.articles_per_s / a.articles_per_s if a.articles_per_s else 0.0
            print(
                f"(b) vs {LABELS[name]}: {ratio:.2f} x articles/s "
                f"({b.pages_per_s / a.pages_per_s:.2f} x pages/s); same articles "
                f"written: {same} ({name}: {len(written[name])}, b: "
                f"{len(written['b'])}, only {name}: "
                f"{len(written[name] - written['b'])}, only b: "
                f"{len(written['b'] - written[name])})"
            )
            key = "ratio_articles_per_s" if name == "a" else "ratio_vs_a2"
            results[key] = ratio
            results[f"same_articles_{name}"] = same
    if real is not None:
        for name in ("b", "a2", "a"):
            if name in written:
                check = check_bodies(
                    work / f"{name}-{args.articles}.jsonl", args.articles, 7, real
                )
                results["body_check"] = check | {"crawl": name}
                print(
                    f"body check on {LABELS[name]}'s output: {check['written']} of "
                    f"{check['of']} articles written; of {check['checked']} checked, "
                    f"{check['passed']:.0%} carry >= 80% of the generated body's "
                    f"paragraphs with <= 20% other words, "
                    f"{check['no_template_text']:.0%} <= 20% other words; mean "
                    f"recall {check['mean_recall']:.2f}, "
                    f"mean share of other words {check['mean_template_share']:.2f}"
                )
                break
    if args.incremental:
        first, rerun = rows[-2], rows[-1]
        print(
            f"re-run: {rerun.wall:.1f} s = {rerun.wall / first.wall:.1%} of the first "
            f"run, {rerun.pages} pages fetched, {rerun.articles} articles written"
        )
    for r in rows:
        if r.extra:
            print(f"{r.name}: {r.extra}")
    _finish(args, results, rows)


def _sizes(sizes: tuple[int, ...]) -> dict[str, float]:
    ordered = sorted(sizes) or [0]
    return {
        "mean_kb": sum(ordered) / len(ordered) / 1024,
        "median_kb": ordered[len(ordered) // 2] / 1024,
        "p90_kb": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] / 1024,
    }


def _finish(
    args: argparse.Namespace, results: dict[str, Any], rows: list[CrawlFigures]
) -> None:
    results["crawls"] = [
        asdict(r)
        | {
            "pages_per_s": r.pages_per_s,
            "articles_per_s": r.articles_per_s,
            "cpu_per_wall": r.cpu_per_wall,
        }
        for r in rows
    ]
    results["load_after"] = os.getloadavg()[0]
    print(
        f"load average (1 min) before: {results['load_before']:.2f}, "
        f"after: {results['load_after']:.2f} (other work on the machine skews figures)"
    )
    if args.json:
        with args.json.open("a") as fh:
            fh.write(json.dumps(results) + "\n")


# --- broad crawl ----------------------------------------------------------------------
BROAD_DELAY = 1.0
BROAD_WINDOW = 10.0
_ARTICLE_PATH = re.compile(r"^/[a-z]+/\d{4}/\d{2}/\d{2}/[^/]+\.html$")


@dataclass(frozen=True)
class LogLine:
    """One request in nginx's access log."""

    t: float
    host: str
    status: int
    path: str


def read_access_log(path: Path, since: float, until: float) -> list[LogLine]:
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        t, host, status, _size, uri = raw.split(" ", 4)
        if since <= float(t) <= until:
            lines.append(LogLine(float(t), host, int(status), uri))
    return lines


def fairness(lines: list[LogLine], hosts: list[str]) -> dict[str, Any]:
    """Per-site service in windows of ``BROAD_WINDOW`` s, from the first request to
    the site's last: a window with no request to a site that still had work is a
    window the site was not served."""
    if not lines:
        return {}
    t0 = min(line.t for line in lines)
    by_host: dict[str, list[float]] = {h: [] for h in hosts}
    for line in lines:
        by_host.setdefault(line.host, []).append(line.t)
    served = total = 0
    starved: list[str] = []
    gaps: list[float] = []
    finish: list[float] = []
    for host in hosts:
        times = sorted(by_host.get(host, []))
        if not times:
            starved.append(host)
            continue
        windows = int((times[-1] - t0) // BROAD_WINDOW) + 1
        hit = {int((t - t0) // BROAD_WINDOW) for t in times}
        served += len(hit)
        total += windows
        if len(hit) < windows:
            starved.append(host)
        gaps.append(
            max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)
        )
        finish.append(times[-1] - t0)
    finish.sort()
    return {
        "site_windows_served": served,
        "site_windows": total,
        "sites_with_an_unserved_window": len(starved),
        "longest_gap_s_max": max(gaps, default=0.0),
        "longest_gap_s_median": sorted(gaps)[len(gaps) // 2] if gaps else 0.0,
        "site_finish_s_min": finish[0] if finish else 0.0,
        "site_finish_s_median": finish[len(finish) // 2] if finish else 0.0,
        "site_finish_s_max": finish[-1] if finish else 0.0,
    }


def _article_rate(lines: list[LogLine], written: int, until: float) -> float:
    """Articles written per second from the first article request to the end of the
    crawl (start-up excluded; extraction of the last pages included)."""
    times = [x.t for x in lines if _ARTICLE_PATH.match(x.path)]
    if not times or until <= min(times):
        return 0.0
    return written / (until - min(times))


def run_broad(args: argparse.Namespace) -> None:
    """``--broad``: many sites on distinct loopback addresses, each polite."""
    n_sites, per_site = args.sites, args.articles
    if not 1 <= n_sites <= 250:
        raise SystemExit("--sites: 1 to 250 (addresses 127.0.0.2 and up)")
    work = args.workdir / f"broad-{args.pages}-{n_sites}x{per_site}"
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    hosts = [f"127.0.0.{k + 2}" for k in range(n_sites)]
    real = sitegen.load_real_pages(args.corpora) if args.pages == "real" else None
    sites = work / "sites"
    shutil.rmtree(sites, ignore_errors=True)
    sites.mkdir()
    t0 = time.perf_counter()
    sizes: list[int] = []
    roots: list[tuple[str, Path]] = []
    for k, host in enumerate(hosts):
        base = f"http://{host}:{port}"
        root = work / f"site-{k:03d}"
        # Each site its own stories (seed) and its own run of templates (offset).
        site_real = (
            sitegen.RealPages(real.templates, k * per_site)
            if real is not None
            else None
        )
        summary = sitegen.generate_site(
            root, per_site, base, seed=1000 + k, real=site_real
        )
        sizes.extend(summary.article_sizes)
        roots.append((host, root))
        (sites / f"s{k:03d}.toml").write_text(
            sitegen.site_file(
                base, f"s{k:03d}", download_delay=BROAD_DELAY, concurrency=1
            ),
            encoding="utf-8",
        )
    print(
        f"{n_sites} sites x {per_site} articles ({args.pages} pages) on "
        f"{hosts[0]}-{hosts[-1]}:{port}, generated in {time.perf_counter() - t0:.0f} "
        f"s; {sitegen.size_distribution(sizes)}; each site: download_delay "
        f"{BROAD_DELAY}, concurrency 1"
    )
    server = Nginx(roots[0][1], port, work, servers=roots, access_log=True)
    server.start()
    results: dict[str, Any] = {
        "broad": True,
        "sites": n_sites,
        "articles_per_site": per_site,
        "pages": args.pages,
        "page_sizes": _sizes(tuple(sizes)),
        "settings": args.setting,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    rows: list[CrawlFigures] = []
    try:
        cpu_bound = args.cpu_bound or _calibrate(args, work, hosts, port, server)
        results["cpu_bound_articles_per_s"] = cpu_bound
        newsites = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "newsites",
            "-O",
            str(work / "broad.jsonl"),
            "-s",
            f"SITES_DIR={sites}",
            "-s",
            f"STATS_FILE={work / 'broad.json'}",
            "-s",
            "LOG_LEVEL=INFO",
            *args.setting,
        ]
        print(f"running (b) newsites on {n_sites} sites ...", flush=True)
        since = time.time()
        figures, urls = run_measured(
            "(b) broad",
            newsites,
            work / "broad.jsonl",
            work / "broad.json",
            work / "broad.log",
            server,
        )
        until = time.time()
        rows.append(figures)
    finally:
        server.stop()  # flushes the access log
    lines = read_access_log(server.access_log_path, since, until)
    fair = fairness(lines, hosts)
    politeness = n_sites / BROAD_DELAY  # requests/s
    bound = min(politeness, cpu_bound)
    steady = _article_rate(lines, figures.articles, until)
    results.update(
        politeness_bound_req_per_s=politeness,
        bound_articles_per_s=bound,
        requests=len(lines),
        steady_articles_per_s=steady,
        fairness=fair,
    )
    print()
    print_table(rows)
    print(
        f"articles: {figures.articles} of {n_sites * per_site} written, "
        f"{figures.articles_per_s:.1f}/s over the whole run, {steady:.1f}/s from the "
        f"first article request to the end; bound min(politeness "
        f"{politeness:.0f} req/s, "
        f"CPU {cpu_bound:.1f} articles/s) = {bound:.1f}: achieved "
        f"{figures.articles_per_s / bound:.0%} (whole run), {steady / bound:.0%} "
        f"(steady); {len(lines)} requests served"
    )
    if fair:
        print(
            f"fairness ({BROAD_WINDOW:.0f}-s windows, each site until its last "
            f"request): {fair['site_windows_served']} of {fair['site_windows']} "
            f"site-windows served, {fair['sites_with_an_unserved_window']} sites with "
            f"an unserved window; longest gap between two requests to one site: "
            f"median {fair['longest_gap_s_median']:.1f} s, max "
            f"{fair['longest_gap_s_max']:.1f} s; sites done after "
            f"{fair['site_finish_s_min']:.0f} / {fair['site_finish_s_median']:.0f} / "
            f"{fair['site_finish_s_max']:.0f} s (min / median / max)"
        )
    if figures.extra:
        print(f"(b) broad: {figures.extra}")
    _finish(args, results, rows)


def _calibrate(
    args: argparse.Namespace, work: Path, hosts: list[str], port: int, server: Nginx
) -> float:
    """The CPU bound: newsites on the first ten sites' pages without politeness (no
    delay, 16 requests at a time, as in the single-site bench): articles written per
    second from the first article request to the end, so start-up does not count."""
    sites = work / "calibration-sites"
    shutil.rmtree(sites, ignore_errors=True)
    sites.mkdir()
    for k, host in enumerate(hosts[:10]):
        (sites / f"s{k:03d}.toml").write_text(
            sitegen.site_file(f"http://{host}:{port}", f"s{k:03d}"), encoding="utf-8"
        )
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "newsites",
        "-O",
        str(work / "calibration.jsonl"),
        "-s",
        f"SITES_DIR={sites}",
        "-s",
        f"STATS_FILE={work / 'calibration.json'}",
        "-s",
        "CONCURRENT_REQUESTS=16",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
    ]
    print("calibrating: (b) on up to 10 sites, no delay ...", flush=True)
    since = time.time()
    figures, _ = run_measured(
        "calibration",
        cmd,
        work / "calibration.jsonl",
        work / "calibration.json",
        work / "calibration.log",
        server,
    )
    until = time.time()
    time.sleep(5.5)  # nginx flushes its log buffer every 5 s
    lines = read_access_log(server.access_log_path, since, until)
    rate = _article_rate(lines, figures.articles, until)
    print(f"  CPU bound: {rate:.1f} articles/s (pass --cpu-bound to give a better one)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("baseline-child", help="(internal) run crawl (a) or (a')")
    for name in ("--start", "--sites", "--out", "--stats"):
        child.add_argument(name, required=True)
    child.add_argument("--concurrency", type=int, default=16)
    child.add_argument("--discovery", choices=("links", "feeds"), default="links")
    parser.add_argument(
        "--articles",
        type=int,
        default=5000,
        help="articles (--broad: per site, default 100 there)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsites-bench"))
    parser.add_argument(
        "--only", default="a,a2,b", help="crawls to run: any of a, a' (or a2), b"
    )
    parser.add_argument(
        "--pages",
        choices=("real", "synthetic"),
        default="real",
        help="article pages from real page markup (default) or generated",
    )
    parser.add_argument(
        "--corpora", type=Path, help="(real pages) corpora folder; ../shared/corpora"
    )
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="(b) with the seen store, then a re-run after 1%% new articles",
    )
    parser.add_argument(
        "--jobdir",
        action="store_true",
        help="(b) with a fresh JOBDIR: request queues on disk",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--broad",
        action="store_true",
        help="many polite sites on 127.0.0.2, .3, ...: (b) only",
    )
    parser.add_argument("--sites", type=int, default=100, help="(--broad) sites")
    parser.add_argument(
        "--cpu-bound",
        type=float,
        default=0.0,
        help="(--broad) articles/s of a single-site (b) run; measured if not given",
    )
    parser.add_argument(
        "--setting",
        "-s",
        action="append",
        default=[],
        type=lambda v: f"-s{v}",
        help="extra -s NAME=VALUE for (b)",
    )
    parser.add_argument("--json", type=Path, help="append the figures to this file")
    parser.add_argument(
        "--prelude",
        type=Path,
        help="(experiments) Python file run in crawler (b) before Scrapy starts",
    )
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    if args.command == "baseline-child":
        run_baseline_child(args)
    elif args.broad:
        if "--articles" not in argv:
            args.articles = 100
        run_broad(args)
    else:
        run_single_site(args)


if __name__ == "__main__":
    main()
