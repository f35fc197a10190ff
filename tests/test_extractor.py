"""``extract_page``: one test per field, non-article pages, paywall teasers.

Pages are written here, small and synthetic: each shows one thing a real page does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from crawler.extraction import ExtractedPage, ExtractionError, extract_page
from crawler.extraction.metadata import split_authors
from crawler.extraction.record import build_article, canonical_url
from crawler.items import article_id

URL = "https://news.example.org/2024/11/29/harbour-bridge"

PARAGRAPHS = [
    "The city council approved the new harbour bridge on Friday after a debate that "
    "lasted most of the night and ended with a vote of seven to two.",
    "Construction is expected to start in the spring and to last about two years, "
    "according to the city's transport office, which will run the project.",
    "Residents of the old town said they welcomed the decision but worried about "
    "the noise and the traffic that the building site would bring to their streets.",
    "The mayor said the bridge would carry trams as well as cars and bicycles, and "
    "that the first trams could cross it before the end of the decade.",
]


def page_html(
    *,
    head: str = "",
    body_top: str = "",
    body_end: str = "",
    lang: str = "en",
    paragraphs: list[str] | None = None,
    title: str = "Council approves harbour bridge",
) -> bytes:
    paras = "\n".join(f"<p>{p}</p>" for p in (paragraphs or PARAGRAPHS))
    lang_attr = f' lang="{lang}"' if lang else ""
    return f"""<!DOCTYPE html><html{lang_attr}><head><meta charset="utf-8">
<title>{title} | City Paper</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="City Paper">
{head}
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<main><article>
<h1>{title}</h1>
{body_top}
<div class="article-body">{paras}</div>
{body_end}
</article></main>
<footer><p>© City Paper. All rights reserved.</p></footer>
</body></html>""".encode()


def extract(html: bytes, **kwargs: Any) -> ExtractedPage:
    return extract_page(html, URL, None, **kwargs)


# --- body and title -------------------------------------------------------------------


def test_fields_are_final_when_extracted() -> None:
    """What the record writes needs no second normalization downstream: an empty
    description is None, the title is NFC, the text one blank line apart."""
    head = '<meta property="og:description" content="\u200b">'
    title = "Cafe\u200b\u0301 council approves bridge"
    page = extract(page_html(head=head, title=title))
    assert page.description is None
    assert page.title == "Caf\u00e9 council approves bridge"
    assert "\n\n\n" not in page.text and page.text == "\n\n".join(page.paragraphs)


def test_body_is_exactly_the_paragraphs() -> None:
    page = extract(page_html())
    assert page.paragraphs == PARAGRAPHS
    assert page.text == "\n\n".join(PARAGRAPHS)


def test_title_without_site_suffix() -> None:
    assert extract(page_html()).title == "Council approves harbour bridge"


# --- the dek --------------------------------------------------------------------------

DEK = "Seven councillors voted for the bridge after a night of debate on its cost."


def dek_page(shown: str, *, body: list[str] | None = None) -> bytes:
    """An article whose description is the dek; ``shown`` is how the page shows it,
    in a header apart from the ``<article>`` that holds the body."""
    paras = "".join(f"<p>{p}</p>" for p in (body or PARAGRAPHS))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council approves harbour bridge | City Paper</title>
<meta property="og:title" content="Council approves harbour bridge">
<meta property="og:description" content="{DEK}">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<header><h1>Council approves harbour bridge</h1>{shown}</header>
<article>{paras}</article>
<footer><p>City Paper</p></footer>
</body></html>""".encode()


def test_a_dek_shown_apart_from_the_body_is_put_back_first() -> None:
    """trafilatura leaves out a standfirst outside the article's container; the
    reference texts count it as body, so it opens ``text`` (and stays in
    ``description``), counted as ``dek_restored``."""
    page = extract(dek_page(f'<h2 class="standfirst">{DEK}</h2>'))
    assert page.paragraphs == [DEK, *PARAGRAPHS]
    assert page.description == DEK
    assert page.cleanup.get("dek_restored") == 1


def test_the_dek_stays_out_with_restore_dek_off() -> None:
    page = extract(dek_page(f'<p class="dek">{DEK}</p>'), restore_dek=False)
    assert page.paragraphs == PARAGRAPHS
    assert page.description == DEK
    assert "dek_restored" not in page.cleanup


@pytest.mark.parametrize(
    "shown",
    [
        pytest.param("", id="not-shown"),
        pytest.param(f'<p class="dek"><a href="/other">{DEK}</a></p>', id="a-link"),
        pytest.param(f"<aside><p>{DEK}</p></aside>", id="a-sidebar"),
        pytest.param(
            f'<figure><img src="/a.jpg"><figcaption>{DEK}</figcaption></figure>',
            id="a-caption",
        ),
        pytest.param(
            '<p class="dek">Bridge news, harbour news and the rest</p>', id="other-text"
        ),
    ],
)
def test_a_description_the_page_does_not_show_as_its_dek_is_not_put_back(
    shown: str,
) -> None:
    page = extract(dek_page(shown))
    assert page.paragraphs == PARAGRAPHS
    assert "dek_restored" not in page.cleanup


