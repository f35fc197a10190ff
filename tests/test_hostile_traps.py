"""Crawler traps: an endless calendar and a page of 20,000 links (case 14 of issue 7).

The site is crawled by following links from its home page. The per-site request
budget (``[crawl] max_requests``) and the article URL rules must contain the traps
while every article is still fetched, and the home page fetched once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.hostile import (
    article_html,
    crawl,
    links_page,
    netguard,  # noqa: F401 - used by pytestmark
    on,
    send,
    write_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")

BUDGET = 40


def calendar(req: object) -> None:
    """/calendar/YYYY/MM: links to the month before and after, forever."""
    match = re.fullmatch(r"/calendar/(\d+)/(\d+)", req.path)  # type: ignore[attr-defined]
    year, month = (int(match[1]), int(match[2])) if match else (2024, 1)
    before = (year, month - 1) if month > 1 else (year - 1, 12)
    after = (year, month + 1) if month < 12 else (year + 1, 1)
    hrefs = ["/", *(f"/calendar/{y}/{m:02d}" for y, m in (before, after))]
    send(req, links_page(hrefs, title=f"Calendar {year}-{month:02d}"))


@pytest.mark.parametrize("budget", ["site_file", "default"])
def test_calendar_and_link_farm_traps_are_contained(
    tmp_path: Path, budget: str
) -> None:
    """With the site file's max_requests, or without it under the default
    BUDGET_MAX_REQUESTS (lowered here to the same figure): a site never sends more."""
    home_articles = [f"/news/{i}" for i in range(1, 6)]
    world_articles = [f"/news/{i}" for i in range(6, 9)]
    with SiteServer() as server:
        server.add(
            "/",
            links_page(
                [*home_articles, "/calendar/2024/01", "/tags", "/section/world"],
                title="Home",
            ),
        )
        server.add("/tags", links_page([f"/tag/{i}" for i in range(20_000)], "Tags"))
        on(
            server,
            "/tag/",
            lambda req: send(req, links_page(["/"], "A tag")),
            prefix=True,
        )
        on(server, "/calendar/", calendar, prefix=True)
        server.add("/section/world", links_page(["/", *world_articles], "World"))
        for i, path in enumerate(home_articles + world_articles, start=1):
            server.add(path, article_html(f"Story {i}", i))
        write_site(
            tmp_path / "sites",
            "trapped",
            server.url + "/",
            discovery={"follow_links": True, "max_depth": 3},
            articles={"allow": [r"/news/\d+$"]},
            **({"crawl": {"max_requests": BUDGET}} if budget == "site_file" else {}),
        )
        settings = {"BUDGET_MAX_REQUESTS": BUDGET if budget == "default" else 0}
        run = crawl(tmp_path, tmp_path / "sites", settings=settings, timeout=180)
        paths = server.paths()
    expected = sorted(f"Story {i}" for i in range(1, 9))
    assert run.titles() == expected, f"missing: {set(expected) - set(run.titles())}"
    assert paths.count("/") == 1, paths.count("/")
    site_requests = [p for p in paths if p != "/robots.txt"]
    assert len(site_requests) <= BUDGET, len(site_requests)
    assert run.stat("discovery/over_max_requests/trapped") > 0, run.stats
