"""`newsites run` end to end: incremental runs, a killed run, overlapping runs, health.

Every test runs the real console command in a subprocess against a local site
(tests.support.server) with the network guard loaded, and reads what it wrote:
output files, the seen store, the server's request log and the exit status.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.cli.run import (
    EXIT_CONFIG,
    EXIT_DEADLINE,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_NO_ARTICLES,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_SITE_FAILED,
    EXIT_STORE,
    EXIT_TOO_MANY_ERRORS,
    recover_killed_runs,
    repair_output,
    settle_pending,
)
from crawler.store import PendingArticle, SqliteSeenStore, fingerprint
from tests.support.crawl import PROJECT_ROOT
from tests.support.server import Page, SiteServer

NETGUARD_DIR = PROJECT_ROOT / "tests" / "support" / "netguard"
WORDS = (
    "harbour council ferry budget dredging vote mayor school river bridge market "
    "rain tide pier crane cargo union strike fishing licence quota museum"
).split()
FAST = ["-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"]


# --- a small news site ------------------------------------------------------------


class NewsSite:
    """A feed and article pages ``/news/s<N>`` with distinct texts and rel=canonical."""

    def __init__(self, server: SiteServer, n: int, delay: float = 0.0) -> None:
        self.server = server
        self.base = server.url
        self.delay = delay
        self.links: dict[int, str] = {}  # story number -> link path in the feed
        self.add(n)

    def add(self, k: int) -> list[int]:
        new = list(range(len(self.links), len(self.links) + k))
        for i in new:
            self.links[i] = f"/news/s{i}"
        self.install()
        return new

    def article(self, i: int) -> str:
        rng = random.Random(i)
        paragraphs = "".join(
            "<p>"
            + " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(35))
            + ".</p>"
            for _ in range(4)
        )
        base = self.server.url
        return (
            f'<html lang="en"><head><title>Story {i}</title>'
            f'<link rel="canonical" href="{base}/news/s{i}">'
            '<meta property="article:published_time" '
            'content="2024-05-01T08:30:00+00:00"></head>'
            f"<body><article><h1>Story {i}</h1>{paragraphs}</article>"
            "</body></html>"
        )

    def install(self) -> None:
        base = self.server.url
        items = "".join(
            f"<item><title>Story {i}</title><link>{base}{path}</link></item>"
            for i, path in sorted(self.links.items(), reverse=True)
        )
        self.server.add(
            "/feed.xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
            content_type="application/rss+xml",
        )
        for i in self.links:
            self.server.pages[f"/news/s{i}"] = Page(self.article(i), delay=self.delay)

    def urls(self, numbers: list[int] | range) -> set[str]:
        return {f"{self.base}/news/s{i}" for i in numbers}


def site_file(folder: Path, site_id: str, base: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{site_id}.toml").write_text(
        f'home = "{base}/"\ndomains = ["127.0.0.1"]\n'
        f'[discovery]\nfeeds = ["{base}/feed.xml"]\n[articles]\nallow = ["/news/"]\n',
        encoding="utf-8",
    )
    return folder


# --- running newsites run ---------------------------------------------------------


def command(sites: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crawler.cli",
        "run",
        "-s",
        f"SITES_DIR={sites}",
        *FAST,
        *extra,
    ]


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{NETGUARD_DIR}{os.pathsep}{PROJECT_ROOT}",
        "NEWSITES_NETGUARD_LOG": str(tmp_path / "netguard.log"),
    }


def newsites_run(
    tmp_path: Path, sites: Path, *extra: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``newsites run`` with the working directory ``tmp_path`` (store and output
    default to ``state/`` and ``out/`` there: no scrapy.cfg above it)."""
    return subprocess.run(
        command(sites, *extra),
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_run(tmp_path: Path, sites: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(sites, *extra),
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outputs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "out").rglob("*.jsonl"))


