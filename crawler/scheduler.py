"""Scrapy's scheduler, with its request queue on disk even when no JOBDIR is set.

Discovery can schedule a whole site at once (a sitemap index of 20,000 articles is
20,000 ``Request`` objects, about 2.5 KB each in memory). Scrapy keeps them on disk
only when ``JOBDIR`` is set, so without it the crawler's memory grows with the site.
This scheduler gives a run without ``JOBDIR`` a private spill folder instead
(``SCHEDULER_SPILL_DIR``, default ``$TMPDIR`` or ``/var/tmp``), uses Scrapy's own
disk queues in it, and removes it when the spider closes. Nothing is resumed from it:
a run that needs resuming sets ``JOBDIR`` (``RUN_JOBDIR`` for ``newsites run``), and
then this class behaves exactly like Scrapy's.

Failures are explicit and never lose a request: when the folder cannot be made the
queue stays in memory (``scheduler/spill/unavailable``, a warning), and a request the
disk refuses (full disk, I/O error), and every later one, goes to the memory queue
(``scheduler/spill/failed``, one warning).

A run killed with SIGKILL cannot remove its folder: the folder's name carries the
process id, and the next run removes the folders of processes that are gone
(``scheduler/spill/stale_removed``).

Settings: ``SCHEDULER_SPILL`` (default ``True``), ``SCHEDULER_SPILL_DIR``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.core.scheduler import Scheduler

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.dupefilters import BaseDupeFilter
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

PREFIX = "newsites-queue-"
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)-")


def default_parent() -> Path:
    """Where queue folders go when ``SCHEDULER_SPILL_DIR`` is empty: ``$TMPDIR`` if
    set, else ``/var/tmp`` (on disk on every common system, where ``/tmp`` is often
    a RAM-backed tmpfs that would hold the queue in memory after all), else the
    system's temporary folder."""
    if os.environ.get("TMPDIR"):
        return Path(tempfile.gettempdir())
    var_tmp = Path("/var/tmp")
    if var_tmp.is_dir() and os.access(var_tmp, os.W_OK | os.X_OK):
        return var_tmp
    return Path(tempfile.gettempdir())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process
        return True
    return True


def remove_stale(parent: Path) -> int:
    """Remove queue folders in ``parent`` left by killed runs (their process is
    gone); returns how many. A folder of a live process is left alone."""
    removed = 0
    try:
        entries = list(parent.iterdir())
    except OSError:
        return 0
    for entry in entries:
        match = _NAME.match(entry.name)
        if not match or not entry.is_dir() or _alive(int(match.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed += 1
    return removed


def make_spill_dir(crawler: Crawler) -> str | None:
    """A private queue folder for this run (None: SCHEDULER_SPILL off, or the
    folder cannot be made), after removing the folders of killed runs."""
    settings = crawler.settings
    if not settings.getbool("SCHEDULER_SPILL", True):
        return None
    parent = Path(settings.get("SCHEDULER_SPILL_DIR") or default_parent())
    stale = remove_stale(parent)
    if stale:
        crawler.stats.inc_value("scheduler/spill/stale_removed", stale)
        logger.info("Removed %d request queue folder(s) of killed runs", stale)
    try:
        return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent)
    except OSError as exc:
        crawler.stats.inc_value("scheduler/spill/unavailable")
        logger.warning(
            "SCHEDULER_SPILL_DIR: cannot make a queue folder in %s (%s); "
            "requests stay in memory for this run",
            parent,
            exc,
        )
        return None


class SpillingScheduler(Scheduler):
    """``Scheduler`` whose queue lives in a temporary folder when there is no JOBDIR.

    Built by Scrapy's own ``from_crawler``; only the ``jobdir`` it passes changes.
    """

    def __init__(
        self, dupefilter: BaseDupeFilter, jobdir: str | None = None, **kwargs: Any
    ) -> None:
        crawler: Crawler | None = kwargs.get("crawler")
        #: the private queue folder, removed on close (None with JOBDIR)
        self.spill_dir = (
            make_spill_dir(crawler) if not jobdir and crawler is not None else None
        )
        super().__init__(dupefilter, jobdir or self.spill_dir, **kwargs)
        self._disk_failed = False

    def _dqpush(self, request: Request) -> bool:
        if self._disk_failed:  # a queue file may end in a torn record: append no more
            assert self.stats is not None
            self.stats.inc_value("scheduler/spill/failed")
            return False
        try:
            return super()._dqpush(request)
        except OSError as exc:  # full disk, I/O error: keep the request in memory
            assert self.stats is not None
            self.stats.inc_value("scheduler/spill/failed")
            self._disk_failed = True
            logger.warning(
                "request queue: cannot write to %s (%s); from now on requests are "
                "kept in memory (scheduler/spill/failed)",
                self.dqdir,
                exc,
            )
            return False

    def close(self, reason: str) -> Deferred[None] | None:
        result = super().close(reason)
        if self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)
        return result
