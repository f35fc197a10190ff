"""Broken site files and the network guard itself.

Case 16 of issue 7 (a bad site file stops the crawl before any request, with a message
naming file, key and problem), and the proof that the tests' network guard catches
what it must: a connection beyond 127.0.0.1 and a library phoning home (the public
suffix list download of Scrapy's cookie middleware).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hostile import (
    NETGUARD_DIR,
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    sitemap_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")

BAD_SITE_FILES = {
    # case id: (file body after id/home, key named in the message, problem wording)
    "syntax-error": ("[discovery\nfeeds = []\n", "", "TOML syntax error"),
    "unknown-key": ('[articles]\nalow = ["/news/"]\n', "articles.alow", "unknown key"),
    "wrong-type": (
        '[crawl]\nmax_requests = "ten"\n',
        "crawl.max_requests",
        "whole number",
    ),
    "bad-regex": (
        '[articles]\nallow = ["/news/(unclosed"]\n',
        "articles.allow",
        "bad regular expression",
    ),
    "bad-selector": (
        '[extraction]\ntitle = "h1[[["\n',
        "extraction.title",
        "bad selector",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SITE_FILES))
def test_a_bad_site_file_stops_the_crawl_before_any_request(
    tmp_path: Path, case: str
) -> None:
    """Case 16: exit status 2 and one line naming file, key and problem; no request
    at all, so the good site beside it is not crawled without the bad one either."""
    body, key, problem = BAD_SITE_FILES[case]
    with SiteServer() as server:
        server.add("/news/good", article_html("Good story", 1))
        sites = sitemap_site(tmp_path, server, ["/news/good"], site_id="good")
        bad = sites / "bad.toml"
        bad.write_text(f'id = "bad"\nhome = "{server.url}/"\n{body}', encoding="utf-8")
        run = crawl(tmp_path, sites)
        requests = server.paths()
    assert run.result.returncode == 2, run.log[-2000:]
    line = next((ln for ln in run.log.splitlines() if str(bad) in ln), "")
    assert line, f"no message names {bad}:\n{run.log[-2000:]}"
    assert key in line and problem in line, line
    assert requests == [], requests
    assert run.items == []


def test_the_guard_catches_a_public_suffix_list_download(tmp_path: Path) -> None:
    """With cookies on and no cached list, Scrapy's cookie middleware downloads the
    public suffix list when a site sets a cookie: the guard refuses and records it
    (the project keeps COOKIES_ENABLED off, so real runs never try)."""
    empty_cache = tmp_path / "tldextract-cache"
    empty_cache.mkdir()
    with SiteServer() as server:
        server.add(
            "/news/good",
            article_html("Good story", 1),
            headers={"Set-Cookie": "id=1; Domain=127.0.0.1; Path=/"},
        )
        sites = sitemap_site(tmp_path, server, ["/news/good"])
        run = crawl(
            tmp_path,
            sites,
            settings={"COOKIES_ENABLED": True},
            env={"TLDEXTRACT_CACHE": str(empty_cache)},
        )
        quiet = crawl(tmp_path, sites, env={"TLDEXTRACT_CACHE": str(empty_cache)})
    looked_up = {entry["target"].strip("'") for entry in run.guard}
    assert "publicsuffix.org" in looked_up, run.guard
    assert quiet.guard == [], quiet.guard
    assert quiet.titles() == ["Good story"]
    (tmp_path / "netguard-all.jsonl").unlink()  # expected: not a test failure


def test_the_guard_refuses_connections_and_lookups_beyond_127_0_0_1(
    tmp_path: Path,
) -> None:
    """The guard in a plain subprocess: 127.0.0.2, ::1 and a name lookup are refused
    before any packet is sent; 127.0.0.1 and fake test names pass."""
    log = tmp_path / "guard.jsonl"
    probe = (
        "import socket\n"
        "def tryit(f):\n"
        "    try:\n"
        "        f(); return 'ok'\n"
        "    except PermissionError: return 'refused'\n"
        "    except socket.gaierror: return 'refused'\n"
        "    except OSError: return 'ok'\n"
        "print(tryit(lambda: socket.create_connection(('127.0.0.2', 9), 1)),\n"
        "      tryit(lambda: socket.socket(socket.AF_INET6).connect(('::1', 9))),\n"
        "      tryit(lambda: socket.getaddrinfo('example.org', 80)),\n"
        "      tryit(lambda: socket.create_connection(('127.0.0.1', 9), 1)),\n"
        "      socket.gethostbyname('news.test'))\n"
    )
    env = {
        "PYTHONPATH": str(NETGUARD_DIR),
        "NEWSITES_NETGUARD_LOG": str(log),
        "NEWSITES_NETGUARD_HOSTS": "news.test=127.0.0.1",
    }
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert out == ["refused", "refused", "refused", "ok", "127.0.0.1"], out
    kinds = [
        line.split('"kind": "')[1].split('"')[0]
        for line in log.read_text().splitlines()
    ]
    assert kinds == ["connect", "connect", "lookup"], kinds
