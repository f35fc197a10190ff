"""Clean-up rules: each one with text it must drop and text it must keep.

The paragraph rules (``crawler.extraction.cleanup``) are checked on single
paragraphs; the markup rules (``crawler.extraction.selector``: headline, link
lines, edge runs) on small parsed pages, and once through ``extract_page``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from lxml import html as lxml_html

from crawler.extraction import extract_page
from crawler.extraction.cleanup import (
    clean_paragraphs,
    count_words,
    drop_bylines,
    drop_edge_timestamps,
    is_furniture,
    is_related_heading,
    normalize_field,
    normalize_space,
    split_blocks,
)
from crawler.extraction.dom import Block, BlockIndex
from crawler.extraction.selector import (
    Body,
    drop_box_headings,
    drop_link_lines,
    drop_title,
    edges_unsure,
    first_pass,
    is_prose,
    looks_partial,
    trim_edges,
    unwrap_layout_tables,
)

# --- paragraph rules ----------------------------------------------------------------

FURNITURE = [
    "ALSO READ: Council approves the new harbour bridge",
    "Also Read | Council approves the new harbour bridge",
    "READ MORE - Council approves the new harbour bridge",
    "Related: Council approves the new harbour bridge",
    "Previous Story",
    "Next Article",
    "Next story: Council approves the new harbour bridge",
    "4 min read",
    "Share this article",
    "Share: Facebook, Twitter, WhatsApp, Email",
    "Follow us on Twitter",
    "Advertisement",
    "Back to top",
    "Leave a reply",
    "Comments (12)",
    "Subscribe to continue reading",
    # photo credits
    "Foto: Jana Beispiel / dpa",
    "Photo : Harbour Authority",
    "Crédit photo : Jean Exemple",
    "Titelbild: Max Muster",
    "Getty Images",
    "AFP / Jane Example",
    "Copyright: Jana Beispiel",
    # advertising disclosures
    "Anzeige",
    "*Werbung. Dieser Beitrag enthält Werbung für eine Kaffeemarke.",
    "Anzeige, enthält Affiliate-Links",
    "This post contains affiliate links: we may earn a commission on purchases.",
    # source labels
    "Quelle: Hafenamt der Stadt",
    "Source: Harbour Authority annual review",
    "Quellenangaben:",
]

BODY = [
    # quotes and sentences that begin like furniture
    "Read more about the harbour plan in the council's report, published on Monday.",
    "“Read more about it and you will understand,” the mayor told reporters.",
    "Read more: the mayor said the vote would be delayed until the spring session.",
    # a body paragraph that mentions the navigation words
    "In a previous story, we reported that the council had delayed the vote twice.",
    "The next story the paper ran was about the harbour itself.",
    "Share prices of the builder rose 4% after the announcement.",
    "Follow the money, the auditor said, and the delays make sense.",
    "Related parties must declare their interests before the vote.",
    "Sponsored by three councillors, the motion passed on Tuesday.",
    "Story continues below",
    # sentences that begin like a credit or a disclosure
    "Photos of the bridge were shown to the council on Monday.",
    "AP reporters were at the harbour when the vote was announced.",
    "Werbung für Zigaretten ist in der Stadt seit 2020 verboten.",
    "Anzeige gegen Unbekannt: Die Polizei ermittelt wegen Sachbeschädigung am Hafen.",
    "This story includes reporting from the harbour authority's annual review.",
    "Sources close to the council said the vote would be delayed until spring.",
    "Contents of the harbour report were leaked to the press on Friday.",
    "Copyright 2024 The City Paper. All rights reserved.",
]


@pytest.mark.parametrize("paragraph", FURNITURE)
def test_furniture_paragraph_is_dropped(paragraph: str) -> None:
    assert is_furniture(paragraph), f"should be furniture: {paragraph!r}"
    assert clean_paragraphs(["The council met on Monday.", paragraph]) == [
        "The council met on Monday."
    ]


@pytest.mark.parametrize("paragraph", BODY)
def test_body_paragraph_is_kept(paragraph: str) -> None:
    assert not is_furniture(paragraph), f"body text taken for furniture: {paragraph!r}"
    assert clean_paragraphs([paragraph]) == [paragraph]


def test_furniture_rules_need_the_whole_paragraph() -> None:
    long = "Previous story " + "word " * 60
    assert not is_furniture(long)
    assert not is_furniture("Share this article with your friends who care about it.")


RELATED_HEADINGS = [
    "You may also like",
    "You might also like...",
    "Related stories",
    "More from City Paper",
    "Most read in local news",
    "Lesen Sie auch:",
    "Ähnliche Beiträge",
    "Mehr zum Thema",
    "Notas relacionadas",
    "Leia também",
    "À lire aussi",
]


@pytest.mark.parametrize("heading", RELATED_HEADINGS)
def test_a_related_links_heading_is_dropped(heading: str) -> None:
    assert is_related_heading(heading)
    assert clean_paragraphs(["The council met on Monday.", heading]) == [
        "The council met on Monday."
    ]


@pytest.mark.parametrize(
    "paragraph",
    [
        "You may also like the new design, the architect told the council.",
        "Related stories were told by the residents of the old town for years.",
        "More from the council's meeting will be published on Tuesday.",
    ],
)
def test_a_sentence_that_begins_like_a_related_heading_is_kept(paragraph: str) -> None:
    assert not is_related_heading(paragraph)
    assert clean_paragraphs([paragraph]) == [paragraph]


def test_a_tag_list_is_dropped_up_to_the_next_sentence() -> None:
    body = "The council approved the harbour bridge on Friday after a long debate."
    for tags in (
        ["Tags:", "harbour", "council", "bridge"],
        ["Schlagwörter", "Hafen, Brücke, Stadtrat"],
        ["- Category:", "Local news"],
    ):
        assert clean_paragraphs([*tags, body]) == [body]
        assert clean_paragraphs([body, *tags]) == [body]


def test_a_paragraph_about_tags_is_kept() -> None:
    paragraphs = [
        "Tags and labels on the old bridge will be removed next week.",
        "Category",  # a label with nothing after it: nothing to drop but itself
    ]
    assert clean_paragraphs(paragraphs) == paragraphs[:1]


NEWS = [
    "The council approved the harbour bridge on Friday after a long debate.",
    "Construction starts in the spring and should last about two years.",
    "The mayor said trams would cross it before the end of the decade.",
]


@pytest.mark.parametrize(
    "prompt",
    [
        "Sign up for our daily newsletter to get the news in your inbox.",
        "Follow CityPaper on Instagram, Facebook and YouTube.",
        "Like this story? Share it with a friend!",
        "Abonnieren Sie unseren Newsletter!",
        "Síguenos en nuestras redes sociales.",
        "Zum Newsletter anmelden",
    ],
)
def test_a_call_to_action_closing_the_article_is_dropped(prompt: str) -> None:
    assert clean_paragraphs([*NEWS, prompt]) == NEWS


def test_call_to_action_words_inside_the_article_are_kept() -> None:
    news = "Subscription prices for the ferry will rise by ten percent in May."
    paragraphs = [NEWS[0], news, *NEWS[1:], "The vote is on Tuesday."]
    assert clean_paragraphs(paragraphs) == paragraphs
    long_closing = " ".join(["The council will publish its plans and"] * 6) + " more."
    long_closing = long_closing.replace("plans", "subscription plans", 1)
    assert clean_paragraphs([*NEWS, long_closing]) == [*NEWS, long_closing]
    follow_up = "Police said they would follow up on the reports next week."
    assert clean_paragraphs([*NEWS, follow_up]) == [*NEWS, follow_up]
    # The same words in a closing news sentence that does not speak to the reader.
    for closing in (
        "The minister did not share this view of the budget.",
        "Residents asked the council to listen to their concerns.",
        "The subscription fee rises to ten euros in May.",
    ):
        assert clean_paragraphs([*NEWS, closing]) == [*NEWS, closing], closing


@pytest.mark.parametrize(
    "credit",
    [
        "(Reporting by Ann Lee and Tom Ruiz; Editing by Mia Chen)",
        "Additional reporting from Kim Park in Seoul",
        "With files from The Canadian Press",
        "With reporting by Harbour News writer Ann Lee",
        "Ann Lee and Tom Ruiz contributed to this report.",
        "— Harbour News writer Tom Ruiz in Oslo contributed reporting.",
        "(Con información de agencias)",
        "Mit Material von Agenturen",
    ],
)
def test_a_reporting_credit_closing_the_article_is_dropped(credit: str) -> None:
    assert clean_paragraphs([*NEWS, credit]) == NEWS


def test_reporting_credit_words_in_news_are_kept() -> None:
    # The same opening words in a closing sentence that is news, not a credit.
    for closing in (
        "Reporting by the local paper found that the bridge was over budget.",
        "Editing by hand took the clerks two more weeks than planned.",
        "The weather contributed to the delay, the engineers said.",
    ):
        assert clean_paragraphs([*NEWS, closing]) == [*NEWS, closing], closing
    # A credit is judged among the closing lines only; the first line always stays.
    credit = "(Reporting by Ann Lee; Editing by Mia Chen)"
    assert clean_paragraphs([credit, *NEWS, "The vote is on Tuesday."])[0] == credit


# A page's date line left in the body, in the forms sites print it.
TIMESTAMPS = [
    "Posted: Monday, March 4, 2024. 9:15 am EST.",
    "Stand: 04.03.2024 09:15 Uhr",
    "quarta-feira, 4 de março de 2024 às 9:15",
    "March 4, 2024",
    "Aktualisiert am 04.03.2024",
    "Updated at 9:15 a.m.",
    "2024-03-04",
]


@pytest.mark.parametrize("stamp", TIMESTAMPS)
def test_a_timestamp_opening_or_closing_the_body_is_dropped(stamp: str) -> None:
    assert drop_edge_timestamps([stamp, *NEWS]) == NEWS
    assert drop_edge_timestamps([*NEWS, stamp]) == NEWS


def test_dates_in_the_body_and_embedded_posts_signatures_are_kept() -> None:
    sentence = "The council first met on March 4, 2024 to debate the harbour bridge."
    signature = "— Ann (@ann) March 4, 2024"
    for paragraphs in (
        [sentence, *NEWS],
        [NEWS[0], "March 4, 2024", *NEWS[1:]],  # inside the body: a live blog's entry
        [*NEWS, signature],
        ["The new bridge opens on 4 March 2024.", *NEWS],
        ["On 04.03.2024 at 9:15 the first tram crossed the new bridge in the rain."],
    ):
        assert drop_edge_timestamps(paragraphs) == paragraphs
    assert drop_edge_timestamps(["March 4, 2024"]) == ["March 4, 2024"]


@pytest.mark.parametrize(
    "byline",
    ["By Jane Doe", "von Jane Doe", "Publicado por Jane Doe", "JANE DOE", "Jane Doe"],
)
def test_a_byline_of_the_pages_author_is_dropped(byline: str) -> None:
    assert drop_bylines([byline, *NEWS], ["Jane Doe"]) == NEWS
    assert drop_bylines([*NEWS, byline], ["Tom Ruiz", "Jane Doe"]) == NEWS


def test_lines_naming_the_author_otherwise_are_kept() -> None:
    for line in (
        "Jane Doe said the bridge would open in May, a month late.",
        '"author": "Jane Doe",',  # a data listing the article shows
        "Jane Doelittle",
    ):
        assert drop_bylines([*NEWS, line], ["Jane Doe"]) == [*NEWS, line], line
    # A name of one word also names agencies, products and places.
    assert drop_bylines([*NEWS, "Reuters"], ["Reuters"]) == [*NEWS, "Reuters"]


@pytest.mark.parametrize(
    "contact",
    [
        "jane.doe@citypaper.example",
        "twitter.com/janedoe",
        "Email: jane@citypaper.example",
    ],
)
def test_the_writers_contact_closing_the_article_is_dropped(contact: str) -> None:
    assert clean_paragraphs([*NEWS, contact]) == NEWS


def test_contacts_in_sentences_and_signatures_are_kept() -> None:
    for closing in (
        "Write to the editor at letters@citypaper.example with your views.",
        "Columnist Jane Doe jane.doe@citypaper.example",
    ):
        assert clean_paragraphs([*NEWS, closing]) == [*NEWS, closing], closing


def test_repeated_title_is_dropped_everywhere() -> None:
    title = "Council approves the harbour bridge"
    got = clean_paragraphs(
        [title, "The council voted 7 to 2.", "COUNCIL APPROVES THE HARBOUR BRIDGE"],
        title=title,
    )
    assert got == ["The council voted 7 to 2."]


def test_paragraph_mentioning_the_title_is_kept() -> None:
    title = "Council approves the harbour bridge"
    paragraph = "Council approves the harbour bridge, said the headline in 1990."
    assert clean_paragraphs([paragraph], title=title) == [paragraph]


def test_caption_paragraph_is_dropped_but_text_mentioning_it_is_kept() -> None:
    caption = "The bridge at dusk. Photo: City archive"
    kept = "The bridge at dusk is lit in blue, the city archive says."
    got = clean_paragraphs(["First paragraph.", caption, kept], captions=[caption])
    assert got == ["First paragraph.", kept]


def test_adjacent_duplicate_is_dropped_distant_repeats_are_kept() -> None:
    recipe = ["Breakfast", "1 cup oats", "Lunch", "1 cup oats", "Dinner", "1 cup oats"]
    assert clean_paragraphs(recipe) == recipe
    assert clean_paragraphs(
        ["A caption shown twice.", "A caption shown twice.", "B"]
    ) == [
        "A caption shown twice.",
        "B",
    ]


def test_site_clutter_phrases_drop_paragraphs_that_start_with_them() -> None:
    got = clean_paragraphs(
        ["Body text.", "Download our app for more news.", "Download speeds rose."],
        clutter_phrases=["Download our app"],
    )
    assert got == ["Body text.", "Download speeds rose."]


def test_normalize_field_is_a_fixed_point_where_normalize_space_is_not() -> None:
    split_accent = "Cafe\u200b\u0301 au lait"  # removing U+200B leaves e + U+0301
    assert normalize_space(split_accent) == "Cafe\u0301 au lait"  # not NFC
    assert normalize_field(split_accent) == "Caf\u00e9 au lait"
    assert normalize_field(normalize_field(split_accent)) == "Caf\u00e9 au lait"


def test_split_blocks_gives_one_paragraph_per_block() -> None:
    paragraphs = ["First line\nsame paragraph", "Second \n \n Third", "Four\n\n\nFive"]
    assert split_blocks(paragraphs) == [
        "First line\nsame paragraph",
        "Second",
        "Third",
        "Four",
        "Five",
    ]
    assert split_blocks(["\u200b", ""]) == []


def test_normalize_space() -> None:
    assert normalize_space("a\u00a0b\u200b c \t d") == "a b c d"


# --- markup rules -------------------------------------------------------------------


def blocks_of(page: str, lines: Sequence[str]) -> list[Block]:
    tree = lxml_html.fromstring(page)
    index = BlockIndex(tree, list(lines))
    return [index.block(line) for line in lines]


INDENTED_PAGE = """<html><body><div class="body">
<div>
    <span>Read the \u200bcouncil\u2019s report</span> on the bridge
