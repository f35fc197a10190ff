"""The seen store: which articles earlier runs exported, so each is exported once.

Keys of an exported article: its canonical URL (the item's ``url``), the other URLs
it was fetched under (aliases), and a fingerprint of its text for recognizing the
same story republished under a new URL on the same site.

Near-duplicate rule (documented in docs/cron.md): two articles of the same site are
the same story when the words of their ``text`` (case-folded, punctuation dropped)
are identical, or, when both have at least ``min_words`` words, when the 64-bit
SimHash of their word 3-shingles differs in at most ``max_bits`` bits. A SimHash is
split into four 16-bit bands kept in indexed columns: two hashes within 3 bits share
at least one band (pigeonhole), so candidates are found with an index lookup, not a
scan.

Re-crawl (SEEN_RECRAWL_UPDATED): each exported article keeps ``lastmod``, the entry
point's date (sitemap lastmod, feed date) its exported text was fetched under, moved
forward when a later fetch finds the text unchanged (``mark_checked``). A link whose
date is later than both that and the export time is fetched again.

An article is written in two steps: ``add_pending`` before its output line is
written, ``mark_exported`` once the line is written and flushed. A run killed in
between leaves a pending row; ``resolve_pending`` settles it by looking for the
article's id in the outputs its run recorded, so the article is neither lost nor
exported twice.

``SeenStore`` (here) is the interface, with its records and the text fingerprints
both backends use; ``crawler.store.sqlite.SqliteSeenStore`` is the default backend
and ``crawler.store.redis.RedisSeenStore`` the shared one. A store that cannot be
read is a ``SeenStoreError``, never silently recreated; starting over is explicit
(``reset=True``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

#: Version of the SQLite schema, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 2

_WORD = re.compile(r"\w+")
_MASK64 = (1 << 64) - 1


class SeenStoreError(Exception):
    """The seen store cannot be used; the message names the file and what to do."""


# --- fingerprints ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprint:
    """What identifies an article's text: exact hash, SimHash, word count."""

    text_hash: str
    simhash: int
    words: int


def words_of(text: str) -> list[str]:
    """The words of ``text``: NFKC, case-folded, punctuation and spacing dropped."""
    return _WORD.findall(unicodedata.normalize("NFKC", text or "").casefold())


#: Bit-sliced SimHash counting: ``_SPREAD[b]`` puts the 8 bits of byte ``b`` in 8
#: lanes of ``_LANE`` bits, so summing spreads counts the ones of every bit position
#: at once (a lane holds counts up to 2**32 grams).
_LANE = 32
_LANE_MASK = (1 << _LANE) - 1
_SPREAD = [sum(((b >> j) & 1) << (_LANE * j) for j in range(8)) for b in range(256)]


def simhash64(tokens: list[str], shingle: int = 3) -> int:
    """64-bit SimHash of the word ``shingle``-grams of ``tokens`` (unsigned).

    Each gram's 8-byte BLAKE2b digest (read big-endian) votes +1 for its set bits and
    -1 for the others; a bit is set when its votes are positive. The votes are counted
    bit-sliced (``_SPREAD``, one column of digest bytes at a time) instead of one bit
    at a time: the same result, about 20x less Python work a page.
    """
    if not tokens:
        return 0
    grams = (
        [" ".join(tokens[i : i + shingle]) for i in range(len(tokens) - shingle + 1)]
        if len(tokens) >= shingle
        else [" ".join(tokens)]
    )
    blake2b = hashlib.blake2b
    digests = b"".join(
        [blake2b(gram.encode("utf-8"), digest_size=8).digest() for gram in grams]
    )
    count = len(grams)
    result = 0
    for byte in range(8):  # digest byte 0 holds the value's bits 56..63
        ones = sum(map(_SPREAD.__getitem__, digests[byte::8]))
        base = 8 * (7 - byte)
        for j in range(8):
            if 2 * ((ones >> (_LANE * j)) & _LANE_MASK) > count:
                result |= 1 << (base + j)
    return result


def fingerprint(text: str) -> Fingerprint:
    """Fingerprint of an article body (the item's ``text``)."""
    tokens = words_of(text)
    digest = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()
    return Fingerprint(digest, simhash64(tokens), len(tokens))


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return ((a ^ b) & _MASK64).bit_count()


