"""Extraction pool: a crash, a hang or a memory blow-up costs one page, in a crawl too.

Unit tests drive ``WorkerPool`` with ``run_action`` (below), a module-level function the
workers import, so each test provokes a real failure in a real worker process: a
segfault, ``os._exit``, a sleep past the time limit, an allocation past the memory cap.
The crawl test serves pages that really break trafilatura (a page of tag soup that
takes many seconds; one that needs more memory than the cap) and checks that only those
pages are lost, counted, while every other article is written.
"""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction.extractor import ExtractedPage, ExtractionError
from crawler.extraction.pool import (
    EXIT_OUT_OF_MEMORY,
    START_METHODS,
    HeapTrimmer,
    PoolBroken,
    PoolConfig,
    RemoteTraceback,
    WorkerCrashed,
    WorkerError,
    WorkerPool,
    WorkerTimeout,
    describe_exit,
    load_malloc_trim,
)
from tests.support.crawl import PROJECT_ROOT, run_crawl
from tests.support.server import SiteServer

RESULT_WAIT = 60  # seconds a test waits for one future (a worker start on a busy box)
# One small block kept from a "fragment_heap_mb" task to the next, so the C heap's
# freed blocks lie below it and only malloc_trim can give them back.
_PINNED: list[bytes] = []


def run_action(action: str, value: Any = None) -> Any:
    """What a test worker does with one task (module level: workers import it)."""
    if action == "echo":
        return value
    if action == "pid":
        return os.getpid()
    if action == "exit":
        os._exit(int(value))
    if action == "segfault":
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    if action == "sleep":
        time.sleep(float(value))
        return value
    if action == "fragment_heap_mb":
        # 4 KiB blocks come from the C heap (below glibc's mmap threshold); all are
        # freed but the last, which stays above them.
        blocks = [bytes(4096) for _ in range(int(value) * 256)]
        _PINNED.append(blocks.pop())
        del blocks
        return _rss_mb()
    if action == "rss_mb":
        return _rss_mb()
    if action == "allocate_mb":
        block = bytearray(int(value) * 1024 * 1024)
        return len(block)
    if action == "not_an_article":
        raise ExtractionError("too_short", "12 words < 40")
    if action == "bug":
        raise KeyError(value)
    if action == "unpicklable":
        return lambda: None
    raise AssertionError(f"unknown action {action!r}")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def failing_warmup() -> None:
    """A warm-up that kills every new worker: the pool cannot start any."""
    os._exit(3)


@pytest.fixture
def make_pool() -> Iterator[Any]:
    pools: list[WorkerPool] = []

    def make(**config: Any) -> WorkerPool:
        warmup = config.pop("warmup", None)
        warmup_tasks = config.pop("warmup_tasks", ())
        events = config.pop("events", None)
        pool = WorkerPool(
            config.pop("target", run_action),
            PoolConfig(**config),
            warmup=warmup,
            warmup_tasks=warmup_tasks,
            on_event=events.append if events is not None else None,
        )
        pool.start()
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def _await_event(events: list[str], name: str) -> int:
    """How many times the pool reported ``name``, once it has at least once (the
    slot threads report on their own schedule)."""
    deadline = time.monotonic() + RESULT_WAIT
    while name not in events and time.monotonic() < deadline:
        time.sleep(0.02)
    return events.count(name)


def outcome(future: Future[Any]) -> Any:
    """The future's result, or its exception (not raised)."""
    try:
        return future.result(timeout=RESULT_WAIT)
    except Exception as exc:  # noqa: BLE001 - the test looks at which exception
        return exc


# --- results and errors cross the process boundary intact -----------------------------
def test_results_come_back_in_order_from_worker_processes(make_pool: Any) -> None:
    pool = make_pool(workers=2)
    futures = [pool.submit("echo", n) for n in range(20)]
    assert [f.result(timeout=RESULT_WAIT) for f in futures] == list(range(20))
    pids = {pool.submit("pid").result(timeout=RESULT_WAIT) for _ in range(6)}
    assert os.getpid() not in pids, "tasks must run in worker processes, not the caller"


