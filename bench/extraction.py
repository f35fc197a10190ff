"""Extraction benchmark: our ``extract_page`` beside plain trafilatura on every corpus.

Corpora (each scored by its own scorer, imported by path so the metric is its own):

* ``aeb``: the extraction dev set (``html/<id>.html.gz``, ``ground-truth.json``,
  ``score.py``): token F1 / precision / recall, page means.
* ``trafilatura-eval`` and ``fundus-dev`` in the shared corpora folder (``score.py``
  there): snippets found / wrongly found, summed over pages; bag-of-words body
  F1 / P / R against fundus's plaintext, page means, with a row per language.

Each page's extractions run back to back in the same worker process, so machine
load hits them alike, in an order that turns from page to page (``CALLS``): the
first call on a page pays about 1 ms (5 %) the later ones do not (the libraries'
caches keyed by text are warm for them), so a fixed order favours the later ones.
Ours is ``extract_page`` with the project's ``EXTRACT_MIN_WORDS`` (a refused page
has no text, as in ``newsites extract``); trafilatura is ``extract(html, url=url,
include_comments=False, include_tables=True)``, the corpora scorer's baseline call.

    .venv/bin/python bench/extraction.py [--corpora aeb trafilatura-eval fundus-dev]
        [--devset DIR] [--corpora-dir DIR] [--out DIR] [--workers 2] [--worst 10]
    .venv/bin/python bench/extraction.py --alone 3    # the timing cross-check only

Prints one markdown table (F1 / precision / recall of both, the paired difference
ours minus trafilatura with its bootstrap std, median CPU ms per page of both and
their ratio), a like-for-like timing table (trafilatura with ``with_metadata=True``,
the metadata work ours always does, timed beside its default call, which skips it),
fundus-dev's per-language rows, then per corpus the pages where ours loses most.
Times are CPU time of the worker process, so that other jobs on the machine do not
skew the comparison.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import importlib.util
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_DEVSET = Path("/work/shared/extraction-devset")
DEFAULT_CORPORA = Path("/work/shared/corpora")
DEFAULT_OUT = Path("out/bench-extraction")
CORPORA = ("aeb", "trafilatura-eval", "fundus-dev")
SEED = 0

# A page's scores, by metric name; a corpus metric aggregates a list of them.
Scores = dict[str, float]
Aggregate = Callable[[Sequence[Scores]], Scores]


@dataclass(frozen=True)
class Job:
    corpus: str
    page_id: str
    path: str
    url: str | None
    turn: int = 0  # which of CALLS runs first on this page


def load_module(path: Path, name: str) -> ModuleType:
    """A scorer (``score.py``) as a module, so each metric is exactly its own."""
    if not path.exists():
        raise SystemExit(f"{path} not found")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


# --- running the extractors -----------------------------------------------------


def _warm_up() -> None:
    """Import and exercise both extractors once so the first page's time is fair."""
    import logging
    import warnings

    import trafilatura

    from crawler.extraction import ExtractionError, extract_page

    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore")
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


def _ours(raw: bytes, url: str | None) -> tuple[str, str | None]:
    """Our text of the page and our refusal reason (no text) if any."""
    from crawler.extraction import ExtractionError, extract_page
    from crawler.settings import EXTRACT_MIN_WORDS

    try:
        page = extract_page(raw, url or "", None, min_words=EXTRACT_MIN_WORDS)
    except ExtractionError as exc:
        return "", exc.reason
    return page.text, None


def _plain(raw: bytes, url: str | None) -> str:
    """trafilatura's default call, the corpora scorer's baseline."""
    import trafilatura

    return (
        trafilatura.extract(raw, url=url, include_comments=False, include_tables=True)
        or ""
    )


def _plain_with_metadata(raw: bytes, url: str | None) -> None:
    """trafilatura doing the metadata work ours always does (timed, not scored)."""
    import trafilatura

    trafilatura.bare_extraction(
        raw, url=url, include_comments=False, include_tables=True, with_metadata=True
    )


#: The timed calls, in the order they run on a page whose ``Job.turn`` is 0; each
#: later page starts one further along, so that each call runs first on a third of
#: the pages. The first call on a page pays about 1 ms the later ones do not: the
#: libraries' text-keyed caches (trafilatura's ``trim``, htmldate's validators, all
#: ``functools.lru_cache``) are warm for the page after the first call (cleared
#: before each call, the gap is gone). On trafilatura-eval: ours always first 1.28x,
#: trafilatura always first 1.17x; each tool alone over the corpus in its own
#: process, runs interleaved, 1.19x.
CALLS = ("ours", "trafilatura", "trafilatura_meta")


