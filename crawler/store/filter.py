"""Filter what earlier runs exported: before download (URL) and after extraction (text).

``SeenFilterMiddleware`` (a downloader middleware, first in line) refuses article
requests whose URL is already in the seen store (``SeenSkip``, an ``IgnoreRequest``),
so the page is never downloaded, however the request was scheduled; entry pages
(feeds, sitemaps, sections) always pass. With SEEN_RECRAWL_UPDATED it lets an
exported article through when the request's ``date_hint`` (the entry point's date:
sitemap lastmod, feed date) is later than its export and than the date its stored
text was fetched under (``SeenRecord.lastmod``). It also
remembers the URLs an article was redirected from, so the store knows them as
aliases, and the date each article page was fetched under, for the pipeline.

``SeenDedupPipeline`` (the last item pipeline) drops an article whose canonical URL
was exported earlier (it may have been fetched under another URL) and an article of
the same site with the same text (a story republished under a new URL), sets the
item's ``version``, and records the article as pending in the store, with the date
it was fetched under: the ``SeenMarker`` extension marks it exported once the feeds
wrote it. All three share the crawl's ``SeenRun`` (crawler/store/run.py): the store,
the link dates and redirect aliases this middleware records for the pipeline, the
articles the pipeline makes pending for the marker. A re-fetched article whose text
did not change is dropped, and the store keeps the newer date (``mark_checked``), so
the same lastmod does not fetch it again.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, IgnoreRequest
from scrapy.http import Response

from crawler.dates import parse_date
from crawler.store import PendingArticle, SeenRecord, fingerprint
from crawler.store.run import SeenRun, seen_run_of
from crawler.urls import normalize_url

logger = logging.getLogger(__name__)


def is_newer(hint: str | None, reference: str | None) -> bool:
    """True when the date hint (sitemap lastmod, feed date) is after ``reference``."""
    if not hint or not reference:
        return False
    hinted, known = parse_date(hint), parse_date(reference)
    return hinted is not None and known is not None and hinted > known


def is_updated(hint: str | None, record: SeenRecord) -> bool:
    """True when a link dated ``hint`` may show a newer text than the stored one:
    ``hint`` is after the export and after the link date the stored text was
    fetched under (the same lastmod twice, or a date-only lastmod read as the end
    of its day, is not an update)."""
    return is_newer(hint, record.exported_at) and (
        record.lastmod is None or is_newer(hint, record.lastmod)
    )


def utc_date(hint: str | None) -> str | None:
    """A date hint as UTC ISO 8601 (how the store keeps it), None if unreadable."""
    parsed = parse_date(hint) if hint else None
    return parsed.astimezone(UTC).isoformat() if parsed is not None else None


def latest(*dates: str | None) -> str | None:
    """The latest of some UTC ISO dates (None ignored)."""
    known = [(parsed, d) for d in dates if d and (parsed := parse_date(d))]
    return max(known)[1] if known else None


#: Link dates kept for pages whose item has not reached the pipeline yet. A page that
#: yields no item (not an article) leaves its date behind: the oldest are forgotten
#: beyond this many (an article's item arrives within seconds of its page).
MAX_PENDING_HINTS = 10_000


class SeenSkip(IgnoreRequest):
    """An article request not sent: the article was exported by an earlier run (or,
    in a cluster, by another worker of this one)."""

    def __init__(self, record: SeenRecord) -> None:
        super().__init__(f"exported earlier as {record.url}")
        self.record = record


class ExportedEarlier(DropItem):
    """An article dropped because the store holds it exported (same URL, same
    text): its line was written, by an earlier run or another worker."""

    def __init__(self, record: SeenRecord) -> None:
        # Expected in every incremental run, and counted: no log noise.
        super().__init__(f"exported earlier: {record.url}", log_level="DEBUG")
        self.record = record


class SeenFilterMiddleware:
    """Drop requests for article pages already exported (unless updated, with
    SEEN_RECRAWL_UPDATED); remember redirect aliases and the dates links gave."""

    def __init__(self, crawler: Crawler, seen: SeenRun) -> None:
        self.crawler = crawler
        self.seen = seen
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenFilterMiddleware:
        mw = cls(crawler, seen_run_of(crawler))
        crawler.signals.connect(mw.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(mw.item_dropped, signal=signals.item_error)
        return mw

    def item_dropped(self, item: Any) -> None:
        """An item dropped before the seen pipeline took its date: forget the date."""
        source = ItemAdapter(item).get("source_url")
        if source:
            self.seen.hints.pop(normalize_url(source), None)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("article") or request.meta.get("entry"):
            return
        if self.seen.stopped:
            raise IgnoreRequest("the crawl is stopping (output or seen store failed)")
        if request.meta.get("seen_checked"):
            return  # the spider asked exported_earlier when it found the link
        record = self.seen.exported_earlier(
            normalize_url(request.url),
            request.meta.get("date_hint"),
            request.meta.get("site", "?"),
        )
        if record is not None:
            # The spider's errback sees an IgnoreRequest: refused, not a failed page.
            raise SeenSkip(record)

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get("article"):
            return response
        fetched = normalize_url(response.url)
        redirects = request.meta.get("redirect_urls")
        if redirects:
            self.seen.aliases.setdefault(fetched, set()).update(
                normalize_url(u) for u in redirects
            )
        if hint := utc_date(request.meta.get("date_hint")):
            hints = self.seen.hints
            hints.pop(fetched, None)  # a refetch moves to the end: newest
            hints[fetched] = hint
            if len(hints) > MAX_PENDING_HINTS:
                del hints[next(iter(hints))]  # the oldest
                self.stats.inc_value("seen/hint_forgotten")
        return response


class SeenDedupPipeline:
    """Drop articles exported earlier (same URL or same text); make the rest pending."""

    def __init__(self, crawler: Crawler, seen: SeenRun) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.seen = seen
        settings = crawler.settings
        self.recrawl_updated = settings.getbool("SEEN_RECRAWL_UPDATED")
        self.max_bits = settings.getint("SEEN_NEAR_DUPLICATE_BITS")
        self.min_words = settings.getint("SEEN_NEAR_DUPLICATE_MIN_WORDS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenDedupPipeline:
        return cls(crawler, seen_run_of(crawler))

    def process_item(self, item: Any) -> Any:
        if self.seen.stopped:
            # The output or the store failed: the crawl is stopping. Not written,
            # not marked: the next run fetches it again.
            self.stats.inc_value("seen/dropped_while_stopping")
            raise DropItem(
                "the crawl is stopping (output or seen store failed)", log_level="DEBUG"
            )
        try:
            return self._process(item)
        except DropItem:
            raise
        except Exception as exc:  # noqa: BLE001 - the store's I/O (a full disk)
            self.seen.stop_on_store_failure(exc)
            raise DropItem("the seen store failed", log_level="DEBUG") from exc

    def _process(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url, site = adapter.get("url") or "", adapter.get("site") or ""
        store = self.seen.store
        fp = fingerprint(adapter.get("text") or "")
        source = adapter.get("source_url") or url
        hint = self.seen.hints.pop(normalize_url(source), None)
        version, lastmod = 1, hint
        previous = store.get(url)
        if previous is not None:
            if self.recrawl_updated and previous.text_hash == fp.text_hash:
                self._unchanged(previous, hint)
            if not self.recrawl_updated or previous.text_hash == fp.text_hash:
                self.stats.inc_value("seen/duplicate_url")
                raise ExportedEarlier(previous)
            version = previous.version + 1
            lastmod = latest(previous.lastmod, hint)
            self.stats.inc_value("seen/new_version")
        duplicate = store.find_duplicate(site, fp, url, self.max_bits, self.min_words)
        if duplicate is not None:
            self.stats.inc_value("seen/duplicate_content")
            raise DropItem(
                f"same text as {duplicate.url} ({duplicate.state}): {url}",
                log_level="INFO",
            )
        if "version" in adapter.field_names():
            adapter["version"] = version
        fetched = normalize_url(source)
        aliases = ({fetched} | self.seen.aliases.pop(fetched, set())) - {url}
        if self.seen.marking:
            store.add_pending(
                PendingArticle(
                    url=url,
                    id=adapter.get("id") or "",
                    site=site,
                    version=version,
                    fingerprint=fp,
                    run=self.seen.run,
                    aliases=tuple(sorted(aliases)),
                    lastmod=lastmod,
                )
            )
            self.seen.pending[url] = id(item)
        return item

    def _unchanged(self, previous: SeenRecord, hint: str | None) -> None:
        """Fetched again, same text: keep the newer link date, so that the same
        lastmod does not fetch it again on every run."""
        self.stats.inc_value("seen/recrawl_unchanged")
        if hint is not None and is_updated(hint, previous):
            self.seen.store.mark_checked(previous.url, hint)
