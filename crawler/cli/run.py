"""``newsites run``: one scheduled, incremental crawl, safe to start from cron.

It takes the seen store's lock (a second run exits at once, writing nothing),
settles what a killed earlier run left behind, crawls in this process with the seen
store on, writes a new dated output file (as ``<name>.part``, renamed when the run
ends, so no reader sees a file still being written), a log and a JSON stats file
beside it, prints a one-line summary and exits with a status that tells cron how the
run went (see ``EXIT_CODES`` and docs/cron.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import Settings

from crawler.cli import pairs, project_settings
from crawler.config_check import ConfigError, check_crawl
from crawler.sites import SiteConfig, SiteConfigError
from crawler.store import (
    SeenLock,
    SeenLockHeld,
    SeenStore,
    SeenStoreError,
    SqliteSeenStore,
    exported_ids,
    json_line_object,
    resolve_path,
)

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_SITE_FAILED = 3
EXIT_NO_ARTICLES = 4
EXIT_TOO_MANY_ERRORS = 5
EXIT_STORE = 6
EXIT_OUTPUT = 7
EXIT_DEADLINE = 8
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later
EXIT_INTERRUPTED = 130  # 128 + SIGINT

#: Exit status -> meaning (docs/cron.md has the same table).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "healthy: every site answered, articles found, errors under the limits",
    EXIT_INTERNAL: "unexpected internal error (traceback in the log)",
    EXIT_CONFIG: "configuration error (site file, setting, option); nothing crawled",
    EXIT_SITE_FAILED: "a site failed entirely (no entry page answered, or no article "
    "found and article pages failed)",
    EXIT_NO_ARTICLES: "no article found at all (neither new nor seen)",
    EXIT_TOO_MANY_ERRORS: "failed requests above RUN_MAX_ERRORS / RUN_MAX_ERROR_RATIO",
    EXIT_STORE: "the seen store is unreadable, corrupt or newer; nothing crawled",
    EXIT_OUTPUT: "the output cannot be written (folder, disk full): stopped, what was "
    "written whole is kept",
    EXIT_DEADLINE: "the run reached its deadline (RUN_MAX_SECONDS) and was stopped; "
    "what was written is kept, the rest is fetched next run",
    EXIT_LOCKED: "another run holds the lock; this one did nothing",
    EXIT_INTERRUPTED: "interrupted (SIGINT/SIGTERM); what was written is kept",
}


@dataclass(frozen=True)
class Outcome:
    """How a run went: exit ``code``, a short ``status`` and a sentence."""

    code: int
    status: str
    reason: str


# --- command line -------------------------------------------------------------------


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="one incremental crawl for cron: new articles only, locked, dated output",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status:\n"
        + "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items()),
    )
    parser.add_argument(
        "--sites",
        default="",
        help="comma-separated site ids (default: every site file)",
    )
    parser.add_argument(
        "--output",
        default="",
        metavar="TEMPLATE",
        help="output path template (RUN_OUTPUT_TEMPLATE)",
    )
    parser.add_argument(
        "--text",
        action="store_true",
        help="also write NNN_<id>.txt files (RUN_TEXT_OUTPUT)",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="start the seen store over (old one kept aside)",
    )
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Scrapy setting, e.g. -s SEEN_DB=/var/lib/newsites/seen",
    )
    parser.add_argument(
        "-a",
        dest="spider_args",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a spider argument, e.g. -a since=2024-11-01",
    )
    parser.set_defaults(func=run)


def build_settings(args: argparse.Namespace) -> Settings:
    """Project settings (scrapy.cfg nearby, else crawler.settings) plus the options."""
    settings = project_settings(args.set, ConfigError)
    if args.output:
        settings.set("RUN_OUTPUT_TEMPLATE", args.output, priority="cmdline")
    if args.text:
        settings.set("RUN_TEXT_OUTPUT", True, priority="cmdline")
    if args.reset:
        settings.set("SEEN_RESET", True, priority="cmdline")
    return settings


def sites_label(sites: str) -> str:
    """``all``, or the chosen site ids joined with ``+``."""
    ids = sorted({s.strip() for s in sites.split(",") if s.strip()})
    return "+".join(ids) if ids else "all"


def output_path(template: str, sites: str, start: datetime, run: int) -> Path:
    """The run's output file from RUN_OUTPUT_TEMPLATE (relative: beside scrapy.cfg)."""
    try:
        name = template.format(sites=sites, start=start, run=run)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"RUN_OUTPUT_TEMPLATE {template!r}: {exc!r}; fields are {{sites}}, "
            "{start} (a datetime: {start:%Y-%m-%d}) and {run}"
        ) from exc
    return resolve_path(name)


