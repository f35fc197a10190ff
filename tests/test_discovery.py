"""crawler/discovery.py: feeds, sitemaps, robots.txt and listings.

Dates are upper bounds (a hint must never make an article look older than it is),
so each test says which instant a value stands for.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from parsel import Selector

from crawler.discovery import (
    Link,
    is_feed,
    listing_dates,
    parse_feed,
    parse_robots_sitemaps,
    parse_sitemap,
)
from tests.support.newssite import NewsSite


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- feeds ----------------------------------------------------------------------

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel><title>T</title><link>https://x.example/</link>
<item><title>One</title><link>https://x.example/one?utm_source=rss</link>
  <pubDate>Sun, 03 Nov 2024 10:00:00 GMT</pubDate></item>
<item><title>Guid</title><guid>https://x.example/guid</guid></item>
<item><title>Not a permalink</title><guid isPermaLink="false">id-3</guid></item>
<item><title>Burner</title><link>https://feeds.example/~r/x/1</link>
  <feedburner:origLink>https://x.example/orig</feedburner:origLink></item>
<item><title>Relative</title><link>/relative</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<entry><title>A</title><link rel="alternate" href="https://x.example/a"/>
  <link rel="edit" href="https://x.example/edit/a"/>
  <updated>2024-11-05T00:00:00Z</updated><published>2024-11-03T00:00:00Z</published>
</entry>
<entry><title>B</title><link href="https://x.example/b"/>
  <updated>2024-11-04T00:00:00Z</updated></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<item rdf:about="https://x.example/r"><title>R</title><link>https://x.example/r</link>
<dc:date>2024-11-03T10:00:00+00:00</dc:date></item></rdf:RDF>"""


def test_rss_links_dates_guid_origlink_and_relative_links() -> None:
    links = parse_feed(RSS, "https://x.example/feed.xml")
    assert links == [
        Link("https://x.example/one?utm_source=rss", utc(2024, 11, 3, 10), "One"),
        Link("https://x.example/guid", None, "Guid"),
        Link("https://x.example/orig", None, "Burner"),
        Link("https://x.example/relative", None, "Relative"),
    ]


def test_atom_prefers_published_over_updated_and_alternate_links() -> None:
    links = parse_feed(ATOM)
    assert [(li.url, li.date) for li in links] == [
        ("https://x.example/a", utc(2024, 11, 3)),
        ("https://x.example/b", utc(2024, 11, 4)),
    ]


def test_rss_1_0_with_dublin_core_date() -> None:
    assert parse_feed(RDF) == [Link("https://x.example/r", utc(2024, 11, 3, 10), "R")]


def test_is_feed() -> None:
    assert is_feed(RSS) and is_feed(ATOM) and is_feed(RDF)
    assert not is_feed(b"<html><body>feed</body></html>")
    assert not is_feed(b'<?xml version="1.0"?><urlset></urlset>')


def test_broken_feed_keeps_what_parses() -> None:
    broken = RSS.replace(b"</channel></rss>", b"<item><title>cut")
    assert len(parse_feed(broken, "https://x.example/")) == 4
    assert parse_feed(b"") == []
    assert parse_feed(b"not xml at all") == []


def test_entities_are_never_resolved_and_a_doctype_does_not_hide_links() -> None:
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}'
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss><channel>'
        "<item><title>&l9;&xxe;</title><link>https://x.example/after</link></item>"
        "</channel></rss>"
    ).encode()
    links = parse_feed(body)
    assert [li.url for li in links] == ["https://x.example/after"]
    assert "root:" not in links[0].title and "lol" not in links[0].title


# --- sitemaps -------------------------------------------------------------------

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://x.example/s1.xml</loc><lastmod>2024-11-03</lastmod></sitemap>
<sitemap><loc>https://x.example/s2.xml.gz</loc></sitemap>
</sitemapindex>"""

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
  xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://x.example/n1</loc><lastmod>2024-11-09T00:00:00Z</lastmod>
  <news:news><news:publication><news:name>X</news:name></news:publication>
  <news:publication_date>2024-11-03T10:00:00Z</news:publication_date>
  <news:title>N one</news:title></news:news></url>
<url><loc>https://x.example/n2</loc><lastmod>2024-11-04T08:00:00+00:00</lastmod></url>
<url><loc>/relative-is-invalid</loc></url>
</urlset>"""