def test_a_dek_the_body_already_holds_is_not_repeated() -> None:
    """The body holds the dek with a comma and a dash the description lacks: still
    the same words, so it is not put back a second time."""
    held = DEK.replace(" after", ", after").replace(" on its", " \u2013 on its")
    shown = f'<h2 class="standfirst">{DEK}</h2>'
    page = extract(dek_page(shown, body=[held, *PARAGRAPHS]))
    assert page.paragraphs[1:] == PARAGRAPHS
    assert len(page.paragraphs) == len(PARAGRAPHS) + 1
    assert "dek_restored" not in page.cleanup


def test_a_description_that_is_no_sentence_is_not_put_back() -> None:
    """A site's tag line is often both the description and shown on the page."""
    tagline = "City Paper: news from the harbour town"
    html = dek_page(f'<p class="tagline">{tagline}</p>').replace(
        DEK.encode(), tagline.encode()
    )
    page = extract(html)
    assert page.paragraphs == PARAGRAPHS


# --- dates ----------------------------------------------------------------------------


def test_date_keeps_time_and_zone() -> None:
    head = (
        '<meta property="article:published_time" content="2024-11-29T10:05:00+05:00">'
        '<meta property="article:modified_time" content="2024-11-30T08:00:00Z">'
    )
    page = extract(page_html(head=head))
    assert page.date == "2024-11-29T10:05:00+05:00"
    assert page.date_raw == "2024-11-29T10:05:00+05:00"
    assert page.date_modified == "2024-11-30T08:00:00+00:00"


def test_date_from_json_ld_prefers_the_one_with_a_time() -> None:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "datePublished": "2024-11-29T10:05:00-08:00",
        "dateModified": "2024-11-29",
    }
    head = (
        '<meta name="date" content="2024-11-29">'
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    )
    page = extract(page_html(head=head))
    assert page.date == "2024-11-29T10:05:00-08:00"
    assert page.date_modified == "2024-11-29"


def test_placeholder_date_is_not_a_date() -> None:
    head = (
        '<meta property="article:published_time" content="0001-01-01T00:00:00Z">'
        '<meta name="pubdate" content="2024-11-29">'
    )
    assert extract(page_html(head=head)).date == "2024-11-29"


def test_human_date_from_the_page() -> None:
    body = '<p class="meta"><time datetime="2024-11-29">29 November 2024</time></p>'
    page = extract(page_html(body_top=body))
    assert page.date == "2024-11-29"


# --- authors, language, tags ----------------------------------------------------------


def test_authors_from_a_byline_meta_tag_as_a_clean_list() -> None:
    head = '<meta name="author" content="By Ana Lima and Tom Berg">'
    assert extract(page_html(head=head)).authors == ["Ana Lima", "Tom Berg"]


def test_authors_from_json_ld() -> None:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "author": [
            {"@type": "Person", "name": "Ana Lima"},
            {"@type": "Person", "name": "Tom Berg"},
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    assert extract(page_html(head=head)).authors == ["Ana Lima", "Tom Berg"]


def test_author_from_byline_markup_not_from_comments() -> None:
    body_top = '<p class="byline">By <span class="author">Ana Lima</span></p>'
    body_end = (
        '<ol class="comment-list"><li class="comment">'
        '<span class="comment-author">Reader Joe</span> Nice.</li></ol>'
    )
    page = extract(page_html(body_top=body_top, body_end=body_end))
    assert page.authors == ["Ana Lima"]


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("By Ana Lima, MS, RDN", ["Ana Lima"]),
        ("ANA LIMA and TOM BERG", ["Ana Lima", "Tom Berg"]),
        ("Ana Lima, City Paper", ["Ana Lima"]),
        ("Ana Lima | Staff Writer", ["Ana Lima"]),
        ("news@example.org", []),
        ("AFP", ["AFP"]),
    ],
)
def test_split_authors(raw: str, names: list[str]) -> None:
    assert split_authors(raw, "City Paper") == names


def test_language_declared_by_the_page() -> None:
    assert extract(page_html(lang="en-GB")).language == "en"


def test_language_detected_when_undeclared() -> None:
    german = [
        "Der Stadtrat hat am Freitag nach einer langen Debatte den Bau der neuen "
        "Hafenbrücke beschlossen, die Abstimmung endete mit sieben zu zwei "
        "Stimmen.",
        "Die Bauarbeiten sollen im Frühjahr beginnen und etwa zwei Jahre dauern, "
        "teilte das Verkehrsamt der Stadt mit, das die Arbeiten leiten wird.",
    ]
    page = extract(page_html(lang="", paragraphs=german))
    assert page.language == "de"


