"""crawler/urls.py: one normalized form per article URL, and the same-site test."""

from __future__ import annotations

import pytest

from crawler.urls import (
    URL_KEY_BYTES,
    is_tracking_param,
    normalize_url,
    same_site,
    url_key,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("HTTP://News.Example.COM/a", "http://news.example.com/a"),
        ("http://news.example.com:80/a", "http://news.example.com/a"),
        ("https://news.example.com:443/a", "https://news.example.com/a"),
        ("https://news.example.com:8443/a", "https://news.example.com:8443/a"),
        ("https://news.example.com", "https://news.example.com/"),
        ("https://news.example.com/a#comments", "https://news.example.com/a"),
        ("https://news.example.com/a?", "https://news.example.com/a"),
        ("https://news.example.com/a%7eb", "https://news.example.com/a~b"),
        ("  https://news.example.com/a \n", "https://news.example.com/a"),
    ],
)
def test_normalize_url_canonical_form(raw: str, normalized: str) -> None:
    assert normalize_url(raw) == normalized


@pytest.mark.parametrize(
    "tracking",
    [
        "utm_source=rss",
        "utm_medium=feed&utm_campaign=x",
        "UTM_Source=x",
        "fbclid=IwAR0",
        "gclid=abc",
        "mc_cid=1&mc_eid=2",
        "utm%5Fsource=x",
    ],
)
def test_tracking_parameters_are_removed(tracking: str) -> None:
    url = f"https://news.example.com/story?id=7&{tracking}"
    assert normalize_url(url) == "https://news.example.com/story?id=7"


def test_query_order_is_stable() -> None:
    a = normalize_url("https://news.example.com/s?b=2&a=1&utm_source=x")
    b = normalize_url("https://news.example.com/s?utm_source=y&a=1&b=2")
    assert a == b == "https://news.example.com/s?a=1&b=2"


def test_repeated_parameters_keep_every_value() -> None:
    # w3lib's url_query_cleaner(unique=True) would keep only the first `tag`.
    assert normalize_url("https://x.example/s?tag=a&tag=b&utm_source=z") == (
        "https://x.example/s?tag=a&tag=b"
    )


def test_meaningful_parameters_are_kept() -> None:
    assert normalize_url("https://x.example/s?page=2&id=9") == (
        "https://x.example/s?id=9&page=2"
    )


def test_normalize_is_idempotent() -> None:
    once = normalize_url("HTTP://X.example:80/a b?z=1&utm_term=q&a=%41#f")
    assert normalize_url(once) == once


def test_is_tracking_param() -> None:
    assert is_tracking_param("utm_content")
    assert is_tracking_param("fbclid")
    assert not is_tracking_param("id")
    assert not is_tracking_param("utm")  # not a utm_* parameter


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("https://www.example.com/a", True),
        ("https://edition.news.example.com/a", True),
        ("https://EXAMPLE.com:8080/a", True),
        ("https://evilexample.com/a", False),
        ("https://example.com.evil.net/a", False),
        ("https://other.org/a", False),
        ("not a url", False),
    ],
)
def test_same_site(url: str, expected: bool) -> None:
    assert same_site(url, ("example.com",)) is expected


def test_same_site_with_ip_and_port() -> None:
    assert same_site("http://127.0.0.1:41234/news/a", ("127.0.0.1",))


def test_url_key_is_compact_and_tells_urls_apart() -> None:
    urls = [f"https://example.com/news/{n}" for n in range(10_000)]
    keys = {url_key(u) for u in urls}
    assert len(keys) == len(urls)
    assert all(len(k) == URL_KEY_BYTES for k in keys)
    assert url_key("https://example.com/news/1") == url_key(
        "https://example.com/news/1"
    )
    assert url_key("https://example.com/news/é") != url_key(
        "https://example.com/news/e"
    )
