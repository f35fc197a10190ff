"""The ``newsites`` console script: one subcommand per module of ``crawler.cli``.

Each subcommand module has ``register(subparsers)`` that adds its parser and sets
``func`` (args -> exit status).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import Settings

# Modules providing subcommands, in help order.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "crawler.cli.run",
    "crawler.cli.merge",
    "crawler.cli.cluster",
    "crawler.cli.extract",
    "crawler.cli.check",
)


def pairs(
    values: list[str], what: str, error: type[ValueError] = ValueError
) -> dict[str, str]:
    """``NAME=VALUE`` options (``-s``, ``-a``) as a dict; ``error`` if one is not."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise error(f"{what} must be NAME=VALUE, not {value!r}")
        found[name] = rest
    return found


def project_settings(
    set_options: list[str], error: type[ValueError] = ValueError
) -> Settings:
    """Project settings (scrapy.cfg nearby, else crawler.settings) with the ``-s``
    options at command-line priority, as ``scrapy`` itself would have them."""
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    settings.setdict(pairs(set_options, "-s", error), priority="cmdline")
    return settings


def version_line() -> str:
    """``newsites X (Scrapy Y, trafilatura Z, Python V)``: what a bug report needs."""
    found = []
    for name in ("newsites", "scrapy", "trafilatura"):
        try:
            found.append(metadata.version(name))
        except metadata.PackageNotFoundError:
            found.append("not installed")
    python = ".".join(map(str, sys.version_info[:3]))
    return (
        f"newsites {found[0]} (Scrapy {found[1]}, trafilatura {found[2]}, "
        f"Python {python})"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsites", description="Crawl news sites into clean article records."
    )
    parser.add_argument("--version", action="version", version=version_line())
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
