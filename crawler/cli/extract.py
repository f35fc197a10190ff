"""``newsites extract``: the record of saved pages, by the spider's own extraction.

    newsites extract page.html [--url URL] [--site ID] [--format json|text]
    newsites extract a.html b.html.gz ...      # one JSON line per file, with its path
    curl -s URL | newsites extract - --url URL
    newsites extract --urls urls.txt           # fetch the listed pages (a crawl)

Each page goes through ``extract_page`` with the site's overrides (``--site``, or the
configured site whose domains hold the URL) and the project's extraction settings
(``EXTRACT_COMMENTS``, ``EXTRACT_MIN_WORDS``, ``-s NAME=VALUE`` to change them), and
becomes the same ``Article`` record the spider writes (``crawler.extraction.record``);
with ``TEMPLATE_DB`` set, the site's learned boilerplate is dropped too (the store is
only read).
Gzip input is read transparently. The page's URL is ``--url``, else the ``url`` of a
fixture's metadata file beside it (``page.json`` for ``page.html``), else the page's
canonical link.

``--urls FILE`` (``-``: standard input; one URL per line, ``#`` comments) fetches the
listed pages through a real crawl, ``scrapy crawl newsites -a urls=FILE`` with the
same politeness (robots.txt, delays) and safety rules, and prints one JSON line per
record (or their text); Scrapy's log goes to stderr at ``LOG_LEVEL=WARNING`` unless
``-s LOG_LEVEL=`` says otherwise.

Exit status: 0 when every page gave a record, 1 when a page could not be read or is
not an article (a message on stderr; with several files the others are still
printed, the failed one as ``{"path", "error", "detail"}``), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tempfile
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

from crawler.cli import project_settings
from crawler.config_check import check_settings
from crawler.extraction import ExtractionError, extract_page
from crawler.extraction.cleanup import count_words
from crawler.extraction.record import build_article
from crawler.extraction.template import (
    TemplateStore,
    TemplateStoreError,
    min_articles,
)
from crawler.sites import SiteConfig, SiteConfigError, load_sites
from crawler.urllist import is_http_url

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# A saved page larger than this (after gunzip) is refused: no news page is 50 MB.
MAX_PAGE_BYTES = 50 * 1024 * 1024


class InputError(Exception):
    """A page file that cannot be read (missing, unreadable, bad gzip, binary)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="print the record of saved pages (same extraction as the spider)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="saved page (.html, .html.gz), or - for standard input",
    )
    parser.add_argument(
        "--urls",
        default="",
        metavar="FILE",
        help="fetch the URLs listed in FILE (- for standard input) through the "
        "crawl and print their records",
    )
    parser.add_argument(
        "--url",
        default="",
        help="the page's URL (one file only); default: fixture "
        "metadata beside the file, else the page's canonical link",
    )
    parser.add_argument(
        "--site",
        default="",
        help="site id whose overrides apply; default: the site whose "
        "domains hold the URL",
    )
    parser.add_argument(
        "--format",
        choices=("json", "text"),
        default="json",
        help="json: the record; text: title, date and body",
    )
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting, e.g. -s EXTRACT_MIN_WORDS=0 or -s SITES_DIR=dir",
    )
    parser.set_defaults(func=run)


def read_page(name: str) -> bytes:
    """The page's bytes from a file or ``-`` (stdin), gunzipped when gzip."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_PAGE_BYTES + 1)
        else:
            with open(name, "rb") as handle:
                data = handle.read(MAX_PAGE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from exc
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_PAGE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"not a readable gzip file: {exc}") from exc
    if len(data) > MAX_PAGE_BYTES:
        raise InputError(f"larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB")
    if b"\x00" in data[:4096]:
        raise InputError("binary data, not an HTML page")
    return data


def fixture_url(name: str) -> str:
    """The ``url`` of the fixture metadata file beside a saved page, if any."""
    if name == "-":
        return ""
    path = Path(name)
    stem = path.name.removesuffix(".gz").removesuffix(".html").removesuffix(".htm")
    meta = path.with_name(stem + ".json")
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) else ""


def page_url(html: bytes) -> str:
    """The page's own canonical link or og:url (absolute only)."""
    from crawler.extraction.parsing import parse_html

    try:
        tree, _ = parse_html(html)
    except ExtractionError:
        return ""
    found = tree.xpath('//link[@rel="canonical"]/@href') or tree.xpath(
        '//meta[@property="og:url"]/@content'
    )
    url = found[0].strip() if found else ""
    return url if url.startswith(("http://", "https://")) else ""


def find_site(
    sites: dict[str, SiteConfig], site_id: str, url: str
) -> SiteConfig | None:
    """``--site``'s config, else the site that owns ``url``, else none."""
    if site_id:
        return sites[site_id]
    if url:
        for site in sites.values():
            if site.owns_url(url):
                return site
    return None


def seed_text(record: dict[str, Any]) -> str:
    """Title, blank line, date (empty when none), blank line, body paragraphs."""
    title = " ".join(str(record.get("title") or "").split())
    return f"{title}\n\n{record.get('date') or ''}\n\n{record.get('text') or ''}\n"


