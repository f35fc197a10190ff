"""Article metadata: title, dates with time zone, authors, tags, images and captions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from crawler.dates import parse_any_date
from crawler.extraction.cleanup import normalize_space


@dataclass
class PageMarkup:
    """The elements metadata is read from, gathered in one walk of the page: each
    XPath search of the whole page costs about as much as the walk itself."""

    #: ``<meta>`` elements, in page order.
    metas: list[HtmlElement] = field(default_factory=list)
    #: The texts of ``<script type="application/ld+json">`` elements.
    json_ld: list[str] = field(default_factory=list)
    #: The ``href`` of ``<link rel="canonical">`` elements.
    canonical: list[str] = field(default_factory=list)
    #: ``<h1>`` elements, in page order.
    h1s: list[HtmlElement] = field(default_factory=list)
    #: The first ``<title>``'s text (None: the page has none).
    title: str | None = None
    #: ``<time>`` elements, in page order.
    times: list[HtmlElement] = field(default_factory=list)


def page_markup(tree: HtmlElement) -> PageMarkup:
    """The page's ``PageMarkup``, in one walk."""
    found = PageMarkup()
    for el in tree.iter("meta", "script", "link", "h1", "title", "time"):
        tag = el.tag
        if tag == "meta":
            found.metas.append(el)
        elif tag == "h1":
            found.h1s.append(el)
        elif tag == "time":
            found.times.append(el)
        elif tag == "script":
            if el.get("type") == "application/ld+json" and el.text:
                found.json_ld.append(el.text)
        elif tag == "link":
            href = el.get("href")
            if (
                href is not None
                and " canonical " in f" {' '.join((el.get('rel') or '').split())} "
            ):
                found.canonical.append(href)
        elif found.title is None:
            found.title = el.text or ""
    return found


def json_ld_objects(texts: list[str]) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page's ``ld+json`` script ``texts`` (lists and
    ``@graph`` flattened)."""
    objects: list[dict[str, Any]] = []
    for raw in texts:
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                # An article nested in @graph or in a WebPage's mainEntity.
                for key in ("@graph", "mainEntity"):
                    if isinstance(item.get(key), list | dict):
                        stack.append(item[key])
    return objects


def meta_tags(metas: list[HtmlElement]) -> dict[str, str]:
    """``<meta>`` contents by lower-cased property, name, itemprop or http-equiv
    (the first non-empty one of each)."""
    tags: dict[str, str] = {}
    for el in metas:
        content = (el.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = el.get(attr)
            if key:
                tags.setdefault(key.strip().lower(), content)
    return tags


#: Meta tags that hold the page's dek or summary, in order of preference.
_DESCRIPTION_META = ("og:description", "description", "twitter:description")
_PUBLISHED_META = (
    "article:published_time",
    "datepublished",
    "og:published_time",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "date",
)
_MODIFIED_META = (
    "article:modified_time",
    "datemodified",
    "og:updated_time",
    "dcterms.modified",
    "last-modified",
)
_HAS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _plausible(value: str) -> bool:
    """A date a news page can carry: from 1990 to next year (placeholders such as
    0001-01-01 and typos such as 2109 are not dates)."""
    year = re.match(r"\s*(\d{4})-", value)
    if year is None:
        return True  # a human date; parse_any_date judges it
    return 1990 <= int(year.group(1)) <= datetime.now().year + 1


def _precise(candidates: list[Any]) -> str | None:
    """The first plausible candidate that parses (an unparseable one does not end the
    search), or a later one that says more of the same instant: a time of day on
    that date, or an explicit UTC offset where the first has none."""
    found = [str(c).strip() for c in candidates if c and isinstance(c, str | int)]
    parsed = [
        (c, iso)
        for c in found
        if c and _plausible(c) and (iso := parse_any_date(c)) is not None
    ]
    if not parsed:
        return None
    first, first_iso = parsed[0]
    for other, other_iso in parsed[1:]:
        if _says_more(first_iso, other_iso):
            return other
    return first


def _says_more(first_iso: str, other_iso: str) -> bool:
    """True when ``other_iso`` is ``first_iso``'s instant said more precisely: a time
    on the same day where the first is a day alone, or an offset where the first is a
    naive time whole hours from it."""
    same_day = other_iso[:10] == first_iso[:10]
    if "T" not in first_iso and "T" in other_iso and same_day:
        return True
    return (
        _naive(first_iso)
        and not _naive(other_iso)
        and _whole_hours_apart(first_iso, other_iso)
    )


def _naive(iso: str) -> bool:
    return "T" in iso and datetime.fromisoformat(iso).tzinfo is None


def _whole_hours_apart(naive: str, aware: str) -> bool:
    """The same instant written in two zones: a naive time differs from an aware one's
    wall clock by whole hours (less than a day)."""
    other = datetime.fromisoformat(aware)
    wall = other.replace(tzinfo=None)
    gap = abs((datetime.fromisoformat(naive) - wall).total_seconds())
    return gap < 86400 and gap % 3600 == 0


def find_dates(
    times: list[HtmlElement], metas: dict[str, str], objects: list[dict[str, Any]]
) -> tuple[str | None, str | None]:
    """(published, modified) raw strings from meta tags, JSON-LD articles or the
    page's ``<time>`` elements (``times``, in page order)."""
    published: list[Any] = [metas.get(k) for k in _PUBLISHED_META]
    modified: list[Any] = [metas.get(k) for k in _MODIFIED_META]
    for obj in objects:
        kind = str(obj.get("@type", ""))
        if "Article" in kind or "Posting" in kind or kind in ("WebPage", "Report"):
            published.append(obj.get("datePublished"))
            modified.append(obj.get("dateModified"))
    if not any(published):
        published += _time_datetimes(times)
    return _precise(published), _precise(modified)


