"""Faults: servers that fail or ask to wait (case 8 of issue 7).

A failing article is retried a bounded number of times and, since it was never
written, is not marked seen: the next run tries it again. A host that answers 429 or
503 with ``Retry-After`` is left alone for that long (capped) before the retry.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.hostile import (
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    on,
    send,
    sitemap_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")


class Script:
    """Answers a path from a script: the n-th request gets the n-th step (the last
    step repeats). A step is (status, headers) or "ok" for the article."""

    def __init__(self, server: SiteServer, path: str, title: str, steps: list[Any]):
        self.steps = steps
        self.title = title
        self.calls = Counter[str]()
        self.lock = threading.Lock()
        on(server, path, self)

    def __call__(self, req: Any) -> None:
        with self.lock:
            n = self.calls[req.path]
            self.calls[req.path] += 1
        step = self.steps[min(n, len(self.steps) - 1)]
        if step == "ok":
            send(req, article_html(self.title, len(self.title)))
        else:
            status, headers = step
            send(
                req,
                f"<html><body>{status}</body></html>",
                status=status,
                headers=headers,
            )


def request_times(server: SiteServer, path: str) -> list[float]:
    return [entry.time for entry in server.log if entry.path == path]


def test_failures_are_retried_boundedly_and_waits_are_honoured(
    tmp_path: Path,
) -> None:
    """Case 8: 500 forever is tried 1 + RETRY_TIMES times and not marked seen (the
    next run asks again); a page failing twice then recovering gives exactly one
    item; 503 and 429 with Retry-After are retried after the wait; a Retry-After
    over RETRY_AFTER_MAX_DELAY is not retried."""
    seen_db = tmp_path / "seen.sqlite3"
    with SiteServer() as server:
        server.add("/news/good", article_html("Good story", 1))
        Script(server, "/news/always-500", "Never", [(500, {})])
        Script(server, "/news/flaky", "Flaky story", [(500, {}), (502, {}), "ok"])
        Script(server, "/news/busy", "Busy story", [(503, {"Retry-After": "2"}), "ok"])
        Script(
            server,
            "/news/limited",
            "Limited story",
            [(429, {"Retry-After": "1"}), "ok"],
        )
        Script(server, "/news/later", "Later", [(503, {"Retry-After": "3600"})])
        paths = [
            "/news/good",
            "/news/always-500",
            "/news/flaky",
            "/news/busy",
            "/news/limited",
            "/news/later",
        ]
        sites = sitemap_site(tmp_path, server, paths)
        settings = {
            "RETRY_TIMES": 2,
            "RETRY_AFTER_MAX_DELAY": 3,
            "SEEN_ENABLED": True,
            "SEEN_DB": str(seen_db),
        }
        first = crawl(tmp_path, sites, settings=settings)
        log_first = Counter(server.paths())
        busy, limited = (
            request_times(server, p) for p in ("/news/busy", "/news/limited")
        )
        server.clear_log()
        second = crawl(tmp_path, sites, settings=settings)
        log_second = Counter(server.paths())
    assert first.titles() == [
        "Busy story",
        "Flaky story",
        "Good story",
        "Limited story",
    ], first.titles()
    assert log_first["/news/always-500"] == 3, log_first
    assert log_first["/news/flaky"] == 3, log_first
    assert log_first["/news/later"] == 1, log_first
    assert busy[1] - busy[0] >= 1.9, f"retried {busy[1] - busy[0]:.2f} s after 503"
    assert limited[1] - limited[0] >= 0.9, f"retried {limited[1] - limited[0]:.2f} s"
    assert first.stat("retry_after/too_long") == 1, first.stats
    # The second run skips what the first wrote, and tries the failures again.
    assert second.titles() == [], second.titles()
    for path in ("/news/good", "/news/flaky", "/news/busy", "/news/limited"):
        assert log_second[path] == 0, (path, log_second)
    assert log_second["/news/always-500"] == 3, log_second
    assert log_second["/news/later"] == 1, log_second
