"""Choose the article body: trafilatura's lines judged by markup and a second opinion.

The steps, each measured on three corpora (figures in docs/extraction.md):

0. Layout tables (page layout, not data) become ``<div>``s.
1. trafilatura in fast mode (no internal fallbacks) gives the lines; when it finds
   (almost) nothing or looks partial (the page's paragraphs or its JSON-LD
   ``articleBody`` hold much more), full trafilatura with its fallbacks, then
   readability alone.
2. The headline repeated as a line is dropped (the dek stays: it is body text by
   the reference corpora's account).
3. Lines that are links (link density >= 0.7, four words or more, not headings) are
   teasers, "related" lists and promos, not the article (unless they are most of it);
   so is a short heading over a box of links the body left out; lines in boxes the
   markup names as a copyright notice, a disclosure or a pop-up go too; a comments
   heading in the second half ends the body.
4. Second opinion, only when an edge of the body looks unsure (a run of ten words or
   more at either end that is mostly not sentences): readability (trafilatura's fork,
   a few milliseconds). When readability's text is nearly all inside trafilatura's, the
   lines before the first and after the last line both agree on are dropped if they
   are mostly not prose: the shared part is the article, the rest is page furniture.
   Prose or quoted runs are kept (a second section, embedded posts).
"""

from __future__ import annotations

import copy
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement
from trafilatura.settings import Extractor

from crawler.extraction.cleanup import PROSE_END as _SENTENCE_END
from crawler.extraction.cleanup import (
    RELATED_MAX_WORDS,
    UNSPACED,
    UNSPACED_RANGES,
    count_words,
    is_prose,
    text_key,
)
from crawler.extraction.dom import (
    Block,
    BlockIndex,
    first_key_word,
    link_density,
)
from crawler.extraction.parsing import from_bytes

logger = logging.getLogger(__name__)

# Below this many words (script-aware, ``count_words``; about trafilatura's own 250
# characters of Latin text) the fast pass is retried with trafilatura's fallbacks.
MIN_FAST_WORDS = 40
# A table cell with block children and this many characters is page layout.
LAYOUT_CELL_CHARS = 200
# The fast pass looks partial when the page's <p> elements hold this many times its
# text (tuned on fundus-dev, confirmed on trafilatura-eval: docs/extraction.md) ...
PARTIAL_PARAGRAPHS = 2.0
# ... and the full pass replaces it when it finds this many times as much.
FULLER_SHARE = 1.2
# A line is dropped as a link when this share of its text is link text ...
LINK_DENSITY = 0.7
# ... and it has at least this many words (short link lines are often content:
# a source credit, a product name).
LINK_MIN_WORDS = 4
# ... unless such lines hold more than this share of the body's words: then they are
# the post itself (a link round-up).
LINK_BODY_SHARE = 0.5
# Readability's text must have at least this many characters to judge the edges ...
SECOND_MIN_CHARS = 400
# ... and at least this share of its 4-word shingles must be in trafilatura's text
# (readability may hold a box ours left out and still agree on the article: tuned on
# half of trafilatura-eval, confirmed on its other half and fundus-dev;
# docs/extraction.md).
SECOND_INSIDE = 0.6
# An edge run is kept when at least this share of its words is prose ...
EDGE_PROSE_SHARE = 0.5
# ... or when both extractors hold it: this share of its 4-grams, read across its
# lines, is in readability's text, and it has at least this many words (tuned on
# trafilatura-eval, confirmed on aeb: docs/extraction.md).
EDGE_AGREED_SHARE = 0.9
EDGE_AGREED_MIN_WORDS = 8
# Readability is asked only when an edge run of at least this many words is mostly
# not prose: shorter furniture is left to the clean-up rules.
UNSURE_MIN_WORDS = 10
# ... looking at this many lines from each end.
UNSURE_SCAN_LINES = 40
# A line anchors the agreed part when it has this many words (a short line, "Home",
# "Health", is found in any long text by chance) ...
ANCHOR_MIN_WORDS = 4
# ... and this share of its 4-grams is in readability's text.
ANCHOR_SHARE = 0.5

