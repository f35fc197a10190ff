"""Entry-point parsing: feeds, sitemaps, robots.txt and URL dates, as pure functions.

Each parser returns ``Link``s: an URL plus the publication date the entry point gives
for it (feed ``pubDate``/``updated``, sitemap ``lastmod``, news sitemap
``publication_date``), so old articles can be skipped before they are downloaded.
XML is parsed with entities and network access off (no XXE, no billion laughs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

MAX_XML_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Link:
    """A URL found on an entry point, with the date that entry point gave it."""

    url: str
    date: datetime | None = None
    title: str = ""


def _xml_root(body: bytes) -> etree._Element | None:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=False,
        remove_comments=True, remove_pis=True, load_dtd=False,
    )
    try:
        root = etree.fromstring(body[:MAX_XML_BYTES].lstrip(), parser=parser)
    except etree.XMLSyntaxError:
        return None
    return root


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(elem: etree._Element, *names: str) -> str:
    for child in elem:
        if _local(child.tag) in names and child.text:
            return child.text.strip()
    return ""


def parse_date(value: str) -> datetime | None:
    """Parse an RFC 822 or ISO 8601 date; naive results are taken as UTC."""
    value = (value or "").strip()
    if not value:
        return None
    parsed: datetime | None = None
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


def is_feed(body: bytes) -> bool:
    """True when ``body`` looks like RSS or Atom."""
    head = body[:2048].lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def parse_feed(body: bytes) -> list[Link]:
    """Article links of an RSS 2.0, RSS 1.0 or Atom feed, with their dates."""
    root = _xml_root(body)
    if root is None:
        return []
    links: list[Link] = []
    for elem in root.iter():
        name = _local(elem.tag)
        if name == "item":
            url = _child_text(elem, "link")
            if not url:
                guid = next((c for c in elem if _local(c.tag) == "guid"), None)
                if guid is not None and guid.get("isPermaLink", "true") != "false":
                    url = (guid.text or "").strip()
            date = parse_date(_child_text(elem, "pubdate", "date", "published", "updated"))
            title = _child_text(elem, "title")
        elif name == "entry":
            url = ""
            for child in elem:
                if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
                    url = (child.get("href") or "").strip()
                    break
            date = parse_date(_child_text(elem, "published", "updated", "issued", "modified"))
            title = _child_text(elem, "title")
        else:
            continue
        if url.startswith(("http://", "https://")):
            links.append(Link(url, date, title))
    return links


def parse_sitemap(body: bytes) -> tuple[str, list[Link]]:
    """``("sitemapindex" | "urlset" | "", links)``; news sitemap dates win over lastmod."""
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
        date = parse_date(_child_text(elem, "lastmod"))
        title = ""
        for child in elem:
            if _local(child.tag) == "news":
                news_date = parse_date(_child_text(child, "publication_date"))
                date = news_date or date
                title = _child_text(child, "title")
        links.append(Link(loc, date, title))
    return kind, links


def parse_robots_sitemaps(text: str) -> list[str]:
    """``Sitemap:`` URLs declared in a robots.txt."""
    found = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip().startswith(("http://", "https://")):
            found.append(value.strip())
    return found


_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d{2})[/-](?P<m>0?[1-9]|1[0-2])(?:[/-](?P<d>0?[1-9]|[12]\d|3[01]))?(?=[/-])"
)
_URL_DATE_COMPACT = re.compile(r"/(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])/")


def date_from_url(url: str) -> datetime | None:
    """A date written in the URL path (``/2024/11/29/``, ``/2024-11-29-``, ``/20241129/``).

    A year and month alone give the month's last day, so the hint never makes an
    article look older than it is.
    """
    match = _URL_DATE.search(url) or _URL_DATE_COMPACT.search(url)
    if not match:
        return None
    year, month = int(match["y"]), int(match["m"])
    if match["d"]:
        day = int(match["d"])
    else:
        import calendar

        day = calendar.monthrange(year, month)[1]
    try:
        return datetime(year, month, day, 23, 59, 59, tzinfo=UTC)
    except ValueError:
        return None
