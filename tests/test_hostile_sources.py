"""Hostile entry points: robots.txt failures and poisoned feeds and sitemaps.

Cases 12 and 13 of issue 7.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile import (
    MiB,
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    on,
    send,
    serve_bomb,
    sitemap_xml,
    slow_headers,
    write_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")


def robots_stream(req: object, head: bytes, total: int, tail: bytes) -> None:
    """A robots.txt of ``total`` bytes: ``head``, comment lines, then ``tail``."""
    from tests.support.hostile import write_quietly

    req.send_response(200)  # type: ignore[attr-defined]
    req.send_header("Content-Type", "text/plain")  # type: ignore[attr-defined]
    req.send_header("Content-Length", str(total))  # type: ignore[attr-defined]
    req.end_headers()  # type: ignore[attr-defined]
    padding = b"# " + b"x" * 60 + b"\n"
    sent = len(head) + len(tail)
    if not write_quietly(req, head):
        return
    block = padding * 4096
    while sent < total:
        piece = block[: total - sent]
        if not write_quietly(req, piece):
            return
        sent += len(piece)
    write_quietly(req, tail)
    req.close_connection = True  # type: ignore[attr-defined]


def test_robots_txt_rules_and_failures_follow_rfc_9309(tmp_path: Path) -> None:
    """Case 13: a disallow rule is honoured; 404 allows all; 503 and a timeout
    disallow the host for the run; an oversized robots.txt is read up to
    ROBOTSTXT_MAX_BYTES (its rules there apply, the rest is ignored); a gzip bomb
    robots.txt counts as unreachable."""
    servers = {
        name: SiteServer().start()
        for name in ("rules", "missing", "broken", "silent", "huge", "bomb")
    }
    try:
        for name, server in servers.items():
            paths = ["/news/open", "/news/private"]
            for path in paths:
                server.add(path, article_html(f"{name} {path.rsplit('/', 1)[1]}", 1))
            server.add(
                "/sitemap.xml",
                sitemap_xml([server.url + p for p in paths]),
                content_type="application/xml",
            )
            sitemaps = [server.url + "/sitemap.xml"]
            if name in ("rules", "huge"):
                # Requested at once with the first: all wait for robots.txt, and
                # every waiter must get the rules (not only the first one).
                sitemaps += [
                    server.url + "/news/private-1.xml",
                    server.url + "/news/private-2.xml",
                ]
            write_site(
                tmp_path / "sites",
                name,
                server.url + "/",
                discovery={"sitemaps": sitemaps},
            )
        servers["rules"].add(
            "/robots.txt",
            "User-agent: *\nDisallow: /news/private\n",
            content_type="text/plain",
        )
        on(
            servers["broken"],
            "/robots.txt",
            lambda req: send(req, "oops", status=503, content_type="text/plain"),
        )
        on(servers["silent"], "/robots.txt", lambda req: slow_headers(req, delay=6))
        on(
            servers["huge"],
            "/robots.txt",
            lambda req: robots_stream(
                req,
                b"User-agent: *\nDisallow: /news/private\n",
                3 * MiB,
                b"\nDisallow: /news/open\n",
            ),
        )
        serve_bomb(servers["bomb"], "/robots.txt", "gzip")
        run = crawl(
            tmp_path,
            tmp_path / "sites",
            settings={"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1},
        )
        fetched = {
            name: sorted(set(s.paths()) - {"/robots.txt"})
            for name, s in servers.items()
        }
    finally:
        for server in servers.values():
            server.stop()
    assert run.titles() == [
        "huge open",
        "missing open",
        "missing private",
        "rules open",
    ], run.titles()
    assert fetched == {
        "rules": ["/news/open", "/sitemap.xml"],
        "missing": ["/news/open", "/news/private", "/sitemap.xml"],
        "broken": [],
        "silent": [],
        "huge": ["/news/open", "/sitemap.xml"],
        "bomb": [],
    }, fetched
    assert run.stat("robotstxt/allow_all/4xx") == 1, run.stats
    assert run.stat("robotstxt/disallow_all/5xx") == 1, run.stats
    assert run.stat("robotstxt/disallow_all/unreachable") == 2, run.stats
    assert run.peak_rss_mb < 400, f"peak RSS {run.peak_rss_mb:.0f} MB"
    assert run.stat("robotstxt/truncated") == 1, run.stats
    assert run.stat("robotstxt/forbidden") == 9, run.stats


XXE_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE urlset [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY ext SYSTEM "{base}/xxe-external">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{base}/news/&xxe;</loc></url>
  <url><loc>&ext;</loc></url>
  <url><loc>{base}/news/from-xxe-sitemap</loc><lastmod>&xxe;</lastmod></url>
</urlset>"""

LAUGHS_FEED = """<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
  <item><title>&lol9;</title><link>{base}/news/&lol9;</link></item>
  <item><title>After the laughs</title><link>{base}/news/from-laughs-feed</link></item>
</channel></rss>"""