</div>
<div>
  <a href="/more">More</a>
</div>
<p>   <b>Pictured:</b>
the harbour at dawn</p>
</div></body></html>"""


def test_block_index_reads_past_blank_leading_text() -> None:
    """An element whose own text is only indentation is matched by the text that
    follows it (BlockIndex reads it lazily), a short one as a whole, and invisible
    characters do not count (``space_key``)."""
    lines = [
        "Read the council\u2019s report on the bridge",
        "More",
        "Pictured: the harbour at dawn",
        "Not on the page at all, anywhere",
    ]
    blocks = blocks_of(INDENTED_PAGE, lines)
    assert [b.element.tag if b.element is not None else None for b in blocks] == [
        "div",
        "a",  # its <div> has no text of its own
        "p",
        None,
    ]


CHILDLESS_PAGE = """<html><body><ul>
<li>Home</li>
<li>{pad}The mayor opened the bridge to walkers on Sunday</li>
<li><a href="/a">{pad}The council met again</a> on Monday night</li>
</ul><div><p>Not a line</p>A line of its own beside a paragraph</div>
</body></html>""".format(pad=" " * 40)


def test_block_index_matches_elements_without_children_by_their_own_text() -> None:
    """An element without children is matched by its own text, however long its
    indentation; one with inline children by its whole text; a wrapper with a block
    child holds no line of its own."""
    lines = [
        "Home",
        "The mayor opened the bridge to walkers on Sunday",
        "The council met again on Monday night",
        "A line of its own beside a paragraph",
    ]
    blocks = blocks_of(CHILDLESS_PAGE, lines)
    assert [b.element.tag if b.element is not None else None for b in blocks] == [
        "li",
        "li",
        "li",
        None,
    ]


DEK = "Three councillors changed their minds after the last hearing on the harbour."
LEAD = "The council approved the harbour bridge on Monday after three years of delay."
SECOND = "Construction is to start in the spring and to last two years, officials said."

DEK_APART = f"""<html><body>
<header><h1>Council approves bridge</h1><p class="dek">{DEK}</p></header>
<div class="body"><p>{LEAD}</p><p>{SECOND}</p></div>
</body></html>"""


def test_dek_standing_apart_is_kept() -> None:
    """The dek is body text by the reference corpora's account (docs/extraction.md)."""
    body = Body(lines=[])
    blocks = blocks_of(DEK_APART, [DEK, LEAD, SECOND])
    kept = drop_title(blocks, ["Council approves bridge"], body)
    assert [b.text for b in kept] == [DEK, LEAD, SECOND]
    assert not body.dropped