def test_sitemap_index_children_with_lastmod() -> None:
    kind, links = parse_sitemap(INDEX)
    assert kind == "sitemapindex"
    assert links == [
        Link("https://x.example/s1.xml", utc(2024, 11, 4, 11, 59, 59)),
        Link("https://x.example/s2.xml.gz", None),
    ]


def test_news_sitemap_publication_date_wins_over_lastmod() -> None:
    kind, links = parse_sitemap(NEWS)
    assert kind == "urlset"
    assert links == [
        Link("https://x.example/n1", utc(2024, 11, 3, 10), "N one"),
        Link("https://x.example/n2", utc(2024, 11, 4, 8)),
    ]


def test_not_a_sitemap() -> None:
    assert parse_sitemap(b"<html><body>x</body></html>") == ("", [])
    assert parse_sitemap(b"") == ("", [])
    assert parse_sitemap(RSS) == ("", [])


def test_robots_sitemaps_absolute_relative_and_case() -> None:
    robots = (
        b"User-agent: *\nDisallow: /private/\n"
        b"Sitemap: https://x.example/sitemap_index.xml\n"
        b"sitemap: /news-sitemap.xml\n# Sitemap: https://x.example/commented\n"
    )
    assert parse_robots_sitemaps(robots, "https://x.example/robots.txt") == [
        "https://x.example/sitemap_index.xml",
        "https://x.example/news-sitemap.xml",
    ]


def test_generated_site_entry_points_parse() -> None:
    """The test site's feeds and sitemaps are what the parsers expect."""
    site = NewsSite(n_articles=12)
    pages = site.pages("http://h.test")
    rss = parse_feed(bytes(pages["/feeds/rss.xml"].payload()))
    assert rss and all("utm_source" in li.url and li.date for li in rss)
    atom = parse_feed(bytes(pages["/feeds/atom.xml"].payload()))
    assert atom and all("/business/" in li.url and li.date for li in atom)
    kind, children = parse_sitemap(bytes(pages["/sitemap_index.xml"].payload()))
    assert kind == "sitemapindex" and len(children) == 2
    news = gzip.decompress(pages["/sitemaps/news.xml"].payload())
    assert all(li.title for li in parse_sitemap(news)[1])
    archive = gzip.decompress(pages["/sitemaps/archive.xml.gz"].payload())
    kind, urls = parse_sitemap(archive)
    assert kind == "urlset"
    assert len(urls) == sum(s.dated_by_entry_points for s in site.stories)


# --- listings -------------------------------------------------------------------


def is_article(url: str) -> bool:
    return url.endswith(".html")


def test_listing_dates_from_teasers() -> None:
    html = """<main>
    <article><h2><a href="/a.html">A</a></h2><time datetime="2024-11-03T10:00Z">x</time>
      <a href="/a.html#comments">Comments</a> <a href="/section/">Section</a></article>
    <article><a href="/b.html"><time datetime="2024-11-04">4 Nov</time> B</a></article>
    <div><span itemprop="datePublished" content="2024-11-05T00:00:00Z"></span>
      <h3><a href="/c.html">C</a></h3></div>
    <li><a href="/d.html">D</a><time datetime="2024-11-06T00:00:00Z"></time>
      <time datetime="2024-11-07T00:00:00Z"></time></li>
    </main>"""
    dates = listing_dates(Selector(text=html), "https://x.example/news/", is_article)
    assert dates == {
        "https://x.example/a.html": utc(2024, 11, 3, 10),
        "https://x.example/b.html": utc(2024, 11, 5, 11, 59, 59),
        "https://x.example/c.html": utc(2024, 11, 5),
        "https://x.example/d.html": utc(2024, 11, 7),  # the later of two
    }


def test_a_date_shared_by_several_articles_dates_none() -> None:
    html = """<section><time datetime="2024-11-03T00:00:00Z">Today</time>
    <ul><li><a href="/a.html">A</a></li><li><a href="/b.html">B</a></li></ul>
    </section>"""
    assert listing_dates(Selector(text=html), "https://x.example/", is_article) == {}


def test_listing_dates_ignore_bad_values() -> None:
    html = '<article><a href="/a.html">A</a><time datetime="soon">soon</time></article>'
    assert listing_dates(Selector(text=html), "https://x.example/", is_article) == {}