def test_tags_from_meta_and_json_ld() -> None:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "keywords": ["harbour", "transport"],
    }
    head = (
        '<meta property="article:tag" content="bridge">'
        '<meta name="keywords" content="bridge, council">'
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    )
    assert extract(page_html(head=head)).tags == [
        "bridge",
        "council",
        "harbour",
        "transport",
    ]


# --- images ---------------------------------------------------------------------------


def test_images_with_caption_and_the_caption_never_in_text() -> None:
    caption = "The harbour at dusk, seen from the old town. Photo: City Paper"
    figure = (
        f'<figure><img src="/img/blank.gif" data-src="/img/harbour.jpg" alt="">'
        f"<figcaption>{caption}</figcaption></figure>"
    )
    page = extract(page_html(body_top=figure))
    assert page.images == [
        {"url": "https://news.example.org/img/harbour.jpg", "caption": caption}
    ]
    assert caption not in page.text
    assert page.paragraphs == PARAGRAPHS


def test_og_image_when_no_figure() -> None:
    head = '<meta property="og:image" content="https://cdn.example.org/lead.jpg">'
    assert extract(page_html(head=head)).images == [
        {"url": "https://cdn.example.org/lead.jpg", "caption": None}
    ]


# --- comments -------------------------------------------------------------------------

COMMENTS = """<section id="comments"><ol class="comment-list">
<li class="comment"><span class="comment-author">Reader Joe</span>
<span class="comment-date">Nov 29, 2024</span>
<div class="comment-content"><p>About time this bridge got built.</p></div></li>
</ol></section>"""


def test_comments_only_when_asked_and_never_in_text() -> None:
    off = extract(page_html(body_end=COMMENTS))
    assert off.comments is None
    on = extract(page_html(body_end=COMMENTS), include_comments=True)
    assert on.comments == [
        {
            "author": "Reader Joe",
            "date": "2024-11-29",
            "date_raw": "Nov 29, 2024",
            "text": "About time this bridge got built.",
        }
    ]
    assert "About time" not in on.text


# --- the site file's selectors --------------------------------------------------------


def _site_with(**selectors: Any) -> Any:
    from crawler.sites import ExtractionConfig, SiteConfig

    return SiteConfig(
        id="paper",
        name="City Paper",
        home="https://news.example.org/",
        domains=("news.example.org",),
        path="paper.toml",
        extraction=ExtractionConfig(**selectors),
    )


SELECTED = page_html(
    head='<meta name="pubdate" content="  2024-11-29T08:00:00Z ">',
    body_top=(
        '<p class="kicker"> </p><p class="kicker">  Harbour\n  news </p>'
        '<span class="by">Ada  Lovelace</span><span class="by">Grace\nHopper</span>'
        '<p class="standfirst">The bridge  vote,\n in brief.</p>'
    ),
)


def test_a_site_title_selector_takes_its_first_non_empty_match_spaced() -> None:
    page = extract_page(SELECTED, URL, _site_with(title="p.kicker"))
    assert page.title == "Harbour news", "first non-empty match, whitespace collapsed"


def test_a_site_attribute_selector_reads_the_attribute() -> None:
    site = _site_with(date="//meta[@name='pubdate']/@content")
    page = extract_page(SELECTED, URL, site)
    assert page.date_raw == "2024-11-29T08:00:00Z"
    assert page.date == "2024-11-29T08:00:00+00:00"


def test_a_site_authors_selector_keeps_every_match() -> None:
    page = extract_page(SELECTED, URL, _site_with(authors="span.by"))
    assert page.authors == ["Ada Lovelace", "Grace Hopper"]


def test_a_site_description_selector_wins_over_the_meta_tags() -> None:
    page = extract_page(SELECTED, URL, _site_with(description=".standfirst"))
    assert page.description == "The bridge vote, in brief."


def test_a_site_body_selector_gives_the_paragraphs() -> None:
    page = extract_page(SELECTED, URL, _site_with(body="div.article-body > p"))
    assert page.paragraphs == PARAGRAPHS
    assert page.body_source == "site"


def test_a_site_selector_that_finds_nothing_leaves_the_field_to_the_page() -> None:
    page = extract_page(
        SELECTED, URL, _site_with(title="h6.none", authors="b.none", body="i.none")
    )
    assert page.title == "Council approves harbour bridge"
    assert page.body_source != "site"
    assert all(p in page.paragraphs for p in PARAGRAPHS), page.paragraphs


# A template the site file was not written for (AMP, legacy, a redesign): the same
# selectors match something else there. Written for a page whose dek sits in
# ``p.standfirst``, whose headline is ``h1.headline`` and whose date is in ``time``.
OTHER_TEMPLATE = page_html(
    head='<meta property="article:published_time" content="2024-11-29T08:00:00Z">',
    body_top=(
        '<div class="story-head"><p class="standfirst">The bridge vote, in brief: '
        "seven to two.</p><time>Updated</time></div>"
    ),
)