#: Each timed call by its name in ``CALLS``.
_CALLS: dict[str, Callable[[bytes, str | None], Any]] = {
    "ours": _ours,
    "trafilatura": _plain,
    "trafilatura_meta": _plain_with_metadata,
}


def _timed(name: str, raw: bytes, url: str | None) -> tuple[Any, float]:
    """What the call ``name`` returns for the page, and its CPU time in ms."""
    started = time.process_time()
    found = _CALLS[name](raw, url)
    return found, (time.process_time() - started) * 1000


def run_page(job: Job) -> dict[str, Any]:
    """All three extractions of one page, back to back in the order of its turn:
    texts, CPU times in ms, our refusal if any."""
    # Each gets the page as fetched (bytes): each decodes it as part of its work.
    raw = gzip.decompress(Path(job.path).read_bytes())
    out: dict[str, Any] = {"corpus": job.corpus, "id": job.page_id}
    for name in CALLS[job.turn :] + CALLS[: job.turn]:
        found, out[f"{name}_ms"] = _timed(name, raw, job.url)
        if name == "ours":
            out["ours"], out["reason"] = found
        elif name == "trafilatura":
            out["trafilatura"] = found
    return out


def run_all(jobs: list[Job], workers: int) -> list[dict[str, Any]]:
    if workers > 1:
        with ProcessPoolExecutor(workers, initializer=_warm_up) as pool:
            return list(pool.map(run_page, jobs, chunksize=4))
    _warm_up()
    return [run_page(job) for job in jobs]


# --- the corpora ----------------------------------------------------------------


@dataclass
class Corpus:
    """A corpus's pages and how to score one page and aggregate pages."""

    name: str
    jobs: list[Job]
    score: Callable[[str, str], Scores]  # (page id, text) -> page scores
    aggregate: Aggregate
    metrics: tuple[str, str, str]  # names of F1, precision, recall in aggregate()
    language: dict[str, str]  # page id -> language (fundus-dev only)


def aeb_corpus(devset: Path) -> Corpus:
    score = load_module(devset / "score.py", "devset_score")
    truth: dict[str, dict[str, Any]] = score.load_truth(devset / "ground-truth.json")
    jobs = []
    for page_id, item in truth.items():
        path = devset / "html" / f"{page_id}.html.gz"
        if not path.exists():
            raise SystemExit(f"{path} missing")
        jobs.append(Job("aeb", page_id, str(path), item.get("url") or None))

    def page(page_id: str, text: str) -> Scores:
        s = score.score_page(truth[page_id].get("articleBody", ""), text)
        return {"tp": s.tp, "fp": s.fp, "fn": s.fn, "exact": float(s.exact), "f1": s.f1}

    def aggregate(rows: Sequence[Scores]) -> Scores:
        pages = [
            score.PageScore(r["tp"], r["fp"], r["fn"], bool(r["exact"])) for r in rows
        ]
        return dict(score.aggregate(pages))

    return Corpus("aeb", jobs, page, aggregate, ("f1", "precision", "recall"), {})


def shared_corpus(name: str, corpora_dir: Path) -> Corpus:
    score = load_module(corpora_dir / "score.py", "corpora_score")
    pages = {p.id: p for p in score.load(name)}
    jobs = [Job(name, p.id, str(p.path), p.url) for p in pages.values()]
    if name == "trafilatura-eval":

        def snippets(page_id: str, text: str) -> Scores:
            row = score.score_snippets(pages[page_id], {"text": text})
            return {k: float(row[k]) for k in ("tp", "fp", "fn", "tn")}

        return Corpus(name, jobs, snippets, _summed, ("f1", "precision", "recall"), {})

    def body(page_id: str, text: str) -> Scores:
        row = score.score_page(pages[page_id], {"text": text})
        return {k: float(row[k]) for k in ("body_f1", "body_p", "body_r")}

    languages = {p.id: str(p.truth.get("language") or "?") for p in pages.values()}
    return Corpus(name, jobs, body, _means, ("body_f1", "body_p", "body_r"), languages)


def _means(rows: Sequence[Scores]) -> Scores:
    keys = rows[0].keys() if rows else ()
    return {k: sum(r[k] for r in rows) / len(rows) for k in keys}


def _summed(rows: Sequence[Scores]) -> Scores:
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall}