def test_headline_line_is_dropped() -> None:
    body = Body(lines=[])
    blocks = blocks_of(DEK_APART, ["Council approves bridge", LEAD])
    kept = drop_title(blocks, ["Council approves bridge"], body)
    assert [b.text for b in kept] == [LEAD]
    assert body.dropped["title"] == 1


LINKS_PAGE = f"""<html><body><div class="body">
<p>The council approved the bridge, <a href="/a">as reported earlier</a>, on Monday.</p>
<p>{SECOND} {LEAD}</p>
<p>[<a href="/src">Wire</a>]</p>
<ul><li><a href="/x">Mayor opens the new library in the old town</a></li>
<li><a href="/y">Five things to know about the harbour budget</a></li></ul>
<p>Related: <a href="/z">Harbour budget doubles in a single year after review</a></p>
<h3><a href="/p">Best commuter bikes of the year</a></h3>
</div></body></html>"""


def test_link_lines_are_dropped_prose_with_links_and_short_credits_are_kept() -> None:
    lines = [
        "The council approved the bridge, as reported earlier, on Monday.",
        f"{SECOND} {LEAD}",
        "[Wire]",
        "- Mayor opens the new library in the old town",
        "- Five things to know about the harbour budget",
        "Related: Harbour budget doubles in a single year after review",
        "Best commuter bikes of the year",
    ]
    body = Body(lines=[])
    kept = [b.text for b in drop_link_lines(blocks_of(LINKS_PAGE, lines), body)]
    assert kept == [lines[0], lines[1], lines[2], lines[6]]
    assert body.dropped["link"] == 3