def _time_datetimes(times: list[HtmlElement]) -> list[str]:
    """The ``datetime`` of the ``<time>`` elements in an ``<article>`` or marked
    with ``itemprop``, in page order (what ``//article//time/@datetime |
    //time[@itemprop]/@datetime`` finds, without a search of the whole page)."""
    return [
        value
        for el in times
        if (value := el.get("datetime")) is not None
        and (el.get("itemprop") is not None or _in_article(el))
    ]


def _in_article(el: HtmlElement) -> bool:
    return next(el.iterancestors("article"), None) is not None


# One pass finds captions and figures: each XPath scan of the page costs about as
# much as the rest of the metadata. A test on the class attributes themselves
# (``@class[...]/parent::*``) finds the same elements, in page order, in two thirds
# of the time of a test on every element (``*[contains(@class, ...)]``).
_FIGURES_AND_CAPTIONS = etree.XPath(
    "/descendant::figure | /descendant::figcaption"
    " | /descendant::*/@class[contains(., 'caption')]/parent::*"
)


def _has_class(el: HtmlElement, word: str) -> bool:
    return word in (el.get("class") or "")


def figures_and_captions(tree: HtmlElement) -> tuple[list[HtmlElement], list[str]]:
    """The page's figures (``<figure>``, WordPress caption boxes) and visible captions
    (``<figcaption>``, elements whose class names a caption and hold no paragraph)."""
    figures: list[HtmlElement] = []
    captions: list[str] = []
    for el in _FIGURES_AND_CAPTIONS(tree):
        tag = el.tag
        if tag == "figure" or (
            _has_class(el, "wp-caption")
            and next(el.iterancestors("figure"), None) is None
            and not _has_class(el, "wp-caption-text")
        ):
            figures.append(el)
            if tag == "figure":
                continue
        if tag == "figcaption" or (
            _has_class(el, "caption") and next(el.iter("p"), None) is None
        ):
            text = " ".join(el.text_content().split())
            if text and len(text) < 600 and text not in captions:
                captions.append(text)
    return figures, captions


def _image_source(img: HtmlElement) -> str | None:
    """The real source of an <img>: lazy-loading attributes before a placeholder src."""
    for attr in ("data-src", "data-lazy-src", "data-original", "src"):
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return value
    srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
    if srcset:
        return srcset.split(",")[0].split()[0]
    return None


_FIGURE_CAPTIONS = etree.XPath(".//figcaption | .//*[contains(@class, 'caption')]")


