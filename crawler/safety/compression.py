"""Scrapy's HttpCompressionMiddleware, with bombs and broken encodings counted.

Scrapy (>= 2.11) stops inflating a gzip, deflate, br or zstd body once it passes
``DOWNLOAD_MAXSIZE`` (10 MiB here, not Scrapy's 1 GiB) and ignores the response. This
subclass counts that (``safety/decompression_too_large``) and turns a body that does
not decode as its ``Content-Encoding`` says into a counted, ignored response
(``safety/bad_content_encoding``) instead of an unexplained download error.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)


class BoundedCompressionMiddleware(HttpCompressionMiddleware):
    """Decompress responses; count bombs and lying ``Content-Encoding`` headers."""

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            # The only IgnoreRequest raised by the parent: over DOWNLOAD_MAXSIZE.
            if self.stats:
                self.stats.inc_value("safety/decompression_too_large")
            raise
        except Exception as exc:  # noqa: BLE001 - zlib, brotli, zstd, gzip errors
            if self.stats:
                self.stats.inc_value("safety/bad_content_encoding")
            raw = response.headers.get("Content-Encoding") or b""
            encoding = raw.decode("latin-1")
            logger.warning(
                "Ignored %s: body does not decode as Content-Encoding %r (%s)",
                response.url,
                encoding,
                exc,
            )
            raise IgnoreRequest(
                f"safety: body does not decode as Content-Encoding {encoding!r}"
            ) from exc
