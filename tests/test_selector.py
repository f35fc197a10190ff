"""Rules of ``crawler.extraction.selector`` on small pages written for them."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.extraction.selector import is_marked_furniture


def test_a_links_class_names_the_link_not_a_box() -> None:
    """An affiliate link to a product (a buyer's guide's line) or a link opening a
    pop-up is no box around the line; a disclosure box is."""
    guide = lxml_html.fromstring(
        "<div class='entry'><p><a class='affiliate-link popup-trigger' href='/go/1'>"
        "Harbour Walker waterproof boots</a></p></div>"
    )
    box = lxml_html.fromstring(
        "<div class='disclosure-notice'><p>We earn a commission on these.</p></div>"
    )
    assert not is_marked_furniture(next(guide.iter("a")))
    assert is_marked_furniture(next(box.iter("p")))


def test_a_post_tagged_copyright_is_no_copyright_notice() -> None:
    """Blogging software writes the post's tags and categories as classes of its
    element: a post tagged "copyright" is not a copyright notice."""
    post = lxml_html.fromstring(
        '<article class="post tag-copyright category-disclosure"><div class="entry">'
        '<p>A paragraph.</p></div></article>'
    )
    notice = lxml_html.fromstring(
        '<div class="site-copyright"><div><p>All rights reserved.</p></div></div>'
    )
    assert not is_marked_furniture(next(post.iter("p")))
    assert is_marked_furniture(next(notice.iter("p")))
