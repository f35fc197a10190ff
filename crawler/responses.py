"""What the crawler reads from the head of a page: its base URL and its meta refresh,
decoded from the first bytes of the body only.

Scrapy's ``get_base_url`` and ``get_meta_refresh`` look at the first 4,096 characters
of a page but take them from ``response.text``, which decodes the whole body and keeps
that text on the response for as long as the response lives. Its meta-refresh
middleware does so for every HTML page, so an article page waiting in the scraper
slot for an extraction worker held its body twice: the bytes, and a text of 1-4
bytes a character (in the bench, ~40 such pages at a time, 9 MB of the crawler
process).
"""

from __future__ import annotations

from collections.abc import Iterable

from scrapy.http import TextResponse
from w3lib import html
from w3lib.encoding import html_to_unicode

#: Characters of the page Scrapy's helpers read (scrapy/utils/response.py).
HEAD_CHARS = 4096
#: Bytes that always hold ``HEAD_CHARS`` whole characters: at most 4 bytes a
#: character in any encoding a page may use, plus a byte order mark.
HEAD_BYTES = 4 * HEAD_CHARS + 4


def head_text(response: TextResponse) -> str:
    """``response.text[:HEAD_CHARS]``, decoding only ``HEAD_BYTES`` of the body."""
    charset = f"charset={response.encoding}"
    return html_to_unicode(charset, response.body[:HEAD_BYTES])[1][:HEAD_CHARS]


def base_url(response: TextResponse) -> str:
    """The page's ``<base href>`` joined with its URL (Scrapy's ``get_base_url``)."""
    return html.get_base_url(head_text(response), response.url, response.encoding)


def meta_refresh(
    response: TextResponse, ignore_tags: Iterable[str] = ("script", "noscript")
) -> tuple[None, None] | tuple[float, str]:
    """The page's ``<meta http-equiv="refresh">`` delay and URL, or (None, None)
    (Scrapy's ``get_meta_refresh``)."""
    text = head_text(response)
    base = html.get_base_url(text, response.url, response.encoding)
    return html.get_meta_refresh(text, base, response.encoding, ignore_tags=ignore_tags)
