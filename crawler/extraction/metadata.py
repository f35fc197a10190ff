"""Article metadata beyond trafilatura's: dates with time zone, authors, captions, language."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml.html import HtmlElement
from parsel import Selector

from crawler.discovery import parse_date

_MONTHS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y",
           "%b. %d, %Y", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y")
_HUMAN_DATE = re.compile(
    r"(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}"
    r"|\d{4}/\d{2}/\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4})"
)


def parse_any_date(raw: str) -> str | None:
    """ISO 8601 for a machine or human date string ("January 5, 2012" -> "2012-01-05")."""
    raw = (raw or "").strip()
    if not raw:
        return None
    match = _HUMAN_DATE.search(raw)
    if not match:
        return None
    found = match.group(1)
    if re.match(r"\d{4}-\d{2}-\d{2}", found):
        if len(found) == 10:
            return found
        parsed = parse_date(found.replace(" ", "T", 1))
        if parsed is None:
            return found[:10]
        has_zone = bool(re.search(r"(Z|[+-]\d{2}:?\d{2})$", found))
        if not has_zone:
            return parsed.replace(tzinfo=None).isoformat()
        return parsed.isoformat()
    cleaned = found.replace(",", ", ").replace(",  ", ", ").replace(".", "." if "/" in found else ".")
    for fmt in _MONTHS:
        for candidate in (found, cleaned):
            try:
                return datetime.strptime(candidate, fmt).date().isoformat()
            except ValueError:
                continue
    return None


def _json_ld_objects(sel: Selector) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for raw in sel.xpath('//script[@type="application/ld+json"]/text()').getall():
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
                if "@graph" in item:
                    stack.append(item["@graph"])
    return objects


def find_dates(sel: Selector) -> tuple[str | None, str | None]:
    """(published raw string, modified raw string) from meta tags, JSON-LD or <time>."""
    published = sel.xpath(
        '//meta[@property="article:published_time" or @name="article:published_time"'
        ' or @itemprop="datePublished" or @name="pubdate" or @name="publishdate"'
        ' or @name="date" or @name="DC.date.issued" or @property="og:published_time"]'
        "/@content"
    ).get()
    modified = sel.xpath(
        '//meta[@property="article:modified_time" or @itemprop="dateModified"'
        ' or @property="og:updated_time"]/@content'
    ).get()
    for obj in _json_ld_objects(sel):
        kind = str(obj.get("@type", ""))
        if "Article" in kind or "Posting" in kind or kind == "WebPage":
            published = published or obj.get("datePublished")
            modified = modified or obj.get("dateModified")
    if not published:
        published = sel.xpath("//article//time/@datetime | //time[@itemprop]/@datetime").get()
    return (str(published) if published else None, str(modified) if modified else None)


_CAPTIONS = (
    "//figcaption"
    " | //*[contains(@class, 'caption')][not(self::figure)][not(descendant::p)]"
)


def find_captions(tree: HtmlElement) -> list[str]:
    """Visible image captions (figcaption, elements whose class names a caption)."""
    captions: list[str] = []
    for node in tree.xpath(_CAPTIONS):
        text = " ".join(node.text_content().split())
        if text and len(text) < 600 and text not in captions:
            captions.append(text)
    return captions


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


def find_images(tree: HtmlElement, base_url: str, captions: list[str]) -> list[dict[str, Any]]:
    """Images of figures with their caption; the page's og:image when there is none."""
    from urllib.parse import urljoin

    images: list[dict[str, Any]] = []
    seen: set[str] = set()
    for fig in tree.xpath("//figure | //*[contains(@class, 'wp-caption')][not(ancestor::figure)]"):
        src = next((s for s in map(_image_source, fig.iter("img")) if s), None)
        if not src:
            continue
        url = urljoin(base_url, src)
        if url in seen:
            continue
        seen.add(url)
        cap_nodes = fig.xpath(".//figcaption | .//*[contains(@class, 'caption')]")
        caption = " ".join(cap_nodes[0].text_content().split()) if cap_nodes else ""
        images.append({"url": url, "caption": caption or None})
    if not images:
        og = tree.xpath('//meta[@property="og:image"]/@content')
        if og and og[0].strip():
            caption = captions[0] if len(captions) == 1 else None
            images.append({"url": urljoin(base_url, og[0].strip()), "caption": caption})
    return images


_BY = re.compile(r"^\s*(by|written by|author:)\s+", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\|)\s*", re.IGNORECASE)


def split_authors(raw: str | list[str] | None) -> list[str]:
    """"By A and B" -> ["A", "B"]; drops e-mail addresses and duplicates."""
    if not raw:
        return []
    parts = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for part in parts:
        part = _BY.sub("", " ".join(str(part).split()))
        for name in _SPLIT.split(part):
            name = name.strip(" .-–—")
            if not name or "@" in name or len(name) > 80 or name.lower() in ("by", "staff"):
                continue
            if name not in names:
                names.append(name)
    return names


