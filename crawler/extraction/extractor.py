"""Turn one HTML page into an ``ExtractedPage``: metadata, body, clean-up, verdicts.

This is the one code path the spider, ``newsites extract`` and the benchmarks share.
It is a pure function of (bytes, url, site) so that it can run in a worker process.
What it imports is what a worker loads: not Scrapy (nor ``itemloaders``, whose
``itemadapter`` imports Scrapy and Twisted whenever they are installed: 22 MB a
worker), so the site file's selectors are read by ``_load_overrides`` below.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement
from parsel import Selector
from parsel.csstranslator import css2xpath

from crawler.dates import parse_any_date
from crawler.extraction.cleanup import (
    clean_paragraphs,
    count_words,
    drop_bylines,
    drop_edge_timestamps,
    is_prose,
    normalize_field,
    normalize_space,
    split_blocks,
)
from crawler.extraction.dom import LINKED_SHARE, link_density
from crawler.extraction.hydration import hydration_body
from crawler.extraction.metadata import (
    PageMeta,
    drop_site_tail,
    figures_and_captions,
    find_images,
    read_metadata,
    split_authors,
    strip_title_suffix,
)
from crawler.extraction.page import ExtractedPage, ExtractionError
from crawler.extraction.pagetype import (
    SHORT_BODY_WORDS,
    challenge_verdict,
    is_paywalled,
    looks_like_listing,
    short_page_verdict,
)
from crawler.extraction.parsing import MAX_HTML_BYTES, cut_too_deep, parse_html
from crawler.extraction.selector import (
    MIN_FAST_WORDS,
    Body,
    TextCover,
    article_element_body,
    choose_body,
    lower_words,
)
from crawler.sites import CommentSelectors, SiteConfig, is_xpath, select
from crawler.urls import normalize_url, try_normalize_url

#: Site-file fields read with the site's selectors. The list fields keep every
#: match; the others keep the first non-empty one.
OVERRIDE_FIELDS = ("title", "date", "description", "authors", "body")
LIST_FIELDS = frozenset({"authors", "body"})
#: A site title selector's match longer than this is no headline: on a template the
#: site file was not written for (AMP, legacy, a redesign) it matched a container
#: (the header with the dek, the whole article).
MAX_TITLE_CHARS = 300
#: A site body of fewer words than this is suspect (the selector matched the dek, a
#: caption or a teaser on another template) ...
SITE_BODY_MIN_WORDS = MIN_FAST_WORDS
#: ... and the generic body replaces it when it has this many times its words.
SITE_BODY_FALLBACK_SHARE = 2.0


def _node_text(node: Selector) -> str:
    return " ".join(" ".join(node.xpath(".//text()").getall()).split())


def _to_xpath(selector: str) -> str:
    return selector if is_xpath(selector) else css2xpath(selector)


def _load_overrides(sel: Selector, site: SiteConfig | None) -> dict[str, Any]:
    """The fields the site file's selectors find, whitespace collapsed: for
    ``authors`` and ``body`` every match, for the others the first non-empty one; a
    field its selector found nothing for (or no non-empty value) is left out."""
    if site is None:
        return {}
    found: dict[str, Any] = {}
    for name in OVERRIDE_FIELDS:
        selector = getattr(site.extraction, name)
        if not selector:
            continue
        values = [" ".join(v.split()) for v in _selected_texts(sel, selector, name)]
        if name in LIST_FIELDS:
            if values:
                found[name] = values
        elif first := next((v for v in values if v), None):
            found[name] = first
    return found


def plausible_overrides(
    overrides: dict[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """The site selectors' values that look like what they name, and the names of
    those that do not: a title longer than ``MAX_TITLE_CHARS``, a date that does not
    parse. A selector written for one template matches something else on another;
    those fields fall back to the page's own (meta tags, JSON-LD, the extractors)."""
    rejected = []
    if len(overrides.get("title", "")) > MAX_TITLE_CHARS:
        rejected.append("title")
    if "date" in overrides and parse_any_date(overrides["date"]) is None:
        rejected.append("date")
    kept = {k: v for k, v in overrides.items() if k not in rejected}
    return kept, rejected