def test_a_site_body_selector_that_matches_only_the_dek_gives_way() -> None:
    """On this template the body selector matches the dek alone: the generic body is
    four times longer, so it is the page's body and the selector is counted as
    rejected; the site's body stays when it is the longer one."""
    site = _site_with(body="div.story-head p")
    page = extract_page(OTHER_TEMPLATE, URL, site)
    assert page.paragraphs[-len(PARAGRAPHS) :] == PARAGRAPHS, page.paragraphs
    assert page.body_source != "site"
    assert page.rejected_selectors == ["body"]

    fitting = extract_page(OTHER_TEMPLATE, URL, _site_with(body="div.article-body p"))
    assert fitting.body_source == "site" and fitting.paragraphs == PARAGRAPHS
    assert fitting.rejected_selectors == []


def test_a_short_site_body_stays_when_the_page_has_no_longer_one() -> None:
    """A short article is short on every template: the generic body must be clearly
    longer before the site's selector is overruled."""
    brief = ["Bridge approved by the council on Friday night, seven votes to two."]
    html = page_html(paragraphs=brief)
    page = extract_page(html, URL, _site_with(body="div.article-body p"))
    assert page.body_source == "site" and page.paragraphs == brief
    assert page.rejected_selectors == []


def test_a_site_title_selector_that_matches_a_container_gives_way() -> None:
    page = extract_page(OTHER_TEMPLATE, URL, _site_with(title="article"))
    assert page.title == "Council approves harbour bridge"
    assert page.rejected_selectors == ["title"]


def test_a_site_date_selector_that_matches_no_date_gives_way() -> None:
    page = extract_page(OTHER_TEMPLATE, URL, _site_with(date="div.story-head time"))
    assert page.date == "2024-11-29T08:00:00+00:00"
    assert page.rejected_selectors == ["date"]


# --- pages that are not articles ------------------------------------------------------

CLOUDFLARE = b"""<!DOCTYPE html><html lang="en-US"><head>
<title>Just a moment...</title></head><body><div class="main-wrapper">
<h1>news.example.org</h1>
<h2>Checking if the site connection is secure</h2>
<form id="challenge-form" action="/?__cf_chl_f_tk=abc" method="POST"></form>
<noscript>Enable JavaScript and cookies to continue</noscript>
</div></body></html>"""

CONSENT = b"""<!DOCTYPE html><html lang="en"><head>
<title>Before you continue</title></head>
<body><div class="consent"><h1>We value your privacy</h1>
<p>We and our partners store and/or access information on a device,
such as cookies, and process personal data for personalised ads and content.</p>
<form action="https://consent.example.org/save" method="post">
<button>Accept all</button><button>Reject all</button><button>Manage options</button>
</form></div></body></html>"""

NOT_FOUND = b"""<!DOCTYPE html><html lang="en"><head>
<title>Page not found | City Paper</title></head><body>
<nav><a href="/">Home</a></nav><main><h1>Sorry, that page can't be found</h1>
<p>The page you were looking for could not be found. It may have been moved.</p>
<p><a href="/">Go to the home page</a></p></main></body></html>"""

JS_SHELL = b"""<!DOCTYPE html><html><head><title>City Paper</title></head><body>
<noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>
<script src="/app.js"></script></body></html>"""


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (CLOUDFLARE, "bot_challenge"),
        (CONSENT, "consent_wall"),
        (NOT_FOUND, "error_page"),
        (b"", "empty"),
        (b"   \n", "empty"),
    ],
)
def test_non_article_pages_raise_with_a_reason(html: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError) as excinfo:
        extract(html)
    assert excinfo.value.reason == reason


def test_javascript_shell_is_not_an_article() -> None:
    with pytest.raises(ExtractionError) as excinfo:
        extract(JS_SHELL)
    assert excinfo.value.reason == "js_required"


def test_article_mentioning_cookies_and_404_is_still_an_article() -> None:
    paragraphs = [
        *PARAGRAPHS,
        "The council's website showed a 404 error page for most of the day, "
        "and a banner asked visitors to accept all cookies before reading.",
    ]
    page = extract(
        page_html(paragraphs=paragraphs, title="Error 404: council site down")
    )
    assert page.paragraphs == paragraphs


# A page served through a protection service: its challenge script is in the page,
# and so is the article (class 9: judged by what it lacks, too).
MORE_PARAGRAPHS = [
    "Opponents of the bridge had argued for years that a tunnel would be cheaper to "
    "run and would keep the view of the harbour open for the people on its shore.",
    "The transport office will publish the timetable of the works next month, with "
    "the detours that buses and delivery vans will take while the bridge is built.",
]
CHALLENGE_SCRIPT = (
    '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script>'
)


