"""``parsing.parse_html``: the same tree trafilatura's ``load_html`` builds, for the
inputs whose handling it re-implements for speed (UTF-8 bytes parsed as they came,
the repair of invalid characters, a self-closing doctype or ``<html/>``), and for
the odd ones that must keep the library's path (other encodings, a text with a lone
surrogate)."""

from __future__ import annotations

import gzip

import pytest
from lxml import etree
from trafilatura.utils import load_html

from crawler.extraction.parsing import parse_html

SENTENCE = "Die Stadtverwaltung stellte am Montag neue Pläne vor"
BODY = "<p>" + " ".join([SENTENCE] * 8) + ".</p>"
DECLARED = '<?xml version="1.0" encoding="utf-8"?>' + "{}"
PAGE = (
    "<html lang='de'><head><title>Neue Pläne für den Hafen</title>"
    "<meta charset='iso-8859-1'></head><body><article><h1>Neue Pläne für den Hafen"
    f"</h1>{BODY}<!-- a comment -->{BODY}</article></body></html>"
)

# A page of many lines, longer than the head the repairs look at.
LONG = PAGE.replace("</article>", "\n" + "<p>Weitere Zeile.</p>\n" * 300 + "</article>")

CASES: dict[str, bytes | str] = {
    "text": PAGE,
    "utf-8 bytes": PAGE.encode(),
    "latin-1 bytes, as the meta says": PAGE.encode("latin-1"),
    "utf-16 bytes": PAGE.encode("utf-16"),
    "xml declaration, text": DECLARED.format(PAGE),
    "xml declaration, bytes": DECLARED.format(PAGE).encode(),
    "control characters, text": PAGE.replace("Pläne vor", "Pl\x01ne\x0b vor\ufffe"),
    "control characters, bytes": PAGE.replace("Pläne", "Pl\x01ne\uffff").encode(),
    "nul byte": PAGE.replace("Montag", "Mon\x00tag").encode(),
    "lone surrogate, text": PAGE.replace("Pläne vor", "Pl\ud800ne vor"),
    "gzip": gzip.compress(PAGE.encode()),
    "self-closing doctype": "<!DOCTYPE html/>\n" + PAGE,
    "doctype without a line break": "<!DOCTYPE html>" + PAGE,
    "self-closing html tag": "<html/>\n" + PAGE,
    "control characters, long page": LONG.replace("Pläne vor", "Pl\x01ne vor"),
    "self-closing doctype, long page": "<!DOCTYPE html/>\n" + LONG,
    "self-closing html tag, long page": "<html/>\n" + LONG,
    "byte order mark": b"\xef\xbb\xbf" + PAGE.encode(),
    "cut inside a character": PAGE.encode()[:-5] + "é".encode()[:1],
}


def _shape(tree: etree._Element) -> list[tuple[str, str]]:
    """The tree's elements and their text, comments aside (ours drops them as it
    parses; trafilatura's loader keeps them for its cleaning to remove)."""
    return [
        (str(el.tag), (el.text or "") + "|" + (el.tail or ""))
        for el in tree.iter()
        if isinstance(el.tag, str)
    ]


@pytest.mark.parametrize("page", CASES.values(), ids=CASES.keys())
def test_the_tree_is_trafilaturas(page: bytes | str) -> None:
    ours, _ = parse_html(page)
    theirs = load_html(page)
    assert theirs is not None
    assert _shape(ours) == _shape(theirs)
    assert "Stadtverwaltung" in ours.text_content()