# --- recovery of killed runs ---------------------------------------------------------


def truncate_partial_line(path: Path) -> int:
    """Cut a last line left without its newline (a run killed mid-write): bytes cut."""
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return 0
    with handle:
        size = handle.seek(0, os.SEEK_END)
        end = size
        while end > 0:
            start = max(0, end - 65536)
            handle.seek(start)
            chunk = handle.read(end - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        else:
            keep = 0
        if keep < size:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        return size - keep


def repair_output(path: Path) -> str:
    """Make every line of a JSON-lines output whole: cut a last line left without its
    newline; drop a line cut by a failed write, keeping a whole line glued to its end
    (see ``json_line_object``). Returns what was done ("" when nothing)."""
    cut = truncate_partial_line(path)
    done = [f"cut {cut} bytes of a half-written last line"] if cut else []
    if path.name.endswith((".jsonl", ".jsonl.part")) and path.exists():
        data = path.read_text(encoding="utf-8", errors="replace")
        kept, dropped = [], 0
        for line in data.splitlines(keepends=True):
            found = json_line_object(line.rstrip("\n"))
            if found is None or found[0] != 0:
                dropped += 1
            if found is not None:
                kept.append(line[found[0] :])
        if dropped:
            tmp = path.with_name(path.name + ".repair")
            with tmp.open("w", encoding="utf-8") as out:
                out.write("".join(kept))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            done.append(f"repaired {dropped} line(s) cut by a failed write")
    return f"{path}: {', '.join(done)}" if done else ""


def settle_pending_counts(store: SeenStore) -> tuple[int, int]:
    """Mark pending articles found whole in their run's outputs, forget the rest:
    ``(marked, discarded)``."""
    return store.resolve_pending(
        lambda run: exported_ids(run.outputs) if run is not None else set()
    )


def _pending_message(marked: int, discarded: int) -> str:
    return (
        f"pending articles: {marked} found written and marked, {discarded} not "
        "written (will be fetched again)"
    )


def settle_pending(store: SeenStore) -> str:
    """``settle_pending_counts`` as a sentence ("" when nothing was pending)."""
    marked, discarded = settle_pending_counts(store)
    return _pending_message(marked, discarded) if marked or discarded else ""


@dataclass
class Recovery:
    """What settling killed runs did: ``messages`` for the log, ``counts`` for the
    crawl's stats (``seen/recovered/<event>``)."""

    messages: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    _crawler: Crawler | None = None

    def add(self, event: str, message: str, count: int = 1) -> None:
        self.messages.append(message)
        self.counts[event] += count

    def count_in(self, crawler: Crawler) -> None:
        """Add the counts to ``crawler``'s stats once they exist (spider_opened).

        The caller keeps this object alive: signal receivers are weak references."""
        self._crawler = crawler
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)

    def _spider_opened(self) -> None:
        assert self._crawler is not None
        stats = self._crawler.stats
        for event, count in self.counts.items():
            if count:
                stats.inc_value(f"seen/recovered/{event}", count)


