"""Hostile redirects: loops, long chains, private addresses, off-site mirrors.

Cases 5-7 of issue 7. The site is served as ``news.test`` (the crawl's name lookups
map it to 127.0.0.1); every other name a test uses maps to an address the crawler
must refuse, and the network guard fails the test if anything is connected to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.hostile import (
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    on,
    send,
    sitemap_xml,
    write_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")


def redirect(server: SiteServer, path: str, location: str, status: int = 302) -> None:
    on(
        server,
        path,
        lambda req: send(req, "", status=status, headers={"Location": location}),
    )


def news_site(
    tmp_path: Path,
    server: SiteServer,
    paths: list[str],
    domains: list[str] | None = None,
) -> tuple[Path, str]:
    """A site at http://news.test:<port>/ whose sitemap lists ``paths``."""
    base = f"http://news.test:{server.port}"
    urls = [p if p.startswith("http") else base + p for p in paths]
    server.add("/sitemap.xml", sitemap_xml(urls), content_type="application/xml")
    folder = tmp_path / "sites"
    write_site(
        folder,
        "news",
        base + "/",
        domains=domains or ["news.test"],
        discovery={"sitemaps": [base + "/sitemap.xml"]},
    )
    return folder, base


def hosts_requested(server: SiteServer) -> set[str]:
    return {entry.headers.get("Host", "").split(":")[0] for entry in server.log}


def assert_clean(run: Any, titles: list[str]) -> None:
    assert run.titles() == sorted(titles), f"{run.titles()}\n{run.log[-3000:]}"
    assert run.result.returncode == 0, run.log[-3000:]
    assert "Traceback" not in run.log, run.log[-5000:]


def test_redirect_loops_and_long_chains_stop_early(tmp_path: Path) -> None:
    """Case 5: a two-page loop, a self-redirect and a 1,000-hop chain end after at
    most REDIRECT_MAX_TIMES hops; the good article is written."""
    with SiteServer() as server:
        server.add("/news/good", article_html("Good story", 1))
        redirect(server, "/news/loop-a", "/news/loop-b")
        redirect(server, "/news/loop-b", "/news/loop-a")
        redirect(server, "/news/self", "/news/self")
        for hop in range(1000):
            redirect(server, f"/news/chain/{hop}", f"/news/chain/{hop + 1}", 301)
        server.add("/news/chain/1000", article_html("End of the chain", 2))
        sites, _ = news_site(
            tmp_path,
            server,
            ["/news/good", "/news/loop-a", "/news/self", "/news/chain/0"],
        )
        run = crawl(
            tmp_path,
            sites,
            hosts={"news.test": "127.0.0.1"},
            settings={"REDIRECT_MAX_TIMES": 10},
        )
        chain = [p for p in server.paths() if p.startswith("/news/chain/")]
        loop = [p for p in server.paths() if p.startswith(("/news/loop", "/news/self"))]
    assert_clean(run, ["Good story"])
    assert len(chain) == 11, (
        f"{len(chain)} chain requests: REDIRECT_MAX_TIMES not applied"
    )
    assert sorted(loop) == ["/news/loop-a", "/news/loop-b", "/news/self"], loop
    assert run.stat("dupefilter/filtered") == 2, run.stats
    assert run.failed_articles() == 1, run.stats  # the chain: max redirections


PRIVATE_TARGETS = {
    # path on the site -> where it sends the crawler
    "/news/to-loopback-alias": "http://127.0.0.2:{port}/news/secret",
    "/news/to-ipv6-loopback": "http://[::1]:{port}/news/secret",
    "/news/to-unspecified": "http://0.0.0.0:{port}/news/secret",
    "/news/to-decimal-ip": "http://2130706433:{port}/news/secret",
    "/news/to-metadata": "http://169.254.169.254/latest/meta-data/",
    "/news/to-lan": "http://10.0.0.1/admin",
    "/news/to-shared": "http://100.64.0.1/",
    "/news/to-name-on-lan": "http://internal.test:{port}/news/secret",
    "/news/to-localhost": "http://localhost:{port}/news/secret",
}


def test_redirects_links_and_refreshes_to_private_addresses_are_refused(
    tmp_path: Path,
) -> None:
    """Case 6: redirects, meta refreshes and sitemap links to loopback, private,
    link-local, shared and unspecified addresses (literal or resolved) are refused
    before connecting and counted; a listed host (SAFETY_ALLOW_PRIVATE_HOSTS) and
    the site's own host are fetched."""
    with SiteServer() as server:
        port = server.port
        server.add("/news/good", article_html("Good story", 1))
        server.add("/news/secret", article_html("Secret story", 9))
        server.add("/news/allowed", article_html("Intranet story", 3))
        for path, target in PRIVATE_TARGETS.items():
            redirect(server, path, target.format(port=port))
        server.add(
            "/news/refresh",
            (
                '<html><head><meta http-equiv="refresh" content="0; '
                'url=http://169.254.169.254/latest/"></head><body>Moved</body></html>'
            ),
        )
        links = [
            *PRIVATE_TARGETS,
            "/news/good",
            "/news/refresh",
            # Links on the site's own domain whose names resolve to private addresses.
            f"http://lan.news.test:{port}/news/secret",
            f"http://intranet.news.test:{port}/news/allowed",
        ]
        sites, _ = news_site(tmp_path, server, links)
        run = crawl(
            tmp_path,
            sites,
            hosts={
                "news.test": "127.0.0.1",
                "internal.test": "10.1.2.3",
                "lan.news.test": "192.168.1.20",
                "intranet.news.test": "127.0.0.1",
            },
            settings={
                "SAFETY_ALLOW_PRIVATE_HOSTS": "intranet.news.test",
                "SAFETY_BLOCK_OFFSITE_REDIRECTS": False,
            },
        )
        secret_requests = server.requested("/news/secret")
    assert_clean(run, ["Good story", "Intranet story"])
    # 9 redirects + 1 meta refresh + 1 link; the guard proves none was connected to.
    assert run.stat("safety/blocked_address") == len(PRIVATE_TARGETS) + 2, run.stats
    assert secret_requests == 0


