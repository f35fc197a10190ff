"""Every input checked before the first request (crawler/config_check.py).

The real commands run as subprocesses: each bad argument or setting is one line on
stderr (no banner, usage text or traceback), exit status 2, no output written; for
``newsites run`` the line is its summary, also logged, and no run number is used.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import crawler.settings as project_defaults
from crawler.cli import project_settings
from crawler.config_check import (
    LOADED_BY_SCRAPY,
    SETTING_RULES,
    ConfigError,
    check_crawl,
    check_settings,
    check_spider_arguments,
)
from tests.support.crawl import PROJECT_ROOT

# case id: (options, what the one line must say)
BAD_INPUTS: dict[str, tuple[list[str], str]] = {
    "since-not-a-date": (
        ["-a", "since=yesterday"],
        "-a since='yesterday' is not an ISO date",
    ),
    "max-age-not-a-number": (
        ["-a", "max_age_days=week"],
        "-a max_age_days='week' is not a number",
    ),
    "max-age-negative": (
        ["-a", "max_age_days=-3"],
        "-a max_age_days='-3' must be a number of days",
    ),
    "unknown-argument": (
        ["-a", "site=tribune"],
        "-a site=tribune is not a spider argument; known: ",
    ),
    "unknown-site": (["-a", "sites=nosuch"], "unknown site id(s): nosuch"),
    "project-setting-type": (
        ["-s", "EXTRACT_WORKERS=abc"],
        "setting EXTRACT_WORKERS must be a whole number, not 'abc'",
    ),
    "scrapy-setting-type": (
        ["-s", "DOWNLOAD_TIMEOUT=abc"],
        "setting DOWNLOAD_TIMEOUT must be a number, not 'abc'",
    ),
    "scrapy-setting-range": (
        ["-s", "CONCURRENT_REQUESTS=0"],
        "setting CONCURRENT_REQUESTS must be at least 1, not 0",
    ),
    "share-above-one": (
        ["-s", "SAFETY_MAX_URL_SHARE=2"],
        "setting SAFETY_MAX_URL_SHARE must be at most 1, not 2.0",
    ),
    "boolean": (
        ["-s", "ROBOTSTXT_OBEY=maybe"],
        "setting ROBOTSTXT_OBEY must be a boolean",
    ),
    "log-level": (["-s", "LOG_LEVEL=info"], "setting LOG_LEVEL must be 'CRITICAL'"),
    # Scrapy's own option errors, without its usage text
    "setting-not-a-pair": (["-s", "DOWNLOAD_TIMEOUT"], "Invalid -s value"),
    "argument-not-a-pair": (["-a", "since"], "Invalid -a value"),
}
# The cases the issue reported, also run through `newsites run`.
RUN_CASES = [
    "since-not-a-date",
    "project-setting-type",
    "scrapy-setting-type",
    "unknown-argument",
    "unknown-site",
]


def only_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    return lines[0]


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_scrapy_crawl_refuses_a_bad_input_in_one_line(
    tmp_path: Path, case: str
) -> None:
    options, message = BAD_INPUTS[case]
    output = tmp_path / "articles.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "newsites",
            "-O",
            str(output),
            "-s",
            "FIXTURES_MODE=replay",
            *options,
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    line = only_line(result.stderr)
    assert line.startswith("scrapy crawl: error: "), line
    assert message in line, f"{message!r} not in {line!r}"
    assert result.stdout == ""
    assert not output.exists(), "a refused crawl created its output"


@pytest.mark.parametrize("case", RUN_CASES)
def test_newsites_run_refuses_a_bad_input_in_its_summary(
    tmp_path: Path, case: str
) -> None:
    options, message = BAD_INPUTS[case]
    if options[0] == "-a" and options[1].startswith("sites="):
        options = ["--sites", options[1].removeprefix("sites=")]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "run",
            "-s",
            "FIXTURES_MODE=replay",
            *options,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    line = only_line(result.stderr)
    assert line.startswith("newsites run: FAILED (exit 2): configuration error: "), line
    assert message in line, f"{message!r} not in {line!r}"
    assert result.stdout == ""
    assert not (tmp_path / "state").exists(), "a refused run opened the seen store"
    logs = list((tmp_path / "out").rglob("*-run0.log"))
    assert len(logs) == 1, f"the refusal is logged once, beside the outputs: {logs}"
    assert line in logs[0].read_text(encoding="utf-8")
    assert not list((tmp_path / "out").rglob("*.jsonl*")), "a refused run wrote output"


# --- the table ---------------------------------------------------------------------


def test_every_project_setting_has_a_rule_or_is_loaded_by_scrapy() -> None:
    names = {name for name in dir(project_defaults) if name.isupper()}
    missing = names - set(SETTING_RULES) - LOADED_BY_SCRAPY
    assert not missing, f"add these settings to SETTING_RULES: {sorted(missing)}"


def test_the_defaults_pass() -> None:
    sites = check_crawl(project_settings([]), {})
    assert [site.id for site in sites] == ["indiadailydigital", "tribune"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EXTRACT_WORKERS", -1),
        ("EXTRACT_WORKERS", "4"),
        ("FIXTURES_MODE", " Replay"),
        ("RETRY_AFTER_HTTP_CODES", "429,503"),
        ("SAFETY_ALLOW_PRIVATE_HOSTS", "a,b"),
        ("SEEN_NEAR_DUPLICATE_BITS", 64),
        ("DOWNLOAD_TIMEOUT", "0.5"),
    ],
)
def test_good_values_pass(name: str, value: object) -> None:
    settings = project_settings([])
    settings.set(name, value, priority="cmdline")
    check_settings(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EXTRACT_WORKERS", -2, "at least -1, not -2"),
        ("SEEN_NEAR_DUPLICATE_BITS", 65, "at most 64, not 65"),
        ("EXTRACT_TIMEOUT", "nan", "a finite number, not nan"),
        ("RETRY_HTTP_CODES", "500,abc", "a list of whole numbers, not 'abc'"),
        ("RETRY_AFTER_HTTP_CODES", "99", "at least 100, not 99"),
        ("EXTRACT_START_METHOD", "fork", "'spawn' or 'forkserver', not 'fork'"),
        ("FIXTURES_MODE", "replya", "'replay', 'record' or empty, not 'replya'"),
        ("SEEN_DB", 3, "a string, not 3"),
    ],
)
def test_bad_values_name_the_setting_and_the_rule(
    name: str, value: object, message: str
) -> None:
    settings = project_settings([])
    settings.set(name, value, priority="cmdline")
    with pytest.raises(ConfigError) as caught:
        check_settings(settings)
    assert str(caught.value) == f"setting {name} must be {message}"


def test_every_known_spider_argument_is_accepted() -> None:
    check_spider_arguments(
        {
            "sites": "tribune",
            "since": "2024-11-01",
            "max_age_days": "2.5",
            "urls": "urls.txt",
        }
    )