def bands(simhash: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of a 64-bit SimHash."""
    return tuple((simhash >> shift) & 0xFFFF for shift in (0, 16, 32, 48))  # type: ignore[return-value]


def _signed(value: int) -> int:
    """A 64-bit unsigned value as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value & _MASK64


def without_query(url: str) -> str:
    """``url`` without its query string (and fragment)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def utc_now() -> str:
    """Now, UTC, ISO 8601 with seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# --- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenRecord:
    """An article in the store: ``state`` is ``exported`` or ``pending``."""

    url: str
    id: str
    site: str
    version: int
    state: str
    exported_at: str | None
    text_hash: str
    simhash: int
    words: int
    #: The link date (UTC ISO 8601) the stored text was last fetched under, if any.
    lastmod: str | None = None


@dataclass(frozen=True)
class PendingArticle:
    """An article about to be written by run ``run``."""

    url: str
    id: str
    site: str
    version: int
    fingerprint: Fingerprint
    run: int
    aliases: tuple[str, ...] = ()
    #: The link date (sitemap lastmod, feed date; UTC ISO 8601) it was fetched under.
    lastmod: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One crawl writing to the store; ``outputs`` are the files it writes."""

    id: int
    started_at: str
    finished_at: str | None
    status: str
    outputs: tuple[str, ...]


class SeenStore(Protocol):
    """What the crawler needs from a seen store (SQLite here; Redis could follow)."""

    path: str

    def lookup(self, url: str, match_query_variants: bool = True) -> SeenRecord | None:
        """The exported article fetched at ``url``: canonical, alias, query variant."""
        ...

    def get(self, url: str) -> SeenRecord | None:
        """The exported article whose canonical URL is ``url``."""
        ...

    def find_duplicate(
        self,
        site: str,
        fp: Fingerprint,
        exclude_url: str,
        max_bits: int,
        min_words: int,
    ) -> SeenRecord | None:
        """An exported or pending article of ``site`` with the same text."""
        ...

    def add_pending(self, article: PendingArticle) -> None: ...

    def discard_pending(self, url: str) -> bool: ...

    def mark_exported(self, url: str, when: str | None = None) -> SeenRecord | None: ...

    def mark_checked(self, url: str, lastmod: str) -> bool:
        """Fetched again under link date ``lastmod``, the text unchanged: keep it."""
        ...

    def resolve_pending(
        self, exported_ids: Callable[[RunRecord | None], set[str]]
    ) -> tuple[int, int]: ...

    def start_run(self, outputs: Iterable[str] = ()) -> int: ...

    def set_run_outputs(self, run: int, outputs: Iterable[str]) -> None: ...

    def finish_run(self, run: int, status: str) -> None: ...

    def unfinished_runs(self) -> list[RunRecord]: ...

    def counts(self) -> dict[str, int]: ...

    def close(self) -> None: ...


# --- output scanning (recovery) -------------------------------------------------------


def json_line_object(line: str) -> tuple[int, dict[str, Any]] | None:
    """The whole JSON object of an output line and where it starts, or None if the
    line has none.

    The offset is 0 for a valid line. When a failed write (a full disk) left the start
    of one line and a later write appended the next line to it, the later line is
    whole at the end: it is returned with its offset (a ``{"`` cannot occur inside a
    JSON string, where the quote is escaped, so candidates are few).
    """
    start = 0
    while start >= 0:
        try:
            value = json.loads(line[start:])
        except ValueError:
            start = line.find('{"', start + 1)
            continue
        return (start, value) if isinstance(value, dict) else None
    return None


def exported_ids(paths: Iterable[str]) -> set[str]:
    """Article ids present as complete lines in output files.

    A JSON line counts by its ``id`` (see ``json_line_object`` for a line glued to a
    cut one); a tab-separated line (the text output's ``index.tsv``) by its second
    column. A last line without its newline is not complete and does not count.
    Missing files count as empty.
    """
    ids: set[str] = set()
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SeenStoreError(
                f"{path}: cannot read output to recover: {exc}"
            ) from exc
        complete = data[: data.rfind(b"\n") + 1]
        for line in complete.decode("utf-8", "replace").splitlines():
            if line.startswith("{"):
                found = json_line_object(line)
                if found is None:
                    continue
                value = found[1].get("id")
                if isinstance(value, str):
                    ids.add(value)
            elif "\t" in line:
                ids.add(line.split("\t")[1])
    return ids