BOXES_PAGE = f"""<html><body><div class="body"><p>{LEAD}</p>
<h4>Read on</h4><ul><li><a href="/x">Mayor opens the new library</a></li>
<li><a href="/y">Harbour budget doubles</a></li></ul>
<p>{SECOND}</p>
<h4>Where to buy</h4><ul><li><a href="/shop/a">Bike shop</a></li>
<li><a href="/shop/b">Tram depot</a></li></ul>
<h2>The long debate over the harbour bridge and what it cost</h2>
<ul><li><a href="/z">A link box under a long heading</a></li></ul>
</div></body></html>"""


def test_short_headings_of_link_boxes_left_out_are_dropped() -> None:
    """ "Read on" heads a box the body left out: dropped. "Where to buy" heads a box
    whose lines are in the body: kept. A long heading is a section's, whatever
    follows it."""
    lines = [
        LEAD,
        "Read on",
        SECOND,
        "Where to buy",
        "- Bike shop",
        "- Tram depot",
        "The long debate over the harbour bridge and what it cost",
    ]
    body = Body(lines=[])
    kept = [b.text for b in drop_box_headings(blocks_of(BOXES_PAGE, lines), body)]
    assert kept == [line for line in lines if line != "Read on"]
    assert body.dropped["box_heading"] == 1


