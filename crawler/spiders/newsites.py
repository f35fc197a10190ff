"""The ``newsites`` spider: site files -> entry points -> article requests -> Articles.

Entry points (feeds, feed autodiscovery, sitemaps, robots.txt sitemaps, paginated
sections, link following) give article links, often with a date; links older than
``since`` are skipped before download, links without a date wait until every dated
entry point has been read (so an article some entry point dates as old is never
fetched), and each article is emitted once under its canonical URL. Every decision
is a ``discovery/*`` or ``extract/*`` counter. See docs/discovery.md.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import StatsCollector
from scrapy.utils.gz import gunzip, gzip_magic_number

from crawler.dates import date_from_url, parse_date, parse_date_hint
from crawler.discovery import (
    Link,
    is_feed,
    listing_dates,
    parse_feed,
    parse_robots_sitemaps,
    parse_sitemap,
)
from crawler.extraction import ExtractedPage, ExtractionError
from crawler.extraction.record import build_article
from crawler.extraction.service import ExtractionService
from crawler.frontier import ExportedEarlier, Frontier, LinkState, SeenAnswer
from crawler.items import Article, unwritten
from crawler.replay import configure_fixtures
from crawler.responses import base_url
from crawler.safety.nesting import report_deep_nesting
from crawler.sites import SiteConfig, SiteConfigError, load_sites, select, select_sites
from crawler.store.run import SeenRun, seen_run_of
from crawler.urllist import UrlList, UrlListError, read_url_list, site_for_url
from crawler.urls import normalize_url, same_site, try_normalize_url

logger = logging.getLogger(__name__)

ARTICLE_PRIORITY = 10  # articles before more navigation: bounded frontier, early output

REQUESTED, OLD = LinkState.REQUESTED, LinkState.OLD

_FEED_LINKS = (
    "//link[contains(concat(' ', normalize-space(@rel), ' '), ' alternate ')]"
    "[contains(@type, 'rss') or contains(@type, 'atom')]"
)
_NEXT_LINK = (
    "//a[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href"
    " | //link[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href"
)


def _follows_links(site: SiteConfig) -> bool:
    """The site asks to follow its pages' links, or names no other entry point."""
    d = site.discovery
    named = d.feeds or d.sitemaps or d.sections or d.robots_sitemaps
    return d.follow_links or not (named or d.feed_autodiscovery)


