"""Entry-point parsing: feeds, sitemaps, robots.txt and listings, as pure functions.

Each parser returns ``Link``s: a URL plus the date its entry point gives for it (feed
``pubDate``/``published``/``updated``, sitemap ``lastmod``, news sitemap
``publication_date``, a listing's ``<time datetime>``, a date in the URL), so old
articles can be skipped before they are downloaded. XML is parsed with entities and
network access off (no XXE, no billion laughs).

Date hints are *upper bounds* (``crawler.dates.parse_date_hint``): a hint never makes
an article look older than it is; the exact check happens after extraction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector
from scrapy.utils.sitemap import sitemap_urls_from_robots

from crawler.dates import parse_date_hint
from crawler.urls import try_normalize_url

MAX_XML_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit (uncompressed)


@dataclass(frozen=True)
class Link:
    """A URL found on an entry point, with the date that entry point gave it."""

    url: str
    #: Upper bound of the publication date the entry point gives, or None.
    date: datetime | None = None
    title: str = ""


# --- XML ------------------------------------------------------------------------


_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.S | re.I)


def _xml_root(body: bytes) -> etree._Element | None:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        recover=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        load_dtd=False,
    )
    # Feeds and sitemaps need no DTD. Even unresolved, an internal subset's entity
    # amplification (billion laughs) stops libxml2, and recover mode then keeps only
    # what came before it: drop the DOCTYPE, undefined entities are then skipped.
    body = _DOCTYPE.sub(b"", body[:MAX_XML_BYTES], count=1)
    try:
        root = etree.fromstring(body.lstrip(), parser=parser)
    except etree.XMLSyntaxError:
        return None
    return root


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(elem: etree._Element, *names: str) -> str:
    """Text of the first child named one of ``names``, trying the names in order."""
    children = [c for c in elem if c.text and c.text.strip()]
    for name in names:
        for child in children:
            if _local(child.tag) == name:
                return str(child.text).strip()
    return ""


def is_feed(body: bytes) -> bool:
    """True when ``body`` looks like RSS or Atom."""
    head = body[:2048].lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def parse_feed(body: bytes, base_url: str = "") -> list[Link]:
    """Article links of an RSS 2.0, RSS 1.0 or Atom feed, with their dates.

    FeedBurner's ``origLink`` wins over its redirecting ``link``; relative links are
    resolved against ``base_url`` (the feed's URL).
    """
    root = _xml_root(body)
    if root is None:
        return []
    links: list[Link] = []
    for elem in root.iter():
        name = _local(elem.tag)
        if name == "item":
            url, raw_date = _rss_item(elem)
        elif name == "entry":
            url, raw_date = _atom_entry(elem)
        else:
            continue
        url = _join(base_url, url)
        if url.startswith(("http://", "https://")):
            links.append(
                Link(url, parse_date_hint(raw_date), _child_text(elem, "title"))
            )
    return links


def _join(base_url: str, url: str) -> str:
    """``url`` made absolute; "" (skipped, like a link without a scheme) when empty
    or unparseable (a bracketed host that is no IP address)."""
    try:
        return urljoin(base_url, url) if url else ""
    except ValueError:
        return ""


def _rss_item(elem: etree._Element) -> tuple[str, str]:
    """(link, raw date) of an RSS ``<item>``: origLink, link, else a permalink guid."""
    url = _child_text(elem, "origlink", "link")
    if not url:
        guid = next((c for c in elem if _local(c.tag) == "guid"), None)
        if guid is not None and guid.get("isPermaLink", "true") != "false":
            url = (guid.text or "").strip()
    return url, _child_text(elem, "pubdate", "date", "published", "updated")


def _atom_entry(elem: etree._Element) -> tuple[str, str]:
    """(link, raw date) of an Atom ``<entry>``: origLink, else the alternate link."""
    url = _child_text(elem, "origlink")
    for child in elem:
        if url:
            break
        if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
            url = (child.get("href") or "").strip()
    # published is the publication date; updated only bounds it from above.
    return url, _child_text(elem, "published", "issued", "updated", "modified")


def parse_sitemap(body: bytes) -> tuple[str, list[Link]]:
    """``("sitemapindex" | "urlset" | "", links)``; news sitemap dates win over lastmod.

    Scrapy's ``Sitemap`` keeps only the text of each child of ``<url>``, which loses
    ``<news:publication_date>`` (it sits one level deeper), hence this parser.
    """
    root = _xml_root(body)
    if root is None:
        return "", []
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        return "", []
    links: list[Link] = []
    for elem in root:
        if _local(elem.tag) not in ("url", "sitemap"):
            continue
        loc = _child_text(elem, "loc")
        if not loc.startswith(("http://", "https://")):
            continue
        # lastmod (the last change) is never before publication: a safe upper bound.
        hint = parse_date_hint(_child_text(elem, "lastmod"))
        title = ""
        for child in elem:
            if _local(child.tag) == "news":
                hint = parse_date_hint(_child_text(child, "publication_date")) or hint
                title = _child_text(child, "title")
        links.append(Link(loc, hint, title))
    return kind, links


def parse_robots_sitemaps(body: bytes, base_url: str = "") -> list[str]:
    """``Sitemap:`` URLs declared in a robots.txt (Scrapy's parser), made absolute."""
    return [
        url
        for url in sitemap_urls_from_robots(body, base_url=base_url)
        if url.startswith(("http://", "https://"))
    ]


# --- HTML listings --------------------------------------------------------------

_LISTING_DATES = "//time[@datetime] | //*[@itemprop='datePublished'][@content]"
_MAX_CLIMB = 6  # a teaser's date sits within a few levels of its link


def listing_dates(
    sel: Selector, base_url: str, is_article_url: Callable[[str], bool]
) -> dict[str, datetime]:
    """Dates a listing page gives its article links: ``{normalized url: hint}``.

    From each ``<time datetime>`` (or ``itemprop=datePublished``) the nearest
    enclosing element that links to exactly one article URL is that article's
    teaser; an element linking to several articles is ambiguous and gives nothing.
    """
    found: dict[str, datetime] = {}
    for element in sel.xpath(_LISTING_DATES):
        value = element.attrib.get("datetime") or element.attrib.get("content") or ""
        hint = parse_date_hint(value)
        if hint is None:
            continue
        node = element.xpath("self::*")
        for _ in range(_MAX_CLIMB):
            if not node:
                break
            hrefs = node.xpath("ancestor-or-self::a/@href | .//a/@href").getall()
            urls = {try_normalize_url(h.strip(), base_url) for h in hrefs}
            articles = {u for u in urls if u is not None and is_article_url(u)}
            if len(articles) == 1:
                url = articles.pop()
                # two dates for one teaser (published, updated): the later bounds both
                found[url] = max(hint, found.get(url, hint))
                break
            if len(articles) > 1:
                break
            node = node.xpath("..")
    return found
