"""Where extraction runs for the spider: in this process (EXTRACT_WORKERS=0)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from crawler.extraction.extractor import ExtractedPage, extract_page
from crawler.sites import SiteConfig


class ExtractionService:
    """Runs ``extract_page`` for the spider and counts outcomes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionService:
        return cls(crawler)

    async def extract(
        self, body: bytes, url: str, site: SiteConfig, **options: Any
    ) -> ExtractedPage:
        return extract_page(body, url, site, **options)
