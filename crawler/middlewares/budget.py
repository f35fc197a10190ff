"""A hard per-site cap on requests sent in a run: the site file's crawl.max_requests,
else ``BUDGET_MAX_REQUESTS``.

The spider bounds what it schedules (navigation to half the cap, articles to all of
it) and schedules articles before navigation (a higher priority). This middleware
refuses a request once its site has sent ``max_requests``
(``request.meta["max_requests"]``), so a calendar or tag trap never takes the budget
articles need, and nothing goes beyond it. A site file without ``max_requests`` gets
``BUDGET_MAX_REQUESTS`` from the spider (a trap must not run unbounded; 0 turns that
off). Retries and redirects are requests too and are counted. The robots.txt request
is not a site's.

The frontier (crawler/frontier.py) keeps both counts, scheduled and sent.

A request let through here and then put back unsent by a later middleware (cluster
politeness: not its host's turn) carries ``COUNTED_UNSENT_META`` and is not counted
again when it comes back: it is sent once.

Counters: ``discovery/over_max_requests/<site>`` (refused here or not scheduled).
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from crawler.frontier import Frontier

#: Meta key of a request counted here and then put back without being sent.
COUNTED_UNSENT_META = "budget_counted_unsent"


class RequestBudgetMiddleware:
    """Downloader middleware: refuse a site's requests past its ``max_requests``.

    The count is the spider's frontier's (``Frontier.may_send``), the one place the
    run's budget is kept; a spider without a frontier (``scrapy shell``, another
    spider of the project) has no budget."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestBudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.pop(COUNTED_UNSENT_META, False):
            return None  # counted when it first came through; it was not sent then
        cap = request.meta.get("max_requests")
        frontier = getattr(self.crawler.spider, "frontier", None)
        if not cap or not isinstance(frontier, Frontier):
            return None
        site = str(request.meta.get("site", ""))
        if not frontier.may_send(site, int(cap)):
            raise IgnoreRequest(f"{site}: max_requests ({cap}) reached")
        return None
