"""Data-driven site cases: a real replayed crawl of the fixtures, checked per field.

Each ``fixtures/<site>/expected/<case>.json`` is reviewed by a person: the article's
exact paragraphs, title, date, description, comments, and clutter that must never
reach ``text``. One test per field, so one broken field does not hide the others.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawl import PROJECT_ROOT, CrawlResult, run_crawl

FIXTURES = PROJECT_ROOT / "fixtures"
CASES = sorted(FIXTURES.glob("*/expected/*.json"))
CASE_IDS = [f"{p.parent.parent.name}/{p.stem}" for p in CASES]


def expected(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    tmp = tmp_path_factory.mktemp("replay")
    result = run_crawl(tmp, settings={"FIXTURES_MODE": "replay"})
    assert result.returncode == 0, result.log[-4000:]
    return result


@pytest.fixture(scope="module")
def replay_with_comments(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    tmp = tmp_path_factory.mktemp("replay_comments")
    result = run_crawl(tmp, settings={"FIXTURES_MODE": "replay", "EXTRACT_COMMENTS": 1})
    assert result.returncode == 0, result.log[-4000:]
    return result


def item_for(result: CrawlResult, case: dict[str, Any]) -> dict[str, Any]:
    found = [i for i in result.items if i["url"] == case["url"]]
    urls = "\n  ".join(sorted(i["url"] for i in result.items))
    assert found, (
        f"no item for {case['url']}; the crawl wrote:\n  {urls}\n"
        "Check that an entry page (feed, sitemap, section) of the site links to it and "
        "that its fixture's url matches."
    )
    assert len(found) == 1, f"{case['url']} written {len(found)} times"
    return found[0]


def test_there_are_site_cases() -> None:
    assert len(CASES) >= 4, "fixtures/<site>/expected/*.json cases are missing"
    assert {p.parent.parent.name for p in CASES} >= {"indiadailydigital", "tribune"}
    assert COMMENT_CASES, "the tribune seed case must list its reader comments"


def test_every_article_written_once_with_contract_fields(replay: CrawlResult) -> None:
    urls = [i["url"] for i in replay.items]
    assert len(urls) == len(set(urls)), "an article was written twice"
    for item in replay.items:
        assert re.fullmatch(r"[0-9a-f]{16}", item["id"]), item["id"]
        for name in ("url", "site", "title", "text", "fetched_at"):
            assert item[name], f"{item['url']}: empty {name}"
        assert isinstance(item["authors"], list)
        assert "\n\n\n" not in item["text"]
        assert item["comments"] is None, "comments must be off by default"
    assert replay.stat("item_scraped_count") == len(replay.items)


@pytest.mark.parametrize("path", CASES, ids=CASE_IDS)
def test_text_is_exactly_the_body_paragraphs(replay: CrawlResult, path: Path) -> None:
    case = expected(path)
    item = item_for(replay, case)
    got = item["text"].split("\n\n")
    want = case["paragraphs"]
    missing = [p for p in want if p not in got]
    extra = [p for p in got if p not in want]
    assert got == want, f"missing paragraphs: {missing}\nextra paragraphs: {extra}"


@pytest.mark.parametrize("path", CASES, ids=CASE_IDS)
def test_no_clutter_in_text(replay: CrawlResult, path: Path) -> None:
    case = expected(path)
    text = item_for(replay, case)["text"]
    leaked = [s for s in case.get("must_not_contain", []) if s in text]
    assert not leaked, f"clutter in text: {leaked}"


@pytest.mark.parametrize("path", CASES, ids=CASE_IDS)
def test_title(replay: CrawlResult, path: Path) -> None:
    case = expected(path)
    assert item_for(replay, case)["title"] == case["title"]


@pytest.mark.parametrize("path", CASES, ids=CASE_IDS)
def test_date(replay: CrawlResult, path: Path) -> None:
    case = expected(path)
    date = item_for(replay, case)["date"] or ""
    assert date[:10] == case["date"], f"date {date!r}, want {case['date']}"


@pytest.mark.parametrize("path", CASES, ids=CASE_IDS)
def test_description(replay: CrawlResult, path: Path) -> None:
    case = expected(path)
    if "description" not in case:
        pytest.fail(f"{path}: add the reviewed 'description' (a string or null)")
    got = item_for(replay, case)["description"]
    if case["description"] is None:
        return  # pages without a dek may still carry a meta description
    assert got == case["description"]


@pytest.mark.parametrize("path", CASES, ids=CASE_IDS)
def test_language_and_site(replay: CrawlResult, path: Path) -> None:
    case = expected(path)
    item = item_for(replay, case)
    assert item["language"] == "en"
    assert item["site"] == path.parent.parent.name


COMMENT_CASES = [p for p in CASES if "comments" in expected(p)]


@pytest.mark.parametrize("path", COMMENT_CASES, ids=[p.stem for p in COMMENT_CASES])
def test_comments_when_switched_on(
    replay_with_comments: CrawlResult, path: Path
) -> None:
    case = expected(path)
    item = item_for(replay_with_comments, case)
    assert item["comments"] == case["comments"]
    for comment in case["comments"]:
        assert comment["text"] not in item["text"]
    assert item["text"].split("\n\n") == case["paragraphs"]
