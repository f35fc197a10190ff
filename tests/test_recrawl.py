"""Re-crawl of updated articles (``SEEN_RECRAWL_UPDATED``), end to end.

Real ``newsites run`` subprocesses (the cron command, docs/cron.md) against a local
site whose sitemap gives each article a ``lastmod``; the tests read the run's output
file, the server's request log, the stats file and the seen store. An article whose
``lastmod`` moves past its export is fetched again and, if its text changed, written
again with ``version`` n+1; nothing else is fetched, and nothing at all without the
setting.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.cli.run import EXIT_OK
from crawler.items import article_id
from crawler.store import SCHEMA_VERSION, PendingArticle, SqliteSeenStore, fingerprint
from crawler.store import filter as seenfilter
from crawler.store.filter import SeenFilterMiddleware
from crawler.store.run import SeenRun
from tests.support.crawl import PROJECT_ROOT
from tests.support.server import Page, SiteServer

FAST = ["-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"]
RECRAWL = ["-s", "SEEN_RECRAWL_UPDATED=1"]
WORDS = (
    "harbour council ferry budget dredging vote mayor school river bridge market "
    "rain tide pier crane cargo union strike fishing licence quota museum"
).split()
#: When the stories were published (and their first lastmod): long before any run.
PUBLISHED = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
NEW_PARAGRAPH = (
    "Update: the harbour board confirmed on Friday that the dredging "
    "contract was signed and that work starts next month."
)


def iso(moment: datetime | date) -> str:
    if not isinstance(moment, datetime):
        return moment.isoformat()
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- a small site: a sitemap with lastmod, an optional feed, article pages ---------


class SitemapSite:
    """``/sitemap.xml`` (one ``<url>`` with ``lastmod`` per story), ``/feed.xml``
    (RSS, the story's publication date) and stories ``/news/s<N>`` with
    rel=canonical. ``updates[i]`` are paragraphs added to story ``i``."""

    def __init__(self, server: SiteServer, n: int) -> None:
        self.server = server
        #: story -> its sitemap lastmod: a time, or a date (W3C allows both)
        self.lastmod: dict[int, datetime | date] = {
            i: PUBLISHED + timedelta(hours=i) for i in range(n)
        }
        self.updates: dict[int, list[str]] = {i: [] for i in range(n)}
        self.install()

    def url(self, i: int) -> str:
        return f"{self.server.url}/news/s{i}"

    def paragraphs(self, i: int) -> list[str]:
        rng = random.Random(i)
        return [
            " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(35))
            + "."
            for _ in range(4)
        ] + self.updates[i]

    def article(self, i: int) -> str:
        body = "".join(f"<p>{p}</p>" for p in self.paragraphs(i))
        return (
            f'<html lang="en"><head><title>Story {i}</title>'
            f'<link rel="canonical" href="{self.url(i)}">'
            '<meta property="article:published_time" '
            f'content="{iso(PUBLISHED + timedelta(hours=i))}"></head>'
            f"<body><article><h1>Story {i}</h1>{body}</article></body></html>"
        )

    def install(self) -> None:
        urls = "".join(
            f"<url><loc>{self.url(i)}</loc><lastmod>{iso(moment)}</lastmod></url>"
            for i, moment in sorted(self.lastmod.items())
        )
        self.server.add(
            "/sitemap.xml",
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
            content_type="application/xml",
        )
        items = "".join(
            f"<item><title>Story {i}</title><link>{self.url(i)}</link><pubDate>"
            f"{(PUBLISHED + timedelta(hours=i)).strftime('%a, %d %b %Y %H:%M:%S')}"
            " GMT</pubDate></item>"
            for i in sorted(self.lastmod)
        )
        self.server.add(
            "/feed.xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
            content_type="application/rss+xml",
        )
        for i in self.lastmod:
            self.server.pages[f"/news/s{i}"] = Page(self.article(i))


def site_file(folder: Path, base: str, *, feed: bool = False) -> Path:
    """A site file whose entry point is the sitemap (and, with ``feed``, the feed)."""
    folder.mkdir(parents=True, exist_ok=True)
    feeds = f'feeds = ["{base}/feed.xml"]\n' if feed else ""
    (folder / "harbour.toml").write_text(
        f'home = "{base}/"\ndomains = ["127.0.0.1"]\n'
        f'[discovery]\nsitemaps = ["{base}/sitemap.xml"]\n{feeds}'
        '[articles]\nallow = ["/news/"]\n',
        encoding="utf-8",
    )
    return folder


# --- running newsites run -------------------------------------------------------------


class Run:
    """One finished ``newsites run``: its exit status, records, stats, fetched pages."""

    def __init__(
        self,
        proc: subprocess.CompletedProcess[str],
        output: Path | None,
        fetched: list[str],
    ) -> None:
        self.proc = proc
        self.output = output
        self.fetched = fetched
        self.records = read_records(output) if output else []
        stats_file = output.with_suffix(".stats.json") if output else None
        self.stats: dict[str, Any] = (
            json.loads(stats_file.read_text())
            if stats_file and stats_file.exists()
            else {}
        )

    def stat(self, key: str) -> int:
        return int(self.stats.get(key, 0))


def read_records(path: Path) -> list[dict[str, Any]]:
    data = path.read_text(encoding="utf-8")
    assert data == "" or data.endswith("\n"), f"{path} ends in the middle of a line"
    return [json.loads(line) for line in data.splitlines()]


def newsites_run(tmp_path: Path, server: SiteServer, sites: Path, *extra: str) -> Run:
    """``newsites run`` in ``tmp_path`` (store in ``state/``, output in ``out/``)."""
    before = set((tmp_path / "out").rglob("*.jsonl"))
    server.clear_log()
    # tests/conftest.py's network guard, with the project on PYTHONPATH
    paths = [os.environ.get("PYTHONPATH", ""), str(PROJECT_ROOT)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "run",
            "-s",
            f"SITES_DIR={sites}",
            *FAST,
            *extra,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EXIT_OK, (
        f"newsites run exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    )
    new = sorted(set((tmp_path / "out").rglob("*.jsonl")) - before)
    assert len(new) == 1, f"expected one new output file, got {new}"
    fetched = [p for p in server.paths() if p.startswith("/news/")]
    return Run(proc, new[0], fetched)


def store_rows(tmp_path: Path) -> dict[str, tuple[int, str]]:
    """The seen store's articles: url -> (version, exported_at)."""
    conn = sqlite3.connect(tmp_path / "state" / "seen.sqlite3")
    try:
        rows = conn.execute("SELECT url, version, exported_at FROM articles")
        return {url: (version, stamp) for url, version, stamp in rows}
    finally:
        conn.close()


def after_export(tmp_path: Path, url: str, seconds: int = 1) -> datetime:
    """``seconds`` after the article's export time in the store (a time after run 1)."""
    _, stamp = store_rows(tmp_path)[url]
    return datetime.fromisoformat(stamp) + timedelta(seconds=seconds)


def update_after_export(site: SitemapSite, tmp_path: Path, i: int) -> None:
    """Story ``i`` gains a paragraph and its lastmod moves past its export."""
    site.updates[i].append(NEW_PARAGRAPH)
    site.lastmod[i] = after_export(tmp_path, site.url(i))
    site.install()


# --- tests ----------------------------------------------------------------------------


def test_updated_article_is_written_again_as_version_2_only_with_the_setting(
    tmp_path: Path,
) -> None:
    with SiteServer() as server:
        site = SitemapSite(server, 4)
        sites = site_file(tmp_path / "sites", server.url)
        first = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert {r["url"] for r in first.records} == {site.url(i) for i in range(4)}
        assert {r["version"] for r in first.records} == {1}, "a first export is v1"
        assert sorted(first.fetched) == [f"/news/s{i}" for i in range(4)]
        [v1] = [r for r in first.records if r["url"] == site.url(1)]

        update_after_export(site, tmp_path, 1)

        off = newsites_run(tmp_path, server, sites)
        assert off.fetched == [], (
            f"without SEEN_RECRAWL_UPDATED no exported page is fetched: {off.fetched}"
        )
        assert off.records == [], "without SEEN_RECRAWL_UPDATED nothing is written"
        assert off.stat("seen/skipped") == 4

        on = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert on.fetched == ["/news/s1"], (
            f"only the updated article is fetched again, got {on.fetched}"
        )
        assert len(on.records) == 1, f"one record, got {len(on.records)}"
        [v2] = on.records
        assert v2["url"] == site.url(1)
        assert v2["id"] == v1["id"], "a new version keeps the article's id"
        assert v2["version"] == 2, "the re-exported article is version 2"
        assert NEW_PARAGRAPH in v2["text"], "version 2 has the new text"
        assert NEW_PARAGRAPH not in v1["text"]
        assert v2["text"].startswith(v1["text"]), "the old paragraphs are kept"
        assert on.stat("seen/recrawl_updated") == 1
        assert on.stat("seen/new_version") == 1
        assert on.stat("seen/skipped") == 3
        assert on.stat("seen/marked") == 1
        assert store_rows(tmp_path)[site.url(1)][0] == 2, "the store knows version 2"

        again = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert again.fetched == [], (
            f"v2 was fetched under this lastmod: nothing to fetch: {again.fetched}"
        )
        assert again.records == []
        assert again.stat("seen/skipped") == 4


def test_lastmod_not_newer_than_the_export_leaves_the_article_alone(
    tmp_path: Path,
) -> None:
    with SiteServer() as server:
        site = SitemapSite(server, 3)
        sites = site_file(tmp_path / "sites", server.url)
        newsites_run(tmp_path, server, sites, *RECRAWL)

        # Both texts change, but their lastmods stay at or before the export: story 0
        # moves to exactly its export time, story 1 later than before but earlier.
        for i in (0, 1):
            site.updates[i].append(NEW_PARAGRAPH)
        site.lastmod[0] = after_export(tmp_path, site.url(0), seconds=0)
        site.lastmod[1] = after_export(tmp_path, site.url(1), seconds=-60)
        site.install()

        second = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert second.fetched == [], (
            f"a lastmod not after the export fetches nothing: {second.fetched}"
        )
        assert second.records == []
        assert second.stat("seen/recrawl_updated") == 0
        assert second.stat("seen/skipped") == 3
        assert {v for v, _ in store_rows(tmp_path).values()} == {1}


def test_newer_lastmod_with_the_same_text_is_checked_once(tmp_path: Path) -> None:
    with SiteServer() as server:
        site = SitemapSite(server, 3)
        # A date-only lastmod of today: read as the latest moment it may mean (end
        # of the day, +12 h), later than the export, yet the same link date as then.
        site.lastmod[0] = datetime.now(UTC).date()
        site.install()
        sites = site_file(tmp_path / "sites", server.url)
        first = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert len(first.records) == 3

        # Story 2's lastmod moves (comments, a template change) but its text does not.
        site.lastmod[2] = after_export(tmp_path, site.url(2))
        site.install()

        second = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert second.fetched == ["/news/s2"], (
            "only the article whose lastmod moved is fetched (not the one whose "
            f"date-only lastmod of today is unchanged): {second.fetched}"
        )
        assert second.records == [], "the same text is not a new version"
        assert second.stat("seen/recrawl_updated") == 1
        assert second.stat("seen/duplicate_url") == 1

        third = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert third.fetched == [], (
            "an article found unchanged under this lastmod is not fetched again on "
            f"every run: {third.fetched}"
        )
        assert third.records == []


# --- the store's part -----------------------------------------------------------------


def pending(
    url: str,
    text: str,
    version: int,
    run: int,
    lastmod: str | None = None,
    aliases: tuple[str, ...] = (),
) -> PendingArticle:
    return PendingArticle(
        url=url,
        id=article_id(url),
        site="harbour",
        version=version,
        fingerprint=fingerprint(text),
        run=run,
        aliases=aliases,
        lastmod=lastmod,
    )


def test_a_new_version_keeps_the_aliases_of_the_first(tmp_path: Path) -> None:
    store = SqliteSeenStore.open(tmp_path / "seen.sqlite3")
    url, alias = "http://news.test/news/one", "http://news.test/n/1"
    run = store.start_run()
    store.add_pending(pending(url, "first text", 1, run, aliases=(alias,)))
    store.mark_exported(url)
    store.add_pending(pending(url, "second text", 2, run, "2024-05-02T00:00:00+00:00"))
    record = store.mark_exported(url)
    assert record is not None and record.version == 2
    found = store.lookup(alias)
    assert found is not None and found.version == 2, (
        "the alias known from version 1 still finds the article after version 2"
    )
    assert found.lastmod == "2024-05-02T00:00:00+00:00"
    store.close()


def test_mark_checked_moves_the_lastmod_of_an_exported_article(tmp_path: Path) -> None:
    store = SqliteSeenStore.open(tmp_path / "seen.sqlite3")
    url = "http://news.test/news/one"
    store.add_pending(pending(url, "text", 1, store.start_run(), "2024-05-01T00:00Z"))
    store.mark_exported(url)
    assert store.mark_checked(url, "2024-06-01T00:00:00+00:00")
    record = store.get(url)
    assert record is not None and record.lastmod == "2024-06-01T00:00:00+00:00"
    assert record.version == 1, "a check is not a new version"
    assert not store.mark_checked("http://news.test/news/unknown", "2024-06-01")
    store.close()


def test_a_schema_1_store_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite3"
    store = SqliteSeenStore.open(path)
    url = "http://news.test/news/one"
    store.add_pending(pending(url, "text", 1, store.start_run()))
    store.mark_exported(url, when="2024-05-01T09:00:00+00:00")
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)  # back to schema 1
    conn.executescript(
        "ALTER TABLE articles DROP COLUMN lastmod;"
        "ALTER TABLE pending DROP COLUMN lastmod;"
        "PRAGMA user_version = 1;"
    )
    conn.close()

    store = SqliteSeenStore.open(path)
    record = store.get(url)
    assert record is not None and record.lastmod is None, "kept, without a lastmod"
    assert record.exported_at == "2024-05-01T09:00:00+00:00"
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    conn.close()


