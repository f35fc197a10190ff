"""Site files: load ``*.toml`` from a folder and validate them into frozen dataclasses.

A site is data. Every key is documented in README.md ("Site files"); an unknown key,
a wrong type, a bad regular expression or a bad selector is a ``SiteConfigError``
naming the file and the key, raised before any request is made.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from parsel import Selector

from crawler.urls import same_site

PACKAGE_SITES_DIR = Path(__file__).parent


class SiteConfigError(ValueError):
    """A site file is invalid; the message names the file, the key and the problem."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")


def is_xpath(selector: str) -> bool:
    """True when a selector string is XPath (starts with ``/``, ``(`` or ``./``)."""
    return selector.startswith(("/", "(", "./"))


def select(sel: Selector, selector: str) -> Any:
    """Apply a CSS or XPath selector string, whichever it is."""
    return sel.xpath(selector) if is_xpath(selector) else sel.css(selector)


@dataclass(frozen=True)
class CommentSelectors:
    """Selectors for reader comments: each ``item`` holds one comment."""

    item: str
    author: str = ""
    date: str = ""
    text: str = ""


@dataclass(frozen=True)
class DiscoveryConfig:
    """Where a site's articles are found. A site may use any mix."""

    feeds: tuple[str, ...] = ()
    feed_autodiscovery: bool = False
    sitemaps: tuple[str, ...] = ()
    robots_sitemaps: bool = False
    sections: tuple[str, ...] = ()
    next_page: str = ""
    page_url: str = ""  # section page N by URL pattern, e.g. "?page={page}"
    max_section_pages: int = 5
    follow_links: bool = False
    max_depth: int = 2


@dataclass(frozen=True)
class ArticleRules:
    """Article URLs: ``allow`` (any matches) and not ``deny`` (none matches)."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    min_words: int = 0

    def is_article_url(self, url: str) -> bool:
        """True when ``url`` is an article page by this site's rules."""
        if any(re.search(p, url) for p in self.deny):
            return False
        if not self.allow:
            return True
        return any(re.search(p, url) for p in self.allow)


@dataclass(frozen=True)
class ExtractionConfig:
    """Per-site extraction overrides; every selector is CSS or XPath."""

    title: str = ""
    date: str = ""
    authors: str = ""
    description: str = ""
    body: str = ""
    prune: tuple[str, ...] = ()
    clutter_phrases: tuple[str, ...] = ()
    title_suffix: str = ""
    include_comments: bool = False
    comments: CommentSelectors | None = None


@dataclass(frozen=True)
class CrawlConfig:
    """Per-site crawl policy (0 means no limit / the global default)."""

    download_delay: float = 0.0
    concurrency: int = 0
    max_articles: int = 0
    max_requests: int = 0
    max_age_days: int = 0


@dataclass(frozen=True)
class SiteConfig:
    """One site, as declared in ``<id>.toml``."""

    id: str
    name: str
    home: str
    domains: tuple[str, ...]
    path: str
    language: str = ""
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    articles: ArticleRules = field(default_factory=ArticleRules)
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)

    def owns_url(self, url: str) -> bool:
        """True when ``url``'s host is one of the site's domains or a subdomain."""
        return same_site(url, self.domains)


# --- validation ---------------------------------------------------------------

_TOP_KEYS = {
    "id",
    "name",
    "home",
    "domains",
    "language",
    "discovery",
    "articles",
    "extraction",
    "crawl",
}
_SECTION_TYPES: dict[str, type] = {
    "discovery": DiscoveryConfig,
    "articles": ArticleRules,
    "extraction": ExtractionConfig,
    "crawl": CrawlConfig,
}
_SELECTOR_KEYS = {"title", "date", "authors", "description", "body", "next_page"}
_EMPTY_DOC = Selector(text="<html><body></body></html>")


def _check_type(path: Path, key: str, value: Any, expected: Any) -> Any:
    """Coerce ``value`` to ``expected`` (a field annotation string) or raise."""
    if expected in ("str",):
        if not isinstance(value, str):
            raise SiteConfigError(
                path, key, f"must be a string, not {type(value).__name__}"
            )
        return value
    if expected == "bool":
        if not isinstance(value, bool):
            raise SiteConfigError(path, key, f"must be true or false, not {value!r}")
        return value
    if expected == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SiteConfigError(
                path, key, f"must be a whole number >= 0, not {value!r}"
            )
        return value
    if expected == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SiteConfigError(path, key, f"must be a number >= 0, not {value!r}")
        return float(value)
    if expected == "tuple[str, ...]":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SiteConfigError(path, key, "must be a list of strings")
        return tuple(value)
    raise AssertionError(f"unhandled type {expected}")  # pragma: no cover


