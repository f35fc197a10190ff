"""The SQLite backend of the seen store (``SeenStore``, crawler/store/base.py):
stdlib sqlite3, WAL, a busy timeout, a schema version in ``PRAGMA user_version``;
and ``SeenLock``, the file lock one run holds on it (``newsites run``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from crawler.store.base import (
    SCHEMA_VERSION,
    Fingerprint,
    PendingArticle,
    RunRecord,
    SeenRecord,
    SeenStoreError,
    _signed,
    _unsigned,
    bands,
    hamming,
    utc_now,
    without_query,
)

logger = logging.getLogger(__name__)

# --- SQLite backend -------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE articles (
    url TEXT PRIMARY KEY,          -- canonical URL (the item's url)
    id TEXT NOT NULL,              -- the item's id
    site TEXT NOT NULL,
    version INTEGER NOT NULL,      -- 1, then +1 per re-exported update
    exported_at TEXT NOT NULL,     -- UTC ISO 8601, when the line was written
    run INTEGER,                   -- the run that wrote it
    text_hash TEXT NOT NULL,       -- SHA-256 of the text's words
    simhash INTEGER NOT NULL,      -- 64-bit SimHash of word 3-shingles (signed)
    words INTEGER NOT NULL,
    band0 INTEGER NOT NULL, band1 INTEGER NOT NULL,
    band2 INTEGER NOT NULL, band3 INTEGER NOT NULL,
    lastmod TEXT                   -- link date its text was last fetched under (v2)
);
CREATE INDEX articles_hash ON articles (site, text_hash);
CREATE INDEX articles_band0 ON articles (site, band0);
CREATE INDEX articles_band1 ON articles (site, band1);
CREATE INDEX articles_band2 ON articles (site, band2);
CREATE INDEX articles_band3 ON articles (site, band3);
CREATE TABLE aliases (
    url TEXT PRIMARY KEY,          -- another normalized URL the article was fetched at
    article TEXT NOT NULL REFERENCES articles (url) ON DELETE CASCADE
);
CREATE TABLE pending (
    url TEXT PRIMARY KEY,          -- canonical URL about to be written
    id TEXT NOT NULL,
    site TEXT NOT NULL,
    version INTEGER NOT NULL,
    run INTEGER NOT NULL,
    text_hash TEXT NOT NULL,
    simhash INTEGER NOT NULL,
    words INTEGER NOT NULL,
    band0 INTEGER NOT NULL, band1 INTEGER NOT NULL,
    band2 INTEGER NOT NULL, band3 INTEGER NOT NULL,
    aliases TEXT NOT NULL,         -- JSON list
    lastmod TEXT                   -- link date it was fetched under (v2)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,          -- running, finished, killed, ...
    outputs TEXT NOT NULL          -- JSON list of output file paths
);
"""

#: From version N to N+1: SQL run in one transaction (``_prepare``).
_MIGRATIONS: dict[int, str] = {
    # 2: the link date (lastmod) each article was fetched under, for re-crawls.
    1: "ALTER TABLE articles ADD COLUMN lastmod TEXT;\n"
    "ALTER TABLE pending ADD COLUMN lastmod TEXT;\n",
}

_ARTICLE_COLS = (
    "url, id, site, version, exported_at, text_hash, simhash, words, lastmod"
)


