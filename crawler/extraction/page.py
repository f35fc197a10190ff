"""What extraction returns: ``ExtractedPage``, or ``ExtractionError`` for no article.

Kept apart from the extractor so that the crawler process (the spider, the
pipelines) can use them without importing trafilatura: only the extraction workers
load it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ExtractionError(Exception):
    """No article here; ``reason`` becomes the ``extract/<reason>`` counter."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        #: The parser cut the page at its depth limit (``safety/deep_nesting``).
        self.deep_nesting = False
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass
class ExtractedPage:
    """What extraction found on a page (the spider adds id, url, site, fetched_at)."""

    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    description: str | None = None
    date: str | None = None
    date_raw: str | None = None
    date_modified: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] | None = None
    canonical_url: str | None = None
    paywalled: bool = False
    #: Lines the generic clean-up dropped, by rule (``title``, ``link``, ``edge_tail``),
    #: and ``dek_restored``: 1 when the page's dek was put back before the body.
    cleanup: dict[str, int] = field(default_factory=dict)
    #: Where the body came from: ``trafilatura``, ``trafilatura_fallback``,
    #: ``readability``, ``hydration`` (the page's Next.js/JSON state data, its DOM
    #: holding no body) or ``site`` (the site file's body selector).
    body_source: str = "trafilatura"
    #: The parser cut the page at its depth limit: text below it is lost
    #: (``safety/deep_nesting``).
    deep_nesting: bool = False
    #: Links skipped because they cannot be parsed (``http://host:abc/``), when the
    #: page's links to other articles were read (``extract/malformed_links``).
    malformed_links: int = 0
    #: Site-file selectors whose match did not look like their field (a title too
    #: long, a date that does not parse, a body too short beside the generic one):
    #: the page's own value was used (``extract/site_selector_rejected/<field>``).
    rejected_selectors: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)
