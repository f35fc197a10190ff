"""The seen store: keys, fingerprints, pending -> exported, recovery, errors, lock."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from pathlib import Path

import pytest

from crawler.store import (
    SCHEMA_VERSION,
    PendingArticle,
    SeenLock,
    SeenLockHeld,
    SeenStoreError,
    SqliteSeenStore,
    exported_ids,
    fingerprint,
    hamming,
    resolve_path,
    simhash64,
)

WORDS = (
    "harbour council ferry budget dredging vote mayor school river bridge market "
    "rain tide pier crane cargo union strike fishing licence quota"
).split()


def story(seed: int, words: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 99)) for _ in range(words))


def store_at(tmp_path: Path) -> SqliteSeenStore:
    return SqliteSeenStore.open(tmp_path / "state" / "seen.sqlite3")


def export(
    store: SqliteSeenStore,
    url: str,
    text: str,
    site: str = "harbour",
    aliases: tuple[str, ...] = (),
    run: int = 1,
    aid: str = "",
) -> None:
    store.add_pending(
        PendingArticle(
            url,
            aid or f"{abs(hash(url)):016x}"[:16],
            site,
            1,
            fingerprint(text),
            run,
            aliases,
        )
    )
    assert store.mark_exported(url) is not None


# --- keys -------------------------------------------------------------------------


def test_canonical_url_alias_and_query_variant_are_found(tmp_path: Path) -> None:
    store = store_at(tmp_path)
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
    # The canonical URL has no query: any query on that path is the same article.
    assert store.lookup("http://news.test/a/story?page=1&x=2") == found
    assert (
        store.lookup("http://news.test/a/story?page=1", match_query_variants=False)
        is None
    )
    # A canonical URL with a query: its query selects the article, so match exactly.
    assert store.lookup("http://news.test/item.php?id=7") is not None
    assert store.lookup("http://news.test/item.php?id=8") is None
    assert store.lookup("http://news.test/a/other") is None


def test_pending_article_is_not_exported_until_marked(tmp_path: Path) -> None:
    store = store_at(tmp_path)
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
    assert store.counts()["pending"] == 1
    record = store.mark_exported("http://news.test/a/p")
    assert record is not None and record.exported_at
    assert store.counts() == {"articles": 1, "aliases": 0, "pending": 0, "runs": 0}
    assert store.mark_exported("http://news.test/a/p") is None, "marked twice"


def test_store_survives_reopening_with_its_schema_version(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    export(store, "http://news.test/a/kept", story(4))
    store.close()
    again = store_at(tmp_path)
    assert again.lookup("http://news.test/a/kept") is not None
    version = sqlite3.connect(again.path).execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION
    mode = sqlite3.connect(again.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


# --- fingerprints -----------------------------------------------------------------


def test_fingerprint_ignores_case_punctuation_and_spacing() -> None:
    a = fingerprint("The Mayor said: 'No.'\n\nThe vote is on Friday!")
    b = fingerprint("the mayor said no the   vote is on friday")
    assert a.text_hash == b.text_hash and a.simhash == b.simhash and a.words == 9


def test_small_edit_is_near_duplicate_other_story_is_not() -> None:
    text = story(5)
    edited = text.replace(text.split()[150], "corrected", 1) + " Updated at 10:05."
    assert hamming(fingerprint(text).simhash, fingerprint(edited).simhash) <= 3
    assert hamming(fingerprint(text).simhash, fingerprint(story(6)).simhash) > 10


def test_same_text_on_new_url_same_site_is_a_duplicate(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    text = story(7)
    export(store, "http://news.test/a/first", text)
    republished = text + " This story was first published on Monday."
    dup = store.find_duplicate(
        "harbour", fingerprint(republished), "http://news.test/b/again", 3, 50
    )
    assert dup is not None and dup.url == "http://news.test/a/first"
    # Another site may carry the same wire story: not a duplicate.
    assert (
        store.find_duplicate("other", fingerprint(text), "http://x.test/a", 3, 50)
        is None
    )
    # The article is not a duplicate of itself (its own earlier version).
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
    # max_bits=0: only the exact text counts.
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


def reference_simhash64(tokens: list[str], shingle: int = 3) -> int:
    """SimHash by its definition, one bit at a time (what stores hold since v1)."""
    if not tokens:
        return 0
    grams = (
        [" ".join(tokens[i : i + shingle]) for i in range(len(tokens) - shingle + 1)]
        if len(tokens) >= shingle
        else [" ".join(tokens)]
    )
    weights = [0] * 64
    for gram in grams:
        value = int.from_bytes(
            hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "big"
        )
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 7, 64, 301, 2500])
def test_simhash_is_the_bit_by_bit_definition(length: int) -> None:
    # Stores written earlier hold these values: a faster count must not change them.
    for seed in range(8):
        tokens = story(seed, length).split() if length else []
        assert simhash64(tokens) == reference_simhash64(tokens)


def test_duplicate_lookup_searches_indexes_not_the_whole_site(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    for i in range(30):
        export(store, f"http://news.test/a/{i}", story(100 + i))
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    store.find_duplicate("harbour", fingerprint(story(5)), "http://news.test/x", 3, 50)
    store._conn.set_trace_callback(None)
    lookups = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert lookups
    for sql in lookups:
        plan = " | ".join(
            row[3] for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql)
        )
        if " FROM articles " not in sql:
            continue
        assert "SCAN" not in plan, plan
        for key in ("text_hash", "band0", "band1", "band2", "band3"):
            assert f"(site=? AND {key}=?)" in plan, plan


def test_short_texts_are_compared_exactly(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    short = story(9, words=30)
    export(store, "http://news.test/a/brief", short)
    edited = short.rsplit(" ", 1)[0] + " closing"
    assert (
        store.find_duplicate(
            "harbour", fingerprint(edited), "http://news.test/b", 64, 50
        )
        is None
    ), "short text matched by SimHash"
    assert (
        store.find_duplicate(
            "harbour", fingerprint(short), "http://news.test/b", 64, 50
        )
        is not None
    )


def test_pending_article_blocks_a_duplicate_in_the_same_run(tmp_path: Path) -> None:
    store = store_at(tmp_path)
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


# --- recovery ---------------------------------------------------------------------


def test_exported_ids_reads_complete_json_and_tsv_lines_only(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(json.dumps({"id": "aaaaaaaaaaaaaaaa"}) + "\n" + '{"id": "bbbbbbbb')
    tsv = tmp_path / "index.tsv"
    tsv.write_text("000_cccccccccccccccc.txt\tcccccccccccccccc\thttp://x/\tT\n")
    ids = exported_ids([str(jsonl), str(tsv), str(tmp_path / "missing.jsonl")])
    assert ids == {"aaaaaaaaaaaaaaaa", "cccccccccccccccc"}


def test_resolve_pending_marks_written_and_forgets_unwritten(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    out = tmp_path / "run.jsonl"
    run = store.start_run([str(out)])
    for aid, url in (
        ("1111111111111111", "http://news.test/a/written"),
        ("2222222222222222", "http://news.test/a/lost"),
    ):
        store.add_pending(PendingArticle(url, aid, "harbour", 1, fingerprint(url), run))
    # The run was killed after writing the first line and before marking it.
    out.write_text(json.dumps({"id": "1111111111111111"}) + "\n")
    assert [r.id for r in store.unfinished_runs()] == [run]
    marked, discarded = store.resolve_pending(
        lambda r: exported_ids(r.outputs) if r else set()
    )
    assert (marked, discarded) == (1, 1)
    assert store.lookup("http://news.test/a/written") is not None
    assert store.lookup("http://news.test/a/lost") is None
    assert store.counts()["pending"] == 0


# --- errors -----------------------------------------------------------------------


def test_corrupt_store_is_a_loud_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite3"
    garbage = b"this is not a database " * 200
    path.write_bytes(garbage)
    with pytest.raises(SeenStoreError) as error:
        SqliteSeenStore.open(path)
    message = str(error.value)
    assert str(path) in message and "corrupt" in message and "SEEN_RESET" in message
    assert path.read_bytes() == garbage, "a corrupt store must never be rewritten"


def test_an_empty_store_file_is_a_loud_error_not_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(SeenStoreError) as error:
        SqliteSeenStore.open(path)
    message = str(error.value)
    assert str(path) in message and "empty" in message and "SEEN_RESET" in message
    assert path.read_bytes() == b"", "an empty store must not be made a new one"
    store = SqliteSeenStore.open(path, reset=True)  # the documented way out
    assert store.counts()["articles"] == 0
    store.close()


def test_a_new_store_appears_whole(tmp_path: Path) -> None:
    """Created under a temporary name and renamed: no half-made file at SEEN_DB."""
    path = tmp_path / "seen.sqlite3"
    SqliteSeenStore.open(path).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seen.sqlite3"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_damaged_pages_fail_the_integrity_check(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    for i in range(300):
        export(store, f"http://news.test/a/{i}", story(i, words=60), aid=f"{i:016x}")
    store.close()
    path = tmp_path / "state" / "seen.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 2, len(data) - page, page * 3):
        data[offset + 100 : offset + 600] = b"\xff" * 500
    path.write_bytes(bytes(data))
    with pytest.raises(SeenStoreError, match="corrupt"):
        SqliteSeenStore.open(path)


def test_foreign_sqlite_file_and_newer_schema_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)")
    with pytest.raises(SeenStoreError, match="not a newsites seen store"):
        SqliteSeenStore.open(other)
    store = store_at(tmp_path)
    store.close()
    conn = sqlite3.connect(tmp_path / "state" / "seen.sqlite3")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SeenStoreError, match="newer"):
        store_at(tmp_path)


def test_folder_in_place_of_store_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "seen.sqlite3").mkdir()
    with pytest.raises(SeenStoreError, match="folder"):
        SqliteSeenStore.open(tmp_path / "seen.sqlite3")


def test_reset_keeps_the_old_store_aside_and_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite3"
    path.write_bytes(b"corrupt" * 100)
    store = SqliteSeenStore.open(path, reset=True)
    assert store.counts()["articles"] == 0
    kept = list(tmp_path.glob("seen.sqlite3.reset-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"corrupt" * 100


# --- lock and paths ---------------------------------------------------------------


def test_second_lock_is_refused_at_once_and_released_on_close(tmp_path: Path) -> None:
    db = tmp_path / "seen.sqlite3"
    first = SeenLock.acquire(db)
    with pytest.raises(SeenLockHeld) as held:
        SeenLock.acquire(db)
    assert "another run" in str(held.value) and str(db) in str(held.value)
    first.release()
    SeenLock.acquire(db).release()


def test_relative_path_is_beside_scrapy_cfg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scrapy.cfg").write_text("[settings]\ndefault = crawler.settings\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert resolve_path("state/seen.sqlite3") == tmp_path / "state" / "seen.sqlite3"
    assert resolve_path("/var/x.db") == Path("/var/x.db")


def test_only_the_mark_skips_its_own_fsync(tmp_path: Path) -> None:
    # The pending row must be on disk before the line is written (FULL); the mark
    # may wait for the next synced commit (recovery redoes it from the output).
    store = store_at(tmp_path)
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    store.add_pending(
        PendingArticle(
            "http://news.test/a", "a" * 16, "harbour", 1, fingerprint(story(1)), 1
        )
    )
    pending_statements = list(statements)
    statements.clear()
    assert store.mark_exported("http://news.test/a") is not None
    mark_statements = list(statements)
    store._conn.set_trace_callback(None)
    assert not any("synchronous" in s for s in pending_statements), pending_statements
    assert mark_statements[0] == "PRAGMA synchronous = NORMAL", mark_statements
    assert mark_statements[-1] == "PRAGMA synchronous = FULL", mark_statements
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    lazy = SqliteSeenStore.open(tmp_path / "lazy.sqlite3", durable=False)
    assert lazy._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