# A word: one character of an unspaced script, or a run of the other word
# characters (a class without those scripts: no look-ahead at each character).
_TOKEN = re.compile(f"{UNSPACED.pattern}|[^\\W{UNSPACED_RANGES}]+")
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "tr",
        "td",
        "th",
        "br",
        "dd",
        "dt",
        "section",
        "article",
        "figcaption",
        "ul",
        "ol",
        "table",
        "header",
        "footer",
    }
)


@dataclass
class Body:
    """The chosen lines and what was done to reach them (rule name -> lines dropped)."""

    lines: list[str]
    source: str = "trafilatura"
    dropped: Counter[str] = field(default_factory=Counter)
    second_opinion: bool = False
    full_pass: bool = False
    # The element showing the page's description (``choose_body``'s ``dek``), if
    # any, and whether it was put back before the lines (extractor.shown_dek).
    dek_element: HtmlElement | None = None
    dek_restored: bool = False


def words(text: str) -> list[str]:
    """Word tokens; each character of a script written without spaces is one."""
    return _TOKEN.findall(text)


def lower_words(text: str) -> list[str]:
    """``words`` of ``text``, lower-cased."""
    return [t.lower() for t in words(text)]


Gram = tuple[str, str, str, str]


def four_grams(tokens: list[str]) -> list[Gram]:
    """The word 4-grams of ``tokens``, in order."""
    return list(zip(tokens, tokens[1:], tokens[2:], tokens[3:], strict=False))


class TextCover:
    """Answers "is this text in that one?" on lower-cased word 4-grams (the benchmark's
    unit); a line of fewer than four words is looked up as a phrase. Built from
    ``lower_words`` tokens (and their ``four_grams`` when the caller has them), so
    that a caller tokenizes each text once."""

    def __init__(self, tokens: list[str], grams: list[Gram] | None = None) -> None:
        self.tokens = tokens
        self.grams = set(four_grams(tokens) if grams is None else grams)
        self._joined: str | None = None  # built when a short text is looked up

    def share_of(self, tokens: list[str], grams: list[Gram] | None = None) -> float:
        """Share of the 4-grams of a text's ``tokens`` (``grams``, when the caller
        has them) found here (1.0 for none)."""
        if not tokens:
            return 1.0
        if len(tokens) < 4:
            if self._joined is None:
                self._joined = " " + " ".join(self.tokens) + " "
            return 1.0 if " " + " ".join(tokens) + " " in self._joined else 0.0
        grams = four_grams(tokens) if grams is None else grams
        return sum(map(self.grams.__contains__, grams)) / len(grams)


# A heading that opens the readers' comments, in the languages of the corpora's
# sites (whole line, optional count before or after).
_COMMENTS_HEADING = re.compile(
    r"(\d+\s+)?(comments?|reader comments|responses?|replies|leave a (reply|comment)"
    r"|kommentare?|leserkommentare|commentaires?|comentarios?|commenti|reacties"
    r"|komentarze|kommentarer|yorumlar)(\s*[(\[]?\d+[)\]]?)?\s*:?",
    re.IGNORECASE,
)


# --- the extractors -----------------------------------------------------------------


def _pass_options(fast: bool) -> Extractor:
    return Extractor(
        output_format="python",
        fast=fast,
        comments=False,
        tables=True,
        images=False,
        with_metadata=False,
    )


#: trafilatura's options for its fast and its full pass, built once: building an
#: ``Extractor`` reads its settings from the config parser each time.
_PASSES = {True: _pass_options(True), False: _pass_options(False)}


def _page_options(url: str, fast: bool) -> Extractor:
    """The pass's options with the page's URL, as ``Extractor(url=...)`` sets it."""
    options = copy.copy(_PASSES[fast])
    options.url = url or None
    options.source = url and url.encode("utf-8", "replace").decode("utf-8") or None
    return options


