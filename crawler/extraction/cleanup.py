"""Clean-up of extracted paragraphs: drop what is unambiguously page furniture.

A rule fires only on a paragraph that stands alone and is entirely furniture (an
"ALSO READ: <headline>" line, a bare "Previous Story", a share prompt, a reading-time
line, the title or dek repeated, a duplicated caption). A body paragraph that merely
mentions such words is kept: every rule is anchored on the whole paragraph.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Each pattern must match a whole paragraph (fullmatch, case-insensitive).
FURNITURE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # "ALSO READ: headline" / "Also Read | headline" / "READ MORE: headline":
        # a cross-link line, short, in title case or upper case.
        r"(also read|read also|read more|related|see also|must read|recommended)\s*[:|\-–—]\s*.{0,160}",
        r"(previous|next|prev)\s+(story|article|post)",
        r"\d{1,3}\s+min(ute)?s?\s+read",
        r"(share|share this|share on|follow us|follow us on)\s*[:|]?\s*"
        r"((facebook|twitter|x|whatsapp|linkedin|telegram|email|print|reddit|pinterest)"
        r"[\s,|/]*)*",
        r"(click here to|tap here to)\s.{0,80}",
        r"(advertisement|advertisment|sponsored|story continues below advertisement)",
        r"go\s*to\s*top",
        r"(facebook conversations|reader comments(\s*\(\d+\))?|comments?\s*\(\d+\)|leave a (reply|comment))",
    )
)

# "ALSO READ" lines look like headlines; a real sentence ending with a period after
# the colon is body text ("Read more: the minister said ... ."), so it is kept.
_SENTENCE_END = re.compile(r"[.!?…][\"”’)]?$")


def normalize_space(text: str) -> str:
    """NFC, non-breaking and zero-width spaces to plain spaces, runs collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    text = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def is_furniture(paragraph: str) -> bool:
    """True when a whole paragraph is page furniture by the generic rules."""
    text = paragraph.strip()
    if not text or len(text) > 200:
        return False
    for pattern in FURNITURE_PATTERNS:
        if pattern.fullmatch(text):
            if pattern is FURNITURE_PATTERNS[0] and _SENTENCE_END.search(text):
                return False
            return True
    return False


def clean_paragraphs(
    paragraphs: Iterable[str],
    *,
    title: str = "",
    description: str = "",
    captions: Iterable[str] = (),
    clutter_phrases: Iterable[str] = (),
) -> list[str]:
    """Drop furniture, repeated title/dek, captions, site clutter and duplicate paragraphs."""
    title_key = _key(title)
    desc_key = _key(description)
    caption_keys = {_key(c) for c in captions if c.strip()}
    phrases = [p.lower() for p in clutter_phrases if p.strip()]
    previous = ""
    kept: list[str] = []
    for raw in paragraphs:
        text = normalize_space(raw)
        if not text:
            continue
        key = _key(text)
        if not key:
            continue
        if key == previous:
            continue  # the same paragraph twice in a row: markup shown twice
        if title_key and key == title_key:
            continue
        if desc_key and key == desc_key:
            continue
        if key in caption_keys:
            continue
        lowered = text.lower()
        if any(lowered.startswith(p) for p in phrases):
            continue
        if is_furniture(text):
            continue
        previous = key
        kept.append(text)
    return kept
