"""The article record: the contract of every output line, each field documented."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from scrapy.exceptions import DropItem


def article_id(canonical_url: str) -> str:
    """16 hex chars, stable for a canonical URL (first 64 bits of its SHA-256)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


class NotWrittenYet(DropItem):
    """Dropped here while the article is still unwritten elsewhere (another
    cluster worker holds it): whoever tracks what this process emitted must forget
    it, so that a later fetch of the page may still write it."""


def unwritten(exception: BaseException | None, failed: bool) -> bool:
    """Whether an item that left the pipelines unwritten may be written by a later
    fetch: it failed in a pipeline, or was dropped as ``NotWrittenYet``."""
    return failed or isinstance(exception, NotWrittenYet)


@dataclass
class Article:
    """One news article, as written to one JSONL line.

    The first ten fields are the stable contract; the rest were added because
    users asked for them. Absent values are ``None`` (scalars) or ``[]`` (lists).
    """

    #: 16 lowercase hex chars, ``article_id(url)``: stable across runs.
    id: str = ""
    #: Canonical URL: ``<link rel=canonical>``/``og:url`` on the same site, else the
    #: fetched URL normalized (lower-case host, no fragment, no tracking parameters).
    url: str = ""
    #: Site id: the site file's name without ``.toml``.
    site: str = ""
    #: Headline, without the site-name suffix.
    title: str = ""
    #: Publication date, ISO 8601 (``2024-11-29`` or ``2024-11-29T10:05:00+05:00``
    #: when the page gives a time).
    date: str | None = None
    #: Authors' names, clean ("By A and B" -> ["A", "B"]).
    authors: list[str] = field(default_factory=list)
    #: Dek / standfirst / lede shown apart from the body, when the page has one.
    description: str | None = None
    #: Body paragraphs in order, separated by one blank line. No title, no
    #: boilerplate, no captions, no comments.
    text: str = ""
    #: ISO 639-1 code: declared by the site file, else the page, else detected.
    language: str | None = None
    #: When the page was fetched (UTC, ISO 8601 with seconds).
    fetched_at: str = ""

    # --- additions ---------------------------------------------------------
    #: The date string as the page gave it, before normalization.
    date_raw: str | None = None
    #: Last-modified date, ISO 8601, when the page gives one.
    date_modified: str | None = None
    #: Keywords / tags / categories.
    tags: list[str] = field(default_factory=list)
    #: Images of the article: ``{"url": ..., "caption": ...}``; captions live here,
    #: never in ``text``.
    images: list[dict[str, Any]] = field(default_factory=list)
    #: Reader comments, only with EXTRACT_COMMENTS (or the site's
    #: ``include_comments``): ``{"author", "date", "date_raw", "text"}`` in page
    #: order; ``date`` is ISO 8601 (None when unparseable), ``date_raw`` as shown.
    comments: list[dict[str, Any]] | None = None
    #: The URL actually fetched (may differ from ``url``).
    source_url: str = ""
    #: True when the body looks like a paywall teaser.
    paywalled: bool = False
    #: Words in ``text``, script-aware (two CJK or Thai characters a word).
    word_count: int = 0
    #: Export version of this article: 1 the first time its canonical URL is exported;
    #: n+1 each time ``SEEN_RECRAWL_UPDATED`` re-fetches it after a newer sitemap
    #: ``lastmod`` and its text changed. ``(id, version)`` tells versions apart; the
    #: latest is the highest version. Always 1 without the seen store.
    version: int = 1
