"""Check site files: validation, and a real crawl of each site's entry points.

``newsites check`` and ``scrapy check`` both run ``check_sites``:

1. Every site file is loaded on its own (unknown keys, wrong types, bad regular
   expressions and selectors are errors naming the file and key), so one broken
   file does not hide the others; duplicate ids are errors too. A file that loads
   may still get warnings (an empty ``[articles] allow``).
2. With a fetch mode (``--live``, or ``FIXTURES_MODE=replay`` for the saved
   fixtures), the valid sites are crawled by ``SiteCheckSpider``: the newsites
   spider with each site's articles capped at ``CHECK_SAMPLE_ARTICLES``. It reports
   per site the entry points that answered, the article URLs found, a sample
   extraction, and the site's selectors that matched nothing on the pages fetched.

A site is broken (exit status 1) when its file is invalid or, when fetched, when no
entry point answered or no article was extracted.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.settings import Settings

from crawler.discovery import Link
from crawler.items import Article
from crawler.sites import (
    PACKAGE_SITES_DIR,
    SiteConfig,
    SiteConfigError,
    load_site_file,
    select,
)
from crawler.spiders.newsites import NewsitesSpider

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2

EMPTY_ALLOW = (
    "[articles] allow is empty: every same-site URL is taken for an article "
    "(sections, tags and author pages are fetched and extracted); list the "
    "article URL patterns"
)


@dataclass
class SiteReport:
    """What the check found about one site file."""

    path: str
    site: SiteConfig | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fetched: bool = False  # crawled (live or fixtures)
    entries_requested: int = 0
    entries_answered: int = 0
    articles_found: int = 0
    articles_extracted: int = 0
    sample: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.site.id if self.site else Path(self.path).stem

    @property
    def broken(self) -> bool:
        return bool(self.errors)


# --- which files ------------------------------------------------------------------


def site_files(settings: Settings, names: list[str]) -> list[Path]:
    """The site files to check: ``names`` are site ids (in SITES_DIR), ``.toml``
    files or folders; none: every file in SITES_DIR. Raises SiteConfigError for a
    name that is none of these."""
    folder = Path(settings.get("SITES_DIR") or PACKAGE_SITES_DIR)
    if not names:
        if not folder.is_dir():
            raise SiteConfigError(folder, "", "sites folder does not exist")
        return sorted(folder.glob("*.toml"))
    files: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            files += sorted(path.glob("*.toml"))
        elif path.suffix == ".toml" and path.is_file():
            files.append(path)
        elif (folder / f"{name}.toml").is_file():
            files.append(folder / f"{name}.toml")
        else:
            raise SiteConfigError(
                name, "", f"no such site id in {folder}, site file or folder"
            )
    return files


# --- static validation ------------------------------------------------------------


def validate(files: list[Path]) -> list[SiteReport]:
    """Load each file on its own; errors and static warnings per file."""
    reports: list[SiteReport] = []
    owners: dict[str, str] = {}
    for path in files:
        report = SiteReport(str(path))
        reports.append(report)
        try:
            report.site = load_site_file(path)
        except SiteConfigError as exc:
            report.errors.append(str(exc))
            continue
        if report.site.id in owners:
            report.errors.append(
                f"{path}: id: duplicate site id {report.site.id!r} "
                f"(also in {owners[report.site.id]})"
            )
        owners.setdefault(report.site.id, str(path))
        if not report.site.articles.allow:
            report.warnings.append(EMPTY_ALLOW)
    if not files:
        reports.append(SiteReport("(no site files)", errors=["no site files found"]))
    return reports


# --- the fetching check -----------------------------------------------------------


def site_selectors(site: SiteConfig) -> dict[str, str]:
    """The site's article-page selectors by key (``extraction.title``...)."""
    e = site.extraction
    found = {
        f"extraction.{key}": getattr(e, key)
        for key in ("title", "date", "authors", "description", "body")
        if getattr(e, key)
    }
    for i, selector in enumerate(e.prune):
        found[f"extraction.prune[{i}]"] = selector
    if e.comments is not None:
        found["extraction.comments.item"] = e.comments.item
    return found


class SiteCheckSpider(NewsitesSpider):
    """The newsites spider, each site capped at a few articles, noting what the
    check reports: article URLs found per site, pages each selector matched."""

    name = "newsites-check"

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, *args: Any, **kwargs: Any
    ) -> SiteCheckSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, SiteCheckSpider)
        sample = max(1, crawler.settings.getint("CHECK_SAMPLE_ARTICLES"))
        spider.sites = {
            site_id: _capped(site, sample) for site_id, site in spider.sites.items()
        }
        return spider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.found: defaultdict[str, set[str]] = defaultdict(set)
        self.pages_checked: Counter[str] = Counter()  # article pages, per site
        self.matched: Counter[tuple[str, str]] = Counter()  # (site, key) -> pages
        self.next_page_pages: Counter[str] = Counter()
        self.next_page_matched: Counter[str] = Counter()

    def _article(
        self, link: Link, site: SiteConfig, source: str
    ) -> tuple[Request | None, str]:
        request, age = super()._article(link, site, source)
        if age:  # an article URL of the site (fresh, old or undated)
            self.found[site.id].add(link.url)
        return request, age

    async def parse_article(
        self, response: Response, site_id: str
    ) -> AsyncIterator[Article]:
        if isinstance(response, TextResponse):
            self.pages_checked[site_id] += 1
            for key, selector in site_selectors(self._site(site_id)).items():
                if select(response.selector, selector):
                    self.matched[site_id, key] += 1
        async for article in super().parse_article(response, site_id):
            yield article

    def parse_section(
        self, response: Response, site_id: str, page: int, section: str
    ) -> Iterator[Request]:
        selector = self._site(site_id).discovery.next_page
        if selector and isinstance(response, TextResponse):
            self.next_page_pages[site_id] += 1
            if select(response.selector, selector):
                self.next_page_matched[site_id] += 1
        yield from super().parse_section(response, site_id, page, section)


