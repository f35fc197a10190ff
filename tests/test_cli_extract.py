"""``newsites extract``: the installed console script, run in a subprocess on pages
written here (files, gzip, standard input), with and without a site file."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.extraction.template import line_hash
from tests.support.crawl import PROJECT_ROOT
from tests.support.server import Page, SiteServer
from tests.test_extractor import DEK, PARAGRAPHS, URL, dek_page, page_html

NEWSITES = Path(sys.executable).with_name("newsites")

SITE_FILE = """id = "citypaper"
name = "City Paper"
home = "https://news.example.org/"
domains = ["news.example.org"]
language = "en"

[extraction]
clutter_phrases = ["Download the City Paper app"]
"""


def run(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    assert NEWSITES.exists(), f"{NEWSITES} missing: pip install -e . in the venv"
    return subprocess.run(
        [str(NEWSITES), "extract", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.html"
    head = (
        '<meta property="article:published_time" content="2024-11-29T10:05:00+01:00">'
        f'<link rel="canonical" href="{URL}">'
    )
    path.write_bytes(page_html(head=head))
    return path


def test_one_file_prints_the_record(article: Path) -> None:
    result = run(str(article))
    assert result.returncode == 0, result.stderr.decode()
    record = json.loads(result.stdout)
    assert record["url"] == URL
    assert record["title"] == "Council approves harbour bridge"
    assert record["text"].split("\n\n") == PARAGRAPHS
    assert record["date"] == "2024-11-29T10:05:00+01:00"
    assert record["site"] == ""
    for field in (
        "id",
        "authors",
        "description",
        "language",
        "fetched_at",
        "date_raw",
        "date_modified",
        "tags",
        "images",
        "comments",
        "source_url",
        "paywalled",
        "word_count",
    ):
        assert field in record, f"record lacks {field}"


def test_several_files_one_line_each_in_order_with_gzip(
    tmp_path: Path, article: Path
) -> None:
    zipped = tmp_path / "other.html.gz"
    zipped.write_bytes(
        gzip.compress(page_html(title="Tram line extended to the harbour"))
    )
    result = run(str(zipped), str(article), "-s", "EXTRACT_MIN_WORDS=0")
    assert result.returncode == 0, result.stderr.decode()
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["path"] for r in lines] == [str(zipped), str(article)]
    assert lines[0]["title"] == "Tram line extended to the harbour"
    assert lines[1]["url"] == URL


def test_standard_input_with_url(article: Path) -> None:
    result = run("-", "--url", "https://news.example.org/other", stdin=page_html())
    assert result.returncode == 0, result.stderr.decode()
    record = json.loads(result.stdout)
    assert record["source_url"] == "https://news.example.org/other"
    assert record["text"].split("\n\n") == PARAGRAPHS


def test_text_format_is_title_date_body(article: Path) -> None:
    result = run(str(article), "--format", "text")
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert text == (
        "Council approves harbour bridge\n\n2024-11-29T10:05:00+01:00\n\n"
        + "\n\n".join(PARAGRAPHS)
        + "\n"
    )


def test_site_overrides_apply_when_the_url_is_a_configured_site(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "citypaper.toml").write_text(SITE_FILE, encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_bytes(
        page_html(
            paragraphs=[
                *PARAGRAPHS,
                "Download the City Paper app for news, weather and sport on the go.",
            ]
        )
    )
    plain = run(str(page), "--url", URL)
    assert "Download the City Paper app" in json.loads(plain.stdout)["text"]
    with_site = run(str(page), "--url", URL, "-s", f"SITES_DIR={sites}")
    assert with_site.returncode == 0, with_site.stderr.decode()
    record = json.loads(with_site.stdout)
    assert record["site"] == "citypaper"
    assert record["text"].split("\n\n") == PARAGRAPHS
    named = run(str(page), "--site", "citypaper", "-s", f"SITES_DIR={sites}")
    assert json.loads(named.stdout)["site"] == "citypaper"


def test_fixture_metadata_gives_the_url(tmp_path: Path) -> None:
    page = tmp_path / "story.html"
    page.write_bytes(page_html())
    (tmp_path / "story.json").write_text(json.dumps({"url": URL, "status": 200}))
    record = json.loads(run(str(page)).stdout)
    assert record["source_url"] == URL


def test_unreadable_input_fails_clearly(tmp_path: Path, article: Path) -> None:
    missing = tmp_path / "missing.html"
    result = run(str(missing))
    assert result.returncode == 1
    assert b"missing.html: cannot read" in result.stderr
    assert result.stdout == b""

    bad_gzip = tmp_path / "bad.html.gz"
    bad_gzip.write_bytes(b"\x1f\x8b\x08\x00broken")
    result = run(str(bad_gzip), str(article))
    assert result.returncode == 1
    assert b"bad.html.gz: not a readable gzip file" in result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert lines[0] == {
        "path": str(bad_gzip),
        "error": "unreadable",
        "detail": lines[0]["detail"],
    }
    assert lines[1]["path"] == str(article) and lines[1]["text"]

    binary = tmp_path / "image.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run(str(binary))
    assert result.returncode == 1
    assert b"binary data" in result.stderr


def test_not_an_article_fails_with_the_reason(tmp_path: Path) -> None:
    page = tmp_path / "challenge.html"
    page.write_bytes(
        b"<html><head><title>Just a moment...</title></head><body>"
        b"<form id='challenge-form'></form></body></html>"
    )
    result = run(str(page))
    assert result.returncode == 1
    assert b"challenge.html: not an article (bot_challenge" in result.stderr


def test_usage_errors(article: Path) -> None:
    result = run(str(article), str(article), "--url", URL)
    assert result.returncode == 2
    assert b"--url names one page" in result.stderr
    result = run(str(article), "--site", "nosuchsite")
    assert result.returncode == 2
    assert b"unknown site 'nosuchsite'" in result.stderr
    result = run(str(article), "-s", "EXTRACT_MIN_WORDS=abc")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "newsites extract: setting EXTRACT_MIN_WORDS must be a whole number, not 'abc'"
    ]


@pytest.mark.parametrize(
    "url", ["notaurl", "news.example.org/story", "ftp://news.example.org/a", "https://"]
)
def test_a_url_that_is_not_http_is_refused_in_one_line(article: Path, url: str) -> None:
    result = run(str(article), "--url", url)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"newsites extract: --url {url!r} is not an http(s) URL "
        "(e.g. https://news.example/2024/story)"
    ]
    assert result.stdout == b""


FIXTURES = PROJECT_ROOT / "fixtures"


def fixture_pages() -> list[tuple[Path, dict[str, object]]]:
    """(saved page, reviewed expectation) of every seed case."""
    pages = []
    for expected in sorted(FIXTURES.glob("*/expected/*.json")):
        case = json.loads(expected.read_text(encoding="utf-8"))
        for meta in sorted((expected.parent.parent / "articles").glob("*.json")):
            saved = json.loads(meta.read_text(encoding="utf-8"))
            if saved.get("url") == case["url"]:
                pages.append((meta.with_name(saved["body"]), case))
    return pages


def test_seed_pages_give_the_spiders_paragraphs() -> None:
    pages = fixture_pages()
    assert len(pages) >= 4, "seed fixtures missing"
    result = run(*(str(page) for page, _ in pages))
    assert result.returncode == 0, result.stderr.decode()
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    for record, (page, case) in zip(records, pages, strict=True):
        assert record["path"] == str(page)
        assert record["url"] == case["url"]
        assert record["site"] == page.parent.parent.name
        assert record["text"].split("\n\n") == case["paragraphs"], page.name
        assert record["title"] == case["title"]


def test_learned_site_template_is_applied_read_only(tmp_path: Path) -> None:
    from crawler.extraction.template import TemplateStore

    promo = "Get City Paper in your inbox every morning with our free newsletter today."
    db = tmp_path / "templates.sqlite3"
    store = TemplateStore(db)
    for n in range(5):
        store.record("citypaper", f"earlier-{n}", [promo])
    store.close()
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "citypaper.toml").write_text(SITE_FILE, encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_bytes(page_html(paragraphs=[*PARAGRAPHS, promo]))
    result = run(
        str(page), "--url", URL, "-s", f"SITES_DIR={sites}", "-s", f"TEMPLATE_DB={db}"
    )
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["text"].split("\n\n") == PARAGRAPHS
    again = TemplateStore(db, read_only=True)
    assert again.counts("citypaper", [promo]) == {line_hash(promo): 5}, "store written"
    again.close()


# --- --urls: fetch the listed pages through the crawl ---------------------------


def served_article(title: str) -> str:
    body = "".join(
        f"<p>{title}, part {i}: the council met on Tuesday and residents asked for a "
        "written answer about the ferry timetable before the winter begins.</p>"
        for i in range(4)
    )
    return (
        f"<html lang='en'><head><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )


def test_urls_fetches_the_listed_pages_through_the_crawl(tmp_path: Path) -> None:
    pages = {
        "/robots.txt": Page(
            "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
        ),
        "/a": Page(served_article("Harbour plan approved")),
        "/private/b": Page(served_article("Not to be fetched")),
    }
    with SiteServer(pages) as server:
        listing = tmp_path / "urls.txt"
        base = f"http://localhost:{server.port}"
        listing.write_text(f"# pages\n{base}/a\n{base}/private/b\n")
        allow = "SAFETY_ALLOW_PRIVATE_HOSTS=localhost"
        result = run("--urls", str(listing), "-s", allow, "-s", "DOWNLOAD_DELAY=0",
                     cwd=PROJECT_ROOT)  # fmt: skip
        fetched_private = server.requested("/private/b")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["title"] for r in records] == ["Harbour plan approved"]
    assert records[0]["url"] == f"{base}/a"
    assert fetched_private == 0  # robots.txt obeyed
    assert result.returncode == 1  # one listed URL gave no record
    assert b"1 record(s) from 2 listed URL(s)" in result.stderr


def test_urls_keeps_the_private_address_block(tmp_path: Path) -> None:
    with SiteServer({"/a": Page(served_article("Harbour plan"))}) as server:
        listing = tmp_path / "urls.txt"
        listing.write_text(f"{server.url}/a\n")
        result = run("--urls", str(listing), cwd=PROJECT_ROOT)
        assert server.requested("/a") == 0
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"a non-public address" in result.stderr


def test_urls_usage_errors(tmp_path: Path, article: Path) -> None:
    result = run("--urls", str(tmp_path / "missing.txt"))
    assert result.returncode == 2
    assert b"missing.txt: cannot read" in result.stderr
    result = run(str(article), "--urls", str(article))
    assert result.returncode == 2
    assert b"not both" in result.stderr
    result = run("--urls", str(article), "--url", URL)
    assert result.returncode == 2
    assert b"give one of them" in result.stderr


def test_the_dek_setting_reaches_extraction(tmp_path: Path) -> None:
    """``EXTRACT_RESTORE_DEK`` (on by default) decides whether the dek the page shows
    apart from the body opens ``text``; ``description`` holds it either way."""
    page = tmp_path / "bridge.html"
    page.write_bytes(dek_page(f'<h2 class="standfirst">{DEK}</h2>'))
    records = {}
    for value in ("True", "False"):
        result = run(str(page), "--url", URL, "-s", f"EXTRACT_RESTORE_DEK={value}")
        assert result.returncode == 0, result.stderr.decode()
        records[value] = json.loads(result.stdout)
    assert records["True"]["text"].split("\n\n") == [DEK, *PARAGRAPHS]
    assert records["False"]["text"].split("\n\n") == PARAGRAPHS
    assert records["True"]["description"] == records["False"]["description"] == DEK
