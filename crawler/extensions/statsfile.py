"""Write the run's final Scrapy stats as JSON (STATS_FILE), for cron and tests."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class StatsFile:
    """On close, write every stat to STATS_FILE (atomically: temp file + rename)."""

    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        path = crawler.settings.get("STATS_FILE")
        if not path:
            raise NotConfigured
        ext = cls(crawler, Path(path))
        # engine_stopped comes after the stats collector closed: every stat is final.
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self) -> None:
        stats = {k: _jsonable(v) for k, v in self.crawler.stats.get_stats().items()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(
                json.dumps(stats, indent=1, sort_keys=True, default=str) + "\n"
            )
            os.replace(tmp, self.path)
        except OSError:
            logger.error("Cannot write stats file %s", self.path, exc_info=True)
