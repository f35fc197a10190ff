"""Learn each site's template from the crawl: a paragraph found in many articles of the
same site is boilerplate (teaser lists, "Don't miss", signatures, promos, the
"About us" paragraph of press releases), whatever its wording.

``TemplateStore`` keeps, per site, how many distinct articles each paragraph was seen
in (a 64-bit hash of its lower-cased words, not the text), in its own SQLite file
(``TEMPLATE_DB``), so a cron run starts from what earlier runs learned.
``TemplatePipeline`` counts every article's paragraphs, then drops from its text the
paragraphs seen in at least ``TEMPLATE_MIN_ARTICLES`` articles of its site.

How a new site behaves: its first articles are written with whatever boilerplate
generic clean-up left in them, while the store counts. A paragraph is dropped from
the first article in which its count reaches the threshold, that run or a later
one; articles already written are not revised. With the default threshold of 5, the
fifth article of a new site that carries a given promo is the first one without it.
``newsites extract`` reads the store (never writes it) when ``TEMPLATE_DB`` is set.

Paragraphs seen in a single article are forgotten after ``TEMPLATE_FORGET_DAYS``,
so the store holds the recurring lines, not every paragraph ever crawled.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from crawler.extraction.cleanup import count_words

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_WORD = re.compile(r"\w+")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS template_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS template_lines (
    site TEXT NOT NULL,
    hash INTEGER NOT NULL,
    articles INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    sample TEXT,
    PRIMARY KEY (site, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS template_articles (
    site TEXT NOT NULL,
    article TEXT NOT NULL,
    seen INTEGER NOT NULL,
    PRIMARY KEY (site, article)
) WITHOUT ROWID;
"""


class TemplateStoreError(Exception):
    """The template store cannot be used (not a database, a newer schema, locked)."""


def line_hash(paragraph: str) -> int | None:
    """A signed 64-bit hash of the paragraph's lower-cased words (None: no words)."""
    words = _WORD.findall(paragraph.lower())
    if not words:
        return None
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class TemplateStore:
    """Per-site counts of the articles each paragraph appeared in (SQLite)."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise TemplateStoreError(f"{self.path}: no template store there")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"file:{self.path}?mode=ro" if read_only else f"file:{self.path}"
        try:
            self.db = sqlite3.connect(uri, uri=True, timeout=30)
            self.db.execute("PRAGMA busy_timeout = 30000")
            if not read_only:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.executescript(_SCHEMA)
                self.db.execute(
                    "INSERT OR IGNORE INTO template_meta VALUES ('schema', ?)",
                    (str(SCHEMA_VERSION),),
                )
                self.db.commit()
            row = self.db.execute(
                "SELECT value FROM template_meta WHERE key = 'schema'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            # Never recreated empty: what earlier runs learned is kept for a person
            # to look at.
            raise TemplateStoreError(f"{self.path}: {exc}") from exc
        if row is None or int(row[0]) > SCHEMA_VERSION:
            raise TemplateStoreError(
                f"{self.path}: template store schema {row and row[0]} is not one this "
                f"version reads ({SCHEMA_VERSION})"
            )

    def close(self) -> None:
        self.db.close()

    def record(
        self, site: str, article: str, paragraphs: Iterable[str], now: int | None = None
    ) -> bool:
        """Count ``article``'s paragraphs once for ``site``; False if counted before."""
        now = int(now if now is not None else time.time())
        with self.db:
            added = self.db.execute(
                "INSERT OR IGNORE INTO template_articles VALUES (?, ?, ?)",
                (site, article, now),
            ).rowcount
            if not added:
                return False
            hashes: dict[int, str] = {}
            for paragraph in paragraphs:
                h = line_hash(paragraph)
                if h is not None:
                    hashes.setdefault(h, paragraph[:300])
            self.db.executemany(
                "INSERT INTO template_lines VALUES (?, ?, 1, ?, ?, NULL) "
                "ON CONFLICT (site, hash) DO UPDATE SET articles = articles + 1, "
                "last_seen = excluded.last_seen, sample = ?",
                [(site, h, now, now, text) for h, text in hashes.items()],
            )
        return True

    def counts(self, site: str, paragraphs: Iterable[str]) -> dict[int, int]:
        """Articles each paragraph (by hash) was seen in for ``site``."""
        return self._counts(site, map(line_hash, paragraphs))

    def _counts(self, site: str, hashes: Iterable[int | None]) -> dict[int, int]:
        """Articles each of ``hashes`` (None: no words, skipped) was seen in."""
        ordered = sorted({h for h in hashes if h is not None})
        if not ordered:
            return {}
        found: dict[int, int] = {}
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT hash, articles FROM template_lines "  # noqa: S608 - marks only
                f"WHERE site = ? AND hash IN ({marks})",
                (site, *chunk),
            )
            found.update(dict(rows.fetchall()))
        return found

    def boilerplate(
        self, site: str, paragraphs: list[str], min_articles: int
    ) -> list[bool]:
        """For each paragraph: True when seen in at least ``min_articles`` articles."""
        hashes = [line_hash(p) for p in paragraphs]  # hashed once, looked up once
        counts = self._counts(site, hashes)
        return [h is not None and counts.get(h, 0) >= min_articles for h in hashes]

    def forget(self, older_than_days: float, now: int | None = None) -> int:
        """Delete one-article paragraphs last seen before the cut-off; how many."""
        cut = int((now if now is not None else time.time()) - older_than_days * 86400)
        with self.db:
            gone = self.db.execute(
                "DELETE FROM template_lines WHERE articles = 1 AND last_seen < ?",
                (cut,),
            ).rowcount
            self.db.execute("DELETE FROM template_articles WHERE seen < ?", (cut,))
        return int(gone)

    def site_lines(self, site: str, min_articles: int) -> list[tuple[int, str]]:
        """(articles, sample) of the site's boilerplate paragraphs, most seen first."""
        rows = self.db.execute(
            "SELECT articles, COALESCE(sample, '') FROM template_lines "
            "WHERE site = ? AND articles >= ? ORDER BY articles DESC",
            (site, min_articles),
        )
        return [(int(a), str(s)) for a, s in rows.fetchall()]


