"""The ``newsites`` console script: one subcommand per module under ``crawler.cli_*``.

Each subcommand module has ``register(subparsers)`` that adds its parser and sets
``func`` (args -> exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules providing subcommands, in help order.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "crawler.cli_run",
    "crawler.cli_merge",
    "crawler.cluster.cli",
    "crawler.cli_extract",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsites", description="Crawl news sites into clean article records."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
