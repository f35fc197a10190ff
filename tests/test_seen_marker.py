"""The seen marker in real crawls: marks only after the feed line is written.

Each test runs ``scrapy crawl newsites`` with the seen store on against the small
site of tests/test_cron.py, sometimes with a test extension or exporter from this
module loaded into the crawl.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from scrapy import signals

from crawler.cli.run import EXIT_LOCKED, EXIT_STORE
from crawler.output.exporters import LineJsonLinesExporter
from crawler.store import SeenLock
from crawler.store.run import seen_run_of
from tests.support.crawl import PROJECT_ROOT
from tests.support.server import SiteServer
from tests.test_cron import NewsSite, site_file

EXTENSIONS = {
    "crawler.extensions.statsfile.StatsFile": 900,
    "crawler.store.marker.SeenMarker": 800,
    "crawler.extensions.sitehealth.SiteHealth": 810,
}


def crawl(tmp_path: Path, sites: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    """``scrapy crawl newsites`` with the seen store on; (status, stats, log)."""
    stats_file = tmp_path / f"stats-{len(list(tmp_path.glob('stats-*')))}.json"
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "newsites",
        "-s",
        f"SITES_DIR={sites}",
        "-s",
        "SEEN_ENABLED=1",
        "-s",
        f"SEEN_DB={tmp_path / 'seen.sqlite3'}",
        "-s",
        f"STATS_FILE={stats_file}",
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        *extra,
    ]
    proc = subprocess.run(
        cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    return proc.returncode, stats, proc.stdout + proc.stderr


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def table_count(tmp_path: Path, table: str) -> int:
    conn = sqlite3.connect(tmp_path / "seen.sqlite3")
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


# --- test components loaded into the crawls -----------------------------------------


class MarkAfterWriteProbe:
    """Checks, each time the store marks an article, that its line is in the feed."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> MarkAfterWriteProbe:
        probe = cls(crawler)
        crawler.signals.connect(probe.spider_opened, signal=signals.spider_opened)
        return probe

    def spider_opened(self) -> None:
        marker = seen_run_of(self.crawler)
        feeds = [Path(p) for p in self.crawler.settings.getdict("FEEDS")]
        stats = self.crawler.stats
        original = marker.store.mark_exported

        def checked(url: str, when: str | None = None) -> Any:
            written = {
                json.loads(line)["url"]
                for feed in feeds
                for line in feed.read_text().splitlines()
            }
            stats.inc_value("probe/checked")
            if url not in written:
                stats.inc_value("probe/marked_before_written")
            return original(url, when)

        setattr(marker.store, "mark_exported", checked)  # noqa: B010 - a probe


class FullDiskExporter(LineJsonLinesExporter):
    """Writes every item but the second, which fails like a full disk."""

    count = 0

    def export_item(self, item: Any) -> None:
        self.count += 1
        if self.count == 2:
            raise OSError(28, "No space left on device")
        super().export_item(item)


# --- tests ----------------------------------------------------------------------------


def test_marked_only_after_the_line_is_in_the_feed(tmp_path: Path) -> None:
    extensions = {**EXTENSIONS, "tests.test_seen_marker.MarkAfterWriteProbe": 950}
    out = tmp_path / "out.jsonl"
    with SiteServer() as server:
        NewsSite(server, 5)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        status, stats, log = crawl(
            tmp_path,
            sites,
            "-O",
            str(out),
            "-s",
            f"EXTENSIONS={json.dumps(extensions)}",
        )
    assert status == 0, log[-3000:]
    assert len(lines(out)) == 5
    assert stats.get("probe/checked") == 5, "the probe did not see every mark"
    assert stats.get("probe/marked_before_written", 0) == 0, (
        "an article was marked before its feed line was written: the marker must "
        "receive item_scraped after Scrapy's FeedExporter"
    )
    assert stats["seen/marked"] == 5 and table_count(tmp_path, "articles") == 5


def test_failed_write_is_not_marked_and_is_exported_next_time(tmp_path: Path) -> None:
    exporters = {
        "jsonlines": "crawler.output.exporters.LineJsonLinesExporter",
        "fulldisk": "tests.test_seen_marker.FullDiskExporter",
    }
    full = tmp_path / "full.jsonl"
    feeds = {str(full): {"format": "fulldisk"}}
    with SiteServer() as server:
        site = NewsSite(server, 4)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        status, stats, log = crawl(
            tmp_path,
            sites,
            "-s",
            f"FEED_EXPORTERS={json.dumps(exporters)}",
            "-s",
            f"FEEDS={json.dumps(feeds)}",
        )
        assert status == 7, log[-3000:]  # the output could not be written
        # The first write failure stops the crawl: one article written and marked,
        # the failed one (and any already through the pipelines) left pending, to be
        # settled from the output at the next start.
        assert stats["finish_reason"] == "feed_write_failed"
        assert stats["seen/marked"] == 1
        assert stats["seen/not_marked/export_failed"] == 1
        pending = table_count(tmp_path, "pending")
        assert pending >= 1
        again = tmp_path / "again.jsonl"
        status, stats, log = crawl(tmp_path, sites, "-O", str(again))
    assert status == 0, log[-3000:]
    # Lines written after the failure (this exporter fails once) are found in the
    # output and marked; the failed one is forgotten and exported again.
    recovered = stats.get("seen/recovered/marked", 0)
    assert stats["seen/recovered/discarded"] >= 1
    assert recovered + stats["seen/recovered/discarded"] == pending
    urls = [r["url"] for r in lines(full) + lines(again)]
    assert len(urls) == len(set(urls)) == 4, "an article lost or exported twice"
    assert set(urls) == site.urls(range(4))


def test_without_a_feed_nothing_is_marked(tmp_path: Path) -> None:
    with SiteServer() as server:
        NewsSite(server, 2)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        status, stats, log = crawl(tmp_path, sites)
    assert status == 0, log[-3000:]
    assert "no FEEDS output" in log
    assert stats["item_scraped_count"] == 2
    assert table_count(tmp_path, "articles") == 0
    assert table_count(tmp_path, "pending") == 0


def test_plain_crawl_refuses_a_store_in_use(tmp_path: Path) -> None:
    lock = SeenLock.acquire(tmp_path / "seen.sqlite3")
    try:
        with SiteServer() as server:
            NewsSite(server, 2)
            sites = site_file(tmp_path / "sites", "harbour", server.url)
            status, _, log = crawl(tmp_path, sites, "-O", str(tmp_path / "o.jsonl"))
            assert server.log == [], "a crawl ran on a store in use"
    finally:
        lock.release()
    assert status == EXIT_LOCKED, log[-3000:]
    assert "another run" in log and str(tmp_path / "seen.sqlite3") in log
    assert "Traceback" not in log, log[-3000:]


def test_plain_crawl_with_corrupt_store_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "seen.sqlite3").write_bytes(b"\x00garbage" * 500)
    with SiteServer() as server:
        NewsSite(server, 2)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        status, _, log = crawl(tmp_path, sites, "-O", str(tmp_path / "o.jsonl"))
        assert server.log == []
    assert status == EXIT_STORE, log[-3000:]
    assert "corrupt" in log and "SEEN_RESET" in log
    assert "Traceback" not in log, log[-3000:]
    assert (tmp_path / "seen.sqlite3").read_bytes() == b"\x00garbage" * 500
    assert os.path.getsize(tmp_path / "seen.sqlite3") == 4000
