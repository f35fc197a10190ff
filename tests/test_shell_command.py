"""`scrapy shell` and `scrapy list` with the project's settings: no hang."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.crawl import PROJECT_ROOT
from tests.support.server import Page, SiteServer

PAGE = "<html><head><title>Shell</title></head><body><p>Hello shell</p></body></html>"


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    """``scrapy ARGS`` in the project, stdin closed, killed after 60 s."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args, "-s", "LOG_LEVEL=WARNING"],
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.timeout(90)
def test_shell_on_a_local_fixture_file_gives_its_response() -> None:
    result = scrapy(
        "shell", "./fixtures/tribune/home.html", "-c", "(response.status, response.url)"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(200, 'file://" in result.stdout, result.stdout + result.stderr[-2000:]
    assert "Refused" not in result.stderr


@pytest.mark.timeout(90)
def test_shell_on_a_url_with_the_spilling_scheduler_gives_its_response() -> None:
    with SiteServer({"/page": Page(PAGE)}) as server:
        result = scrapy(
            "shell",
            f"{server.url}/page",
            "-c",
            "response.css('p::text').get()",
            "-s",
            "SAFETY_ALLOW_PRIVATE_HOSTS=127.0.0.1",
            "-s",
            "SCHEDULER_SPILL=1",
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "Hello shell", result.stderr[-2000:]


@pytest.mark.timeout(90)
def test_shell_keeps_file_urls_refused_for_a_url_argument() -> None:
    result = scrapy("shell", "file:///etc/hostname", "-c", "response")
    assert "scheme 'file' is not http(s)" in result.stderr
    assert result.stdout.strip() == "None"


def test_list_names_the_spider() -> None:
    result = scrapy("list")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["newsites"]
