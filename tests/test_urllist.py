"""crawler/urllist.py and `-a urls=FILE`: exactly the listed pages, same pipelines.

End to end against two local servers: one has a site file (its pages take the site's
overrides and id), the other none (a generic site named after its host).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.urllist import UrlListError, generic_site, parse_url_list, read_url_list
from tests.support.crawl import PROJECT_ROOT, run_crawl
from tests.support.server import Page, SiteServer

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0}


def article(title: str) -> str:
    body = "".join(
        f"<p>{title}, part {i}: the council met on Tuesday and residents asked for a "
        "written answer about the ferry timetable before the winter begins.</p>"
        for i in range(4)
    )
    return (
        f"<html lang='en'><head><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )


def test_blank_lines_comments_and_bad_lines() -> None:
    found = parse_url_list(
        "# pages to fetch\n\nhttps://a.example/1\n  http://b.example/2  \n"
        "ftp://c.example/3\nnot a url\n"
    )
    assert found.urls == ["https://a.example/1", "http://b.example/2"]
    assert found.invalid == [(5, "ftp://c.example/3"), (6, "not a url")]


def test_a_missing_list_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(UrlListError, match=r"urls=.*nolist.txt: cannot read"):
        read_url_list(str(tmp_path / "nolist.txt"))


def test_a_generic_site_is_named_after_its_host() -> None:
    site = generic_site("https://www.news.example:8080/a/b?x=1")
    assert (site.id, site.home, site.domains) == (
        "news.example",
        "https://www.news.example:8080/",
        ("news.example",),
    )
    assert site.articles.is_article_url("https://news.example/anything")


@pytest.fixture
def servers() -> Iterator[tuple[SiteServer, SiteServer]]:
    known = SiteServer(
        {
            "/": Page("<html><body><a href='/never-listed'>x</a></body></html>"),
            "/a": Page(article("Harbour plan approved")),
            "/b": Page(article("Ferry timetable changes")),
            "/never-listed": Page(article("Not in the list")),
        }
    ).start()
    other = SiteServer({"/c": Page(article("Bridge repairs begin"))}).start()
    yield known, other
    known.stop()
    other.stop()


def test_url_list_crawl_extracts_exactly_the_listed_pages(
    tmp_path: Path, servers: tuple[SiteServer, SiteServer]
) -> None:
    known, other = servers
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "harbour.toml").write_text(
        f'home = "{known.url}/"\n[articles]\nallow = ["/feeds-only/"]\n'
        '[extraction]\ntitle = "h1"\n'
    )
    generic = f"http://localhost:{other.port}/c"
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# two pages of a configured site, one of another host\n\n{known.url}/a\n"
        f"{known.url}/b\n{known.url}/a#again\n{generic}\nnot-a-url\n"
    )
    result = run_crawl(
        tmp_path,
        settings={
            "SITES_DIR": sites,
            "SAFETY_ALLOW_PRIVATE_HOSTS": "localhost",
            **FAST,
        },
        args={"urls": str(listing)},
    )
    assert result.returncode == 0, result.log[-3000:]
    by_url = {item["url"]: item for item in result.items}
    assert set(by_url) == {f"{known.url}/a", f"{known.url}/b", generic}
    assert by_url[f"{known.url}/a"]["site"] == "harbour"
    assert by_url[f"{known.url}/a"]["title"] == "Harbour plan approved"
    assert by_url[generic]["site"] == "localhost"
    assert known.requested("/never-listed") == 0  # no discovery
    assert known.requested("/") == 0
    assert known.requested("/robots.txt") == 1  # politeness kept
    assert result.stat("urls/listed") == 3
    assert result.stat("urls/duplicate") == 1
    assert result.stat("urls/invalid") == 1
    assert "line 7 is not an http(s) URL: 'not-a-url'" in result.log


def test_url_list_hosts_without_site_file_keep_the_private_address_block(
    tmp_path: Path, servers: tuple[SiteServer, SiteServer]
) -> None:
    _, other = servers
    listing = tmp_path / "urls.txt"
    listing.write_text(f"http://localhost:{other.port}/c\n")
    result = run_crawl(tmp_path, settings=FAST, args={"urls": str(listing)})
    assert result.returncode == 0, result.log[-3000:]
    assert result.items == []
    assert result.stat("safety/blocked_address") == 1
    assert other.requested("/c") == 0


def test_url_list_from_standard_input(
    tmp_path: Path, servers: tuple[SiteServer, SiteServer]
) -> None:
    _, other = servers
    output = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "newsites", "-a", "urls=-",
         "-O", str(output), "-s", "SAFETY_ALLOW_PRIVATE_HOSTS=localhost",
         "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING"],
        cwd=PROJECT_ROOT, input=f"http://localhost:{other.port}/c\n",
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in output.read_text().splitlines()]
    assert [i["title"] for i in items] == ["Bridge repairs begin"]


def test_a_missing_list_stops_the_crawl_before_any_request(tmp_path: Path) -> None:
    result = run_crawl(tmp_path, args={"urls": str(tmp_path / "nolist.txt")})
    assert result.returncode == 2
    assert "nolist.txt: cannot read: No such file or directory" in result.log
    assert "Traceback" not in result.log
