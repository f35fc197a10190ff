"""A local test web site on 127.0.0.1: pages held in memory, every request logged.

Tests (and benchmarks) build a ``SiteServer``, put pages in it, start it on port 0,
point a site file at ``server.url``, run a real crawl, and assert on ``server.log``.
Pages can be changed between runs. Nothing here ever listens beyond loopback.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    """One response: body, status, headers; ``delay`` seconds before answering."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    gzip_body: bool = False  # serve with Content-Encoding: gzip

    def payload(self) -> bytes:
        data = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        return gzip.compress(data) if self.gzip_body else data


@dataclass(frozen=True)
class LoggedRequest:
    """A request the server received (``path`` includes the query string)."""

    time: float
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[["_RequestHandler"], bool]


class SiteServer:
    """Serve ``pages`` (path -> Page) on 127.0.0.1; 404 for anything else."""

    def __init__(self, pages: dict[str, Page] | None = None) -> None:
        self.pages: dict[str, Page] = dict(pages or {})
        self.log: list[LoggedRequest] = []
        self.handlers: list[Handler] = []  # raw handlers tried before ``pages``
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------
    def start(self) -> SiteServer:
        server = self

        class Bound(_RequestHandler):
            site = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Bound)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without trailing slash, e.g. ``http://127.0.0.1:41234``."""
        return f"http://127.0.0.1:{self.port}"

    # --- content and log -----------------------------------------------------------
    def add(self, path: str, body: bytes | str, **kwargs: Any) -> None:
        self.pages[path] = Page(body, **kwargs)

    def requested(self, path: str) -> int:
        """How many times ``path`` (with query) was requested."""
        with self._lock:
            return sum(1 for r in self.log if r.path == path)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.log]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)


class _RequestHandler(BaseHTTPRequestHandler):
    site: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        self.site._record(
            LoggedRequest(
                time.time(), self.command, self.path, dict(self.headers.items())
            )
        )
        for handler in self.site.handlers:
            if handler(self):
                return
        path = self.path
        page = self.site.pages.get(path)
        if page is None:
            page = Page("<html><body><h1>Not found</h1></body></html>", status=404)
        if page.delay:
            time.sleep(page.delay)
        body = page.payload()
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(body)))
        if page.gzip_body:
            self.send_header("Content-Encoding", "gzip")
        for name, value in page.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
