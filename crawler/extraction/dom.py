"""Where an extracted line came from: map text lines back to the page's elements.

trafilatura returns text, not elements. To judge a line by its markup (is it a link,
a heading, a quote, in the same container as the next line?) we find the element whose
whole text is that line, white space collapsed and trafilatura's list marker ("- ")
removed (on the dev set that matches 90% of lines; matching on lower-cased word tokens
instead adds 0.1% for twice the time). A line with no such element (a table row, text
trafilatura merged) gets no ``Block.element`` and is judged on its text alone.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from crawler.extraction.cleanup import count_words, text_key

_WORD = re.compile(r"\w+")

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements that hold one paragraph-like run of text.
_LEAF_BLOCKS = (
    frozenset(
        {
            "p",
            "li",
            "dd",
            "dt",
            "blockquote",
            "pre",
            "figcaption",
            "td",
            "th",
            "caption",
            "summary",
            "address",
            "label",
            "legend",
        }
    )
    | HEADINGS
)
# Elements that hold a line only when they have no block children.
_WRAPPERS = frozenset(
    {
        "div",
        "span",
        "section",
        "article",
        "a",
        "font",
        "center",
        "b",
        "strong",
        "em",
        "i",
        "small",
        "time",
        "cite",
        "q",
        "header",
        "footer",
        "aside",
        "main",
        "figure",
    }
)
_BLOCK_CHILDREN = _LEAF_BLOCKS | {
    "div",
    "section",
    "article",
    "ul",
    "ol",
    "table",
    "br",
    "header",
    "footer",
    "aside",
    "figure",
    "main",
    "nav",
}
_CANDIDATES = tuple(_LEAF_BLOCKS | _WRAPPERS)
# An element this much of whose text is link text is a link.
LINKED_SHARE = 0.7
# An element with more text than this is a container, never one line.
_MAX_LINE_CHARS = 5000
# An element whose text starts with this many characters is matched only when a
# line starts with them.
_HEAD_CHARS = 8


def first_key_word(text: str) -> str:
    """The first word of ``text_key(text)``, found without reading the rest."""
    found = _WORD.search(text)
    return found.group().lower() if found else ""


# Invisible characters trafilatura removes from its text (zero-width spaces and
# joiners, byte-order mark, soft hyphen).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def space_key(text: str) -> str:
    """``text`` without invisible characters, white space collapsed."""
    if not text.isascii():  # the characters are not ASCII: skip the search
        text = _INVISIBLE.sub("", text)
    return " ".join(text.split())


def line_key(text: str) -> str:
    """``space_key`` of an extracted line, its leading list marker removed."""
    text = space_key(text)
    return text[2:] if text.startswith("- ") else text


def _chars(text: str) -> int:
    return sum(map(len, _WORD.findall(text)))


class Block:
    """One extracted line and what its markup says about it (computed on use)."""

    __slots__ = ("text", "element", "_link_density", "_in_quote", "_words")

    def __init__(self, text: str, element: HtmlElement | None = None) -> None:
        self.text = text
        self.element = element
        self._link_density: float | None = None
        self._in_quote: bool | None = None
        self._words: int | None = None

    def __repr__(self) -> str:
        tag = self.element.tag if self.element is not None else None
        return f"Block({self.text[:40]!r}, {tag})"

    @property
    def key(self) -> str:
        return text_key(self.text)

    @property
    def words(self) -> int:
        """``count_words`` of the line, counted once for all the rules that ask."""
        if self._words is None:
            self._words = count_words(self.text)
        return self._words

    @property
    def link_density(self) -> float:
        """Share of the element's word characters inside links (1.0 inside an <a>)."""
        if self._link_density is None:
            el = self.element
            self._link_density = link_density(el) if el is not None else 0.0
        return self._link_density

    @property
    def heading(self) -> bool:
        return self.element is not None and self.element.tag in HEADINGS

    @property
    def in_quote(self) -> bool:
        """Inside a <blockquote> (a quotation, an embedded post)."""
        if self._in_quote is None:
            el = self.element
            self._in_quote = el is not None and _has_ancestor(el, "blockquote")
        return self._in_quote