def min_articles(settings: Any) -> int:
    """``TEMPLATE_MIN_ARTICLES``, at least 2: a paragraph of one article is not a
    template. The crawl and ``newsites extract`` both read it here."""
    return max(2, settings.getint("TEMPLATE_MIN_ARTICLES"))


class TemplatePipeline:
    """Count each article's paragraphs per site; drop the site's boilerplate ones.

    Off unless ``TEMPLATE_DB`` names the store. Stats: ``template/articles_counted``,
    ``template/articles_already_counted``, ``template/paragraphs_dropped``,
    ``template/articles_cleaned``, ``template/only_boilerplate`` (item dropped),
    ``template/store_unusable``.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        path = settings.get("TEMPLATE_DB") or ""
        if not path:
            raise NotConfigured  # off by default: no "Disabled ..." warning
        self.crawler = crawler
        self.stats = crawler.stats
        self.min_articles = min_articles(settings)
        self.forget_days = settings.getfloat("TEMPLATE_FORGET_DAYS")
        try:
            self.store: TemplateStore | None = TemplateStore(path)
        except TemplateStoreError as exc:
            logger.error("Site templates off for this run: %s", exc)
            self.stats.inc_value("template/store_unusable")
            self.store = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TemplatePipeline:
        return cls(crawler)

    def close_spider(self) -> None:
        if self.store is None:
            return
        try:
            if self.forget_days > 0:
                forgotten = self.store.forget(self.forget_days)
                self.stats.inc_value("template/lines_forgotten", forgotten)
        finally:
            self.store.close()

    def process_item(self, item: Any) -> Any:
        if self.store is None:
            return item
        adapter = ItemAdapter(item)
        site = adapter.get("site") or ""
        article = adapter.get("id") or adapter.get("url") or ""
        text = adapter.get("text") or ""
        if not site or not article or not text:
            return item
        paragraphs = text.split("\n\n")
        flags = self._boilerplate(self.store, adapter, site, article, paragraphs)
        if flags is None or not any(flags):
            return item
        self._strip(adapter, paragraphs, flags)
        return item

    def _boilerplate(
        self,
        store: TemplateStore,
        adapter: ItemAdapter,
        site: str,
        article: str,
        paragraphs: list[str],
    ) -> list[bool] | None:
        """Count the article's paragraphs for its site, then flag those the site's
        template holds; None when the store failed (counted, the item kept)."""
        try:
            if store.record(site, article, paragraphs):
                self.stats.inc_value("template/articles_counted")
            else:
                self.stats.inc_value("template/articles_already_counted")
            return store.boilerplate(site, paragraphs, self.min_articles)
        except sqlite3.Error:
            logger.error(
                "Template store failed on %s", adapter.get("url"), exc_info=True
            )
            self.stats.inc_value("template/store_errors")
            return None

    def _strip(
        self, adapter: ItemAdapter, paragraphs: list[str], flags: list[bool]
    ) -> None:
        """The item's text without the flagged paragraphs (``DropItem`` when none is
        left), its ``word_count`` recounted."""
        kept = [p for p, drop in zip(paragraphs, flags, strict=True) if not drop]
        self.stats.inc_value("template/paragraphs_dropped", sum(flags))
        if not kept:
            self.stats.inc_value("template/only_boilerplate")
            raise DropItem(f"only site boilerplate: {adapter.get('url')}")
        self.stats.inc_value("template/articles_cleaned")
        adapter["text"] = "\n\n".join(kept)
        if (
            "word_count" in adapter.field_names()
            or adapter.get("word_count") is not None
        ):
            adapter["word_count"] = count_words(adapter["text"])
