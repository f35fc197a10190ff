"""``scrapy shell`` with the project's settings: a URL or a local file, no hang.

Two project settings stood in its way:

- ``SCHEDULER_SPILL`` puts every scheduled request on disk. The shell schedules its
  request first and only then swaps in the callback that hands it the response
  (``scrapy.shell._request_deferred``), so the copy read back from disk had no such
  callback and the shell waited for ever. The shell fetches one page at a time:
  its queue stays in memory.
- A local file (``./fixtures/site/page.html``) is a ``file://`` URL, which the
  project refuses (``DOWNLOAD_HANDLERS``, ``crawler.safety.addresses``). Given a
  local file, and only then, the file handler and the scheme are allowed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.commands.shell import Command as ScrapyShellCommand

FILE_HANDLER = "scrapy.core.downloader.handlers.file.FileDownloadHandler"


def is_local_file(arg: str) -> bool:
    """True when the shell's argument names a file on disk (Scrapy's own rule:
    ``./page.html``, ``../page.html`` or an absolute path)."""
    return arg.startswith(("./", "../", "/")) and Path(arg).is_file()


class Command(ScrapyShellCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # above the project's settings.py (priority "project"), which switches it on
        self.settings.set("SCHEDULER_SPILL", False, priority="cmdline")
        if args and is_local_file(args[0]):
            handlers = dict(self.settings.getdict("DOWNLOAD_HANDLERS"))
            handlers["file"] = FILE_HANDLER
            self.settings.set("DOWNLOAD_HANDLERS", handlers, priority="cmdline")
            self.settings.set("SAFETY_ALLOW_FILE_URLS", True, priority="cmdline")