def test_extraction_error_keeps_reason_and_detail_across_processes(
    make_pool: Any,
) -> None:
    pool = make_pool(workers=1)
    error = outcome(pool.submit("not_an_article"))
    assert isinstance(error, ExtractionError), f"got {error!r}"
    assert (error.reason, error.detail) == ("too_short", "12 words < 40")
    assert isinstance(error.__cause__, RemoteTraceback)
    assert "run_action" in error.__cause__.text, "the worker-side traceback is kept"


def test_a_bug_in_the_task_is_raised_in_the_caller_and_the_worker_lives_on(
    make_pool: Any,
) -> None:
    pool = make_pool(workers=1)
    pid = pool.submit("pid").result(timeout=RESULT_WAIT)
    assert isinstance(outcome(pool.submit("bug", "missing")), KeyError)
    unpicklable = outcome(pool.submit("unpicklable"))
    assert isinstance(unpicklable, RuntimeError) and "pickle" in str(unpicklable)
    assert pool.submit("pid").result(timeout=RESULT_WAIT) == pid, "same worker goes on"


def test_unpicklable_arguments_fail_that_task_only(make_pool: Any) -> None:
    pool = make_pool(workers=1)
    bad = pool.submit("echo", lambda: None)
    assert isinstance(outcome(bad), (pickle.PicklingError, AttributeError, TypeError))
    assert pool.submit("echo", 5).result(timeout=RESULT_WAIT) == 5


def test_extracted_page_and_extraction_error_pickle() -> None:
    page = ExtractedPage(
        title="T",
        paragraphs=["a", "b"],
        authors=["A"],
        images=[{"url": "u", "caption": None}],
        comments=[],
    )
    assert pickle.loads(pickle.dumps(page)) == page
    error = pickle.loads(pickle.dumps(ExtractionError("no_body", "why")))
    assert (error.reason, error.detail, str(error)) == (
        "no_body",
        "why",
        "no_body: why",
    )


# --- a dying or hanging worker costs its task only ------------------------------------
@pytest.mark.parametrize("method", START_METHODS)
def test_a_worker_that_exits_fails_its_task_only_and_is_replaced(
    make_pool: Any, method: str
) -> None:
    events: list[str] = []
    pool = make_pool(workers=2, events=events, start_method=method)
    before = [pool.submit("echo", n) for n in range(6)]
    crash = pool.submit("exit", 3)
    after = [pool.submit("echo", n) for n in range(6, 12)]
    error = outcome(crash)
    assert isinstance(error, WorkerCrashed), f"got {error!r}"
    assert "exit status 3" in str(error)
    assert [f.result(timeout=RESULT_WAIT) for f in before + after] == list(range(12))
    assert pool.submit("echo", "still").result(timeout=RESULT_WAIT) == "still"
    # The other worker can serve every task before the lost one's replacement is
    # up (a forkserver start is slow on a busy box): the replacement is awaited.
    assert _await_event(events, "replaced") == 1, events


@pytest.mark.parametrize("method", START_METHODS)
def test_a_segfault_is_a_crash_of_that_task(make_pool: Any, method: str) -> None:
    pool = make_pool(workers=1, start_method=method)
    error = outcome(pool.submit("segfault"))
    assert isinstance(error, WorkerCrashed) and "SIGSEGV" in str(error), (
        f"got {error!r}"
    )
    assert pool.submit("echo", 1).result(timeout=RESULT_WAIT) == 1


def test_tasks_queued_behind_a_crash_in_the_same_worker_are_not_lost(
    make_pool: Any,
) -> None:
    # One worker holds two tasks at a time: the crash takes its worker down while the
    # next task waits inside it. That task must be sent again, not failed.
    pool = make_pool(workers=1)
    futures = [pool.submit("exit", 5)] + [pool.submit("echo", n) for n in range(5)]
    assert isinstance(outcome(futures[0]), WorkerCrashed)
    assert [f.result(timeout=RESULT_WAIT) for f in futures[1:]] == list(range(5))


