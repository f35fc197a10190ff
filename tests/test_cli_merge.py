"""``newsites merge`` (crawler/cli/merge.py): one file per run, one record per id."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.cli.merge import merge


def record(aid: str, title: str = "T", **extra: Any) -> dict[str, Any]:
    return {
        "id": aid,
        "url": f"http://news.test/{aid}",
        "title": title,
        "text": "Body.",
        "fetched_at": "2024-05-02T10:00:00+00:00",
        **extra,
    }


def write(path: Path, *lines: Any, tail: str = "") -> Path:
    body = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_text(body + tail, encoding="utf-8")
    return path


A, B, C = "a" * 16, "b" * 16, "c" * 16


def test_records_are_merged_once_per_id_keeping_valid_lines(tmp_path: Path) -> None:
    w0 = write(
        tmp_path / "worker-0.jsonl",
        record(A, "first"),
        record(B),
        "{not json",
        {"id": "short", "url": "u", "title": "t", "text": "x"},
        record(C, title=""),
    )
    w1 = write(
        tmp_path / "worker-1.jsonl",
        record(A, "again"),
        record(C),
        tail='{"id": "' + "d" * 16 + '", "url": "cut',
    )  # killed mid-line
    out = tmp_path / "merged" / "articles.jsonl"
    report = merge([w0, w1], out)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [A, B, C], "one record per id, in first-seen order"
    assert json.loads(out.read_text().splitlines()[0])["title"] == "first"
    assert report.duplicates == 1 and report.written == 3 and report.files == 2
    assert dict(report.invalid) == {
        "bad_json": 1,
        "no_id": 1,
        "no_title": 1,
        "incomplete_line": 1,
    }, report.invalid
    assert report.lines == 8


def test_a_newer_version_or_later_fetch_wins(tmp_path: Path) -> None:
    w0 = write(
        tmp_path / "w0.jsonl",
        record(A, "v1", version=1),
        record(B, "early", fetched_at="2024-05-02T09:00:00+00:00"),
    )
    w1 = write(
        tmp_path / "w1.jsonl",
        record(A, "v2", version=2),
        record(B, "late", fetched_at="2024-05-02T11:00:00+00:00"),
    )
    out = tmp_path / "all.jsonl"
    merge([w0, w1], out)
    titles = [json.loads(line)["title"] for line in out.read_text().splitlines()]
    assert titles == ["v2", "late"]


def test_the_command_reports_and_refuses_to_overwrite_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w0 = write(tmp_path / "w0.jsonl", record(A))
    w1 = write(tmp_path / "w1.jsonl", record(A), record(B))
    out = tmp_path / "all.jsonl"
    assert main(["merge", str(w0), str(w1), "-o", str(out)]) == 0
    assert "2 articles written, 1 duplicates dropped" in capsys.readouterr().out
    assert main(["merge", str(w0), str(w1), "-o", str(w0)]) == 2
    assert "is also an input" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "nope.jsonl"), "-o", str(out)]) == 2
    assert "not a file" in capsys.readouterr().err
    assert len(w0.read_text().splitlines()) == 1, "an input was changed"


NEWSITES = Path(sys.executable).with_name("newsites")

NOT_JSON_LINES = {
    # case id: bytes of an input that is not a worker's JSONL output
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01",
    "binary": bytes(range(256)) * 4,
    "csv": b"id,url,title\n" + A.encode() + b",http://news.test/a,T\n",
}


@pytest.mark.parametrize("case", sorted(NOT_JSON_LINES))
def test_an_input_that_is_not_json_lines_fails_and_writes_nothing(
    tmp_path: Path, case: str
) -> None:
    good = write(tmp_path / "w0.jsonl", record(A))
    bad = tmp_path / f"w1.{case}"
    bad.write_bytes(NOT_JSON_LINES[case])
    out = tmp_path / "all.jsonl"
    result = subprocess.run(
        [str(NEWSITES), "merge", str(good), str(bad), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"newsites merge: {bad} is not JSON lines (no line is a JSON value); "
        "nothing written"
    ]
    assert not out.exists() and not list(tmp_path.glob("all.jsonl*")), (
        "a failed merge wrote an output"
    )


def test_a_worker_killed_in_its_first_line_is_merged(tmp_path: Path) -> None:
    good = write(tmp_path / "w0.jsonl", record(A))
    cut = write(tmp_path / "w1.jsonl", tail='{"id": "' + B + '", "url": "ht')
    empty = write(tmp_path / "w2.jsonl")
    report = merge([good, cut, empty], tmp_path / "all.jsonl")
    assert report.written == 1 and report.invalid["incomplete_line"] == 1


def test_a_merge_never_shrinks_an_existing_output_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rerun whose worker files were emptied must not wipe an earlier merge."""
    w0 = write(tmp_path / "w0.jsonl", record(A), record(B))
    out = tmp_path / "all.jsonl"
    assert main(["merge", str(w0), "-o", str(out)]) == 0
    emptied = write(tmp_path / "w0.jsonl")
    assert main(["merge", str(emptied), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "holds 2 article(s) that none of the inputs has; nothing written" in err
    assert len(out.read_text().splitlines()) == 2, "the merged output was replaced"
    grown = write(tmp_path / "w0.jsonl", record(A), record(B), record(C))
    assert main(["merge", str(grown), "-o", str(out)]) == 0, "a superset is fine"
    assert len(out.read_text().splitlines()) == 3
    assert (
        main(
            [
                "merge",
                str(emptied := write(tmp_path / "w0.jsonl", record(A))),
                "-o",
                str(out),
                "--force",
            ]
        )
        == 0
    )
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [A]
    assert emptied.exists() and not list(tmp_path.glob(".all.jsonl.*")), "temp left"


def test_two_merges_into_one_file_at_once_both_succeed(tmp_path: Path) -> None:
    inputs = [
        write(tmp_path / f"w{n}.jsonl", *(record(f"{n:x}{k:015x}") for k in range(300)))
        for n in range(4)
    ]
    out = tmp_path / "all.jsonl"
    for _ in range(3):
        procs = [
            subprocess.Popen(
                [str(NEWSITES), "merge", *map(str, inputs), "-o", str(out)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        assert len(out.read_text().splitlines()) == 1200
    assert not list(tmp_path.glob(".all.jsonl.*")), "a temporary file was left"