def extract_file(
    name: str, url: str, site_id: str, sites: dict[str, SiteConfig], settings: Any
) -> dict[str, Any]:
    """The record of one saved page as a dict (raises InputError / ExtractionError)."""
    html = read_page(name)
    url = url or fixture_url(name) or page_url(html)
    site = find_site(sites, site_id, url)
    min_words = settings.getint("EXTRACT_MIN_WORDS")
    if site is not None:
        min_words = max(min_words, site.articles.min_words)
    page = extract_page(
        html,
        url,
        site,
        include_comments=settings.getbool("EXTRACT_COMMENTS"),
        restore_dek=settings.getbool("EXTRACT_RESTORE_DEK"),
        min_words=min_words,
    )
    article = build_article(
        page,
        fetched_url=url,
        site_id=site.id if site else "",
        domains=site.domains if site else (),
    )
    record = asdict(article)
    if site is not None and settings.get("TEMPLATE_DB"):
        record = without_template(record, site.id, settings)
    return record


def without_template(
    record: dict[str, Any], site_id: str, settings: Any
) -> dict[str, Any]:
    """The record without the paragraphs the site-template store knows as boilerplate
    (read only: extracting a saved page teaches the store nothing)."""
    path = Path(settings.get("TEMPLATE_DB"))
    if not path.exists():
        return record
    try:
        store = TemplateStore(path, read_only=True)
    except TemplateStoreError as exc:
        print(f"newsites extract: site templates not applied: {exc}", file=sys.stderr)
        return record
    paragraphs = record["text"].split("\n\n")
    try:
        flags = store.boilerplate(site_id, paragraphs, min_articles(settings))
    finally:
        store.close()
    kept = [p for p, drop in zip(paragraphs, flags, strict=True) if not drop]
    if kept and len(kept) < len(paragraphs):
        record["text"] = "\n\n".join(kept)
        record["word_count"] = count_words(record["text"])
    return record


def run(args: argparse.Namespace) -> int:
    if bool(args.urls) == bool(args.files):
        print(
            "newsites extract: give saved page files, or --urls FILE, not both",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.urls and args.url:
        print(
            "newsites extract: --url names a saved page's URL; --urls lists the "
            "pages to fetch: give one of them",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.urls:
        return extract_urls(args)
    if args.url and not is_http_url(args.url):
        print(
            f"newsites extract: --url {args.url!r} is not an http(s) URL "
            "(e.g. https://news.example/2024/story)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.url and len(args.files) > 1:
        print(
            "newsites extract: --url names one page; give one file with it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.files.count("-") > 1:
        print("newsites extract: standard input (-) can be read once", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = project_settings(args.set)
        check_settings(settings)
        sites = load_sites(settings.get("SITES_DIR") or None)
    except (ValueError, SiteConfigError) as exc:
        print(f"newsites extract: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.site and args.site not in sites:
        known = ", ".join(sorted(sites)) or "none"
        print(
            f"newsites extract: unknown site {args.site!r} (known: {known})",
            file=sys.stderr,
        )
        return EXIT_USAGE

    several = len(args.files) > 1
    status = EXIT_OK
    out = sys.stdout
    for name in args.files:
        try:
            record = extract_file(name, args.url, args.site, sites, settings)
        except (InputError, ExtractionError) as exc:
            status = EXIT_FAILED
            if isinstance(exc, ExtractionError):
                reason, detail = exc.reason, exc.detail
                message = f"not an article ({exc})"
            else:
                reason, detail = "unreadable", str(exc)
                message = detail
            print(f"newsites extract: {name}: {message}", file=sys.stderr)
            if several and args.format == "json":
                error = {"path": name, "error": reason, "detail": detail}
                out.write(json.dumps(error, ensure_ascii=False) + "\n")
            continue
        if args.format == "text":
            if several:
                out.write(f"==> {name} <==\n")
            out.write(seed_text(record))
        elif several:
            out.write(json.dumps({"path": name, **record}, ensure_ascii=False) + "\n")
        else:
            out.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        out.flush()
    return status


def extract_urls(args: argparse.Namespace) -> int:
    """``--urls FILE``: crawl the listed pages, print their records; 0 when every
    listed URL gave one."""
    from crawler.urllist import UrlListError, check_url_list

    try:
        check_url_list(args.urls)
        settings = project_settings(args.set)
        load_sites(settings.get("SITES_DIR") or None)
    except (ValueError, SiteConfigError, UrlListError) as exc:
        print(f"newsites extract: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="newsites-extract-") as folder:
        output = Path(folder) / "records.jsonl"
        stats = crawl_urls(settings, args.urls, output)
        records = read_records(output)
    for record in records:
        if args.format == "text":
            sys.stdout.write(f"==> {record.get('url')} <==\n{seed_text(record)}")
        else:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    listed = int(stats.get("urls/listed", 0))
    if len(records) < listed or stats.get("urls/invalid") or stats.get("failed"):
        why = f"; the crawl failed: {stats['failed']}" if stats.get("failed") else ""
        print(
            f"newsites extract: {len(records)} record(s) from {listed} listed "
            f"URL(s){why}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON lines the crawl wrote (none when it wrote no file)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def crawl_urls(settings: Any, urls: str, output: Path) -> dict[str, Any]:
    """Run ``newsites`` with ``-a urls=`` in this process, records to ``output``;
    the crawl's final stats (``failed``: why it could not start)."""
    from scrapy.crawler import CrawlerProcess

    # quiet by default (records go to stdout); an explicit -s LOG_LEVEL still wins
    settings.set("LOG_LEVEL", "WARNING", priority="project")
    settings.set("FEEDS", {str(output): {"format": "jsonlines"}}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("newsites")
    failures: list[Any] = []
    process.crawl(crawler, urls=urls).addErrback(failures.append)
    process.start()
    stats: dict[str, Any] = dict(crawler.stats.get_stats()) if crawler.stats else {}
    if failures:
        stats["failed"] = str(failures[0].value)
    return stats
