"""crawler/extensions/progress.py: a live line on a terminal, log lines elsewhere.

Real crawls of the shipped fixtures (replay): on a pseudo-terminal, and with stderr
a pipe. No assertion depends on how long anything takes.
"""

from __future__ import annotations

import errno
import os
import pty
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crawler.extensions.progress import progress_line
from tests.support.crawl import PROJECT_ROOT, run_crawl

REPLAY = {"FIXTURES_MODE": "replay"}


def test_the_line_has_pages_rates_articles_errors_and_sites() -> None:
    line = progress_line(125.0, 500, Counter({"tribune": 90, "herald": 30}), 3)
    assert line == (
        "2:05  pages 500 (4.0/s)  articles 120 (58/min)  errors 3  "
        "tribune 90, herald 30"
    )
    many = Counter({f"site{i}": 10 - i for i in range(9)})
    assert progress_line(0.0, 0, many, 0).endswith("site5 5, +3 sites")


def run_on_a_terminal(tmp_path: Path, *settings: str) -> tuple[int, str]:
    """``scrapy crawl newsites`` with stdout and stderr on a pseudo-terminal."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "newsites",
           "-O", str(tmp_path / "out.jsonl"), "-s", "FIXTURES_MODE=replay"]  # fmt: skip
    for setting in settings:
        cmd += ["-s", setting]
    return on_a_terminal(cmd)


def on_a_terminal(cmd: list[str]) -> tuple[int, str]:
    """Run ``cmd`` with stdout and stderr on a pseudo-terminal: (status, screen)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave)  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError as exc:  # EIO: the crawl closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.timeout(180)
def test_on_a_terminal_one_line_is_rewritten(tmp_path: Path) -> None:
    code, screen = run_on_a_terminal(tmp_path, "LOG_LEVEL=WARNING")
    assert code == 0, screen[-3000:]
    assert "\r\x1b[K" in screen
    last = screen.rsplit("\r\x1b[K", 1)[1]
    assert "pages 25 " in last and "articles 8 " in last, repr(last)
    assert "errors 0  indiadailydigital 4, tribune 4" in last
    assert "Progress" not in screen  # no log lines on a terminal


@pytest.mark.timeout(180)
def test_log_records_on_the_terminal_clear_the_line_first(tmp_path: Path) -> None:
    code, screen = run_on_a_terminal(
        tmp_path, "LOG_LEVEL=INFO", "PROGRESS_INTERVAL=0.05"
    )
    assert code == 0, screen[-3000:]
    # every log record starts on a clean line, never right after the progress text
    progress = [line for line in screen.split("\r\x1b[K") if line.startswith("0:")]
    assert progress, screen[-3000:]
    for piece in progress:
        assert "] INFO: " not in piece.split("\n", 1)[0], repr(piece[:300])
    assert "Spider closed (finished)" in screen


def test_not_on_a_terminal_the_log_gets_the_line(tmp_path: Path) -> None:
    result = run_crawl(tmp_path, settings=REPLAY)
    assert result.returncode == 0, result.log[-3000:]
    assert "\x1b[K" not in result.log
    ends = [line for line in result.log.splitlines() if "Progress (end):" in line]
    assert len(ends) == 1, result.log[-3000:]
    assert "pages 25 " in ends[0] and "articles 8 " in ends[0]
    assert ends[0].endswith("errors 0  indiadailydigital 4, tribune 4")


def test_a_bad_terminal_mode_is_an_error(tmp_path: Path) -> None:
    result = run_crawl(tmp_path, settings={**REPLAY, "PROGRESS_TERMINAL": "sometimes"})
    assert result.returncode == 2, result.log[-3000:]
    assert result.log.strip().splitlines() == [
        "scrapy crawl: error: setting PROGRESS_TERMINAL must be 'auto', 'always' "
        "or 'never', not 'sometimes'"
    ]


@pytest.mark.timeout(180)
def test_newsites_run_shows_the_line_then_its_summary(tmp_path: Path) -> None:
    newsites = Path(sys.executable).with_name("newsites")
    code, screen = on_a_terminal(
        [str(newsites), "run", "-s", "FIXTURES_MODE=replay",
         "-s", f"SEEN_DB={tmp_path / 'seen.sqlite3'}",
         "--output", str(tmp_path / "out" / "{run}.jsonl")]
    )  # fmt: skip
    assert code == 0, screen[-3000:]
    last, summary = screen.rsplit("\r\x1b[K", 1)[1].split("\n", 1)
    assert "articles 8 " in last and "tribune 4" in last, repr(last)
    assert summary.startswith("newsites run 1: OK"), repr(summary)
    log = (tmp_path / "out" / "1.log").read_text()  # the run's log file: the line too
    assert "Progress (end): " in log and "tribune 4" in log, log[-2000:]
