"""The ``newsites`` spider: site files -> entry pages -> article requests -> Article items."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.settings import BaseSettings
from scrapy.utils.gz import gunzip, gzip_magic_number

from crawler.discovery import (
    Link,
    date_from_url,
    is_feed,
    parse_date,
    parse_feed,
    parse_robots_sitemaps,
    parse_sitemap,
)
from crawler.extraction import ExtractionError
from crawler.extraction.service import ExtractionService
from crawler.items import Article, article_id
from crawler.replay import configure_fixtures
from crawler.sites import SiteConfig, SiteConfigError, load_sites, select_sites
from crawler.urls import normalize_url, same_site

logger = logging.getLogger(__name__)

ARTICLE_PRIORITY = 10  # articles before more navigation: bounded frontier, early output


class NewsitesSpider(scrapy.Spider):
    """Crawl every configured site (or ``-a sites=a,b``) and yield one Article per page."""

    name = "newsites"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        configure_fixtures(settings)
        contact = settings.get("NEWSITES_CONTACT_URL")
        agent = settings.get("USER_AGENT") or "newsites"
        if contact and contact not in agent:
            settings.set("USER_AGENT", f"{agent} (contact: {contact})", priority="spider")
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
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sites_arg = sites
        self.since_arg = since
        self.max_age_arg = max_age_days
        self.sites: dict[str, SiteConfig] = {}
        self.since: datetime | None = None
        self.article_counts: dict[str, int] = {}
        self.request_counts: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsitesSpider:
        spider: NewsitesSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        try:
            all_sites = load_sites(settings.get("SITES_DIR") or None)
            chosen = select_sites(all_sites, spider.sites_arg)
        except SiteConfigError as exc:
            logger.error("Configuration error: %s", exc)
            raise
        spider.sites = {s.id: s for s in chosen}
        spider.since = _parse_since(spider.since_arg, spider.max_age_arg)
        spider.extraction = ExtractionService.from_crawler(crawler)
        spider.include_comments = settings.getbool("EXTRACT_COMMENTS")
        spider.min_words = settings.getint("EXTRACT_MIN_WORDS")
        return spider

    # --- helpers -------------------------------------------------------------------
    def _site(self, site_id: str) -> SiteConfig:
        return self.sites[site_id]

    def _since_for(self, site: SiteConfig) -> datetime | None:
        if self.since is not None:
            return self.since
        if site.crawl.max_age_days:
            return datetime.now(UTC) - timedelta(days=site.crawl.max_age_days)
        return None

    def _budget_ok(self, site: SiteConfig) -> bool:
        cap = site.crawl.max_requests
        if cap and self.request_counts.get(site.id, 0) >= cap:
            self.crawler.stats.inc_value(f"discovery/{site.id}/request_budget_exhausted")
            return False
        self.request_counts[site.id] = self.request_counts.get(site.id, 0) + 1
        return True

    def _entry(self, url: str, site: SiteConfig, callback: Any, **kwargs: Any) -> Request | None:
        if not self._budget_ok(site):
            return None
        self.crawler.stats.inc_value("discovery/entry_requests")
        return Request(
            url, callback=callback, errback=self.on_error,
            meta={"site": site.id, "entry": True},
            cb_kwargs={"site_id": site.id, **kwargs},
        )

    def _article(self, link: Link, site: SiteConfig, source: str) -> Request | None:
        stats = self.crawler.stats
        url = normalize_url(link.url)
        if not same_site(url, site.domains):
            stats.inc_value("discovery/offsite")
            return None
        if not site.articles.is_article_url(url):
            stats.inc_value("discovery/not_article_url")
            return None
        hint = link.date or date_from_url(url)
        since = self._since_for(site)
        if since is not None and hint is not None and hint < since:
            stats.inc_value("discovery/skipped_old")
            stats.inc_value(f"discovery/skipped_old/{source}")
            return None
        if not self._budget_ok(site):
            return None
        stats.inc_value(f"discovery/article_links/{source}")
        return Request(
            url, callback=self.parse_article, errback=self.on_error,
            priority=ARTICLE_PRIORITY,
            meta={"site": site.id, "article": True, "date_hint": hint.isoformat() if hint else None},
            cb_kwargs={"site_id": site.id},
        )

    # --- start ---------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests_for_sites():
            yield request

    def start_requests_for_sites(self) -> Iterator[Request]:
        for site in self.sites.values():
            d = site.discovery
            candidates: list[Request | None] = []
            if d.robots_sitemaps:
                robots = site.home.split("/", 3)
                candidates.append(self._entry(f"{robots[0]}//{robots[2]}/robots.txt", site,
                                              self.parse_robots))
            candidates += [self._entry(u, site, self.parse_feed) for u in d.feeds]
            candidates += [self._entry(u, site, self.parse_sitemap) for u in d.sitemaps]
            candidates += [self._entry(u, site, self.parse_section, page=1) for u in d.sections]
            nothing = not (d.feeds or d.sitemaps or d.sections or d.robots_sitemaps)
            if d.feed_autodiscovery or d.follow_links or nothing:
                candidates.append(self._entry(site.home, site, self.parse_home, depth=0))
            for request in candidates:
                if request is not None:
                    yield request

    # --- entry points ----------------------------------------------------------------
    def parse_robots(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self._site(site_id)
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        for url in parse_robots_sitemaps(text):
            if same_site(url, site.domains) and (req := self._entry(url, site, self.parse_sitemap)):
                yield req

    def parse_feed(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self._site(site_id)
        links = parse_feed(response.body)
        self.crawler.stats.inc_value("discovery/feeds_parsed")
        if not links:
            self.crawler.stats.inc_value("discovery/feed_empty")
        yield from self._articles(links, site, "feed")

    def parse_sitemap(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self._site(site_id)
        body = response.body
        if gzip_magic_number(response):
            try:
                body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            except Exception as exc:  # noqa: BLE001 - IOError or size limit
                self.crawler.stats.inc_value("discovery/sitemap_bad_gzip")
                logger.warning("Cannot gunzip sitemap %s: %s", response.url, exc)
                return
        kind, links = parse_sitemap(body)
        if kind == "sitemapindex":
            self.crawler.stats.inc_value("discovery/sitemap_indexes_parsed")
            since = self._since_for(site)
            for link in links:
                if since is not None and link.date is not None and link.date < since:
                    self.crawler.stats.inc_value("discovery/skipped_old_sitemap")
                    continue
                if same_site(link.url, site.domains) and (req := self._entry(link.url, site, self.parse_sitemap)):
                    yield req
        elif kind == "urlset":
            self.crawler.stats.inc_value("discovery/sitemaps_parsed")
            yield from self._articles(links, site, "sitemap")
        elif is_feed(body):
            yield from self._articles(parse_feed(body), site, "feed")
        else:
            self.crawler.stats.inc_value("discovery/sitemap_unreadable")
            logger.warning("Not a sitemap: %s", response.url)

    def parse_section(self, response: Response, site_id: str, page: int) -> Iterator[Request]:
        site = self._site(site_id)
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("discovery/section_not_html")
            return
        self.crawler.stats.inc_value("discovery/section_pages")
        yield from self._articles(self._page_links(response, site), site, "section")
        if page < site.discovery.max_section_pages:
            next_url = self._next_page(response, site)
            if next_url and (req := self._entry(next_url, site, self.parse_section, page=page + 1)):
                yield req

    def parse_home(self, response: Response, site_id: str, depth: int) -> Iterator[Request]:
        site = self._site(site_id)
        if not isinstance(response, TextResponse):
            return
        d = site.discovery
        if d.feed_autodiscovery and depth == 0:
            for href in response.xpath(
                '//link[@rel="alternate"][contains(@type, "rss") or contains(@type, "atom")]/@href'
            ).getall():
                url = response.urljoin(href)
                if same_site(url, site.domains) and (req := self._entry(url, site, self.parse_feed)):
                    self.crawler.stats.inc_value("discovery/feeds_autodiscovered")
                    yield req
        links = self._page_links(response, site)
        yield from self._articles(links, site, "home" if depth == 0 else "links")
        nothing = not (d.feeds or d.sitemaps or d.sections or d.robots_sitemaps or d.feed_autodiscovery)
        if (d.follow_links or nothing) and depth < d.max_depth:
            for link in links:
                url = normalize_url(link.url)
                if not site.articles.is_article_url(url) and (
                    req := self._entry(url, site, self.parse_home, depth=depth + 1)
                ):
                    yield req

    # --- shared --------------------------------------------------------------------
    def _articles(self, links: Iterable[Link], site: SiteConfig, source: str) -> Iterator[Request]:
        for link in links:
            request = self._article(link, site, source)
            if request is not None:
                yield request

    def _page_links(self, response: TextResponse, site: SiteConfig) -> list[Link]:
        extractor = LinkExtractor(allow_domains=list(site.domains), unique=True)
        return [Link(link.url) for link in extractor.extract_links(response)]

    def _next_page(self, response: TextResponse, site: SiteConfig) -> str | None:
        selector = site.discovery.next_page
        if selector:
            from crawler.sites import select

            nodes = select(response, selector)
            href = nodes.xpath("@href").get() if nodes and not isinstance(nodes[0].root, str) else nodes.get()
        else:
            href = response.xpath('//a[@rel="next"]/@href | //link[@rel="next"]/@href').get()
        if not href:
            return None
        url = response.urljoin(href.strip())
        return url if same_site(url, site.domains) else None

    # --- articles --------------------------------------------------------------------
    async def parse_article(self, response: Response, site_id: str) -> AsyncIterator[Article]:
        site = self._site(site_id)
        stats = self.crawler.stats
        if not isinstance(response, TextResponse):
            stats.inc_value("extract/not_html")
            return
        cap = site.crawl.max_articles
        if cap and self.article_counts.get(site_id, 0) >= cap:
            stats.inc_value(f"extract/{site_id}/over_max_articles")
            return
        try:
            page = await self.extraction.extract(
                response.body, response.url, site,
                include_comments=self.include_comments,
                min_words=max(self.min_words, site.articles.min_words),
            )
        except ExtractionError as exc:
            stats.inc_value(f"extract/{exc.reason}")
            logger.info("Not an article (%s): %s", exc, response.url)
            return
        canonical = normalize_url(response.url)
        if page.canonical_url:
            candidate = normalize_url(response.urljoin(page.canonical_url))
            if same_site(candidate, site.domains):
                canonical = candidate
            else:
                stats.inc_value("extract/canonical_offsite")
        since = self._since_for(site)
        if since is not None and page.date:
            published = parse_date(page.date)
            if published is not None and published < since:
                stats.inc_value("extract/skipped_old")
                return
        self.article_counts[site_id] = self.article_counts.get(site_id, 0) + 1
        stats.inc_value("extract/ok")
        stats.inc_value(f"extract/ok/{site_id}")
        text = page.text
        yield Article(
            id=article_id(canonical),
            url=canonical,
            site=site_id,
            title=page.title,
            date=page.date,
            authors=page.authors,
            description=page.description,
            text=text,
            language=page.language,
            fetched_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
            date_raw=page.date_raw,
            date_modified=page.date_modified,
            tags=page.tags,
            images=page.images,
            comments=page.comments,
            source_url=response.url,
            paywalled=page.paywalled,
            word_count=len(text.split()),
        )

    def on_error(self, failure: Any) -> None:
        request = failure.request
        site = request.meta.get("site", "?")
        kind = "article" if request.meta.get("article") else "entry"
        self.crawler.stats.inc_value(f"errors/{kind}")
        self.crawler.stats.inc_value(f"errors/site/{site}/{kind}")
        logger.warning("%s %s failed: %s", kind, request.url, failure.getErrorMessage())


def _parse_since(since: str | None, max_age_days: str | None) -> datetime | None:
    if since:
        parsed = parse_date(since)
        if parsed is None:
            raise CloseSpider(f"-a since={since!r} is not an ISO date (2024-11-01)")
        return parsed
    if max_age_days:
        try:
            days = float(max_age_days)
        except ValueError as exc:
            raise ValueError(f"-a max_age_days={max_age_days!r} is not a number") from exc
        return datetime.now(UTC) - timedelta(days=days)
    return None


def _apply_site_slots(settings: BaseSettings, sites: list[SiteConfig]) -> None:
    """Per-site delay and concurrency become Scrapy download slots, one per domain."""
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