ROUNDUP_PAGE = """<html><body><div class="post">
<p>Some reading for the weekend:</p>
<ul><li><a href="/a">Study doubts that press subsidies help local papers</a></li>
<li><a href="/b">Why the harbour bridge took three years to approve</a></li>
<li><a href="/c">Five things to know about the new city budget</a></li></ul>
</div></body></html>"""


def test_link_lines_that_are_the_post_are_kept() -> None:
    """A link round-up is all link lines: dropping them would leave no post."""
    lines = [
        "Some reading for the weekend:",
        "- Study doubts that press subsidies help local papers",
        "- Why the harbour bridge took three years to approve",
        "- Five things to know about the new city budget",
    ]
    body = Body(lines=[])
    kept = [b.text for b in drop_link_lines(blocks_of(ROUNDUP_PAGE, lines), body)]
    assert kept == lines
    assert not body.dropped


TOC_PAGE = f"""<html><body><article>
<ul class="contents">
<li><a href="/guide#when">When does the bridge open to traffic?</a></li>
<li><a href="/guide#cost">What will the new harbour bridge cost?</a></li></ul>
<p>{LEAD}</p>
<h2 id="when">When does the bridge open to traffic?</h2><p>{SECOND}</p>
<h2 id="cost">What will the new harbour bridge cost?</h2><p>{DEK}</p>
</article></body></html>"""


