"""Entry-point parsing: feeds, sitemaps, robots.txt, listings and URL dates, as pure
functions.

Each parser returns ``Link``s: a URL plus the date its entry point gives for it (feed
``pubDate``/``published``/``updated``, sitemap ``lastmod``, news sitemap
``publication_date``, a listing's ``<time datetime>``, a date in the URL), so old
articles can be skipped before they are downloaded. XML is parsed with entities and
network access off (no XXE, no billion laughs).

Date hints are *upper bounds*: a date without a time zone could be local time
anywhere on earth, so it is read as the latest instant it can mean (a date alone is
the end of that day; either is then taken at UTC-12). A hint never makes an article
look older than it is; the exact check happens after extraction.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector
from scrapy.utils.sitemap import sitemap_urls_from_robots

from crawler.urls import normalize_url

MAX_XML_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit (uncompressed)
# The latest UTC offset on earth is UTC-12: local times are at most 12 h behind UTC.
_LATEST_OFFSET = timedelta(hours=12)
_DATE_ONLY = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$")


@dataclass(frozen=True)
class Link:
    """A URL found on an entry point, with the date that entry point gave it."""

    url: str
    #: Upper bound of the publication date the entry point gives, or None.
    date: datetime | None = None
    title: str = ""


# --- dates ----------------------------------------------------------------------


def parse_date(value: str) -> datetime | None:
    """Parse an RFC 822 or ISO 8601 date; naive results are taken as UTC."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_date_hint(value: str) -> datetime | None:
    """A date as an upper bound of the instant it means (see the module docstring).

    ``2024-11-03`` -> 2024-11-04T11:59:59Z; ``2024-11-03T10:00`` -> 22:00Z;
    ``2024-11-03T10:00+01:00`` -> exactly 09:00Z. RFC 822 dates always carry a zone.
    """
    value = (value or "").strip()
    if match := _DATE_ONLY.match(value):  # W3C: YYYY, YYYY-MM or YYYY-MM-DD
        year, month = int(match["y"]), int(match["m"] or 12)
        try:
            day = date(
                year, month, int(match["d"] or calendar.monthrange(year, month)[1])
            )
        except (ValueError, calendar.IllegalMonthError):
            return None
        return datetime.combine(day, time(23, 59, 59), UTC) + _LATEST_OFFSET
    parsed = parse_date(value)
    if parsed is None:
        return None
    try:
        naive = datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None
    except ValueError:
        naive = False  # RFC 822: parsedate_to_datetime gave a zone (or -0000 = UTC)
    return parsed + _LATEST_OFFSET if naive else parsed


_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d{2})[/-](?P<m>0?[1-9]|1[0-2])"
    r"(?:[/-](?P<d>0?[1-9]|[12]\d|3[01]))?(?=[/-])"
)
_URL_DATE_COMPACT = re.compile(
    r"/(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])/"
)


def date_from_url(url: str) -> datetime | None:
    """The date written in a URL path (``/2024/11/29/``, ``/2024-11-29-``,
    ``/20241129/``, ``/2024/11/``), as an upper bound.

    A year and month alone give the month's last day.
    """
    match = _URL_DATE.search(url) or _URL_DATE_COMPACT.search(url)
    if not match:
        return None
    year, month = int(match["y"]), int(match["m"])
    day = int(match["d"]) if match["d"] else calendar.monthrange(year, month)[1]
    try:
        end_of_day = datetime(year, month, day, 23, 59, 59, tzinfo=UTC)
    except ValueError:  # 2024/02/31
        return None
    return end_of_day + _LATEST_OFFSET


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
            url = _child_text(elem, "origlink", "link")
            if not url:
                guid = next((c for c in elem if _local(c.tag) == "guid"), None)
                if guid is not None and guid.get("isPermaLink", "true") != "false":
                    url = (guid.text or "").strip()
            raw_date = _child_text(elem, "pubdate", "date", "published", "updated")
        elif name == "entry":
            url = _child_text(elem, "origlink")
            for child in elem:
                if url:
                    break
                if (
                    _local(child.tag) == "link"
                    and child.get("rel", "alternate") == "alternate"
                ):
                    url = (child.get("href") or "").strip()
            # published is the publication date; updated only bounds it from above.
            raw_date = _child_text(elem, "published", "issued", "updated", "modified")
        else:
            continue
        url = urljoin(base_url, url) if url else ""
        if url.startswith(("http://", "https://")):
            links.append(
                Link(url, parse_date_hint(raw_date), _child_text(elem, "title"))
            )
    return links


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
            urls = {normalize_url(urljoin(base_url, h.strip())) for h in hrefs}
            articles = {u for u in urls if is_article_url(u)}
            if len(articles) == 1:
                url = articles.pop()
                # two dates for one teaser (published, updated): the later bounds both
                found[url] = max(hint, found.get(url, hint))
                break
            if len(articles) > 1:
                break
            node = node.xpath("..")
    return found


def looks_like_listing(
    paragraphs: list[str],
    link_texts: Iterable[str],
    *,
    min_teasers: int = 5,
    min_share: float = 0.5,
) -> bool:
    """True when a body is mostly teasers of other articles, i.e. a listing page.

    ``link_texts`` are the texts of the page's links to *other* article URLs. The
    body is a listing when at least ``min_teasers`` paragraphs are teasers (see
    ``is_teaser``) and those paragraphs hold at least ``min_share`` of the body's
    words. A real article with a "related" box has a few such paragraphs, not half
    its text.
    """
    texts = {" ".join(t.split()).lower() for t in link_texts}
    # A headline has words; a one-word anchor counts only when it is URL-like (an
    # HTML sitemap shows URLs). "Business" alone would match too much.
    texts = {t for t in texts if len(t.split()) >= 2 or ("/" in t and len(t) >= 10)}
    if not texts or not paragraphs:
        return False
    teaser_words = teasers = 0
    for paragraph in paragraphs:
        flat = " ".join(paragraph.split()).lower()
        if is_teaser(flat, texts):
            teasers += 1
            teaser_words += len(flat.split())
    total = sum(len(p.split()) for p in paragraphs)
    return teasers >= min_teasers and teaser_words >= min_share * total


_HEADLINE_WORDS = 4  # a link text this long opening a paragraph is its headline
_BULLETS = "-–—•*· "


def is_teaser(paragraph: str, link_texts: set[str]) -> bool:
    """True when a (flattened, lower-case) paragraph is a teaser: one of the link
    texts is most of it (a headline, a URL) or opens it as a headline does
    ("Headline: summary...").

    A link *inside* a sentence is not a teaser: an article links names, topics and
    earlier stories in its own text ("... said <a>the minister</a> ..."), and with
    no ``[articles] allow`` every same-site link counts as an article link, tag and
    topic pages included.
    """
    words = len(paragraph.split())
    opening = paragraph.lstrip(_BULLETS)  # list items come as "- Headline ..."
    for text in link_texts:
        if text not in paragraph:
            continue
        size = len(text.split())
        if 2 * size >= words:
            return True
        if size >= _HEADLINE_WORDS and opening.startswith(text):
            return True
    return False
