"""``scrapy crawl`` that checks site files and arguments before the crawl starts.

A wrong site file, an unknown ``-a sites=`` id, a bad FIXTURES_MODE or bad CLUSTER_*
settings are reported as one line naming the file, key and problem, with exit status
2, before any request.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.cluster.config import ClusterConfig, ClusterConfigError
from crawler.replay import MODES
from crawler.sites import SiteConfigError, load_sites, select_sites
from crawler.urllist import UrlListError, check_url_list


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == "newsites":
            assert self.settings is not None
            mode = (self.settings.get("FIXTURES_MODE") or "").strip().lower()
            if mode not in MODES:
                raise UsageError(
                    f"FIXTURES_MODE must be 'replay', 'record' or empty, not {mode!r}",
                    print_help=False,
                )
            try:
                sites = load_sites(self.settings.get("SITES_DIR") or None)
                select_sites(sites, opts.spargs.get("sites"))
                ClusterConfig.from_settings(self.settings)
                check_url_list(opts.spargs.get("urls"))
            except (SiteConfigError, ClusterConfigError, UrlListError) as exc:
                raise UsageError(str(exc), print_help=False) from exc
        super().run(args, opts)