def find_images(
    og_image: str | None,
    base_url: str,
    captions: list[str],
    figures: list[HtmlElement],
) -> list[dict[str, Any]]:
    """Images of ``figures`` (from ``figures_and_captions``) with their caption; the
    page's og:image (``PageMeta.og_image``) when there is none."""
    from urllib.parse import urljoin

    images: list[dict[str, Any]] = []
    seen: set[str] = set()
    for fig in figures:
        src = next((s for s in map(_image_source, fig.iter("img")) if s), None)
        if not src:
            continue
        url = urljoin(base_url, src)
        if url in seen:
            continue
        seen.add(url)
        cap_nodes = _FIGURE_CAPTIONS(fig)
        caption = " ".join(cap_nodes[0].text_content().split()) if cap_nodes else ""
        images.append({"url": url, "caption": caption or None})
    if not images and og_image and og_image.strip():
        only = captions[0] if len(captions) == 1 else None
        images.append({"url": urljoin(base_url, og_image.strip()), "caption": only})
    return images


_BY = re.compile(r"^\s*(by|written by|author:|posted by|von|par|por)\s+", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\||\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)
# A part that is a job title, not a name ("AP National Security Writer", "Staff").
_ROLE = re.compile(
    r"\b(writer|editor|correspondent|reporter|contributor|columnist|staff|"
    r"newsdesk|news desk|bureau|team|desk)s?\b",
    re.IGNORECASE,
)
# A job title written after the name, as Korean, Japanese and Chinese bylines do
# ("Name 기자", "Name 特派員": reporter, correspondent).
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|记者|特派員|特派员)$")
# A credential after a name ("MS", "RDN", "PhD", "M.D."); first in the string it is
# an agency ("AFP", "PTI").
# An e-mail address in an author field ("jane@news.example (Jane Doe)").
_EMAIL = re.compile(r"(?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CREDENTIAL = re.compile(r"^([A-Z]{2,5}|Ph\.?D|M\.?D|Dr|Jr|Sr|[A-Z]\.([A-Z]\.)+)\.?$")


def split_authors(raw: str | list[str] | None, site_name: str = "") -> list[str]:
    """ "By A and B" -> ["A", "B"]: without e-mail addresses, URLs, job titles,
    credentials or duplicates; all-capitals names title-cased; each name normalized
    (``normalize_space``: NFC, no zero-width characters). The site's own name (or
    one of its desks, "Site Region") goes when people are named beside it, and stays
    when it is the only author: a newsroom credits itself when no one signs."""
    if not raw:
        return []
    parts = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for part in parts:
        part = _BY.sub("", " ".join(_EMAIL.sub(" ", str(part)).split()))
        for position, name in enumerate(_SPLIT.split(part)):
            name = _BY.sub("", name.strip(" .-–—:|()<>[]"))
            name = _ROLE_SUFFIX.sub("", name)
            if not _is_name(name, first=not position):
                continue
            if name.isupper() and len(name) > 5:
                name = name.title()
            name = normalize_space(name)
            if name and name not in names:
                names.append(name)
    people = [n for n in names if not names_the_site(n, site_name)]
    return people or names


def names_the_site(name: str, site_name: str) -> bool:
    """True when an author value is the site itself: its name, one of its desks
    ("Site Region", "Site Sports"), or a bare host name ("news.example")."""
    if _HOST_NAME.fullmatch(name.strip()):
        return True
    name, site = name.strip().lower(), site_name.strip().lower()
    return bool(site) and (name == site or name.startswith(site + " "))


# A host name standing for the site ("news.example", "www.paper.example"), written
# in lower case as hosts are (a person's "J.Smith" is not one).
_HOST_NAME = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}")


def _is_name(name: str, *, first: bool) -> bool:
    """True when a part of an author field is a person's (or agency's) name: not
    empty, an address, a URL, too long or a job title; a credential ("PhD") only
    when it comes ``first`` (an agency)."""
    return not (
        not name
        or "@" in name
        or "://" in name
        or len(name) > 80
        or name.lower() in ("by", "staff", "admin")
        or _ROLE.search(name)
        or (not first and _CREDENTIAL.match(name))
    )


# What sites put between a headline and their name ("Headline | Site", "Headline -
# Site", "Headline：Site", "Headline-Section|Site").
_TAIL_SEPARATORS = "|-–—:*·•ㅣ：/»«"


