"""Generate a static news site of N articles for the crawl benchmark.

The site looks like a real news site to both crawlers and to trafilatura: article
pages of 30-200 KB (triangular, mode 90 KB) carrying a mega-menu, inline CSS and an
SVG sprite, a JSON state blob in a script, a figure with caption, "ALSO READ" lines,
related / most-read / more-from-section teaser blocks, reader comments and a footer;
paginated section fronts, tag and author pages, a home page, an RSS feed, a Google
News sitemap, a sitemap index with one sitemap per 1,000 articles, and robots.txt.

``--pages real`` makes the article pages from real page markup instead (the
extraction corpora's pages of 30-500 KB, their text replaced; see ``realpages.py``);
fronts, feeds, sitemaps and robots.txt are the same in both modes.

Article ``i`` is the same page whatever N: its teasers only point at older articles.
So a run with more articles (``n`` grown by 1%) rewrites the fronts, feeds and
sitemaps but leaves every old article page byte for byte as it was, as on a real site.

HTML links are root-relative, so pages do not depend on the server's port; feeds,
sitemaps and robots.txt carry absolute URLs and are rewritten for each ``base_url``.

    .venv/bin/python bench/sitegen.py OUT_DIR --articles 1000 --base http://127.0.0.1:8080
        [--pages synthetic|real]
"""

from __future__ import annotations

import argparse
import html
import json
import random
import shutil
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realpages  # noqa: E402  (bench/ is not a package)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Bump when the page format changes: cached sites of an older format are not reused.
FORMAT_VERSION = 2

SITE_NAME = "The Harbour Ledger"
SECTIONS = (
    "world",
    "politics",
    "business",
    "technology",
    "science",
    "sport",
    "culture",
    "opinion",
)
START = datetime(2023, 1, 2, 6, 0, tzinfo=UTC)
#: 40 articles a day, like a mid-sized newsroom.
INTERVAL = timedelta(minutes=36)
PER_LISTING = 20
PER_SITEMAP = 1000
FEED_ITEMS = 50
NEWS_SITEMAP_ITEMS = 80  # Google News sitemaps hold the last two days

_WORDS = (
    "the council said on tuesday that the new harbour plan would cost more than "
    "expected after engineers found the old sea wall had weakened during winter storms "
    "residents asked whether ferry services would continue while the work went on and "
    "officials promised a public meeting next month the minister told reporters that "
    "funding had been agreed in principle but details remained under discussion with "
    "local business owners who fear a long closure of the waterfront market analysts "
    "noted that similar projects in other coastal towns had taken two years longer "
    "than "
    "planned and warned of rising prices for steel concrete and labour across the "
    "region "
    "a spokesperson for the port authority said shipping schedules would be adjusted "
    "fishermen described the situation as difficult but said they supported repairs "
    "students from the university collected water samples to measure pollution levels "
    "hospital managers reported fewer visits during the holiday period than last year "
    "voters will decide in spring whether to approve a tax to pay for flood defences "
    "the company reported quarterly profit above forecasts as demand for electric "
    "boats "
    "grew across northern markets while exports of timber fell for the third quarter "
    "scientists published new findings on the migration of seabirds along the coast "
    "the team won its fourth match in a row after a late goal from the young striker "
    "critics praised the festival programme which mixes local bands with touring acts"
).split()
_NAMES = (
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
    "Ken Thompson",
    "Margaret Hamilton",
    "John McCarthy",
    "Radia Perlman",
    "Tim Berners-Lee",
    "Hedy Lamarr",
    "Claude Shannon",
    "Sophie Wilson",
    "Dennis Ritchie",
    "Jean Sammet",
    "Niklaus Wirth",
    "Adele Goldberg",
)
_TAGS = tuple(
    f"{a}-{b}"
    for a in (
        "harbour",
        "budget",
        "ferry",
        "storm",
        "market",
        "school",
        "health",
        "energy",
        "transport",
        "housing",
    )
    for b in (
        "plan",
        "vote",
        "report",
        "review",
        "crisis",
        "deal",
        "study",
        "protest",
        "fund",
        "court",
    )
)


def _css() -> str:
    rules = []
    for i in range(260):
        rules.append(
            f".c{i}{{margin:{i % 7}px {i % 5}px;padding:{i % 3}px;"
            f"color:#{(i * 4663) % 0xFFFFFF:06x};font-size:{12 + i % 9}px}}"
        )
    return "".join(rules)