@pytest.mark.parametrize("method", START_METHODS)
def test_a_task_past_the_time_limit_is_killed_and_the_rest_run(
    make_pool: Any, method: str
) -> None:
    events: list[str] = []
    pool = make_pool(workers=1, timeout=1.0, events=events, start_method=method)
    old_pid = pool.submit("pid").result(timeout=RESULT_WAIT)
    hang = pool.submit("sleep", 600)
    rest = [pool.submit("echo", n) for n in range(4)]
    error = outcome(hang)
    assert isinstance(error, WorkerTimeout), f"got {error!r}"
    assert [f.result(timeout=RESULT_WAIT) for f in rest] == list(range(4))
    assert _exits(old_pid), "the hung worker must be killed"
    assert events.count("replaced") == 1, events


@pytest.mark.parametrize("method", START_METHODS)
def test_a_task_over_the_memory_cap_crashes_its_worker_only(
    make_pool: Any, method: str
) -> None:
    pool = make_pool(workers=1, memory_mb=64, start_method=method)
    assert pool.submit("allocate_mb", 8).result(timeout=RESULT_WAIT) == 8 * 1024 * 1024
    error = outcome(pool.submit("allocate_mb", 512))
    assert isinstance(error, WorkerCrashed) and "out of memory" in str(error), repr(
        error
    )
    assert pool.submit("allocate_mb", 8).result(timeout=RESULT_WAIT) == 8 * 1024 * 1024


def test_workers_that_cannot_start_break_the_pool_explicitly(make_pool: Any) -> None:
    events: list[str] = []
    pool = make_pool(workers=1, warmup=failing_warmup, events=events)
    errors = [outcome(pool.submit("echo", n)) for n in range(2)]
    assert all(isinstance(e, WorkerError) for e in errors), errors
    assert isinstance(errors[-1], PoolBroken), errors  # the 3rd failed start in a row
    assert pool.broken and "broken" in events, events
    with pytest.raises(PoolBroken):
        pool.submit("echo", 1)


def test_workers_are_recycled_after_max_tasks(make_pool: Any) -> None:
    events: list[str] = []
    pool = make_pool(workers=1, max_tasks=3, events=events)
    pids = [pool.submit("pid").result(timeout=RESULT_WAIT) for _ in range(7)]
    assert len(set(pids)) == 3, pids  # 3 + 3 + 1
    assert events.count("recycled") == 2, events


def test_close_stops_every_worker(make_pool: Any) -> None:
    pool = make_pool(workers=2)
    assert [pool.submit("echo", n).result(timeout=RESULT_WAIT) for n in range(4)]
    deadline = time.monotonic() + RESULT_WAIT
    while len(pool.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the second worker may still be starting
    pids = pool.worker_pids()
    assert len(pids) == 2
    pool.close()
    assert all(_exits(pid) for pid in pids)
    with pytest.raises(RuntimeError):
        pool.submit("echo", 1)


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="workers"):
        PoolConfig(workers=0)
    with pytest.raises(ValueError, match="start method"):
        PoolConfig(start_method="fork")
    with pytest.raises(ValueError, match="trim_budget"):
        PoolConfig(trim_budget=1.5)
    assert describe_exit(-11) == "killed by SIGSEGV"


def test_trim_budget_comes_from_its_setting() -> None:
    from scrapy.utils.project import get_project_settings

    from crawler.extraction.service import pool_config

    def config(budget: float) -> PoolConfig:
        settings = get_project_settings()
        settings.set("EXTRACT_WORKER_TRIM_BUDGET", budget)
        return pool_config(settings)

    assert pool_config(get_project_settings()).trim_budget == PoolConfig().trim_budget

    assert config(0.01).trim_budget == 0.01
    with pytest.raises(ValueError, match="EXTRACT_.*trim_budget"):
        config(1.5)
    assert describe_exit(EXIT_OUT_OF_MEMORY) == "out of memory"


