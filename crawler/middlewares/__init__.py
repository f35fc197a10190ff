"""Downloader middlewares of the crawl policy: how politely and how persistently we ask
(and Scrapy's meta refresh, made to read only the head of a page).

Each module is one middleware, registered in ``crawler/settings.py`` and described in
``docs/discovery.md`` ("Politeness").
"""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.httpobj import urlparse_cached


def slot_key(request: Request) -> str:
    """The request's download slot: set by the downloader once it has seen the
    request, else its host (Scrapy's key unless CONCURRENT_REQUESTS_PER_IP is set).
    A retry is a copy of its request, so it keeps the slot of the answer it retries."""
    return str(
        request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
    )
