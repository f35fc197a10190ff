"""Find the article body in a page's hydration data when its DOM holds none.

Pages built with Next.js may ship the article only inside the data the browser's
JavaScript renders from: the app router's "flight" stream
(``<script>self.__next_f.push([1, "..."])</script>``, its string chunks joined in
order) and the pages router's ``<script id="__NEXT_DATA__" type="application/json">``.
trafilatura sees an empty page there. This module decodes those payloads, groups
their strings by place (the paragraphs of one list of blocks together), picks the
group holding the most article prose (HTML fragments or plain-text sentences; link
text, code and keys naming furniture do not count, so a menu or a list of related
articles never wins) and hands it to the normal body choice.

The extractor calls it only when the DOM gave (next to) no body, so it costs nothing
on ordinary pages.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from html import escape
from typing import Any

from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring

from crawler.extraction.cleanup import count_words
from crawler.extraction.selector import MIN_FAST_WORDS, Body, choose_body, is_prose

# A fragment must hold at least this many words of text outside links (script-aware,
# ``count_words``) to be taken for a body: shorter strings are titles, teasers, labels
# and the page's description (about 160 characters), which alone is no article body.
MIN_FRAGMENT_WORDS = MIN_FAST_WORDS
# Text in which braces and equals signs are more than this share of the characters
# is code (scripts, styles, templates kept as strings), not prose.
CODE_SHARE = 0.005
# The ids of the frameworks' JSON page-state scripts: Next.js's pages router. (Nuxt's
# ``__NUXT_DATA__`` is a flat array: its strings have no place to group them by.)
_STATE_SCRIPT_IDS = frozenset({"__NEXT_DATA__"})
# Words of a key that say its value is page furniture, not the article: the menu's
# and the sitemap's section blurbs, related and recommended teasers (as class and id
# names say it in the DOM, where trafilatura drops such elements).
_FURNITURE_KEYS = frozenset(
    {
        "nav",
        "navigation",
        "menu",
        "sitemap",
        "breadcrumb",
        "breadcrumbs",
        "related",
        "recommended",
        "recommendations",
        "teaser",
        "teasers",
        "promo",
        "header",
        "footer",
        "sidebar",
    }
)
_KEY_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")

# The flight stream's chunks: ``self.__next_f.push([1, "<chunk>"])`` (type 1 is a
# string chunk; 0 bootstraps, 2 carries form state, 3 base64 binary).
_FLIGHT_PUSH = re.compile(
    r"\s*\(?\s*self\.__next_f\s*\.\s*push\(\s*(\[.*\])\s*\)\s*;?\s*", re.S
)
# A flight row: ``<hex id>:<tag>...``; a ``T`` row is ``T<hex byte length>,<text>``
# (no newline after it), every other row ends at a newline.
_ROW_ID = re.compile(rb"[0-9a-fA-F]*")
_TEXT_LENGTH = re.compile(rb"T([0-9a-fA-F]+),")
# Something that makes a string HTML rather than text.
_HTML_TAG = re.compile(
    r"<(p|br|div|h[1-6]|ul|ol|li|blockquote|span|strong|em|a)[\s/>]", re.IGNORECASE
)
# A template placeholder left whole (``$$AD_SLOT$$``, ``{{ad}}``, ``%%BANNER%%``): the
# data holds the CMS's raw HTML, before the step that fills such slots in.
_PLACEHOLDER = re.compile(
    r"(\$\$|%%|\{\{|\[\[)\s*[A-Za-z_][\w.-]*\s*(\$\$|%%|\}\}|\]\])"
)


def hydration_body(
    tree: HtmlElement,
    url: str,
    *,
    titles: Iterable[str] = (),
    article_body: str = "",
) -> Body | None:
    """The body chosen (``selector.choose_body``) from the article fragment of the
    page's hydration data, with ``source`` ``"hydration"``; None when the page has
    no hydration data or none of its strings reads like an article."""
    fragment = best_fragment(hydration_strings(tree))
    page = fragment_page(fragment) if fragment is not None else None
    if page is None:
        return None
    body = choose_body(page, url, titles=titles, article_body=article_body)
    body.source = "hydration"
    return body


# --- the payloads -------------------------------------------------------------------

#: A string of the payloads with its place: the keys leading to it, list indices
#: written ``*``, so that the paragraphs of one list (``blocks.*.text``) share it.
Placed = tuple[str, str]


def hydration_strings(tree: HtmlElement) -> Iterator[Placed]:
    """Every string of the page's hydration payloads with its place: the flight
    stream's text rows and the strings of its JSON rows, then those of the
    frameworks' JSON state scripts."""
    scripts = list(tree.iter("script"))
    yield from flight_strings(flight_stream(scripts))
    for script in scripts:
        if _is_state_script(script):
            yield from json_strings(_loads(script.text or ""), script.get("id", ""))


def _is_state_script(script: HtmlElement) -> bool:
    """A framework's JSON page state (Next.js ``__NEXT_DATA__``); other JSON
    scripts are mostly consent managers' and trackers' settings, whose notices read
    like prose."""
    kind = (script.get("type") or "").strip().lower()
    return kind == "application/json" and script.get("id") in _STATE_SCRIPT_IDS


