"""``scrapy crawl`` that checks every input of a ``newsites`` crawl before it starts.

Spider arguments, settings, site files and cluster settings (crawler/config_check.py)
are checked once the options are read and before Scrapy sets up logging or builds the
crawler: a problem is one line on stderr (no banner, usage or traceback) and exit
status 2, before any request.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from crawler.config_check import ConfigError, check_crawl


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if args and args[0] == "newsites":
            assert self.settings is not None
            try:
                check_crawl(self.settings, opts.spargs)
            except ConfigError as exc:
                # Scrapy's UsageError would print the usage text around it.
                print(f"scrapy crawl: error: {exc}", file=sys.stderr)
                raise SystemExit(2) from None