def records(path: Path) -> list[dict[str, Any]]:
    """Every line of an output file, each required to be one whole JSON object."""
    data = path.read_text(encoding="utf-8")
    assert data == "" or data.endswith("\n"), f"{path} ends in the middle of a line"
    lines = data.splitlines()
    items = []
    for number, line in enumerate(lines, 1):
        try:
            items.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{path}:{number} is not valid JSON: {line[:120]!r}")
    return items


def article_paths(server: SiteServer) -> list[str]:
    return [p for p in server.paths() if p.startswith("/news/")]


def wait_for(predicate: Any, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def netguard(tmp_path: Path) -> Iterator[None]:
    yield
    log = tmp_path / "netguard.log"
    assert not log.exists() or not log.read_text(), (
        f"a run tried to reach the network:\n{log.read_text()[:2000]}"
    )


# --- the four cases of the issue ----------------------------------------------------


def test_second_run_exports_only_new_articles_and_fetches_no_exported_page(
    tmp_path: Path,
) -> None:
    with SiteServer() as server:
        site = NewsSite(server, 6)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        first = newsites_run(tmp_path, sites)
        assert first.returncode == EXIT_OK, first.stderr[-3000:]
        assert "newsites run 1: OK" in first.stdout
        assert "articles written 6" in first.stdout
        [out1] = outputs(tmp_path)
        assert {r["url"] for r in records(out1)} == site.urls(range(6))
        exported_paths = set(article_paths(server))
        assert len(exported_paths) == 6

        # The site gains 3 stories; an old story's feed link gains a parameter.
        new = site.add(3)
        site.links[2] = "/news/s2?section=harbour"
        site.install()
        server.clear_log()
        second = newsites_run(tmp_path, sites)
        assert second.returncode == EXIT_OK, second.stderr[-3000:]
        fetched = article_paths(server)

    out2 = [p for p in outputs(tmp_path) if p != out1]
    assert len(out2) == 1, f"expected one new output file, got {outputs(tmp_path)}"
    assert {r["url"] for r in records(out2[0])} == site.urls(new)
    assert {r["version"] for r in records(out2[0])} == {1}
    assert sorted(fetched) == sorted(f"/news/s{i}" for i in new), (
        "run 2 downloaded article pages exported by run 1 (or missed new ones)"
    )
    assert not {p.split("?")[0] for p in fetched} & exported_paths
    assert "articles written 3" in second.stdout
    assert "skipped as seen 6" in second.stdout
    # Defaults: dated output under out/all/, store in state/, all beside the cwd.
    assert out1.parent.parent == tmp_path / "out" / "all"
    assert (tmp_path / "state" / "seen.sqlite3").is_file()
    # cron runs learn each site's template across runs, beside the store
    assert (tmp_path / "state" / "templates.sqlite3").is_file()
    stats = json.loads(out2[0].with_suffix(".stats.json").read_text())
    assert stats["seen/skipped"] == 6 and stats["run/exit_code"] == EXIT_OK
    # Dropped as the feed was read: no request even built and queued for them.
    assert stats.get("discovery/refused/article", 0) == 0
    assert stats["discovery/article_links/feed"] == 3
    assert out2[0].with_suffix(".log").stat().st_size > 0


def test_killed_run_is_finished_by_the_next_without_loss_or_repeat(
    tmp_path: Path,
) -> None:
    with SiteServer() as server:
        site = NewsSite(server, 10, delay=0.3)
        # The first run gets 5 articles; the 6th waits until the run is killed, so
        # the kill lands mid-run however slowly the machine runs it.
        gate, served, lock = threading.Event(), [0], threading.Lock()

        def stall_after_five(handler: Any) -> bool:
            if handler.path.startswith("/news/s"):
                with lock:
                    served[0] += 1
                    stall = served[0] > 5
                if stall:
                    gate.wait(timeout=120)
            return False

        server.handlers.append(stall_after_five)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        killed = start_run(tmp_path, sites, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")

        def half_written() -> bool:
            parts = list((tmp_path / "out").rglob("*.jsonl.part"))
            return bool(parts) and parts[0].read_bytes().count(b"\n") >= 3

        wait_for(half_written, what="the first run to write 3 articles")
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=30)
        assert killed.returncode == -signal.SIGKILL
        assert list((tmp_path / "out").rglob("*.jsonl.part")), "no half-done output"
        written_before = len(article_paths(server))
        server.handlers.remove(stall_after_five)
        gate.set()

        site.delay = 0
        site.install()
        server.clear_log()
        rerun = newsites_run(tmp_path, sites)
        assert rerun.returncode == EXIT_OK, rerun.stderr[-3000:]
        refetched = article_paths(server)

    assert not list((tmp_path / "out").rglob("*.part")), "killed run's output not kept"
    files = outputs(tmp_path)
    assert len(files) == 2, files
    per_file = [records(f) for f in files]
    killed_ids = {r["id"] for r in per_file[0]}
    urls = [r["url"] for items in per_file for r in items]
    assert len(urls) == len(set(urls)), "an article was exported twice"
    assert set(urls) == site.urls(range(10)), "an article was lost"
    assert 3 <= len(killed_ids) <= 5
    assert written_before >= len(killed_ids)
    exported_first = {r["url"].split(site.base)[1] for r in per_file[0]}
    assert not exported_first & set(refetched), "rerun fetched an exported article"


def test_kill_between_writing_and_marking_neither_loses_nor_repeats(
    tmp_path: Path,
) -> None:
    """The worst moment: the line is on disk, the store has not marked it yet."""
    extensions = json.dumps(
        {
            "crawler.extensions.statsfile.StatsFile": 900,
            "crawler.store.marker.SeenMarker": 800,
            "crawler.extensions.sitehealth.SiteHealth": 810,
            "tests.test_cron.KillAfterThirdWrite": 950,
        }
    )
    with SiteServer() as server:
        site = NewsSite(server, 6)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        killed = newsites_run(
            tmp_path,
            sites,
            "-s",
            f"EXTENSIONS={extensions}",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
        # Two marked; the third written but not marked (and maybe more items pending,
        # through the pipelines, not yet written).
        store = sqlite3.connect(tmp_path / "state" / "seen.sqlite3")
        assert store.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 2
        assert store.execute("SELECT COUNT(*) FROM pending").fetchone()[0] >= 1
        store.close()
        [part] = (tmp_path / "out").rglob("*.jsonl.part")
        assert part.read_bytes().count(b"\n") == 3
        rerun = newsites_run(tmp_path, sites)
        assert rerun.returncode == EXIT_OK, rerun.stderr[-3000:]

    first, second = (records(f) for f in outputs(tmp_path))
    assert len(first) == 3, "the killed run's third line is missing"
    urls = [r["url"] for r in first + second]
    assert len(urls) == len(set(urls)), "the unmarked article was exported again"
    assert set(urls) == site.urls(range(6))


class KillAfterThirdWrite:
    """Test extension: SIGKILL the crawl right after the feed wrote the 3rd article,
    before the seen store marks it (it is connected before the marker)."""

    def __init__(self) -> None:
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> KillAfterThirdWrite:
        from scrapy import signals

        ext = cls()
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def item_scraped(self) -> None:
        self.count += 1
        if self.count == 3:
            os.kill(os.getpid(), signal.SIGKILL)


def test_two_runs_at_once_one_works_the_other_exits_with_lock_code(
    tmp_path: Path,
) -> None:
    with SiteServer() as server:
        # ~5 s of crawling: the second run reaches the lock long before it is free.
        NewsSite(server, 6, delay=0.8)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        slow = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
        runs = [start_run(tmp_path, sites, *slow), start_run(tmp_path, sites, *slow)]
        results = [(r.wait(timeout=120), *r.communicate()) for r in runs]

    codes = sorted(code for code, _, _ in results)
    assert codes == [EXIT_OK, EXIT_LOCKED], results
    _, out, err = next(r for r in results if r[0] == EXIT_LOCKED)
    assert "another run" in err and "not starting" in err and out == ""
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert sorted(p.name.split("-run")[1] for p in files) == [
        "1.jsonl",
        "1.log",
        "1.stats.json",
    ], f"the refused run wrote files: {files}"
    assert len(records(outputs(tmp_path)[0])) == 6


def test_site_down_exits_non_zero_and_names_the_site(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with SiteServer() as server:
        NewsSite(server, 2)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        site_file(sites, "gazette", f"http://127.0.0.1:{closed_port}")
        result = newsites_run(tmp_path, sites, "-s", "RETRY_TIMES=0")
    assert result.returncode == EXIT_SITE_FAILED, result.stdout + result.stderr[-3000:]
    assert "site failed entirely: gazette" in result.stderr
    failed_sites = result.stderr.split("site failed entirely:")[1].split("|")[0]
    assert "harbour" not in failed_sites
    assert len(records(outputs(tmp_path)[0])) == 2, "the healthy site's articles"


# --- other exits --------------------------------------------------------------------


def test_corrupt_store_is_a_loud_error_and_nothing_is_crawled(tmp_path: Path) -> None:
    store = tmp_path / "state" / "seen.sqlite3"
    store.parent.mkdir()
    store.write_bytes(b"not a database at all " * 100)
    with SiteServer() as server:
        NewsSite(server, 2)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        result = newsites_run(tmp_path, sites)
        assert server.log == [], "a run with a corrupt store made requests"
    assert result.returncode == EXIT_STORE
    assert str(store) in result.stderr and "corrupt" in result.stderr
    assert store.read_bytes() == b"not a database at all " * 100
    assert not (tmp_path / "out").exists()


def test_an_empty_store_is_a_loud_error_not_a_fresh_start(tmp_path: Path) -> None:
    """A 0-byte store (truncated, a full disk) would export every article again."""
    store = tmp_path / "state" / "seen.sqlite3"
    store.parent.mkdir()
    store.write_bytes(b"")
    with SiteServer() as server:
        NewsSite(server, 2)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        result = newsites_run(tmp_path, sites)
        assert server.log == [], "a run with an empty store made requests"
    assert result.returncode == EXIT_STORE, result.stdout + result.stderr[-3000:]
    assert str(store) in result.stderr and "empty" in result.stderr
    assert store.read_bytes() == b""


def test_reset_starts_over_and_keeps_the_old_store(tmp_path: Path) -> None:
    with SiteServer() as server:
        NewsSite(server, 2)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        assert newsites_run(tmp_path, sites).returncode == EXIT_OK
        again = newsites_run(tmp_path, sites, "--reset")
    assert again.returncode == EXIT_OK, again.stderr[-3000:]
    assert "articles written 2" in again.stdout
    assert list((tmp_path / "state").glob("seen.sqlite3.reset-*"))


def test_no_article_anywhere_exits_with_its_code(tmp_path: Path) -> None:
    with SiteServer() as server:
        NewsSite(server, 0)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        result = newsites_run(tmp_path, sites)
    assert result.returncode == EXIT_NO_ARTICLES, result.stderr[-3000:]
    assert "no article found" in result.stderr


def test_errors_above_the_threshold_exit_with_their_code(tmp_path: Path) -> None:
    with SiteServer() as server:
        site = NewsSite(server, 8)
        for i in range(1, 8):
            del server.pages[f"/news/s{i}"]  # 7 of 8 articles answer 404
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        del site
        result = newsites_run(tmp_path, sites, "-s", "RUN_MIN_ERRORS=5")
        lenient = newsites_run(tmp_path, sites, "-s", "RUN_MAX_ERROR_RATIO=0")
    assert result.returncode == EXIT_TOO_MANY_ERRORS, result.stderr[-3000:]
    assert "RUN_MAX_ERROR_RATIO" in result.stderr
    assert lenient.returncode == EXIT_OK, lenient.stderr[-3000:]


def test_interrupted_run_keeps_its_output_and_says_so(tmp_path: Path) -> None:
    with SiteServer() as server:
        # 40 pages at 2 s each, one at a time: downloads go on for 80 s, far past
        # the first article even when a loaded machine is slow to start the
        # extraction workers (the signal must land while pages are left to fetch;
        # after it only the page in flight is waited for).
        NewsSite(server, 40, delay=2.0)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        run = start_run(tmp_path, sites, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")

        def one_written() -> bool:
            parts = list((tmp_path / "out").rglob("*.jsonl.part"))
            return bool(parts) and parts[0].read_bytes().count(b"\n") >= 1

        wait_for(one_written, what="a first article")
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
    assert run.returncode == EXIT_INTERRUPTED, err[-3000:]
    [output] = outputs(tmp_path)
    assert 1 <= len(records(output)) < 40  # in-flight pages finish on SIGTERM


def test_a_second_signal_stops_at_once_and_still_reports_interrupted(
    tmp_path: Path,
) -> None:
    """Scrapy stops the reactor at once on a second SIGTERM, without closing the
    spider (no finish_reason): the run must still say interrupted, not OK."""
    with SiteServer() as server:
        # 40 pages at 1 s each, one at a time: far past the first article.
        site = NewsSite(server, 40, delay=1.0)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        run = start_run(
            tmp_path,
            sites,
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            "-s",
            "DOWNLOAD_TIMEOUT=180",
        )

        def one_written() -> bool:
            parts = list((tmp_path / "out").rglob("*.jsonl.part"))
            return bool(parts) and parts[0].read_bytes().count(b"\n") >= 1

        def log_says(text: str) -> bool:
            logs = list((tmp_path / "out").rglob("*.log"))
            return bool(logs) and text in logs[0].read_text(errors="replace")

        wait_for(one_written, what="a first article")
        # From now on a page takes two minutes: the graceful stop after the first
        # SIGTERM waits for the page in flight, and the second signal cuts it short.
        for page in server.pages.values():
            page.delay = 120
        requested = len(article_paths(server))
        wait_for(
            lambda: len(article_paths(server)) > requested, what="a slow page in flight"
        )
        run.send_signal(signal.SIGTERM)
        wait_for(lambda: log_says("shutting down gracefully"), what="the first signal")
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
        del site
    assert run.returncode == EXIT_INTERRUPTED, err[-3000:]
    assert "interrupted by a second signal" in err, err[-3000:]
    [output] = outputs(tmp_path)
    assert 1 <= len(records(output)) < 40, "the written articles are kept, whole"
    stats = json.loads(output.with_suffix(".stats.json").read_text())
    assert stats["run/exit_code"] == EXIT_INTERRUPTED
    assert stats["run/status"] == "interrupted"


def test_a_run_started_on_a_full_disk_says_so_in_one_line(tmp_path: Path) -> None:
    """The output folder's disk is full (its log file is /dev/full, where every
    write fails with ENOSPC): exit 7, one line naming the log, no traceback, nothing
    crawled and no temporary file left."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "run1.log").symlink_to("/dev/full")
    with SiteServer() as server:
        NewsSite(server, 2)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        result = newsites_run(tmp_path, sites, "--output", "out/run{run}.jsonl")
        assert server.log == [], "a run on a full disk crawled"
    assert result.returncode == EXIT_OUTPUT, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(out / "run1.log") in lines[0] and "No space left" in lines[0], lines
    assert sorted(p.name for p in out.iterdir()) == ["run1.log"], list(out.iterdir())
    store = SqliteSeenStore.open(tmp_path / "state" / "seen.sqlite3")
    assert store.unfinished_runs() == [], "the refused run is left unfinished"
    store.close()


def test_the_recovery_of_a_killed_run_is_logged_and_counted(tmp_path: Path) -> None:
    """The next run's log keeps its "Recovered a killed run" lines (Scrapy reopens
    the log when the crawler is made) and its stats count what was recovered."""
    extensions = json.dumps(
        {
            "crawler.extensions.statsfile.StatsFile": 900,
            "crawler.store.marker.SeenMarker": 800,
            "crawler.extensions.sitehealth.SiteHealth": 810,
            "tests.test_cron.KillAfterThirdWrite": 950,
        }
    )
    with SiteServer() as server:
        NewsSite(server, 6)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        killed = newsites_run(
            tmp_path,
            sites,
            "-s",
            f"EXTENSIONS={extensions}",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
        rerun = newsites_run(tmp_path, sites)
    assert rerun.returncode == EXIT_OK, rerun.stderr[-3000:]
    second = outputs(tmp_path)[1]
    log = second.with_suffix(".log").read_text()
    assert "Recovered a killed run" in log and "found written and marked" in log, log[
        :3000
    ]
    assert "Spider closed" in log, "the crawl's own lines follow the recovery"
    stats = json.loads(second.with_suffix(".stats.json").read_text())
    assert stats["seen/recovered/marked"] >= 1, stats
    assert stats["seen/recovered/runs"] == 1, stats
    assert stats["seen/recovered/outputs_kept"] == 1, stats


def test_a_run_past_its_deadline_is_stopped_and_says_so(tmp_path: Path) -> None:
    """RUN_MAX_SECONDS bounds a run (a hung site, a trap): stopped there, exit 8,
    every line written is whole."""
    with SiteServer() as server:
        NewsSite(server, 40, delay=2.0)  # 80 s of downloads, one at a time
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        result = newsites_run(
            tmp_path,
            sites,
            "-s",
            "RUN_MAX_SECONDS=3",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        )
    assert result.returncode == EXIT_DEADLINE, result.stderr[-3000:]
    assert "deadline (RUN_MAX_SECONDS)" in result.stderr
    [output] = outputs(tmp_path)
    assert len(records(output)) < 40
    stats = json.loads(output.with_suffix(".stats.json").read_text())
    assert stats["finish_reason"] == "closespider_timeout"


def test_bad_option_is_a_configuration_error(tmp_path: Path) -> None:
    with SiteServer() as server:
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        result = newsites_run(tmp_path, sites, "--sites", "nosuchsite")
    assert result.returncode == EXIT_CONFIG
    assert "nosuchsite" in result.stderr
    assert not (tmp_path / "state").exists(), "a refused run touched the store"


# --- repairing outputs (units) ------------------------------------------------------


def test_repair_cuts_a_half_line_and_keeps_a_line_glued_to_a_cut_one(
    tmp_path: Path,
) -> None:
    a = json.dumps({"id": "a" * 16, "images": [{"url": "x"}]})
    b = json.dumps({"id": "b" * 16, "text": "cut by a full disk"})
    c = json.dumps({"id": "c" * 16, "images": [{"url": "y"}]})
    d = json.dumps({"id": "d" * 16})
    part = tmp_path / "run1.jsonl.part"
    # a whole; b cut by a failed write, c appended right after it; d cut at the end
    part.write_text(f"{a}\n{b[:25]}{c}\n{d[:10]}", encoding="utf-8")
    done = repair_output(part)
    assert "cut 10 bytes" in done and "repaired 1 line" in done
    assert [r["id"] for r in records(part)] == ["a" * 16, "c" * 16]
    assert repair_output(part) == "", "a repaired file needs no more repair"


def test_settle_pending_marks_what_the_output_holds(tmp_path: Path) -> None:
    store = SqliteSeenStore.open(tmp_path / "seen.sqlite3")
    part = tmp_path / "run1.jsonl.part"
    run = store.start_run([str(part)])
    for aid in ("1" * 16, "2" * 16):
        store.add_pending(
            PendingArticle(f"http://x.test/{aid}", aid, "x", 1, fingerprint(aid), run)
        )
    part.write_text(json.dumps({"id": "1" * 16}) + "\n")
    assert "1 found written and marked, 1 not written" in settle_pending(store)
    assert store.lookup("http://x.test/" + "1" * 16) is not None
    assert store.lookup("http://x.test/" + "2" * 16) is None
    recovery = recover_killed_runs(store, current=0)
    assert recovery.messages[-1].endswith("run1.jsonl")
    assert recovery.counts == {"outputs_kept": 1, "runs": 1}
    assert (tmp_path / "run1.jsonl").exists() and not part.exists()
    assert store.unfinished_runs() == []