# --- the heap goes back to the OS between tasks ---------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_trimmer_trims_while_within_its_cpu_budget() -> None:
    clock = FakeClock()
    calls: list[int] = []

    def trim() -> None:
        calls.append(1)
        clock.now += 0.001  # each trim costs 1 ms of CPU

    trimmer = HeapTrimmer(trim, budget=0.01, clock=clock)
    assert trimmer.after_task(), "the first answer may always be trimmed after"
    clock.now += 0.05  # 50 ms of tasks: 1 ms spent > 1% of 51 ms
    assert not trimmer.after_task(), "a trim now would pass the 1% budget"
    clock.now += 0.05  # 101 ms in all: 1 ms spent <= 1.01 ms
    assert trimmer.after_task()
    assert len(calls) == trimmer.trims == 2
    assert trimmer.spent == pytest.approx(0.002)


def test_the_trimmer_without_malloc_trim_does_nothing() -> None:
    trimmer = HeapTrimmer(None, budget=0.01)
    assert not trimmer.after_task() and not trimmer.trim()
    assert trimmer.trims == 0


def test_malloc_trim_is_looked_up_on_linux_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert load_malloc_trim() is None


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc")
def test_malloc_trim_is_found_and_runs_with_glibc() -> None:
    trim = load_malloc_trim()
    assert trim is not None, "glibc has malloc_trim: ctypes should find it"
    assert trim() in (0, 1)  # 1: memory was released, 0: none could be


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc")
def test_a_worker_gives_freed_heap_back_to_the_os_after_a_task(
    make_pool: Any,
) -> None:
    def grown_after_fragmenting(budget: float) -> float:
        pool = make_pool(workers=1, trim_budget=budget)
        before = pool.submit("rss_mb").result(timeout=RESULT_WAIT)
        peak = pool.submit("fragment_heap_mb", 64).result(timeout=RESULT_WAIT)
        assert peak - before > 48, "the task should have used ~64 MiB of heap"
        return float(pool.submit("rss_mb").result(timeout=RESULT_WAIT) - before)

    assert grown_after_fragmenting(0.0) > 48, (
        "without trimming, glibc was expected to keep the freed blocks"
    )
    # A budget that always allows it here: its limiting is tested above, on a clock.
    grown = grown_after_fragmenting(0.9)
    assert grown < 16, f"the worker kept {grown:.0f} MiB of freed heap after a task"


