"""Response doubles shared by the tests of the head-only page readers."""

from __future__ import annotations

from scrapy.http import HtmlResponse


class HeadOnlyResponse(HtmlResponse):
    """A page whose whole text must not be decoded."""

    @property
    def text(self) -> str:
        raise AssertionError("the whole body was decoded (response.text)")
