"""Hostile page content: absurd nesting, malformed markup, pages that are not articles.

Cases 11 and 15 of issue 7 (the parts that pass today; case 10, encodings, and the
entity flood and HTML-rendered sitemap are in tests/support/hostile_pending.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile import (
    article_html,
    crawl,
    netguard,  # noqa: F401 - used by pytestmark
    sitemap_site,
)
from tests.support.server import SiteServer

pytestmark = pytest.mark.usefixtures("netguard")


def nested(depth: int, inner: str) -> str:
    return "<div>" * depth + inner + "</div>" * depth


def test_deep_nesting_malformed_html_and_entity_floods_stay_bounded(
    tmp_path: Path,
) -> None:
    """Case 11: 5,000-deep nesting (lxml drops text below ~255 levels: counted, not
    emitted), malformed HTML (still the article) and a DOCTYPE entity bomb (never
    expanded): no crash, no junk item, each page the article or a counted reason."""
    good = article_html("Good story", 1)
    deep_body = "".join(f"<p>{s}</p>" for s in ("Deep text " * 30,) * 4)
    pages = {
        "/news/good": good,
        "/news/deep": (
            "<html><head><title>Deep story</title></head><body><article><h1>Deep "
            f"story</h1>{nested(5000, deep_body)}</article></body></html>"
        ),
        "/news/malformed": (
            article_html("Malformed story", 2)
            .replace("</p>", "", 3)
            .replace("<article>", "<article><div><span>")
            .replace("</body>", "</div></div></div></span><p <p>>< / ><b><i></body>")
            + "</html></html><<<>>>"
        ),
        "/news/doctype-laughs": (
            '<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
            '&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
            '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
            + article_html("Laughing story", 3, extra="<p>&d;&d;&d;&d;</p>").replace(
                "<!DOCTYPE html>", ""
            )
        ),
    }
    with SiteServer() as server:
        for path, html in pages.items():
            server.add(path, html)
        sites = sitemap_site(tmp_path, server, list(pages))
        run = crawl(tmp_path, sites, timeout=120)
    titles = run.titles()
    assert "Good story" in titles and "Malformed story" in titles, titles
    assert run.result.returncode == 0 and "Traceback" not in run.log, run.log[-4000:]
    for item in run.items:
        assert "aaaaaaaaaaaaaaaaaaaa" not in item["text"], "an entity was expanded"
        assert len(item["text"]) < 100_000, f"{item['title']}: junk text"
    refused = sum(
        v
        for k, v in run.stats.items()
        if k.startswith("extract/") and k.count("/") == 1 and k != "extract/ok"
    )
    assert len(run.items) + refused == len(pages), (titles, run.stats)


def test_pages_that_are_not_articles_are_never_emitted(tmp_path: Path) -> None:
    """Case 15: an index page and a link farm at article-like URLs are refused with a
    counted reason."""
    teasers = "".join(
        f'<li><a href="/news/{i}">Headline number {i}</a> <span>Short teaser {i}.'
        "</span></li>"
        for i in range(60)
    )
    farm = " ".join(
        f'<a href="/x/{i}">cheap pills best price {i}</a>' for i in range(400)
    )
    pages = {
        "/news/good": article_html("Good story", 1),
        "/news/index": (
            "<html><head><title>Latest news</title></head><body><h1>"
            f"Latest news</h1><ul>{teasers}</ul></body></html>"
        ),
        "/news/farm": (
            "<html><head><title>Best deals</title></head><body>"
            f"<div>{farm}</div></body></html>"
        ),
    }
    with SiteServer() as server:
        for path, html in pages.items():
            server.add(path, html)
        sites = sitemap_site(tmp_path, server, list(pages))
        run = crawl(tmp_path, sites)
    assert run.titles() == ["Good story"], [
        (i["title"], i["text"][:200]) for i in run.items
    ]
    refused = sum(
        v
        for k, v in run.stats.items()
        if k.startswith("extract/") and k.count("/") == 1 and k != "extract/ok"
    )
    assert refused == 2, run.stats