def test_article_behind_challenge_markup_is_still_an_article() -> None:
    paragraphs = [*PARAGRAPHS, *MORE_PARAGRAPHS]
    page = extract(page_html(head=CHALLENGE_SCRIPT, paragraphs=paragraphs))
    assert page.paragraphs == paragraphs


def test_challenge_markup_without_article_text_is_a_challenge() -> None:
    html = page_html(head=CHALLENGE_SCRIPT, paragraphs=["Checking your browser."])
    with pytest.raises(ExtractionError) as excinfo:
        extract(html)
    assert excinfo.value.reason == "bot_challenge"


# Written without spaces between words: its length is counted in characters (class 1).
JAPANESE = [
    "市議会は金曜日、港に新しい橋を架ける計画を賛成多数で承認した。"
    "議論は夜遅くまで続き、最後は七対二の採決となった。",
    "工事は春に始まり、およそ二年かかる見通しだと市の交通局は説明している。"
    "旧市街の住民は決定を歓迎しつつも、工事の騒音や交通への影響を心配している。",
    "市長は、新しい橋には車や自転車だけでなく路面電車も通る予定で、"
    "最初の路面電車はこの十年のうちに橋を渡ることになると述べた。",
    "反対派は長年、トンネルの方が維持費が安く、港の眺めも守られると主張してきた。"
    "交通局は来月、工事の日程と迂回路を発表する予定だ。",
]


def test_japanese_article_passes_the_length_floor_and_counts_its_words() -> None:
    page = extract(
        page_html(lang="ja", paragraphs=JAPANESE, title="港の新しい橋、市議会が承認"),
        min_words=40,
    )
    assert page.paragraphs == JAPANESE
    article = build_article(page, fetched_url=URL)
    characters = sum(len(p) - p.count("、") - p.count("。") for p in JAPANESE)
    assert article.word_count == pytest.approx(characters / 2, abs=2)


# Readers' comments in plain paragraphs inside the article's container (as AMP pages
# have them): nothing says "comment" but the heading (class 5).
PLAIN_COMMENTS = [
    "3 Comments",
    "harbourfan, 2 hours ago: About time this bridge got built, we waited long enough.",
    "oldtowner, 1 hour ago: The noise will be terrible for those near the harbour.",
    "cyclist22, 5 minutes ago: I hope the bike lanes on the bridge are wide enough.",
]


def test_comments_in_plain_markup_after_a_comments_heading_are_not_text() -> None:
    page = extract(page_html(paragraphs=[*PARAGRAPHS, *PLAIN_COMMENTS]))
    assert page.paragraphs == PARAGRAPHS
    assert "About time" not in page.text


def test_a_comments_heading_in_the_first_half_is_left_alone() -> None:
    paragraphs = [PARAGRAPHS[0], "Comments", *PARAGRAPHS[1:]]
    assert extract(page_html(paragraphs=paragraphs)).paragraphs == paragraphs


# A "related articles" list at the end of the article's text, in plain markup: its
# links go as link lines, its heading is no link and used to stay behind as the
# body's last line.
RELATED_LIST = [
    "<strong>You may also like:</strong>",
    '<p><a href="/2024/11/28/ferry">Ferry timetable changes for the winter</a></p>',
    '<p><a href="/2024/11/27/tram">Tram line four closes for two weeks</a></p>',
]


def test_the_heading_of_a_related_links_list_is_not_text() -> None:
    page = extract(page_html(paragraphs=[*PARAGRAPHS, *RELATED_LIST]))
    assert page.paragraphs == PARAGRAPHS


# A tag list in plain markup: a label and the tags, one line of them.
TAG_LIST = ["Tags", "harbour bridge, city council, trams, old town"]


def test_a_tag_list_is_not_text() -> None:
    page = extract(page_html(paragraphs=[*PARAGRAPHS, *TAG_LIST]))
    assert page.paragraphs == PARAGRAPHS


def test_a_newsletter_prompt_closing_the_article_is_not_text() -> None:
    prompt = "Never miss a story: sign up for the City Paper newsletter."
    page = extract(page_html(paragraphs=[*PARAGRAPHS, prompt]))
    assert page.paragraphs == PARAGRAPHS


# The page's date line and byline printed as paragraphs of the body, and the
# writer's e-mail closing it: the record has them as ``date`` and ``authors``.
def test_the_pages_date_line_byline_and_contact_are_not_text() -> None:
    paragraphs = [
        "Stand: 04.03.2024 09:15 Uhr",
        "By Jane Doe",
        *PARAGRAPHS,
        "jane.doe@citypaper.example",
    ]
    author = '<meta name="author" content="Jane Doe">'
    page = extract(page_html(head=author, paragraphs=paragraphs))
    assert page.paragraphs == PARAGRAPHS
    assert page.authors == ["Jane Doe"]
    assert (page.cleanup["timestamp"], page.cleanup["byline"]) == (1, 1)