def _svg_sprite() -> str:
    symbols = []
    for i in range(24):
        points = " ".join(
            f"{(i * 7 + k * 13) % 24},{(i * 5 + k * 11) % 24}" for k in range(12)
        )
        symbols.append(
            f'<symbol id="icon-{i}" viewBox="0 0 24 24"><path d="M{points}Z"/>'
            f'<circle cx="{i % 24}" cy="{(i * 3) % 24}" r="2"/></symbol>'
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" style="display:none">'
        + "".join(symbols)
        + "</svg>"
    )


def _menu() -> str:
    parts = ['<nav class="mega-menu" aria-label="Sections"><ul class="menu">']
    for section in SECTIONS:
        parts.append(
            f'<li class="menu-item"><a class="menu-link" href="/section/{section}/">'
            f'{section.title()}</a><ul class="sub-menu">'
        )
        for tag in _TAGS[SECTIONS.index(section) :: len(SECTIONS)][:5]:
            parts.append(
                f'<li class="menu-item"><a href="/tag/{tag}/">'
                f"{tag.replace('-', ' ').title()}</a></li>"
            )
        parts.append("</ul></li>")
    parts.append("</ul></nav>")
    return "".join(parts)


def _footer() -> str:
    links = "".join(
        f'<li><a href="/section/{s}/">{s.title()}</a></li>' for s in SECTIONS
    )
    extra = "".join(
        f'<li><a href="/tag/{t}/">{t.replace("-", " ")}</a></li>' for t in _TAGS[:12]
    )
    return (
        f'<footer class="site-footer"><div class="c1"><ul>{links}</ul>'
        f"<ul>{extra}</ul></div><p>Copyright 2024 {SITE_NAME}. All rights reserved."
        "</p><p>Advertisement</p></footer>"
    )


CSS = _css()
SPRITE = _svg_sprite()
MENU = _menu()
FOOTER = _footer()
# A pool of filler text; pages take slices of it for their JSON state blobs.
_FILLER = " ".join(random.Random(1).choices(_WORDS, k=60000))


@dataclass(frozen=True)
class ArticleMeta:
    """What the fronts, feeds and sitemaps know about article ``index``."""

    index: int
    section: str
    title: str
    date: datetime
    author: str
    tags: tuple[str, ...]

    @property
    def slug(self) -> str:
        words = "-".join(self.title.lower().split()[:7])
        return f"{words}-{self.index}"

    @property
    def path(self) -> str:
        d = self.date
        return f"/{self.section}/{d:%Y/%m/%d}/{self.slug}.html"


def article_meta(index: int, seed: int) -> ArticleMeta:
    """Deterministic metadata of article ``index`` (independent of the site's size)."""
    rng = random.Random(seed * 1_000_003 + index)
    words = rng.choices(_WORDS, k=rng.randint(6, 11))
    title = " ".join(words).capitalize()
    return ArticleMeta(
        index=index,
        section=SECTIONS[index % len(SECTIONS)],
        title=title,
        date=START + INTERVAL * index,
        author=_NAMES[rng.randrange(len(_NAMES))],
        tags=tuple(rng.sample(_TAGS, 3)),
    )


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(10, 26))
    return " ".join(words).capitalize() + "."


def _teaser(meta: ArticleMeta, rng: random.Random, klass: str) -> str:
    dek = _sentence(rng)
    return (
        f'<div class="{klass} card c{meta.index % 260}" data-id="{meta.index}">'
        f'<a class="card-media" href="{meta.path}"><picture><source type="image/webp" '
        f'srcset="/img/{meta.index}-320.webp 320w, /img/{meta.index}-640.webp 640w">'
        f'<img src="/img/{meta.index}-320.jpg" alt="" loading="lazy" width="320" '
        f'height="180"></picture></a><div class="card-body"><span class="kicker">'
        f"{meta.section.title()}</span>"
        f'<h3 class="card-title"><a href="{meta.path}">{html.escape(meta.title)}</a>'
        "</h3>"
        f'<p class="card-dek">{dek}</p><time datetime="{meta.date.isoformat()}">'
        f"{meta.date:%d %b %Y}</time></div></div>"
    )


