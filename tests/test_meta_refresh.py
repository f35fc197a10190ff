"""crawler/middlewares/meta_refresh.py: Scrapy's meta-refresh redirects, read from
the head of the page only."""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import Response
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from crawler.middlewares.meta_refresh import HeadMetaRefreshMiddleware
from tests.support.responses import HeadOnlyResponse

URL = "https://news.example.org/old-story"
TAIL = "<p>" + "Der Hafen und die Brücke. " * 4000 + "</p></body></html>"


def refresh_page(content: str) -> bytes:
    return (
        '<html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{content}"></head><body>{TAIL}'
    ).encode()


def middleware(**settings: Any) -> HeadMetaRefreshMiddleware:
    crawler = get_crawler(Spider, settings_dict=settings)
    return HeadMetaRefreshMiddleware.from_crawler(crawler)


def test_a_page_that_refreshes_at_once_is_redirected() -> None:
    request = Request(URL)
    response = HeadOnlyResponse(URL, body=refresh_page("0; url=/new-story"))
    result = middleware().process_response(request, response)
    assert isinstance(result, Request), "a refresh of 0 s is a redirect"
    assert result.url == "https://news.example.org/new-story"
    assert result.meta["redirect_times"] == 1


def test_a_page_without_refresh_or_with_a_long_delay_is_the_answer() -> None:
    plain = HeadOnlyResponse(URL, body=b"<html><head></head><body>" + TAIL.encode())
    assert middleware().process_response(Request(URL), plain) is plain
    slow = HeadOnlyResponse(URL, body=refresh_page("600; url=/new-story"))
    mw = middleware(METAREFRESH_MAXDELAY=100)
    assert mw.process_response(Request(URL), slow) is slow


def test_dont_redirect_and_non_html_are_left_alone() -> None:
    response = HeadOnlyResponse(URL, body=refresh_page("0; url=/new-story"))
    asked_not_to = Request(URL, meta={"dont_redirect": True})
    assert middleware().process_response(asked_not_to, response) is response
    binary = Response(URL, body=refresh_page("0; url=/new-story"))
    assert middleware().process_response(Request(URL), binary) is binary


def test_the_project_uses_it_in_place_of_scrapys() -> None:
    # The list the downloader builds its middlewares from.
    settings = get_project_settings()
    kinds = [
        load_object(path)
        for path in build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    ]
    assert HeadMetaRefreshMiddleware in kinds
    assert MetaRefreshMiddleware not in kinds, "Scrapy's decodes every whole page"
