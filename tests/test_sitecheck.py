"""crawler/cli/sitecheck.py through `newsites check` and `scrapy check`: site files
validated one by one, and crawled (fixtures or a local server) for a report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.sites import PACKAGE_SITES_DIR
from tests.support.crawl import PROJECT_ROOT
from tests.support.server import Page, SiteServer

NEWSITES = Path(sys.executable).with_name("newsites")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0"]


def newsites_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NEWSITES), "check", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def scrapy_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "check", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def broken_folder(tmp_path: Path) -> Path:
    """A folder with one good site file, one with an unknown key and one with a bad
    selector."""
    folder = tmp_path / "sites"
    folder.mkdir()
    shutil.copy(PACKAGE_SITES_DIR / "tribune.toml", folder)
    (folder / "typo.toml").write_text('home = "https://a.example/"\nallow = ["x"]\n')
    (folder / "badsel.toml").write_text(
        'home = "https://b.example/"\n[articles]\nallow = ["/n/"]\n'
        '[extraction]\ntitle = "h1[[["\n'
    )
    return folder


def test_the_shipped_sites_pass_against_their_fixtures() -> None:
    result = newsites_check("--fixtures")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    out = result.stdout
    assert "tribune (" in out and "indiadailydigital (" in out
    assert "BROKEN" not in out
    assert out.count("  sample: ") == 2, out
    assert "2 site file(s) checked: 0 broken, 0 with warnings" in out


def test_a_broken_folder_names_each_file_and_key(broken_folder: Path) -> None:
    result = newsites_check("-s", f"SITES_DIR={broken_folder}")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert f"{broken_folder / 'typo.toml'}: allow: unknown key" in out
    assert f"{broken_folder / 'badsel.toml'}: extraction.title: bad selector" in out
    assert "tribune (" in out and "): ok" in out  # the good file is still checked
    assert "3 site file(s) checked: 2 broken, 0 with warnings" in out


def test_scrapy_check_runs_the_same_check(broken_folder: Path) -> None:
    result = scrapy_check("-s", f"SITES_DIR={broken_folder}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "contracts" not in result.stdout + result.stderr
    assert "typo.toml: allow: unknown key" in result.stdout
    result = scrapy_check("newsites", "--fixtures")  # the spider name: every site
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_an_unknown_site_is_a_usage_error() -> None:
    result = newsites_check("nosuchsite")
    assert result.returncode == 2
    assert "nosuchsite: no such site id" in result.stderr


ARTICLE = (
    "<html lang='en'><head><title>Harbour plan {n}</title></head><body>"
    "<article><h1>Harbour plan {n}</h1>"
    + "".join(
        f"<p>Meeting {i}: the council met on Tuesday and residents asked for a "
        "written answer about the ferry timetable before the winter begins.</p>"
        for i in range(4)
    )
    + "</article></body></html>"
)


def test_live_check_reports_articles_sample_and_warnings(tmp_path: Path) -> None:
    links = "".join(f"<a href='/news/{n}.html'>Story {n}</a>" for n in range(5))
    good = SiteServer(
        {
            "/": Page(f"<html><body>{links}<a href='/about'>About</a></body></html>"),
            **{f"/news/{n}.html": Page(ARTICLE.format(n=n)) for n in range(5)},
        }
    ).start()
    down = SiteServer({}).start()  # every page 404
    try:
        sites = tmp_path / "sites"
        sites.mkdir()
        (sites / "good.toml").write_text(
            f'home = "{good.url}/"\n[extraction]\ndate = ".no-such-date"\n'
        )
        (sites / "down.toml").write_text(
            f'home = "{down.url}/"\n[articles]\nallow = ["/news/"]\n'
        )
        result = newsites_check("--live", "-s", f"SITES_DIR={sites}", *FAST)
        article_fetches = sum(good.requested(f"/news/{n}.html") for n in range(5))
    finally:
        good.stop()
        down.stop()
    out = result.stdout
    assert result.returncode == 1, out + result.stderr[-2000:]  # `down` is broken
    good_block = out.split("good (")[1]
    assert "article URLs found: 6; extracted: 3" in good_block, out  # /about too
    assert "sample: 'Harbour plan" in good_block
    assert "warning: [articles] allow is empty" in good_block
    assert "warning: extraction.date = '.no-such-date' matched nothing on 3" in out
    assert article_fetches == 3  # CHECK_SAMPLE_ARTICLES: the rest are not fetched
    down_block = out.split("down (")[1].split("good (")[0]
    assert "BROKEN" in down_block
    assert "error: no entry point answered (1 requested)" in down_block
