"""Worker processes that run one function per task and survive crashes and hangs.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies (a
segfault in a C extension, ``os._exit``, the kernel's OOM killer) the executor is
*broken* and fails every pending future, it has no per-task time limit, and it cannot
say which task killed the worker. A crawl must lose only the page that did it.

So each worker here has its own pipe and, in the parent, its own feeder thread that
takes tasks from a shared queue, sends them (two at a time: the one the worker runs
and the next), and waits for the answers with the time limit. A worker answers in
order, so the task it was running when it died or hung is known exactly: that task
alone fails (``WorkerCrashed`` / ``WorkerTimeout``), the worker is replaced, the task
that waited behind it goes to the replacement, and the queued tasks go on. Results are
``concurrent.futures.Future``s; the feeder threads only wait on pipes (which releases
the GIL), so the caller's thread, the Twisted reactor for the spider, never blocks on
extraction.

Workers start with the ``spawn`` (default) or ``forkserver`` method, never by forking a
process that runs a reactor and threads. With ``forkserver`` the target's module is
preloaded once in the fork server, so a replacement worker starts in milliseconds.
In each worker an address-space cap (``RLIMIT_AS``) turns a memory blow-up into a
``MemoryError``; the worker then exits, which counts as a crash of that task.

Memory of a long-lived worker: what the warm-up leaves is frozen out of the cyclic
garbage collector (``gc.freeze``), and after answers the worker gives the C heap's free
pages back to the OS (glibc's ``malloc_trim``) within a small CPU budget
(``HeapTrimmer``): without it a worker keeps the high-water mark of its largest pages.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

#: Exit status of a worker that ran out of memory (a ``MemoryError`` under its cap).
EXIT_OUT_OF_MEMORY = 75
START_METHODS = ("spawn", "forkserver")
_MB = 1024 * 1024
# What multiprocessing reports for a forkserver child when the fork server is gone.
_FORKSERVER_LOST = 255


class WorkerError(Exception):
    """A task failed because of its worker process, not because of its own code."""


class WorkerCrashed(WorkerError):
    """The worker process died while running the task (signal, exit, out of memory)."""


class WorkerTimeout(WorkerError):
    """The task ran longer than the time limit; its worker was killed."""


class PoolBroken(WorkerError):
    """Workers cannot be started (``MAX_START_FAILURES`` in a row): the pool gave up."""


class RemoteTraceback(Exception):
    """The worker-side traceback of an exception, chained as its ``__cause__``."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(text)

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


@dataclass(frozen=True)
class PoolConfig:
    """How many workers, how long a task may run, how much memory a worker may map."""

    #: Worker processes (>= 1).
    workers: int = 2
    #: Seconds a task may run before its worker is killed; 0: no limit.
    timeout: float = 30.0
    #: Address space (``RLIMIT_AS``, MiB) a worker may map beyond its size after
    #: warm-up, i.e. what one task may use; 0: no cap.
    memory_mb: int = 0
    #: Replace a worker after this many tasks (bounds slow leaks); 0: never.
    max_tasks: int = 0
    #: ``spawn`` or ``forkserver``.
    start_method: str = "spawn"
    #: Seconds a new worker may take to import and warm up.
    start_timeout: float = 120.0
    #: Share of a worker's CPU time the calls that return freed heap to the OS
    #: (``malloc_trim``, see ``HeapTrimmer``) may take; 0: never trim.
    trim_budget: float = 0.01

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, not {self.workers}")
        if self.start_method not in START_METHODS:
            raise ValueError(
                f"start method must be one of {', '.join(START_METHODS)}, "
                f"not {self.start_method!r}"
            )
        if self.timeout < 0 or self.memory_mb < 0 or self.max_tasks < 0:
            raise ValueError("timeout, memory_mb and max_tasks must be >= 0")
        if not 0 <= self.trim_budget < 1:
            raise ValueError(f"trim_budget must be in [0, 1), not {self.trim_budget}")


@dataclass
class _Task:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: Future[Any]


_STOP = object()
#: Consecutive failed worker starts after which the pool is broken for good.
MAX_START_FAILURES = 3


