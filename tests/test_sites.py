"""Site files: loading, validation errors naming file and key, site selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sites import (
    PACKAGE_SITES_DIR,
    SiteConfigError,
    load_site_file,
    load_sites,
    select_sites,
)
from crawler.urls import same_site

GOOD = """
name = "Example News"
home = "https://www.example.com/"
domains = ["example.com"]
language = "en"

[discovery]
feeds = ["https://www.example.com/feed/"]
sections = ["https://www.example.com/world/"]
next_page = "a.next::attr(href)"

[articles]
allow = ['/\\d{4}/\\d{2}/']
deny = ['/tag/']

[extraction]
prune = ["div.related", "//aside"]
clutter_phrases = ["Subscribe to our newsletter"]

[extraction.comments]
item = "li.comment"
text = ".comment-body"

[crawl]
download_delay = 1.5
max_articles = 10
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_site_file_loads_into_frozen_config(tmp_path: Path) -> None:
    site = load_site_file(write(tmp_path, "example.toml", GOOD))
    assert site.id == "example"
    assert site.domains == ("example.com",)
    assert site.discovery.feeds == ("https://www.example.com/feed/",)
    assert site.extraction.comments is not None
    assert site.extraction.comments.item == "li.comment"
    assert site.crawl.download_delay == 1.5
    assert site.owns_url("https://www.example.com/2024/01/x")
    assert not site.owns_url("https://example.org/2024/01/x")
    assert site.articles.is_article_url("https://www.example.com/2024/01/story")
    assert not site.articles.is_article_url("https://www.example.com/tag/2024/01/")
    assert not site.articles.is_article_url("https://www.example.com/about")
    with pytest.raises(AttributeError):
        site.name = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a",
        "https://WWW.Example.COM:8443/a",
        "https://news.example.com/a",
        "https://notexample.com/a",
        "https://example.com.evil.test/a",
        "mailto:desk@example.com",
        "/relative/path",
    ],
)
def test_a_site_owns_the_urls_same_site_gives_it(tmp_path: Path, url: str) -> None:
    """``owns_url`` is ``crawler.urls.same_site`` over the site's domains."""
    site = load_site_file(write(tmp_path, "example.toml", GOOD))
    assert site.owns_url(url) is same_site(url, site.domains)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('home = "https://a.example/"\ncolour = 1\n', "colour", "unknown key"),
        (
            'home = "https://a.example/"\n[discovery]\nfeed = []\n',
            "discovery.feed",
            "unknown key",
        ),
        (
            'home = "https://a.example/"\n[crawl]\nmax_articles = "ten"\n',
            "crawl.max_articles",
            "whole number",
        ),
        (
            'home = "https://a.example/"\n[articles]\nallow = ["(unclosed"]\n',
            "articles.allow",
            "bad regular expression",
        ),
        (
            'home = "https://a.example/"\n[extraction]\ntitle = "h1[["\n',
            "extraction.title",
            "bad selector",
        ),
        (
            'home = "https://a.example/"\n[discovery]\nfeeds = ["ftp://x/feed"]\n',
            "discovery.feeds",
            "http(s) URL",
        ),
        ('name = "x"\n', "home", "is required"),
        (
            'home = "https://a.example/"\n[extraction.comments]\nauthor = ".a"\n',
            "extraction.comments.item",
            "is required",
        ),
        (
            'home = "https://a.example/"\n[discovery]\nfollow_links = "yes"\n',
            "discovery.follow_links",
            "true or false",
        ),
    ],
)
def test_invalid_site_file_names_file_and_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(SiteConfigError) as info:
        load_site_file(path)
    message = str(info.value)
    assert str(path) in message, message
    assert info.value.key == key, message
    assert problem in message, message


def test_toml_syntax_error_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.toml", 'home = "https://a.example/\n')
    with pytest.raises(SiteConfigError, match="broken.toml: TOML syntax error"):
        load_site_file(path)


def test_one_bad_file_fails_the_whole_load(tmp_path: Path) -> None:
    write(tmp_path, "good.toml", GOOD)
    write(tmp_path, "bad.toml", 'home = "https://b.example/"\nunknown = 1\n')
    with pytest.raises(SiteConfigError, match="bad.toml: unknown"):
        load_sites(tmp_path)


def test_select_sites_unknown_id_lists_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "alpha.toml", 'home = "https://alpha.example/"\n')
    write(tmp_path, "beta.toml", 'home = "https://beta.example/"\n')
    sites = load_sites(tmp_path)
    assert [s.id for s in select_sites(sites, "beta")] == ["beta"]
    assert [s.id for s in select_sites(sites, None)] == ["alpha", "beta"]
    with pytest.raises(
        SiteConfigError, match="unknown site id.*gamma.*known: alpha, beta"
    ):
        select_sites(sites, "beta,gamma")


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="no site files"):
        load_sites(tmp_path)


def test_shipped_site_files_are_valid() -> None:
    sites = load_sites(PACKAGE_SITES_DIR)
    assert {"indiadailydigital", "tribune"} <= set(sites)
    for site in sites.values():
        assert site.home.startswith("https://")
        assert (
            site.discovery.feeds or site.discovery.sitemaps or site.discovery.sections
        )
