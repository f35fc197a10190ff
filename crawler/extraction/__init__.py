"""Article extraction: trafilatura, per-site overrides and clean-up, one code path."""

from crawler.extraction.extractor import ExtractedPage, ExtractionError, extract_page

__all__ = ["ExtractedPage", "ExtractionError", "extract_page"]
