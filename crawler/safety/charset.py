"""A lying or missing charset never garbles the text: HTML bodies are made UTF-8.

A page's charset can be declared in the ``Content-Type`` header, in a ``<meta>`` tag,
by a byte order mark, or not at all, and any of them can be wrong. Scrapy's
``response.text`` trusts the header (mojibake when it lies); trafilatura guesses from
the bytes alone and reads unlabelled or mislabelled Western pages as cp1250 or
cp1257. This middleware decides once, in the order that is right most often:

1. a byte order mark (UTF-8, UTF-16, UTF-32);
2. bytes that are valid UTF-8 are UTF-8, whatever is declared (a lying header or
   meta is far more likely than Latin-1 text that happens to be valid UTF-8);
3. the header charset, then the ``<meta>`` charset, if the bytes decode with it;
4. a declared UTF-8 that does not decode but is mostly UTF-8: UTF-8, the broken
   bytes replaced (a declared UTF-8 that is mostly not is a lie: go on);
5. no usable declaration: windows-1252 (the web's default for unlabelled pages, as
   browsers do) when the page's language is Western or unknown and the bytes decode
   with it, else charset_normalizer's guess.

A page that is not UTF-8 already is decoded with that choice and re-encoded as UTF-8,
its header and ``<meta>`` saying so, so the extractor (which tries UTF-8 first) and
``response.text`` read the same text. Counters: ``safety/charset/<how>`` for each
re-encoded page (``bom``, ``header``, ``meta``, ``declared_utf8``, ``cp1252``,
``guessed``) and ``safety/charset_mismatch`` when the header was overruled (for a
UTF-8 body under a lying header only the declared encoding changes).
"""

from __future__ import annotations

import codecs
import logging
import re

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response

logger = logging.getLogger(__name__)

HEAD_BYTES = 4096
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_HTML_LANG = re.compile(rb"""<html\b[^>]*?\blang\s*=\s*["']?([a-zA-Z]{2,3})""", re.I)
_META_CHARSET_TEXT = re.compile(
    r"""(<meta\b[^>]*?\bcharset\s*=\s*["']?\s*)([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
# Languages written in windows-1252 when not in UTF-8.
WESTERN = frozenset(
    (
        "af ca da de en es et eu fi fo fr ga gd gl id is it ms nb nl nn no oc pt sq"
        " sv sw"
    ).split()
)


def codec_name(label: str) -> str | None:
    """Python's codec for a charset label (``latin1`` -> ``cp1252``, as browsers
    read ISO-8859-1 and ASCII labels), or None when unknown."""
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"  # WHATWG Encoding: these labels mean windows-1252
    return name


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def mostly_utf8(body: bytes) -> bool:
    """True when most non-ASCII characters of ``body`` are valid UTF-8 (a UTF-8 page
    with a few broken bytes, not a cp1252 page that claims UTF-8)."""
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return good > 4 * bad


def choose_encoding(body: bytes, header_charset: str = "") -> tuple[str, str]:
    """``(codec, how)`` for an HTML body; ``how`` is ``utf8`` when nothing to do."""
    for bom, codec in BOMS:
        if body.startswith(bom):
            return codec, "bom"
    if _decodes(body, "utf-8"):
        return "utf-8", "utf8"
    declared: list[tuple[str, str]] = []
    if header_charset and (from_header := codec_name(header_charset)):
        declared.append((from_header, "header"))
    meta = _META_CHARSET.search(body[:HEAD_BYTES])
    if meta and (from_meta := codec_name(meta.group(1).decode("ascii", "replace"))):
        declared.append((from_meta, "meta"))
    for codec, how in declared:
        if codec != "utf-8" and _decodes(body, codec):
            return codec, how
    if any(codec == "utf-8" for codec, _ in declared) and mostly_utf8(body):
        return "utf-8", "declared_utf8"
    lang = _HTML_LANG.search(body[:HEAD_BYTES])
    western = lang is None or lang.group(1).decode("ascii").lower() in WESTERN
    if western and _decodes(body, "cp1252"):
        return "cp1252", "cp1252"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:65536]).best()
        if best is not None and (guessed := codec_name(best.encoding)):
            return guessed, "guessed"
    except Exception:  # noqa: BLE001 - a guesser failure must not lose the page
        logger.debug("charset guess failed", exc_info=True)
    return "cp1252", "cp1252"


def to_utf8(body: bytes, codec: str) -> bytes:
    """``body`` decoded with ``codec`` (broken bytes replaced, BOM dropped) as UTF-8,
    its ``<meta>`` charset rewritten to say so."""
    text = body.decode(codec, errors="replace").lstrip("\ufeff")
    head, rest = text[:HEAD_BYTES], text[HEAD_BYTES:]
    head = _META_CHARSET_TEXT.sub(lambda m: m.group(1) + "utf-8", head, count=1)
    return (head + rest).encode("utf-8")


class CharsetMiddleware:
    """Downloader middleware: every HTML body leaves it as UTF-8 bytes."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("SAFETY_NORMALIZE_CHARSET"):
            raise NotConfigured
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CharsetMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, HtmlResponse) or not response.body:
            return response
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        header_charset = content_type.partition("charset=")[2].split(";")[0].strip()
        codec, how = choose_encoding(response.body, header_charset)
        declared = codec_name(header_charset) if header_charset else None
        if how == "utf8" and (declared in (None, "utf-8") or response.body.isascii()):
            return response  # the common case: nothing to copy or rewrite
        headers = response.headers.copy()
        mime = content_type.split(";")[0].strip() or "text/html"
        headers["Content-Type"] = f"{mime}; charset=utf-8"
        if how == "utf8":
            # A header lying about a UTF-8 body: response.text would be mojibake.
            self.stats.inc_value("safety/charset_mismatch")
            return response.replace(headers=headers, encoding="utf-8")
        self.stats.inc_value(f"safety/charset/{how}")
        if declared is not None and declared != codec:
            self.stats.inc_value("safety/charset_mismatch")
        logger.debug("Re-encoded %s from %s (%s) to UTF-8", response.url, codec, how)
        return response.replace(
            body=to_utf8(response.body, codec), headers=headers, encoding="utf-8"
        )