def _running(pid: int) -> bool:
    """True when ``pid`` runs now (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _exits(pid: int, within: float = 10.0) -> bool:
    """True when ``pid`` is gone within ``within`` seconds."""
    deadline = time.monotonic() + within
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --- a real crawl ---------------------------------------------------------------------
ARTICLE = """<html lang="en"><head><title>{title} - Pool Gazette</title>
<meta property="article:published_time" content="2024-05-0{day}T08:30:00+00:00">
</head><body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>
<p class="byline">By Grace Hopper</p>{paragraphs}</article>
<footer>Copyright Pool Gazette</footer></body></html>"""

# Real failures, no test hook: trafilatura needs seconds of CPU for this tag soup (its
# cost grows with the cube of the spans)...
HANG_PAGE = (
    "<html><head><title>Endless spans story - Pool Gazette</title></head><body>"
    "<article><p>" + "<span>w</span> " * 20_000 + "</p></article></body></html>"
)
# ...and far more than the 260 MiB cap of the crawl below for this one.
MEMORY_PAGE = (
    "<html><head><title>Heavy links story - Pool Gazette</title></head><body>"
    "<article>"
    + '<a href="/x/y/z" class="a b c" data-x="1">t</a>' * 60_000
    + "</article></body></html>"
)


def _article(slug: str, n: int) -> str:
    paragraphs = "\n".join(
        f"<p>Story {n}, paragraph {i}: the harbour board weighed the cost of dredging "
        f"the channel against the income from larger ships docking at the quay.</p>"
        for i in range(5)
    )
    return ARTICLE.format(
        title=f"Harbour story number {n}", day=1 + n % 9, paragraphs=paragraphs
    )


def test_crawl_counts_a_crashing_and_a_hanging_page_and_writes_the_rest(
    tmp_path: Path,
) -> None:
    with SiteServer() as server:
        slugs = [f"story-{n}" for n in range(12)]
        for n, slug in enumerate(slugs):
            server.add(f"/news/{slug}", _article(slug, n))
        server.add("/news/endless-spans", HANG_PAGE)
        server.add("/news/heavy-links", MEMORY_PAGE)
        links = slugs[:6] + ["endless-spans", "heavy-links"] + slugs[6:]
        items = "".join(
            f"<item><title>{s}</title><link>{server.url}/news/{s}</link></item>"
            for s in links
        )
        server.add(
            "/feed.xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
            content_type="application/rss+xml",
        )
        sites = tmp_path / "sites"
        sites.mkdir()
        (sites / "gazette.toml").write_text(
            f'name = "Pool Gazette"\nhome = "{server.url}/"\ndomains = ["127.0.0.1"]\n'
            f'[discovery]\nfeeds = ["{server.url}/feed.xml"]\n'
            '[articles]\nallow = ["/news/"]\n',
            encoding="utf-8",
        )
        result = run_crawl(
            tmp_path,
            settings={
                "SITES_DIR": sites,
                "EXTRACT_WORKERS": 2,
                "EXTRACT_MIN_WORDS": 20,
                # Normal pages take milliseconds; the hanging one seconds of CPU
                # (6-10 s here), so it cannot finish in 4 s however idle the box.
                "EXTRACT_TIMEOUT": 4,
                # The hanging page maps about 190 MiB more, the heavy one 350:
                # the cap stops only the heavy one (100 stopped both).
                "EXTRACT_WORKER_MEMORY_MB": 260,
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": False,
            },
        )
    assert result.returncode == 0, result.log[-3000:]
    written = sorted(item["url"].rsplit("/", 1)[1] for item in result.items)
    assert written == sorted(slugs), (
        f"every normal article must be written, not only {written}\n"
        f"{result.log[-3000:]}"
    )
    # The hanging page always runs out of time. The heavy one reaches the memory cap
    # in about a second of CPU; on a machine loaded enough to stretch that past the
    # timeout it is stopped by the timeout instead: lost and counted either way.
    timeouts, crashes = result.stat("extract/timeout"), result.stat("extract/crashed")
    assert timeouts >= 1 and timeouts + crashes == 2, result.stats
    assert result.stat("extract_pool/workers") == 2
    assert result.stat("extract_pool/workers_replaced") == 2, result.stats
    assert "endless-spans" in result.log
    assert crashes == 0 or "out of memory" in result.log, result.log[-3000:]


PARENT_SCRIPT = """
import sys, time
from crawler.extraction.pool import PoolConfig, WorkerPool
from tests.test_pool import run_action
if __name__ == "__main__":
    pool = WorkerPool(run_action, PoolConfig(workers=1))
    print(pool.submit("pid").result(timeout=60), flush=True)
    pool.submit("sleep", 600)
    time.sleep(600)
"""


def test_workers_exit_when_their_parent_is_killed_even_mid_task(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        time.sleep(0.5)  # the worker is now inside its 600 s task
        assert _running(worker)
    finally:
        parent.kill()
        parent.wait()
    assert _exits(worker), "an orphaned worker must not finish a hanging page"


LOADS_EVERY_COMPONENT = """
import sys
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings

settings = get_project_settings()
for name in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES",
             "EXTENSIONS"):
    for path, order in settings.getdict(name).items():
        if order is not None:
            load_object(path)
