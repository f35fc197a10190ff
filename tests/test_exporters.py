"""Feed exporters (crawler/output/exporters.py), through a real crawl of the fixtures.

CSV: every list or dict field is JSON that reads back to what the JSON-lines output
of the same crawl holds, never a Python repr or a comma-joined list.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.crawl import PROJECT_ROOT

STRUCTURED = ("authors", "tags", "images")


def crawl_to(tmp_path: Path, *outputs: str) -> None:
    feeds = [option for name in outputs for option in ("-o", str(tmp_path / name))]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "newsites",
            *feeds,
            "-s",
            "FIXTURES_MODE=replay",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_csv_lists_and_dicts_are_json_that_reads_back(tmp_path: Path) -> None:
    crawl_to(tmp_path, "articles.jsonl", "articles.csv")
    lines = (tmp_path / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    records: dict[str, dict[str, Any]] = {r["id"]: r for r in map(json.loads, lines)}
    with (tmp_path / "articles.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and len(rows) == len(records)
    assert any(records[r]["images"] for r in records), "no fixture has images"
    assert any(records[r]["authors"] for r in records), "no fixture has authors"
    for row in rows:
        record = records[row["id"]]
        for name in STRUCTURED:
            assert json.loads(row[name]) == record[name], (
                f"{row['id']}: CSV {name} {row[name][:80]!r} is not the JSON of "
                f"{record[name]!r}"
            )
        assert row["title"] == record["title"]
        assert row["word_count"] == str(record["word_count"])


def test_jsonl_lines_are_whole_records(tmp_path: Path) -> None:
    crawl_to(tmp_path, "articles.jsonl")
    data = (tmp_path / "articles.jsonl").read_bytes()
    assert data.endswith(b"\n")
    assert all(json.loads(line)["id"] for line in data.splitlines())
