"""Build the output record (``Article``) from an ``ExtractedPage``: one function for the
spider and ``newsites extract``, so both write the same fields the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawler.extraction.cleanup import count_words
from crawler.extraction.page import ExtractedPage
from crawler.items import Article, article_id
from crawler.urls import normalize_url, same_site, try_normalize_url


def canonical_url(
    page: ExtractedPage, fetched_url: str, domains: tuple[str, ...] = ()
) -> tuple[str, bool]:
    """The record's URL and whether the page's own canonical was refused as off-site.

    The page's ``<link rel=canonical>`` (or ``og:url``) is used when it is on one of
    ``domains`` (the fetched URL's host when none are given); otherwise (or when it
    cannot be parsed, ``http://host:abc/``) the fetched URL, normalized.
    """
    fetched = normalize_url(fetched_url) if fetched_url else ""
    if not page.canonical_url:
        return fetched, False
    # a malformed canonical link must not cost the record
    candidate = try_normalize_url(page.canonical_url, fetched_url)
    if candidate is None or not urlsplit(candidate).hostname:
        return fetched, False
    if not domains:
        host = (urlsplit(fetched_url).hostname or "").lower()
        domains = (host.removeprefix("www."),) if host else ()
    if fetched and not same_site(candidate, domains):
        return fetched, True
    return candidate, False


def build_article(
    page: ExtractedPage,
    *,
    fetched_url: str,
    site_id: str = "",
    domains: tuple[str, ...] = (),
    fetched_at: datetime | None = None,
    url: str | None = None,
) -> Article:
    """The ``Article`` for ``page`` fetched from ``fetched_url`` (now, by default).

    ``url`` is the canonical URL when the caller already decided it (the spider
    applies its site's article-URL rules to the canonical); else ``canonical_url``.
    """
    if url is None:
        url, _ = canonical_url(page, fetched_url, domains)
    when = (fetched_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    text = page.text
    return Article(
        id=article_id(url) if url else "",
        url=url,
        site=site_id,
        title=page.title,
        date=page.date,
        authors=list(page.authors),
        description=page.description,
        text=text,
        language=page.language,
        fetched_at=when.isoformat(),
        date_raw=page.date_raw,
        date_modified=page.date_modified,
        tags=list(page.tags),
        images=list(page.images),
        comments=page.comments,
        source_url=fetched_url,
        paywalled=page.paywalled,
        word_count=count_words(text),
    )
