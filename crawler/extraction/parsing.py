"""Turn a page's bytes into the tree every extraction step reads.

trafilatura's parsing (its encoding guess, repairs and parser settings) with lxml's
built-in element class lookup; and the parser's own report of a page cut at its
depth limit.
"""

from __future__ import annotations

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from crawler.extraction.page import ExtractionError

# trafilatura has no input cap: a 60 MB page takes minutes. Pages above this are cut.
MAX_HTML_BYTES = 3 * 1024 * 1024


def parse_html(html: bytes | str) -> tuple[HtmlElement, str]:
    """The page's tree, parsed as trafilatura parses (encoding guessed, HTML comments
    dropped: kept, they cut trafilatura's text on some pages), and its decoded
    source."""
    text, data = _decoded(html[:MAX_HTML_BYTES])
    try:
        tree = _load_html(text, data)
    except (ValueError, TypeError, lxml_html.etree.ParserError) as exc:
        raise ExtractionError("unparsable", str(exc)) from exc
    if tree is None:
        raise ExtractionError("unparsable", "not HTML")
    return tree, text


def _decoded(html: bytes | str) -> tuple[str, bytes | None]:
    """trafilatura's ``decode_file`` of the page; and, when it came as UTF-8 bytes
    (most pages: decoded at once), those bytes, the text's UTF-8 to parse (not
    encoded again)."""
    from trafilatura.utils import decode_file, handle_compressed_file

    if isinstance(html, str):
        return html, None
    content = handle_compressed_file(html)
    try:  # decode_file's first try
        return content.decode("utf-8"), content
    except UnicodeDecodeError:
        return decode_file(html), None


def _html_parser() -> etree.HTMLParser:
    """trafilatura's parser settings with lxml's built-in class lookup: every element
    an ``HtmlElement``. lxml.html's own lookup is Python code run each time an element
    is first touched (thousands of times a page, by trafilatura too); the only classes
    it adds are those of form controls, which no step here uses."""
    parser = etree.HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement,
            comment=lxml_html.HtmlComment,
            pi=lxml_html.HtmlProcessingInstruction,
            entity=lxml_html.HtmlEntity,
        )
    )
    return parser


HTML_PARSER = _html_parser()

# The characters trafilatura's repair deletes (its ``INVALID_XML_CHARS``: the C0
# controls but tab, line feed and carriage return; U+FFFE and U+FFFF), in UTF-8.
_CONTROL_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
# repair_faulty_html's other repairs look no further than this (its first four
# lines within the page's first 4096 characters).
_REPAIR_HEAD_CHARS = 4096


def _has_invalid_chars(data: bytes) -> bool:
    """Whether the UTF-8 ``data`` holds a character trafilatura's repair deletes.
    In UTF-8 a byte below 0x20 is such a character and nothing else (every byte of
    a longer character is 0x80 or above): deleting those bytes and comparing
    lengths takes a fifth of the time of the regex search of the whole page (0.2
    ms), which finds nothing on almost every page."""
    if len(data.translate(None, _CONTROL_BYTES)) != len(data):
        return True
    return any(char in data for char in _NONCHARACTERS)


def _repaired(text: str, data: bytes, beginning: str) -> str:
    """trafilatura's ``repair_faulty_html`` of ``text`` (``data`` its UTF-8 bytes).
    Its deletion of invalid characters reads the whole page, which almost never holds
    one; its other repairs (a self-closing doctype, ``<html/>``) look at the first
    lines only. So without an invalid character it is run on the page's first
    ``_REPAIR_HEAD_CHARS`` characters (to the end of that line) and the rest is left
    as it is."""
    from trafilatura.utils import repair_faulty_html

    if _has_invalid_chars(data):
        return repair_faulty_html(text, beginning)
    line_end = text.find("\n", _REPAIR_HEAD_CHARS)
    if line_end == -1:
        return repair_faulty_html(text, beginning)
    head = text[: line_end + 1]
    fixed = repair_faulty_html(head, beginning)
    return text if fixed == head else fixed + text[line_end + 1 :]


def _load_html(text: str, data: bytes | None = None) -> HtmlElement | None:
    """trafilatura's ``load_html`` on a decoded page, with ``HTML_PARSER``: repaired
    first, refused when it does not look like HTML and parses to almost nothing.

    ``data``: the text's UTF-8, when the page came as that. trafilatura parses the
    text and falls back on its UTF-8 bytes (when the text declares an encoding, or
    parses to nothing); the bytes alone give the same tree (``HTML_PARSER`` reads
    them as UTF-8 whatever the page declares: the same tree for every page of the
    corpora) in less time, and the repair's test reads them anyway. A text with a
    lone surrogate (only a caller's text holds one: no codec decodes to one) has no
    UTF-8 and is parsed as trafilatura parses it: lxml stops at the surrogate, where
    the bytes would go on."""
    from trafilatura.utils import is_dubious_html

    beginning = text[:50].lower()
    if data is None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return _load_text(text, beginning)
    repaired = _repaired(text, data, beginning)
    if repaired is not text:  # rare: the repair changed something
        data = _utf8(repaired)
    tree = _parse_utf8(data)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


def _load_text(text: str, beginning: str) -> HtmlElement | None:
    """trafilatura's ``load_html`` of a decoded page, as it is (the text parsed,
    its UTF-8 bytes when that fails), with ``HTML_PARSER``."""
    from trafilatura.utils import is_dubious_html, repair_faulty_html

    text = repair_faulty_html(text, beginning)
    tree: HtmlElement | None = None
    reparsed = False
    try:
        tree = lxml_html.fromstring(text, parser=HTML_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported"
        tree, reparsed = from_bytes(text), True
    except Exception:  # noqa: BLE001 - as trafilatura: the bytes are tried next
        tree = None
    if (tree is None or len(tree) < 1) and not reparsed:
        tree = from_bytes(text)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


def _utf8(text: str) -> bytes:
    return text.encode("utf8", "surrogatepass")


def _parse_utf8(data: bytes) -> HtmlElement | None:
    """``data`` parsed with ``HTML_PARSER``; None when lxml cannot parse it."""
    try:
        return lxml_html.fromstring(data, parser=HTML_PARSER)
    except Exception:  # noqa: BLE001 - as trafilatura: an unparsable page has no tree
        return None


def from_bytes(text: str) -> HtmlElement | None:
    """``text`` parsed from its UTF-8 bytes with ``HTML_PARSER`` (trafilatura's
    ``fromstring_bytes`` with our parser); None when lxml cannot parse it."""
    return _parse_utf8(_utf8(text))


def cut_too_deep() -> bool:
    """Whether the last parse stopped at libxml2's depth limit (256 levels without
    XML_PARSE_HUGE): what lay deeper is not in the tree. Read from the error log of
    our parser (this thread's last run), so it costs nothing."""
    return any("Excessive depth" in entry.message for entry in HTML_PARSER.error_log)
