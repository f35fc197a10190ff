"""``scrapy check``: the site check of ``crawler.cli.sitecheck``, not contracts.

The spider has no contracts, so Scrapy's own ``check`` ran nothing and said OK, even
for a folder holding a broken site file. This one validates the site files and, with
``--live`` (or ``-s FIXTURES_MODE=replay``, or ``--fixtures``), crawls their entry
points, exactly as ``newsites check`` does; exit status 1 when a site is broken.
"""

from __future__ import annotations

import argparse

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.cli.sitecheck import check_sites, exit_status, report_lines
from crawler.sites import SiteConfigError
from crawler.spiders.newsites import NewsitesSpider


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # the fetching check makes its own

    def syntax(self) -> str:
        return "[options] [site id | site file | folder ...]"

    def short_desc(self) -> str:
        return "Check site files; with --live, crawl their entry points"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--live", action="store_true", help="fetch each site's entry points"
        )
        parser.add_argument(
            "--fixtures",
            action="store_true",
            help="fetch from the saved fixtures (FIXTURES_MODE=replay)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        # the report is the output: over settings.py's INFO, under -s LOG_LEVEL=
        self.settings.set("LOG_LEVEL", "WARNING", priority="project")
        if opts.fixtures:
            self.settings.set("FIXTURES_MODE", "replay", priority="cmdline")
        replay = (self.settings.get("FIXTURES_MODE") or "").strip().lower()
        # `scrapy check newsites` names the spider, as Scrapy's check takes: all sites
        names = [name for name in args if name != NewsitesSpider.name]
        try:
            reports = check_sites(
                self.settings, names, fetch=opts.live or replay == "replay"
            )
        except SiteConfigError as exc:
            raise UsageError(str(exc), print_help=False) from exc
        for line in report_lines(reports):
            print(line)
        self.exitcode = exit_status(reports)
