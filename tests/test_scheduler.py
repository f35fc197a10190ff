"""The spilling scheduler (crawler/scheduler.py), in real crawls of a local site.

Without JOBDIR, scheduled requests wait on disk in a private folder that is removed
at the end; a folder that cannot be made or a disk that fills up keeps the requests
in memory, counted, and the crawl still writes every article.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.scheduler import default_parent
from tests.support.crawl import CrawlResult, run_crawl
from tests.support.newssite import NewsSite
from tests.support.server import SiteServer

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0}


def crawl(
    tmp_path: Path, settings: dict[str, Any], env: dict[str, str] | None = None
) -> tuple[CrawlResult, set[str]]:
    site = NewsSite(n_articles=12)
    with SiteServer() as server:
        site.install(server)
        sites_dir = site.write_site_file(tmp_path / "sites", server.url)
        result = run_crawl(
            tmp_path, settings={"SITES_DIR": sites_dir, **FAST, **settings}, env=env
        )
        expected = site.canonical_urls(server.url)
    assert result.returncode == 0, result.log[-4000:]
    return result, expected


def urls(result: CrawlResult) -> set[str]:
    return {item["url"] for item in result.items}


def test_without_jobdir_requests_wait_on_disk_and_the_folder_is_removed(
    tmp_path: Path,
) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    result, expected = crawl(tmp_path, {"SCHEDULER_SPILL_DIR": spill})
    assert urls(result) == expected
    enqueued = result.stat("scheduler/enqueued")
    assert enqueued > len(expected)
    assert result.stat("scheduler/enqueued/disk") == enqueued
    assert result.stat("scheduler/enqueued/memory") == 0
    assert list(spill.iterdir()) == [], "the run left its queue folder behind"


def test_spill_off_keeps_the_queue_in_memory(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    result, expected = crawl(
        tmp_path, {"SCHEDULER_SPILL": False, "SCHEDULER_SPILL_DIR": spill}
    )
    assert urls(result) == expected
    assert result.stat("scheduler/enqueued/disk") == 0
    assert result.stat("scheduler/enqueued/memory") == result.stat("scheduler/enqueued")


def test_a_folder_that_cannot_be_made_is_a_warning_and_a_counter(
    tmp_path: Path,
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    result, expected = crawl(tmp_path, {"SCHEDULER_SPILL_DIR": not_a_folder})
    assert urls(result) == expected
    assert result.stat("scheduler/spill/unavailable") == 1
    assert "requests stay in memory" in result.log
    assert result.stat("scheduler/enqueued/disk") == 0


def test_a_full_disk_keeps_later_requests_in_memory_and_loses_none(
    tmp_path: Path,
) -> None:
    result, expected = crawl(
        tmp_path,
        {
            "SCHEDULER_DISK_QUEUE": "tests.support.faulty_queue.FullDiskQueue",
            "SCHEDULER_START_DISK_QUEUE": "tests.support.faulty_queue.FullDiskQueue",
            "SCHEDULER_SPILL_DIR": tmp_path,
        },
        env={"NEWSITES_TEST_FULL_AFTER": "3"},
    )
    assert urls(result) == expected, "a request the disk refused was lost"
    assert result.stat("scheduler/enqueued/disk") == 3
    failed = result.stat("scheduler/spill/failed")
    assert failed == result.stat("scheduler/enqueued/memory") > 0
    assert "No space left on device" in result.log


def test_with_jobdir_the_queue_is_the_jobdirs_and_stays(tmp_path: Path) -> None:
    jobdir = tmp_path / "job"
    result, expected = crawl(tmp_path, {"JOBDIR": jobdir})
    assert urls(result) == expected
    assert result.stat("scheduler/enqueued/disk") == result.stat("scheduler/enqueued")
    assert (jobdir / "requests.queue" / "active.json").exists()


def dead_pid() -> int:
    """The process id of a process that has ended (a killed run's, for the test)."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(gone.stdout)


def test_folders_of_killed_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    stale = spill / f"newsites-queue-{dead_pid()}-abc123"
    (stale / "requests.queue").mkdir(parents=True)
    (stale / "requests.queue" / "p10").write_bytes(b"x" * 100)
    live = spill / f"newsites-queue-{os.getpid()}-def456"  # this test: alive
    live.mkdir()
    other = spill / "unrelated"
    other.mkdir()
    result, expected = crawl(tmp_path, {"SCHEDULER_SPILL_DIR": spill})
    assert urls(result) == expected
    assert result.stat("scheduler/spill/stale_removed") == 1
    assert not stale.exists()
    assert live.exists() and other.exists()


def test_the_default_folder_is_tmpdir_when_set(tmp_path: Path) -> None:
    # Without SCHEDULER_SPILL_DIR: $TMPDIR if set (else /var/tmp, on disk where /tmp
    # may be RAM). A killed run's folder left there is found and removed.
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    stale = tmpdir / f"newsites-queue-{dead_pid()}-abc123"
    stale.mkdir()
    result, expected = crawl(tmp_path, {}, env={"TMPDIR": str(tmpdir)})
    assert urls(result) == expected
    assert result.stat("scheduler/spill/stale_removed") == 1
    assert result.stat("scheduler/enqueued/disk") == result.stat("scheduler/enqueued")
    assert list(tmpdir.iterdir()) == []


def test_without_tmpdir_the_default_is_on_disk_var_tmp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TMPDIR", raising=False)
    if not (Path("/var/tmp").is_dir() and os.access("/var/tmp", os.W_OK)):
        pytest.fail("this machine has no writable /var/tmp to test with")
    assert default_parent() == Path("/var/tmp")