def drop_site_tail(title: str, headlines: list[str]) -> str:
    """The page's own headline (an <h1>, the JSON-LD headline) when the title is that
    headline plus a separator and a short tail (site name, section, byline)."""
    for headline in sorted(headlines, key=len, reverse=True):
        if len(headline) < 10 or len(headline) >= len(title):
            continue
        if not title.startswith(headline):
            continue
        tail = title[len(headline) :].strip()
        if tail[:1] in _TAIL_SEPARATORS and len(tail) <= 80:
            return headline
    return title


def strip_title_suffix(title: str, site_name: str = "", suffix: str = "") -> str:
    """Remove " - Site Name" / " | Site" from a headline."""
    title = " ".join(title.split())
    if suffix and title.endswith(suffix):
        return title[: -len(suffix)].rstrip(" -|–—:")
    for sep in (" | ", " - ", " – ", " — ", " :: "):
        if sep in title:
            head, _, tail = title.rpartition(sep)
            if (
                len(tail) <= 40
                and len(head) >= 15
                and (
                    not site_name
                    or tail.lower() in site_name.lower()
                    or site_name.lower() in tail.lower()
                )
            ):
                return head.strip()
    return title


@dataclass
class PageMeta:
    """What the page says about itself, read from meta tags, JSON-LD and headings."""

    title: str = ""
    #: Every headline the page shows or declares (og:title, <title> and its head,
    #: <h1>s): a body line equal to one of them is the headline repeated.
    titles: list[str] = field(default_factory=list)
    description: str | None = None
    sitename: str | None = None
    authors: str | list[str] | None = None
    date_raw: str | None = None
    modified_raw: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    canonical_url: str | None = None
    #: The headlines the page shows or declares without a site tail (<h1>s, the
    #: JSON-LD headline), to take such a tail off the title.
    headlines: list[str] = field(default_factory=list)
    #: The page's JSON-LD objects (flattened), for the checks that read them too.
    json_ld: list[dict[str, Any]] = field(default_factory=list)
    #: The ``content`` of the first ``<meta property="og:image">`` that has one
    #: (possibly blank), the image shown when the page has no figure.
    og_image: str | None = None


def _text(node: Any) -> str:
    return " ".join(" ".join(node.itertext()).split()) if node is not None else ""


_TITLE_META = (
    "og:title",
    "citation_title",
    "dc.title",
    "dcterms.title",
    "headline",
    "parsely-title",
    "sailthru.title",
    "title",
    "twitter:title",
)
_AUTHOR_META = (
    "author",
    "article:author",
    "authors",
    "byl",
    "citation_author",
    "dc.creator",
    "dcterms.creator",
    "parsely-author",
    "sailthru.author",
    "creator",
)
_SITE_META = (
    "og:site_name",
    "application-name",
    "publisher",
    "dc.publisher",
    "twitter:site",
)
_TAG_META = (
    "keywords",
    "news_keywords",
    "parsely-tags",
    "citation_keywords",
    "dcterms.subject",
    "tags",
)
_ARTICLE_TYPES = re.compile(r"Article|Posting|Report|NewsArticle|BlogPosting|WebPage")


