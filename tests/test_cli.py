"""The ``newsites`` console script (crawler/cli/): subcommands and ``--version``."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

NEWSITES = Path(sys.executable).with_name("newsites")


def test_version_names_newsites_scrapy_trafilatura_and_python() -> None:
    result = subprocess.run(
        [str(NEWSITES), "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    python = ".".join(map(str, sys.version_info[:3]))
    assert result.stdout == (
        f"newsites {metadata.version('newsites')} (Scrapy {metadata.version('scrapy')}"
        f", trafilatura {metadata.version('trafilatura')}, Python {python})\n"
    )


def test_every_subcommand_is_listed_in_the_help() -> None:
    result = subprocess.run(
        [str(NEWSITES), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for command in ("run", "merge", "cluster", "extract"):
        assert command in result.stdout, f"{command} missing from:\n{result.stdout}"