def trafilatura_lines(tree: HtmlElement, url: str, *, fast: bool = True) -> list[str]:
    """trafilatura's body text as lines (no comments, tables kept)."""
    # No copy here: trafilatura copies a tree it is given before changing it.
    doc = trafilatura.bare_extraction(tree, options=_page_options(url, fast))
    if isinstance(doc, dict):  # as_dict=True output (not asked for, but typed so)
        text = doc.get("text") or ""
    else:
        text = (doc.text if doc is not None else "") or ""
    return [line.strip() for line in text.split("\n") if line.strip()]


def readability_text(tree: HtmlElement) -> str:
    """Readability's article (trafilatura's fork of readability-lxml) as text lines.

    The fork is used rather than readability-lxml itself: same algorithm, a fifth of
    the time (it runs on the parsed tree), and it is what trafilatura itself consults.
    """
    from trafilatura.readability_lxml import Document

    try:
        # As trafilatura.external.try_readability, which would hide a MemoryError;
        # its summary parsed with our parser (elements read without lxml.html's
        # Python class lookup).
        article = Document(copy.deepcopy(tree), min_text_length=25).summary()
        summary = from_bytes(article)
    except MemoryError:
        raise  # the worker's memory cap must end the page, not be hidden
    except Exception:  # noqa: BLE001 - a second opinion must never fail the page
        logger.debug("readability failed", exc_info=True)
        return ""
    if summary is None:
        return ""
    return "\n".join(_element_lines(summary))


def _element_lines(root: HtmlElement) -> list[str]:
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join("".join(buffer).split())
        if text:
            lines.append(text)
        buffer.clear()

    def walk(el: HtmlElement) -> None:
        if not isinstance(el.tag, str):
            return
        block = el.tag in _BLOCKS
        if block:
            flush()
        if el.text:
            buffer.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                buffer.append(child.tail)
        if block:
            flush()

    walk(root)
    flush()
    return lines


# --- layout tables -----------------------------------------------------------------

_TABLE_PARTS = ("table", "thead", "tbody", "tfoot", "tr", "td", "th")


def is_layout_table(table: HtmlElement) -> bool:
    """A table that lays out the page rather than holding data: it holds another
    table, or a cell holds a paragraph-length text (data cells hold short values)
    and it has no header cells (a table with a header is data, however long its
    cells: unwrapped, a timeline's or a list's entries lose their text)."""
    if table.find(".//table") is not None:
        return True
    if next(table.iter("th", "thead", "caption"), None) is not None:
        return False
    for cell in table.iter("td", "th"):
        if next(cell.iter("p", "div", "h1", "h2", "h3", "ul", "ol"), None) is not None:
            if len(cell.text_content()) >= LAYOUT_CELL_CHARS:
                return True
    return False


def unwrap_layout_tables(tree: HtmlElement) -> HtmlElement:
    """A copy of ``tree`` whose layout tables are plain ``<div>``s, so that their text
    comes out as paragraphs, not as one row of pipe-separated cells; ``tree`` itself
    when it has none."""
    tables = [t for t in tree.iter("table") if is_layout_table(t)]
    if not tables:
        return tree
    tree = copy.deepcopy(tree)
    for table in [t for t in tree.iter("table") if is_layout_table(t)]:
        for el in [table, *table.iter(*_TABLE_PARTS[1:])]:
            el.tag = "div"
    return tree


# --- completeness of the first pass -------------------------------------------------


def paragraph_text_over(tree: HtmlElement, limit: float) -> bool:
    """Whether the page's ``<p>`` elements hold more than ``limit`` characters of
    text, white space collapsed: a cheap upper estimate of how much prose the page
    holds (menus and teasers are rarely paragraphs)."""
    texts = [p.text_content() for p in tree.iter("p")]
    # Collapsing white space only shortens a text: most pages are ruled out by the
    # raw lengths, without splitting every paragraph.
    if sum(map(len, texts)) <= limit:
        return False
    return sum(len(" ".join(t.split())) for t in texts) > limit


def looks_partial(chars: int, tree: HtmlElement, article_body: str) -> bool:
    """True when the fast pass's ``chars`` characters look like part of the article:
    the page's paragraphs hold ``PARTIAL_PARAGRAPHS`` times as much text, or its
    JSON-LD ``articleBody`` is ``FULLER_SHARE`` times longer."""
    if len(article_body) > FULLER_SHARE * chars:
        return True
    return paragraph_text_over(tree, PARTIAL_PARAGRAPHS * chars)