def recover_killed_runs(store: SeenStore, current: int) -> Recovery:
    """Finish what killed runs left: repair their outputs, settle pending articles,
    rename ``.part`` outputs to their final names. Returns what was done."""
    killed = [r for r in store.unfinished_runs() if r.id != current]
    recovery = Recovery()
    for run in killed:
        for output in run.outputs:
            if done := repair_output(Path(output)):
                recovery.add("outputs_repaired", f"run {run.id}: {done}")
    marked, discarded = settle_pending_counts(store)
    if marked or discarded:
        recovery.add("marked", _pending_message(marked, discarded), marked)
        recovery.counts["discarded"] += discarded
    for run in killed:
        for output in run.outputs:
            if output.endswith(".part") and Path(output).exists():
                os.replace(output, output.removesuffix(".part"))
                recovery.add(
                    "outputs_kept", f"run {run.id}: kept {output.removesuffix('.part')}"
                )
        store.finish_run(run.id, "killed")
        recovery.counts["runs"] += 1
    return recovery


# --- health ---------------------------------------------------------------------------


def _stat(stats: dict[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    return int(value) if isinstance(value, int | float) else 0


def error_count(stats: dict[str, Any]) -> int:
    """Failed requests: entry pages and article pages the spider's errback saw."""
    return _stat(stats, "errors/entry") + _stat(stats, "errors/article")


def assess(stats: dict[str, Any], site_ids: list[str], settings: Settings) -> Outcome:
    """The run's exit status from its stats: interrupted > output > store >
    deadline > site > errors > nothing found."""
    stopped = stopped_outcome(stats)
    if stopped is not None:
        return stopped
    return health_outcome(stats, site_ids, settings)


def stopped_outcome(stats: dict[str, Any]) -> Outcome | None:
    """How a crawl was stopped before its end, from its stats (None: it was not):
    interrupted > output > store > deadline. ``scrapy crawl`` exits with these too."""
    if stats.get("finish_reason") == "shutdown":
        return Outcome(
            EXIT_INTERRUPTED,
            "interrupted",
            "interrupted by a signal; the output has every finished article",
        )
    if "finish_reason" not in stats:
        # Scrapy stops the reactor at once on a second SIGINT/SIGTERM: the spider is
        # never closed, so no finish_reason. What was written whole is kept.
        return Outcome(
            EXIT_INTERRUPTED,
            "interrupted",
            "interrupted by a second signal (stopped at once); the output "
            "has every article written whole, the next run does the rest",
        )
    if (
        stats.get("finish_reason") == "feed_write_failed"
        or _stat(stats, "seen/not_marked/export_failed")
        or _stat(stats, "seen/not_marked/flush_failed")
    ):
        return Outcome(
            EXIT_OUTPUT,
            "output_failed",
            "the output could not be written (disk full? file too large?); "
            "the crawl was stopped, every line written whole is kept",
        )
    if stats.get("finish_reason") == "seen_store_failed" or _stat(
        stats, "seen/store_failed"
    ):
        return Outcome(
            EXIT_STORE,
            "store_failed",
            "the seen store could not be written (disk full?); the crawl "
            "was stopped, the next run settles what is pending",
        )
    if stats.get("finish_reason") == "closespider_timeout":
        return Outcome(
            EXIT_DEADLINE,
            "deadline",
            "the run reached its deadline (RUN_MAX_SECONDS) and was "
            "stopped; what was written is kept, the rest is fetched next "
            "run",
        )
    return None


def health_outcome(
    stats: dict[str, Any], site_ids: list[str], settings: Settings
) -> Outcome:
    """A crawl that ran to its end: site > errors > nothing found > ok."""
    failed = []
    for site in site_ids:
        found = _stat(stats, f"extract/ok/{site}") + _stat(
            stats, f"seen/skipped/{site}"
        )
        article_errors = _stat(stats, f"errors/site/{site}/article")
        if not _stat(stats, f"health/{site}/entry_ok"):
            failed.append(f"{site} (no feed, sitemap or section page answered)")
        elif found == 0 and article_errors:
            failed.append(f"{site} ({article_errors} article pages failed, none found)")
    if failed:
        return Outcome(
            EXIT_SITE_FAILED,
            "site_failed",
            "site failed entirely: " + ", ".join(failed),
        )
    errors = error_count(stats)
    requests = _stat(stats, "downloader/request_count")
    max_errors = settings.getint("RUN_MAX_ERRORS")
    ratio = settings.getfloat("RUN_MAX_ERROR_RATIO")
    if max_errors and errors > max_errors:
        return Outcome(
            EXIT_TOO_MANY_ERRORS,
            "too_many_errors",
            f"{errors} failed requests > RUN_MAX_ERRORS={max_errors}",
        )
    if (
        ratio
        and requests
        and errors >= settings.getint("RUN_MIN_ERRORS")
        and errors / requests > ratio
    ):
        return Outcome(
            EXIT_TOO_MANY_ERRORS,
            "too_many_errors",
            f"{errors} of {requests} requests failed "
            f"({errors / requests:.0%} > RUN_MAX_ERROR_RATIO={ratio:g})",
        )
    if _stat(stats, "extract/ok") + _stat(stats, "seen/skipped") == 0:
        return Outcome(
            EXIT_NO_ARTICLES,
            "no_articles",
            "no article found on any site (neither new nor already seen)",
        )
    return Outcome(EXIT_OK, "ok", "ok")


def summary_line(
    run: int,
    outcome: Outcome,
    stats: dict[str, Any],
    sites: int,
    seconds: float,
    output: Path,
) -> str:
    """One line for cron mail and the log."""
    head = (
        "OK"
        if outcome.code == EXIT_OK
        else f"FAILED (exit {outcome.code}): {outcome.reason}"
    )
    skipped = _stat(stats, "seen/skipped") + _stat(stats, "seen/duplicate_url")
    return (
        f"newsites run {run}: {head} | sites {sites} | "
        f"pages {_stat(stats, 'downloader/response_count')} | "
        f"articles written {_stat(stats, 'seen/marked')} | "
        f"skipped as seen {skipped} | "
        f"duplicates {_stat(stats, 'seen/duplicate_content')} | "
        f"errors {error_count(stats)} | {seconds:.1f} s | {output}"
    )


def _add_to_stats_file(path: Path, extra: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        stats = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        stats.update(extra)
        text = json.dumps(stats, indent=1, sort_keys=True) + "\n"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        logger.error("Cannot add the run result to %s: %s", path, exc)
        # A full disk: leave no half-written temporary (StatsFile's is the same).
        tmp.unlink(missing_ok=True)


def store_outputs(settings: Settings) -> list[Path]:
    """The local files of the run's FEEDS."""
    return [Path(uri) for uri in settings.getdict("FEEDS")]


def _publish(store: SeenStore, settings: Settings, part: Path, output: Path) -> str:
    """Repair the outputs, settle pending articles, rename ``.part`` to the output.

    Returns "" or what failed (a full disk), in which case the ``.part`` stays for
    the next run to finish."""
    try:
        for feed in store_outputs(settings):
            if done := repair_output(feed):
                logger.warning("Repaired the output: %s", done)
        if done := settle_pending(store):
            logger.warning("After a failed write: %s", done)
        if part.exists():
            os.replace(part, output)
    except Exception as exc:  # noqa: BLE001 - OSError, sqlite3.Error: disk full
        return (
            f"cannot finish the output {part} ({exc}); it stays as it is and the "
            "next run finishes it"
        )
    return ""


def start_log(path: Path, run: int, output: Path) -> str:
    """Write the log's first line; "" or why it cannot be written (a full disk).

    A run started on a full disk stops here, before it crawls anything: Scrapy's
    log handler would otherwise fail with a traceback when the crawler is made."""
    try:
        with path.open("a", encoding="utf-8") as log:
            log.write(
                f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} [crawler.cli.run] INFO: "
                f"newsites run {run}: output {output}\n"
            )
    except OSError as exc:
        return (
            f"cannot write the log {path}: {exc.strerror or exc} (disk full?); "
            "nothing crawled"
        )
    return ""


def _fail(code: int, message: str) -> int:
    print(f"newsites run: {message}", file=sys.stderr)
    return code


def check_inputs(
    args: argparse.Namespace,
) -> tuple[Settings, dict[str, str], list[SiteConfig]]:
    """Settings, spider arguments and sites of the run, all checked
    (crawler/config_check.py) before the lock, the store or a run number."""
    settings = build_settings(args)
    spider_args = pairs(args.spider_args, "-a", ConfigError)
    if args.sites:
        spider_args["sites"] = args.sites
    sites = check_crawl(settings, spider_args)
    if settings.get("JOBDIR"):
        raise ConfigError(
            "do not set JOBDIR: a reused JOBDIR would filter the next run's entry "
            "pages; RUN_JOBDIR=1 gives each run a fresh one"
        )
    if not settings.get("SEEN_DB"):
        raise ConfigError("SEEN_DB is empty")
    return settings, spider_args, sites


def _refuse(args: argparse.Namespace, start: datetime, error: ConfigError) -> int:
    """A configuration error: the summary line on stderr and in a log beside where
    the output would have gone (``...-run0.log``: the run got no number)."""
    line = (
        f"newsites run: FAILED (exit {EXIT_CONFIG}): configuration error: "
        f"{error}; nothing crawled"
    )
    print(line, file=sys.stderr)
    try:
        settings = build_settings(args)
        output = output_path(
            settings.get("RUN_OUTPUT_TEMPLATE"), sites_label(args.sites), start, 0
        )
        log = output.with_name(output.stem + ".log")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"{start:%Y-%m-%d %H:%M:%S} [newsites.run] ERROR: {line}\n")
    except (ConfigError, OSError):
        pass  # the template or the folder is what is wrong: stderr says it
    return EXIT_CONFIG


# --- the run --------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run one scheduled crawl; returns the exit status."""
    # A log file on a full disk must not spray tracebacks on stderr (cron mail):
    # the run's outcome says what failed.
    logging.raiseExceptions = False
    clock = time.monotonic()
    start = datetime.now(UTC).replace(microsecond=0)
    try:
        settings, spider_args, sites = check_inputs(args)
        template = settings.get("RUN_OUTPUT_TEMPLATE")
        output_path(template, "all", start, 0)  # check the template before locking
        db = resolve_path(settings.get("SEEN_DB") or "")
    except ConfigError as exc:
        return _refuse(args, start, exc)

    try:
        lock = SeenLock.acquire(db)
    except SeenLockHeld as exc:
        return _fail(EXIT_LOCKED, str(exc))
    except OSError as exc:
        return _fail(EXIT_STORE, f"cannot lock the seen store {db}: {exc}")
    try:
        return _locked_run(
            settings,
            sites_label(spider_args.get("sites", "")),
            [s.id for s in sites],
            spider_args,
            db,
            start,
            clock,
        )
    finally:
        lock.release()


def _locked_run(
    settings: Settings,
    label: str,
    site_ids: list[str],
    spider_args: dict[str, str],
    db: Path,
    start: datetime,
    clock: float,
) -> int:
    try:
        store = SqliteSeenStore.open(
            db,
            reset=settings.getbool("SEEN_RESET"),
            durable=settings.getbool("SEEN_FSYNC"),
        )
    except SeenStoreError as exc:
        return _fail(EXIT_STORE, f"seen store error: {exc}")
    try:
        run_id = store.start_run()
        output = output_path(settings.get("RUN_OUTPUT_TEMPLATE"), label, start, run_id)
        part = output.with_name(output.name + ".part")
        stem = output.with_suffix("") if output.suffix else output
        log_path = stem.with_name(stem.name + ".log")
        stats_path = stem.with_name(stem.name + ".stats.json")
        text_index = stem.with_name(stem.name + "-text") / "index.tsv"
        if output.exists() or part.exists():
            store.finish_run(run_id, "not_started")
            return _fail(
                EXIT_CONFIG,
                f"output {output} already exists; "
                "RUN_OUTPUT_TEMPLATE should include {run}",
            )
        feeds: dict[str, dict[str, Any]] = {
            str(part): {"format": "jsonlines", "overwrite": True},
        }
        if settings.getbool("RUN_TEXT_OUTPUT"):
            feeds[str(text_index)] = {"format": "text", "overwrite": False}
        store.set_run_outputs(run_id, list(feeds))
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            probe = output.parent / f".{output.name}.probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            store.finish_run(run_id, "not_started")
            return _fail(
                EXIT_OUTPUT,
                f"cannot write the output folder "
                f"{output.parent}: {exc.strerror or exc}",
            )
        jobdir = stem.with_name(stem.name + ".jobdir")
        overrides: dict[str, Any] = {
            "SEEN_ENABLED": True,
            "SEEN_RESET": False,
            "SEEN_RUN_ID": run_id,
            "SEEN_DB": str(db),
            "FEEDS": feeds,
            "LOG_FILE": str(log_path),
            # Append: Scrapy reopens LOG_FILE when the crawler is made, after the
            # recovery of killed runs was logged to it.
            "LOG_FILE_APPEND": True,
            "STATS_FILE": str(stats_path),
        }
        if settings.getbool("RUN_JOBDIR"):
            overrides["JOBDIR"] = str(jobdir)
        if not settings.getfloat("CLOSESPIDER_TIMEOUT"):
            overrides["CLOSESPIDER_TIMEOUT"] = settings.getfloat("RUN_MAX_SECONDS")
        if not settings.get("TEMPLATE_DB"):
            # cron runs learn each site's template across runs, beside the store
            overrides["TEMPLATE_DB"] = str(db.with_name("templates.sqlite3"))
        settings.setdict(overrides, priority="cmdline")
        return _crawl(
            settings,
            store,
            run_id,
            site_ids,
            spider_args,
            output,
            part,
            stats_path,
            jobdir,
            clock,
        )
    finally:
        store.close()


def _crawl(
    settings: Settings,
    store: SqliteSeenStore,
    run_id: int,
    site_ids: list[str],
    spider_args: dict[str, str],
    output: Path,
    part: Path,
    stats_path: Path,
    jobdir: Path,
    clock: float,
) -> int:
    from scrapy.crawler import CrawlerProcess

    if problem := start_log(Path(settings["LOG_FILE"]), run_id, output):
        store.finish_run(run_id, "not_started")
        return _fail(EXIT_OUTPUT, problem)
    process = CrawlerProcess(settings)  # logging now goes to LOG_FILE
    recovery = recover_killed_runs(store, run_id)
    for message in recovery.messages:
        logger.warning("Recovered a killed run: %s", message)
    crawler = process.create_crawler("newsites")
    recovery.count_in(crawler)
    failures: list[Any] = []
    deferred = process.crawl(crawler, **spider_args)
    deferred.addErrback(failures.append)
    process.start()

    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    if failures:
        error = failures[0].value
        logger.error("The crawl could not start: %s", error)
        code = (
            EXIT_STORE
            if isinstance(error, SeenStoreError)
            else EXIT_CONFIG
            if isinstance(error, SiteConfigError | ValueError)
            else EXIT_INTERNAL
        )
        outcome = Outcome(code, "not_started", f"the crawl could not start: {error}")
    else:
        outcome = assess(stats, site_ids, settings)
    problem = _publish(store, settings, part, output)
    if problem:
        # The run stays unfinished in the store: the next run repairs and renames.
        logger.error("%s", problem)
        if outcome.code in (
            EXIT_OK,
            EXIT_NO_ARTICLES,
            EXIT_TOO_MANY_ERRORS,
            EXIT_SITE_FAILED,
        ):
            outcome = Outcome(EXIT_OUTPUT, "output_failed", problem)
        output = part
    else:
        try:
            store.finish_run(run_id, outcome.status)
        except Exception as exc:  # noqa: BLE001 - a full disk: the next run finishes it
            logger.error("Cannot record the run's end in the seen store: %s", exc)
    if outcome.code == EXIT_OK and jobdir.exists():
        shutil.rmtree(jobdir, ignore_errors=True)
    seconds = time.monotonic() - clock
    line = summary_line(run_id, outcome, stats, len(site_ids), seconds, output)
    _add_to_stats_file(
        stats_path,
        {
            "run/id": run_id,
            "run/exit_code": outcome.code,
            "run/status": outcome.status,
            "run/reason": outcome.reason,
            "run/output": str(output),
            "run/seconds": round(seconds, 3),
            "run/summary": line,
        },
    )
    logger.info("%s", line)
    print(line, file=sys.stdout if outcome.code == EXIT_OK else sys.stderr)
    return outcome.code