def test_a_sentence_naming_the_author_stays_in_text() -> None:
    said = "Jane Doe, who covers the council, said the vote was close."
    html = page_html(
        head='<meta name="author" content="Jane Doe">', paragraphs=[*PARAGRAPHS, said]
    )
    assert extract(html).paragraphs == [*PARAGRAPHS, said]


# A box of links to other articles inside the text, under a heading of its own
# words: the extractors leave the links out and the heading used to stay behind.
LINK_BOX = """<h4>More:</h4><ul>
<li><a href="/2024/11/28/ferry">Ferry timetable changes for the winter</a></li>
<li><a href="/2024/11/27/tram">Tram line four closes for two weeks</a></li></ul>"""
# A recipe's unit switch: buttons scripted through "#", not links to other pages.
UNIT_SWITCH = """<h3>Ingredients</h3><div class="units"><a href="#" role="button">US
customary</a> - <a href="#" role="button">Metric</a></div>
<ul><li>Two cups of flour</li><li>One cup of sugar</li></ul>"""


def test_the_heading_of_a_link_box_left_out_is_not_text() -> None:
    first, *rest = (f"<p>{p}</p>" for p in PARAGRAPHS)
    page = extract(post_html("".join([first, LINK_BOX, *rest])))
    assert page.paragraphs == PARAGRAPHS
    assert page.cleanup["box_heading"] == 1


def test_a_heading_over_buttons_stays_with_its_list() -> None:
    first, *rest = (f"<p>{p}</p>" for p in PARAGRAPHS)
    page = extract(post_html("".join([first, UNIT_SWITCH, *rest])))
    ingredients = ["Ingredients", "- Two cups of flour", "- One cup of sugar"]
    assert page.paragraphs == [PARAGRAPHS[0], *ingredients, *PARAGRAPHS[1:]]
    assert "box_heading" not in page.cleanup


# Blogging software marks each post's element with its number; a "you may also
# like" box below the post repeats other posts' excerpts in their own numbered
# <article>s, long prose with no link the link-line rule could see.
OTHER_POSTS = """<div class="more-posts">
<article id="post-311" class="post-311 post type-post"><p>Gardeners in the old
town have planted two hundred trees along the canal this autumn, and the council
has promised to water them through their first dry summer.</p></article>
<article id="post-305" class="post-305 post type-post"><p>The ferry to the island
will run every half hour from May, the operator said, after a winter in which
passengers complained about long waits on the pier.</p></article>
</div>"""


def test_other_posts_excerpts_after_the_post_are_not_text() -> None:
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council approves harbour bridge | City Paper</title></head><body>
<div class="content"><article id="post-318" class="post-318 post type-post">
<h1>Council approves harbour bridge</h1>{paras}
{OTHER_POSTS}</article></div></body></html>""".encode()
    page = extract(html)
    assert page.paragraphs == PARAGRAPHS
    assert page.cleanup.get("other_post") == 2


def test_posts_without_numbers_are_left_alone() -> None:
    """A page of several <article>s without post numbers (a live blog's entries,
    say) keeps them all: nothing says which is another post."""
    entries = "".join(f"<article><p>{p}</p></article>" for p in PARAGRAPHS)
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council approves harbour bridge | City Paper</title></head><body>
<article><h1>Council approves harbour bridge</h1>{entries}</article>
</body></html>""".encode()
    assert extract(html).paragraphs == PARAGRAPHS


# Boxes the template names as no part of the article, whatever their words: an
# advertising disclosure above the text, a photo's rights notice, a pop-up written
# into the page after it (trafilatura keeps them: they sit in the body's container).
DISCLOSURE = """<p class="disclosure-text">We may earn a commission when you buy
through links on this page, at no extra cost to you.</p>"""
RIGHTS = """<div class="photo-copyright"><p>Jane Doe for the City Paper, all
rights reserved</p></div>"""
POPUP = """<div class="popup-box"><div class="inner"><p>Get the best of the City
Paper every morning, free of charge and with no advertising at all.</p></div></div>"""


def post_html(entry: str, article_class: str = "post") -> bytes:
    """A blog post whose text and boxes share one container, as themes write it."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council approves harbour bridge | City Paper</title></head><body>
<main><article class="{article_class}"><h1>Council approves harbour bridge</h1>
<div class="entry">{entry}</div></article></main></body></html>""".encode()


def test_lines_in_boxes_marked_as_furniture_are_not_text() -> None:
    first, *rest = (f"<p>{p}</p>" for p in PARAGRAPHS)
    page = extract(post_html("".join([DISCLOSURE, first, RIGHTS, *rest, POPUP])))
    assert page.paragraphs == PARAGRAPHS
    assert page.cleanup.get("marked") == 3


