"""crawler/responses.py: a page's base URL and meta refresh from its head only, the
same answers as Scrapy's helpers, without decoding the whole body."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_base_url, get_meta_refresh

from crawler.responses import HEAD_CHARS, base_url, head_text, meta_refresh
from tests.support.responses import HeadOnlyResponse

URL = "https://news.example.org/2024/11/story"
FILLER = "<p>" + "Hafen, Brücke und Fähre — 港の橋 🚢. " * 40 + "</p>"


def page(head: str, *, filler: int = 100, charset: str = "utf-8") -> str:
    return (
        f'<html><head><meta charset="{charset}">{head}</head><body>'
        + FILLER * filler
        + "</body></html>"
    )


CASES: dict[str, tuple[bytes, dict[str, Any]]] = {
    "utf-8, refresh and base": (
        page(
            '<base href="/base/"><meta http-equiv="refresh" content="3; url=next">'
        ).encode(),
        {},
    ),
    "utf-8, no refresh": (page("").encode(), {}),
    "refresh in a noscript is ignored": (
        page(
            '<noscript><meta http-equiv="refresh" content="0;url=/js"></noscript>'
        ).encode(),
        {},
    ),
    "refresh after the head chars is not read": (
        (FILLER * 40 + '<meta http-equiv="refresh" content="0;url=/late">').encode(),
        {},
    ),
    "multi-byte text before the refresh": (
        (
            "<html><head><title>" + "港🚢" * 1300 + "</title>"
            '<meta http-equiv="refresh" content="0;url=/wide"></head></html>'
        ).encode(),
        {},
    ),
    "utf-16 with a byte order mark": (
        page(
            '<meta http-equiv="refresh" content="1;url=/u16">', charset="utf-16"
        ).encode("utf-16"),
        {},
    ),
    "latin-1 declared by the header": (
        page('<meta http-equiv="refresh" content="0;url=/caf\xe9">', charset="").encode(
            "latin-1", errors="replace"
        ),
        {"headers": {"Content-Type": "text/html; charset=iso-8859-1"}},
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_the_head_reads_as_scrapys_helpers_read_the_whole_text(name: str) -> None:
    body, kwargs = CASES[name]
    whole = HtmlResponse(URL, body=body, **kwargs)
    head = HeadOnlyResponse(URL, body=body, **kwargs)
    assert head_text(head) == whole.text[:HEAD_CHARS]
    assert base_url(head) == get_base_url(whole)
    assert meta_refresh(head) == get_meta_refresh(whole)


def test_a_refresh_is_found_with_its_delay_and_joined_url() -> None:
    body, _ = CASES["utf-8, refresh and base"]
    response = HeadOnlyResponse(URL, body=body)
    assert meta_refresh(response) == (3.0, "https://news.example.org/base/next")
    assert base_url(response) == "https://news.example.org/base/"