def flight_stream(scripts: Iterable[HtmlElement]) -> str:
    """The Next.js flight stream: the string chunks of the page's
    ``self.__next_f.push`` calls, joined in page order."""
    chunks: list[str] = []
    for script in scripts:
        text = script.text or ""
        if "__next_f" not in text:
            continue
        match = _FLIGHT_PUSH.fullmatch(text)
        pushed = _loads(match.group(1)) if match else None
        if isinstance(pushed, list) and len(pushed) > 1 and pushed[0] == 1:
            if isinstance(pushed[1], str):
                chunks.append(pushed[1])
    return "".join(chunks)


def flight_rows(stream: str) -> Iterator[tuple[str, str, str]]:
    """The flight stream's rows as (id, tag, payload): tag ``T`` for a text row,
    ``""`` for a JSON row, the tag letter for the others (imports, hints). Stops
    at the first row it cannot read."""
    data = stream.encode("utf-8")  # a text row's length counts UTF-8 bytes
    pos = 0
    while pos < len(data):
        colon = data.find(b":", pos)
        if colon < 0 or not _ROW_ID.fullmatch(data, pos, colon):
            return
        row_id = data[pos:colon].decode("ascii")
        text = _TEXT_LENGTH.match(data, colon + 1)
        if text is not None:
            start = text.end()
            end = start + int(text.group(1), 16)
            yield row_id, "T", data[start:end].decode("utf-8", "replace")
            pos = end
            continue
        end = data.find(b"\n", colon + 1)
        end = len(data) if end < 0 else end
        row = data[colon + 1 : end].decode("utf-8", "replace")
        tag = row[:1] if row[:1].isalpha() and row[:1].isupper() else ""
        yield row_id, tag, row[len(tag) :]
        pos = end + 1


def flight_strings(stream: str) -> Iterator[Placed]:
    """The strings of the flight stream: its text rows whole, and every string
    inside its JSON rows."""
    for row_id, tag, payload in flight_rows(stream):
        if tag == "T":
            yield f"T{row_id}", payload
        elif tag == "":
            yield from json_strings(_loads(payload), "flight")


def json_strings(value: Any, place: str = "") -> Iterator[Placed]:
    """Every string in a decoded JSON value with its place, in document order."""
    if isinstance(value, str):
        yield place, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not is_furniture_key(key):
                yield from json_strings(item, f"{place}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item, f"{place}.*")


def is_furniture_key(key: str) -> bool:
    """True when a word of ``key`` (camelCase, snake_case or kebab-case) names page
    furniture: ``flyOutMenu``, ``related_articles``, ``topNav``."""
    return any(w.lower() in _FURNITURE_KEYS for w in _KEY_WORD.findall(key))


def _loads(text: str) -> Any:
    """The decoded JSON of ``text``, or None when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:  # JSONDecodeError, and a number too large to convert
        return None


# --- the article fragment -----------------------------------------------------------


def best_fragment(strings: Iterable[Placed]) -> str | None:
    """The strings of one place holding the most prose outside links, joined as
    HTML (plain text becomes one ``<p>`` a line); None when no place holds
    ``MIN_FRAGMENT_WORDS`` words. One place is one HTML string, or the paragraphs
    of a list of blocks; a list of related articles' teasers is one too, but
    holds less prose than the article."""
    fragments: dict[str, list[str]] = defaultdict(list)
    scores: Counter[str] = Counter()
    for place, text in strings:
        text = _PLACEHOLDER.sub(" ", text)
        fragment = text if _HTML_TAG.search(text) else _text_as_html(text)
        found = prose_words(fragment) if fragment else 0
        if found:
            fragments[place].append(fragment)
            scores[place] += found
    if not scores:
        return None
    place, found = scores.most_common(1)[0]
    return "".join(fragments[place]) if found >= MIN_FRAGMENT_WORDS else None


def prose_words(fragment: str) -> int:
    """Words of the fragment's text outside links (a list of links, a menu or
    related articles, scores nothing, however long); none for code."""
    try:
        root = fragment_fromstring(fragment, create_parent="div")
    except (etree.LxmlError, ValueError):  # a control character, nothing to parse
        return 0
    for tag in ("script", "style", "a"):
        for node in list(root.iter(tag)):
            node.drop_tree()
    text = root.text_content()
    if sum(map(text.count, "{}=")) > CODE_SHARE * len(text):
        return 0
    return count_words(text)


def _text_as_html(text: str) -> str:
    """Plain text as paragraphs, one a line; lines that are not sentences (titles,
    labels, names in a list, identifiers, URLs) are left out, so only prose
    scores."""
    lines = (line.strip() for line in text.splitlines())
    return "".join(f"<p>{escape(line)}</p>" for line in lines if is_prose(line))


def fragment_page(fragment: str) -> HtmlElement | None:
    """A page holding only ``fragment`` as its article, parsed as pages are (None
    if the parser refuses it)."""
    from trafilatura.utils import load_html

    try:
        return load_html(f"<html><body><article>{fragment}</article></body></html>")
    except (etree.LxmlError, ValueError, TypeError):
        return None
