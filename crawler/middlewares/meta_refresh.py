"""Scrapy's meta-refresh redirects, the refresh read from the head of the page only.

Scrapy's ``MetaRefreshMiddleware`` (replaced by this one in ``crawler/settings.py``)
reads the first 4,096 characters of every HTML page through ``response.text``: the
whole body decoded, and the text kept on the response until the page is extracted
and written (``crawler/responses.py`` says why that matters). This one decides the
same way from ``crawler.responses.meta_refresh``, which decodes only the head.
Settings are Scrapy's (``METAREFRESH_ENABLED``, ``METAREFRESH_IGNORE_TAGS``,
``METAREFRESH_MAXDELAY``); redirects are counted by Scrapy as before.
"""

from __future__ import annotations

from typing import cast

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.responses import meta_refresh

_WEB = frozenset({"http", "https"})


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Downloader middleware: follow ``<meta http-equiv="refresh">`` as Scrapy does,
    without decoding the whole page."""

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlparse_cached(request).scheme not in _WEB
        ):
            return response
        interval, url = meta_refresh(response, ignore_tags=self._ignore_tags)
        if not url:
            return response
        redirected = self._redirect_request_using_get(request, response, url)
        if urlparse_cached(redirected).scheme not in _WEB:
            return response
        if cast("float", interval) < self._maxdelay:
            return self._redirect(redirected, request, "meta refresh")
        return response
