"""Rules of ``crawler.extraction.selector`` on small pages written for them."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.extraction.dom import BlockIndex
from crawler.extraction.selector import Body, add_second_lead, is_marked_furniture

BODY = [
    "The city council approved the new harbour bridge on Friday after a debate that "
    "lasted most of the night and ended with a vote of seven to two.",
    "Construction is expected to start in the spring and to last about two years, "
    "according to the city's transport office, which will run the project.",
    "Residents of the old town said they welcomed the decision but worried about "
    "the noise and the traffic that the building site would bring to their streets.",
]
LEAD = (
    "The harbour bridge will link the old town with the new port district for the "
    "first time, after twenty years of plans that never left the drawing board."
)
CAPTION = "The old ferry pier, where the bridge will land, seen from the port."
ITEM = "Found a mistake? Mark the words in the text and send them with two clicks."
LINKED = "Read how the port district grew from a fishing village into a town."


def page(head: str) -> lxml_html.HtmlElement:
    paras = "".join(f"<p>{p}</p>" for p in BODY)
    return lxml_html.document_fromstring(
        f"<html><body><article>{head}<div class='text'>{paras}</div></article>"
        "</body></html>"
    )


def lead_of(head: str, second_head: list[str]) -> list[str]:
    """The lines ``add_second_lead`` puts before the body, readability's text being
    ``second_head`` and then the body."""
    tree = page(head)
    index = BlockIndex(tree, BODY)
    blocks = [index.block(line) for line in BODY]
    second = "\n".join([*second_head, *BODY])
    lines = [b.text for b in add_second_lead(blocks, tree, second, Body(lines=[]))]
    assert lines[-len(BODY) :] == BODY
    return lines[: -len(BODY)]


def test_a_lead_readability_opens_with_is_put_back() -> None:
    """trafilatura left out the standfirst in the header box; readability's article
    opens with it."""
    assert lead_of(f"<div class='intro'><p>{LEAD}</p></div>", [LEAD]) == [LEAD]


def test_only_sentences_before_the_shared_part_are_leads() -> None:
    """A headline, a byline, a date before the shared part are no lead; a line
    readability has after the first shared line is not looked at."""
    head = "<h1>Council approves harbour bridge</h1><p>By Jane Doe, 29 November</p>"
    assert lead_of(head, ["Council approves harbour bridge", "By Jane Doe"]) == []
    tree = page("")
    index = BlockIndex(tree, BODY)
    blocks = [index.block(line) for line in BODY]
    second = "\n".join([BODY[0], LEAD, *BODY[1:]])
    assert [b.text for b in add_second_lead(blocks, tree, second, Body([]))] == BODY


SCRIPT = "(function() { window.dataLayer.push({'event': 'article_view'}); })();"


def test_captions_list_items_links_and_code_are_no_lead() -> None:
    """A caption, a toolbar's list item, a link, or a script readability let
    through (it ends like a sentence) are no lead."""
    head = (
        f"<figure><img src='pier.jpg'><figcaption>{CAPTION}</figcaption></figure>"
        f"<ul class='tools'><li>{ITEM}</li></ul>"
        f"<p><a href='/port'>{LINKED}</a></p>"
    )
    assert lead_of(head, [CAPTION, ITEM, LINKED, SCRIPT]) == []


def test_readability_on_another_part_of_the_page_adds_nothing() -> None:
    """When no line of readability's text is in ours, it chose another part of the
    page (a sidebar's teasers): none of its lines is a lead."""
    tree = page(f"<p>{LEAD}</p>")
    index = BlockIndex(tree, BODY)
    blocks = [index.block(line) for line in BODY]
    second = "\n".join([LEAD, CAPTION, ITEM] * 3)
    assert [b.text for b in add_second_lead(blocks, tree, second, Body([]))] == BODY


def test_a_links_class_names_the_link_not_a_box() -> None:
    """An affiliate link to a product (a buyer's guide's line) or a link opening a
    pop-up is no box around the line; an affiliate disclosure box is."""
    guide = lxml_html.fromstring(
        "<div class='entry'><p><a class='affiliate-link popup-trigger' href='/go/1'>"
        "Harbour Walker waterproof boots</a></p></div>"
    )
    box = lxml_html.fromstring(
        "<div class='affiliate-notice'><p>We earn a commission on these.</p></div>"
    )
    assert not is_marked_furniture(next(guide.iter("a")))
    assert is_marked_furniture(next(box.iter("p")))