def test_non_http_schemes_are_refused(tmp_path: Path) -> None:
    """Case 6: redirects and refreshes to file:, data:, ftp: and gopher: are never
    followed, and Scrapy's file/data/ftp/s3 download handlers are off."""
    from crawler import settings as project_settings

    assert project_settings.DOWNLOAD_HANDLERS == {
        "ftp": None,
        "s3": None,
        "file": None,
        "data": None,
    }
    with SiteServer() as server:
        server.add("/news/good", article_html("Good story", 1))
        redirect(server, "/news/to-file", "file:///etc/passwd")
        redirect(server, "/news/to-ftp", f"ftp://127.0.0.1:{server.port}/x")
        redirect(server, "/news/to-gopher", f"gopher://127.0.0.1:{server.port}/x")
        server.add(
            "/news/refresh-data",
            (
                '<html><head><meta http-equiv="refresh" content="0; url=data:text/html,'
                '<p>root:x:0:0</p>"></head><body>Moved</body></html>'
            ),
        )
        server.add(
            "/news/refresh-file",
            (
                '<html><head><meta http-equiv="refresh" content="0; url=file:///etc/passwd">'
                "</head><body>Moved</body></html>"
            ),
        )
        sites, _ = news_site(
            tmp_path,
            server,
            [
                "/news/good",
                "/news/to-file",
                "/news/to-ftp",
                "/news/to-gopher",
                "/news/refresh-data",
                "/news/refresh-file",
            ],
        )
        run = crawl(tmp_path, sites, hosts={"news.test": "127.0.0.1"})
        requests = len(server.log)
    assert_clean(run, ["Good story"])
    output = "\n".join(str(item) for item in run.items)
    assert "root:x" not in output
    # Scrapy itself does not follow them; the 302s are refused as blocked schemes
    # (not counted as failed requests), the refresh pages are parsed as the
    # (non-article) pages they are.
    assert run.stat("safety/blocked_scheme") == 3, run.stats
    assert run.stat("errors/article") == 0, run.stats
    assert run.stat("discovery/refused/article") == 3, run.stats
    assert run.stat("extract/no_title") == 2, run.stats
    assert run.stat("downloader/request_count") == requests, "a non-HTTP fetch happened"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/html,<p>x</p>",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1/x",
        "s3://bucket/key",
    ],
)
def test_the_address_policy_refuses_non_http_schemes(url: str) -> None:
    """Case 6, the backstop: whatever builds a request with another scheme (a spider
    bug, a future middleware), the address policy refuses it, counted."""
    import asyncio

    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.utils.test import get_crawler

    from crawler.safety.addresses import AddressPolicyMiddleware

    crawler = get_crawler(settings_dict={"SAFETY_BLOCK_PRIVATE_ADDRESSES": True})
    crawler.stats.open_spider()
    middleware = AddressPolicyMiddleware.from_crawler(crawler)
    with pytest.raises(IgnoreRequest, match="not http"):
        asyncio.run(middleware.process_request(Request(url)))
    assert crawler.stats.get_value("safety/blocked_scheme") == 1


def test_off_site_redirects_are_dropped_and_cookies_stay_home(tmp_path: Path) -> None:
    """Case 7: a redirect or refresh to another host is dropped and counted; one to a
    subdomain of the site is followed; a cookie the site sets is never sent back."""
    with SiteServer() as server:
        port = server.port
        server.add(
            "/news/good",
            article_html("Good story", 1),
            headers={"Set-Cookie": "session=s3cret; Path=/"},
        )
        server.add("/news/target", article_html("Moved story", 2))
        redirect(server, "/news/to-mirror", f"http://mirror.test:{port}/news/target")
        redirect(server, "/news/to-www", f"http://www.news.test:{port}/news/target")
        server.add(
            "/news/refresh-mirror",
            (
                '<html><head><meta http-equiv="refresh" content="0; '
                f'url=http://mirror.test:{port}/news/other"></head><body>.</body></html>'
            ),
        )
        sites, _ = news_site(
            tmp_path,
            server,
            ["/news/good", "/news/to-mirror", "/news/to-www", "/news/refresh-mirror"],
        )
        run = crawl(
            tmp_path,
            sites,
            hosts={
                "news.test": "127.0.0.1",
                "www.news.test": "127.0.0.1",
                "mirror.test": "127.0.0.1",
            },
            # Every test host is 127.0.0.1: let the address policy pass them, so
            # that this test sees the off-site filter alone.
            settings={"SAFETY_ALLOW_PRIVATE_HOSTS": "127.0.0.1/32"},
        )
        hosts = hosts_requested(server)
        cookies = [e.path for e in server.log if "Cookie" in e.headers]
    assert_clean(run, ["Good story", "Moved story"])
    assert run.stat("safety/offsite_redirect") == 2, run.stats
    assert "mirror.test" not in hosts, hosts
    assert cookies == [], f"a cookie was sent back on {cookies}"