def paired_difference(
    ours: Sequence[Scores], theirs: Sequence[Scores], aggregate: Aggregate, n: int
) -> dict[str, tuple[float, float]]:
    """Metric of ``ours`` minus ``theirs`` on the same pages, with the bootstrap std
    (pages resampled jointly, so that page difficulty cancels out)."""
    point_a, point_b = aggregate(ours), aggregate(theirs)
    rng = random.Random(SEED)
    size = len(ours)
    samples: dict[str, list[float]] = {k: [] for k in point_a}
    for _ in range(n):
        idx = [rng.randrange(size) for _ in range(size)]
        a = aggregate([ours[i] for i in idx])
        b = aggregate([theirs[i] for i in idx])
        for key in samples:
            samples[key].append(a[key] - b[key])
    return {
        k: (point_a[k] - point_b[k], statistics.stdev(v) if len(v) > 1 else 0.0)
        for k, v in samples.items()
    }


# --- the report -----------------------------------------------------------------


def report(
    corpus: Corpus, results: list[dict[str, Any]], n_bootstrap: int
) -> tuple[str, dict[str, dict[str, Scores]]]:
    """The corpus's table row and every page's scores for both extractors."""
    by_id = {r["id"]: r for r in results}
    ids = [j.page_id for j in corpus.jobs]
    scores = {
        name: {i: corpus.score(i, by_id[i][name]) for i in ids}
        for name in ("ours", "trafilatura")
    }
    ours = [scores["ours"][i] for i in ids]
    plain = [scores["trafilatura"][i] for i in ids]
    a, b = corpus.aggregate(ours), corpus.aggregate(plain)
    diff = paired_difference(ours, plain, corpus.aggregate, n_bootstrap)
    f1, precision, recall = corpus.metrics
    times = {n: [by_id[i][f"{n}_ms"] for i in ids] for n in ("ours", "trafilatura")}
    med_ours = statistics.median(times["ours"])
    med_plain = statistics.median(times["trafilatura"])
    refused = sum(1 for i in ids if by_id[i]["reason"])
    row = (
        f"| {corpus.name} | {len(ids)} | "
        f"{b[f1]:.4f} / {b[precision]:.4f} / {b[recall]:.4f} | "
        f"**{a[f1]:.4f}** / {a[precision]:.4f} / {a[recall]:.4f} | "
        f"{diff[f1][0]:+.4f} ± {diff[f1][1]:.4f} | "
        f"{diff[precision][0]:+.4f} / {diff[recall][0]:+.4f} | {refused} | "
        f"{med_plain:.1f} / {med_ours:.1f} ({med_ours / max(med_plain, 1e-9):.2f}x) |"
    )
    return row, scores


def like_for_like(corpora: Sequence[Corpus], results: list[dict[str, Any]]) -> str:
    """Median CPU ms per corpus: trafilatura's default call (body only, the issue's
    baseline), trafilatura with its metadata (``with_metadata=True``: the work ours
    does too) and ours, with our ratio to each."""
    lines = [
        "\nlike for like (median CPU ms; trafilatura's default call reads no "
        "metadata, ours always does):\n",
        "| corpus | trafilatura default | trafilatura with_metadata | newsites "
        "| ratio to default / to with_metadata |",
        "|---|---|---|---|---|",
    ]
    for corpus in corpora:
        ids = {j.page_id for j in corpus.jobs}
        rows = [r for r in results if r["corpus"] == corpus.name and r["id"] in ids]
        plain, meta, ours = (
            statistics.median(r[k] for r in rows)
            for k in ("trafilatura_ms", "trafilatura_meta_ms", "ours_ms")
        )
        lines.append(
            f"| {corpus.name} | {plain:.1f} | {meta:.1f} | {ours:.1f} | "
            f"{ours / max(plain, 1e-9):.2f}x / {ours / max(meta, 1e-9):.2f}x |"
        )
    return "\n".join(lines)


def language_rows(corpus: Corpus, scores: dict[str, dict[str, Scores]]) -> list[str]:
    f1 = corpus.metrics[0]
    groups: dict[str, list[str]] = {}
    for page_id, lang in corpus.language.items():
        groups.setdefault(lang, []).append(page_id)
    rows = []
    for lang, ids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        a = corpus.aggregate([scores["ours"][i] for i in ids])
        b = corpus.aggregate([scores["trafilatura"][i] for i in ids])
        rows.append(
            f"| {lang} | {len(ids)} | {b[f1]:.3f} | {a[f1]:.3f} | "
            f"{a[f1] - b[f1]:+.3f} |"
        )
    return rows


def worst_pages(
    corpus: Corpus, scores: dict[str, dict[str, Scores]], n: int
) -> list[str]:
    """The pages where ours loses most against trafilatura (by page F1 or by
    snippets: lost true ones count, wrongly found ones count against)."""

    def gain(page_id: str) -> float:
        a, b = scores["ours"][page_id], scores["trafilatura"][page_id]
        if corpus.name == "trafilatura-eval":
            return (a["tp"] - a["fp"]) - (b["tp"] - b["fp"])
        key = corpus.metrics[0]
        return a[key] - b[key]

    ranked = sorted(scores["ours"], key=gain)
    return [f"  {gain(i):+.3f}  {i}" for i in ranked[:n] if gain(i) < 0]


