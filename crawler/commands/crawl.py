"""``scrapy crawl`` that checks every input of a ``newsites`` crawl before it starts.

Spider arguments, settings, site files, URL lists and cluster settings
(crawler/config_check.py) are checked once the options are read and before Scrapy
sets up logging or builds the crawler: a problem is one line on stderr (no banner,
usage or traceback) and exit status 2, before any request. Scrapy's own option errors
(``-s FOO``, an unknown ``-o`` format) are shown the same way. With the seen store
on, a store in use by another run (75) or unusable (6) is one line too, with
``newsites run``'s exit status.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.config_check import ConfigError, check_crawl
from crawler.extensions.seen_marker import store_refusal


def refuse(message: str) -> NoReturn:
    """One line and exit 2: Scrapy's UsageError would print its usage text too."""
    print(f"scrapy crawl: error: {message}", file=sys.stderr)
    raise SystemExit(2)


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            super().process_options(args, opts)
        except UsageError as exc:
            refuse(str(exc))
        if args and args[0] == "newsites":
            assert self.settings is not None
            try:
                check_crawl(self.settings, opts.spargs)
            except ConfigError as exc:
                refuse(str(exc))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == "newsites":
            assert self.settings is not None
            if refusal := store_refusal(self.settings):
                self.exitcode, message = refusal
                print(f"scrapy crawl: {message}", file=sys.stderr)
                return
        super().run(args, opts)