def _older(index: int, rng: random.Random, k: int) -> list[int]:
    """``k`` distinct older article numbers, mostly recent ones (as real widgets do)."""
    if index <= 0:
        return []
    picks: list[int] = []
    for _ in range(k * 3):
        back = 1 + int(rng.expovariate(1 / 60))
        cand = max(0, index - back)
        if cand not in picks:
            picks.append(cand)
        if len(picks) == k:
            break
    return picks


def _head(title: str, description: str, canonical: str, extra: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} | {SITE_NAME}</title>"
        f'<meta name="description" content="{html.escape(description)}">'
        f'<link rel="canonical" href="{canonical}">'
        '<link rel="alternate" type="application/rss+xml" title="Latest" '
        'href="/feed.xml">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{extra}<style>{CSS}</style>"
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push("
        "arguments)}gtag('js',new Date());gtag('config','G-BENCH');</script></head>"
    )


def _header() -> str:
    return (
        f'<body class="c3">{SPRITE}<header class="site-header"><a class="logo" '
        'href="/">'
        f'{SITE_NAME}</a><form action="/search/"><input name="q"></form>'
        f'<a href="/subscribe/">Subscribe</a></header>{MENU}'
    )


def render_article(meta: ArticleMeta, seed: int) -> str:
    """One article page, 30-200 KB."""
    rng = random.Random(seed * 7_919 + meta.index)
    target = int(rng.triangular(30, 200, 90) * 1024)
    paragraphs = []
    for n in range(rng.randint(6, 22)):
        paragraphs.append(
            "<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(2, 5))) + "</p>"
        )
        if n == 2:
            paragraphs.append(
                f'<figure class="wp-caption"><img src="/img/{meta.index}-1024.jpg" '
                f'alt="" width="1024" height="576"><figcaption>{_sentence(rng)}'
                "</figcaption></figure>"
            )
        if n == 4 and meta.index > 3:
            older = article_meta(meta.index - 3, seed)
            paragraphs.append(
                f'<p><strong>ALSO READ:</strong> <a href="{older.path}">'
                f"{html.escape(older.title)}</a></p>"
            )
    description = _sentence(rng)
    tags = "".join(
        f'<li><a rel="tag" href="/tag/{t}/">{t.replace("-", " ")}</a></li>'
        for t in meta.tags
    )
    related = "".join(
        _teaser(article_meta(i, seed), rng, "related")
        for i in _older(meta.index, rng, 6)
    )
    most_read = "".join(
        f'<li><a href="{article_meta(i, seed).path}">'
        f"{html.escape(article_meta(i, seed).title)}</a></li>"
        for i in _older(meta.index, rng, 10)
    )
    comments = "".join(
        f'<li class="comment" id="comment-{meta.index}-{c}"><div class="comment-meta">'
        f'<span class="comment-author">{_NAMES[rng.randrange(len(_NAMES))]}</span> '
        '<time class="comment-date">'
        f"{(meta.date + timedelta(hours=c + 1)):%d %b %Y %H:%M}"
        f'</time></div><div class="comment-content"><p>{_sentence(rng)}</p></div>'
        f'<a class="reply" href="#respond">Reply</a></li>'
        for c in range(rng.randint(0, 30))
    )
    json_ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": meta.title,
            "datePublished": meta.date.isoformat(),
            "author": {"@type": "Person", "name": meta.author},
            "articleSection": meta.section,
            "keywords": list(meta.tags),
        }
    )
    head = _head(
        meta.title,
        description,
        meta.path,
        f'<meta property="og:type" content="article">'
        f'<meta property="og:title" content="{html.escape(meta.title)}">'
        f'<meta property="og:description" content="{html.escape(description)}">'
        f'<meta property="article:published_time" content="{meta.date.isoformat()}">'
        f'<script type="application/ld+json">{json_ld}</script>',
    )
    article = (
        f'<main class="c5"><article class="post"><header><span class="kicker"><a href='
        f'"/section/{meta.section}/">{meta.section.title()}</a></span><h1 '
        'class="entry-title">'
        f'{html.escape(meta.title)}</h1><p class="standfirst">{description}</p>'
        '<p class="byline">By <a rel="author" '
        f'href="/author/{_author_slug(meta.author)}/">'
        f'{meta.author}</a> <time datetime="{meta.date.isoformat()}">'
        f"{meta.date:%B %d, %Y}"
        '</time></p><div class="share">Share: <a href="#">Facebook</a> <a href="#">'
        "X</a> "
        f'<a href="#">WhatsApp</a></div></header><div class="entry-content">'
        f'{"".join(paragraphs)}</div><ul class="tags">{tags}</ul></article>'
        f'<section class="related"><h2>Related</h2>{related}</section>'
        '<section id="comments"><h2>Reader Comments</h2><ol class="comment-list">'
        f"{comments}"
        '</ol></section></main><aside class="sidebar"><h2>Most read</h2><ol>'
        f"{most_read}</ol>"
        "</aside>"
    )
    page = head + _header() + article
    # More from the section, then the app's JSON state blob, up to the page's size.
    more: list[str] = []
    size = len(page) + len(FOOTER)
    budget_cards = (target - size) * 3 // 10
    idx = meta.index
    while budget_cards > 0 and idx > 0:
        idx = max(0, idx - 1 - rng.randrange(8))
        card = _teaser(article_meta(idx, seed), rng, "more")
        more.append(card)
        budget_cards -= len(card)
    page += (
        f'<section class="more"><h2>More from {meta.section.title()}</h2>'
        f"{''.join(more)}</section>"
    )
    # A markets ticker and ad slots: markup without links, as on real front ends.
    ticker: list[str] = []
    budget_ticker = (target - len(page)) // 3
    while budget_ticker > 0:
        word = _WORDS[rng.randrange(len(_WORDS))].upper()
        cell = (
            f'<div class="tick c{rng.randrange(260)}"><span class="sym">{word}</span>'
            f'<span class="px">{rng.uniform(1, 900):.2f}</span><span class="chg">'
            f"{rng.uniform(-5, 5):+.2f}%</span></div>"
        )
        if rng.random() < 0.1:
            cell += (
                '<div class="ad-slot" data-slot="mpu"><div class="ad-inner"><span>'
                "Advertisement</span></div></div>"
            )
        ticker.append(cell)
        budget_ticker -= len(cell)
    page += f'<aside class="ticker">{"".join(ticker)}</aside>'
    remaining = max(0, target - len(page) - len(FOOTER) - 200)
    start = rng.randrange(len(_FILLER) - remaining - 1) if remaining else 0
    state = json.dumps(
        {"props": {"page": meta.index, "text": _FILLER[start : start + remaining]}}
    )
    page += (
        f'<script id="__NEXT_DATA__" type="application/json">{state}</script>'
        f"{FOOTER}</body></html>"
    )
    return page


