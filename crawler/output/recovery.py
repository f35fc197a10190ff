"""Make a JSON-lines output that a crawl appends to whole again before it opens.

``scrapy crawl -o out.jsonl`` appends. A crawl killed in the middle of a line leaves
that line without its newline, and the next crawl's first record would be glued to
it, so both would be lost to every JSON-lines reader. Before the feed exporter opens
its files, this extension cuts such a half line (its article was not marked in the
seen store, so it is fetched again) with the same repair ``newsites run`` applies to
its own output (``crawler.cli.run.repair_output``). Files written with ``-O`` are
emptied by Scrapy anyway and are left alone; so are URIs with ``%(...)s`` parameters
and remote storages.

Stats: ``output/recovered_files`` (files whose end was repaired).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from scrapy import signals
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_JSONL_FORMATS = {"jsonlines", "jsonl"}


def appended_local_jsonl(feeds: dict[str, Any]) -> list[Path]:
    """The local JSON-lines files of ``feeds`` that are appended to, not replaced."""
    paths = []
    for uri, options in feeds.items():
        options = options or {}
        if options.get("overwrite") or "%(" in str(uri):
            continue
        if str(options.get("format", "")).lower() not in _JSONL_FORMATS:
            continue
        path = local_path(str(uri))
        if path is not None:
            paths.append(path)
    return paths


def local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # s3://, ftp://... (not C:\)
        return None
    return Path(uri)


class FeedRecovery:
    """Extension: repair appended JSON-lines outputs when the crawler is built."""

    def __init__(self, crawler: Crawler) -> None:
        from crawler.cli.run import repair_output

        self.stats = crawler.stats
        self.repaired: list[str] = []
        for path in appended_local_jsonl(crawler.settings.getdict("FEEDS")):
            if path.is_file() and (done := repair_output(path)):
                self.repaired.append(done)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FeedRecovery:
        return cls(crawler)

    def spider_opened(self) -> None:
        for done in self.repaired:
            logger.warning("Recovered the output of a killed crawl: %s", done)
            self.stats.inc_value("output/recovered_files")
