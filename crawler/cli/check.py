"""``newsites check``: validate site files and, with ``--live`` or ``--fixtures``,
crawl each site's entry points and report what they give.

    newsites check                       # every site file in SITES_DIR
    newsites check tribune my/site.toml  # site ids, files or folders
    newsites check --live tribune        # also fetch: entry points, articles found,
                                         # a sample extraction, selector warnings
    newsites check --fixtures            # the same against saved fixtures (replay)

Exit status: 0 every site is usable (warnings allowed), 1 a site is broken (invalid
file; when fetched: no entry point answered or no article extracted), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crawler.cli import project_settings
from crawler.cli.sitecheck import (
    EXIT_USAGE,
    check_sites,
    exit_status,
    report_lines,
)
from crawler.sites import SiteConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate site files; with --live, crawl their entry points",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sites", nargs="*", metavar="SITE", help="site id, site file or folder"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--live", action="store_true", help="fetch each site's entry points"
    )
    mode.add_argument(
        "--fixtures",
        action="store_true",
        help="fetch from the saved fixtures (FIXTURES_MODE=replay)",
    )
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting, e.g. -s SITES_DIR=dir or -s CHECK_SAMPLE_ARTICLES=5",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = project_settings(args.set)
    except ValueError as exc:
        print(f"newsites check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.fixtures:
        settings.set("FIXTURES_MODE", "replay", priority="cmdline")
    replay = (settings.get("FIXTURES_MODE") or "").strip().lower() == "replay"
    # quiet: the report is the output; an explicit -s LOG_LEVEL still wins
    settings.set("LOG_LEVEL", "WARNING", priority="project")
    try:
        reports = check_sites(settings, args.sites, fetch=args.live or replay)
    except SiteConfigError as exc:
        print(f"newsites check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in report_lines(reports):
        print(line)
    return exit_status(reports)