def test_an_article_inside_a_marked_box_is_kept() -> None:
    """When the marked lines are most of the body, the mark says nothing: the
    article itself is shown in a dialog (a page opened as an overlay)."""
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    page = extract(post_html(f'<div class="popup-box">{paras}</div>'))
    assert page.paragraphs == PARAGRAPHS


def test_too_short_is_counted_not_emitted() -> None:
    with pytest.raises(ExtractionError) as excinfo:
        extract(page_html(), min_words=500)
    assert excinfo.value.reason == "too_short"


# --- paywall --------------------------------------------------------------------------

NOT_FREE = json.dumps(
    {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "isAccessibleForFree": False,
        "hasPart": {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": ".paid",
        },
    }
)


def test_teaser_of_a_paid_article_is_paywalled() -> None:
    head = f'<script type="application/ld+json">{NOT_FREE}</script>'
    page = extract(page_html(head=head, paragraphs=PARAGRAPHS[:2]))
    assert page.paywalled is True
    assert page.paragraphs == PARAGRAPHS[:2]


def test_subscribe_prompt_after_a_teaser_is_paywalled_and_not_in_text() -> None:
    prompt = '<div class="wall"><p>Subscribe to continue reading</p></div>'
    page = extract(page_html(paragraphs=PARAGRAPHS[:2], body_end=prompt))
    assert page.paywalled is True
    assert "Subscribe" not in page.text


WALL = '<div class="Article-PAYWALL"><p>Thank you for reading the City Paper.</p></div>'


@pytest.mark.parametrize(
    "as_given",
    [
        lambda page: page,
        lambda page: page.decode("utf-8"),
        lambda page: page.decode("utf-8").encode("utf-16"),
    ],
    ids=["utf-8 bytes", "text", "utf-16 bytes"],
)
def test_a_teaser_in_a_paywall_container_is_paywalled_whatever_the_names_case(
    as_given: Any,
) -> None:
    """The container's class names the paywall (in capitals here): found in the
    page's bytes when it comes as bytes, in its text otherwise, and in a UTF-16 page
    (whose bytes do not hold the name as ASCII) too."""
    html = page_html(paragraphs=PARAGRAPHS[:2], body_end=WALL)
    page = extract_page(as_given(html), URL, None)
    assert page.paywalled is True


def test_full_paid_article_is_not_a_teaser() -> None:
    head = f'<script type="application/ld+json">{NOT_FREE}</script>'
    long = PARAGRAPHS * 6
    page = extract(page_html(head=head, paragraphs=long))
    assert page.paywalled is False


def test_free_article_is_not_paywalled() -> None:
    assert extract(page_html()).paywalled is False


# --- the record -----------------------------------------------------------------------


def test_record_uses_the_same_site_canonical() -> None:
    head = '<link rel="canonical" href="https://news.example.org/bridge?utm_source=x">'
    page = extract(page_html(head=head))
    article = build_article(
        page,
        fetched_url=URL + "?utm_medium=feed",
        site_id="city",
        domains=("example.org",),
    )
    assert article.url == "https://news.example.org/bridge"
    assert article.id == article_id("https://news.example.org/bridge")
    assert article.site == "city"
    assert article.source_url == URL + "?utm_medium=feed"
    assert article.word_count == len(page.text.split())


def test_a_malformed_canonical_gives_the_fetched_url() -> None:
    head = '<link rel="canonical" href="http://news.example.org:abc/bridge">'
    page = extract(page_html(head=head))
    assert canonical_url(page, URL, ("example.org",)) == (URL, False)
    assert build_article(page, fetched_url=URL).url == URL


def test_offsite_canonical_is_refused() -> None:
    head = '<link rel="canonical" href="https://aggregator.example.com/copy/1">'
    page = extract(page_html(head=head))
    url, refused = canonical_url(page, URL, ("example.org",))
    assert (url, refused) == (URL, True)


def _listing_page() -> str:
    teasers = "".join(
        f'<p><a href="/news/story-{i}">Council weighs harbour plan number {i}</a> '
        f"The council met again on Tuesday to weigh the harbour plan, item {i} of the "
        "agenda, and deferred a decision.</p>"
        for i in range(8)
    )
    return (
        '<html lang="en"><head><title>Harbour news: all stories</title></head><body>'
        f"<main><h1>Harbour news</h1>{teasers}</main></body></html>"
    )


def test_a_page_of_teasers_is_refused_as_listing_like() -> None:
    from crawler.sites import ArticleRules, SiteConfig

    site = SiteConfig(
        id="harbour",
        name="Harbour",
        home="https://harbour.example/",
        domains=("harbour.example",),
        path="harbour.toml",
        articles=ArticleRules(allow=("/news/",)),
    )
    with pytest.raises(ExtractionError) as info:
        extract_page(_listing_page(), "https://harbour.example/news/", site)
    assert info.value.reason == "listing_like"
    # Without a site's article rules nothing says the links are articles: kept.
    page = extract_page(_listing_page(), "https://harbour.example/news/")
    assert len(page.paragraphs) >= 5