def test_headings_a_table_of_contents_links_to_are_not_link_lines() -> None:
    """The body's headings are the lines, not the contents' links to them: each
    line is matched to the heading with its text, not to the link before it."""
    lines = [
        LEAD,
        "When does the bridge open to traffic?",
        SECOND,
        "What will the new harbour bridge cost?",
        DEK,
    ]
    blocks = blocks_of(TOC_PAGE, lines)
    assert [b.heading for b in blocks] == [False, True, False, True, False]
    body = Body(lines=[])
    kept = [b.text for b in drop_link_lines(blocks, body)]
    assert kept == lines
    assert body.dropped["link"] == 0


PROSE = [
    "The council approved the harbour bridge on Monday after three years of delay.",
    "Construction is to start in the spring and to last two years, officials said.",
    "The bridge will carry trams as well as cars, the city's transport office said.",
]


def test_non_prose_edge_runs_outside_the_second_opinion_are_dropped() -> None:
    lines = ["Sign up", "Newsletter", "Top stories", *PROSE, "Tags", "bridge, harbour"]
    body = Body(lines=[])
    second = "\n".join(PROSE * 3)
    kept = trim_edges([Block(t) for t in lines], second, body)
    assert [b.text for b in kept] == PROSE
    assert body.dropped["edge_head"] == 3
    assert body.dropped["edge_tail"] == 2


def test_an_edge_run_readability_holds_in_order_is_kept() -> None:
    """A list of short items closing the article (each too short to be an anchor)
    stays when readability's text has it too, in the same order."""
    ranking = ["8. Swing bridge", "9. Rope bridge", "10. Ferry ramp", "11. Toll road"]
    article = PROSE * 3
    second = "\n".join([*article, *ranking])
    body = Body(lines=[])
    kept = trim_edges([Block(t) for t in [*article, *ranking]], second, body)
    assert [b.text for b in kept] == [*article, *ranking]
    assert not body.dropped
    # The same lines in another order are not what readability holds: dropped.
    shuffled = ranking[::-1]
    kept = trim_edges([Block(t) for t in [*article, *shuffled]], second, body)
    assert [b.text for b in kept] == article
    assert body.dropped["edge_tail"] == 4


def test_edges_are_trimmed_when_readability_also_holds_a_box_ours_left_out() -> None:
    """Readability's text is the article plus a box of its own (a third of its
    text): it still agrees on the article, so the furniture at our edges goes."""
    lines = ["Sign up", "Newsletter", "Top stories", *PROSE * 2, "Tags", "bridge"]
    box = [
        "Our weekly podcast looks at city life from the riverside districts.",
        "Listen to the latest episode on the harbour works and the tram line.",
        "Send us your questions for the next show about the new bridge plans.",
    ]
    second = "\n".join([*PROSE * 2, *box])
    body = Body(lines=[])
    kept = trim_edges([Block(t) for t in lines], second, body)
    assert [b.text for b in kept] == PROSE * 2
    assert body.dropped["edge_head"] == 3
    assert body.dropped["edge_tail"] == 2


def test_prose_edge_runs_are_kept_a_second_section_is_article() -> None:
    section = [
        "A second section tells how the first plan failed in the summer of 2019.",
        "Engineers found the soil too soft, and the design had to start over.",
    ]
    lines = [*PROSE, "How the plan failed", *section]
    second = "\n".join(PROSE * 3)
    kept = trim_edges([Block(t) for t in lines], second, Body(lines=[]))
    assert [b.text for b in kept] == lines


