"""One writer per article in a run: the last pipeline claims the item's id in Redis.

Two workers can reach the same article under two URLs (an AMP copy, a tracking
variant, a redirect) at the same moment; each process's own duplicate checks cannot
see the other. The claim is atomic: the first worker's item goes on, the others'
are dropped (``cluster/duplicate_article``). A claim names the lease of the request
that produced the item; it becomes ``written`` once the feeds wrote the line (the
release middleware does this before ending the lease), and it is forgotten if the
item is dropped or fails later. A claim whose lease is gone without the line being
written (its worker died) is taken over, so the article is never lost.
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.cluster.addon import cluster_of
from crawler.items import NotWrittenYet

# KEYS: claims, leases; ARGV: article id, lease token.
# 1: claimed; 0: written earlier in this run; -1: another live worker holds it.
_CLAIM = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == 'written' then return 0 end
if cur and cur ~= ARGV[2] and redis.call('ZSCORE', KEYS[2], cur) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class ClusterClaimPipeline:
    """Item pipeline (last): drop an article another worker of the run writes."""

    def __init__(self, crawler: Crawler) -> None:
        cluster = cluster_of(crawler)
        self.book = cluster.book
        self.stats = crawler.stats
        server = cluster.server
        self._claim = server.register_script(_CLAIM)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterClaimPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        token = self.book.item_leases.get(id(item))
        article = ItemAdapter(item).get("id")
        if token is None or not article:
            self.stats.inc_value("cluster/claim_skipped")  # not from a leased request
            return item
        keys = self.book.keys
        result = int(
            self._claim(keys=[keys.claims, keys.leases], args=[article, token])
        )
        if result == 1:
            self.book.claims[id(item)] = (article, token)
            self.stats.inc_value("cluster/claimed")
            return item
        self.stats.inc_value("cluster/duplicate_article")
        url = ItemAdapter(item).get("url")
        if result == 0:
            raise DropItem(f"written earlier in this run by another worker: {url}")
        raise NotWrittenYet(f"being written by another worker: {url}")