class SqliteSeenStore:
    """``SeenStore`` in one SQLite file (WAL mode, so readers never block the crawl)."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, durable: bool = True
    ) -> None:
        self.path = str(path)
        self._conn = conn
        self.durable = durable

    # --- opening -------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        reset: bool = False,
        durable: bool = True,
        timeout: float = 30.0,
    ) -> SqliteSeenStore:
        """Open (or create) the store at ``path``.

        ``reset`` moves an existing store aside (``<name>.reset-<UTC time>``) and
        starts an empty one. ``durable`` uses ``synchronous=FULL`` (a commit survives a
        power cut) instead of ``NORMAL`` (survives a killed process).
        """
        path = Path(path)
        if path.is_dir():
            raise SeenStoreError(f"{path}: is a folder, not a seen store (SEEN_DB)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SeenStoreError(f"{path}: cannot create its folder: {exc}") from exc
        if reset and path.exists():
            aside = _move_aside(path)
            logger.warning("Seen store reset: the old one is kept as %s", aside)
        if not path.exists():
            _create(path, timeout)
        if path.stat().st_size == 0:
            # A store is created whole (``_create``): an empty file is a damaged one,
            # and taking it for a new store would export every article again.
            raise SeenStoreError(
                f"{path}: seen store is empty (0 bytes) - truncated, or cut by a full "
                "disk. It is left as it is: restore it from a backup, or start over "
                "with -s SEEN_RESET=1 (`newsites run --reset`), which keeps it aside "
                "and exports every article again."
            )
        if not os.access(path, os.R_OK | os.W_OK):
            raise SeenStoreError(f"{path}: seen store is not readable and writable")
        try:
            conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise SeenStoreError(f"{path}: cannot open seen store: {exc}") from exc
        try:
            _prepare(conn, path, False, durable, timeout)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise SeenStoreError(
                f"{path}: seen store is unreadable or corrupt ({exc}). It is left as "
                "it is: restore it from a backup, or start over with -s SEEN_RESET=1 "
                "(`newsites run --reset`), which keeps it aside and exports every "
                "article again."
            ) from exc
        except SeenStoreError:
            conn.close()
            raise
        return cls(path, conn, durable)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self, sync: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction. ``sync=False``: its commit is not fsynced by
        itself (atomic, and it survives a killed process; the next synced commit
        takes it to disk) - for what recovery can redo after a power cut."""
        lazy = self.durable and not sync
        if lazy:
            self._conn.execute("PRAGMA synchronous = NORMAL")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        finally:
            if lazy:
                self._conn.execute("PRAGMA synchronous = FULL")

    # --- lookups -------------------------------------------------------------------
    def _record(self, row: tuple, state: str) -> SeenRecord:  # type: ignore[type-arg]
        url, aid, site, version, exported_at, text_hash, simhash, words, lastmod = row
        return SeenRecord(
            url,
            aid,
            site,
            version,
            state,
            exported_at,
            text_hash,
            _unsigned(simhash),
            words,
            lastmod,
        )

    def get(self, url: str) -> SeenRecord | None:
        row = self._conn.execute(
            f"SELECT {_ARTICLE_COLS} FROM articles WHERE url = ?", (url,)
        ).fetchone()
        return self._record(row, "exported") if row else None

    def lookup(self, url: str, match_query_variants: bool = True) -> SeenRecord | None:
        """Exported article at ``url``: its canonical URL, an alias, or, when the
        canonical URL has no query, the same URL with any query."""
        found = self.get(url)
        if found is not None:
            return found
        row = self._conn.execute(
            "SELECT article FROM aliases WHERE url = ?", (url,)
        ).fetchone()
        if row:
            return self.get(row[0])
        if match_query_variants and urlsplit(url).query:
            return self.get(without_query(url))
        return None

    def find_duplicate(
        self,
        site: str,
        fp: Fingerprint,
        exclude_url: str,
        max_bits: int,
        min_words: int,
    ) -> SeenRecord | None:
        b = bands(fp.simhash)
        near = max_bits > 0 and fp.words >= min_words
        # One indexed lookup per key, joined by UNION: an OR of the keys made SQLite
        # scan every article of the site (O(n) a page, 11 ms at 10,000 articles).
        keys: list[tuple[str, object]] = [("text_hash", fp.text_hash)]
        if near:
            keys += [(f"band{i}", band) for i, band in enumerate(b)]
        for table, state, stamp in (
            ("articles", "exported", "exported_at"),
            ("pending", "pending", "NULL"),
        ):
            cols = _ARTICLE_COLS.replace("exported_at", stamp)
            sql = " UNION ".join(
                f"SELECT {cols} FROM {table} WHERE site = ? AND {key} = ? AND url != ?"
                for key, _ in keys
            )
            params: list[object] = []
            for _, value in keys:
                params += [site, value, exclude_url]
            for row in self._conn.execute(sql, params):
                record = self._record(row, state)
                if record.text_hash == fp.text_hash:
                    return record
                if (
                    near
                    and record.words >= min_words
                    and hamming(record.simhash, fp.simhash) <= max_bits
                ):
                    return record
        return None

    # --- writing -------------------------------------------------------------------
    def add_pending(self, article: PendingArticle) -> None:
        fp = article.fingerprint
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending (url, id, site, version, run, "
                "text_hash, simhash, words, band0, band1, band2, band3, aliases, "
                "lastmod) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article.url,
                    article.id,
                    article.site,
                    article.version,
                    article.run,
                    fp.text_hash,
                    _signed(fp.simhash),
                    fp.words,
                    *bands(fp.simhash),
                    json.dumps(list(article.aliases)),
                    article.lastmod,
                ),
            )

    def discard_pending(self, url: str) -> bool:
        with self._tx() as conn:
            cursor = conn.execute("DELETE FROM pending WHERE url = ?", (url,))
            return cursor.rowcount > 0

    def mark_exported(self, url: str, when: str | None = None) -> SeenRecord | None:
        """Move the pending article ``url`` to the exported ones (one transaction).

        Its commit is not fsynced on its own (one fsync less per article): the
        pending row was committed durably before the line was written, and the line
        is on disk before this is called, so a mark a power cut takes away is redone
        from the output by ``resolve_pending``; the next durable commit (the next
        pending row, the end of the run) takes it to disk."""
        with self._tx(sync=False) as conn:
            row = conn.execute(
                "SELECT id, site, version, run, text_hash, simhash, words, band0, "
                "band1, band2, band3, aliases, lastmod FROM pending WHERE url = ?",
                (url,),
            ).fetchone()
            if row is None:
                return None
            (
                aid,
                site,
                version,
                run,
                text_hash,
                simhash,
                words,
                *band,
                aliases,
                lastmod,
            ) = row
            stamp = when or utc_now()
            # An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first,
            # and ON DELETE CASCADE would take a re-exported version's aliases along.
            conn.execute(
                "INSERT INTO articles (url, id, site, version, exported_at, run, "
                "text_hash, simhash, words, band0, band1, band2, band3, lastmod) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET id = excluded.id, "
                "site = excluded.site, version = excluded.version, "
                "exported_at = excluded.exported_at, run = excluded.run, "
                "text_hash = excluded.text_hash, simhash = excluded.simhash, "
                "words = excluded.words, band0 = excluded.band0, "
                "band1 = excluded.band1, band2 = excluded.band2, "
                "band3 = excluded.band3, lastmod = excluded.lastmod",
                (
                    url,
                    aid,
                    site,
                    version,
                    stamp,
                    run,
                    text_hash,
                    simhash,
                    words,
                    *band,
                    lastmod,
                ),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO aliases (url, article) VALUES (?, ?)",
                [(alias, url) for alias in json.loads(aliases) if alias != url],
            )
            conn.execute("DELETE FROM pending WHERE url = ?", (url,))
        return SeenRecord(
            url,
            aid,
            site,
            version,
            "exported",
            stamp,
            text_hash,
            _unsigned(simhash),
            words,
            lastmod,
        )

    def mark_checked(self, url: str, lastmod: str) -> bool:
        """The exported article ``url`` was fetched again under link date
        ``lastmod`` and its text had not changed: a link no later than ``lastmod``
        will not fetch it again. False if ``url`` is not exported."""
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE articles SET lastmod = ? WHERE url = ?", (lastmod, url)
            )
            return cursor.rowcount > 0

    def resolve_pending(
        self, exported_ids: Callable[[RunRecord | None], set[str]]
    ) -> tuple[int, int]:
        """Settle articles left pending by a killed run: ``(marked, discarded)``.

        ``exported_ids(run)`` gives the ids found written in that run's outputs; a
        pending article found there is marked exported, any other is forgotten (the
        next crawl fetches it again).
        """
        rows = self._conn.execute("SELECT url, id, run FROM pending").fetchall()
        runs = {r.id: r for r in self._runs("SELECT * FROM runs")}
        cache: dict[int, set[str]] = {}
        marked = discarded = 0
        for url, aid, run in rows:
            if run not in cache:
                cache[run] = exported_ids(runs.get(run))
            if aid in cache[run]:
                self.mark_exported(url)
                marked += 1
            else:
                self.discard_pending(url)
                discarded += 1
        return marked, discarded

    # --- runs ----------------------------------------------------------------------
    def _runs(self, sql: str, params: tuple = ()) -> list[RunRecord]:  # type: ignore[type-arg]
        rows = self._conn.execute(sql, params).fetchall()
        return [
            RunRecord(rid, started, finished, status, tuple(json.loads(outputs)))
            for rid, started, finished, status, outputs in rows
        ]

    def start_run(self, outputs: Iterable[str] = ()) -> int:
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (started_at, status, outputs) "
                "VALUES (?, 'running', ?)",
                (utc_now(), json.dumps(list(outputs))),
            )
            return int(cursor.lastrowid or 0)

    def set_run_outputs(self, run: int, outputs: Iterable[str]) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE runs SET outputs = ? WHERE id = ?",
                (json.dumps(list(outputs)), run),
            )

    def finish_run(self, run: int, status: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
                (utc_now(), status, run),
            )

    def unfinished_runs(self) -> list[RunRecord]:
        return self._runs("SELECT * FROM runs WHERE finished_at IS NULL ORDER BY id")

    def counts(self) -> dict[str, int]:
        """Rows per table (for ``newsites run`` summaries and tests)."""
        return {
            table: self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("articles", "aliases", "pending", "runs")
        }


