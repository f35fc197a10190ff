"""crawler/extraction/pagetype.py: pages that are not articles.

The verdicts on whole pages (challenges, consent walls, error pages, paywalls) are
tested through ``extract_page`` in test_extractor.py; here, the listing test on a
body and the links of a page, with small bodies written for each case.
"""

from __future__ import annotations

from crawler.extraction.pagetype import is_teaser, looks_like_listing

# --- listing-like pages ---------------------------------------------------------

TEASERS = [f"Harbour council story number {i}" for i in range(8)]


def test_a_body_of_teasers_is_a_listing() -> None:
    body = [f"{t}: what it means for the town, in brief." for t in TEASERS]
    assert looks_like_listing(body, TEASERS)


def test_an_article_with_a_related_box_is_not_a_listing() -> None:
    body = [" ".join(["word"] * 60) for _ in range(6)]
    body += [f"Related: {t}" for t in TEASERS[:5]]
    assert not looks_like_listing(body, TEASERS)


def test_few_teasers_or_short_anchors_are_not_a_listing() -> None:
    assert not looks_like_listing([f"{t}." for t in TEASERS[:4]], TEASERS)
    body = ["Business news today."] * 10
    assert not looks_like_listing(body, ["Business"])  # one word: too common
    assert not looks_like_listing([], TEASERS)


def test_an_html_sitemap_of_urls_is_a_listing() -> None:
    urls = [f"https://x.example/news/{i}" for i in range(20)]
    body = [f"{u} 2024-05-{i % 28 + 1:02d}" for i, u in enumerate(urls)]
    assert looks_like_listing(body, urls)


def test_links_inside_sentences_are_not_teasers() -> None:
    # An article links topics, people and earlier stories in its own sentences;
    # with no `[articles] allow` every such same-site link counts as an article link.
    topics = ["the harbour council", "ferry timetable", "new budget plan"]
    body = [
        f"On Tuesday {t} was discussed again by residents who came to the hall "
        "to hear what the officials had decided about the coming winter months."
        for t in topics * 3
    ]
    assert not looks_like_listing(body, topics)


def test_a_teaser_is_its_link_text_or_opens_with_a_headline() -> None:
    headline = "harbour council approves the ferry budget"
    assert is_teaser(headline, {headline})
    assert is_teaser(f"{headline}: what it means for the town", {headline})
    late = f"residents say {headline} too late for the meeting on tuesday"
    assert not is_teaser(late, {headline})
    assert not is_teaser("kate said the council met on tuesday", {"kate said"})
