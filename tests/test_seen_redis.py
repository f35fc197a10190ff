"""The seen store in Redis (crawler/store/redis.py) against a real redis-server.

The same contract as the SQLite store (tests/test_seen.py): keys, pending ->
exported, near duplicates, recovery; plus what only a shared store needs: the
pending articles of a live worker are never settled by another, a dead one's are.
Re-crawls (SEEN_RECRAWL_UPDATED): the link date each text was fetched under
(``lastmod``) through pending -> exported -> ``mark_checked``, as in the SQLite
store (tests/test_recrawl.py), and end to end with ``scrapy crawl`` runs.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from crawler.store import (
    PendingArticle,
    SeenStore,
    SeenStoreError,
    exported_ids,
    fingerprint,
)
from crawler.store.redis import RedisSeenStore
from tests.support.crawl import CrawlResult, run_crawl
from tests.support.redis_server import RedisServer
from tests.support.server import SiteServer
from tests.test_recrawl import NEW_PARAGRAPH, SitemapSite, site_file

WORDS = (
    "harbour council ferry budget dredging vote mayor school river bridge market "
    "rain tide pier crane cargo union strike fishing licence quota"
).split()


def story(seed: int, words: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 99)) for _ in range(words))


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def store(redis: RedisServer) -> RedisSeenStore:
    return RedisSeenStore(redis.client(), "test:seen", redis.url)


def export(
    store: RedisSeenStore,
    url: str,
    text: str,
    site: str = "harbour",
    aliases: tuple[str, ...] = (),
    run: int = 1,
) -> None:
    store.add_pending(
        PendingArticle(
            url, f"{abs(hash(url)):016x}"[:16], site, 1, fingerprint(text), run, aliases
        )
    )
    assert store.mark_exported(url) is not None


def test_it_is_a_seen_store(store: RedisSeenStore) -> None:
    typed: SeenStore = store  # mypy checks the protocol here
    assert typed.path.endswith("#test:seen")


def test_canonical_url_alias_and_query_variant_are_found(store: RedisSeenStore) -> None:
    export(
        store,
        "http://news.test/a/story",
        story(1),
        aliases=("http://news.test/a/story?from=rss",),
    )
    export(store, "http://news.test/item.php?id=7", story(2))
    found = store.lookup("http://news.test/a/story")
    assert found is not None and found.state == "exported" and found.version == 1
    assert store.lookup("http://news.test/a/story?from=rss") == found, "alias not found"
    assert store.lookup("http://news.test/a/story?page=1&x=2") == found
    assert (
        store.lookup("http://news.test/a/story?page=1", match_query_variants=False)
        is None
    )
    assert store.lookup("http://news.test/item.php?id=7") is not None
    assert store.lookup("http://news.test/item.php?id=8") is None


def test_pending_article_is_not_exported_until_marked(store: RedisSeenStore) -> None:
    store.add_pending(
        PendingArticle(
            "http://news.test/a/p",
            "00000000000000aa",
            "harbour",
            1,
            fingerprint(story(3)),
            1,
        )
    )
    assert store.lookup("http://news.test/a/p") is None, "pending counted as exported"
    record = store.mark_exported("http://news.test/a/p")
    assert record is not None and record.exported_at
    assert store.counts() == {"articles": 1, "aliases": 0, "pending": 0, "runs": 0}
    assert store.mark_exported("http://news.test/a/p") is None, "marked twice"


def test_same_text_on_new_url_same_site_is_a_duplicate(store: RedisSeenStore) -> None:
    text = story(7)
    export(store, "http://news.test/a/first", text)
    republished = text + " This story was first published on Monday."
    dup = store.find_duplicate(
        "harbour", fingerprint(republished), "http://news.test/b/again", 3, 50
    )
    assert dup is not None and dup.url == "http://news.test/a/first"
    assert (
        store.find_duplicate("other", fingerprint(text), "http://x.test/a", 3, 50)
        is None
    ), "another site's copy is a duplicate"
    assert (
        store.find_duplicate(
            "harbour", fingerprint(text), "http://news.test/a/first", 3, 50
        )
        is None
    )
    assert (
        store.find_duplicate(
            "harbour", fingerprint(story(8)), "http://news.test/c", 3, 50
        )
        is None
    )
    assert (
        store.find_duplicate(
            "harbour", fingerprint(republished), "http://news.test/b/again", 0, 50
        )
        is None
    )
    assert (
        store.find_duplicate(
            "harbour", fingerprint(text.upper()), "http://news.test/b/again", 0, 50
        )
        is not None
    )


def test_short_texts_are_compared_exactly(store: RedisSeenStore) -> None:
    short = story(9, words=30)
    export(store, "http://news.test/a/brief", short)
    edited = short.rsplit(" ", 1)[0] + " closing"
    assert (
        store.find_duplicate(
            "harbour", fingerprint(edited), "http://news.test/b", 64, 50
        )
        is None
    ), "short text matched by SimHash"


def test_a_pending_article_blocks_a_duplicate(store: RedisSeenStore) -> None:
    text = story(10)
    store.add_pending(
        PendingArticle(
            "http://news.test/a/x",
            "00000000000000bb",
            "harbour",
            1,
            fingerprint(text),
            1,
        )
    )
    dup = store.find_duplicate(
        "harbour", fingerprint(text), "http://news.test/a/y", 3, 50
    )
    assert dup is not None and dup.state == "pending"
    assert store.discard_pending("http://news.test/a/x")
    assert (
        store.find_duplicate(
            "harbour", fingerprint(text), "http://news.test/a/y", 3, 50
        )
        is None
    ), "a discarded article still indexed"


def test_a_new_version_replaces_the_old_text(store: RedisSeenStore) -> None:
    url = "http://news.test/a/updated"
    export(store, url, story(11))
    store.add_pending(
        PendingArticle(url, "00000000000000cc", "harbour", 2, fingerprint(story(12)), 2)
    )
    record = store.mark_exported(url)
    assert record is not None and record.version == 2
    assert (
        store.find_duplicate(
            "harbour", fingerprint(story(11)), "http://n.test/z", 3, 50
        )
        is None
    ), "the old text still points at the URL"
    assert (
        store.find_duplicate(
            "harbour", fingerprint(story(12)), "http://n.test/z", 3, 50
        )
        is not None
    )


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def _pending(store: RedisSeenStore, run: int, *pairs: tuple[str, str]) -> None:
    for aid, url in pairs:
        store.add_pending(PendingArticle(url, aid, "harbour", 1, fingerprint(url), run))


def _resolve(store: RedisSeenStore) -> tuple[int, int]:
    return store.resolve_pending(lambda r: exported_ids(r.outputs) if r else set())


def test_a_dead_workers_pending_articles_are_settled(
    store: RedisSeenStore, tmp_path: Path
) -> None:
    out = tmp_path / "worker-0.jsonl"
    run = store.start_run([str(out)])
    _pending(
        store,
        run,
        ("1111111111111111", "http://news.test/a/written"),
        ("2222222222222222", "http://news.test/a/lost"),
    )
    out.write_text(json.dumps({"id": "1111111111111111"}) + "\n")
    # The run is ours (this process is alive): nothing is touched.
    assert _resolve(store) == (0, 0)
    info = json.loads(store.server.hget("test:seen:runs", str(run)) or "{}")
    store.server.hset(
        "test:seen:runs", str(run), json.dumps({**info, "pid": _dead_pid()})
    )
    assert _resolve(store) == (1, 1)
    assert store.lookup("http://news.test/a/written") is not None
    assert store.lookup("http://news.test/a/lost") is None
    assert [r.id for r in store.unfinished_runs()] == [run]
    store.finish_run(run, "killed")
    assert store.unfinished_runs() == []


def test_another_machines_run_is_left_alone_until_stale(store: RedisSeenStore) -> None:
    run = store.start_run(["/elsewhere/worker-3.jsonl"])
    info = json.loads(store.server.hget("test:seen:runs", str(run)) or "{}")
    store.server.hset(
        "test:seen:runs",
        str(run),
        json.dumps({**info, "host": "other-machine", "pid": 1}),
    )
    _pending(store, run, ("3333333333333333", "http://news.test/a/far"))
    assert _resolve(store) == (0, 0), "a live run on another machine was settled"
    store.stale_after = timedelta(0)
    assert _resolve(store) == (0, 1)


def test_reset_moves_the_store_aside(store: RedisSeenStore) -> None:
    export(store, "http://news.test/a/old", story(13))
    aside = store.reset()
    assert store.counts()["articles"] == 0
    assert store.server.hlen(f"{aside}:articles") == 1


def test_settings_select_the_store_and_errors_are_named(redis: RedisServer) -> None:
    store = RedisSeenStore.from_settings(
        Settings(
            {
                "CLUSTER_REDIS_URL": redis.url,
                "SEEN_REDIS_PREFIX": "p",
                "SEEN_REDIS_STALE_HOURS": 1,
            }
        )
    )
    assert store.path == f"{redis.url}#p"
    with pytest.raises(SeenStoreError, match="SEEN_REDIS_URL and CLUSTER_REDIS_URL"):
        RedisSeenStore.from_settings(Settings({"SEEN_REDIS_PREFIX": "p"}))
    port = redis.port
    redis.stop()
    with pytest.raises(SeenStoreError, match="cannot reach the seen store"):
        RedisSeenStore.from_settings(
            Settings(
                {
                    "SEEN_REDIS_URL": f"redis://127.0.0.1:{port}/0",
                    "SEEN_REDIS_PREFIX": "p",
                    "SEEN_REDIS_STALE_HOURS": 1,
                }
            )
        )


# --- re-crawls: lastmod and mark_checked ----------------------------------------------

MAY_1 = "2024-05-01T00:00:00+00:00"
MAY_2 = "2024-05-02T00:00:00+00:00"
JUNE_1 = "2024-06-01T00:00:00+00:00"


def pending(
    url: str,
    text: str,
    version: int = 1,
    lastmod: str | None = None,
    aliases: tuple[str, ...] = (),
) -> PendingArticle:
    return PendingArticle(
        url,
        f"{abs(hash(url)):016x}"[:16],
        "harbour",
        version,
        fingerprint(text),
        1,
        aliases,
        lastmod,
    )


def test_the_link_date_goes_from_pending_to_exported(store: RedisSeenStore) -> None:
    url = "http://news.test/a/dated"
    store.add_pending(pending(url, story(20), lastmod=MAY_1))
    dup = store.find_duplicate("harbour", fingerprint(story(20)), "http://x/", 3, 50)
    assert dup is not None and dup.state == "pending"
    assert dup.lastmod == MAY_1, "a pending record reads back without its lastmod"
    record = store.mark_exported(url)
    assert record is not None and record.lastmod == MAY_1, (
        "mark_exported returned a record without the pending article's lastmod"
    )
    assert store.get(url) == record, "the stored record differs from the returned one"
    assert store.lookup(url) == record
    export(store, "http://news.test/a/undated", story(21))
    found = store.get("http://news.test/a/undated")
    assert found is not None and found.lastmod is None, "no link date: None"


def test_a_new_version_has_its_own_lastmod_and_keeps_the_aliases(
    store: RedisSeenStore,
) -> None:
    url, alias = "http://news.test/a/one", "http://news.test/n/1"
    store.add_pending(pending(url, story(22), lastmod=MAY_1, aliases=(alias,)))
    store.mark_exported(url)
    store.add_pending(pending(url, story(23), version=2, lastmod=MAY_2))
    record = store.mark_exported(url)
    assert record is not None and record.version == 2 and record.lastmod == MAY_2
    found = store.lookup(alias)
    assert found is not None and found.version == 2, (
        "the alias known from version 1 no longer finds the article after version 2"
    )
    assert found.lastmod == MAY_2
    # A version fetched without a link date has none: the old date was the old
    # text's (SQLite's upsert sets lastmod = NULL likewise).
    store.add_pending(pending(url, story(24), version=3))
    third = store.mark_exported(url)
    assert third is not None and third.lastmod is None, "version 2's lastmod kept"


def test_mark_checked_moves_the_lastmod_of_an_exported_article(
    store: RedisSeenStore,
) -> None:
    url = "http://news.test/a/checked"
    store.add_pending(pending(url, story(25), lastmod=MAY_1))
    before = store.mark_exported(url, when="2024-05-01T09:00:00+00:00")
    assert before is not None
    assert store.mark_checked(url, JUNE_1) is True
    after = store.get(url)
    assert after is not None and after.lastmod == JUNE_1, "lastmod not moved"
    assert after == replace(before, lastmod=JUNE_1), (
        "a check changed more than the lastmod (version, export time, fingerprint)"
    )
    dup = store.find_duplicate("harbour", fingerprint(story(25)), "http://x/", 3, 50)
    assert dup is not None and dup.url == url, "a checked article is no longer indexed"
    assert store.counts() == {"articles": 1, "aliases": 0, "pending": 0, "runs": 0}
    # SQLite's UPDATE sets the value given, earlier or not: the caller decides.
    assert store.mark_checked(url, MAY_2) is True
    assert (store.get(url) or before).lastmod == MAY_2


def test_mark_checked_of_an_article_not_exported_is_false(
    store: RedisSeenStore,
) -> None:
    assert store.mark_checked("http://news.test/a/unknown", JUNE_1) is False
    url = "http://news.test/a/only-pending"
    store.add_pending(pending(url, story(26), lastmod=MAY_1))
    assert store.mark_checked(url, JUNE_1) is False, "a pending article was checked"
    assert store.get(url) is None, "mark_checked created an exported article"
    record = store.mark_exported(url)
    assert record is not None and record.lastmod == MAY_1, (
        "mark_checked changed the pending article's lastmod"
    )


def test_records_written_before_lastmod_was_kept_read_as_none(
    store: RedisSeenStore,
) -> None:
    """Keys written by an older newsites (no ``lastmod``): read, exported, checked."""
    old = {
        "id": "00000000000000dd",
        "site": "harbour",
        "version": 1,
        "run": 1,
        "text_hash": fingerprint(story(27)).text_hash,
        "simhash": fingerprint(story(27)).simhash,
        "words": 300,
    }
    url, waiting = "http://news.test/a/old", "http://news.test/a/old-pending"
    store.server.hset(
        "test:seen:articles",
        url,
        json.dumps({**old, "exported_at": "2024-05-01T09:00:00+00:00"}),
    )
    store.server.hset(
        "test:seen:pending", waiting, json.dumps({**old, "id": "ee", "aliases": []})
    )
    found = store.get(url)
    assert found is not None and found.lastmod is None
    record = store.mark_exported(waiting)
    assert record is not None and record.lastmod is None, (
        "an old pending record (no lastmod) cannot be exported"
    )
    assert store.mark_checked(url, JUNE_1)
    assert (store.get(url) or found).lastmod == JUNE_1


def test_mark_checked_does_not_undo_a_version_exported_meanwhile(
    store: RedisSeenStore, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker exports version 2 between mark_checked's read and write: the
    check is retried on version 2, never writes version 1 back over it."""
    url = "http://news.test/a/raced"
    store.add_pending(pending(url, story(28), lastmod=MAY_1))
    store.mark_exported(url)
    other = RedisSeenStore(redis.client(), "test:seen", redis.url)
    other.add_pending(pending(url, story(29), version=2, lastmod=MAY_2))

    real_pipeline = store.server.pipeline
    raced: list[str] = []

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = real_pipeline(*args, **kwargs)
        real_hget = pipe.hget

        def hget(*hargs: Any) -> Any:
            value = real_hget(*hargs)
            if not raced:  # the first read only: the other worker writes now
                raced.append(url)
                assert other.mark_exported(url) is not None
            return value

        monkeypatch.setattr(pipe, "hget", hget)
        return pipe

    monkeypatch.setattr(store.server, "pipeline", pipeline)
    assert store.mark_checked(url, JUNE_1)
    assert raced, "the race was not staged"
    record = other.get(url)
    assert record is not None and record.version == 2, (
        "mark_checked wrote the version it read over the one exported meanwhile"
    )
    assert record.text_hash == fingerprint(story(29)).text_hash
    assert record.lastmod == JUNE_1


