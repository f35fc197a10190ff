"""Faults: servers that fail or ask to wait, and the machine's own faults.

Cases 8, 17, 18 and 19 of issue 7.

A failing article is retried a bounded number of times and, since it was never
written, is not marked seen: the next run tries it again. A host that answers 429 or
503 with ``Retry-After`` is left alone for that long (capped) before the retry.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawl import PROJECT_ROOT
from tests.support.hostile import (
    article_html,
    crawl,
    guard_env,
    netguard,  # noqa: F401 - used by pytestmark
    newsites_run_command,
    on,
    send,
    sitemap_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")


class Script:
    """Answers a path from a script: the n-th request gets the n-th step (the last
    step repeats). A step is (status, headers) or "ok" for the article."""

    def __init__(self, server: SiteServer, path: str, title: str, steps: list[Any]):
        self.steps = steps
        self.title = title
        self.calls = Counter[str]()
        self.lock = threading.Lock()
        on(server, path, self)

    def __call__(self, req: Any) -> None:
        with self.lock:
            n = self.calls[req.path]
            self.calls[req.path] += 1
        step = self.steps[min(n, len(self.steps) - 1)]
        if step == "ok":
            send(req, article_html(self.title, len(self.title)))
        else:
            status, headers = step
            send(
                req,
                f"<html><body>{status}</body></html>",
                status=status,
                headers=headers,
            )


def request_times(server: SiteServer, path: str) -> list[float]:
    return [entry.time for entry in server.log if entry.path == path]


def test_failures_are_retried_boundedly_and_waits_are_honoured(
    tmp_path: Path,
) -> None:
    """Case 8: 500 forever is tried 1 + RETRY_TIMES times, backing off, and not
    marked seen (the next run asks again); a page failing twice then recovering gives
    exactly one item; 503 and 429 with Retry-After are retried after the wait; a
    Retry-After over RETRY_AFTER_MAX_DELAY is not retried."""
    seen_db = tmp_path / "seen.sqlite3"
    with SiteServer() as server:
        server.add("/news/good", article_html("Good story", 1))
        Script(server, "/news/always-500", "Never", [(500, {})])
        Script(server, "/news/flaky", "Flaky story", [(500, {}), (502, {}), "ok"])
        Script(server, "/news/busy", "Busy story", [(503, {"Retry-After": "1"}), "ok"])
        Script(
            server,
            "/news/limited",
            "Limited story",
            [(429, {"Retry-After": "1"}), "ok"],
        )
        Script(server, "/news/later", "Later", [(503, {"Retry-After": "3600"})])
        paths = [
            "/news/good",
            "/news/always-500",
            "/news/flaky",
            "/news/busy",
            "/news/limited",
            "/news/later",
        ]
        sites = sitemap_site(tmp_path, server, paths)
        settings = {
            "RETRY_TIMES": 2,
            "RETRY_AFTER_MAX_DELAY": 1.5,
            "RETRY_AFTER_BACKOFF_BASE": 0.5,
            "SEEN_ENABLED": True,
            "SEEN_DB": str(seen_db),
        }
        first = crawl(tmp_path, sites, settings=settings)
        log_first = Counter(server.paths())
        busy, limited, failing = (
            request_times(server, p)
            for p in ("/news/busy", "/news/limited", "/news/always-500")
        )
        server.clear_log()
        second = crawl(tmp_path, sites, settings=settings)
        log_second = Counter(server.paths())
    assert first.titles() == [
        "Busy story",
        "Flaky story",
        "Good story",
        "Limited story",
    ], first.titles()
    assert log_first["/news/always-500"] == 3, log_first
    assert log_first["/news/flaky"] == 3, log_first
    assert log_first["/news/later"] == 1, log_first
    assert busy[1] - busy[0] >= 0.9, f"retried {busy[1] - busy[0]:.2f} s after 503"
    assert limited[1] - limited[0] >= 0.9, f"retried {limited[1] - limited[0]:.2f} s"
    assert first.stat("retry_after/too_long") == 1, first.stats
    # 5xx without Retry-After: exponential back-off (0.5 s, then 1 s), not hammered
    gaps = [b - a for a, b in zip(failing, failing[1:], strict=False)]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.9, f"500 retried after {gaps} s"
    # The second run skips what the first wrote, and tries the failures again.
    assert second.titles() == [], second.titles()
    for path in ("/news/good", "/news/flaky", "/news/busy", "/news/limited"):
        assert log_second[path] == 0, (path, log_second)
    assert log_second["/news/always-500"] == 3, log_second
    assert log_second["/news/later"] == 1, log_second


# --- the machine's faults: `newsites run` (cases 17-19) -------------------------------


def serve_articles(
    server: SiteServer, count: int, paragraphs: int = 4, delay: float = 0.0
) -> list[str]:
    paths = [f"/news/{i}" for i in range(1, count + 1)]
    for i, path in enumerate(paths, start=1):
        server.add(
            path, article_html(f"Story {i}", i, paragraphs=paragraphs), delay=delay
        )
    return paths


def store_urls(seen_db: Path) -> set[str]:
    """URLs the seen store holds as exported (read with SQLite directly)."""
    import sqlite3

    with sqlite3.connect(seen_db) as conn:
        return {row[0] for row in conn.execute("SELECT url FROM articles")}


def whole_lines(path: Path) -> list[dict[str, Any]]:
    """The complete JSON lines of an output; a cut last line is reported."""
    import json

    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[-1] == "", f"{path}: the last line is cut ({len(lines[-1])} bytes)"
    return [json.loads(line) for line in lines[:-1]]


def run_newsites(
    tmp_path: Path,
    sites: Path,
    seen_db: Path,
    output: str,
    settings: dict[str, Any] | None = None,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    cmd = newsites_run_command(sites, seen_db, output, settings)
    return subprocess.run(
        cmd,
        cwd=PROJECT_ROOT,
        env=guard_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_an_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    """Case 17: the output folder cannot be made (a file is in the way): a message
    naming the path, a non-zero exit, nothing marked seen."""
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    seen_db = tmp_path / "seen.sqlite3"
    with SiteServer() as server:
        sites = sitemap_site(tmp_path, server, serve_articles(server, 3))
        proc = run_newsites(tmp_path, sites, seen_db, str(blocker / "run{run}.jsonl"))
    assert proc.returncode not in (0, 1), (proc.returncode, proc.stderr[-2000:])
    assert str(blocker) in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[
        -2000:
    ]
    assert not seen_db.exists() or store_urls(seen_db) == set()


def test_disk_full_mid_run_keeps_every_line_whole_and_marks_only_what_was_written(
    tmp_path: Path,
) -> None:
    """Case 17: files stop growing at 400 kB (RLIMIT_FSIZE) while big articles are
    written: a clear error and a non-zero exit, every line of the output whole JSON,
    nothing marked seen that is not in the output; the next run (disk freed) writes
    exactly the articles the first did not."""
    seen_db = tmp_path / "seen.sqlite3"
    template = str(tmp_path / "out" / "run{run}.jsonl")
    with SiteServer() as server:
        paths = serve_articles(server, 30, paragraphs=300)
        sites = sitemap_site(tmp_path, server, paths)
        proc = run_newsites(
            tmp_path,
            sites,
            seen_db,
            template,
            {"LOG_LEVEL": "WARNING"},
            NEWSITES_FSIZE_LIMIT_BYTES="400000",
        )
        marked_after_first = store_urls(seen_db)
        second = run_newsites(tmp_path, sites, seen_db, template)
        every_url = sorted(f"{server.url}{p}" for p in paths)
    outputs = sorted((tmp_path / "out").glob("run1.jsonl*"))
    assert proc.returncode != 0, proc.stdout[-1000:]
    assert "could not be written" in proc.stderr, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(outputs) == 1, outputs
    first = [item["url"] for item in whole_lines(outputs[0])]
    assert 0 < len(first) < 30, len(first)
    assert marked_after_first <= set(first), marked_after_first - set(first)
    assert second.returncode == 0, second.stderr[-2000:]
    rest = [item["url"] for item in whole_lines(tmp_path / "out" / "run2.jsonl")]
    assert sorted(first + rest) == every_url, "an article was lost or written twice"


def test_a_corrupt_or_locked_seen_store_stops_the_run(tmp_path: Path) -> None:
    """Case 18: a corrupt store: a message naming it, exit 6, the file untouched and
    nothing fetched; a store locked by another run: exit 75, nothing fetched."""
    from crawler.store import SeenLock

    corrupt = tmp_path / "corrupt.sqlite3"
    garbage = b"SQLite format 3\x00" + b"\x13\x37" * 3000
    corrupt.write_bytes(garbage)
    locked = tmp_path / "locked.sqlite3"
    with SiteServer() as server:
        sites = sitemap_site(tmp_path, server, serve_articles(server, 2))
        bad = run_newsites(
            tmp_path, sites, corrupt, str(tmp_path / "a" / "{run}.jsonl")
        )
        lock = SeenLock.acquire(locked)
        try:
            busy = run_newsites(
                tmp_path, sites, locked, str(tmp_path / "b" / "{run}.jsonl")
            )
        finally:
            lock.release()
        requests = server.paths()
    assert bad.returncode == 6, (bad.returncode, bad.stderr[-2000:])
    assert str(corrupt) in bad.stderr and "corrupt" in bad.stderr, bad.stderr[-2000:]
    assert corrupt.read_bytes() == garbage, "a corrupt store was rewritten"
    assert busy.returncode == 75, (busy.returncode, busy.stderr[-2000:])
    assert requests == [], requests


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_leaves_whole_files_and_the_rest_for_the_next_run(
    tmp_path: Path, signum: int
) -> None:
    """Case 19: SIGTERM or SIGINT while articles are downloading: exit 130, the
    output closed with whole lines, only written articles marked; the next run
    writes exactly the articles the first did not."""
    seen_db = tmp_path / "seen.sqlite3"
    template = str(tmp_path / "out" / "run{run}.jsonl")
    with SiteServer() as server:
        paths = serve_articles(server, 24, delay=0.4)
        sites = sitemap_site(tmp_path, server, paths)
        cmd = newsites_run_command(
            sites, seen_db, template, {"CONCURRENT_REQUESTS_PER_DOMAIN": 2}
        )
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=guard_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while sum(p.startswith("/news/") for p in server.paths()) < 6:
            assert time.monotonic() < deadline and proc.poll() is None, "no progress"
            time.sleep(0.05)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=120)
        first_code = proc.returncode
        for page in server.pages.values():
            page.delay = 0  # the next run need not be slow
        second = run_newsites(tmp_path, sites, seen_db, template)
        every_url = sorted(f"{server.url}{p}" for p in paths)
    assert first_code == 130, (first_code, stderr[-2000:])
    first_out = tmp_path / "out" / "run1.jsonl"
    second_out = tmp_path / "out" / "run2.jsonl"
    first_urls = [item["url"] for item in whole_lines(first_out)]
    assert 0 < len(first_urls) < 24, len(first_urls)
    second_urls = [item["url"] for item in whole_lines(second_out)]
    assert second.returncode == 0, second.stderr[-2000:]
    assert sorted(first_urls + second_urls) == every_url, (
        "an article was lost or written twice"
    )
    assert store_urls(seen_db) == set(first_urls + second_urls)