def _author_slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _listing(
    title: str,
    canonical: str,
    metas: list[ArticleMeta],
    seed: int,
    next_url: str | None,
) -> str:
    rng = random.Random(seed + len(canonical) * 31 + (metas[0].index if metas else 0))
    cards = "".join(_teaser(m, rng, "teaser") for m in metas)
    pager = (
        f'<a rel="next" class="next" href="{next_url}">Next &raquo;</a>'
        if next_url
        else ""
    )
    return (
        _head(title, f"Latest {title} news", canonical)
        + _header()
        + f'<main class="c7"><h1>{html.escape(title)}</h1><div class="grid">{cards}'
        f'</div><nav class="pager">{pager}</nav></main>{FOOTER}</body></html>'
    )


@dataclass(frozen=True)
class SiteSummary:
    """What was generated: counts and the article paths (oldest first)."""

    root: Path
    articles: int
    pages: int
    article_bytes: int
    article_paths: tuple[str, ...]
    #: Size in bytes of each article page, oldest first.
    article_sizes: tuple[int, ...] = ()

    def size_line(self) -> str:
        """Mean, median and 90th percentile of the article pages' sizes."""
        return size_distribution(self.article_sizes)


def size_distribution(sizes: tuple[int, ...] | list[int]) -> str:
    if not sizes:
        return "no articles"
    ordered = sorted(sizes)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (
        f"article pages: mean {statistics.fmean(ordered) / 1024:.0f} KB, median "
        f"{statistics.median(ordered) / 1024:.0f} KB, p90 {p90 / 1024:.0f} KB, "
        f"min {ordered[0] / 1024:.0f} KB, max {ordered[-1] / 1024:.0f} KB"
    )