def _selected_texts(sel: Selector, selector: str, name: str) -> list[str]:
    """The texts of a site selector's matches: an attribute's or a text node's
    value as it is, an element's text (the body: always the element's text)."""
    return [
        n.root if isinstance(n.root, str) and name != "body" else _node_text(n)
        for n in select(sel, selector)
    ]


def extract_comments(
    sel: Selector, spec: CommentSelectors | None
) -> list[dict[str, Any]]:
    """Reader comments in page order, from the site's selectors or common CMS markup."""
    if spec is None:
        spec = CommentSelectors(
            item="li.comment, div.comment, article.comment",
            author=".comment-author, .fn, .author",
            date=".comment-date, .comment-meta time, time, .date",
            text=".comment-content, .comment-text, .comment-body p",
        )
    comments = []
    for node in select(sel, spec.item):

        def pick(selector: str, node: Selector = node) -> str:
            if not selector:
                return ""
            found = select(node, selector)
            return "\n\n".join(t for t in (_comment_text(n) for n in found) if t)

        text = pick(spec.text)
        if not text:
            continue
        date_raw = pick(spec.date) or None
        comments.append(
            {
                "author": pick(spec.author) or None,
                "date": parse_any_date(date_raw) if date_raw else None,
                "date_raw": date_raw,
                "text": text,
            }
        )
    return comments