BROKEN_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Broken</title>
  <item><title>Script</title><link>javascript:alert(document.cookie)</link></item>
  <item><title>File</title><link>file:///etc/passwd</link></item>
  <item><title>Data</title><link>data:text/html,hello</link></item>
  <item><title>Good</title><link>{base}/news/from-broken-feed</link></item>
  <item><title>Cut off <b>here</item>
  <item><title>Unclosed"""

SELF_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{base}/sitemap-index.xml</loc></sitemap>
  <sitemap><loc>{base}/sitemap-index.xml?again=1</loc></sitemap>
  <sitemap><loc>{base}/sitemap-child.xml</loc></sitemap>
</sitemapindex>"""


def test_poisoned_feeds_and_sitemaps_leak_nothing_and_still_give_links(
    tmp_path: Path,
) -> None:
    """Case 12: XXE (a local file, an external URL), billion laughs, a broken RSS
    with javascript:/file:/data: links and a sitemap index that lists itself: no
    file content anywhere, no fetch of the external entity, the valid links used."""
    with SiteServer() as server:
        base = server.url
        xml = "application/xml"
        server.add("/sitemap-xxe.xml", XXE_SITEMAP.format(base=base), content_type=xml)
        server.add("/feed-laughs.xml", LAUGHS_FEED.format(base=base), content_type=xml)
        server.add("/feed-broken.xml", BROKEN_FEED.format(base=base), content_type=xml)
        server.add("/sitemap-index.xml", SELF_INDEX.format(base=base), content_type=xml)
        server.add(
            "/sitemap-index.xml?again=1", SELF_INDEX.format(base=base), content_type=xml
        )
        server.add(
            "/sitemap-child.xml",
            sitemap_xml([base + "/news/from-index"]),
            content_type=xml,
        )
        server.add(
            "/xxe-external", "http://127.0.0.1/news/leak", content_type="text/plain"
        )
        titles = {
            "/news/from-xxe-sitemap": "From the XXE sitemap",
            "/news/from-laughs-feed": "From the laughing feed",
            "/news/from-broken-feed": "From the broken feed",
            "/news/from-index": "From the looping index",
        }
        for i, (path, title) in enumerate(titles.items(), start=1):
            server.add(path, article_html(title, i))
        write_site(
            tmp_path / "sites",
            "poisoned",
            base + "/",
            discovery={
                "sitemaps": [base + "/sitemap-xxe.xml", base + "/sitemap-index.xml"],
                "feeds": [base + "/feed-laughs.xml", base + "/feed-broken.xml"],
            },
        )
        run = crawl(tmp_path, tmp_path / "sites", timeout=90)
        paths = server.paths()
    assert run.titles() == sorted(titles.values()), f"{run.titles()}\n{run.log[-3000:]}"
    output = (tmp_path / "run0" / "articles.jsonl").read_text()
    assert "root:" not in output and "root:" not in run.log
    assert "/xxe-external" not in paths, "the external entity was fetched"
    assert not [p for p in paths if "passwd" in p or "lol" in p], paths
    assert paths.count("/sitemap-index.xml") == 1, paths
    assert run.stat("safety/blocked_scheme") == 0, "non-HTTP links left discovery"
    assert run.peak_rss_mb < 400, f"peak RSS {run.peak_rss_mb:.0f} MB"


def test_links_no_url_parser_takes_are_skipped_and_counted(tmp_path: Path) -> None:
    """A port that is not a number, a bracketed host that is no IP address: links
    anyone can write on a section page, in a feed or a sitemap. Each is skipped and
    counted (``discovery/malformed_url``); it used to raise ValueError and end the
    parsing of the whole page, losing every link after it."""
    bad = ["http://127.0.0.1:abc/news/x", "http://[not-an-address]/news/y"]
    bad_links = "".join(
        f'<p><a href="{u}">A link to story {i}</a></p>' for i, u in enumerate(bad)
    )
    with SiteServer() as server:
        for path, title in (
            ("/news/a", "From the sitemap"),
            ("/news/b", "From the section"),
            ("/news/c", "From the feed"),
        ):
            server.add(path, article_html(title, 3))
        server.add(
            "/latest",
            "<html><body>"
            + bad_links
            + '<h2><a href="/news/b">From the section, today</a></h2>'
            "</body></html>",
        )
        items = "".join(
            f"<item><title>t{i}</title><link>{u}</link></item>"
            for i, u in enumerate([*bad, server.url + "/news/c"])
        )
        server.add(
            "/feed.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel>'
            f"<title>f</title>{items}</channel></rss>",
            content_type="application/rss+xml",
        )
        server.add(
            "/sitemap.xml",
            sitemap_xml([*bad, server.url + "/news/a"]),
            content_type="application/xml",
        )
        sites = tmp_path / "sites"
        write_site(
            sites,
            "hostile",
            server.url + "/",
            discovery={
                "sitemaps": [server.url + "/sitemap.xml"],
                "feeds": [server.url + "/feed.xml"],
                "sections": [server.url + "/latest"],
            },
        )
        run = crawl(tmp_path, sites)
    assert run.titles() == ["From the feed", "From the section", "From the sitemap"], (
        run.stats
    )
    assert run.stat("discovery/malformed_url") >= 3, run.stats
    assert run.stat("spider_exceptions/count") == 0, run.log[-3000:]