# --- re-crawls end to end -------------------------------------------------------------


def crawl(
    tmp_path: Path, server: SiteServer, redis: RedisServer, name: str, sites: Path
) -> tuple[CrawlResult, list[str]]:
    """One ``scrapy crawl newsites`` with the seen store in ``redis``, re-crawling
    updated articles: the result and the article pages it fetched."""
    server.clear_log()
    result = run_crawl(
        tmp_path,
        output=tmp_path / f"{name}.jsonl",
        settings={
            "SITES_DIR": sites,
            "SEEN_ENABLED": True,
            "SEEN_BACKEND": "redis",
            "SEEN_REDIS_URL": redis.url,
            "SEEN_REDIS_PREFIX": "e2e:seen",
            "SEEN_RECRAWL_UPDATED": True,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "EXTRACT_WORKERS": 0,
        },
        timeout=120,
    )
    assert result.returncode == 0, (
        f"{name} exited {result.returncode}:\n" + (result.log[-3000:])
    )
    return result, [p for p in server.paths() if p.startswith("/news/")]


def test_updated_and_unchanged_articles_are_recrawled_once_with_redis(
    tmp_path: Path, redis: RedisServer
) -> None:
    """The re-crawl rules of docs/cron.md hold with SEEN_BACKEND=redis: a lastmod
    past the export fetches the article again; a changed text is version 2, an
    unchanged one is not written and its newer lastmod kept (mark_checked); neither
    is fetched again under the same lastmod."""
    store = RedisSeenStore(redis.client(), "e2e:seen", redis.url)
    with SiteServer() as server:
        site = SitemapSite(server, 3)
        sites = site_file(tmp_path / "sites", server.url)
        first, fetched = crawl(tmp_path, server, redis, "run1", sites)
        assert {i["url"] for i in first.items} == {site.url(i) for i in range(3)}
        assert sorted(fetched) == ["/news/s0", "/news/s1", "/news/s2"]
        for i in range(3):
            record = store.get(site.url(i))
            assert record is not None, f"story {i} not in the Redis store"
            moment = site.lastmod[i]
            assert isinstance(moment, datetime)
            assert record.lastmod == moment.astimezone(UTC).isoformat(), (
                f"story {i}: the store keeps lastmod {record.lastmod!r}, not the "
                "sitemap's (add_pending must store PendingArticle.lastmod)"
            )

        def after_export(i: int) -> datetime:
            record = store.get(site.url(i))
            assert record is not None and record.exported_at
            return datetime.fromisoformat(record.exported_at) + timedelta(seconds=1)

        # Story 1's text changes, story 2's does not; both lastmods move past export.
        site.updates[1].append(NEW_PARAGRAPH)
        updated, checked_at = after_export(1), after_export(2)
        site.lastmod[1], site.lastmod[2] = updated, checked_at
        site.install()

        second, fetched = crawl(tmp_path, server, redis, "run2", sites)
        assert sorted(fetched) == ["/news/s1", "/news/s2"], (
            f"only the two articles whose lastmod moved are fetched: {fetched}"
        )
        assert [(i["url"], i["version"]) for i in second.items] == [(site.url(1), 2)], (
            "only the changed article is written, as version 2"
        )
        assert second.stat("seen/recrawl_updated") == 2
        assert second.stat("seen/new_version") == 1
        assert second.stat("seen/recrawl_unchanged") == 1
        v2, checked = store.get(site.url(1)), store.get(site.url(2))
        assert v2 is not None and v2.version == 2
        assert v2.lastmod == updated.astimezone(UTC).isoformat()
        assert checked is not None and checked.version == 1
        assert checked.lastmod == checked_at.astimezone(UTC).isoformat(), (
            "the unchanged article's newer lastmod was not kept (mark_checked)"
        )

        third, fetched = crawl(tmp_path, server, redis, "run3", sites)
        assert fetched == [], (
            f"fetched again under the same lastmod (nothing changed): {fetched}"
        )
        assert third.items == []