def test_edges_are_kept_when_readability_disagrees() -> None:
    lines = ["Sign up", "Newsletter", *PROSE]
    other = "\n".join(["Something else entirely, with its own long sentences."] * 12)
    kept = trim_edges([Block(t) for t in lines], other, Body(lines=[]))
    assert [b.text for b in kept] == lines


def test_second_opinion_is_asked_only_when_an_edge_is_unsure() -> None:
    assert not edges_unsure([Block(t) for t in PROSE])
    assert edges_unsure(
        [
            Block(t)
            for t in [
                "Sign up for our newsletter today now",
                "Top",
                "Most read stories of the week here",
                *PROSE,
            ]
        ]
    )


def test_is_prose() -> None:
    assert is_prose(PROSE[0])
    assert not is_prose("Most read stories of the week")
    assert is_prose(
        "これは日本語の長い文章で、記事の本文としてよく見られる形の文です。句点で終わる文です。"
    )


def test_hard_wrapped_prose_at_an_edge_is_kept() -> None:
    """Text wrapped by hand (<pre>, <br>) is judged joined, not line by line."""
    wrapped = [
        "Before the vote, the council heard from the engineers who had",
        "studied the soil under the old harbour for more than two years",
        "and who said the new design would hold in any storm of the century.",
    ]
    lines = [*wrapped, *PROSE]
    second = "\n".join(PROSE * 3)
    body = Body(lines=[])
    kept = trim_edges([Block(t) for t in lines], second, body)
    assert [b.text for b in kept] == lines
    assert not body.dropped


def test_sentences_closed_by_any_quote_convention_are_prose() -> None:
    """German „…“ and French/Nordic «…» / »…« close on “ « ›: still sentences."""
    for text in (
        "Der Bürgermeister sagte: „Die Brücke wird im Frühjahr gebaut, nicht früher.“",
        "Le maire a déclaré : « Le pont sera construit au printemps, pas avant. »",
        "Borgmesteren sagde: »Broen bygges til foråret, ikke før, og den er sikker.«",
    ):
        assert is_prose(text), text


# --- length is script-aware (class 1) -------------------------------------------------


def test_count_words_counts_characters_of_scripts_without_spaces() -> None:
    assert count_words("The council approved the bridge.") == 5
    # Chinese and Japanese: two characters a word; Latin words among them count too.
    assert count_words("市议会周一批准了新的港口大桥") == 7
    assert count_words("市議会は月曜日に新しい橋を承認した") == 9
    assert count_words("東京 2024 の新しい橋") == 1 + 4
    assert count_words("สภาเมืองอนุมัติสะพานใหม่") == 12  # Thai: 24 characters


# --- completeness of the first pass (class 2) -----------------------------------------

SENTENCES = [
    f"Paragraph {n} of the report tells how the harbour bridge was planned, "
    "argued over for three years and finally approved by the city council."
    for n in range(1, 13)
]
# Only the lead is in the HTML; the whole article is in JSON-LD (a page whose body is
# filled in by script).
PARTIAL_PAGE = """<html><head><script type="application/ld+json">{ld}</script>
</head><body><article><p>{first}</p><p>{second}</p></article></body></html>"""


def test_looks_partial_compares_with_paragraphs_and_article_body() -> None:
    tree = lxml_html.fromstring(
        "<html><body>" + "".join(f"<p>{t}</p>" for t in SENTENCES) + "</body></html>"
    )
    everything = sum(len(t) for t in SENTENCES) + len(SENTENCES) - 1
    assert looks_partial(len(SENTENCES[0]), tree, "")
    assert not looks_partial(everything, tree, "")
    small = lxml_html.fromstring(f"<html><body><p>{SENTENCES[0]}</p></body></html>")
    assert looks_partial(len(SENTENCES[0]), small, " ".join(SENTENCES))
    assert not looks_partial(len(SENTENCES[0]), small, SENTENCES[0])


def test_a_complete_fast_pass_is_not_run_again() -> None:
    tree = lxml_html.fromstring(
        "<html><body><article>"
        + "".join(f"<p>{t}</p>" for t in SENTENCES)
        + "</article></body></html>"
    )
    body = Body(lines=[])
    lines = first_pass(tree, "https://news.example.org/a", "", body)
    assert lines == SENTENCES
    assert not body.full_pass
    assert body.source == "trafilatura"


