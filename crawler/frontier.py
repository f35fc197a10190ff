"""The run's frontier: every decision about a URL, in one place.

The spider finds links and asks the frontier what to do with each; the frontier
alone holds what the run knows about URLs:

- what each article URL is (requested, old, parked, exported by an earlier run);
- the entry pages requested (feeds, sitemaps, sections, home);
- article links parked until the spider is idle (undated with ``since``, or over
  ``max_articles``);
- the articles emitted, per site, and the article requests still unanswered;
- the request budget (``crawl.max_requests``, else ``BUDGET_MAX_REQUESTS``):
  navigation may schedule half of it and articles all of it, so a trap cannot starve
  articles; and no site sends more than all of it, retries and redirects included
  (``crawler.middlewares.budget.RequestBudgetMiddleware`` asks ``may_send``).

Scrapy's dupefilter still drops repeated requests (and, in cluster mode, shares that
across workers); the frontier decides before a request is built, with what Scrapy
cannot know (dates, caps, the seen store's answer). Counters it keeps:
``discovery/over_max_requests/<site>``, ``discovery/deferred_<why>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from crawler.urls import url_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.sites import SiteConfig

#: ``max_articles`` of 0 means no cap: capacity is then this large.
UNLIMITED = 1 << 30


class LinkState(StrEnum):
    """What the run knows about an article URL (normalized)."""

    REQUESTED = "requested"  # scheduled (or fetched, or emitted through an alias)
    OLD = "old"  # an entry point or the page dated it before `since`: never requested
    PARKED = "parked"  # waiting for the spider to go idle (undated, or over the cap)
    SEEN = "seen"  # exported by an earlier run (the seen store): never requested


@dataclass(frozen=True)
class Parked:
    """An article link waiting for the spider to go idle."""

    site_id: str
    source: str  # the entry point kind that found it (feed, sitemap, home...)
    checked: bool  # the seen store was asked about it already


@dataclass(frozen=True)
class Decision:
    """What to do with an article link: request it now (``checked``: the seen store
    was asked about it already) or not; ``age`` is "fresh", "old" or "undated"."""

    request: bool
    age: str
    checked: bool = False


#: The seen store's answer about a link: exported by an earlier run, new, not asked
#: (the request's own date will decide, in the seen middleware), or the store failed
#: (the crawl is stopping).
SeenAnswer = Literal["exported", "new", "unasked", "failed"]
#: Asks the seen store about ``url`` given the link's date.
ExportedEarlier = Callable[[str, datetime | None], SeenAnswer]


def link_age(hint: datetime | None, since: datetime | None) -> str:
    if hint is None:
        return "undated"
    return "old" if since and hint < since else "fresh"


class Frontier:
    """URL state of one run (one per spider)."""

    def __init__(self, crawler: Crawler, default_max_requests: int = 0) -> None:
        self.crawler = crawler
        self.default_max_requests = default_max_requests
        # One entry per URL the run met: keyed by ``url_key``, not the URL string, so a
        # run of 20,000 articles holds ~2 MB here instead of ~8 (issue 15, memory).
        self._links: dict[bytes, LinkState] = {}
        self._parked: dict[str, Parked] = {}
        self._entries: set[str] = set()
        self._emitted: set[bytes] = set()
        self._articles: Counter[str] = Counter()  # emitted, per site
        self._in_flight: Counter[str] = Counter()  # article requests not yet answered
        self._scheduled: Counter[tuple[str, str]] = Counter()  # (site, entry|article)
        self._sent: Counter[str] = Counter()  # requests sent, per site

    @property
    def stats(self) -> StatsCollector:
        # Scrapy creates the stats after the spider (and so after this frontier).
        stats = self.crawler.stats
        assert stats is not None, "used once the crawl has started"
        return stats

    # --- budget --------------------------------------------------------------------
    def max_requests(self, site: SiteConfig) -> int:
        """The site file's crawl.max_requests, else BUDGET_MAX_REQUESTS (0: none)."""
        return site.crawl.max_requests or self.default_max_requests

    def _schedule(self, site: SiteConfig, kind: str) -> bool:
        """Count one scheduled request of ``kind`` ("entry" or "article"): entry
        pages may use half of ``max_requests`` (rounded up), articles all of it."""
        cap = self.max_requests(site)
        if kind == "entry":
            cap = (cap + 1) // 2
        if cap and self._scheduled[site.id, kind] >= cap:
            self.stats.inc_value(f"discovery/over_max_requests/{site.id}")
            return False
        self._scheduled[site.id, kind] += 1
        return True

    def scheduled(self, site_id: str, kind: str) -> int:
        return self._scheduled[site_id, kind]

    def may_send(self, site_id: str, cap: int) -> bool:
        """Count one request about to be sent for ``site_id`` (a retry and a redirect
        too); False once the site has sent ``cap`` (0: no cap)."""
        if not cap:
            return True
        if self._sent[site_id] >= cap:
            self.stats.inc_value(f"discovery/over_max_requests/{site_id}")
            return False
        self._sent[site_id] += 1
        return True

    # --- entry pages ---------------------------------------------------------------
    def admit_entry(self, url: str, site: SiteConfig) -> bool:
        """Whether to request the entry page ``url`` (normalized): not yet
        requested and within the navigation budget."""
        if url in self._entries:
            self.stats.inc_value("discovery/duplicate_entry")
            return False
        if not self._schedule(site, "entry"):
            return False
        self._entries.add(url)
        return True

    # --- article links -------------------------------------------------------------
    def decide(
        self,
        url: str,
        site: SiteConfig,
        source: str,
        hint: datetime | None,
        since: datetime | None,
        exported_earlier: ExportedEarlier | None = None,
    ) -> Decision:
        """Decide about the article link ``url`` found by ``source``, dated ``hint``:
        skip it (known, old, exported earlier), park it (undated while ``since`` is
        set, or over ``max_articles``) or request it (then ``admit_article``)."""
        age = link_age(hint, since)
        state = self.state(url)
        if state in (LinkState.REQUESTED, LinkState.OLD, LinkState.SEEN):
            self.stats.inc_value("discovery/duplicate_url")
            return Decision(False, age)
        if age == "old":
            self.mark(url, LinkState.OLD)
            self.stats.inc_value("discovery/skipped_old")
            self.stats.inc_value(f"discovery/skipped_old/{source}")
            return Decision(False, age)
        checked = False
        if state is None and exported_earlier is not None:
            answer = exported_earlier(url, hint)
            if answer == "failed":
                return Decision(False, age)
            if answer == "exported":
                self.mark(url, LinkState.SEEN)
                return Decision(False, age)
            checked = answer == "new"
        if state is LinkState.PARKED:
            return self._parked_again(url, site, age)
        return self._admit_or_park(url, site, source, age, since, checked)

    def _parked_again(self, url: str, site: SiteConfig, age: str) -> Decision:
        """A parked link found again: request it if now dated (and room is left)."""
        if age == "undated" or self.capacity(site) <= 0:
            self.stats.inc_value("discovery/duplicate_url")
            return Decision(False, age)
        parked = self.unpark(url)  # now dated and fresh: no need to wait
        return Decision(True, age, parked.checked if parked else False)

    def _admit_or_park(
        self,
        url: str,
        site: SiteConfig,
        source: str,
        age: str,
        since: datetime | None,
        checked: bool,
    ) -> Decision:
        if since is not None and age == "undated":
            self.park(url, site, source, "undated", checked)
            return Decision(False, age)
        if self.capacity(site) <= 0:
            self.park(url, site, source, "over_cap", checked)
            return Decision(False, age)
        return Decision(True, age, checked)

    def state(self, url: str) -> LinkState | None:
        return self._links.get(url_key(url))

    def known(self, url: str) -> bool:
        return url_key(url) in self._links

    def mark(self, url: str, state: LinkState) -> None:
        self._links[url_key(url)] = state
        if state is not LinkState.PARKED:
            self._parked.pop(url, None)

    def capacity(self, site: SiteConfig) -> int:
        """How many more article pages may be requested now under ``max_articles``."""
        cap = site.crawl.max_articles
        if not cap:
            return UNLIMITED
        return cap - self._articles[site.id] - self._in_flight[site.id]

    def park(
        self, url: str, site: SiteConfig, source: str, why: str, checked: bool
    ) -> None:
        self._links[url_key(url)] = LinkState.PARKED
        self._parked[url] = Parked(site.id, source, checked)
        self.stats.inc_value(f"discovery/deferred_{why}")

    def unpark(self, url: str) -> Parked | None:
        return self._parked.pop(url, None)

    def admit_article(self, url: str, site: SiteConfig) -> bool:
        """Whether to request the article ``url`` now (within the budget); if so it
        is requested and in flight until ``answered``."""
        if not self._schedule(site, "article"):
            return False
        self._links[url_key(url)] = LinkState.REQUESTED
        self._in_flight[site.id] += 1
        return True

    def answered(self, site_id: str) -> None:
        """An article request was answered (extracted or failed)."""
        self._in_flight[site_id] = max(0, self._in_flight[site_id] - 1)

    def idle(self) -> list[tuple[str, Parked]]:
        """The spider is idle: nothing is in flight any more. Returns the parked
        links (still parked until ``unpark``)."""
        self._in_flight.clear()
        return list(self._parked.items())

    def drop_parked(self) -> list[Parked]:
        """Forget what is still parked (over ``max_articles``); returns it."""
        left = list(self._parked.values())
        self._parked.clear()
        return left

    # --- articles written ----------------------------------------------------------
    def emitted(self, canonical: str) -> bool:
        return url_key(canonical) in self._emitted

    def over_max_articles(self, site: SiteConfig) -> bool:
        cap = site.crawl.max_articles
        return bool(cap) and self._articles[site.id] >= cap

    def emit(self, canonical: str, site_id: str) -> None:
        """The article ``canonical`` is on its way to the output."""
        key = url_key(canonical)
        self._links[key] = LinkState.REQUESTED
        self._emitted.add(key)
        self._articles[site_id] += 1

    def forget_emitted(self, canonical: str, site_id: str) -> bool:
        """The article was not written after all (a pipeline failed, another worker
        holds it): a later fetch may emit it. True if it was emitted."""
        key = url_key(canonical)
        if key not in self._emitted:
            return False
        self._emitted.discard(key)
        self._articles[site_id] = max(0, self._articles[site_id] - 1)
        return True

    def articles(self, site_id: str) -> int:
        return self._articles[site_id]