def test_malformed_links_are_skipped_and_counted_not_fatal() -> None:
    """A link urllib cannot parse (a port that is not a number, an unclosed IPv6
    bracket) used to end the page with ValueError when a site was configured."""
    from crawler.sites import SiteConfig

    site = SiteConfig(
        id="harbour",
        name="Harbour",
        home="https://harbour.example/",
        domains=("harbour.example",),
        path="harbour.toml",
    )
    head = '<link rel="canonical" href="http://harbour.example:abc/bridge">'
    links = (
        '<p><a href="http://example.com:abc/x">A story elsewhere</a></p>'
        '<p><a href="http://[::1/y">Another</a></p>'
        '<p><a href="/news/ferry">Ferry timetable changes</a></p>'
    )
    page = extract_page(page_html(head=head, body_top=links), URL, site)
    assert page.malformed_links == 3  # the canonical and two links
    assert page.title and page.paragraphs
    # Without a site the links are not read: nothing skipped, nothing counted.
    assert extract_page(page_html(head=head, body_top=links), URL).malformed_links == 0


def test_a_page_cut_at_the_parsers_depth_limit_says_so() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the story, with enough words to "
        "count as prose in any extractor.</p>"
        for i in range(6)
    )
    head = (
        "<html><head><title>Deep story</title></head><body><article><h1>Deep story</h1>"
    )
    shallow = head + paragraphs + "</article></body></html>"
    # Text above the cut is still extracted; the page says what was lost.
    deep = (
        head
        + paragraphs
        + "<div>" * 400
        + "<p>Lost below the limit.</p>"
        + "</div>" * 400
        + "</article></body></html>"
    )
    assert extract_page(shallow, "https://news.test/a").deep_nesting is False
    page = extract_page(deep, "https://news.test/b")
    assert page.deep_nesting is True
    assert "Lost below" not in page.text and "Paragraph 5" in page.text
    # A page with nothing above the cut: not an article, and still flagged.
    with pytest.raises(ExtractionError) as caught:
        extract_page(
            head
            + "<div>" * 400
            + paragraphs
            + "</div>" * 400
            + "</article></body></html>",
            "https://news.test/c",
        )
    assert caught.value.deep_nesting is True


@pytest.mark.parametrize(
    "html",
    [
        page_html(body_top="<form><input name='q'><label>Search</label></form>"),
        # An XML declaration with an encoding: lxml refuses it as text, so the page is
        # parsed from its bytes, as trafilatura does.
        b'<?xml version="1.0" encoding="utf-8"?>' + page_html(),
        # Control characters and a faulty doctype, which trafilatura repairs first.
        b"<!DOCTYPE html/>\n" + page_html(paragraphs=["Text\x0b with\x01 controls."]),
    ],
    ids=["form", "xml-declaration", "repairs"],
)
def test_pages_are_parsed_as_trafilatura_parses_them(html: bytes) -> None:
    from lxml import etree
    from lxml.html import HtmlElement
    from trafilatura.utils import decode_file, load_html

    from crawler.extraction.parsing import parse_html

    tree, source = parse_html(html)
    theirs = load_html(decode_file(html))
    assert etree.tostring(tree) == etree.tostring(theirs), (
        "parse_html must give trafilatura's tree: compare with trafilatura.utils."
        "load_html"
    )
    assert source == decode_file(html)
    # Every element is a plain HtmlElement (lxml's lookup, not lxml.html's per-tag
    # classes), and keeps HtmlElement's methods.
    assert {type(el) for el in tree.iter() if isinstance(el.tag, str)} == {HtmlElement}
    assert "Search" in tree.text_content() or b"form" not in html


def test_text_that_is_not_html_is_unparsable() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_page(b"just some words", URL)
    assert caught.value.reason == "unparsable"


# --- the page's own <article> when the extractors find nothing --------------------

# A menu's <div> left open before the article: the parser nests the article inside
# the sidebar that follows, which trafilatura and readability both drop whole.
MISNESTED = (
    """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council approves harbour bridge | City Paper</title></head><body>
<header><p>Your daily paper for the harbour town.</p></header>
<aside class="sidebar"><div class="widget nav_menu"><ul><li><a href="/a">Sport</a></li>
<li><a href="/b">Weather</a></li></ul>
<article class="article-detailed"><h1>Council approves harbour bridge</h1>
<div class="article-content">"""
    + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    + """</div></article></div></aside></body></html>"""
)


def test_an_article_nested_in_a_sidebar_is_found_through_its_own_element() -> None:
    page = extract(MISNESTED.encode())
    assert page.paragraphs == PARAGRAPHS
    assert page.body_source == "article_element"


def test_the_article_element_is_not_asked_when_the_extractors_find_the_body() -> None:
    assert extract(page_html()).body_source == "trafilatura"