def _prepare(
    conn: sqlite3.Connection, path: Path, is_new: bool, durable: bool, timeout: float
) -> None:
    """Check an existing store (integrity, schema version) or create a new one."""
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    if not is_new:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {result}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        raise SeenStoreError(f"{path}: cannot use WAL journal mode (got {mode!r})")
    conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys = ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    if version == 0:
        if tables:
            raise SeenStoreError(
                f"{path}: is a SQLite file but not a newsites seen store (tables: "
                f"{', '.join(sorted(tables))}); point SEEN_DB elsewhere"
            )
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{_SCHEMA}"
            f"PRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
        )
        return
    if version > SCHEMA_VERSION:
        raise SeenStoreError(
            f"{path}: seen store schema version {version} is newer than this newsites "
            f"understands ({SCHEMA_VERSION}); upgrade newsites"
        )
    while version < SCHEMA_VERSION:
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{_MIGRATIONS[version]}"
            f"PRAGMA user_version = {version + 1};\nCOMMIT;"
        )
        version += 1


def _create(path: Path, timeout: float) -> None:
    """Create an empty store at ``path``: built under a temporary name and renamed
    into place once its schema is committed, so a file at ``path`` is always a whole
    store (never a half-made one a later run would take for new)."""
    tmp = path.with_name(f".{path.name}.new-{os.getpid()}")
    try:
        tmp.unlink(missing_ok=True)
        conn = sqlite3.connect(tmp, timeout=timeout, isolation_level=None)
        try:
            _prepare(conn, tmp, True, True, timeout)
        finally:
            conn.close()  # the last connection: the WAL is checkpointed and removed
        os.replace(tmp, path)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise SeenStoreError(f"{path}: cannot create the seen store: {exc}") from exc


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.reset-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(path) + suffix)
        if part.exists():
            os.replace(part, Path(str(aside) + suffix))
    return aside


def resolve_path(value: str) -> Path:
    """SEEN_DB as a path: a relative one is taken beside scrapy.cfg (else the cwd)."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    from scrapy.utils.conf import closest_scrapy_cfg

    cfg = closest_scrapy_cfg()
    return (Path(cfg).parent if cfg else Path.cwd()) / path


class SeenLock:
    """An exclusive ``flock`` on ``<store>.lock``: one crawl writes a store at a time.

    The kernel drops the lock when the process ends, however it ends (SIGKILL
    included), so a stale lock file never blocks the next run.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @staticmethod
    def path_for(store: Path) -> Path:
        return store.with_name(store.name + ".lock")

    @classmethod
    def acquire(cls, store: Path) -> SeenLock:
        """Take the lock now or raise ``SeenLockHeld`` (never waits)."""
        import fcntl

        path = cls.path_for(store)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise SeenLockHeld(
                f"another run (pid {holder}) is using the seen store {store} "
                f"(lock {path}); not starting"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        return cls(path, fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = -1


class SeenLockHeld(SeenStoreError):
    """Another process holds the store's lock."""