def _lines_text(node: Selector) -> str:
    """Text of a node with ``<br>`` kept as a line break, other whitespace collapsed."""
    parts = [
        p.root if isinstance(p.root, str) else "\n"
        for p in node.xpath(".//text() | .//br")
    ]
    lines = (normalize_space(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _comment_text(node: Selector) -> str:
    if isinstance(node.root, str):
        return normalize_space(node.root)
    blocks = node.xpath("./p | ./div")
    if blocks:
        return "\n\n".join(t for t in (_lines_text(b) for b in blocks) if t)
    return _lines_text(node)


def detect_language(text: str, declared: str | None) -> str | None:
    """The declared language (site file or <html lang>), else py3langid's guess."""
    if declared:
        return declared.split("-")[0].split("_")[0].lower()
    if len(text) < 40:
        return None
    try:
        import py3langid

        lang, _ = py3langid.classify(text[:1500])
        return str(lang)
    except MemoryError:
        raise  # the worker's memory cap must end the page, not be hidden
    except Exception:  # noqa: BLE001 - language is optional; never fail the page
        return None


def article_link_texts(
    tree: HtmlElement, url: str, site: SiteConfig, canonical: str | None
) -> tuple[list[str], int]:
    """Texts of the page's links to *other* article URLs of the site, and how many
    links were skipped as malformed (``http://host:abc/``, ``http://[::1/``: URLs
    ``urllib`` refuses to parse).

    Computed here, in the extraction worker, rather than in the spider: walking a
    page's ~150 links costs milliseconds the reactor thread should not spend.
    """
    own = {normalize_url(url)}
    malformed = 0
    if canonical:
        if (target := try_normalize_url(canonical, url)) is None:
            malformed += 1
        else:
            own.add(target)
    # A page links the same URL many times (menus, teasers, share bars): each href
    # is joined, normalized and judged once.
    verdicts: dict[str, bool | None] = {}
    texts = []
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        if href not in verdicts:
            verdicts[href] = _to_other_article(href, url, own, site)
        verdict = verdicts[href]
        if verdict is None:
            malformed += 1
        elif verdict:
            texts.append(" ".join(anchor.text_content().split()))
    return texts, malformed


def _to_other_article(
    href: str, url: str, own: set[str], site: SiteConfig
) -> bool | None:
    """True when ``href`` leads to another article of the site; None when it cannot
    be parsed (a page's malformed link must not cost the page)."""
    target = try_normalize_url(href, url)
    if target is None:
        return None
    return target not in own and site.articles.is_article_url(target)


def extract_page(
    html: bytes | str,
    url: str,
    site: SiteConfig | None = None,
    *,
    include_comments: bool = False,
    min_words: int = 0,
    restore_dek: bool = True,
) -> ExtractedPage:
    """Extract one article page; raises ``ExtractionError`` when it is not one.
    ``restore_dek``: the page's dek put back as the body's first paragraph when the
    extractors left it out (``_with_dek``)."""
    # isspace, not strip: strip copies the page when it ends with a line break.
    if not html or html.isspace():
        raise ExtractionError("empty")
    tree, source = parse_html(html)
    deep = cut_too_deep()  # before anything else parses with the same parser
    raw = html[:MAX_HTML_BYTES] if isinstance(html, bytes) else None
    try:
        page = _extract_tree(
            tree, source, raw, url, site, include_comments, min_words, restore_dek
        )
    except ExtractionError as exc:
        exc.deep_nesting = deep
        raise
    page.deep_nesting = deep
    return page


def _extract_tree(
    tree: HtmlElement,
    source: str,
    raw: bytes | None,
    url: str,
    site: SiteConfig | None,
    include_comments: bool,
    min_words: int,
    restore_dek: bool,
) -> ExtractedPage:
    """The steps of ``extract_page`` on a parsed page (``source`` its decoded text,
    ``raw`` its bytes when it came as bytes), in the order they run."""
    tree = _pruned(tree, site)
    sel = Selector(root=tree, type="html")
    overrides, rejected = plausible_overrides(_load_overrides(sel, site))
    meta = read_metadata(tree, url)
    site_name = (site.name if site else "") or meta.sitename or ""
    title = _headline(overrides, meta, site, site_name)
    description = overrides.get("description") or meta.description
    dek = normalize_space(description or "")
    authors = split_authors(overrides.get("authors") or meta.authors, site_name)
    figures, captions = figures_and_captions(tree)
    body, paragraphs, words = _body_paragraphs(
        tree, url, site, title, meta, overrides, captions, dek
    )
    if body is not None:  # the generic body
        paragraphs, words = _without_page_lines(paragraphs, words, authors, body)
        if restore_dek:  # the dek left out
            paragraphs = _with_dek(dek, paragraphs, body)
    if overrides.get("body") and body is not None:
        rejected.append("body")
    _refuse_non_article(tree, title, paragraphs, words, min_words)
    malformed_links = _refuse_listing(tree, url, site, paragraphs, meta)
    date, date_raw, date_modified = _dates(overrides, meta)
    cleanup, body_source = _body_report(body)
    return ExtractedPage(
        title=normalize_field(title),
        paragraphs=split_blocks(paragraphs),
        description=normalize_field(description or "") or None,
        date=date,
        date_raw=date_raw,
        date_modified=date_modified,
        authors=authors,
        language=detect_language(" ".join(paragraphs), _declared_language(site, meta)),
        tags=meta.tags,
        images=find_images(meta.og_image, url, captions, figures),
        comments=_comments(sel, site, include_comments),
        canonical_url=meta.canonical_url,
        # a body is there: _refuse_non_article refused the page without one
        paywalled=is_paywalled(
            tree, source, words, meta.json_ld, paragraphs[-1], raw=raw
        ),
        cleanup=cleanup,
        body_source=body_source,
        malformed_links=malformed_links,
        rejected_selectors=rejected,
    )


def _pruned(tree: HtmlElement, site: SiteConfig | None) -> HtmlElement:
    """A copy of the page without the site's ``prune`` selectors' nodes (the page
    itself when the site prunes nothing)."""
    if site is None or not site.extraction.prune:
        return tree
    tree = copy.deepcopy(tree)
    for selector in site.extraction.prune:
        for node in tree.xpath(_to_xpath(selector)):
            if node.getparent() is not None:
                node.drop_tree()
    return tree


def _headline(
    overrides: dict[str, Any], meta: PageMeta, site: SiteConfig | None, site_name: str
) -> str:
    """The site's title selector, else the page's declared title, without the site
    name or section the page appends to it."""
    title = overrides.get("title") or meta.title or ""
    suffix = site.extraction.title_suffix if site else ""
    return drop_site_tail(strip_title_suffix(title, site_name, suffix), meta.headlines)


def _body_paragraphs(
    tree: HtmlElement,
    url: str,
    site: SiteConfig | None,
    title: str,
    meta: PageMeta,
    overrides: dict[str, Any],
    captions: list[str],
    dek: str,
) -> tuple[Body | None, list[str], int]:
    """The chosen body (None: the site's body selector's), its cleaned paragraphs and
    their words. The site's body gives way to the generic one when it is short and
    the generic one has ``SITE_BODY_FALLBACK_SHARE`` times its words (the selector
    matched the dek or a caption on a template it was not written for)."""
    if not overrides.get("body"):
        return _generic_body_paragraphs(tree, url, site, title, meta, captions, dek)
    paragraphs = _cleaned(overrides["body"], site, title, captions)
    words = sum(map(count_words, paragraphs))
    if words >= SITE_BODY_MIN_WORDS:
        return None, paragraphs, words
    generic = _generic_body_paragraphs(tree, url, site, title, meta, captions, dek)
    if generic[2] >= SITE_BODY_FALLBACK_SHARE * max(words, 1):
        return generic
    return None, paragraphs, words


def _without_page_lines(
    paragraphs: list[str], words: int, authors: list[str], body: Body
) -> tuple[list[str], int]:
    """The generic body's paragraphs and words without the page's date line at
    either edge and its byline (``cleanup.drop_edge_timestamps``,
    ``cleanup.drop_bylines``), each counted in ``body.dropped``."""
    dated = drop_edge_timestamps(paragraphs)
    kept = drop_bylines(dated, authors)
    if len(kept) == len(paragraphs):
        return paragraphs, words
    for rule, before, after in (
        ("timestamp", paragraphs, dated),
        ("byline", dated, kept),
    ):
        if len(after) < len(before):
            body.dropped[rule] += len(before) - len(after)
    return kept, sum(map(count_words, kept))


def _with_dek(dek: str, paragraphs: list[str], body: Body) -> list[str]:
    """The generic body's paragraphs with the page's dek first when the extractors
    left it out (``shown_dek``). The body's word count stays its own: a dek does not
    make a page an article."""
    if not shown_dek(dek, paragraphs, body.dek_element):
        return paragraphs
    body.dek_restored = True
    return [dek, *paragraphs]


#: The dek is held by the body already when this share of its word 4-grams is.
DEK_HELD_SHARE = 0.8
#: A text shown inside one of these is not the article's dek: the page's
#: navigation, footer or sidebar, a caption.
_NOT_DEK = frozenset({"nav", "footer", "aside", "figure", "figcaption"})


def shown_dek(dek: str, paragraphs: list[str], element: HtmlElement | None) -> bool:
    """Whether ``dek``, the page's description (white space collapsed), is shown
    by the page as an element of its own (``element``, whose whole text it is: the
    dek or standfirst under the headline, which trafilatura's and fundus's reference
    texts count as body) and ``paragraphs`` do not hold it: trafilatura often leaves
    it out, standing apart from the body's container.

    A description that is not a sentence (a site's tag line, a list of topics) or
    that the page shows as a link, in its menus, footer, sidebar or a caption is
    not taken."""
    if element is None or not is_prose(dek):
        return False
    body = normalize_space(" ".join(paragraphs))
    if dek in body or element.tag in _NOT_DEK:
        return False
    if any(a.tag in _NOT_DEK for a in element.iterancestors()):
        return False
    if link_density(element) >= LINKED_SHARE:  # a teaser of this or another article
        return False
    # The body may hold it with other spacing, quotes or hyphens.
    return TextCover(lower_words(body)).share_of(lower_words(dek)) < DEK_HELD_SHARE


def _generic_body_paragraphs(
    tree: HtmlElement,
    url: str,
    site: SiteConfig | None,
    title: str,
    meta: PageMeta,
    captions: list[str],
    dek: str,
) -> tuple[Body, list[str], int]:
    """The extractors' body, its cleaned paragraphs and their words (``dek``: the
    page's description, looked up with the body's lines). When that has
    (next to) no words, the first longer body of the fallbacks: the page's hydration
    data (``hydration.hydration_body``), then its largest ``<article>`` element on
    its own (``selector.article_element_body``)."""
    titles = [title, *meta.titles]
    article_body = json_ld_article_body(meta.json_ld)
    body = choose_body(tree, url, titles=titles, article_body=article_body, dek=dek)
    paragraphs = _cleaned(body.lines, site, title, captions)
    words = sum(map(count_words, paragraphs))
    # Only a page with (next to) no body pays for these: an app shell's DOM may hold
    # nothing but its menu, which the extractors then return as the body.
    if words >= MIN_FAST_WORDS:
        return body, paragraphs, words
    for found in _fallback_bodies(tree, url, titles, article_body):
        fuller = _cleaned(found.lines, site, title, captions)
        fuller_words = sum(map(count_words, fuller))
        if fuller_words > words:
            return found, fuller, fuller_words
    return body, paragraphs, words


def _fallback_bodies(
    tree: HtmlElement, url: str, titles: list[str], article_body: str
) -> Iterator[Body]:
    """The bodies to try when the DOM's is (next to) empty, each computed only when
    the one before it did not do: the hydration data's, then the largest
    ``<article>``'s."""
    hydrated = hydration_body(tree, url, titles=titles, article_body=article_body)
    if hydrated is not None:
        yield hydrated
    own = article_element_body(tree, url, titles=titles)
    if own is not None:
        yield own


def _cleaned(
    lines: list[str], site: SiteConfig | None, title: str, captions: list[str]
) -> list[str]:
    """``cleanup.clean_paragraphs`` with the page's title and captions and the site's
    clutter phrases."""
    return clean_paragraphs(
        lines,
        title=title,
        captions=captions,
        clutter_phrases=site.extraction.clutter_phrases if site else (),
    )


def _refuse_non_article(
    tree: HtmlElement,
    title: str,
    paragraphs: list[str],
    words: int,
    min_words: int,
) -> None:
    """Raise ``ExtractionError`` for a page that is no article: a challenge with no
    article text, a short page's verdict, no title, no body, too few words.

    A challenge page is judged by what it lacks too: markup of a protection service
    on a page whose article text is there is a page served through it (so the markup
    is only looked for when the body is short)."""
    if words < SHORT_BODY_WORDS and (challenge := challenge_verdict(tree, title)):
        raise ExtractionError(challenge.reason, challenge.detail)
    verdict = short_page_verdict(tree, title, words, " ".join(paragraphs))
    if verdict is not None:
        raise ExtractionError(verdict.reason, verdict.detail)
    if not title:
        raise ExtractionError("no_title")
    if not paragraphs:
        raise ExtractionError("no_body")
    if words < min_words:
        raise ExtractionError("too_short", f"{words} words < {min_words}")


def _refuse_listing(
    tree: HtmlElement,
    url: str,
    site: SiteConfig | None,
    paragraphs: list[str],
    meta: PageMeta,
) -> int:
    """Raise ``ExtractionError("listing_like")`` for a body of teasers of the site's
    other articles (only a site's rules say which links are articles); the number
    of malformed links skipped on the way."""
    if site is None:
        return 0
    link_texts, malformed = article_link_texts(tree, url, site, meta.canonical_url)
    if looks_like_listing(paragraphs, link_texts):
        raise ExtractionError("listing_like", "mostly teasers of other articles")
    return malformed


def _body_report(body: Body | None) -> tuple[dict[str, int], str]:
    """``cleanup`` and ``body_source`` of the page (the site's body selector when
    no extractor chose the body)."""
    if body is None:
        return {}, "site"
    report = dict(body.dropped)
    if body.dek_restored:
        report["dek_restored"] = 1
    return report, body.source


def _dates(
    overrides: dict[str, Any], meta: PageMeta
) -> tuple[str | None, str | None, str | None]:
    """``date``, ``date_raw`` and ``date_modified`` of the page."""
    date_raw = overrides.get("date") or meta.date_raw
    return (
        parse_any_date(date_raw or ""),
        normalize_field(date_raw or "") or None,
        parse_any_date(meta.modified_raw or ""),
    )


def _declared_language(site: SiteConfig | None, meta: PageMeta) -> str | None:
    """The site file's language, else the page's own declaration."""
    return (site.language if site and site.language else None) or meta.language


def _comments(
    sel: Selector, site: SiteConfig | None, include_comments: bool
) -> list[dict[str, Any]] | None:
    """Reader comments when asked for (by the caller or the site file), else None."""
    if include_comments or (site is not None and site.extraction.include_comments):
        return extract_comments(sel, site.extraction.comments if site else None)
    return None


def json_ld_article_body(objects: list[dict[str, Any]]) -> str:
    """The longest ``articleBody`` text of the page's JSON-LD objects, looking one
    level into nested objects too (``mainEntity``, ``hasPart``)."""
    found = ""
    for obj in objects:
        nested = [v for v in obj.values() if isinstance(v, dict)]
        for node in [obj, *nested]:
            text = node.get("articleBody")
            if isinstance(text, str) and len(text) > len(found):
                found = text
    return found
