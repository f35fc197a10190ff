"""The seen store in Redis (crawler/cluster/seen_redis.py) against a real redis-server.

The same contract as the SQLite store (tests/test_seen.py): keys, pending ->
exported, near duplicates, recovery; plus what only a shared store needs: the
pending articles of a live worker are never settled by another, a dead one's are.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.cluster.seen_redis import RedisSeenStore
from crawler.seen import (
    PendingArticle,
    SeenStore,
    SeenStoreError,
    exported_ids,
    fingerprint,
)
from tests.support.redis_server import RedisServer

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
