"""Plain-text output: NNN_<id>.txt files (title, date, body) and their index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.items import Article
from crawler.output.text import TextFilesExporter, article_text, next_number
from tests.support.server import SiteServer
from tests.test_cron import (  # netguard: autouse here too
    NewsSite,
    netguard,  # noqa: F401
    newsites_run,
    outputs,
    records,
    site_file,
)


def item(
    aid: str,
    title: str = "Ferries return",
    date: str | None = "2024-05-02",
    text: str = "First paragraph.\n\nSecond paragraph.",
) -> Article:
    return Article(
        id=aid,
        url=f"http://news.test/{aid}",
        site="harbour",
        title=title,
        date=date,
        text=text,
    )


def test_article_text_is_title_blank_date_blank_body() -> None:
    assert article_text(item("a" * 16)) == (
        "Ferries return\n\n2024-05-02\n\nFirst paragraph.\n\nSecond paragraph.\n"
    )
    # No date: the date line stays, empty, so the body always starts on line 5.
    assert article_text(item("a" * 16, date=None)).splitlines()[2:4] == ["", ""]
    assert article_text(item("a" * 16, title="Two\nlines")).startswith("Two lines\n\n")


def test_numbers_continue_after_the_highest_in_the_folder(tmp_path: Path) -> None:
    assert next_number(tmp_path) == 0
    (tmp_path / "000_aaaaaaaaaaaaaaaa.txt").write_text("x")
    (tmp_path / "007_bbbbbbbbbbbbbbbb.txt").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert next_number(tmp_path) == 8


def test_exporter_writes_one_file_per_article_and_an_index(tmp_path: Path) -> None:
    (tmp_path / "000_0000000000000000.txt").write_text("from an earlier run\n")
    with (tmp_path / "index.tsv").open("ab") as index:
        exporter = TextFilesExporter(index)
        exporter.start_exporting()
        for aid in ("1" * 16, "2" * 16):
            exporter.export_item(item(aid, title=f"Story {aid[0]}"))
        exporter.finish_exporting()
    files = sorted(p.name for p in tmp_path.glob("*.txt"))
    assert files == [
        "000_0000000000000000.txt",
        f"001_{'1' * 16}.txt",
        f"002_{'2' * 16}.txt",
    ]
    assert (tmp_path / f"002_{'2' * 16}.txt").read_text().startswith("Story 2\n\n")
    index_text = (tmp_path / "index.tsv").read_text()
    rows = [line.split("\t") for line in index_text.splitlines()]
    assert rows == [
        [f"001_{'1' * 16}.txt", "1" * 16, f"http://news.test/{'1' * 16}", "Story 1"],
        [f"002_{'2' * 16}.txt", "2" * 16, f"http://news.test/{'2' * 16}", "Story 2"],
    ]
    assert not list(tmp_path.glob(".*.tmp")), "temporary files left behind"


def test_exporter_needs_a_local_file() -> None:
    import io

    with pytest.raises(ValueError, match="local"):
        TextFilesExporter(io.BytesIO())


def test_newsites_run_text_writes_the_articles_of_the_jsonl(tmp_path: Path) -> None:
    with SiteServer() as server:
        NewsSite(server, 3)
        sites = site_file(tmp_path / "sites", "harbour", server.url)
        result = newsites_run(tmp_path, sites, "--text")
    assert result.returncode == 0, result.stderr[-3000:]
    [jsonl] = outputs(tmp_path)
    items = {r["id"]: r for r in records(jsonl)}
    folder = jsonl.with_name(jsonl.stem + "-text")
    texts = sorted(folder.glob("*.txt"))
    assert [p.name[:4] for p in texts] == ["000_", "001_", "002_"]
    for path in texts:
        aid = path.stem.split("_", 1)[1]
        record = items[aid]
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[0] == record["title"], f"{path.name}: line 1 is not the title"
        assert lines[1] == "" and lines[3] == ""
        assert lines[2] == record["date"], f"{path.name}: line 3 is not the date"
        assert "\n".join(lines[4:]).strip() == record["text"], f"{path.name}: body"
    index = (folder / "index.tsv").read_text().splitlines()
    assert sorted(row.split("\t")[1] for row in index) == sorted(items)
    stats = json.loads(jsonl.with_suffix(".stats.json").read_text())
    assert stats["seen/marked"] == 3
