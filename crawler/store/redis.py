"""``RedisSeenStore``: the seen store (``crawler.store.SeenStore``) kept in Redis.

With several machines the store of exported articles must be shared: every worker
of every run reads and writes the same one (SEEN_BACKEND = "redis"). It keeps the
SQLite store's rules (crawler/store/sqlite.py): canonical URL, aliases and query
variants for lookups; exact text hash or SimHash within ``max_bits`` (found through
the four 16-bit bands) for near duplicates; two-step writes (pending, then exported once
the line is flushed) and recovery of what a killed crawl left pending; for
re-crawls (SEEN_RECRAWL_UPDATED), the link date (``lastmod``) each article's text
was fetched under, moved forward by ``mark_checked`` when a later fetch finds the
text unchanged.

Layout under SEEN_REDIS_PREFIX (P), one store per prefix, shared by all runs:

- ``P:articles`` hash canonical URL -> JSON record (id, site, version, run,
  text_hash, simhash, words, exported_at, lastmod); ``P:pending`` the same for
  articles about to be written (with aliases, without exported_at);
  ``P:aliases`` hash URL -> canonical URL;
- ``P:text:<site>:<sha256>`` and ``P:band:<site>:<n>:<value>`` sets of URLs;
- ``P:runs`` hash run id -> JSON (started, finished, status, outputs, host, pid),
  ``P:run_seq`` the last run id.

Recovery: a pending article names its run; its outputs are files on the machine
that ran it. ``resolve_pending`` settles the pending articles of finished runs and
of runs of this host whose process is gone, and, after SEEN_REDIS_STALE_HOURS, of
any run (whose outputs are then read here if they can be, else it is forgotten and
fetched again). Pending articles of live workers are never touched. Durability is
the Redis server's (use ``appendonly yes``); SEEN_FSYNC applies to the outputs only.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from crawler.cluster.config import (
    ClusterConfigError,
    connect,
    redacted,
    ride_out_outages,
)
from crawler.store import (
    Fingerprint,
    PendingArticle,
    RunRecord,
    SeenRecord,
    SeenStoreError,
    bands,
    hamming,
    utc_now,
    without_query,
)

if TYPE_CHECKING:
    from redis import Redis


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class RedisSeenStore:
    """``SeenStore`` in Redis, shared by every worker and every run."""

    def __init__(
        self,
        server: Redis,
        prefix: str,
        url: str = "",
        stale_after: timedelta = timedelta(hours=6),
    ) -> None:
        self.server = server
        self.prefix = prefix.rstrip(":")
        self.path = f"{redacted(url)}#{self.prefix}"
        self.stale_after = stale_after
        self.host = socket.gethostname()

    # --- opening -------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RedisSeenStore:
        """The store named by SEEN_REDIS_URL (else CLUSTER_REDIS_URL) and prefix."""
        url = (
            settings.get("SEEN_REDIS_URL") or settings.get("CLUSTER_REDIS_URL") or ""
        ).strip()
        if not url:
            raise SeenStoreError(
                "SEEN_BACKEND is 'redis' but SEEN_REDIS_URL and CLUSTER_REDIS_URL are "
                "empty: set the Redis URL of the shared seen store"
            )
        prefix = (settings.get("SEEN_REDIS_PREFIX") or "").strip()
        if not prefix:
            raise SeenStoreError("SEEN_REDIS_PREFIX is empty: name the store's keys")
        hours = settings.getfloat("SEEN_REDIS_STALE_HOURS")
        try:
            server = connect(url)
            server.ping()
        except ClusterConfigError as exc:
            raise SeenStoreError(str(exc)) from exc
        except Exception as exc:  # redis.exceptions.ConnectionError and friends
            raise SeenStoreError(
                f"cannot reach the seen store at {redacted(url)}: {exc}"
            ) from exc
        ride_out_outages(server, settings.getfloat("CLUSTER_REDIS_RETRY_SECONDS"))
        store = cls(server, prefix, url, timedelta(hours=hours))
        if settings.getbool("SEEN_RESET"):
            store.reset()
        return store

    def reset(self) -> str:
        """Move every key aside under ``<prefix>.reset-<UTC time>``; returns it."""
        aside = f"{self.prefix}.reset-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        for key in list(self.server.scan_iter(match=self.prefix + ":*", count=500)):
            name = _text(key)
            self.server.rename(name, aside + name[len(self.prefix) :])
        return aside

    def close(self) -> None:
        self.server.close()

    # --- keys ----------------------------------------------------------------------
    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _index_keys(self, site: str, text_hash: str, simhash: int) -> list[str]:
        return [self._key(f"text:{site}:{text_hash}")] + [
            self._key(f"band:{site}:{n}:{value}")
            for n, value in enumerate(bands(simhash))
        ]

    # --- records -------------------------------------------------------------------
    @staticmethod
    def _record(url: str, raw: Any, state: str) -> SeenRecord:
        data = json.loads(raw)
        return SeenRecord(
            url,
            data["id"],
            data["site"],
            int(data["version"]),
            state,
            data.get("exported_at") if state == "exported" else None,
            data["text_hash"],
            int(data["simhash"]),
            int(data["words"]),
            # Records written before the store kept link dates have none, like the
            # rows SQLite's schema-2 migration keeps (``lastmod`` NULL).
            data.get("lastmod"),
        )

    def get(self, url: str) -> SeenRecord | None:
        raw = self.server.hget(self._key("articles"), url)
        return self._record(url, raw, "exported") if raw is not None else None

    def lookup(self, url: str, match_query_variants: bool = True) -> SeenRecord | None:
        found = self.get(url)
        if found is not None:
            return found
        canonical = self.server.hget(self._key("aliases"), url)
        if canonical is not None:
            return self.get(_text(canonical))
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
        near = max_bits > 0 and fp.words >= min_words
        keys = self._index_keys(site, fp.text_hash, fp.simhash)
        members = self.server.sunion(keys if near else keys[:1])
        urls = sorted(u for u in (_text(m) for m in members) if u != exclude_url)
        if not urls:
            return None
        for table, state in (("articles", "exported"), ("pending", "pending")):
            for url, raw in zip(
                urls, self.server.hmget(self._key(table), urls), strict=True
            ):
                if raw is None:
                    continue
                record = self._record(url, raw, state)
                if record.site != site:
                    continue
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
        record = {
            "id": article.id,
            "site": article.site,
            "version": article.version,
            "run": article.run,
            "text_hash": fp.text_hash,
            "simhash": fp.simhash,
            "words": fp.words,
            "aliases": list(article.aliases),
            "lastmod": article.lastmod,
        }
        pipe = self.server.pipeline(transaction=True)
        pipe.hset(self._key("pending"), article.url, json.dumps(record))
        for key in self._index_keys(article.site, fp.text_hash, fp.simhash):
            pipe.sadd(key, article.url)
        pipe.execute()

    def _unindex(self, pipe: Any, url: str, data: dict[str, Any]) -> None:
        for key in self._index_keys(
            data["site"], data["text_hash"], int(data["simhash"])
        ):
            pipe.srem(key, url)

    def _index(self, pipe: Any, url: str, data: dict[str, Any]) -> None:
        for key in self._index_keys(
            data["site"], data["text_hash"], int(data["simhash"])
        ):
            pipe.sadd(key, url)

    def discard_pending(self, url: str) -> bool:
        pending, articles = self._key("pending"), self._key("articles")
        with self.server.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(pending, articles)
                    raw = pipe.hget(pending, url)
                    if raw is None:
                        pipe.unwatch()
                        return False
                    exported = pipe.hget(articles, url)
                    pipe.multi()
                    pipe.hdel(pending, url)
                    self._unindex(pipe, url, json.loads(raw))
                    if exported is not None:  # an earlier version stays findable
                        self._index(pipe, url, json.loads(exported))
                    pipe.execute()
                    return True
                except _watch_error():
                    continue

    def mark_exported(self, url: str, when: str | None = None) -> SeenRecord | None:
        pending, articles = self._key("pending"), self._key("articles")
        stamp = when or utc_now()
        with self.server.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(pending, articles)
                    raw = pipe.hget(pending, url)
                    if raw is None:
                        pipe.unwatch()
                        return None
                    data = json.loads(raw)
                    previous = pipe.hget(articles, url)
                    record = {
                        k: data[k]
                        for k in (
                            "id",
                            "site",
                            "version",
                            "run",
                            "text_hash",
                            "simhash",
                            "words",
                        )
                    }
                    # The new text's link date replaces the old one's, as in SQLite
                    # (absent from a pending record written before lastmod was kept).
                    record["lastmod"] = data.get("lastmod")
                    record["exported_at"] = stamp
                    pipe.multi()
                    if previous is not None:
                        self._unindex(pipe, url, json.loads(previous))
                    self._index(pipe, url, record)
                    pipe.hset(articles, url, json.dumps(record))
                    aliases = [a for a in data.get("aliases", []) if a != url]
                    if aliases:
                        pipe.hset(
                            self._key("aliases"), mapping=dict.fromkeys(aliases, url)
                        )
                    pipe.hdel(pending, url)
                    pipe.execute()
                    return self._record(url, json.dumps(record), "exported")
                except _watch_error():
                    continue

    def mark_checked(self, url: str, lastmod: str) -> bool:
        """The exported article ``url`` was fetched again under link date
        ``lastmod`` and its text had not changed: a link no later than ``lastmod``
        will not fetch it again. False if ``url`` is not exported."""
        articles = self._key("articles")
        with self.server.pipeline() as pipe:
            while True:
                try:
                    # Read-modify-write of a JSON record: a worker exporting a new
                    # version meanwhile must not be overwritten with the old one.
                    pipe.watch(articles)
                    raw = pipe.hget(articles, url)
                    if raw is None:
                        pipe.unwatch()
                        return False
                    record = {**json.loads(raw), "lastmod": lastmod}
                    pipe.multi()
                    pipe.hset(articles, url, json.dumps(record))
                    pipe.execute()
                    return True
                except _watch_error():
                    continue

    def resolve_pending(
        self, exported_ids: Callable[[RunRecord | None], set[str]]
    ) -> tuple[int, int]:
        """Settle pending articles of runs that are over: ``(marked, discarded)``."""
        rows = {
            _text(k): json.loads(v)
            for k, v in self.server.hgetall(self._key("pending")).items()
        }
        runs = self._run_data()
        cache: dict[int, set[str]] = {}
        marked = discarded = 0
        for url, data in rows.items():
            run = int(data.get("run") or 0)
            info = runs.get(run)
            if info is not None and not self._is_over(info):
                continue  # a live worker is writing it
            if run not in cache:
                cache[run] = exported_ids(self._run_record(run, info) if info else None)
            if data["id"] in cache[run]:
                if self.mark_exported(url) is not None:
                    marked += 1
            elif self.discard_pending(url):
                discarded += 1
        return marked, discarded

    def _is_over(self, info: dict[str, Any]) -> bool:
        """True when the run cannot write any more (finished, dead, or stale)."""
        if info.get("finished_at"):
            return True
        if info.get("host") == self.host:
            pid = int(info.get("pid") or 0)
            return pid != os.getpid() and not _pid_alive(pid)
        started = datetime.fromisoformat(info["started_at"])
        return datetime.now(UTC) - started > self.stale_after

    # --- runs ----------------------------------------------------------------------
    def _run_data(self) -> dict[int, dict[str, Any]]:
        return {
            int(_text(k)): json.loads(v)
            for k, v in self.server.hgetall(self._key("runs")).items()
        }

    @staticmethod
    def _run_record(run: int, info: dict[str, Any]) -> RunRecord:
        return RunRecord(
            run,
            info["started_at"],
            info.get("finished_at"),
            info["status"],
            tuple(info.get("outputs", [])),
        )

    def start_run(self, outputs: Iterable[str] = ()) -> int:
        run = int(self.server.incr(self._key("run_seq")))
        info = {
            "started_at": utc_now(),
            "finished_at": None,
            "status": "running",
            "outputs": list(outputs),
            "host": self.host,
            "pid": os.getpid(),
        }
        self.server.hset(self._key("runs"), str(run), json.dumps(info))
        return run

    def _update_run(self, run: int, **changes: Any) -> None:
        runs = self._key("runs")
        with self.server.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(runs)
                    raw = pipe.hget(runs, str(run))
                    if raw is None:
                        pipe.unwatch()
                        raise SeenStoreError(f"{self.path}: no run {run} in the store")
                    info = {**json.loads(raw), **changes}
                    pipe.multi()
                    pipe.hset(runs, str(run), json.dumps(info))
                    pipe.execute()
                    return
                except _watch_error():
                    continue

    def set_run_outputs(self, run: int, outputs: Iterable[str]) -> None:
        self._update_run(run, outputs=list(outputs))

    def finish_run(self, run: int, status: str) -> None:
        self._update_run(run, finished_at=utc_now(), status=status)

    def unfinished_runs(self) -> list[RunRecord]:
        return [
            self._run_record(run, info)
            for run, info in sorted(self._run_data().items())
            if not info.get("finished_at")
        ]

    def counts(self) -> dict[str, int]:
        return {
            table: int(self.server.hlen(self._key(table)))
            for table in ("articles", "aliases", "pending", "runs")
        }


def _watch_error() -> type[Exception]:
    from redis.exceptions import WatchError

    return WatchError
