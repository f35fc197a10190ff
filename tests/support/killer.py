"""A test extension that SIGKILLs its own crawl at one exact point: right after the
first article's line is written and marked exported in the seen store, before the
cluster's release middleware settles the article's claim as written. A real kill
lands there by chance (a worker killed mid-run); this puts it there every time."""

from __future__ import annotations

import os
import signal
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

#: Its EXTENSIONS order: built after the seen marker (800), so its item_scraped
#: receiver, connected at engine_started like the marker's, runs after the marker's
#: and before the release middleware's (connected when the engine is built).
ORDER = 900


class KillAfterMarked:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KillAfterMarked:
        ext = cls(crawler)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self) -> None:
        self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def item_scraped(self, item: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)
