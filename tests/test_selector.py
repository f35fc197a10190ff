"""Rules of ``crawler.extraction.selector`` on small pages written for them."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from crawler.extraction.selector import is_marked_furniture

# (markup, the tag of the line's element, whether it is in a marked box)
MARKED_CASES = [
    # A link's classes name the link (an affiliate link to a product, a link that
    # opens a pop-up), not a box around the line ...
    (
        "<div class='entry'><p><a class='affiliate-link popup-trigger' href='/go/1'>"
        "Harbour Walker waterproof boots</a></p></div>",
        "a",
        False,
    ),
    # ... a disclosure box is one.
    (
        "<div class='disclosure-notice'><p>We earn a commission on these.</p></div>",
        "p",
        True,
    ),
    # Blogging software writes a post's tags and categories as classes of its
    # element: a post tagged "copyright" is no copyright notice ...
    (
        '<article class="post tag-copyright category-disclosure">'
        '<div class="entry"><p>A paragraph.</p></div></article>',
        "p",
        False,
    ),
    # ... a site's copyright box is one.
    (
        '<div class="site-copyright"><div><p>All rights reserved.</p></div></div>',
        "p",
        True,
    ),
]


@pytest.mark.parametrize(
    ("markup", "tag", "marked"),
    MARKED_CASES,
    ids=["affiliate link", "disclosure box", "post tagged copyright", "copyright box"],
)
def test_a_line_is_in_a_marked_box_by_its_containers_classes(
    markup: str, tag: str, marked: bool
) -> None:
    line = next(lxml_html.fromstring(markup).iter(tag))
    assert is_marked_furniture(line) is marked
