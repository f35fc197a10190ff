"""Site-template learning: the store (real SQLite files) and a real crawl, twice, of a
local site whose articles share a promo paragraph."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crawler.extraction.template import TemplateStore, TemplateStoreError, line_hash
from tests.support.crawl import run_crawl
from tests.support.server import SiteServer

# A line every article of the site repeats that no generic rule knows: only the
# site's template learns it. (A call to action, "our free newsletter", is now dropped
# by the generic closing-prompt rule on the first page already.)
PROMO = (
    "City Paper is owned by its readers' cooperative and has been printed since 1901."
)


def test_line_hash_ignores_case_punctuation_and_space() -> None:
    assert line_hash("Don't miss: the best stories!") == line_hash(
        "don t  MISS the best stories"
    )
    assert line_hash("Don't miss") != line_hash("Do miss")
    assert line_hash(" -- ") is None


def test_counts_distinct_articles_per_site(tmp_path: Path) -> None:
    store = TemplateStore(tmp_path / "t.sqlite3")
    for n in range(4):
        assert store.record("city", f"a{n}", [f"Story {n} body text.", PROMO, PROMO])
    assert not store.record("city", "a0", [PROMO]), "an article is counted once"
    store.record("other", "b0", [PROMO])
    assert store.boilerplate("city", ["Story 1 body text.", PROMO], 4) == [False, True]
    assert store.boilerplate("city", [PROMO], 5) == [False]
    assert store.boilerplate("other", [PROMO], 2) == [False]
    assert store.site_lines("city", 4) == [(4, PROMO)]
    store.close()


def test_counts_survive_a_new_process(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    first = TemplateStore(path)
    for n in range(3):
        first.record("city", f"a{n}", [PROMO])
    first.close()
    again = TemplateStore(path, read_only=True)
    assert again.boilerplate("city", [PROMO], 3) == [True]
    again.close()


def test_forget_drops_old_single_article_lines_only(tmp_path: Path) -> None:
    store = TemplateStore(tmp_path / "t.sqlite3")
    old = 1_000_000
    store.record("city", "a1", ["Only once, long ago.", PROMO], now=old)
    store.record("city", "a2", [PROMO], now=old)
    assert store.forget(30, now=old + 31 * 86400) == 1
    assert store.counts("city", ["Only once, long ago.", PROMO]) == {
        line_hash(PROMO): 2
    }
    store.close()


def test_corrupt_store_is_reported_never_recreated(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(TemplateStoreError):
        TemplateStore(path)
    assert path.read_bytes() == b"this is not a database" * 100


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    TemplateStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE template_meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(TemplateStoreError, match="schema 99"):
        TemplateStore(path)


# --- a real crawl, twice -------------------------------------------------------

SITE = """id = "citypaper"
name = "City Paper"
home = "{base}/"
domains = ["127.0.0.1"]
language = "en"

[discovery]
sections = ["{base}/news/"]
max_section_pages = 1

[articles]
allow = ['/story/\\d+']
min_words = 20

[crawl]
download_delay = 0
"""


def story(n: int) -> str:
    body = "\n".join(
        f"<p>Story {n} paragraph {k}: the council discussed item {n * 10 + k} at "
        f"length and residents of district {n} asked questions about the budget.</p>"
        for k in range(3)
    )
    return f"""<html lang="en"><head><title>Story {n} | City Paper</title>
<meta property="article:published_time" content="2024-11-{n + 1:02d}T08:00:00Z"></head>
<body><article><h1>Story {n}</h1>{body}<p>{PROMO}</p></article></body></html>"""


def section(numbers: range) -> str:
    links = "".join(f'<li><a href="/story/{n}">Story {n}</a></li>' for n in numbers)
    return f"<html><body><ul>{links}</ul></body></html>"


def crawl(tmp: Path, server: SiteServer, db: Path) -> list[dict[str, object]]:
    sites = tmp / "sites"
    sites.mkdir(parents=True, exist_ok=True)
    (sites / "citypaper.toml").write_text(
        SITE.format(base=server.url), encoding="utf-8"
    )
    result = run_crawl(
        tmp,
        settings={
            "SITES_DIR": sites,
            "TEMPLATE_DB": db,
            "TEMPLATE_MIN_ARTICLES": 3,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "CONCURRENT_REQUESTS": 1,
            "EXTRACT_WORKERS": 0,
            "ROBOTSTXT_OBEY": False,
        },
    )
    assert result.returncode == 0, result.log[-3000:]
    return result.items


def test_crawl_learns_the_promo_and_a_later_run_starts_clean(tmp_path: Path) -> None:
    db = tmp_path / "state" / "templates.sqlite3"
    with SiteServer() as server:
        for n in range(6):
            server.add(f"/story/{n}", story(n))
        server.add("/news/", section(range(4)))
        first = crawl(tmp_path / "run1", server, db)
        assert len(first) == 4
        with_promo = [i for i in first if PROMO in str(i["text"])]
        # The first articles of a new site keep the promo until it has been seen in
        # three of them; from then on it is dropped.
        assert len(with_promo) == 2, [i["url"] for i in first]
        for item in first:
            assert f"Story {str(item['title']).split()[-1]} paragraph 0" in str(
                item["text"]
            )

        server.add("/news/", section(range(4, 6)))
        second = crawl(tmp_path / "run2", server, db)
        assert len(second) == 2
        for item in second:
            assert PROMO not in str(item["text"]), "the store carried the template over"
            assert str(item["text"]).count("paragraph") == 3
