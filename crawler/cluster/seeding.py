"""Flag this worker as seeding while its ``start()`` runs: the run is not done yet.

Every worker runs the spider's ``start()``; its requests go through the shared
dupefilter, so a run is seeded once however many workers start (later workers'
start requests are filtered). While a worker's start requests are still coming, the
run must not look finished to the others even if the queue is momentarily empty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.crawler import Crawler

from crawler.cluster.addon import cluster_of


class SeedingMiddleware:
    """Spider middleware wrapping ``start()``: seeding flag on, then off at its end."""

    def __init__(self, crawler: Crawler) -> None:
        self.book = cluster_of(crawler).book
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedingMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        self.book.set_seeding(True)
        try:
            async for item_or_request in start:
                self.stats.inc_value("cluster/start_outputs")
                yield item_or_request
        finally:
            # Every start request yielded so far is in the queue or filtered: the
            # engine queues each one before asking for the next.
            self.book.set_seeding(False)
