"""Show a crawl's progress: one live line on a terminal, a periodic line in logs.

On a terminal (stderr is a TTY, or ``PROGRESS_TERMINAL = "always"``) one stderr line
is rewritten every ``PROGRESS_INTERVAL`` seconds::

    0:42  pages 312 (7.4/s)  articles 118 (168/min)  errors 2  tribune 80, herald 38

Log records written to the same terminal first clear that line, so the two do not
mix. When the log goes elsewhere (stderr not a terminal: cron, a pipe; or a
``LOG_FILE``, as in ``newsites run``) the same line is logged every
``PROGRESS_LOG_INTERVAL`` seconds, and once when the crawl ends.

Numbers come from the stats: ``response_received_count`` (pages), items scraped per
site (articles), ``errors/entry`` + ``errors/article`` (failed requests).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

TERMINAL_MODES = ("auto", "always", "never")
_CLEAR = "\r\x1b[K"  # carriage return, erase to the end of the line
MAX_SITES_SHOWN = 6


def progress_line(
    elapsed: float, pages: int, articles: Counter[str], errors: int
) -> str:
    """``m:ss  pages N (r/s)  articles N (r/min)  errors N  site n, site n``."""
    minutes, seconds = divmod(int(elapsed), 60)
    per_second = pages / elapsed if elapsed > 0 else 0.0
    per_minute = 60 * sum(articles.values()) / elapsed if elapsed > 0 else 0.0
    parts = [
        f"{minutes}:{seconds:02d}",
        f"pages {pages} ({per_second:.1f}/s)",
        f"articles {sum(articles.values())} ({per_minute:.0f}/min)",
        f"errors {errors}",
    ]
    top = articles.most_common(MAX_SITES_SHOWN)
    if top:
        more = len(articles) - len(top)
        sites = ", ".join(f"{site} {n}" for site, n in top)
        parts.append(sites + (f", +{more} sites" if more > 0 else ""))
    return "  ".join(parts)


class _ClearLine(logging.Filter):
    """Before a log record reaches the terminal, erase the progress line there."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True


class Progress:
    """Extension: the progress line (see the module docstring)."""

    def __init__(self, crawler: Crawler, stream: IO[str] | None = None) -> None:
        settings = crawler.settings
        if not settings.getbool("PROGRESS_ENABLED"):
            raise NotConfigured
        mode = (settings.get("PROGRESS_TERMINAL") or "auto").strip().lower()
        if mode not in TERMINAL_MODES:
            raise ValueError(
                f"PROGRESS_TERMINAL must be one of {', '.join(TERMINAL_MODES)}, "
                f"not {mode!r}"
            )
        self.crawler = crawler
        self.stream = stream or sys.stderr
        self.on_terminal = mode == "always" or (mode == "auto" and self.stream.isatty())
        # the log is read elsewhere than on this terminal: it gets the line too
        self.to_log = not self.on_terminal or bool(settings.get("LOG_FILE"))
        self.intervals = {
            self.show: settings.getfloat("PROGRESS_INTERVAL")
            if self.on_terminal
            else 0,
            self.log: settings.getfloat("PROGRESS_LOG_INTERVAL") if self.to_log else 0,
        }
        self.articles: Counter[str] = Counter()
        self.started = time.monotonic()
        self.shown = False  # the progress line is on the terminal now
        self.tasks: list[AsyncioLoopingCall | LoopingCall] = []
        self._filters: list[tuple[logging.Handler, _ClearLine]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    # --- signals ---------------------------------------------------------------
    def spider_opened(self) -> None:
        self.started = time.monotonic()
        if self.on_terminal:
            self._clear_before_log_records()
        for output, interval in self.intervals.items():
            if interval > 0:
                task = create_looping_call(output)
                task.start(interval, now=False)
                self.tasks.append(task)

    def item_scraped(self, item: Any) -> None:
        self.articles[str(ItemAdapter(item).get("site") or "?")] += 1

    def spider_closed(self) -> None:
        for task in self.tasks:
            if task.running:
                task.stop()
        if self.on_terminal:
            self.show(final=True)
            for handler, log_filter in self._filters:
                handler.removeFilter(log_filter)
        if self.to_log:
            self.log(final=True)

    # --- output ----------------------------------------------------------------
    def line(self) -> str:
        stats = self.crawler.stats
        assert stats is not None
        errors = int(stats.get_value("errors/entry", 0)) + int(
            stats.get_value("errors/article", 0)
        )
        return progress_line(
            time.monotonic() - self.started,
            int(stats.get_value("response_received_count", 0)),
            self.articles,
            errors,
        )

    def log(self, final: bool = False) -> None:
        logger.info("Progress%s: %s", " (end)" if final else "", self.line())

    def show(self, final: bool = False) -> None:
        self.stream.write(_CLEAR + self.line() + ("\n" if final else ""))
        self.stream.flush()
        self.shown = not final

    def clear(self) -> None:
        if self.shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self.shown = False

    def _clear_before_log_records(self) -> None:
        """Log records printed on our terminal erase the progress line first."""
        for handler in logging.getLogger().handlers:
            stream = getattr(handler, "stream", None)
            if stream is self.stream or stream is sys.stderr:
                log_filter = _ClearLine(self)
                handler.addFilter(log_filter)
                self._filters.append((handler, log_filter))