def test_a_fast_pass_shorter_than_the_article_body_asks_the_full_pass() -> None:
    ld = json.dumps({"@type": "NewsArticle", "articleBody": " ".join(SENTENCES)})
    html = PARTIAL_PAGE.format(ld=ld, first=SENTENCES[0], second=SENTENCES[1])
    body = Body(lines=[])
    tree = lxml_html.fromstring(html)
    lines = first_pass(tree, "https://news.example.org/a", " ".join(SENTENCES), body)
    assert body.full_pass, "the JSON-LD articleBody is much longer than the fast pass"
    assert lines == SENTENCES[:2]  # the full pass found no more: the fast one stays
    assert body.source == "trafilatura"


# --- layout tables (class 4) ---------------------------------------------------------

LAYOUT_TABLE_PAGE = f"""<html><body><table><tr>
<td><div>Weather: 12°C, cloudy</div><div>Monday, 4 March</div></td>
<td><h1>Council approves bridge</h1>{"".join(f"<p>{p}</p>" for p in PROSE)}
<p>ALSO READ: Harbour budget doubles</p></td>
</tr></table></body></html>"""

DATA_TABLE_PAGE = f"""<html><body><article>{"".join(f"<p>{p}</p>" for p in PROSE)}
<table><tr><th>Year</th><th>Cost</th></tr><tr><td>2023</td><td>12 m</td></tr>
<tr><td>2024</td><td>15 m</td></tr></table></article></body></html>"""


LONG_CELLS_TABLE_PAGE = f"""<html><body><article><p>{LEAD}</p>
<table><tr><th>Date</th><th>What happened</th></tr>
<tr><td>4 March</td><td><p>{" ".join(PROSE)}</p></td></tr>
<tr><td>5 March</td><td><p>{SECOND}</p></td></tr></table></article></body></html>"""


def test_a_table_with_header_cells_is_data_however_long_its_cells() -> None:
    """A cell of paragraph length makes a layout table, but not under header cells:
    unwrapped, a timeline or a list of entries loses its text in trafilatura."""
    data = lxml_html.fromstring(LONG_CELLS_TABLE_PAGE)
    assert unwrap_layout_tables(data) is data


def test_layout_tables_become_blocks_data_tables_stay() -> None:
    layout = unwrap_layout_tables(lxml_html.fromstring(LAYOUT_TABLE_PAGE))
    assert layout.find(".//table") is None
    assert [p.text for p in layout.iter("p")][:3] == PROSE
    data = lxml_html.fromstring(DATA_TABLE_PAGE)
    assert unwrap_layout_tables(data) is data  # nothing to unwrap: no copy


def test_layout_table_page_gives_paragraphs_not_a_pipe_joined_row() -> None:
    page = extract_page(LAYOUT_TABLE_PAGE.encode(), "https://news.example.org/a")
    assert page.paragraphs[:3] == PROSE
    assert not any("|" in p for p in page.paragraphs)


# --- through the whole extraction ---------------------------------------------------

QUOTE = "“Read more about it and you will understand,” the mayor told reporters."
PREVIOUS = (
    "In a previous story, we reported that the council had delayed the vote twice."
)

ARTICLE = """<html lang="en"><head><title>Council approves bridge | City Paper</title>
<meta property="og:title" content="Council approves bridge">
<meta property="og:description" content="{dek}">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<header><h1>Council approves bridge</h1><h2 class="standfirst">{dek}</h2></header>
<article>
<p>{p1}</p>
<p>ALSO READ: Harbour budget doubles in a single year</p>
<p>{p2}</p>
<p>{quote}</p>
<p>{previous}</p>
<p>{p3}</p>
<p>Previous Story</p>
</article>
<footer>© City Paper</footer>
</body></html>"""


def test_extract_page_applies_the_rules_and_keeps_the_body() -> None:
    """The clutter goes, the body stays, and the standfirst the extractors left out
    (shown apart, in the header) comes first (extractor.shown_dek)."""
    page = extract_page(
        ARTICLE.format(
            dek=DEK,
            p1=PROSE[0],
            p2=PROSE[1],
            p3=PROSE[2],
            quote=QUOTE,
            previous=PREVIOUS,
        ).encode(),
        "https://news.example.org/2024/05/bridge",
    )
    assert page.paragraphs == [DEK, PROSE[0], PROSE[1], QUOTE, PREVIOUS, PROSE[2]]
    assert page.title == "Council approves bridge"