@dataclass(frozen=True)
class RealPages:
    """The templates of ``--pages real`` and where a site starts in their cycle."""

    templates: tuple[realpages.Template, ...]
    offset: int = 0

    def template(self, index: int) -> realpages.Template:
        return self.templates[(index + self.offset) % len(self.templates)]


def load_real_pages(corpora: Path | None = None, offset: int = 0) -> RealPages:
    """The corpora's templates (``../shared/corpora`` from the project root)."""
    found = realpages.load_templates(corpora or realpages.corpora_dir(PROJECT_ROOT))
    return RealPages(found, offset)


def _link_picker(index: int, seed: int) -> Callable[[], str]:
    """Targets for a template's own-site links: older articles, half of them (most
    of those recent, as widgets pick), else fronts, tag and author pages."""
    rng = random.Random(seed * 31_337 + index)
    listings = (
        ["/"]
        + [f"/section/{s}/" for s in SECTIONS]
        + [f"/tag/{t}/" for t in _TAGS]
        + [f"/author/{_author_slug(n)}/" for n in _NAMES]
    )

    def pick() -> str:
        if index > 0 and rng.random() < 0.5:
            back = 1 + int(rng.expovariate(1 / 60))
            return article_meta(max(0, index - back), seed).path
        return listings[rng.randrange(len(listings))]

    return pick


def render_real_article(
    meta: ArticleMeta, seed: int, real: RealPages
) -> realpages.RealArticle:
    """Article ``meta.index`` from its template, with its own text (see realpages)."""
    return realpages.render(
        real.template(meta.index),
        title=meta.title,
        path=meta.path,
        words=_WORDS,
        rng=random.Random(seed * 7_919 + meta.index),
        pick_link=_link_picker(meta.index, seed),
    )


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)


def generate_site(
    root: Path,
    n: int,
    base_url: str,
    *,
    seed: int = 7,
    real: RealPages | None = None,
) -> SiteSummary:
    """Write (or complete) the site of ``n`` articles under ``root``.

    Article pages already on disk are kept (they never change, see the module doc);
    fronts, tag and author pages, feeds, sitemaps and robots.txt are rewritten.
    With ``real``, article pages are made from its templates (``--pages real``).
    """
    base = base_url.rstrip("/")
    marker = root / ".sitegen-format"
    fmt = str(FORMAT_VERSION)
    if real is not None:
        fmt += f"/real/{realpages.fingerprint(real.templates)}/{real.offset}/{seed}"
    if root.exists() and (not marker.exists() or marker.read_text() != fmt):
        shutil.rmtree(root)  # pages of another format: start over
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    marker.write_text(fmt)
    metas = [article_meta(i, seed) for i in range(n)]
    pages = 0
    sizes: list[int] = []
    for meta in metas:
        path = root / meta.path.lstrip("/")
        if path.exists():
            sizes.append(path.stat().st_size)
        elif real is not None:
            sizes.append(_write(path, render_real_article(meta, seed, real).html))
        else:
            sizes.append(_write(path, render_article(meta, seed)))
        pages += 1
    newest = metas[::-1]
    _write(root / "index.html", _listing("Latest news", "/", newest[:40], seed, None))
    pages += 1
    for section in SECTIONS:
        items = [m for m in newest if m.section == section]
        chunks = [
            items[i : i + PER_LISTING] for i in range(0, len(items), PER_LISTING)
        ] or [[]]
        for k, chunk in enumerate(chunks, start=1):
            here = f"/section/{section}/" if k == 1 else f"/section/{section}/page/{k}/"
            nxt = f"/section/{section}/page/{k + 1}/" if k < len(chunks) else None
            _write(
                root / here.strip("/") / "index.html",
                _listing(section.title(), here, chunk, seed, nxt),
            )
            pages += 1
    for tag in _TAGS:
        items = [m for m in newest if tag in m.tags][:30]
        _write(
            root / "tag" / tag / "index.html",
            _listing(tag.replace("-", " ").title(), f"/tag/{tag}/", items, seed, None),
        )
        pages += 1
    for name in _NAMES:
        items = [m for m in newest if m.author == name][:30]
        slug = _author_slug(name)
        _write(
            root / "author" / slug / "index.html",
            _listing(name, f"/author/{slug}/", items, seed, None),
        )
        pages += 1
    pages += _write_feeds_and_sitemaps(root, base, metas)
    return SiteSummary(
        root, n, pages, sum(sizes), tuple(m.path for m in metas), tuple(sizes)
    )