def first_pass(tree: HtmlElement, url: str, article_body: str, body: Body) -> list[str]:
    """trafilatura's fast pass; its full pass (with its own fallbacks) instead when
    the fast one is near empty or looks partial and the full one finds clearly more.
    """
    lines = trafilatura_lines(tree, url, fast=True)
    chars = sum(map(len, lines))
    if sum(map(count_words, lines)) < MIN_FAST_WORDS:
        wanted = chars
    elif looks_partial(chars, tree, article_body):
        wanted = int(FULLER_SHARE * chars)
    else:
        return lines
    body.full_pass = True
    fuller = trafilatura_lines(tree, url, fast=False)
    if sum(map(len, fuller)) > wanted:
        lines, body.source = fuller, "trafilatura_fallback"
    return lines


# --- the rules ----------------------------------------------------------------------


def drop_title(blocks: list[Block], titles: Iterable[str], body: Body) -> list[Block]:
    """Drop lines that repeat the headline. The dek (the page's description) stays:
    both fundus's and trafilatura's reference texts count it as body (dropping it
    cost 31 pages on trafilatura-eval and 17 on fundus-dev, docs/extraction.md)."""
    title_keys = {k for k in (text_key(t) for t in titles) if k}
    # A line's whole key is built only when its first word opens a title's.
    first_words = {k.split(" ", 1)[0] for k in title_keys}
    kept: list[Block] = []
    for block in blocks:
        if first_key_word(block.text) in first_words and block.key in title_keys:
            body.dropped["title"] += 1
            continue
        kept.append(block)
    return kept


def drop_link_lines(blocks: list[Block], body: Body) -> list[Block]:
    """Drop lines that are (almost) all link text: teasers, related lists, promos.

    When such lines hold most of the body's words, they are the post itself (a link
    round-up, a list of sources): all are kept."""
    links = [
        b.words >= LINK_MIN_WORDS and not b.heading and b.link_density >= LINK_DENSITY
        for b in blocks
    ]
    pairs = list(zip(blocks, links, strict=True))
    linked = sum(b.words for b, link in pairs if link)
    if linked > LINK_BODY_SHARE * sum(b.words for b in blocks):
        return blocks
    body.dropped["link"] += sum(links)
    return [b for b, link in pairs if not link]


# A link to another page: not a button scripted through "#" or "javascript:" (a
# recipe's unit switch, a tab).
_LINKS_OUT = etree.XPath(
    ".//a[@href and not(starts-with(@href, '#'))"
    " and not(starts-with(@href, 'javascript:'))][1]"
)


def drop_box_headings(blocks: list[Block], body: Body) -> list[Block]:
    """Drop the headings of link boxes left out of the body: a heading of
    ``RELATED_MAX_WORDS`` words or fewer ("More:", "Related", "Listen to the show")
    whose next element is a box of links (link density >= ``LINK_DENSITY``) and
    whose next line is not in that box. The extractors leave such boxes out (or
    ``drop_link_lines`` does) and the heading stays behind, whatever its words;
    ``cleanup.RELATED_HEADING`` knows only the usual ones. A heading whose list is
    in the body (an ingredients list with product links) stays."""
    if not blocks:
        return blocks
    following: list[Block | None] = [*blocks[1:], None]
    kept = [
        b
        for b, after in zip(blocks, following, strict=True)
        if not _heads_left_box(b, after)
    ]
    if len(kept) < len(blocks):
        body.dropped["box_heading"] += len(blocks) - len(kept)
    return kept


def _heads_left_box(block: Block, after: Block | None) -> bool:
    """``block`` is a short heading whose next element is a box of links that the
    next line (``after``) is not in."""
    if block.element is None or not block.heading or block.words > RELATED_MAX_WORDS:
        return False
    box = block.element.getnext()
    if box is None or not isinstance(box.tag, str) or not _LINKS_OUT(box):
        return False
    if after is not None and after.element is not None:
        if after.element is box or box in after.element.iterancestors():
            return False
    return link_density(box) >= LINK_DENSITY


