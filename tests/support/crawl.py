"""Run a real ``scrapy crawl newsites`` in a subprocess and read its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CrawlResult:
    returncode: int
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    log: str

    def stat(self, key: str, default: int = 0) -> Any:
        return self.stats.get(key, default)


def run_crawl(
    tmp_path: Path,
    *,
    settings: dict[str, Any] | None = None,
    args: dict[str, str] | None = None,
    output: Path | None = None,
    timeout: float = 240,
    env: dict[str, str] | None = None,
) -> CrawlResult:
    """``scrapy crawl newsites -O output`` with ``-s``/``-a`` options; stats as JSON."""
    output = output or tmp_path / "articles.jsonl"
    stats_file = tmp_path / f"stats-{os.getpid()}-{len(list(tmp_path.iterdir()))}.json"
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "newsites",
        "-O",
        str(output),
        "-s",
        f"STATS_FILE={stats_file}",
        "-s",
        "LOG_LEVEL=INFO",
    ]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in (args or {}).items():
        cmd += ["-a", f"{key}={value}"]
    proc = subprocess.run(
        cmd,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    items = []
    if output.exists():
        for line in output.read_text(encoding="utf-8").splitlines():
            items.append(json.loads(line))
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    return CrawlResult(proc.returncode, items, stats, proc.stdout + proc.stderr)