for name in ("SCHEDULER", "DUPEFILTER_CLASS", "COMMANDS_MODULE"):
    __import__(settings.get(name).rpartition(".")[0] or settings.get(name))
import crawler.spiders.newsites  # noqa: E402,F401
heavy = sorted(m for m in ("trafilatura", "justext", "htmldate", "courlan")
               if m in sys.modules)
print("loaded:", heavy)
"""


def test_the_crawler_process_leaves_trafilatura_to_the_workers() -> None:
    # Every component the crawl builds, and the spider: none may import the
    # extractor (about 20 MB and a quarter of a second in the crawler process).
    result = subprocess.run(
        [sys.executable, "-c", LOADS_EVERY_COMPONENT],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loaded: []" in result.stdout, result.stdout


# --- what a worker loads --------------------------------------------------------------
def test_a_target_given_by_name_runs_after_its_warm_up_tasks(make_pool: Any) -> None:
    events: list[str] = []
    pool = make_pool(
        workers=1,
        target="tests.test_pool:run_action",
        warmup_tasks=[(("echo", 1), {}), (("bug", "warm"), {})],
        events=events,
    )
    # A failing warm-up task is logged; the worker starts and works all the same.
    assert pool.submit("echo", "after").result(timeout=RESULT_WAIT) == "after"
    assert events.count("started") == 1, events


WORKER_WARM_UP = """
import json, pickle, sys
from crawler.extraction.pool import resolve
target, tasks = pickle.loads(bytes.fromhex(sys.argv[1]))
extract = resolve(target)
pages = [extract(*args, **kwargs) for args, kwargs in tasks]
langid = sys.modules.get("py3langid.langid")
stoplists = sys.modules.get("trafilatura.external")
print(json.dumps({
    "paragraphs": [len(page.paragraphs) for page in pages],
    "crawl_machinery": sorted(
        m for m in ("scrapy", "twisted", "itemadapter", "itemloaders",
                    "crawler.discovery", "crawler.extraction.service", "crawler.items")
        if m in sys.modules
    ),
    "langid_model": bool(langid and langid.IDENTIFIER is not None),
    "stoplists": bool(stoplists and stoplists.JT_STOPLIST is not None),
}))
"""


def _worker_after_warm_up() -> dict[str, Any]:
    """What a worker of the service's pool holds after its warm-up, in a fresh
    interpreter: import the pool module, unpickle the target's name and the warm-up
    tasks, resolve, warm up."""
    from crawler.extraction.service import WARMUP_TASKS, WORKER_TARGET

    data = pickle.dumps((WORKER_TARGET, WARMUP_TASKS)).hex()
    result = subprocess.run(
        [sys.executable, "-c", WORKER_WARM_UP, data],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    state: dict[str, Any] = json.loads(result.stdout)
    return state


def test_the_warm_up_loads_the_lazy_stoplists_but_not_the_language_model() -> None:
    state = _worker_after_warm_up()
    # A warm-up page that fails would be logged at every worker start.
    assert all(state["paragraphs"]), f"a warm-up page extracted no text: {state}"
    assert state["stoplists"], "the fallback page should load justext's stoplists"
    assert not state["langid_model"], (
        "a warm-up page without a declared language loads py3langid's model "
        "(74 MB a worker): give every warm-up page <html lang>"
    )


def test_a_worker_keeps_the_crawl_machinery_out() -> None:
    """Workers import the extractor only: not Scrapy's package nor Twisted (22 MB a
    worker; ``itemadapter``, and ``itemloaders`` through it, import Scrapy whenever
    it is installed), no discovery, not the service (which builds the pool from a
    crawler), not the items (which raise Scrapy's ``DropItem``)."""
    loaded = _worker_after_warm_up()["crawl_machinery"]
    assert loaded == [], (
        f"a worker loads {loaded}: find who imports it with python -X importtime "
        "and keep it out of crawler.extraction.extractor"
    )
