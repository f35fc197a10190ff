"""URL lists: ``-a urls=FILE`` gives the crawl exactly the pages to extract.

One URL per line, ``-`` for standard input; blank lines and ``#`` comments are
ignored, a line that is not an http(s) URL is skipped with a warning naming its line
(counted ``urls/invalid``). Each page belongs to the configured site whose domains
hold it, else to a generic site made for its host (no overrides, every URL an
article URL), so pages of any site go through the same pipelines.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler.sites import SiteConfig

#: A URL list longer than this is refused (a wrong file, not a list of pages).
MAX_LIST_BYTES = 64 * 1024 * 1024


class UrlListError(ValueError):
    """The URL list cannot be read; the message names the file."""


@dataclass
class UrlList:
    """The URLs of a list, in order, and the lines that were not URLs."""

    urls: list[str] = field(default_factory=list)
    #: (line number, text) of each line that is not an http(s) URL
    invalid: list[tuple[int, str]] = field(default_factory=list)


def is_http_url(text: str) -> bool:
    """True when ``text`` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(text)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a bad IPv6 literal or port
        return False


def parse_url_list(text: str) -> UrlList:
    """The URLs of a list's text (see the module docstring)."""
    found = UrlList()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if is_http_url(line):
            found.urls.append(line)
        else:
            found.invalid.append((number, line))
    return found


def read_url_list(name: str) -> UrlList:
    """Read the list in file ``name`` (``-``: standard input)."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_LIST_BYTES + 1)
        else:
            data = Path(name).read_bytes()
    except OSError as exc:
        raise UrlListError(
            f"-a urls={name}: cannot read: {exc.strerror or exc}"
        ) from exc
    if len(data) > MAX_LIST_BYTES or b"\x00" in data[:4096]:
        raise UrlListError(f"-a urls={name}: not a list of URLs (binary or too large)")
    return parse_url_list(data.decode("utf-8", errors="replace"))


def check_url_list(name: str | None) -> None:
    """Raise ``UrlListError`` when ``-a urls=`` names a file that cannot be read
    (before the crawl starts; standard input is read by the spider)."""
    if name and name != "-":
        try:
            with open(name, "rb"):
                pass
        except OSError as exc:
            raise UrlListError(
                f"-a urls={name}: cannot read: {exc.strerror or exc}"
            ) from exc


def site_for_url(url: str, sites: dict[str, SiteConfig]) -> SiteConfig:
    """The configured site that owns ``url``, else a generic site for its host."""
    for site in sites.values():
        if site.owns_url(url):
            return site
    return generic_site(url)


def generic_site(url: str) -> SiteConfig:
    """A site with no site file: id and domain are the URL's host (without www.)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return SiteConfig(
        id=host,
        name="",
        home=f"{parts.scheme}://{parts.netloc}/",
        domains=(host,),
        path="",
    )