# The post number blogging software (WordPress and its themes, many others after
# it) writes on each post's element: ``<article id="post-123" class="post-123 ...">``.
_POST_NUMBER = re.compile(r"\bpost-(\d+)\b")


def _post_article(el: HtmlElement | None) -> tuple[HtmlElement | None, str]:
    """The ``<article>`` holding ``el`` (itself included) and its post number ("" for
    none, or no such article)."""
    if el is None:
        return None, ""
    article = el if el.tag == "article" else next(el.iterancestors("article"), None)
    if article is None:
        return None, ""
    found = _POST_NUMBER.search(f"{article.get('id', '')} {article.get('class', '')}")
    return article, found.group(1) if found else ""


def drop_other_posts(blocks: list[Block], body: Body) -> list[Block]:
    """Drop lines inside another post's ``<article>``: the post whose article holds
    most of the body's words is the page's; an article marked with another post
    number is a teaser of that post ("You may also like" cards that carry the other
    post's whole excerpt, too long and too little linked for the link-line rule)."""
    posts = [_post_article(b.element)[1] for b in blocks]
    words: Counter[str] = Counter()
    for block, post in zip(blocks, posts, strict=True):
        if post:
            words[post] += count_words(block.text)
    if len(words) < 2:
        return blocks
    own = words.most_common(1)[0][0]
    kept = [b for b, post in zip(blocks, posts, strict=True) if post in ("", own)]
    body.dropped["other_post"] += len(blocks) - len(kept)
    return kept


# Class or id words that page templates give to boxes that are never the article:
# copyright and rights notices, advertising disclosures and disclaimers,
# pop-ups and modal dialogs (a newsletter form, a login box, a promo shown over the
# page). Matched in the line's element and its nearest ancestors only
# (``MARKED_DEPTH``): a page's outer containers carry theme words of every kind.
_MARKED_FURNITURE = re.compile(
    r"copyright|disclosure|disclaimer|modal|popup|popmake", re.IGNORECASE
)
MARKED_DEPTH = 3
# ... for lines of this many words or more: a word or two ("Strava", "Photo") is
# matched to the first element with that text, which may be a caption elsewhere.
MARKED_MIN_WORDS = 3
# Blogging software writes the post's tags and categories as classes of its
# element ("tag-copyright", "category-disclosure"): those words name topics.
_TOPIC_CLASS = re.compile(r"(tag|category|post)-", re.IGNORECASE)


def _names_furniture(el: HtmlElement) -> bool:
    """``el``'s class or id carries a word of ``_MARKED_FURNITURE`` (topic classes
    aside)."""
    names = f"{el.get('class', '')} {el.get('id', '')}"
    # One search rules most elements out; only a hit is split into names.
    return bool(_MARKED_FURNITURE.search(names)) and any(
        _MARKED_FURNITURE.search(n) and not _TOPIC_CLASS.match(n) for n in names.split()
    )


def is_marked_furniture(
    el: HtmlElement | None, seen: dict[HtmlElement, bool] | None = None
) -> bool:
    """``el`` or one of its ``MARKED_DEPTH - 1`` nearest ancestors carries a class
    or id word of ``_MARKED_FURNITURE`` (topic classes aside). A link's classes are
    not looked at: they name the link (an affiliate link to a product, a link that
    opens a pop-up), not a box around the line. ``seen`` keeps each element's
    answer for the next line (a body's lines share their containers)."""
    seen = {} if seen is None else seen
    for _ in range(MARKED_DEPTH):
        if el is None or not isinstance(el.tag, str):
            return False
        if el.tag != "a":
            marked = seen.get(el)
            if marked is None:
                marked = seen[el] = _names_furniture(el)
            if marked:
                return True
        el = el.getparent()
    return False