def test_link_dates_of_pages_without_an_item_are_forgotten_beyond_a_bound(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(seenfilter, "MAX_PENDING_HINTS", 2)
    crawler = get_crawler(Spider, {"SEEN_ENABLED": True})
    store = SqliteSeenStore.open(tmp_path / "seen.sqlite3")
    seen = SeenRun(crawler, store)
    mw = SeenFilterMiddleware(crawler, seen)
    for i in range(3):
        url = f"http://news.test/news/{i}"
        request = Request(
            url, meta={"article": True, "date_hint": f"2024-05-0{i + 1}T10:00:00+02:00"}
        )
        mw.process_response(request, HtmlResponse(url, body=b"", request=request))
    assert "http://news.test/news/0" not in seen.hints, "the oldest is forgotten"
    assert seen.hints["http://news.test/news/2"] == "2024-05-03T08:00:00+00:00"
    assert crawler.stats is not None
    assert crawler.stats.get_value("seen/hint_forgotten") == 1
    store.close()


def test_an_undated_link_read_first_does_not_hide_a_dated_update(
    tmp_path: Path,
) -> None:
    # With `since`, an undated link waits for the dated entry points; a later
    # sitemap lastmod then decides whether the exported article was updated. The
    # seen check made as links are read must not settle it from the undated link.
    with SiteServer() as server:
        site = SitemapSite(server, 3)
        sites = site_file(tmp_path / "sites", server.url)
        first = newsites_run(tmp_path, server, sites, *RECRAWL)
        assert len(first.records) == 3
        update_after_export(site, tmp_path, 1)
        # An undated feed, answered at once; the sitemap answers a second later.
        items = "".join(
            f"<item><title>Story {i}</title><link>{site.url(i)}</link></item>"
            for i in range(3)
        )
        server.add(
            "/undated.xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
            content_type="application/rss+xml",
        )
        sitemap = server.pages["/sitemap.xml"]
        server.pages["/sitemap.xml"] = Page(
            sitemap.body, content_type=sitemap.content_type, delay=1.0
        )
        (sites / "harbour.toml").write_text(
            f'home = "{server.url}/"\ndomains = ["127.0.0.1"]\n'
            f'[discovery]\nfeeds = ["{server.url}/undated.xml"]\n'
            f'sitemaps = ["{server.url}/sitemap.xml"]\n'
            '[articles]\nallow = ["/news/"]\n',
            encoding="utf-8",
        )
        second = newsites_run(
            tmp_path, server, sites, *RECRAWL, "-a", "since=2000-01-01"
        )
    assert second.fetched == ["/news/s1"], second.fetched
    assert [r["version"] for r in second.records] == [2]
    assert second.stat("seen/recrawl_updated") == 1
    assert second.stat("seen/skipped") == 2
    assert second.stat("seen/new_url") == 0