def _names(value: Any) -> list[str]:
    """Names in a JSON-LD author/publisher value (a string, an object, a list)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str) and name.strip():
            return [name]
        parts = [value.get("givenName"), value.get("familyName")]
        full = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        return [full] if full else []
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _article_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for obj in objects:
        kind = obj.get("@type", "")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(isinstance(k, str) and _ARTICLE_TYPES.search(k) for k in kinds):
            found.append(obj)
    return found


def read_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """What the page declares (meta tags, JSON-LD, headings), read in one pass each;
    trafilatura's and htmldate's searches of the page run only for what is missing."""
    meta = PageMeta()
    markup = page_markup(tree)
    metas = meta_tags(markup.metas)
    objects = json_ld_objects(markup.json_ld)
    articles = _article_objects(objects)
    meta.json_ld = objects
    meta.title = _title(tree, metas, articles)
    meta.sitename = _site_name(metas, articles)
    meta.authors = _authors(tree, markup, metas, articles, meta.sitename or "")
    meta.tags = _tags(tree, markup, metas, articles)
    meta.description = next((metas[k] for k in _DESCRIPTION_META if k in metas), None)
    meta.date_raw, meta.modified_raw = find_dates(markup.times, metas, objects)
    if not meta.date_raw:
        meta.date_raw = _htmldate(tree, url)
    h1s = [_text(h) for h in markup.h1s]
    meta.titles = _title_variants(markup.title, h1s, metas, meta.title)
    meta.headlines = h1s + [
        " ".join(o["headline"].split())
        for o in articles
        if isinstance(o.get("headline"), str)
    ]
    lang = tree.get("lang") or metas.get("content-language") or ""
    meta.language = lang.strip() or None
    canonical = markup.canonical or [metas.get("og:url", "")]
    meta.canonical_url = canonical[0].strip() or None
    meta.og_image = _og_image(markup.metas)
    return meta


def _og_image(metas: list[HtmlElement]) -> str | None:
    """The first og:image meta tag's ``content`` (as a search of the whole page for
    ``//meta[@property="og:image"]/@content`` finds it, at no cost: the page's
    ``<meta>`` elements are gathered already)."""
    return next(
        (
            content
            for el in metas
            if el.get("property") == "og:image"
            and (content := el.get("content")) is not None
        ),
        None,
    )


def _title(
    tree: HtmlElement, metas: dict[str, str], articles: list[dict[str, Any]]
) -> str:
    """The title meta tags declare, else the JSON-LD headline, else trafilatura's."""
    title = next((metas[k] for k in _TITLE_META if metas.get(k)), "")
    if not title:
        title = next(
            (
                str(o["headline"])
                for o in articles
                if isinstance(o.get("headline"), str)
            ),
            "",
        )
    if not title:
        title = _trafilatura_title(tree) or ""
    return " ".join(title.split())


def _authors(
    tree: HtmlElement,
    markup: PageMarkup,
    metas: dict[str, str],
    articles: list[dict[str, Any]],
    site_name: str,
) -> str | list[str] | None:
    """JSON-LD article authors, else the first author meta tag that is not a URL,
    else the byline markup (raw: ``split_authors`` cleans them). A meta tag naming
    the site itself (many CMSs fill it with the site's name or host) gives way to
    a byline in the page."""
    authors = [n for o in articles for n in _names(o.get("author"))]
    if authors:
        return authors
    meta_authors = _author_metas(markup.metas)
    person = next((a for a in meta_authors if not names_the_site(a, site_name)), None)
    if person:
        return [person]
    return _byline(tree) or next(iter(meta_authors), None)


def _author_metas(metas: list[HtmlElement]) -> list[str]:
    """Every author meta tag's value that is not a URL, by ``_AUTHOR_META`` order,
    then page order: a CMS that puts the site's name in a first ``<meta
    name="author">`` and the writer in a second one names both."""
    found: dict[str, list[str]] = {key: [] for key in _AUTHOR_META}
    for el in metas:
        content = " ".join((el.get("content") or "").split())
        if not content or "://" in content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = (el.get(attr) or "").strip().lower()
            if key in found and content not in found[key]:
                found[key].append(content)
    return [value for key in _AUTHOR_META for value in found[key]]


def _site_name(metas: dict[str, str], articles: list[dict[str, Any]]) -> str | None:
    """The site's name from meta tags, else the JSON-LD publisher."""
    site = next((metas[k] for k in _SITE_META if metas.get(k)), "")
    if not site:
        site = next((n for o in articles for n in _names(o.get("publisher"))), "")
    return site.lstrip("@").strip() or None


def _tags(
    tree: HtmlElement,
    markup: PageMarkup,
    metas: dict[str, str],
    articles: list[dict[str, Any]],
) -> list[str]:
    """Tags from article:tag, keyword meta tags and JSON-LD keywords (else rel=tag
    links), comma-separated values split, in page order without duplicates."""
    raw_tags: list[Any] = [
        el.get("content") for el in markup.metas if el.get("property") == "article:tag"
    ]
    raw_tags += [metas.get(k) for k in _TAG_META]
    raw_tags += [o.get("keywords") for o in articles]
    if not any(raw_tags):
        raw_tags = [" ".join(a.text_content().split()) for a in _TAG_LINKS(tree)]
    tags: list[str] = []
    for value in raw_tags:
        for tag in value if isinstance(value, list) else str(value or "").split(","):
            tag = " ".join(str(tag).split())
            if tag and tag not in tags:
                tags.append(tag)
    return tags


