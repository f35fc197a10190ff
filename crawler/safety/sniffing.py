"""Binary bodies served as text (a PDF, an image, a zip labelled ``text/html``).

Scrapy picks the response class from ``Content-Type``, so a PNG served as
``text/html`` reaches the spider as an HtmlResponse and the extractor as "HTML". This
middleware looks at the first bytes: a known binary signature or over 5% control
characters, NUL included (outside UTF-16/32), turn the response into a plain
``Response``, which the spider skips with a counted reason (``extract/not_html``).
A few stray NUL bytes do not make a page binary (a bad template, a paste): they are
removed from a text page (``safety/nul_bytes_removed``), since lxml refuses them.
Gzip data is binary too: a gzipped sitemap served without ``Content-Encoding`` keeps
its bytes and is unpacked by the spider, under ``DOWNLOAD_MAXSIZE``.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse

logger = logging.getLogger(__name__)

# File signatures (magic numbers) of formats that are never a text page.
SIGNATURES: tuple[bytes, ...] = (
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x7fELF",
    b"MZ",
    b"\x00asm",
    b"OggS",
    b"ID3",
    b"fLaC",
    b"wOFF",
    b"wOF2",
    b"\x00\x00\x01\x00",
    b"II*\x00",
    b"MM\x00*",
    b"\xd0\xcf\x11\xe0",
)
RIFF = b"RIFF"  # WAV, AVI, WebP: "RIFF" + size + kind
SNIFF_BYTES = 1024
UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# Control characters other than tab, LF, FF, CR and ESC (ISO-2022 escape sequences).
_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}


def is_wide(body: bytes, declared_encoding: str = "") -> bool:
    """True for UTF-16/32 text, where zero bytes are part of the characters."""
    return body.startswith(UTF16_32_BOMS) or declared_encoding.lower().startswith(
        ("utf-16", "utf16", "utf-32", "utf32")
    )


def looks_binary(body: bytes, declared_encoding: str = "") -> bool:
    """True when ``body`` is not text whatever its Content-Type says."""
    head = body[:SNIFF_BYTES]
    if not head:
        return False
    if head.startswith(SIGNATURES) or (head.startswith(RIFF) and len(head) >= 12):
        return True
    if is_wide(head, declared_encoding):
        return False
    controls = sum(1 for byte in head if byte in _CONTROL)
    return controls > len(head) // 20


class BinaryBodyMiddleware:
    """Downloader middleware: a binary body is never treated as text.

    Counters: ``safety/binary_body``, ``safety/nul_bytes_removed``.
    """

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("SAFETY_SNIFF_BINARY"):
            raise NotConfigured
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BinaryBodyMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse):
            return response
        declared = (response.headers.get("Content-Type") or b"").decode("latin-1")
        charset = declared.partition("charset=")[2].strip(" \"';")
        if not looks_binary(response.body, charset):
            return self._without_nul_bytes(response, charset)
        self.stats.inc_value("safety/binary_body")
        logger.info("Binary body served as %r: %s", declared, response.url)
        # Response.replace(cls=Response) would pass TextResponse's encoding along.
        return Response(
            response.url,
            status=response.status,
            headers=response.headers,
            body=response.body,
            flags=[*response.flags, "binary"],
            request=request,
            certificate=response.certificate,
            ip_address=response.ip_address,
            protocol=response.protocol,
        )

    def _without_nul_bytes(self, response: TextResponse, charset: str) -> Response:
        """A text page with stray NUL bytes, without them (not in UTF-16/32, where
        zero bytes are half of every character)."""
        if b"\x00" not in response.body or is_wide(response.body, charset):
            return response
        self.stats.inc_value("safety/nul_bytes_removed")
        return response.replace(body=response.body.replace(b"\x00", b""))
