"""`scrapy crawl newsites`: arguments and settings checked before any request."""

from __future__ import annotations

from pathlib import Path

from tests.support.crawl import run_crawl


def test_unknown_site_id_is_a_clear_error_listing_known_ones(tmp_path: Path) -> None:
    result = run_crawl(tmp_path, args={"sites": "tribune,nosuchsite"})
    assert result.returncode == 2, result.log[-2000:]
    assert (
        "unknown site id(s): nosuchsite; known: indiadailydigital, tribune"
        in result.log
    )
    assert not result.items


def test_sites_argument_restricts_the_crawl(tmp_path: Path) -> None:
    result = run_crawl(
        tmp_path, args={"sites": "tribune"}, settings={"FIXTURES_MODE": "replay"}
    )
    assert result.returncode == 0, result.log[-2000:]
    assert result.items, result.log[-2000:]
    assert {item["site"] for item in result.items} == {"tribune"}


def test_bad_cluster_setting_is_a_clear_error(tmp_path: Path) -> None:
    result = run_crawl(tmp_path, settings={"CLUSTER_REDIS_URL": "http://127.0.0.1:1"})
    assert result.returncode == 2
    assert "CLUSTER_REDIS_URL must be a redis://" in result.log
    assert "Traceback" not in result.log


def test_a_clean_crawl_logs_no_warning(tmp_path: Path) -> None:
    result = run_crawl(
        tmp_path, settings={"FIXTURES_MODE": "replay", "LOG_LEVEL": "WARNING"}
    )
    assert result.returncode == 0, result.log[-3000:]
    assert len(result.items) == 8
    assert result.log.strip() == "", result.log[-3000:]
