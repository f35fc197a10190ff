"""Fixture record / replay: the format, and a record -> replay round trip."""

from __future__ import annotations

import json
from pathlib import Path

from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings

from crawler.replay import configure_fixtures, load_index, read_fixture, write_fixture
from tests.support.crawl import CrawlResult, run_crawl
from tests.support.server import SiteServer

ARTICLE = """<html lang="en"><head><title>{title} - Harbour Times</title>
<link rel="canonical" href="{base}/news/{slug}">
<meta property="article:published_time" content="2024-05-0{day}T08:30:00+00:00">
</head><body><nav><a href="/">Home</a> <a href="/news/">News</a></nav>
<article><h1>{title}</h1><p class="byline">By Ada Lovelace</p>
{paragraphs}
</article><footer>Copyright Harbour Times</footer></body></html>"""


def article(base: str, slug: str, title: str, day: int) -> str:
    paragraphs = "\n".join(
        f"<p>{title}: paragraph {i} reports how the harbour board weighed the cost of "
        f"dredging the channel against the income from larger ships docking there.</p>"
        for i in range(4)
    )
    return ARTICLE.format(
        base=base, slug=slug, title=title, day=day, paragraphs=paragraphs
    )


def build_site(server: SiteServer) -> None:
    base = server.url
    items = "".join(
        f"<item><title>{t}</title><link>{base}/news/{s}?utm_source=rss</link>"
        f"<pubDate>Fri, 0{d} May 2024 08:30:00 +0000</pubDate></item>"
        for s, t, d in (
            ("dredging", "Dredging approved", 1),
            ("ferries", "Ferries return", 2),
        )
    )
    server.add(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    server.add("/news/dredging", article(base, "dredging", "Dredging approved", 1))
    server.add("/news/ferries", article(base, "ferries", "Ferries return", 2))
    server.add(
        "/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )


def site_file(folder: Path, base: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "harbour.toml").write_text(
        f'name = "Harbour Times"\nhome = "{base}/"\ndomains = ["127.0.0.1"]\n'
        f'[discovery]\nfeeds = ["{base}/feed.xml"]\n[articles]\nallow = ["/news/"]\n',
        encoding="utf-8",
    )
    return folder


def crawl_mode(tmp_path: Path, mode: str, sites: Path, fixtures: Path) -> CrawlResult:
    """Crawl the test site in ``mode`` ("record" or "replay") into ``<mode>.jsonl``."""
    return run_crawl(
        tmp_path,
        output=tmp_path / f"{mode}.jsonl",
        settings={
            "SITES_DIR": sites,
            "FIXTURES_MODE": mode,
            "FIXTURES_DIR": fixtures,
            "EXTRACT_MIN_WORDS": 20,
        },
    )


def test_configure_fixtures_replay_turns_on_cache_that_ignores_misses() -> None:
    settings = Settings({"FIXTURES_MODE": "replay"})
    configure_fixtures(settings)
    assert settings.getbool("HTTPCACHE_ENABLED")
    assert settings.getbool("HTTPCACHE_IGNORE_MISSING")
    assert settings["HTTPCACHE_STORAGE"] == "crawler.replay.FixtureStorage"
    live = Settings({"FIXTURES_MODE": ""})
    configure_fixtures(live)
    assert not live.getbool("HTTPCACHE_ENABLED")


def test_write_then_read_fixture_keeps_status_headers_body(tmp_path: Path) -> None:
    url = "https://news.example/a/b?x=1&utm_source=y"
    response = HtmlResponse(
        url=url,
        status=203,
        body=b"<html><p>caf\xc3\xa9</p></html>",
        headers={"Content-Type": "text/html; charset=utf-8", "X-Test": "1"},
        request=Request(url),
    )
    meta_path = write_fixture(tmp_path / "site", url, response)
    meta = json.loads(meta_path.read_text())
    assert meta["url"] == url and meta["status"] == 203
    assert (meta_path.parent / meta["body"]).suffix == ".html"
    index = load_index(tmp_path)
    # matched on the canonical URL: query order does not matter
    assert "https://news.example/a/b?utm_source=y&x=1" in index
    again = read_fixture(index["https://news.example/a/b?utm_source=y&x=1"], url)
    assert isinstance(again, HtmlResponse)
    assert again.status == 203
    assert again.body == response.body
    assert again.headers.get("X-Test") == b"1"


def test_index_skips_json_files_that_are_not_pages(tmp_path: Path) -> None:
    (tmp_path / "expected.json").write_text(
        '{"url": "https://x.example/", "title": "t"}'
    )
    assert load_index(tmp_path) == {}


def test_record_then_replay_gives_the_same_items(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    with SiteServer() as server:
        build_site(server)
        sites = site_file(tmp_path / "sites", server.url)
        recorded = crawl_mode(tmp_path, "record", sites, fixtures)
        live_requests = len(server.log)
    assert recorded.returncode == 0, recorded.log[-3000:]
    assert len(recorded.items) == 2, recorded.log[-3000:]
    assert recorded.stat("fixtures/recorded") >= 3  # robots.txt, feed, two articles
    assert live_requests >= 3

    # The server is gone: replay must answer everything from the saved files.
    replayed = crawl_mode(tmp_path, "replay", sites, fixtures)
    assert replayed.returncode == 0, replayed.log[-3000:]

    def comparable(items: list[dict]) -> list[dict]:
        return sorted(
            ({k: v for k, v in i.items() if k != "fetched_at"} for i in items),
            key=lambda i: i["url"],
        )

    assert comparable(replayed.items) == comparable(recorded.items)
    assert {i["url"].rsplit("/", 1)[1] for i in replayed.items} == {
        "dredging",
        "ferries",
    }
    assert replayed.stat("downloader/response_count") == recorded.stat(
        "downloader/response_count"
    )
    assert replayed.stat("fixtures/miss") == 0


def test_replay_miss_is_counted_and_never_sent(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    with SiteServer() as server:
        build_site(server)
        sites = site_file(tmp_path / "sites", server.url)
        recorded = crawl_mode(tmp_path, "record", sites, fixtures)
        assert recorded.returncode == 0
        # Forget one article: replay must skip it, count it, and not ask the server.
        for meta in fixtures.rglob("*.json"):
            if json.loads(meta.read_text())["url"].endswith("/news/ferries"):
                meta.unlink()
        server.clear_log()
        replayed = crawl_mode(tmp_path, "replay", sites, fixtures)
        assert server.log == [], "replay sent requests to the network"
    assert replayed.returncode == 0
    assert [i["url"].rsplit("/", 1)[1] for i in replayed.items] == ["dredging"]
    assert replayed.stat("fixtures/miss") == 1
    assert replayed.stat("httpcache/ignore") == 1


def test_bad_fixtures_mode_is_a_clear_error(tmp_path: Path) -> None:
    result = run_crawl(tmp_path, settings={"FIXTURES_MODE": "replya"})
    assert result.returncode == 2
    assert "FIXTURES_MODE must be 'replay', 'record' or empty" in result.log
