"""A generated news site for end-to-end tests and benchmarks, served by ``SiteServer``.

Every entry point a real news site has, built from one list of stories::

    site = NewsSite(n_articles=24, start=datetime(2024, 11, 1, 8, tzinfo=UTC))
    with SiteServer() as server:
        site.install(server)                    # server.pages = site.pages(server.url)
        sites_dir = site.write_site_file(tmp_path / "sites", server.url)
        result = run_crawl(tmp_path, settings={"SITES_DIR": sites_dir})
        assert {i["url"] for i in result.items} == site.canonical_urls(server.url)
        site.add_articles(3)                    # newer stories, for an incremental run
        site.install(server)

Layout (paths on the server; B is the base URL):

* ``/`` home: ``<link rel=alternate>`` to both feeds, links to every section, the
  newest ``home_size`` stories (teasers with ``<time>``), the AMP copy of the newest
  business story, and the two non-article pages.
* ``/robots.txt``: ``Disallow: /members/``, ``Sitemap: B/sitemap_index.xml``
  (and ``Crawl-delay`` when ``crawl_delay`` is set).
* ``/feeds/rss.xml`` RSS 2.0: the newest ``feed_size`` world and members stories, links
  carrying ``utm_*`` tracking parameters. ``/feeds/atom.xml`` Atom: the newest
  ``feed_size`` business stories.
* ``/sitemap_index.xml`` -> ``/sitemaps/news.xml`` (Google News sitemap of the last
  two days, sent with ``Content-Encoding: gzip``) and ``/sitemaps/archive.xml.gz``
  (every dated story with ``lastmod``, a gzip file).
* Sections ``/<section>/`` newest first, ``per_page`` teasers a page, pages
  ``/<section>/?page=N`` linked by ``rel=next`` (unless ``next_links=False``).
* Stories: world ``/world/YYYY/MM/DD/<slug>.html`` (dated URL), business
  ``/business/<slug>.html`` (+ an AMP copy ``/amp/business/<slug>.html`` whose
  ``rel=canonical`` is the story), opinion ``/opinion/<slug>.html`` (no date anywhere
  before the page itself: no ``<time>`` in teasers, in no feed or sitemap), members
  ``/members/<slug>.html`` (disallowed by robots.txt).
* Non-articles matching the article URL pattern ``\\.html$``:
  ``/business/companies-index.html`` (a listing of teasers) and
  ``/world/corrections.html`` (too short).
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cached_property
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support.server import Page, SiteServer

SECTIONS = ("world", "business", "opinion", "members")
DISALLOWED_PREFIX = "/members/"
LISTING_PATH = "/business/companies-index.html"
SHORT_PATH = "/world/corrections.html"
NON_ARTICLE_PATHS = (LISTING_PATH, SHORT_PATH)
TRACKING = "utm_source=rss&utm_medium=feed"

_ADJECTIVES = (
    "harbour",
    "council",
    "river",
    "market",
    "winter",
    "station",
    "museum",
    "library",
    "ferry",
    "bridge",
    "school",
    "orchard",
    "festival",
    "tunnel",
)
_NOUNS = (
    "plan",
    "budget",
    "vote",
    "repairs",
    "report",
    "strike",
    "opening",
    "review",
    "inquiry",
    "expansion",
    "closure",
    "contract",
    "survey",
    "timetable",
)
_VERBS = (
    "approved",
    "delayed",
    "questioned",
    "welcomed",
    "revised",
    "announced",
    "postponed",
    "defended",
    "expanded",
    "cancelled",
)
_WORDS = (
    "the",
    "council",
    "said",
    "residents",
    "would",
    "meet",
    "again",
    "after",
    "officials",
    "reviewed",
    "costs",
    "of",
    "the",
    "harbour",
    "project",
    "while",
    "traders",
    "asked",
    "for",
    "clearer",
    "timetables",
    "and",
    "a",
    "public",
    "hearing",
    "before",
    "any",
    "final",
    "decision",
    "on",
    "funding",
    "was",
    "taken",
    "by",
    "the",
    "regional",
    "board",
    "next",
    "month",
    "engineers",
    "expected",
    "work",
    "to",
    "last",
    "through",
    "spring",
)


@dataclass(frozen=True)
class Story:
    """One article of the site."""

    number: int
    section: str
    published: datetime

    @cached_property
    def slug(self) -> str:
        rng = random.Random(self.number)
        return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{self.number}"

    @cached_property
    def title(self) -> str:
        rng = random.Random(self.number)
        adjective, noun, verb = (
            rng.choice(_ADJECTIVES),
            rng.choice(_NOUNS),
            rng.choice(_VERBS),
        )
        return f"{adjective.capitalize()} {noun} {verb} in story {self.number}"

    @property
    def path(self) -> str:
        if self.section == "world":
            p = self.published
            return f"/world/{p.year:04d}/{p.month:02d}/{p.day:02d}/{self.slug}.html"
        return f"/{self.section}/{self.slug}.html"

    @property
    def amp_path(self) -> str | None:
        """The AMP copy's path (business stories only)."""
        return f"/amp{self.path}" if self.section == "business" else None

    @property
    def allowed(self) -> bool:
        """False for stories robots.txt disallows."""
        return not self.path.startswith(DISALLOWED_PREFIX)

    @property
    def dated_by_entry_points(self) -> bool:
        """True when some entry point (teaser, feed, sitemap, URL) gives its date."""
        return self.section != "opinion"

    @cached_property
    def summary(self) -> str:
        topic = self.slug.replace("-", " ")
        return f"What the {topic} means for the town, story {self.number}."

    @cached_property
    def paragraphs(self) -> list[str]:
        rng = random.Random(self.number * 7919)
        out = []
        for i in range(4):
            words = rng.choices(_WORDS, k=34)
            out.append(
                f"{' '.join(words).capitalize()} in story {self.number} part {i}."
            )
        return out


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class NewsSite:
    """A news site of ``n_articles`` stories, one every ``interval`` from ``start``."""

    n_articles: int = 24
    start: datetime = datetime(2024, 11, 1, 8, 0, tzinfo=UTC)
    interval: timedelta = timedelta(hours=6)
    name: str = "Harbour Herald"
    sections: tuple[str, ...] = SECTIONS
    per_page: int = 4
    feed_size: int = 8
    home_size: int = 6
    next_links: bool = True
    crawl_delay: float | None = None
    stories: list[Story] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.stories:
            self.add_articles(self.n_articles)

    # --- content ---------------------------------------------------------------------
    def add_articles(self, k: int) -> list[Story]:
        """Add ``k`` stories newer than every existing one; returns them."""
        added = []
        for _ in range(k):
            number = len(self.stories)
            story = Story(
                number,
                self.sections[number % len(self.sections)],
                self.start + number * self.interval,
            )
            self.stories.append(story)
            added.append(story)
        self.n_articles = len(self.stories)
        return added

    def newest_first(self, section: str | None = None) -> list[Story]:
        return sorted(
            (s for s in self.stories if section in (None, s.section)),
            key=lambda s: s.published,
            reverse=True,
        )

    def allowed_stories(self, since: datetime | None = None) -> list[Story]:
        """Stories a crawl must find: allowed by robots.txt, published >= ``since``."""
        return [
            s
            for s in self.stories
            if s.allowed and (since is None or s.published >= since)
        ]

    def canonical_urls(self, base_url: str, since: datetime | None = None) -> set[str]:
        """The ``url`` of every record a complete crawl writes."""
        return {base_url + s.path for s in self.allowed_stories(since)}

    # --- serving ---------------------------------------------------------------------
    def install(self, server: SiteServer) -> None:
        """Replace the server's pages with this site's (call again after changes)."""
        server.pages = self.pages(server.url)

    def pages(self, base_url: str) -> dict[str, Page]:
        """Every page of the site, by request path (with query), for ``base_url``."""
        base = base_url.rstrip("/")
        pages: dict[str, Page] = {
            "/": Page(self._home(base)),
            "/robots.txt": Page(self._robots(base), content_type="text/plain"),
            "/feeds/rss.xml": Page(self._rss(base), content_type="application/rss+xml"),
            "/feeds/atom.xml": Page(
                self._atom(base), content_type="application/atom+xml"
            ),
            "/sitemap_index.xml": Page(
                self._sitemap_index(base), content_type="application/xml"
            ),
            "/sitemaps/news.xml": Page(
                self._news_sitemap(base), content_type="application/xml", gzip_body=True
            ),
            "/sitemaps/archive.xml.gz": Page(
                gzip.compress(self._archive_sitemap(base).encode("utf-8")),
                content_type="application/x-gzip",
            ),
            LISTING_PATH: Page(self._listing_page(base)),
            SHORT_PATH: Page(self._short_page()),
        }
        for section in self.sections:
            pages.update(self._section_pages(section))
        for story in self.stories:
            pages[story.path] = Page(self._article(base, story))
            if story.amp_path:
                pages[story.amp_path] = Page(self._article(base, story, amp=True))
        return pages

    # --- site file -------------------------------------------------------------------
    def site_file(self, base_url: str, **tables: Any) -> str:
        """TOML text of a site file for this site at ``base_url``.

        ``tables`` override keys per table (``discovery={...}``, ``articles={...}``,
        ``crawl={...}``); a value of None removes the key.
        """
        base = base_url.rstrip("/")
        host = urlsplit(base).hostname or ""
        default: dict[str, dict[str, Any]] = {
            "discovery": {
                "feed_autodiscovery": True,
                "robots_sitemaps": True,
                "sections": [f"{base}/{s}/" for s in self.sections],
                "max_section_pages": 50,
            },
            "articles": {"allow": [r"\.html$"]},
            "crawl": {},
        }
        for table, values in tables.items():
            if not isinstance(values, dict):
                raise TypeError(f"{table}= must be a dict of keys, not {values!r}")
            merged = default.setdefault(table, {})
            for key, value in values.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
        lines = [
            f"name = {_toml(self.name)}",
            f"home = {_toml(base + '/')}",
            f"domains = {_toml([host])}",
            'language = "en"',
        ]
        for table, values in default.items():
            if values:
                lines.append(f"\n[{table}]")
                lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
        return "\n".join(lines) + "\n"

    def write_site_file(
        self,
        folder: Path,
        base_url: str,
        *,
        site_id: str = "herald",
        **tables: Any,
    ) -> Path:
        """Write ``<folder>/<site_id>.toml`` and return the folder (for SITES_DIR)."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{site_id}.toml").write_text(
            self.site_file(base_url, **tables), encoding="utf-8"
        )
        return folder

    # --- page builders ---------------------------------------------------------------
    def _teaser(self, story: Story, href: str | None = None) -> str:
        time_tag = (
            f'<time datetime="{_iso(story.published)}">'
            f"{story.published:%d %b %Y}</time>"
            if story.dated_by_entry_points
            else ""
        )
        return (
            f'<article class="teaser"><h2><a href="{href or story.path}">'
            f"{escape(story.title)}</a></h2>{time_tag}<p>{escape(story.summary)}</p>"
            f'<a href="{story.path}#comments">Comments</a></article>'
        )

    def _nav(self) -> str:
        links = " ".join(f'<a href="/{s}/">{s.capitalize()}</a>' for s in self.sections)
        return f'<nav><a href="/">Home</a> {links}</nav>'

    def _home(self, base: str) -> str:
        latest = "".join(self._teaser(s) for s in self.newest_first()[: self.home_size])
        amp = ""
        business = self.newest_first("business")
        if business and business[0].amp_path:
            amp = (
                f'<p class="amp"><a href="{business[0].amp_path}">'
                f"{escape(business[0].title)} (light version)</a></p>"
            )
        return (
            '<html lang="en"><head><title>Harbour Herald</title>'
            '<link rel="alternate" type="application/rss+xml" title="Herald RSS" '
            'href="/feeds/rss.xml">'
            '<link rel="alternate" type="application/atom+xml" title="Herald business" '
            'href="/feeds/atom.xml">'
            f"</head><body>{self._nav()}<main>{latest}{amp}"
            f'<p><a href="{LISTING_PATH}">Companies index</a> '
            f'<a href="{SHORT_PATH}">Corrections</a></p></main></body></html>'
        )

    def _robots(self, base: str) -> str:
        delay = f"Crawl-delay: {self.crawl_delay}\n" if self.crawl_delay else ""
        return (
            f"User-agent: *\n{delay}Disallow: {DISALLOWED_PREFIX}\n\n"
            f"Sitemap: {base}/sitemap_index.xml\n"
        )

    def _rss(self, base: str) -> str:
        chosen = [s for s in self.newest_first() if s.section in ("world", "members")]
        items = "".join(
            f"<item><title>{escape(s.title)}</title>"
            f"<link>{base}{s.path}?{escape(TRACKING)}</link>"
            f'<guid isPermaLink="false">story-{s.number}</guid>'
            f"<pubDate>{format_datetime(s.published, usegmt=True)}</pubDate></item>"
            for s in chosen[: self.feed_size]
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Harbour Herald</title><link>{base}/</link>{items}"
            "</channel></rss>"
        )

    def _atom(self, base: str) -> str:
        entries = "".join(
            f"<entry><title>{escape(s.title)}</title>"
            f'<link rel="alternate" href="{base}{s.path}"/><id>story-{s.number}</id>'
            f"<published>{_iso(s.published)}</published>"
            f"<updated>{_iso(s.published + timedelta(hours=1))}</updated></entry>"
            for s in self.newest_first("business")[: self.feed_size]
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>Business</title>'
            f"<id>{base}/feeds/atom.xml</id>{entries}</feed>"
        )

    def _newest(self) -> datetime:
        return max((s.published for s in self.stories), default=self.start)

    def _sitemap_index(self, base: str) -> str:
        newest = _iso(self._newest())
        entries = "".join(
            f"<sitemap><loc>{base}{path}</loc><lastmod>{newest}</lastmod></sitemap>"
            for path in ("/sitemaps/news.xml", "/sitemaps/archive.xml.gz")
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
            "</sitemapindex>"
        )

    def _news_sitemap(self, base: str) -> str:
        cutoff = self._newest() - timedelta(days=2)  # news sitemaps: two days
        recent = [
            s
            for s in self.newest_first()
            if s.dated_by_entry_points and s.published >= cutoff
        ]
        urls = "".join(
            f"<url><loc>{base}{s.path}</loc><news:news><news:publication>"
            "<news:name>Harbour Herald</news:name><news:language>en</news:language>"
            f"</news:publication><news:publication_date>{_iso(s.published)}"
            f"</news:publication_date><news:title>{escape(s.title)}</news:title>"
            "</news:news></url>"
            for s in recent
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"{urls}</urlset>"
        )

    def _archive_sitemap(self, base: str) -> str:
        urls = "".join(
            f"<url><loc>{base}{s.path}</loc><lastmod>{_iso(s.published)}</lastmod></url>"
            for s in self.newest_first()
            if s.dated_by_entry_points
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )

    def _section_pages(self, section: str) -> dict[str, Page]:
        stories = self.newest_first(section)
        count = max(1, -(-len(stories) // self.per_page))
        pages = {}
        for number in range(1, count + 1):
            chunk = stories[(number - 1) * self.per_page : number * self.per_page]
            teasers = "".join(self._teaser(s) for s in chunk)
            numbers = " ".join(
                f'<a href="/{section}/?page={n}">{n}</a>' for n in range(1, count + 1)
            )
            nxt = (
                f'<a rel="next" href="/{section}/?page={number + 1}">Older</a>'
                if self.next_links and number < count
                else ""
            )
            extra = ""
            if section == "business" and number == 1:
                extra = f'<p><a href="{LISTING_PATH}">All companies</a></p>'
            body = (
                f'<html lang="en"><head><title>{section.capitalize()} - Harbour Herald'
                f"</title></head><body>{self._nav()}<main><h1>{section.capitalize()}"
                f"</h1>{teasers}{extra}</main><footer>{numbers} {nxt}</footer>"
                "</body></html>"
            )
            path = f"/{section}/" if number == 1 else f"/{section}/?page={number}"
            pages[path] = Page(body)
        return pages

    def _article(self, base: str, story: Story, amp: bool = False) -> str:
        body = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
        return (
            f'<html lang="en"><head><title>{escape(story.title)} - Harbour Herald'
            "</title>"
            f'<link rel="canonical" href="{base}{story.path}">'
            f'<meta property="og:type" content="article">'
            '<meta property="article:published_time" '
            f'content="{_iso(story.published)}">'
            f'<meta name="description" content="{escape(story.summary)}">'
            f"</head><body>{self._nav()}<article><h1>{escape(story.title)}</h1>"
            f'<p class="byline">By Ada Lovelace</p>'
            f'<time datetime="{_iso(story.published)}">'
            f"{story.published:%d %B %Y}</time>"
            f"{body}</article>{'<p>AMP</p>' if amp else ''}"
            "<footer>Copyright Harbour Herald</footer></body></html>"
        )

    def _listing_page(self, base: str) -> str:
        items = "".join(
            f'<li><h3><a href="{s.path}">{escape(s.title)}</a></h3>'
            f"<p>{escape(s.title)}: {escape(s.summary)} Read the full story for the "
            "figures the council published and what happens next.</p></li>"
            for s in self.newest_first()[:30]
            if s.allowed
        )
        return (
            '<html lang="en"><head><title>Companies index - Harbour Herald</title>'
            f"</head><body>{self._nav()}<main><h1>Companies in the news</h1>"
            f"<ul>{items}</ul></main></body></html>"
        )

    def _short_page(self) -> str:
        return (
            '<html lang="en"><head><title>Corrections - Harbour Herald</title></head>'
            f"<body>{self._nav()}<article><h1>Corrections</h1>"
            "<p>No corrections this week.</p></article></body></html>"
        )


def _toml(value: Any) -> str:
    """A TOML value for str, bool, int, float and lists of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if "'" not in value and "\n" not in value:
            return f"'{value}'"  # literal string: regexes need no escaping
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")
