"""Article extraction: trafilatura, per-site overrides and clean-up, one code path.

``extract_page`` is imported on first use: the crawler process hands pages to
worker processes and never loads trafilatura itself (about 20 MB and a quarter of a
second saved per crawl); the workers, ``newsites extract`` and the tests do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.extraction.page import ExtractedPage, ExtractionError

if TYPE_CHECKING:
    from crawler.extraction.extractor import extract_page

__all__ = ["ExtractedPage", "ExtractionError", "extract_page"]


def __getattr__(name: str) -> Any:
    if name == "extract_page":
        from crawler.extraction.extractor import extract_page

        return extract_page
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
