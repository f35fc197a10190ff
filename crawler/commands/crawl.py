"""``scrapy crawl`` that checks every input of a ``newsites`` crawl before it starts.

Spider arguments, settings, site files, URL lists and cluster settings
(crawler/config_check.py) are checked once the options are read and before Scrapy
sets up logging or builds the crawler: a problem is one line on stderr (no banner,
usage or traceback) and exit status 2, before any request. Scrapy's own option errors
(``-s FOO``, an unknown ``-o`` format) are shown the same way. With the seen store
on, a store in use by another run (75) or unusable (6) is one line too, with
``newsites run``'s exit status.

A crawl that ran exits with a status that says how it ended (``CRAWL_EXIT_CODES``,
the same numbers as ``newsites run``): 0 when it ran to its end, 130 interrupted
(SIGINT/SIGTERM), 7 the output could not be written, 6 the seen store failed, 8 its
time limit, and for a cluster worker 69 when its Redis does not answer at start
(one line, before any request) and 9 when the run ended short (Redis lost the
run's data, or requests were given up: ``newsites cluster status`` says
"incomplete"). Scrapy's own ``scrapy crawl`` exits 0 in all of these.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.cli.run import (
    EXIT_CODES,
    EXIT_DEADLINE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_STORE,
    stopped_outcome,
)
from crawler.cluster.config import unreachable as cluster_unreachable
from crawler.config_check import ConfigError, check_crawl
from crawler.store.marker import store_refusal

#: A cluster worker whose run ended short (docs/cluster.md).
EXIT_RUN_INCOMPLETE = 9
#: A cluster worker whose Redis does not answer at start (EX_UNAVAILABLE).
EXIT_REDIS_UNAVAILABLE = 69

#: Exit status of ``scrapy crawl newsites`` -> meaning.
CRAWL_EXIT_CODES: dict[int, str] = {
    EXIT_OK: "the crawl ran to its end",
    1: "Scrapy could not start the crawl (traceback above)",
    2: "an input is wrong (option, setting, site file); nothing crawled",
    EXIT_STORE: EXIT_CODES[EXIT_STORE],
    EXIT_OUTPUT: EXIT_CODES[EXIT_OUTPUT],
    EXIT_DEADLINE: "stopped by its time limit (CLOSESPIDER_TIMEOUT / RUN_MAX_SECONDS)",
    EXIT_RUN_INCOMPLETE: "cluster worker: the run ended short (Redis lost the run's "
    "data, or requests were given up after CLUSTER_MAX_REQUEUES)",
    EXIT_REDIS_UNAVAILABLE: "cluster worker: Redis does not answer at start; "
    "nothing crawled",
    75: "the seen store is in use by another run; nothing crawled",
    EXIT_INTERRUPTED: EXIT_CODES[EXIT_INTERRUPTED],
}


def crawl_exit_code(stats: dict[str, Any]) -> int:
    """The exit status of a crawl that ran, from its final stats."""
    stopped = stopped_outcome(stats)
    if stopped is not None:
        return stopped.code
    if stats.get("finish_reason") == "cluster_run_lost" or stats.get(
        "cluster/incomplete"
    ):
        return EXIT_RUN_INCOMPLETE
    return EXIT_OK


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
            if problem := cluster_unreachable(self.settings):
                self.exitcode = EXIT_REDIS_UNAVAILABLE
                print(f"scrapy crawl: {problem}", file=sys.stderr)
                return
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage errors
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats is not None:
            self.exitcode = crawl_exit_code(crawler.stats.get_stats())
