"""``newsites merge``: join the JSONL files of a run's workers into one, by article id.

Each cluster worker appends to its own file (``-o out/worker-N.jsonl``). The merge keeps
only valid records (a complete line holding a JSON object with a 16-hex ``id``, a
``url``, a ``title`` and a ``text``, as ``ValidatePipeline`` requires) and one record
per id: the highest ``version``, then the latest ``fetched_at``, then the first seen.
Records keep the order in which their ids first appear. The output is written to a
temporary file and renamed, so a reader never sees half of it; an existing output
holding articles that none of the inputs has is not replaced without ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ID = re.compile(r"[0-9a-f]{16}")


@dataclass
class MergeReport:
    """What a merge read and wrote; ``invalid`` counts dropped lines by reason."""

    files: int = 0
    lines: int = 0
    written: int = 0
    duplicates: int = 0
    invalid: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.invalid.items()))
        return (
            f"{self.files} files, {self.lines} lines: {self.written} articles written, "
            f"{self.duplicates} duplicates dropped, {sum(self.invalid.values())} "
            f"invalid lines dropped" + (f" ({reasons})" if reasons else "")
        )


def invalid_reason(record: Any) -> str | None:
    """Why a parsed line is not a valid article record (None when it is)."""
    if not isinstance(record, dict):
        return "not_an_object"
    if not isinstance(record.get("id"), str) or not _ID.fullmatch(record["id"]):
        return "no_id"
    for name in ("url", "title", "text"):
        if not isinstance(record.get(name), str) or not record[name].strip():
            return f"no_{name}"
    return None


class MergeInputError(ValueError):
    """An input that is not JSON lines at all (binary data, CSV, HTML...)."""


def read_records(path: Path, report: MergeReport) -> list[dict[str, Any]]:
    """Valid records of one JSONL file; a last line without newline is incomplete.

    A file none of whose lines is JSON (and not a first line cut by a killed
    worker) is a ``MergeInputError``: a wrong file, not a worker's output."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    before = report.invalid["bad_json"]
    records = list(_parse_lines(lines, report))
    complete = [raw for raw in lines if raw.strip()]
    if (complete and report.invalid["bad_json"] - before == len(complete)) or (
        not complete and tail.strip() and not tail.lstrip().startswith(b"{")
    ):
        raise MergeInputError(f"{path} is not JSON lines (no line is a JSON value)")
    if tail.strip():
        report.lines += 1
        report.invalid["incomplete_line"] += 1
    return records


def _parse_lines(lines: list[bytes], report: MergeReport) -> Iterator[dict[str, Any]]:
    for raw in lines:
        if not raw.strip():
            continue
        report.lines += 1
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            report.invalid["bad_json"] += 1
            continue
        reason = invalid_reason(record)
        if reason is not None:
            report.invalid[reason] += 1
            continue
        yield record


def _rank(record: dict[str, Any]) -> tuple[int, str]:
    version = record.get("version")
    return (
        version if isinstance(version, int) else 1,
        str(record.get("fetched_at") or ""),
    )


def collect(inputs: Iterable[Path], report: MergeReport) -> dict[str, dict[str, Any]]:
    """The best valid record of every article id in ``inputs``, in first-seen order."""
    best: dict[str, dict[str, Any]] = {}
    for path in inputs:
        report.files += 1
        for record in read_records(path, report):
            kept = best.get(record["id"])
            if kept is None:
                best[record["id"]] = record
                continue
            report.duplicates += 1
            if _rank(record) > _rank(kept):
                best[record["id"]] = record
    return best


def write_atomically(output: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write ``records`` to a temporary file of its own beside ``output``, then
    rename it: readers never see half a file, and two merges at once never share a
    temporary file (the last rename wins, each a whole merge)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        dir=output.parent, prefix=f".{output.name}.", suffix=".part"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(name, output)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


class MergeShrinkError(ValueError):
    """The merge would replace an output holding articles the inputs do not have."""


def ids_in(path: Path) -> set[str]:
    """Article ids of the valid records of an existing output (empty if none)."""
    if not path.is_file():
        return set()
    return {record["id"] for record in read_records(path, MergeReport())}


def merge(inputs: Iterable[Path], output: Path, force: bool = False) -> MergeReport:
    """Merge ``inputs`` into ``output`` (replaced atomically); returns the report.

    An existing ``output`` holding an article none of the inputs has is never
    replaced (``MergeShrinkError``) unless ``force``: a rerun whose worker files
    were emptied must not wipe the merged result of an earlier, complete merge."""
    report = MergeReport()
    best = collect(inputs, report)
    if not force:
        lost = ids_in(output) - best.keys()
        if lost:
            raise MergeShrinkError(
                f"{output} holds {len(lost)} article(s) that none of the inputs has; "
                "nothing written (merge it as an input under another name to keep "
                "them, or pass --force to replace it)"
            )
    write_atomically(output, best.values())
    report.written = len(best)
    return report


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    inputs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        print(f"newsites merge: not a file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if any(p.resolve() == output.resolve() for p in inputs):
        print(
            f"newsites merge: the output {output} is also an input; write it elsewhere",
            file=sys.stderr,
        )
        return 2
    try:
        report = merge(inputs, output, force=args.force)
    except MergeInputError as exc:
        print(f"newsites merge: {exc}; nothing written", file=sys.stderr)
        return 2
    except MergeShrinkError as exc:
        print(f"newsites merge: {exc}", file=sys.stderr)
        return 1
    print(f"{output}: {report.summary()}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="merge the JSONL files of a run's workers into one, deduplicated by id",
        description=(__doc__ or "").split("\n\n", 1)[1],
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="JSONL files to merge, e.g. out/worker-*.jsonl",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="the merged JSONL file (replaced)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the output even if it holds articles the inputs do not have",
    )
    parser.set_defaults(func=run)
