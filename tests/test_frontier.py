"""The frontier (crawler/frontier.py): every URL decision of a run in one place."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.cluster.politeness import SharedPolitenessMiddleware
from crawler.frontier import UNLIMITED, Frontier, LinkState
from crawler.middlewares.budget import RequestBudgetMiddleware


class _Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def _site(max_requests: int = 0, max_articles: int = 0) -> Any:
    return SimpleNamespace(
        id="s",
        crawl=SimpleNamespace(max_requests=max_requests, max_articles=max_articles),
    )


def _frontier(default_max_requests: int = 0) -> tuple[Frontier, _Stats]:
    stats = _Stats()
    crawler: Any = SimpleNamespace(stats=stats)
    return Frontier(crawler, default_max_requests), stats


def test_navigation_takes_half_of_the_budget_and_articles_all_of_it() -> None:
    frontier, stats = _frontier()
    site = _site(max_requests=5)
    entries = [frontier.admit_entry(f"http://s.test/e{i}", site) for i in range(5)]
    assert entries == [True, True, True, False, False], "half of 5, rounded up"
    articles = [frontier.admit_article(f"http://s.test/a{i}", site) for i in range(6)]
    assert articles == [True] * 5 + [False]
    assert stats.values["discovery/over_max_requests/s"] == 3
    assert frontier.scheduled("s", "entry") == 3


def test_an_entry_page_is_requested_once() -> None:
    frontier, stats = _frontier()
    assert frontier.admit_entry("http://s.test/feed", _site())
    assert not frontier.admit_entry("http://s.test/feed", _site())
    assert stats.values["discovery/duplicate_entry"] == 1


def test_the_default_budget_applies_without_a_site_budget_and_caps_sends() -> None:
    frontier, _ = _frontier(default_max_requests=3)
    assert frontier.max_requests(_site()) == 3
    assert frontier.max_requests(_site(max_requests=7)) == 7
    assert [frontier.may_send("s", 2) for _ in range(3)] == [True, True, False]
    assert all(frontier.may_send("s", 0) for _ in range(10)), "0: no cap"


def test_parked_links_wait_for_idle_and_capacity_counts_what_is_in_flight() -> None:
    frontier, stats = _frontier()
    site = _site(max_articles=2)
    assert frontier.capacity(_site()) == UNLIMITED
    assert frontier.admit_article("http://s.test/a1", site)
    assert frontier.capacity(site) == 1, "one in flight"
    frontier.park("http://s.test/a2", site, "feed", "undated", checked=True)
    assert frontier.state("http://s.test/a2") is LinkState.PARKED
    assert stats.values["discovery/deferred_undated"] == 1
    frontier.answered("s")
    assert frontier.capacity(site) == 2
    parked = frontier.idle()
    assert [(url, p.source, p.checked) for url, p in parked] == [
        ("http://s.test/a2", "feed", True)
    ]
    assert frontier.unpark("http://s.test/a2") is not None
    assert frontier.drop_parked() == []


def test_marking_a_parked_link_unparks_it() -> None:
    frontier, _ = _frontier()
    frontier.park("http://s.test/a", _site(), "home", "over_cap", checked=False)
    frontier.mark("http://s.test/a", LinkState.OLD)
    assert frontier.idle() == [] and frontier.state("http://s.test/a") is LinkState.OLD


def test_an_unwritten_article_is_forgotten_so_a_later_fetch_may_emit_it() -> None:
    frontier, _ = _frontier()
    site = _site(max_articles=1)
    frontier.emit("http://s.test/a", "s")
    assert frontier.emitted("http://s.test/a") and frontier.over_max_articles(site)
    assert frontier.forget_emitted("http://s.test/a", "s")
    assert not frontier.emitted("http://s.test/a")
    assert not frontier.over_max_articles(site) and frontier.articles("s") == 0
    assert not frontier.forget_emitted("http://s.test/a", "s"), "only once"


def test_a_link_is_decided_once_old_links_and_exported_ones_never_requested() -> None:
    from datetime import UTC, datetime

    frontier, stats = _frontier()
    site = _site()
    since = datetime(2024, 5, 1, tzinfo=UTC)
    old, fresh = datetime(2024, 4, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)
    asked: list[str] = []

    def store(url: str, hint: datetime | None) -> Any:
        asked.append(url)
        return "exported" if url.endswith("/done") else "new"

    assert not frontier.decide("http://s.test/o", site, "feed", old, since).request
    assert frontier.state("http://s.test/o") is LinkState.OLD
    assert stats.values["discovery/skipped_old/feed"] == 1
    done = frontier.decide("http://s.test/done", site, "feed", fresh, since, store)
    assert not done.request and frontier.state("http://s.test/done") is LinkState.SEEN
    new = frontier.decide("http://s.test/new", site, "feed", fresh, since, store)
    assert new.request and new.checked and new.age == "fresh"
    undated = frontier.decide("http://s.test/u", site, "home", None, since, store)
    assert not undated.request and frontier.state("http://s.test/u") is LinkState.PARKED
    dated_later = frontier.decide(
        "http://s.test/u", site, "sitemap", fresh, since, store
    )
    assert dated_later.request and dated_later.checked, "parked, then dated: requested"
    assert asked == ["http://s.test/done", "http://s.test/new", "http://s.test/u"]
    again = frontier.decide("http://s.test/o", site, "feed", old, since, store)
    assert not again.request and stats.values["discovery/duplicate_url"] == 1


def test_a_request_put_back_unsent_is_counted_once() -> None:
    """Cluster politeness puts a request back in the queue when it is not its
    host's turn (after the budget let it through): it is sent once and counts once."""
    frontier, stats = _frontier()
    crawler: Any = SimpleNamespace(spider=SimpleNamespace(frontier=frontier))
    budget = RequestBudgetMiddleware(crawler)
    meta = {"site": "s", "max_requests": 2}
    first = Request("https://s.example/a", meta=dict(meta))
    budget.process_request(first)  # let through: counted
    again = SharedPolitenessMiddleware._rescheduled(first)
    budget.process_request(again)  # the same request, unsent before: not again
    second = Request("https://s.example/b", meta=dict(meta))
    budget.process_request(second)  # the second of two
    with pytest.raises(IgnoreRequest):
        budget.process_request(Request("https://s.example/c", meta=dict(meta)))
    assert stats.values["discovery/over_max_requests/s"] == 1