def strip_title_suffix(title: str, site_name: str = "", suffix: str = "") -> str:
    """Remove " - Site Name" / " | Site" from a headline."""
    title = " ".join(title.split())
    if suffix and title.endswith(suffix):
        return title[: -len(suffix)].rstrip(" -|–—:")
    for sep in (" | ", " - ", " – ", " — ", " :: "):
        if sep in title:
            head, _, tail = title.rpartition(sep)
            if len(tail) <= 40 and len(head) >= 15 and (
                not site_name or tail.lower() in site_name.lower() or site_name.lower() in tail.lower()
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


def _text(node: Any) -> str:
    return " ".join(" ".join(node.itertext()).split()) if node is not None else ""


def read_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """Metadata without trafilatura's costly passes (author search, htmldate's deep
    search) unless the cheap sources say nothing."""
    from trafilatura import metadata as tm

    meta = PageMeta()
    doc = None
    try:
        doc = tm.examine_meta(tree)
        doc = tm.extract_meta_json(tree, doc)
        if not doc.title:
            doc.title = tm.extract_title(tree)
        if not doc.author:
            doc.author = _byline(tree)
        if not doc.sitename:
            doc.sitename = tm.extract_sitename(tree)
        if not doc.tags:
            doc.tags = [" ".join(a.text_content().split()) for a in tree.xpath(_TAG_LINKS)]
        doc.clean_and_trim()
    except Exception:  # noqa: BLE001 - trafilatura's helpers; metadata is best effort
        doc = None
    if doc is not None:
        meta.title = doc.title or ""
        meta.description = doc.description or None
        meta.sitename = (doc.sitename or "").lstrip("@") or None
        meta.authors = doc.author or None
        tags: list[str] = []
        for value in [*(doc.tags or []), *(doc.categories or [])]:
            for tag in str(value).split(","):
                tag = " ".join(tag.split())
                if tag and tag not in tags:
                    tags.append(tag)
        meta.tags = tags
    sel = Selector(root=tree, type="html")
    meta.date_raw, meta.modified_raw = find_dates(sel)
    if not meta.date_raw:
        meta.date_raw = _htmldate(tree, url)
    variants = [meta.title, sel.xpath("string(//title)").get() or "",
                sel.xpath('//meta[@property="og:title"]/@content').get() or "",
                sel.xpath('//meta[@name="twitter:title"]/@content').get() or ""]
    variants += [_text(h) for h in tree.iter("h1")]
    titles: list[str] = []
    for value in variants:
        value = " ".join(value.split())
        for candidate in (value, *_title_heads(value)):
            if candidate and len(candidate) >= 8 and candidate not in titles:
                titles.append(candidate)
    meta.titles = titles
    lang = tree.get("lang") or sel.xpath(
        '//meta[@http-equiv="content-language" or @http-equiv="Content-Language"]/@content'
    ).get()
    meta.language = lang.strip() if lang and lang.strip() else None
    canonical = sel.xpath('//link[@rel="canonical"]/@href').get() or sel.xpath(
        '//meta[@property="og:url"]/@content'
    ).get()
    meta.canonical_url = canonical.strip() if canonical and canonical.strip() else None
    return meta


# Tag links (rel="tag", the microformat WordPress and others use).
_TAG_LINKS = '//a[contains(concat(" ", normalize-space(@rel), " "), " tag ")]'


_BYLINE = (
    '//*[@rel="author" or @itemprop="author" or contains(@class, "author")'
    ' or contains(@class, "byline")][not(self::meta or self::link or self::body)]'
)
_BY_PREFIX = re.compile(r"^(by|von|par|por|di|door|av)\s+", re.IGNORECASE)


def _byline(tree: HtmlElement) -> str | None:
    """The author from byline markup (rel=author, itemprop=author, class author/byline):
    the first short, name-like text."""
    for el in tree.xpath(_BYLINE):
        names = el.xpath('.//*[@itemprop="name"]')
        text = " ".join((names[0] if names else el).text_content().split())
        text = _BY_PREFIX.sub("", text).strip(" ,|-–—:")
        if 2 <= len(text) <= 100 and len(text.split()) <= 12 and not any(
            c.isdigit() for c in text
        ):
            return text
    return None


def _title_heads(title: str) -> list[str]:
    """"Headline | Site" -> ["Headline"]: the parts a site appends are not the headline."""
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

        found = find_date(tree, extensive_search=False, original_date=True,
                          outputformat="%Y-%m-%d", url=url or None)
    except Exception:  # noqa: BLE001 - a third-party heuristic; the date is optional
        return None
    return str(found) if found else None