class BlockIndex:
    """The elements whose whole text is one of ``lines``, first in page order wins;
    except over a link to a place in the page: a table of contents links the
    headings below it, and the line is the heading (not link text), not the link."""

    # An element is ruled out by the start of its text where it can be: the
    # ``space_key`` of an element's whole text starts with that of its own leading
    # text, so when the latter has ``_HEAD_CHARS`` characters they must open one of
    # the lines; most elements are ruled out without reading their subtree.

    def __init__(self, tree: HtmlElement, lines: list[str]) -> None:
        self._by_key: dict[str, HtmlElement] = {}
        wanted = {k for k in map(line_key, lines) if k}
        if not wanted:
            return
        linked: set[str] = set()  # keys matched so far only by an in-page link
        # An element whose raw text is much longer than the longest line is a container.
        limit = min(_MAX_LINE_CHARS, 2 * max(map(len, lines)) + 200)
        heads = {k[:_HEAD_CHARS] for k in wanted}
        for el in tree.iter(*_CANDIDATES):
            own = el.text
            # Most elements' own text is blank (indentation): nothing to collapse.
            blank = not own or own.isspace()
            head = "" if blank else space_key(own[: 4 * _HEAD_CHARS])
            if len(head) >= _HEAD_CHARS and head[:_HEAD_CHARS] not in heads:
                continue
            if len(el):
                text = _line_text(el, head, heads, limit)
            else:  # no children (most links and list items): the text is its own
                text = None if blank else own
            if text is None or len(text) > limit:
                continue
            key = space_key(text)
            if key in wanted and self._take(key, el, linked):
                if len(self._by_key) == len(wanted) and not linked:
                    break

    def _take(self, key: str, el: HtmlElement, linked: set[str]) -> bool:
        """Match ``key`` to ``el`` when it has no element yet, or only an in-page
        link (``linked``) and ``el`` is not link text; whether it did."""
        if key not in self._by_key:
            self._by_key[key] = el
            if _is_in_page_link(el):
                linked.add(key)
            return True
        if key in linked and link_density(el) < LINKED_SHARE:
            self._by_key[key] = el
            linked.discard(key)
            return True
        return False

    def element_for(self, line: str) -> HtmlElement | None:
        """The element whose whole text is ``line`` (list and table markers ignored)."""
        key = line_key(line)
        return self._by_key.get(key) if key else None

    def block(self, line: str) -> Block:
        """``line`` with its element (none when unmatched)."""
        return Block(line, self.element_for(line))


def _line_text(el: HtmlElement, head: str, heads: set[str], limit: int) -> str | None:
    """The whole text of ``el``, an element with children whose own text starts
    with ``head``; None when it holds no line of its own (a container) or its text
    opens none of the lines (``heads``)."""
    if el.tag not in _LEAF_BLOCKS and not _holds_line(el):
        return None
    if len(head) < _HEAD_CHARS:
        # Own text blank or short (indentation before inline markup): judge the
        # start of the whole text, read lazily, before reading all of it (most
        # such elements are short: then that is all of it).
        may, text = _read_start(el, heads, limit)
        if not may:
            return None
        if text is not None:
            return text
    return el.text_content()


def _read_start(
    el: HtmlElement, heads: set[str], limit: int
) -> tuple[bool, str | None]:
    """Whether ``el`` may hold a line, judged by the start of its whole text: False
    when its first ``_HEAD_CHARS`` characters, white space collapsed, open none of
    the lines (``heads``) or that start is over ``limit`` characters already (a
    container); and the whole text when it was all read on the way, else None. The
    text is read node by node (``itertext`` yields what ``text_content`` joins) and
    only until that is known."""
    text = ""
    for chunk in el.itertext():
        text += chunk
        if len(text) > limit:
            return False, None
        if len(text) < _HEAD_CHARS:  # collapsing white space only shortens it
            continue
        head = space_key(text)
        if len(head) >= _HEAD_CHARS:
            return head[:_HEAD_CHARS] in heads, None
    return True, text


def _holds_line(el: HtmlElement) -> bool:
    """A wrapper holds a line of its own when it has text of its own and no block
    children (a <div> around a <p> is matched through the <p>)."""
    # Block children first: they rule out most wrappers (containers) at once. (A
    # comment's tag is a function: in no set of names.)
    children = list(el)
    for child in children:
        if child.tag in _BLOCK_CHILDREN:
            return False
    text = el.text
    if el.tag == "a" or (text and not text.isspace()):
        return True
    for child in children:
        tail = child.tail
        if tail and not tail.isspace():
            return True
    return False


def _has_ancestor(el: HtmlElement, tag: str) -> bool:
    return el.tag == tag or next(el.iterancestors(tag), None) is not None


def _is_in_page_link(el: HtmlElement) -> bool:
    """``el`` is (mostly) a link to a place in a page, as a table of contents
    entry is: its link's ``href`` has a fragment (``#`` alone is no place)."""
    link = next(el.iter("a"), None)
    if link is None:
        link = next(el.iterancestors("a"), None)
    href = (link.get("href") or "") if link is not None else ""
    if "#" not in href.rstrip("#"):
        return False
    return link_density(el) >= LINKED_SHARE


def link_density(el: HtmlElement) -> float:
    """Share of ``el``'s word characters that are link text (1.0 when inside a link)."""
    if _has_ancestor(el, "a"):
        return 1.0
    links = list(el.iter("a"))
    if not links:  # most paragraphs: their text need not be read
        return 0.0
    total = _chars(el.text_content())
    if not total:
        return 0.0
    linked = sum(_chars(a.text_content()) for a in links)
    return min(linked / total, 1.0)