class NewsitesSpider(scrapy.Spider):
    """Crawl every configured site (or ``-a sites=a,b``): one Article per page."""

    name = "newsites"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        configure_fixtures(settings)
        contact = settings.get("NEWSITES_CONTACT_URL")
        agent = settings.get("USER_AGENT") or "newsites"
        if contact and contact not in agent:
            settings.set(
                "USER_AGENT", f"{agent} (contact: {contact})", priority="spider"
            )
        try:
            sites = list(load_sites(settings.get("SITES_DIR") or None).values())
        except SiteConfigError:
            return  # reported with file and key by from_crawler, before any request
        _apply_site_slots(settings, sites)

    def __init__(
        self,
        sites: str | None = None,
        since: str | None = None,
        max_age_days: str | None = None,
        urls: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sites_arg = sites
        self.since_arg = since
        self.max_age_arg = max_age_days
        self.urls_arg = urls
        self.sites: dict[str, SiteConfig] = {}
        # -a urls=FILE: the pages to extract, instead of the sites' entry points
        self.url_list: UrlList | None = None
        # sites made for URL-list hosts without a site file (crawler.urllist)
        self.generic_sites: dict[str, SiteConfig] = {}
        self.since: datetime | None = None
        # every URL decision of the run (crawler/frontier.py); built in from_crawler
        self.frontier: Frontier | None = None
        self.extraction: ExtractionService | None = None  # built on spider_opened
        self.seen: SeenRun | None = None  # the crawl's seen store, with SEEN_ENABLED
        self.include_comments = False
        self.restore_dek = True
        self.min_words = 0

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, *args: Any, **kwargs: Any
    ) -> NewsitesSpider:
        spider: NewsitesSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        try:
            all_sites = load_sites(settings.get("SITES_DIR") or None)
            chosen = select_sites(all_sites, spider.sites_arg)
        except SiteConfigError as exc:
            logger.error("Configuration error: %s", exc)
            raise
        spider.sites = {s.id: s for s in chosen}
        spider.since = parse_since(spider.since_arg, spider.max_age_arg)
        if spider.urls_arg:
            try:
                spider.url_list = read_url_list(spider.urls_arg)
            except UrlListError as exc:
                logger.error("Configuration error: %s", exc)
                raise
        # Built on spider_opened: Scrapy creates crawler.stats after the spider. This
        # handler is connected first, so the service's own spider_opened handler
        # (connected while building it) runs in the same dispatch, after it.
        crawler.signals.connect(spider._build_extraction, signal=signals.spider_opened)
        spider.include_comments = settings.getbool("EXTRACT_COMMENTS")
        spider.restore_dek = settings.getbool("EXTRACT_RESTORE_DEK")
        spider.min_words = settings.getint("EXTRACT_MIN_WORDS")
        spider.frontier = Frontier(crawler, settings.getint("BUDGET_MAX_REQUESTS"))
        crawler.signals.connect(spider.release_parked, signal=signals.spider_idle)
        crawler.signals.connect(spider.item_not_written, signal=signals.item_error)
        crawler.signals.connect(spider.item_not_written, signal=signals.item_dropped)
        return spider

    def item_not_written(
        self,
        item: Any,
        exception: BaseException | None = None,
        failure: Any = None,
        **_: Any,
    ) -> None:
        """An article that failed in a pipeline (or is unwritten elsewhere) is no
        longer "emitted": a later fetch of it (a retry, a re-leased cluster
        request) must not be refused as a duplicate (``extract/duplicate_canonical``).
        """
        if not unwritten(exception, failed=failure is not None):
            return
        adapter = ItemAdapter(item)
        url, site = str(adapter.get("url") or ""), str(adapter.get("site") or "")
        if self._frontier.forget_emitted(url, site):
            self.crawler.stats.inc_value("extract/forgotten_unwritten")

    def _build_extraction(self) -> None:
        self.extraction = ExtractionService.from_crawler(self.crawler)
        # With the seen store, links to articles earlier runs exported are dropped
        # as they are found (no Request built, queued and refused for each).
        if self.crawler.settings.getbool("SEEN_ENABLED"):
            self.seen = seen_run_of(self.crawler)

    # --- policy --------------------------------------------------------------
    @property
    def _frontier(self) -> Frontier:
        assert self.frontier is not None, "built in from_crawler"
        return self.frontier

    def _site(self, site_id: str) -> SiteConfig:
        return self.sites.get(site_id) or self.generic_sites[site_id]

    def _since_for(self, site: SiteConfig) -> datetime | None:
        if self.since is not None:
            return self.since
        if site.crawl.max_age_days:
            return datetime.now(UTC) - timedelta(days=site.crawl.max_age_days)
        return None

    def _meta(self, site: SiteConfig, **meta: Any) -> dict[str, Any]:
        if cap := self._frontier.max_requests(site):
            meta["max_requests"] = cap  # RequestBudgetMiddleware
        return {"site": site.id, **meta}

    # --- requests ------------------------------------------------------------
    def _entry(
        self, url: str, site: SiteConfig, callback: Any, **kwargs: Any
    ) -> Request | None:
        if not self._frontier.admit_entry(normalize_url(url), site):
            return None
        self.crawler.stats.inc_value("discovery/entry_requests")
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta=self._meta(site, entry=True),
            cb_kwargs={"site_id": site.id, **kwargs},
        )

    def _article(
        self, link: Link, site: SiteConfig, source: str
    ) -> tuple[Request | None, str]:
        """Decide about one article link: ``(request or None, age)``.

        ``age`` is "fresh", "old" or "undated" for an article URL ("" otherwise).
        """
        stats = self.crawler.stats
        url = try_normalize_url(link.url)
        if url is None:
            stats.inc_value("discovery/malformed_url")
            return None, ""
        if not same_site(url, site.domains):
            stats.inc_value("discovery/offsite")
            return None, ""
        if not site.articles.is_article_url(url):
            stats.inc_value("discovery/not_article_url")
            return None, ""
        hint = link.date or date_from_url(url)
        decision = self._frontier.decide(
            url, site, source, hint, self._since_for(site), self._seen_lookup(site)
        )
        if not decision.request:
            return None, decision.age
        request = self._article_request(url, site, source, hint, decision.checked)
        return request, decision.age

    def _seen_lookup(self, site: SiteConfig) -> ExportedEarlier | None:
        """How the frontier asks the seen store about a new link (None: no store)."""
        seen = self.seen
        if seen is None:
            return None

        def exported_earlier(url: str, hint: datetime | None) -> SeenAnswer:
            # with re-crawls, an undated link cannot say "updated": a later dated
            # link to it (or the request's own date) decides, in the middleware
            if hint is None and seen.recrawl_updated:
                return "unasked"
            try:
                record = seen.exported_earlier(
                    url, hint.isoformat() if hint else None, site.id
                )
            except IgnoreRequest:  # the store failed: the crawl is stopping
                return "failed"
            return "new" if record is None else "exported"

        return exported_earlier

    def _article_request(
        self,
        url: str,
        site: SiteConfig,
        source: str,
        hint: datetime | None = None,
        checked: bool = False,
    ) -> Request | None:
        """The request for an article link; ``checked``: the seen store was asked
        about this link already (else the seen middleware asks)."""
        if not self._frontier.admit_article(url, site):
            return None
        self.crawler.stats.inc_value(f"discovery/article_links/{source}")
        return Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            priority=ARTICLE_PRIORITY,
            # the entry point's date (lastmod, pubDate, ...): SEEN_RECRAWL_UPDATED
            # compares it with the export time to fetch updated articles again
            meta=self._meta(
                site,
                article=True,
                date_hint=hint.isoformat() if hint else None,
                seen_checked=checked,
            ),
            cb_kwargs={"site_id": site.id},
        )

    def _articles(
        self,
        links: Iterable[Link],
        site: SiteConfig,
        source: str,
        ages: Counter[str] | None = None,
    ) -> Iterator[Request]:
        for link in links:
            request, age = self._article(link, site, source)
            if ages is not None and age:
                ages[age] += 1
            if request is not None:
                yield request

    def release_parked(self) -> None:
        """On idle, request parked article links (as far as ``max_articles`` allows).

        Nothing is in flight when the spider is idle, so every dated entry point has
        been read: an undated link still parked was dated by none of them.
        """
        frontier = self._frontier
        released = 0
        for url, parked in frontier.idle():
            site = self._site(parked.site_id)
            if frontier.capacity(site) <= 0:
                continue
            frontier.unpark(url)
            request = self._article_request(
                url, site, parked.source, checked=parked.checked
            )
            if request is not None:
                self.crawler.engine.crawl(request)
                released += 1
        self.crawler.stats.inc_value("discovery/released", released)
        if released:
            raise DontCloseSpider
        for parked in frontier.drop_parked():
            self.crawler.stats.inc_value(
                f"discovery/over_max_articles/{parked.site_id}"
            )

    # --- start ---------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        requests = (
            self.start_requests_for_urls(self.url_list)
            if self.url_list is not None
            else self.start_requests_for_sites()
        )
        for request in requests:
            yield request

    def start_requests_for_urls(self, url_list: UrlList) -> Iterator[Request]:
        """One article request per listed URL (no discovery, no ``allow`` rule:
        the list says these are the pages), each under its site's policy."""
        stats = self.crawler.stats
        for number, line in url_list.invalid:
            stats.inc_value("urls/invalid")
            logger.warning(
                "-a urls: line %d is not an http(s) URL: %.200r", number, line
            )
        for url in url_list.urls:
            site = site_for_url(url, self.sites)
            if site.id not in self.sites:
                self.generic_sites.setdefault(site.id, site)
            key = normalize_url(url)
            if self._frontier.known(key):
                stats.inc_value("urls/duplicate")
                continue
            stats.inc_value("urls/listed")
            if request := self._article_request(key, site, "urls"):
                yield request

    def start_requests_for_sites(self) -> Iterator[Request]:
        for site in self.sites.values():
            d = site.discovery
            candidates: list[Request | None] = []
            if d.robots_sitemaps:
                home = urlsplit(site.home)
                candidates.append(
                    self._entry(
                        f"{home.scheme}://{home.netloc}/robots.txt",
                        site,
                        self.parse_robots,
                    )
                )
            candidates += [self._entry(u, site, self.parse_feed) for u in d.feeds]
            candidates += [self._entry(u, site, self.parse_sitemap) for u in d.sitemaps]
            nothing = not (d.feeds or d.sitemaps or d.sections or d.robots_sitemaps)
            home_key = normalize_url(site.home)
            home_is_section = any(normalize_url(u) == home_key for u in d.sections)
            if d.feed_autodiscovery or d.follow_links or nothing:
                # The home page is parsed once, as a section too when it is listed.
                candidates.append(
                    self._entry(
                        site.home,
                        site,
                        self.parse_home,
                        depth=0,
                        paginate=home_is_section,
                    )
                )
            candidates += [
                self._entry(u, site, self.parse_section, page=1, section=u)
                for u in d.sections
            ]
            for request in candidates:
                if request is not None:
                    yield request

    # --- entry points --------------------------------------------------------
    def parse_robots(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self._site(site_id)
        for url in parse_robots_sitemaps(response.body, response.url):
            if not same_site(url, site.domains):
                self.crawler.stats.inc_value("discovery/offsite")
                continue
            self.crawler.stats.inc_value("discovery/robots_sitemaps")
            if req := self._entry(url, site, self.parse_sitemap):
                yield req

    def parse_feed(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self._site(site_id)
        if not is_feed(response.body):
            yield from self.parse_sitemap(response, site_id)  # a sitemap listed as feed
            return
        links = parse_feed(response.body, response.url)
        self.crawler.stats.inc_value("discovery/feeds_parsed")
        if not links:
            self.crawler.stats.inc_value("discovery/feed_empty")
        yield from self._articles(links, site, "feed")

    def parse_sitemap(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self._site(site_id)
        stats = self.crawler.stats
        body = response.body
        if gzip_magic_number(response):
            try:
                body = gunzip(
                    body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
                )
            except Exception as exc:  # noqa: BLE001 - IOError or the size limit
                stats.inc_value("discovery/sitemap_bad_gzip")
                logger.warning("Cannot gunzip sitemap %s: %s", response.url, exc)
                return
        kind, links = parse_sitemap(body)
        if kind == "sitemapindex":
            stats.inc_value("discovery/sitemap_indexes_parsed")
            since = self._since_for(site)
            for link in links:
                # A child sitemap last changed before `since` lists nothing newer.
                if since is not None and link.date is not None and link.date < since:
                    stats.inc_value("discovery/skipped_old_sitemap")
                    continue
                if not same_site(link.url, site.domains):
                    stats.inc_value("discovery/offsite")
                    continue
                if req := self._entry(link.url, site, self.parse_sitemap):
                    yield req
        elif kind == "urlset":
            stats.inc_value("discovery/sitemaps_parsed")
            yield from self._articles(links, site, "sitemap")
        elif is_feed(body):
            stats.inc_value("discovery/feeds_parsed")
            yield from self._articles(parse_feed(body, response.url), site, "feed")
        else:
            stats.inc_value("discovery/sitemap_unreadable")
            logger.warning("Neither a sitemap nor a feed: %s", response.url)

    def parse_section(
        self, response: Response, site_id: str, page: int, section: str
    ) -> Iterator[Request]:
        site = self._site(site_id)
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("discovery/section_not_html")
            return
        self.crawler.stats.inc_value("discovery/section_pages")
        ages: Counter[str] = Counter()
        yield from self._articles(
            self._page_links(response, site), site, "section", ages
        )
        if req := self._next_section_page(response, site, page, section, ages):
            yield req

    def parse_home(
        self, response: Response, site_id: str, depth: int, paginate: bool = False
    ) -> Iterator[Request]:
        site = self._site(site_id)
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("discovery/section_not_html")
            return
        d = site.discovery
        if d.feed_autodiscovery and depth == 0:
            yield from self._autodiscover_feeds(response, site)
        links = self._page_links(response, site)
        ages: Counter[str] = Counter()
        yield from self._articles(links, site, "home" if depth == 0 else "links", ages)
        if paginate and (
            req := self._next_section_page(response, site, 1, site.home, ages)
        ):
            yield req
        if _follows_links(site) and depth < d.max_depth:
            yield from self._follow(links, site, depth + 1)

    # --- helpers -------------------------------------------------------------
    def _follow(
        self, links: list[Link], site: SiteConfig, depth: int
    ) -> Iterator[Request]:
        """Entry requests for the page's links that are not articles (navigation)."""
        for link in links:
            url = try_normalize_url(link.url)
            if url is None or site.articles.is_article_url(url):
                continue
            if req := self._entry(url, site, self.parse_home, depth=depth):
                yield req

    def _autodiscover_feeds(
        self, response: TextResponse, site: SiteConfig
    ) -> Iterator[Request]:
        for node in response.xpath(_FEED_LINKS):
            href = (node.attrib.get("href") or "").strip()
            title = node.attrib.get("title", "").lower()
            if not href or "comment" in title or "comment" in href.lower():
                continue  # WordPress' "Comments Feed" lists comments, not articles
            url = response.urljoin(href)
            if not same_site(url, site.domains):
                self.crawler.stats.inc_value("discovery/offsite")
                continue
            if req := self._entry(url, site, self.parse_feed):
                self.crawler.stats.inc_value("discovery/feeds_autodiscovered")
                yield req

    def _page_links(self, response: TextResponse, site: SiteConfig) -> list[Link]:
        """Same-site links of an HTML page, with the dates its teasers give them."""
        # Hosts are matched here, not by LinkExtractor(allow_domains=), which compares
        # host:port with the domain and so misses sites on a non-default port.
        dates = listing_dates(
            response.selector, response.url, site.articles.is_article_url
        )
        links = []
        for found in LinkExtractor(unique=True).extract_links(response):
            url = try_normalize_url(found.url)
            if url is None:
                self.crawler.stats.inc_value("discovery/malformed_url")
                continue
            if not same_site(url, site.domains):
                self.crawler.stats.inc_value("discovery/offsite")
                continue
            links.append(Link(found.url, dates.get(url)))
        return links

    def _next_section_page(
        self,
        response: TextResponse,
        site: SiteConfig,
        page: int,
        section: str,
        ages: Counter[str],
    ) -> Request | None:
        """The request for page ``page + 1`` of a section, unless pagination stops.

        It stops at ``max_section_pages``, at a page without article links, and, with
        ``since``, at a page whose article links are all dated too old (sections list
        newest first, so later pages are older still).
        """
        stats = self.crawler.stats
        d = site.discovery
        if page >= d.max_section_pages:
            stats.inc_value("discovery/section_page_limit")
            return None
        if not ages:
            stats.inc_value("discovery/section_no_articles")
            return None
        if ages["old"] and not ages["fresh"] and not ages["undated"]:
            stats.inc_value("discovery/section_stopped_old")
            return None
        if d.page_url:
            url: str | None = urljoin(
                section, d.page_url.replace("{page}", str(page + 1))
            )
        else:
            url = self._next_link(response, site)
        if not url:
            return None
        return self._entry(
            url, site, self.parse_section, page=page + 1, section=section
        )

    def _next_link(self, response: TextResponse, site: SiteConfig) -> str | None:
        selector = site.discovery.next_page
        if selector:
            nodes = select(response.selector, selector)
            if nodes and not isinstance(nodes[0].root, str):
                nodes = nodes.xpath("@href")
            href = nodes.get()
        else:
            href = response.xpath(_NEXT_LINK).get()
        if not href:
            return None
        url = response.urljoin(href.strip())
        if not same_site(url, site.domains):
            self.crawler.stats.inc_value("discovery/offsite")
            return None
        return url

    def _canonical(
        self,
        page_canonical: str | None,
        response: TextResponse,
        site: SiteConfig,
        fetched: str,
    ) -> str:
        """The page's ``rel=canonical`` / ``og:url`` (read by the extraction worker)
        when on the site and an article URL, else the fetched URL (a canonical
        pointing at the home page must not merge articles)."""
        href = (page_canonical or "").strip()
        if not href:
            return fetched
        candidate = try_normalize_url(href, base_url(response))
        if candidate is None:  # http://host:abc/: not a URL, the page is still one
            self.crawler.stats.inc_value("extract/canonical_malformed")
            return fetched
        if not same_site(candidate, site.domains):
            self.crawler.stats.inc_value("extract/canonical_offsite")
        elif not site.articles.is_article_url(candidate):
            self.crawler.stats.inc_value("extract/canonical_not_article")
        else:
            return candidate
        return fetched

    # --- articles ------------------------------------------------------------
    async def parse_article(
        self, response: Response, site_id: str
    ) -> AsyncIterator[Article]:
        """One article page -> at most one Article (every other outcome counted)."""
        try:
            async for article in self._article_from(response, site_id):
                yield article
        finally:
            # in flight until extracted: pages extract concurrently (worker pool)
            self._frontier.answered(site_id)

    async def _article_from(
        self, response: Response, site_id: str
    ) -> AsyncIterator[Article]:
        site = self._site(site_id)
        stats = self.crawler.stats
        if not isinstance(response, TextResponse):
            stats.inc_value("extract/not_html")
            return
        frontier = self._frontier
        if frontier.over_max_articles(site):
            stats.inc_value(f"extract/over_max_articles/{site_id}")
            return
        fetched = normalize_url(response.url)
        frontier.mark(fetched, REQUESTED)  # also after a redirect
        assert self.extraction is not None, "built on spider_opened"
        try:
            page = await self.extraction.extract(
                response.body,
                response.url,
                site,
                include_comments=self.include_comments,
                restore_dek=self.restore_dek,
                min_words=max(self.min_words, site.articles.min_words),
            )
        except ExtractionError as exc:
            if exc.deep_nesting:  # the worker's parser stopped at its depth limit
                report_deep_nesting(stats, response.url)
            stats.inc_value(f"extract/{exc.reason}")
            logger.info("Not an article (%s): %s", exc, response.url)
            return
        if page.deep_nesting:
            report_deep_nesting(stats, response.url)
        # listing-like pages are refused by the worker (extract/listing_like)
        canonical = self._canonical(page.canonical_url, response, site, fetched)
        if frontier.emitted(canonical):  # another URL of it was written already
            stats.inc_value("extract/duplicate_canonical")
            return
        if frontier.over_max_articles(site):  # others finished first
            stats.inc_value(f"extract/over_max_articles/{site_id}")
            return
        if canonical != fetched:
            stats.inc_value("extract/alias_url")  # fetched under a second URL
            frontier.unpark(canonical)
        if self._too_old(site, page.date, canonical):
            return
        frontier.emit(canonical, site_id)
        stats.inc_value("extract/ok")
        stats.inc_value(f"extract/ok/{site_id}")
        _count_page(stats, page)
        yield build_article(
            page,
            fetched_url=response.url,
            site_id=site_id,
            domains=site.domains,
            url=canonical,
        )

    def _too_old(self, site: SiteConfig, date: str | None, canonical: str) -> bool:
        """Published before the run's ``since``: counted, marked old, not written.
        An undated article is kept (nothing says it is old), and counted."""
        since = self._since_for(site)
        if since is None:
            return False
        published = parse_date_hint(date) if date else None
        if published is None:
            self.crawler.stats.inc_value("extract/undated")
            return False
        if published < since:
            self.crawler.stats.inc_value("extract/skipped_old")
            self._frontier.mark(canonical, OLD)
            return True
        return False

    def on_error(self, failure: Any) -> None:
        request = failure.request
        site = request.meta.get("site", "?")
        kind = "article" if request.meta.get("article") else "entry"
        stats = self.crawler.stats
        if kind == "article":
            self._frontier.answered(site)
        if failure.check(HttpError):
            status = failure.value.response.status
            if status == 404 and request.cb_kwargs.get("page", 1) > 1:
                # a page_url pattern finds a section's end by asking one page too far
                stats.inc_value("discovery/section_end")
                return
        elif failure.check(IgnoreRequest):
            # refused before download (robots.txt, a safety rule): counted there
            stats.inc_value(f"discovery/refused/{kind}")
            logger.debug(
                "%s %s refused: %s", kind, request.url, failure.getErrorMessage()
            )
            return
        stats.inc_value(f"errors/{kind}")
        stats.inc_value(f"errors/site/{site}/{kind}")
        logger.warning("%s %s failed: %s", kind, request.url, failure.getErrorMessage())


def parse_since(since: str | None, max_age_days: str | None) -> datetime | None:
    """``-a since`` (ISO date or date-time, UTC unless it has an offset) or
    ``-a max_age_days`` (a number, counted back from now); ``since`` wins."""
    if since:
        parsed = parse_date(since)
        if parsed is None:
            raise ValueError(f"-a since={since!r} is not an ISO date (e.g. 2024-11-01)")
        return parsed
    if max_age_days:
        try:
            days = float(max_age_days)
        except ValueError as exc:
            raise ValueError(
                f"-a max_age_days={max_age_days!r} is not a number"
            ) from exc
        return datetime.now(UTC) - timedelta(days=days)
    return None


def _apply_site_slots(settings: BaseSettings, sites: list[SiteConfig]) -> None:
    """Per-site delay and concurrency become Scrapy download slots, one per domain.

    AutoThrottle would lower a slot's delay below the site's ``download_delay``;
    ``crawler.middlewares.crawl_delay.CrawlDelayMiddleware`` keeps it as a floor.
    """
    slots: dict[str, dict[str, Any]] = dict(settings.getdict("DOWNLOAD_SLOTS"))
    for site in sites:
        conf: dict[str, Any] = {}
        if site.crawl.download_delay:
            conf["delay"] = site.crawl.download_delay
        if site.crawl.concurrency:
            conf["concurrency"] = site.crawl.concurrency
        if conf:
            for domain in site.domains:
                slots.setdefault(domain, conf)
                slots.setdefault("www." + domain, conf)
    if slots:
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")


def _count_page(stats: StatsCollector, page: ExtractedPage) -> None:
    """What extraction reports about a written page: lines its clean-up dropped, where
    its body came from, links it skipped as malformed, site selectors it did not
    trust."""
    for rule, count in page.cleanup.items():
        stats.inc_value(f"extract/cleanup/{rule}", count)
    stats.inc_value(f"extract/body/{page.body_source}")
    if page.malformed_links:
        stats.inc_value("extract/malformed_links", page.malformed_links)
    for name in page.rejected_selectors:
        stats.inc_value(f"extract/site_selector_rejected/{name}")