def drop_marked_furniture(blocks: list[Block], body: Body) -> list[Block]:
    """Drop lines inside a box the page's markup names as a copyright notice, a
    disclosure or a pop-up; unless such lines hold most of the body's words (then
    the name says nothing: the article itself sits in such a box)."""
    seen: dict[HtmlElement, bool] = {}
    marked = [
        b.words >= MARKED_MIN_WORDS and is_marked_furniture(b.element, seen)
        for b in blocks
    ]
    if not any(marked):
        return blocks
    pairs = list(zip(blocks, marked, strict=True))
    if sum(b.words for b, m in pairs if m) > LINK_BODY_SHARE * sum(
        b.words for b in blocks
    ):
        return blocks
    body.dropped["marked"] += sum(marked)
    return [b for b, m in pairs if not m]


def cut_comment_section(blocks: list[Block], body: Body) -> list[Block]:
    """Cut the body at a comments heading in its second half ("Comments", "12
    comments", "Kommentare (3)", "Leave a reply"): what follows is the readers'
    discussion, even when its markup does not say "comment" (AMP pages, plain
    <div>/<li> lists) and trafilatura's comment pruning misses it."""
    start = len(blocks) // 2
    for i in range(max(start, 1), len(blocks)):
        if _COMMENTS_HEADING.fullmatch(blocks[i].text.strip()):
            body.dropped["comments"] += len(blocks) - i
            return blocks[:i]
    return blocks


def _droppable_words(blocks: list[Block], enough: int) -> int:
    """Words of the longest run from the start of ``blocks`` that ``trim_edges`` could
    drop (mostly not prose), were readability to share none of it; the scan stops
    once ``enough`` is reached or after ``UNSURE_SCAN_LINES`` lines."""
    total = prose = best = 0
    for block in blocks[:UNSURE_SCAN_LINES]:
        n = block.words
        total += n
        if is_prose(block.text) or block.in_quote:
            prose += n
        if prose < total * EDGE_PROSE_SHARE:
            best = total
            if best >= enough:
                break
    return best


def edges_unsure(blocks: list[Block]) -> bool:
    """True when an edge of the body could be furniture: a run of at least
    ``UNSURE_MIN_WORDS`` words at the start or end that is mostly not prose."""
    if not blocks:
        return False
    return (
        _droppable_words(blocks, UNSURE_MIN_WORDS) >= UNSURE_MIN_WORDS
        or _droppable_words(blocks[::-1], UNSURE_MIN_WORDS) >= UNSURE_MIN_WORDS
    )


def _paragraphs(run: list[Block]) -> list[tuple[str, bool]]:
    """The run's lines joined where a line runs on into the next (no sentence end,
    the next starts in lower case: hard-wrapped text), with whether each is quoted."""
    merged: list[tuple[str, bool]] = []
    for block in run:
        text = block.text.strip()
        if merged and text[:1].islower() and not _SENTENCE_END.search(merged[-1][0]):
            merged[-1] = (f"{merged[-1][0]} {text}", merged[-1][1] or block.in_quote)
        else:
            merged.append((text, block.in_quote))
    return merged


def _keep_run(run: list[Block]) -> bool:
    """An edge run stays when at least ``EDGE_PROSE_SHARE`` of its words are prose or
    quotes (hard-wrapped lines judged joined)."""
    total = sum(b.words for b in run) or 1
    prose = sum(
        count_words(text)
        for text, quoted in _paragraphs(run)
        if quoted or is_prose(text)
    )
    return prose / total >= EDGE_PROSE_SHARE


def _both_hold(lines: list[list[str]], theirs: TextCover) -> bool:
    """Whether readability's text holds a run (its lines' tokens) in the same order:
    at least ``EDGE_AGREED_SHARE`` of the 4-grams of its words read across its lines
    (a list of short items, a fact box: lines too short to be anchors one by one)."""
    tokens = [t for line in lines for t in line]
    return (
        len(tokens) >= EDGE_AGREED_MIN_WORDS
        and theirs.share_of(tokens) >= EDGE_AGREED_SHARE
    )


