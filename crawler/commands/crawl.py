"""``scrapy crawl`` that checks site files and arguments before the crawl starts.

A wrong site file, an unknown ``-a sites=`` id, a bad FIXTURES_MODE or bad CLUSTER_*
settings are reported as one line naming the file, key and problem, with exit status
2, before any request. With the seen store on, a store in use by another run (75) or
unusable (6) is one line too, with ``newsites run``'s exit status.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.cluster.config import ClusterConfig, ClusterConfigError
from crawler.extensions.seen_marker import store_refusal
from crawler.replay import MODES
from crawler.sites import SiteConfigError, load_sites, select_sites


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
            except (SiteConfigError, ClusterConfigError) as exc:
                raise UsageError(str(exc), print_help=False) from exc
            if refusal := store_refusal(self.settings):
                self.exitcode, message = refusal
                print(f"scrapy crawl: {message}", file=sys.stderr)
                return
        super().run(args, opts)