TABLE_HEAD = (
    "| corpus | pages | trafilatura F1 / P / R | newsites F1 / P / R "
    "| ΔF1 (paired) | ΔP / ΔR | no record | median ms trafilatura / newsites |\n"
    "|---|---|---|---|---|---|---|---|"
)


def _timed_pass(name: str, jobs: list[Job]) -> list[float]:
    """CPU ms of one call (``"ours"`` or ``"trafilatura"``) on each page, in a
    process that runs nothing else."""
    _warm_up()
    return [
        _timed(name, gzip.decompress(Path(job.path).read_bytes()), job.url)[1]
        for job in jobs
    ]


def alone(corpora: Sequence[Corpus], rounds: int) -> str:
    """The cross-check of the paired timing: each tool alone over a corpus in a
    fresh process (no cache warmed by the other), ``rounds`` passes of each,
    interleaved so that a slower spell of the machine hits both; the median CPU
    ms per page of each pass and the ratio of the two tools' median passes."""
    lines = [
        f"each tool alone, {rounds} interleaved passes (median CPU ms per page):\n",
        "| corpus | trafilatura passes | newsites passes | ratio |",
        "|---|---|---|---|",
    ]
    for corpus in corpora:
        medians: dict[str, list[float]] = {"trafilatura": [], "ours": []}
        for _ in range(rounds):
            for name in medians:
                with ProcessPoolExecutor(1) as pool:
                    times = pool.submit(_timed_pass, name, corpus.jobs).result()
                medians[name].append(statistics.median(times))
        plain, ours = medians["trafilatura"], medians["ours"]
        ratio = statistics.median(ours) / max(statistics.median(plain), 1e-9)
        lines.append(
            f"| {corpus.name} | {' / '.join(f'{m:.1f}' for m in plain)} "
            f"| {' / '.join(f'{m:.1f}' for m in ours)} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", nargs="*", choices=CORPORA, default=list(CORPORA))
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET)
    parser.add_argument("--corpora-dir", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder for texts and scores"
    )
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--worst", type=int, default=10, help="pages where ours loses most, per corpus"
    )
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument(
        "--alone",
        type=int,
        metavar="ROUNDS",
        help="only time each tool alone over each corpus, ROUNDS passes each",
    )
    args = parser.parse_args(argv)

    corpora = [
        aeb_corpus(args.devset)
        if name == "aeb"
        else shared_corpus(name, args.corpora_dir)
        for name in args.corpora
    ]
    if args.alone:
        print(alone(corpora, args.alone))
        return 0
    jobs = [
        dataclasses.replace(job, turn=i % len(CALLS))
        for i, job in enumerate(job for corpus in corpora for job in corpus.jobs)
    ]
    started = time.perf_counter()
    results = run_all(jobs, args.workers)
    wall = time.perf_counter() - started

    print(f"{len(jobs)} pages, {args.workers} workers, {wall:.1f} s wall\n")
    print(TABLE_HEAD)
    all_scores: dict[str, Any] = {}
    tails: list[str] = []
    for corpus in corpora:
        mine = [r for r in results if r["corpus"] == corpus.name]
        row, scores = report(corpus, mine, args.n_bootstrap)
        print(row)
        all_scores[corpus.name] = scores
        if corpus.language:
            tails.append(
                f"\n{corpus.name} by language (body F1):\n\n"
                "| language | pages | trafilatura | newsites | Δ |\n"
                "|---|---|---|---|---|\n" + "\n".join(language_rows(corpus, scores))
            )
        if args.worst:
            lines = worst_pages(corpus, scores, args.worst)
            title = f"\n{corpus.name}: pages where ours loses most\n"
            tails.append(title + "\n".join(lines))
    print(like_for_like(corpora, results))
    ours_ms = [r["ours_ms"] for r in results]
    plain_ms = [r["trafilatura_ms"] for r in results]
    ratio = statistics.median(ours_ms) / max(statistics.median(plain_ms), 1e-9)
    print(
        f"\nall pages: median ms trafilatura {statistics.median(plain_ms):.1f}, "
        f"newsites {statistics.median(ours_ms):.1f} ({ratio:.2f}x)"
    )
    print("\n".join(tails))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(results, ensure_ascii=False), encoding="utf-8"
    )
    (args.out / "scores.json").write_text(json.dumps(all_scores), encoding="utf-8")
    print(f"\ntexts and per-page scores in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