def _capped(site: SiteConfig, sample: int) -> SiteConfig:
    cap = min(site.crawl.max_articles or sample, sample)
    return dataclasses.replace(
        site, crawl=dataclasses.replace(site.crawl, max_articles=cap)
    )


def fetch_check(settings: Settings, reports: list[SiteReport]) -> None:
    """Crawl the valid sites of ``reports`` (in this process) and fill in what the
    crawl found; a crawl that cannot start is an error of every site."""
    from scrapy.crawler import CrawlerProcess

    valid = [r for r in reports if r.site is not None and not r.errors]
    if not valid:
        return
    ids = ",".join(r.name for r in valid)
    with tempfile.TemporaryDirectory(prefix="newsites-check-") as folder:
        output = Path(folder) / "sample.jsonl"
        # the crawl loads every file of SITES_DIR: give it the valid ones only
        sites_dir = Path(folder) / "sites"
        sites_dir.mkdir()
        for report in valid:
            shutil.copyfile(report.path, sites_dir / f"{report.name}.toml")
        settings = settings.copy()
        settings.set("FEEDS", {str(output): {"format": "jsonlines"}}, "cmdline")
        settings.set("SITES_DIR", str(sites_dir), "cmdline")
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(SiteCheckSpider)
        failures: list[Any] = []
        process.crawl(crawler, sites=ids).addErrback(failures.append)
        process.start()
        items = _read_items(output)
    if failures:
        for report in valid:
            report.errors.append(f"the crawl could not start: {failures[0].value}")
        return
    assert isinstance(crawler.spider, SiteCheckSpider)
    stats = crawler.stats.get_stats() if crawler.stats else {}
    for report in valid:
        _fill(report, crawler.spider, stats, items)


def _read_items(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _fill(
    report: SiteReport,
    spider: SiteCheckSpider,
    stats: dict[str, Any],
    items: list[dict[str, Any]],
) -> None:
    site = report.site
    assert site is not None
    report.fetched = True
    assert spider.frontier is not None
    report.entries_requested = spider.frontier.scheduled(site.id, "entry")
    report.entries_answered = int(stats.get(f"health/{site.id}/entry_ok", 0))
    report.articles_found = len(spider.found[site.id])
    own = [item for item in items if item.get("site") == site.id]
    report.articles_extracted = len(own)
    if own:
        report.sample = own[0]
    if not report.entries_answered:
        report.errors.append(
            f"no entry point answered ({report.entries_requested} requested)"
        )
    elif not report.articles_found:
        report.errors.append("no article URL found on the entry points")
    elif not own:
        report.errors.append(
            f"none of the {spider.pages_checked[site.id]} article page(s) fetched "
            "gave an article"
        )
    pages = spider.pages_checked[site.id]
    for key, selector in site_selectors(site).items():
        if pages and not spider.matched[site.id, key]:
            report.warnings.append(
                f"{key} = {selector!r} matched nothing on {pages} article page(s)"
            )
    if spider.next_page_pages[site.id] and not spider.next_page_matched[site.id]:
        report.warnings.append(
            f"discovery.next_page = {site.discovery.next_page!r} matched nothing on "
            f"{spider.next_page_pages[site.id]} section page(s)"
        )


# --- the report -------------------------------------------------------------------


def check_sites(settings: Settings, names: list[str], fetch: bool) -> list[SiteReport]:
    """Validate the named site files and, with ``fetch``, crawl them."""
    reports = validate(site_files(settings, names))
    if fetch:
        fetch_check(settings, reports)
    return reports


def report_lines(reports: list[SiteReport]) -> Iterator[str]:
    """The check's output: one block per site, then a one-line verdict."""
    for report in reports:
        verdict = "BROKEN" if report.broken else "ok"
        yield f"{report.name} ({report.path}): {verdict}"
        if report.fetched:
            yield (
                f"  entry points: {report.entries_answered} of "
                f"{report.entries_requested} answered; article URLs found: "
                f"{report.articles_found}; extracted: {report.articles_extracted}"
            )
        if report.sample:
            yield "  sample: " + _sample_line(report.sample)
        for error in report.errors:
            yield f"  error: {error}"
        for warning in report.warnings:
            yield f"  warning: {warning}"
    broken = sum(r.broken for r in reports)
    warned = sum(bool(r.warnings) for r in reports)
    yield (
        f"{len(reports)} site file(s) checked: {broken} broken, {warned} with warnings"
    )


def _sample_line(item: dict[str, Any]) -> str:
    text = " ".join(str(item.get("text") or "").split())
    return (
        f"{item.get('title')!r} ({item.get('date') or 'no date'}, "
        f"{item.get('word_count', len(text.split()))} words) {item.get('url')}\n"
        f"    {text[:160]}{'...' if len(text) > 160 else ''}"
    )


def exit_status(reports: list[SiteReport]) -> int:
    return EXIT_BROKEN if any(r.broken for r in reports) else EXIT_OK