def trim_edges(blocks: list[Block], second: str, body: Body) -> list[Block]:
    """Drop non-prose runs before/after the part both extractors agree on."""
    if len(second) < SECOND_MIN_CHARS or not blocks:
        return blocks
    # Lines never join into one token (a line break is not a word character), so
    # the body's tokens are its lines' tokens end to end.
    lines = [lower_words(b.text) for b in blocks]
    ours = TextCover([t for line in lines for t in line])
    second_tokens = lower_words(second)
    second_grams = four_grams(second_tokens)
    if ours.share_of(second_tokens, second_grams) < SECOND_INSIDE:
        return blocks
    theirs = TextCover(second_tokens, second_grams)
    shared = [
        b.words >= ANCHOR_MIN_WORDS and theirs.share_of(tokens) >= ANCHOR_SHARE
        for b, tokens in zip(blocks, lines, strict=True)
    ]
    if not any(shared):
        return blocks
    start = shared.index(True)
    end = len(blocks) - shared[::-1].index(True)

    head, middle, tail = blocks[:start], blocks[start:end], blocks[end:]
    if head and not _keep_run(head) and not _both_hold(lines[:start], theirs):
        body.dropped["edge_head"] += len(head)
        head = []
    if tail and not _keep_run(tail) and not _both_hold(lines[end:], theirs):
        body.dropped["edge_tail"] += len(tail)
        tail = []
    return head + middle + tail


# --- the page's own article element ------------------------------------------------


def largest_article(tree: HtmlElement) -> HtmlElement | None:
    """The page's ``<article>`` element whose paragraphs hold the most text (None
    when it has none, or none with paragraph text)."""
    best, best_chars = None, 0
    for article in tree.iter("article"):
        chars = sum(len(p.text_content()) for p in article.iter("p"))
        if chars > best_chars:
            best, best_chars = article, chars
    return best


def article_element_body(
    tree: HtmlElement, url: str, *, titles: Iterable[str] = ()
) -> Body | None:
    """The body chosen from a page holding only the page's largest ``<article>``,
    with ``source`` ``"article_element"``; None when the page has no such element.

    For pages whose extractors find (next to) nothing although the article is in
    the markup: a tag left open before it (a menu's ``<div>``, a list) nests the
    article inside a sidebar ``<aside>``, and both trafilatura and readability
    drop the sidebar whole."""
    article = largest_article(tree)
    if article is None:
        return None
    page = lxml_html.document_fromstring("<html><body></body></html>")
    page[0].append(copy.deepcopy(article))
    body = choose_body(page, url, titles=titles)
    body.source = "article_element"
    return body


# --- the whole choice ---------------------------------------------------------------


def choose_body(
    tree: HtmlElement,
    url: str,
    *,
    titles: Iterable[str] = (),
    article_body: str = "",
    dek: str = "",
) -> Body:
    """The article's lines from a parsed page (``tree`` is not modified);
    ``article_body`` is the page's JSON-LD ``articleBody``, if any; ``dek`` a text
    (the page's description) whose element is looked up with the lines'
    (``Body.dek_element``)."""
    body = Body(lines=[])
    tree = unwrap_layout_tables(tree)
    lines = first_pass(tree, url, article_body, body)
    second: str | None = None
    if sum(map(count_words, lines)) < MIN_FAST_WORDS:
        second = readability_text(tree)
        body.second_opinion = True
        if len(second) > sum(map(len, lines)):
            lines, body.source = second.split("\n"), "readability"
    if not lines:
        return body
    # The dek's element is looked up in the same pass over the page as the lines'.
    index = BlockIndex(tree, [*lines, dek] if dek else lines)
    body.dek_element = index.element_for(dek) if dek else None
    blocks = [index.block(line) for line in lines]
    blocks = drop_title(blocks, titles, body)
    blocks = drop_link_lines(blocks, body)
    blocks = drop_box_headings(blocks, body)
    blocks = drop_other_posts(blocks, body)
    blocks = drop_marked_furniture(blocks, body)
    blocks = cut_comment_section(blocks, body)
    if body.source != "readability" and edges_unsure(blocks):
        if second is None:
            second = readability_text(tree)
            body.second_opinion = True
        blocks = trim_edges(blocks, second, body)
    body.lines = [b.text for b in blocks]
    return body