def _write_feeds_and_sitemaps(root: Path, base: str, metas: list[ArticleMeta]) -> int:
    newest = metas[::-1]
    items = "".join(
        f"<item><title>{html.escape(m.title)}</title><link>{base}{m.path}</link>"
        f'<guid isPermaLink="true">{base}{m.path}</guid>'
        f"<pubDate>{m.date:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
        f"<category>{m.section}</category></item>"
        for m in newest[:FEED_ITEMS]
    )
    _write(
        root / "feed.xml",
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{SITE_NAME}</title><link>{base}/</link>{items}</channel></rss>",
    )
    news = "".join(
        f"<url><loc>{base}{m.path}</loc><news:news><news:publication><news:name>"
        f"{SITE_NAME}</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{m.date.isoformat()}</news:publication_date>"
        f"<news:title>{html.escape(m.title)}</news:title></news:news></url>"
        for m in newest[:NEWS_SITEMAP_ITEMS]
    )
    _write(
        root / "news-sitemap.xml",
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/'
        'schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{news}</urlset>",
    )
    entries = []
    chunks = [metas[i : i + PER_SITEMAP] for i in range(0, len(metas), PER_SITEMAP)]
    for k, chunk in enumerate(chunks, start=1):
        urls = "".join(
            f"<url><loc>{base}{m.path}</loc><lastmod>{m.date.isoformat()}"
            "</lastmod></url>"
            for m in chunk
        )
        _write(
            root / f"sitemap-posts-{k}.xml",
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            'xmlns="http://www.sitemaps.org'
            f'/schemas/sitemap/0.9">{urls}</urlset>',
        )
        entries.append(
            f"<sitemap><loc>{base}/sitemap-posts-{k}.xml</loc><lastmod>"
            f"{chunk[-1].date.isoformat()}</lastmod></sitemap>"
        )
    _write(
        root / "sitemap.xml",
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps'
        f'.org/schemas/sitemap/0.9">{"".join(entries)}</sitemapindex>',
    )
    _write(
        root / "robots.txt",
        f"User-agent: *\nDisallow: /search/\nSitemap: {base}/sitemap.xml\n",
    )
    return 4 + len(chunks)


def site_file(
    base_url: str,
    site_id: str = "ledger",
    *,
    download_delay: float | None = None,
    concurrency: int | None = None,
) -> str:
    """A site file for ``newsites``: the site found through its sitemaps and feed.

    Its host is named in ``home``, ``feeds`` and ``sitemaps``, which is how a private
    or loopback address is allowed (docs/safety.md, "Address policy")."""
    base = base_url.rstrip("/")
    host = base.split("://", 1)[1].split(":")[0]
    return (
        f'id = "{site_id}"\nname = "{SITE_NAME}"\nhome = "{base}/"\ndomains = '
        f'["{host}"]\n'
        'language = "en"\n\n[discovery]\n'
        f'feeds = ["{base}/feed.xml"]\nsitemaps = ["{base}/sitemap.xml"]\n'
        "robots_sitemaps = false\n\n[articles]\n"
        # Article URLs: /<section>/<yyyy>/<mm>/<dd>/<slug>.html
        r"allow = ['^https?://[^/]+/[a-z]+/\d{4}/\d{2}/\d{2}/[^/]+\.html$']"
        "\n" + _crawl_section(download_delay, concurrency)
    )


def _crawl_section(download_delay: float | None, concurrency: int | None) -> str:
    if download_delay is None and concurrency is None:
        return ""
    lines = ["\n[crawl]"]
    if download_delay is not None:
        lines.append(f"download_delay = {download_delay}")
    if concurrency is not None:
        lines.append(f"concurrency = {concurrency}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--pages",
        choices=("synthetic", "real"),
        default="synthetic",
        help="article pages generated (synthetic) or made from real page markup",
    )
    parser.add_argument(
        "--corpora", type=Path, help="(real) corpora folder; ../shared/corpora"
    )
    args = parser.parse_args()
    real = load_real_pages(args.corpora) if args.pages == "real" else None
    summary = generate_site(
        args.out, args.articles, args.base, seed=args.seed, real=real
    )
    print(f"{summary.pages} pages, {summary.articles} articles; {summary.size_line()}")


if __name__ == "__main__":
    main()
