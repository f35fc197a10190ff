"""The seen filter (before download) and the seen dedup pipeline (after extraction)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import Article, article_id
from crawler.store import SqliteSeenStore
from crawler.store.filter import (
    SeenDedupPipeline,
    SeenFilterMiddleware,
    SeenSkip,
    is_newer,
)
from crawler.store.run import SeenRun

SETTINGS = {
    "SEEN_ENABLED": True,
    "SEEN_MATCH_QUERY_VARIANTS": True,
    "SEEN_RECRAWL_UPDATED": False,
    "SEEN_NEAR_DUPLICATE_BITS": 3,
    "SEEN_NEAR_DUPLICATE_MIN_WORDS": 50,
}
BASE = "http://news.test"


def text(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(f"word{rng.randint(0, 5000)}" for _ in range(200))


def article(slug: str, body: str, site: str = "harbour", base: str = BASE) -> Article:
    url = f"{base}/news/{slug}"
    return Article(
        id=article_id(url), url=url, site=site, title=slug, text=body, source_url=url
    )


class Parts:
    """A crawler, its store, the crawl's SeenRun and the filter and pipeline given
    it (the marker's part, marking, is set as the marker would)."""

    def __init__(self, tmp_path: Path, **settings: object) -> None:
        self.crawler = get_crawler(Spider, {**SETTINGS, **settings})
        self.store = SqliteSeenStore.open(tmp_path / "seen.sqlite3")
        self.marker = SeenRun(self.crawler, self.store)
        self.marker.marking = True
        self.marker.run = self.store.start_run()
        self.filter = SeenFilterMiddleware(self.crawler, self.marker)
        self.pipeline = SeenDedupPipeline(self.crawler, self.marker)

    def stat(self, key: str) -> int:
        return int(self.crawler.stats.get_value(key, 0))

    def export(self, item: Article) -> Article:
        """Through the pipeline, then marked as if the feed wrote it."""
        out = self.pipeline.process_item(item)
        assert self.store.mark_exported(item.url) is not None
        return out


@pytest.fixture
def parts(tmp_path: Path) -> Parts:
    return Parts(tmp_path)


def article_request(url: str, **meta: object) -> Request:
    return Request(url, meta={"site": "harbour", "article": True, **meta})


# --- before download --------------------------------------------------------------


def test_exported_article_is_not_requested_again(parts: Parts) -> None:
    parts.export(article("one", text(1)))
    with pytest.raises(SeenSkip):
        parts.filter.process_request(article_request(f"{BASE}/news/one"))
    # same article with a new query (its canonical URL has none): still skipped
    with pytest.raises(SeenSkip):
        parts.filter.process_request(article_request(f"{BASE}/news/one?from=home"))
    parts.filter.process_request(article_request(f"{BASE}/news/two"))  # let through
    assert parts.stat("seen/skipped") == 2
    assert parts.stat("seen/skipped/harbour") == 2
    assert parts.stat("seen/new_url") == 1


def test_entry_pages_are_always_fetched(parts: Parts) -> None:
    parts.export(article("one", text(1)))
    entry = Request(f"{BASE}/news/one", meta={"site": "harbour", "entry": True})
    parts.filter.process_request(entry)  # let through
    assert parts.stat("seen/skipped") == 0


def test_query_variants_can_be_turned_off(tmp_path: Path) -> None:
    parts = Parts(tmp_path, SEEN_MATCH_QUERY_VARIANTS=False)
    parts.export(article("one", text(1)))
    parts.filter.process_request(article_request(f"{BASE}/news/one?x=1"))  # let through


def test_redirected_fetch_becomes_an_alias(parts: Parts) -> None:
    first = f"{BASE}/old/one"
    request = article_request(f"{BASE}/news/one", redirect_urls=[first])
    response = HtmlResponse(f"{BASE}/news/one", body=b"<html></html>", request=request)
    parts.filter.process_response(request, response)
    parts.export(article("one", text(1)))
    with pytest.raises(SeenSkip):
        parts.filter.process_request(article_request(first))


def test_updated_article_is_fetched_again_only_when_asked(tmp_path: Path) -> None:
    parts = Parts(tmp_path, SEEN_RECRAWL_UPDATED=True)
    parts.export(article("one", text(1)))
    newer = "2999-01-01T00:00:00+00:00"
    older = "2001-01-01T00:00:00+00:00"
    parts.filter.process_request(  # let through
        article_request(f"{BASE}/news/one", date_hint=newer)
    )
    assert parts.stat("seen/recrawl_updated") == 1
    with pytest.raises(SeenSkip):
        parts.filter.process_request(
            article_request(f"{BASE}/news/one", date_hint=older)
        )
    with pytest.raises(SeenSkip):  # no date hint: nothing says it changed
        parts.filter.process_request(article_request(f"{BASE}/news/one"))
    (tmp_path / "off").mkdir()
    off = Parts(tmp_path / "off")
    off.export(article("one", text(1)))
    with pytest.raises(SeenSkip):
        off.filter.process_request(article_request(f"{BASE}/news/one", date_hint=newer))


def test_is_newer_compares_dates_across_time_zones() -> None:
    assert is_newer("2024-05-01T12:00:00+02:00", "2024-05-01T09:00:00+00:00")
    assert not is_newer("2024-05-01T10:00:00+02:00", "2024-05-01T09:00:00+00:00")
    assert not is_newer(None, "2024-05-01T09:00:00+00:00")
    assert not is_newer("not a date", "2024-05-01T09:00:00+00:00")


# --- after extraction -------------------------------------------------------------


def test_new_article_gets_version_1_and_becomes_pending(parts: Parts) -> None:
    item = parts.pipeline.process_item(article("one", text(1)))
    assert item.version == 1
    assert parts.store.counts()["pending"] == 1
    assert parts.marker.pending[item.url] == id(item)


def test_canonical_url_exported_earlier_is_dropped(parts: Parts) -> None:
    parts.export(article("one", text(1)))
    again = article("one", text(1))
    again.source_url = f"{BASE}/news/one?page=1"
    with pytest.raises(DropItem, match="exported earlier"):
        parts.pipeline.process_item(again)
    assert parts.stat("seen/duplicate_url") == 1


def test_same_story_under_new_url_is_dropped_other_site_is_not(parts: Parts) -> None:
    body = text(2)
    parts.export(article("story", body))
    with pytest.raises(DropItem, match="same text as"):
        parts.pipeline.process_item(article("story-republished", body + " Updated."))
    assert parts.stat("seen/duplicate_content") == 1
    other = parts.pipeline.process_item(
        article("story", body, site="gazette", base="http://gazette.test")
    )
    assert other is not None  # a different site may carry the same wire story


def test_changed_text_under_recrawl_is_a_new_version(tmp_path: Path) -> None:
    parts = Parts(tmp_path, SEEN_RECRAWL_UPDATED=True)
    parts.export(article("one", text(1)))
    with pytest.raises(DropItem):  # unchanged text: nothing new to emit
        parts.pipeline.process_item(article("one", text(1)))
    updated = parts.export(article("one", text(1) + " Correction: the vote is Monday."))
    assert updated.version == 2
    assert parts.stat("seen/new_version") == 1
    record = parts.store.get(f"{BASE}/news/one")
    assert record is not None and record.version == 2


def test_without_a_feed_nothing_is_made_pending(parts: Parts) -> None:
    parts.marker.marking = False
    item = parts.pipeline.process_item(article("one", text(1)))
    assert item is not None and parts.store.counts()["pending"] == 0