def _check_regex(path: Path, key: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise SiteConfigError(
            path, key, f"bad regular expression {pattern!r}: {exc}"
        ) from exc


def _check_selector(path: Path, key: str, selector: str) -> None:
    if not selector:
        return
    try:
        select(_EMPTY_DOC, selector)
    except Exception as exc:  # parsel raises several types for bad CSS / XPath
        raise SiteConfigError(path, key, f"bad selector {selector!r}: {exc}") from exc


def _check_url(path: Path, key: str, url: str) -> None:
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteConfigError(path, key, f"must be an http(s) URL, not {url!r}")


def _build_section(path: Path, name: str, raw: Any) -> Any:
    cls = _SECTION_TYPES[name]
    if not isinstance(raw, dict):
        raise SiteConfigError(path, name, f"must be a table ([{name}])")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{name}.{key}"
        if key not in known:
            raise SiteConfigError(
                path, dotted, f"unknown key; known keys: {', '.join(sorted(known))}"
            )
        if name == "extraction" and key == "comments":
            values[key] = _build_comments(path, dotted, value)
            continue
        value = _check_type(path, dotted, value, known[key].type)
        if name == "articles" and key in ("allow", "deny"):
            for pattern in value:
                _check_regex(path, dotted, pattern)
        if key in _SELECTOR_KEYS or (name == "extraction" and key == "prune"):
            for selector in value if isinstance(value, tuple) else (value,):
                _check_selector(path, dotted, selector)
        if name == "discovery" and key in ("feeds", "sitemaps", "sections"):
            for url in value:
                _check_url(path, dotted, url)
        if name == "discovery" and key == "page_url" and "{page}" not in value:
            raise SiteConfigError(
                path, dotted, "must contain {page}, e.g. '?page={page}'"
            )
        values[key] = value
    return cls(**values)


def _build_comments(path: Path, key: str, raw: Any) -> CommentSelectors:
    if not isinstance(raw, dict):
        raise SiteConfigError(
            path, key, "must be a table with item, author, date, text"
        )
    known = {f.name for f in fields(CommentSelectors)}
    for sub, value in raw.items():
        if sub not in known:
            raise SiteConfigError(
                path,
                f"{key}.{sub}",
                f"unknown key; known keys: {', '.join(sorted(known))}",
            )
        if not isinstance(value, str):
            raise SiteConfigError(path, f"{key}.{sub}", "must be a string")
        _check_selector(path, f"{key}.{sub}", value)
    if not raw.get("item"):
        raise SiteConfigError(path, f"{key}.item", "is required")
    return CommentSelectors(**raw)


def parse_site(path: Path, raw: dict[str, Any]) -> SiteConfig:
    """Validate one parsed site file into a ``SiteConfig``."""
    for key in raw:
        if key not in _TOP_KEYS:
            raise SiteConfigError(
                path, key, f"unknown key; known keys: {', '.join(sorted(_TOP_KEYS))}"
            )
    site_id = raw.get("id", path.stem)
    if not isinstance(site_id, str) or not re.fullmatch(
        r"[a-z0-9][a-z0-9_-]*", site_id
    ):
        raise SiteConfigError(
            path, "id", f"must be lowercase letters, digits, - or _: {site_id!r}"
        )
    if "home" not in raw:
        raise SiteConfigError(path, "home", "is required (the site's home page URL)")
    home = _check_type(path, "home", raw["home"], "str")
    _check_url(path, "home", home)
    name = _check_type(path, "name", raw.get("name", site_id), "str")
    language = _check_type(path, "language", raw.get("language", ""), "str")
    domains_raw = raw.get("domains")
    if domains_raw is None:
        domains: tuple[str, ...] = (
            (urlparse(home).hostname or "").removeprefix("www."),
        )
    else:
        domains = tuple(
            d.lower()
            for d in _check_type(path, "domains", domains_raw, "tuple[str, ...]")
        )
        if not domains:
            raise SiteConfigError(path, "domains", "must list at least one domain")
    sections = {
        name: _build_section(path, name, raw[name])
        for name in _SECTION_TYPES
        if name in raw
    }
    return SiteConfig(
        id=site_id,
        name=name,
        home=home,
        domains=domains,
        path=str(path),
        language=language,
        **sections,
    )


def load_site_file(path: Path) -> SiteConfig:
    """Read and validate one site file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError(path, "", f"TOML syntax error: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteConfigError(path, "", f"cannot read: {exc}") from exc
    return parse_site(path, raw)


def load_sites(directory: Path | str | None = None) -> dict[str, SiteConfig]:
    """Load every ``*.toml`` in ``directory`` (default: the shipped sites), by id.

    All files are validated: the first invalid one raises, so no site is silently
    dropped.
    """
    folder = Path(directory) if directory else PACKAGE_SITES_DIR
    if not folder.is_dir():
        raise SiteConfigError(folder, "", "sites folder does not exist")
    sites: dict[str, SiteConfig] = {}
    for path in sorted(folder.glob("*.toml")):
        site = load_site_file(path)
        if site.id in sites:
            raise SiteConfigError(
                path,
                "id",
                f"duplicate site id {site.id!r} (also in {sites[site.id].path})",
            )
        sites[site.id] = site
    if not sites:
        raise SiteConfigError(folder, "", "no site files (*.toml) found")
    return sites


def select_sites(
    all_sites: dict[str, SiteConfig], wanted: str | None
) -> list[SiteConfig]:
    """Pick the sites named in a comma-separated list (all when empty)."""
    if not wanted:
        return list(all_sites.values())
    ids = [s.strip() for s in wanted.split(",") if s.strip()]
    unknown = [s for s in ids if s not in all_sites]
    if unknown:
        raise SiteConfigError(
            "sites",
            "",
            f"unknown site id(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(all_sites))}",
        )
    return [all_sites[s] for s in ids]