def _title_variants(
    page_title: str | None, h1s: list[str], metas: dict[str, str], title: str
) -> list[str]:
    """Every headline the page shows or declares (``title``, the ``<title>``, the
    title meta tags, the ``<h1>``s' texts), with the heads of "Headline | Site"
    titles (``PageMeta.titles``)."""
    variants = [
        title,
        page_title or "",
        metas.get("og:title", ""),
        metas.get("twitter:title", ""),
        *h1s,
    ]
    titles: list[str] = []
    for value in variants:
        value = " ".join(value.split())
        for candidate in (value, *_title_heads(value)):
            if candidate and len(candidate) >= 8 and candidate not in titles:
                titles.append(candidate)
    return titles


# Searches of the whole page, compiled once. "/descendant::x[...]" finds what
# "//x[...]" finds, in the same order, but libxml2 evaluates "//" with a predicate
# as a search from every node of the page and merges the results: up to twice as
# slow (the byline search took ~2 ms a page).

# Tag links (rel="tag", the microformat WordPress and others use).
_TAG_LINKS = etree.XPath(
    '/descendant::a[contains(concat(" ", normalize-space(@rel), " "), " tag ")]'
)


# Elements with rel=author, itemprop=author or a class naming an author or byline,
# in page order (the union of the attributes' parents: see _FIGURES_AND_CAPTIONS).
_BYLINE = etree.XPath(
    '(/descendant::*/@class[contains(., "author") or contains(., "byline")]'
    ' | /descendant::*/@rel[. = "author"] | /descendant::*/@itemprop[. = "author"])'
    "/parent::*[not(self::meta or self::link or self::body)]"
)
_BYLINE_CLASS = re.compile(
    r"^(author|authors|byline|author-?name|by-?line|article-?author|post-?author|"
    r"entry-?author|story-?author|author-?link|byline-?name|byline-?author)$",
    re.IGNORECASE,
)
_BY_PREFIX = re.compile(r"^(by|von|par|por|di|door|av)\s+", re.IGNORECASE)


def _in_comments(el: HtmlElement) -> bool:
    """Inside reader comments (whose authors are commenters, not the byline)."""
    for node in (el, *el.iterancestors()):
        marks = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
        if "comment" in marks or "reply" in marks:
            return True
    return False


def _byline(tree: HtmlElement) -> str | None:
    """The author from byline markup (rel=author, itemprop=author, a class named
    author or byline, outside reader comments): the first short, name-like text."""
    for el in _BYLINE(tree):
        named = (
            el.get("rel") == "author"
            or el.get("itemprop") == "author"
            or any(_BYLINE_CLASS.match(c) for c in (el.get("class") or "").split())
        )
        if not named or _in_comments(el):
            continue
        names = el.xpath('.//*[@itemprop="name"]')
        text = " ".join((names[0] if names else el).text_content().split())
        text = _BY_PREFIX.sub("", text).strip(" ,|-–—:")
        if (
            2 <= len(text) <= 100
            and len(text.split()) <= 12
            and not any(c.isdigit() for c in text)
        ):
            return text
    return None


def _trafilatura_title(tree: HtmlElement) -> str | None:
    """trafilatura's title search (a single <h1>, title classes, <title>)."""
    from trafilatura.metadata import extract_title

    try:
        return extract_title(tree)
    except MemoryError:
        raise  # the worker's memory cap must end the page, not be hidden
    except Exception:  # noqa: BLE001 - trafilatura internals; the title has fallbacks
        return None


def _title_heads(title: str) -> list[str]:
    """ "Headline | Site" -> ["Headline"]: what a site appends is not the headline."""
    heads = []
    for sep in (" | ", " - ", " – ", " — ", " :: ", " « ", " » "):
        if sep in title:
            heads.append(title.rsplit(sep, 1)[0].strip())
            heads.append(title.split(sep, 1)[0].strip())
    return heads


def _htmldate(tree: HtmlElement, url: str) -> str | None:
    """htmldate's quick search (no extensive scan), used when meta tags give no date."""
    try:
        from htmldate import find_date

        found = find_date(
            tree,
            extensive_search=False,
            original_date=True,
            outputformat="%Y-%m-%d",
            url=url or None,
        )
    except MemoryError:
        raise  # the worker's memory cap must end the page, not be hidden
    except Exception:  # noqa: BLE001 - a third-party heuristic; the date is optional
        return None
    return str(found) if found else None