def describe_exit(code: int | None) -> str:
    """A worker's exit code as text: 'killed by SIGSEGV', 'exit status 3'..."""
    if code is None:
        return "still running"
    if code == EXIT_OUT_OF_MEMORY:
        return "out of memory"
    if code == _FORKSERVER_LOST:
        return "lost (exit status 255: it exited so, or its fork server died)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class WorkerPool:
    """Run ``target(*args, **kwargs)`` in worker processes; ``submit`` returns a Future.

    ``target`` is a module-level function (pickled by reference) or its name,
    ``"module:function"``, imported in the worker only: then neither the process that
    builds the pool nor the workers import more than that module (a worker that
    unpickles a function also imports the module it is defined in, and what that
    imports). Its arguments and result must pickle. ``warmup`` (same forms, no
    arguments) runs once in each new worker before its first task (imports, caches),
    then ``warmup_tasks``, ``(args, kwargs)`` of calls of the target whose answers
    are dropped; a failure of any is logged. ``preload``: modules the fork server
    imports (default the target's). ``on_event(name)`` is called from a feeder
    thread for ``started``, ``replaced``, ``recycled``, ``start_failed`` and ``broken``.
    """

    def __init__(
        self,
        target: Callable[..., Any] | str,
        config: PoolConfig,
        *,
        warmup: Callable[[], Any] | str | None = None,
        warmup_tasks: Sequence[tuple[tuple[Any, ...], dict[str, Any]]] = (),
        on_event: Callable[[str], None] | None = None,
        preload: list[str] | None = None,
    ) -> None:
        self.target = target
        self.config = config
        self.warmup = warmup
        self.warmup_tasks = tuple(warmup_tasks)
        self.on_event = on_event or (lambda name: None)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._feeders: list[_Feeder] = []
        self._closed = False
        self._lock = threading.Lock()
        self._start_failures = 0
        self.broken = False
        self._context = multiprocessing.get_context(config.start_method)
        if config.start_method == "forkserver":
            # Import the target's module (or ``preload``) once in the fork server;
            # workers fork warm. No effect if this process's fork server already
            # runs (stdlib global).
            module = (
                target.partition(":")[0]
                if isinstance(target, str)
                else target.__module__
            )
            self._context.set_forkserver_preload(preload or [module])

    def start(self) -> None:
        """Start the feeder threads; each starts its worker (the caller never waits)."""
        with self._lock:
            if self._feeders:
                return
            for n in range(self.config.workers):
                feeder = _Feeder(self, n)
                self._feeders.append(feeder)
                feeder.start()

    def submit(self, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue one call; the Future fails with ``WorkerError`` if its worker does."""
        if self._closed:
            raise RuntimeError("the pool is closed")
        if self.broken:
            raise PoolBroken("worker processes cannot be started")
        if not self._feeders:
            self.start()
        future: Future[Any] = Future()
        self._queue.put(_Task(args, kwargs, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Finish the queued tasks, stop every worker, wait for them (blocking)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            feeders = list(self._feeders)
        for _ in feeders:
            self._queue.put(_STOP)
        deadline = time.monotonic() + timeout + (self.config.timeout or 0)
        for feeder in feeders:
            feeder.join(max(0.1, deadline - time.monotonic()))
        for feeder in feeders:
            feeder.kill_worker()

    def _note_start(self, ok: bool) -> None:
        with self._lock:
            self._start_failures = 0 if ok else self._start_failures + 1
            if self._start_failures >= MAX_START_FAILURES and not self.broken:
                self.broken = True
                logger.error(
                    "Extraction workers failed to start %d times in a row: "
                    "the pool gives up",
                    self._start_failures,
                )
                self.on_event("broken")

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (for tests and diagnostics)."""
        return [
            f.worker.pid for f in self._feeders if f.worker is not None and f.worker.pid
        ]


class _WorkerHandle:
    """Parent side of one worker process: the process and our end of its pipe."""

    def __init__(self, process: Any, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.pid: int | None = process.pid
        self.tasks = 0

    def stop(self, grace: float) -> str:
        """Ask the worker to exit, kill it after ``grace`` seconds; its exit as text."""
        try:
            self.conn.send_bytes(pickle.dumps(None))
        except OSError:
            pass
        self.process.join(grace)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(5)
        self.conn.close()
        return describe_exit(self.process.exitcode)

    def kill(self, wait: float = 0.0) -> str:
        """Kill the worker (after ``wait`` seconds for one already exiting); its exit
        as text."""
        if self.process.exitcode is None and wait:
            # Its pipe closed as it exits: let it finish, so its own exit status is
            # reported (not the SIGKILL sent to a process that was dying anyway).
            self.process.join(wait)
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join(5)
        self.conn.close()
        if self.process.exitcode == _FORKSERVER_LOST and self.pid:
            # The fork server died, so the worker's fate is unknown: it may still run.
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        return describe_exit(self.process.exitcode)


class _InFlight:
    """A task sent to a worker, with its pickled payload (kept to resend it)."""

    __slots__ = ("task", "payload", "sent")

    def __init__(self, task: _Task, payload: bytes, sent: float) -> None:
        self.task = task
        self.payload = payload
        self.sent = sent


class _Feeder(threading.Thread):
    """Feeds one worker and replaces it when it dies or hangs.

    The worker holds up to ``PREFETCH`` tasks: it runs one while the next waits in
    its own reader thread, so the time this thread takes to get the GIL back from a
    busy reactor never leaves the worker idle. The worker answers in order, so the
    oldest unanswered task is the one it was running: when the worker dies or
    overruns, that task fails and the others are sent again to its replacement.
    """

    PREFETCH = 2

    def __init__(self, pool: WorkerPool, number: int) -> None:
        super().__init__(name=f"extract-feeder-{number}", daemon=True)
        self.pool = pool
        self.number = number
        self.worker: _WorkerHandle | None = None
        self.lost = False  # the last worker died or hung: the next start replaces it
        self.inflight: deque[_InFlight] = deque()
        self.resend: deque[_InFlight] = deque()  # innocent tasks of a lost worker
        self.last_answer = 0.0
        self.stopping = False

    def run(self) -> None:
        try:
            self._ensure_worker()
        except WorkerError as exc:
            logger.warning("Extraction worker %d did not start: %s", self.number, exc)
        while True:
            if self.worker is None and not self.inflight and not self.stopping:
                self._replace_now()
            self._fill()
            if not self.inflight:
                if self.stopping:
                    break
                continue
            self._await_oldest()
        if self.worker is not None:
            self.worker.stop(grace=5.0)
            self.worker = None

    def _replace_now(self) -> None:
        """Start a lost worker's replacement now, so it is warm for the next task."""
        if not self.lost or self.pool.broken:
            return
        try:
            self._ensure_worker()
        except WorkerError as exc:
            logger.warning("Extraction worker %d not replaced: %s", self.number, exc)

    def kill_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.kill()

    # --- sending ---------------------------------------------------------------------
    def _next(self, block: bool) -> _InFlight | None:
        """The next task to send: one to resend first, else one from the queue."""
        if self.resend:
            return self.resend.popleft()
        while not self.stopping:
            try:
                task = self.pool._queue.get(block=block)
            except queue.Empty:
                return None
            if task is _STOP:
                self.stopping = True
                return None
            if not task.future.set_running_or_notify_cancel():
                continue  # cancelled by the caller
            if self.pool.broken:
                error = PoolBroken("worker processes cannot be started")
                task.future.set_exception(error)
                continue
            try:
                payload = pickle.dumps(
                    (task.args, task.kwargs), protocol=pickle.HIGHEST_PROTOCOL
                )
            except Exception as exc:  # noqa: BLE001 - pickling errors are the caller's
                task.future.set_exception(exc)
                continue
            return _InFlight(task, payload, 0.0)
        return None

    def _fill(self) -> None:
        """Send until the worker holds ``PREFETCH`` tasks (block only if it has 0)."""
        while len(self.inflight) < self.PREFETCH:
            item = self._next(block=not self.inflight)
            if item is None or not self._send(item):
                return

    def _send(self, item: _InFlight) -> bool:
        """Send ``item`` to the worker; False: stop filling, the worker needs a look."""
        if self.inflight:
            # The worker holds tasks: only it may get this one. If it is dead, its
            # buffered answers must be read before the oldest unanswered is blamed.
            assert self.worker is not None
            try:
                self.worker.conn.send_bytes(item.payload)
            except OSError:
                self.resend.appendleft(item)
                return False
            item.sent = time.monotonic()
            self.inflight.append(item)
            return True
        for _ in range(2):  # found dead while idle: start another and try again
            try:
                worker = self._ensure_worker()
            except WorkerError as exc:
                error: WorkerError = (
                    PoolBroken(str(exc))
                    if self.pool.broken
                    else WorkerCrashed(f"no worker: {exc}")
                )
                self._fail_all(item, error)
                return False
            try:
                worker.conn.send_bytes(item.payload)
            except OSError:
                exit_text = self._lose_worker(dying=True)
                logger.warning(
                    "Extraction worker %s died while idle (%s)", worker.pid, exit_text
                )
                continue
            self.last_answer = item.sent = time.monotonic()  # an idle worker starts now
            self.inflight.append(item)
            return True
        item.task.future.set_exception(
            WorkerCrashed("the worker died before the task reached it")
        )
        return True

    def _fail_all(self, item: _InFlight, exc: WorkerError) -> None:
        item.task.future.set_exception(exc)
        while self.resend:
            self.resend.popleft().task.future.set_exception(exc)

    # --- answers ----------------------------------------------------------------------
    def _await_oldest(self) -> None:
        worker = self.worker
        assert worker is not None
        oldest = self.inflight[0]
        limit = self.pool.config.timeout
        if limit:
            started = max(oldest.sent, self.last_answer)
            ready = worker.conn.poll(max(0.0, started + limit - time.monotonic()))
        else:
            ready = worker.conn.poll(None)
        if not ready:
            exit_text = self._lose_worker()
            logger.warning(
                "Extraction worker %s killed after %gs on a task (%s)",
                worker.pid,
                limit,
                exit_text,
            )
            self.inflight.popleft().task.future.set_exception(
                WorkerTimeout(f"no result after {limit:g} s")
            )
            self._requeue_inflight()
            return
        try:
            data = worker.conn.recv_bytes()
        except (EOFError, OSError):
            exit_text = self._lose_worker(dying=True)
            logger.warning(
                "Extraction worker %s died on a task (%s)", worker.pid, exit_text
            )
            self.inflight.popleft().task.future.set_exception(
                WorkerCrashed(f"worker {exit_text}")
            )
            self._requeue_inflight()
            return
        self.last_answer = time.monotonic()
        future = self.inflight.popleft().task.future
        worker.tasks += 1
        try:
            ok, value, remote_tb = pickle.loads(data)
        except Exception as exc:  # noqa: BLE001 - an unpicklable remote result or error
            future.set_exception(
                RuntimeError(f"cannot unpickle the worker's answer: {exc!r}")
            )
        else:
            if ok:
                future.set_result(value)
            else:
                if remote_tb:
                    value.__cause__ = RemoteTraceback(remote_tb)
                future.set_exception(value)
        max_tasks = self.pool.config.max_tasks
        if max_tasks and worker.tasks >= max_tasks and not self.inflight:
            self.worker = None
            worker.stop(grace=5.0)
            self.pool.on_event("recycled")

    def _requeue_inflight(self) -> None:
        """Tasks the lost worker had not started go first to its replacement."""
        self.resend.extendleft(reversed(self.inflight))
        self.inflight.clear()

    def _lose_worker(self, dying: bool = False) -> str:
        """Kill and forget the worker (the next start counts as a replacement).
        ``dying``: its pipe closed, so it is exiting; wait a moment for its status."""
        worker, self.worker = self.worker, None
        self.lost = True
        if worker is None:
            return "gone"
        return worker.kill(wait=1.0 if dying else 0.0)

    # --- worker life ------------------------------------------------------------------
    def _ensure_worker(self) -> _WorkerHandle:
        worker = self.worker
        if worker is not None and worker.process.is_alive():
            return worker
        if self.pool.broken:
            raise PoolBroken("worker processes cannot be started")
        if worker is not None:
            exit_text = worker.kill()
            logger.warning(
                "Extraction worker %s died while idle (%s)", worker.pid, exit_text
            )
            self.lost = True
        self.worker = None
        config = self.pool.config
        context = self.pool._context
        parent_conn, child_conn = context.Pipe(duplex=True)
        process = context.Process(  # type: ignore[attr-defined]
            target=worker_main,
            args=(
                child_conn,
                self.pool.target,
                self.pool.warmup,
                self.pool.warmup_tasks,
                config.memory_mb,
                config.trim_budget,
            ),
            name=f"extract-worker-{self.number}",
            daemon=True,
        )
        try:
            process.start()
        except Exception as exc:  # noqa: BLE001 - fork/exec failures of any kind
            parent_conn.close()
            child_conn.close()
            self.pool.on_event("start_failed")
            self.pool._note_start(ok=False)
            raise WorkerError(f"cannot start a worker process: {exc!r}") from exc
        child_conn.close()
        handle = _WorkerHandle(process, parent_conn)
        try:
            if not parent_conn.poll(config.start_timeout):
                raise WorkerError(f"not ready after {config.start_timeout:g} s")
            kind, warm_error = parent_conn.recv()
        except (WorkerError, EOFError, OSError) as exc:
            exit_text = handle.kill()
            self.pool.on_event("start_failed")
            self.pool._note_start(ok=False)
            detail = str(exc) if isinstance(exc, WorkerError) else exit_text
            raise WorkerError(f"worker failed to start: {detail}") from None
        if warm_error:
            logger.warning(
                "Extraction worker %s: warm-up failed: %s", handle.pid, warm_error
            )
        self.pool._note_start(ok=True)
        self.pool.on_event("started")
        if self.lost:
            self.pool.on_event("replaced")
            self.lost = False
        self.worker = handle
        return handle


# --- the worker process ---------------------------------------------------------------
def worker_main(
    conn: Connection,
    target_ref: Callable[..., Any] | str,
    warmup: Callable[[], Any] | str | None,
    warmup_tasks: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
    memory_mb: int,
    trim_budget: float = 0.0,
) -> None:
    """A worker process: warm up, then answer tasks until told to stop."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop,
    # so a graceful Scrapy shutdown can still finish the pages in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A target that cannot be imported ends the worker: a failed start, counted.
    target = resolve(target_ref)
    warm_error = None
    try:
        if warmup is not None:
            resolve(warmup)()
        for args, kwargs in warmup_tasks:
            target(*args, **kwargs)
    except Exception:  # noqa: BLE001 - reported to the parent, which logs it
        warm_error = traceback.format_exc(limit=3)
    # A reader thread takes tasks off the pipe as they come, so the parent's sends of
    # the next task never wait for this one to finish.
    inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    reader_ready = threading.Event()
    threading.Thread(
        target=_read_tasks, args=(conn, inbox, reader_ready), daemon=True
    ).start()
    reader_ready.wait()
    if memory_mb:
        # Headroom above the size after warm-up (reader thread included): the cap is
        # for what a page does, so it means the same whatever the libraries map at
        # start-up on this machine.
        import resource

        cap = _address_space() + memory_mb * _MB
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    # What is alive now (modules, caches, the warm-up's lazy state) lives as long as
    # the worker: out of the collector's way, its full collections stop walking it
    # (~0.4 ms a page on real pages, measured). No gc.collect() or trim first: the
    # memory they would free is headroom the cap was not measured with, and a page
    # that needs far more than the cap then runs for seconds longer before its
    # MemoryError (tests/test_pool.py's crawl, its heavy page).
    gc.freeze()
    trimmer = HeapTrimmer(load_malloc_trim() if trim_budget else None, trim_budget)
    conn.send(("ready", warm_error))
    while True:
        data = inbox.get()
        try:
            message = pickle.loads(data)
            if message is None:
                return
            args, kwargs = message
            reply: tuple[bool, Any, str | None] = (True, target(*args, **kwargs), None)
        except MemoryError:
            os._exit(EXIT_OUT_OF_MEMORY)
        except Exception as exc:  # noqa: BLE001 - sent back and raised in the parent
            reply = (False, exc, traceback.format_exc())
        del data
        try:
            out = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            os._exit(EXIT_OUT_OF_MEMORY)
        except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
            text = f"cannot pickle the worker's answer: {exc!r}"
            out = pickle.dumps((False, RuntimeError(text), traceback.format_exc()))
        del reply
        try:
            conn.send_bytes(out)
        except OSError:
            return
        del out
        trimmer.after_task()


def resolve(ref: Callable[..., Any] | str) -> Callable[..., Any]:
    """A function, or the one named ``"module:name"`` (imported now)."""
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def load_malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None where the C library has none (musl, macOS,
    Windows): trimming is an optimization, never a reason to fail."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # this process's C library (dlopen NULL)
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class HeapTrimmer:
    """Gives the C heap's free pages back to the OS after tasks, within a CPU budget.

    glibc keeps memory it got for a large page (lxml trees, decoded text: tens of MB)
    after it is freed: only free space at the top of the heap goes back on its own, so
    a worker's RSS stays at the high-water mark of its largest pages. ``malloc_trim(0)``
    also releases the free pages inside the heap (since glibc 2.8). The call takes
    ~0.3-1 ms on a worker's heap, and the page faults when the heap grows back into
    the released pages cost about three times as much again (measured on real pages:
    ~350 more minor faults a page when trimming every 4th, ~2.6 us each on our VM).
    So it runs only while the time spent in the calls stays under ``budget`` of the
    process's CPU time: at 0.2%, a trim every ~24 real pages (~2 ms each) and ~95 more
    faults a page, ~0.75% in all; mean RSS 122 MB instead of 132-136 (measured).
    The default is 1% (``EXTRACT_WORKER_TRIM_BUDGET``), a trim every ~5 pages: the
    two workers' high-water moments coincide less, and the process tree's peak fell
    356 -> 345 MB at N = 20,000 with throughput the same within noise (measured).
    ``trim=None``: no-op.
    """

    def __init__(
        self,
        trim: Callable[[], object] | None,
        budget: float,
        clock: Callable[[], float] = time.process_time,
    ) -> None:
        self._trim = trim
        self.budget = budget
        self._clock = clock
        self._start = clock()
        #: CPU seconds spent in trims, and how many ran.
        self.spent = 0.0
        self.trims = 0

    def after_task(self) -> bool:
        """Trim if the budget allows it now; whether it trimmed."""
        if self._trim is None:
            return False
        if self.spent > self.budget * (self._clock() - self._start):
            return False
        return self.trim()

    def trim(self) -> bool:
        """Trim now (if trimming is available); whether it trimmed."""
        if self._trim is None:
            return False
        before = self._clock()
        self._trim()
        self.spent += self._clock() - before
        self.trims += 1
        return True


def _address_space() -> int:
    """This process's mapped address space in bytes (VmSize), what RLIMIT_AS limits."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _read_tasks(
    conn: Connection, inbox: queue.SimpleQueue[bytes], ready: threading.Event
) -> None:
    """Worker-side reader: task payloads into ``inbox``; exit when the parent goes."""
    # Allocate once before the memory cap is set, so that this thread's malloc arena
    # (reserved address space) counts in the worker's size, not in a page's headroom.
    bytearray(64 * 1024)
    ready.set()
    while True:
        try:
            data = conn.recv_bytes()
        except MemoryError:
            os._exit(EXIT_OUT_OF_MEMORY)
        except (EOFError, OSError):
            # The parent is gone (killed, or closed the pipe): nobody will read an
            # answer, so do not finish the page at hand (it may be one that hangs).
            os._exit(0)
        inbox.put(data)
