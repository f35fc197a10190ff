"""Extraction benchmark: our ``extract_page`` beside plain trafilatura, same pages.

Reads a folder in the extraction dev set's format (``html/<id>.html.gz``,
``ground-truth.json``, ``score.py``), runs both extractors on every page (each page's
two extractions back to back in the same worker process, so machine load hits both
alike), writes ``ours.json`` and ``trafilatura.json`` predictions and scores them with
the dev set's own ``score.py`` (imported by path: the metric is the dev set's).

    .venv/bin/python bench/extraction.py [--devset DIR] [--out DIR] [--workers 2]
        [--worst 15] [--only ID ...]

Prints, for each extractor, F1 / precision / recall (means as score.py defines them)
with their bootstrap std, median and p95 milliseconds per page (CPU time of the worker
process, so that other jobs on the machine do not skew the comparison), then the paired
difference (ours minus trafilatura, paired bootstrap as ``score.py --against``) and the
pages where we lose most against trafilatura.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_DEVSET = Path("/work/shared/extraction-devset")
DEFAULT_OUT = Path("out/bench-extraction")


def load_scorer(devset: Path) -> ModuleType:
    """The dev set's ``score.py`` as a module, so the metric is exactly its own."""
    path = devset / "score.py"
    if not path.exists():
        raise SystemExit(f"{path} not found: --devset must hold score.py")
    spec = importlib.util.spec_from_file_location("devset_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["devset_score"] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def _warm_up() -> None:
    """Import and exercise both extractors once so the first page's time is fair."""
    import trafilatura

    from crawler.extraction import ExtractionError, extract_page

    html = (
        "<html><body><article><p>"
        + "Warm up sentence here. " * 30
        + "</p></article></body></html>"
    )
    trafilatura.extract(html, url="https://example.org/a")
    try:
        extract_page(html.encode(), "https://example.org/a", None)
    except ExtractionError:
        pass


def run_page(args: tuple[str, str, str]) -> dict[str, Any]:
    """Both extractions of one page: texts, times in ms, our failure reason if any."""
    import trafilatura

    from crawler.extraction import ExtractionError, extract_page

    page_id, path, url = args
    raw = gzip.decompress(Path(path).read_bytes())
    started = time.process_time()
    reason = None
    try:
        ours = extract_page(raw, url, None).text
    except ExtractionError as exc:
        ours, reason = "", exc.reason
    ours_ms = (time.process_time() - started) * 1000
    # Both get the page as fetched (bytes): each decodes it as part of its work.
    started = time.process_time()
    plain = trafilatura.extract(raw, url=url) or ""
    plain_ms = (time.process_time() - started) * 1000
    return {
        "id": page_id,
        "ours": ours,
        "ours_ms": ours_ms,
        "reason": reason,
        "trafilatura": plain,
        "trafilatura_ms": plain_ms,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for ours.json, trafilatura.json, pages.json",
    )
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--worst",
        type=int,
        default=15,
        help="list the N pages where ours loses most to trafilatura",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="page id prefixes to run (scores then cover only these)",
    )
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    args = parser.parse_args(argv)

    score = load_scorer(args.devset)
    truth: dict[str, dict[str, Any]] = score.load_truth(
        args.devset / "ground-truth.json"
    )
    ids = list(truth)
    if args.only:
        ids = [i for i in ids if any(i.startswith(p) for p in args.only)]
        if not ids:
            raise SystemExit(f"no page id starts with {args.only}")
    jobs = []
    for page_id in ids:
        path = args.devset / "html" / f"{page_id}.html.gz"
        if not path.exists():
            raise SystemExit(f"{path} missing")
        jobs.append((page_id, str(path), truth[page_id].get("url", "")))

    started = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, initializer=_warm_up) as pool:
            results = list(pool.map(run_page, jobs, chunksize=2))
    else:
        _warm_up()
        results = [run_page(job) for job in jobs]
    wall = time.perf_counter() - started

    args.out.mkdir(parents=True, exist_ok=True)
    preds: dict[str, dict[str, dict[str, str]]] = {"ours": {}, "trafilatura": {}}
    for r in results:
        for name in preds:
            preds[name][r["id"]] = {"articleBody": r[name]}
    for name, pred in preds.items():
        (args.out / f"{name}.json").write_text(
            json.dumps(pred, ensure_ascii=False, indent=0), encoding="utf-8"
        )

    sub_truth = {i: truth[i] for i in ids}
    scores = {
        name: score.page_scores(sub_truth, pred, ids) for name, pred in preds.items()
    }
    print(
        f"{len(ids)} pages from {args.devset}, {args.workers} workers, "
        f"{wall:.1f} s wall\n"
    )
    print(
        f"{'':<12} {'F1':<15} {'precision':<15} {'recall':<15} "
        f"{'median ms':>9} {'p95 ms':>8}"
    )
    times = {name: [r[f"{name}_ms"] for r in results] for name in preds}
    for name in preds:
        m = score.with_bootstrap(list(scores[name].values()), args.n_bootstrap)
        print(
            f"{name:<12} {m['f1']:.4f} ± {m['f1_std']:.3f}  "
            f"{m['precision']:.4f} ± {m['precision_std']:.3f}  "
            f"{m['recall']:.4f} ± {m['recall_std']:.3f}  "
            f"{statistics.median(times[name]):9.1f} "
            f"{percentile(times[name], 0.95):8.1f}"
        )
    d = score.paired_difference(
        list(scores["ours"].values()),
        list(scores["trafilatura"].values()),
        args.n_bootstrap,
    )
    print(
        "\nours minus trafilatura (paired bootstrap): "
        + "  ".join(f"{k} {v:+.4f} ± {e:.4f}" for k, (v, e) in d.items())
    )
    med = statistics.median(times["ours"]) / max(
        statistics.median(times["trafilatura"]), 1e-9
    )
    p95 = percentile(times["ours"], 0.95) / max(
        percentile(times["trafilatura"], 0.95), 1e-9
    )
    print(f"time ratio ours/trafilatura: median {med:.2f}x  p95 {p95:.2f}x")
    failures = [r for r in results if r["reason"]]
    if failures:
        print(
            f"ours raised ExtractionError on {len(failures)} pages: "
            + ", ".join(f"{r['id'][:12]} ({r['reason']})" for r in failures)
        )

    delta = sorted(
        ids, key=lambda i: scores["ours"][i].f1 - scores["trafilatura"][i].f1
    )
    if args.worst:
        print(
            "\npages where ours loses most "
            "(F1 ours, trafilatura, delta; P/R ours; id, domain):"
        )
        for page_id in delta[: args.worst]:
            a, b = scores["ours"][page_id], scores["trafilatura"][page_id]
            if a.f1 - b.f1 >= 0:
                break
            print(
                f"  {a.f1:.3f} {b.f1:.3f} {a.f1 - b.f1:+.3f}  P {a.precision:.3f} "
                f"R {a.recall:.3f}  {page_id[:12]}  "
                f"{score.domain(sub_truth[page_id].get('url', ''))}"
            )
        print("ours' lowest F1 pages (F1, P, R, id, domain):")
        for page_id, s in sorted(scores["ours"].items(), key=lambda kv: kv[1].f1)[
            : args.worst
        ]:
            print(
                f"  {s.f1:.3f} {s.precision:.3f} {s.recall:.3f}  {page_id[:12]}  "
                f"{score.domain(sub_truth[page_id].get('url', ''))}"
            )
    pages = {
        i: {
            name: {
                "f1": scores[name][i].f1,
                "precision": scores[name][i].precision,
                "recall": scores[name][i].recall,
            }
            for name in preds
        }
        for i in ids
    }
    (args.out / "pages.json").write_text(json.dumps(pages, indent=1), encoding="utf-8")
    print(
        f"\npredictions in {args.out}/ (score.py {args.out}/ours.json "
        f"--against {args.out}/trafilatura.json)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
