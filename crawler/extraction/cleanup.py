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
from dataclasses import dataclass

# Each pattern must match a whole paragraph (fullmatch, case-insensitive). A phrase
# that also begins real sentences ("Read more about...", "Share prices...") only
# matches in its furniture form: followed by a separator and a headline, or alone.
FURNITURE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # "ALSO READ: headline" / "Also Read | headline" / "READ MORE - headline":
        # a cross-link line (one ending like a sentence is kept, see below).
        r"(also read|read also|read more|related|see also|must read|recommended)"
        r"\s*[:|\-–—]\s*.{0,160}",
        # Post navigation, alone or with the linked headline after a separator.
        r"(previous|next|prev|older|newer)\s+(story|article|post)(\s*[:|»›>\-–—]\s*.{0,160})?",
        r"\d{1,3}\s+min(ute)?s?\s+read",
        # Share / follow prompts, with nothing but network names after them.
        r"(share|share this( article| story| post)?|share on|follow us|follow us on)"
        r"\s*[:|]?\s*((facebook|twitter|x|whatsapp|linkedin|telegram|email|e-mail|print"
        r"|reddit|pinterest|instagram|youtube|copy link)[\s,|/]*)*",
        r"(click here to|tap here to)\s.{0,80}",
        r"(advertisement|advertisment)",
        r"go\s*to\s*top|back\s*to\s*top",
        r"(facebook conversations|reader comments(\s*\(\d+\))?|comments?\s*\(\d+\)"
        r"|leave a (reply|comment))",
        # A <noscript> notice.
        r"(please )?(enable|turn on) javascript.{0,100}",
        # The paywall's prompt under a teaser (the teaser itself is kept).
        r"(subscribe|sign in|log in|register)( now)? to (continue|keep) reading.{0,60}",
        # A photo credit on a line of its own: a credit label and a name ("Foto:
        # Jane Doe / dpa", "Crédit photo : ...", "Titelbild: ...", "Copyright: Jane
        # Doe"), or an agency's name alone or before a photographer's ("Getty
        # Images", "AFP / Jane Doe"). A wire story's closing rights line without
        # the label's colon ("Copyright 2019 ... All rights reserved.") is not
        # one: reference texts keep it.
        r"(photos?|fotos?|bild(er)?|titelbild|image|imagen|picture|copyright"
        r"|cr[ée]dits?( photos?)?|photo credits?|fotograf[ií]as?)\s*:\s*.{0,60}"
        r"|(afp|dpa|reuters|ap|epa|getty images|imago( images)?|picture[- ]alliance"
        r"|shutterstock|istock(photo)?|keystone|ansa|efe|pap)(\s*/\s*.{1,60})?",
        # A source label on a line of its own, alone or with a short source ("Quelle:
        # Landesamt", "Source: Ministry of Health", "Fuente:"): the body's own sentences
        # name their sources in prose. Measured on trafilatura-eval (stop 23): 40 such
        # lines on 25 sites, none in a "with" snippet.
        r"(quellen?(angaben)?|bildquellen?|sources?|fuentes?|źródło)\s*:\s*.{0,80}",
        # An advertising disclosure: the label alone or opening a short line
        # ("Anzeige", "*Werbung. Dieser Beitrag enthält ...", "Anzeige, enthält
        # Affiliate Links"), or a sentence saying the post holds paid links or ads.
        r"\*?(anzeige|werbung|advertorial|sponsored|affiliate[- ]links?|publicidad"
        r"|publicit[ée])\s*([.:|\-–—*]\s*.{0,160}|,\s*(enth(ä|ae)lt|contains).{0,140})?"
        r"|(this (post|article|page|story) (contains|may contain|includes)"
        r"|dieser (beitrag|artikel|post) enth(ä|ae)lt) (affiliate|sponsored|paid"
        r"|advertising|ads\b|references to products|werbung|anzeigen"
        r"|produktplatzierung).{0,140}",
    )
)

# The heading of a box of links to other articles ("You may also like", "Related
# stories", "Lesen Sie auch:", "Notas relacionadas", ...), alone on its line: its
# links go as link lines (selector), but the heading is no link and stays behind.
# In the languages of the corpora's sites; a site's name may follow some ("Most read
# in world news", "Mehr zum Thema auf example.de"). At most ``RELATED_MAX_WORDS``.
RELATED_HEADING = re.compile(
    r"(you (may|might) (also )?like|related( (posts?|articles?|stories|news|content"
    r"|reading|coverage))?|more (stories|news|articles|on this( story| topic)?"
    r"|from .{1,40})|read (more|next|also)|also read|see also|recommended( for you"
    r"| stories| reading)?|most (read|popular)( .{1,40})?|further reading"
    r"|explore further|don'?t miss|up next|what to read next"
    r"|ähnliche (beiträge|artikel)|weitere (themen|artikel|beiträge|nachrichten)"
    r"( .{1,40})?|mehr (themen|zum thema|dazu)( .{1,40})?|lesen sie (auch|mehr)"
    r"( .{1,40})?|das könnte sie auch interessieren|auch interessant|zum weiterlesen"
    r"|verwandte (artikel|beiträge)|top-themen( .{1,40})?|meistgelesen"
    r"|notas relacionadas|noticias relacionadas|art[ií]culos relacionados"
    r"|(también )?te puede interesar|lee también|más (noticias|sobre .{1,40})"
    r"|te recomendamos|você pode gostar|leia também|veja também"
    r"|not[ií]cias relacionadas|posts relacionados|mais lidas|(à )?lire aussi"
    r"|sur le même sujet|articles similaires|vous aimerez aussi|leggi anche"
    r"|articoli correlati|potrebbe interessarti|lees ook|gerelateerde artikelen"
    r"|czytaj (także|też)|zobacz (także|też)|polecamy)\s*(:|\.\.\.|…)?",
    re.IGNORECASE,
)
RELATED_MAX_WORDS = 8

# A label that opens the page's tag or category list ("Tags:", "Schlagwörter",
# "Temas", "Category"), alone on its line: it and the short lines after it (the tags)
# are the list, not the article.
TAG_LABEL = re.compile(
    r"[-•*]?\s*(tags?|schlagw(ö|oe)rter|stichw(ö|oe)rter|themen|temas|etiquetas"
    r"|tópicos|mots-clés|categor(y|ies|ia|ía|ie)|kategorie)\s*:?",
    re.IGNORECASE,
)
# A tag line is shorter than this and no sentence (a comma-separated list of tags
# can be long).
TAG_LINE_MAX_WORDS = 40

# A call to action addressed to the reader: subscribe, the newsletter, sign up, follow
# us (or the author) on a network, support our work, share it, listen to the show.
# Sites close their articles with one or two such lines; inside the article the
# same words are news ("the subscription price rose"), so only the closing lines
# (``CLOSING_LINES``, at most ``PROMPT_MAX_WORDS`` words each) are judged. "Follow up
# on" is news prose ("police will follow up on the reports"), not a network.
READER_PROMPT = re.compile(
    r"\b(subscribe|subscription|newsletter|sign(ing)? up|follow (us|(?!up\b)\w+) on"
    r"|support our|share (it|this)|listen (to|back)|suscr[ií]b|únete|síguenos"
    r"|folge uns|inscreva|assine)",
    re.IGNORECASE,
)
CLOSING_LINES = 3
PROMPT_MAX_WORDS = 40
PROMPT_LABEL_WORDS = 6
# A call to action speaks to the reader: it opens a clause with its verb
# ("Subscribe ...", "Never miss a story: sign up ..."), names the reader or the site
# ("you", "our", "unseren", "nuestras", "votre"), exclaims, or is a label of a few
# words ("Zum Newsletter anmelden"). A closing news sentence with the same words
# ("The minister did not share this view.") does none of these.
READER_ADDRESS = re.compile(
    r"\b(you|your|our|us|we|unser\w*|sie|nuestr\w*|nos|vous|votre|vos|nosso|nossa"
    r"|seu|sua|te)\b|[!?]",
    re.IGNORECASE,
)

# A reporting credit closing a story: who reported, wrote, edited or contributed
# ("(Reporting by A; Editing by B)", "Additional reporting from PA", "With files
# from The Associated Press", "A and B contributed to this report.", "(Con
# información de AFP y EFE)", "Mit Material von dpa"). Wire services and the papers
# that run their copy close stories with one; it names the staff, not the news.
# Only the closing lines are judged (``CLOSING_LINES``, at most
# ``PROMPT_MAX_WORDS`` words).
CREDIT_LABEL = re.compile(
    r"[\W_]*((with |additional |further )?(reporting|files|writing|editing) (by|from)"
    r"|con (información|reporte) de|mit material (von|der)"
    r"|avec (l'|l’)?(afp|ap|reuters))\b",
    re.IGNORECASE,
)
# "... contributed to this report." is a credit whatever precedes it.
CONTRIBUTED = re.compile(
    r".+\bcontributed (reporting|to this (report|story|article))\b.{0,80}",
    re.IGNORECASE,
)
# After a credit label come names, agencies and the joining words between them; a
# sentence that opens with the same words ("Reporting by the paper found that ...")
# is news. Lower-case words other than these are counted: at most
# ``CREDIT_MAX_OTHER_WORDS`` (a job title: "writer", "correspondent").
CREDIT_WORDS = frozenset(
    "and by with from in at of the for reporting editing writing additional further"
    " files y e de la del und von der et".split()
)
CREDIT_MAX_OTHER_WORDS = 2
_WORD_RUN = re.compile(r"\w+")

# The writer's contact closing a story: an e-mail address or a profile on a
# network, alone or after a label ("jane.doe@example.com", "twitter.com/janedoe",
# "Email: jane@example.com"). With more words it is a sentence or a signature
# that names the writer ("Columnist Jane Doe jane@example.com"), which reference
# texts may count as body. Only the closing lines are judged (``CLOSING_LINES``).
_CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"
    r"|(https?://)?(www\.)?(twitter|x|facebook|instagram|linkedin|threads)\.(com|net)"
    r"/[\w.@/-]+",
    re.IGNORECASE,
)
_LABEL_WORD = re.compile(r"[^\W\d_][\w-]*")
CONTACT_LABEL_WORDS = 1
CONTACT_MAX_CHARS = 120

# "ALSO READ" lines look like headlines; a real sentence ending with a period after
# the colon is body text ("Read more: the minister said ... ."), so it is kept.
_SENTENCE_END = re.compile(r"[.!?…][\"”’)]?$")


_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\ufeff]")
_ZERO_WIDTH_CHARS = ("\u200b", "\u200c", "\u200d", "\ufeff")
_SPACE_RUN = re.compile(r"[ \t\r\f\v]+")
# What ``_SPACE_RUN`` changes: without any of these, every run is one space already.
_SPACE_RUN_MARKS = ("  ", "\t", "\r", "\f", "\v")


def normalize_space(text: str) -> str:
    """NFC, non-breaking and zero-width spaces to plain spaces, runs collapsed.

    Called on every line, often more than once: each expression runs only when a
    plain search (much faster than a regular expression's scan) says it has
    something to change."""
    if not text.isascii():  # ASCII text is NFC and holds none of those characters
        text = unicodedata.normalize("NFC", text)
        text = text.replace("\u00a0", " ").replace("\u202f", " ")
        text = text.replace("\u2009", " ")
        if any(char in text for char in _ZERO_WIDTH_CHARS):
            text = _ZERO_WIDTH.sub("", text)
    if any(mark in text for mark in _SPACE_RUN_MARKS):
        text = _SPACE_RUN.sub(" ", text)
    return text.strip()


def normalize_field(text: str) -> str:
    """``normalize_space`` until it holds, for a record's field: a first pass that
    removes a zero-width character can leave a letter and its combining mark side by
    side (``e\\u200b\\u0301``), which only a second pass composes (``é``)."""
    return normalize_space(normalize_space(text))


# Scripts written without spaces between words: Han, kana, Thai, Lao, Tibetan,
# Myanmar, Khmer. Their length is counted in characters (Korean Hangul is written
# with spaces, so it counts by words like Latin).
UNSPACED_RANGES = (
    r"\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff"
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
UNSPACED = re.compile(f"[{UNSPACED_RANGES}]")
# Characters of those scripts that make one word, for length floors and
# ``word_count``: Chinese and Japanese words average under two characters, so a
# 40-word floor asks for 80 characters there, a short paragraph.
CHARS_PER_WORD = 2


def count_words(text: str) -> int:
    """Words in ``text``, script-aware: white-space separated words, plus the
    characters of scripts written without spaces, ``CHARS_PER_WORD`` to a word."""
    if text.isascii():  # no unspaced script: skip the search (called ~200 times a page)
        return len(text.split())
    unspaced = len(UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    spaced = sum(1 for token in text.split() if not UNSPACED.search(token))
    return spaced + -(-unspaced // CHARS_PER_WORD)


def is_related_heading(paragraph: str) -> bool:
    """True when a whole paragraph is the heading of a box of links to other
    articles (``RELATED_HEADING``, at most ``RELATED_MAX_WORDS`` words)."""
    text = paragraph.strip()
    # The expression fails at the first words of nearly every paragraph; counting
    # words reads all of it.
    if not RELATED_HEADING.fullmatch(text):
        return False
    return count_words(text) <= RELATED_MAX_WORDS


def drop_tag_lists(paragraphs: list[str]) -> list[str]:
    """``paragraphs`` without tag lists: a ``TAG_LABEL`` line and the lines after it
    up to the next sentence or long line (the tags, one a line or comma-separated).
    """
    kept: list[str] = []
    in_tags = False
    for text in paragraphs:
        if TAG_LABEL.fullmatch(text.strip()):
            in_tags = True
            continue
        if in_tags and count_words(text) <= TAG_LINE_MAX_WORDS and not is_prose(text):
            continue
        in_tags = False
        kept.append(text)
    return kept


def drop_closing_prompts(paragraphs: list[str]) -> list[str]:
    """``paragraphs`` without the calls to action (``READER_PROMPT``), reporting
    credits (``is_reporting_credit``) and contacts (``is_contact``) among their last
    ``CLOSING_LINES``; the first paragraph always stays."""
    start = max(1, len(paragraphs) - CLOSING_LINES)
    closing = [
        text
        for text in paragraphs[start:]
        if not (is_reader_prompt(text) or is_reporting_credit(text) or is_contact(text))
    ]
    return paragraphs[:start] + closing


def is_reporting_credit(text: str) -> bool:
    """A line of ``PROMPT_MAX_WORDS`` words or fewer that credits the reporting: a
    ``CREDIT_LABEL`` followed by names (``CREDIT_WORDS`` aside, at most
    ``CREDIT_MAX_OTHER_WORDS`` lower-case words), or ``CONTRIBUTED``."""
    text = text.strip()
    if count_words(text) > PROMPT_MAX_WORDS:
        return False
    label = CREDIT_LABEL.match(text)
    if label is None:
        return bool(CONTRIBUTED.fullmatch(text))
    other = [
        word
        for word in _WORD_RUN.findall(text[label.end() :])
        if word.islower() and word not in CREDIT_WORDS
    ]
    return len(other) <= CREDIT_MAX_OTHER_WORDS


def is_contact(text: str) -> bool:
    """A line of ``CONTACT_MAX_CHARS`` or fewer that is an e-mail address or a
    network profile (``_CONTACT``) with at most ``CONTACT_LABEL_WORDS`` other word."""
    if len(text) > CONTACT_MAX_CHARS or not _CONTACT.search(text):
        return False
    return len(_LABEL_WORD.findall(_CONTACT.sub(" ", text))) <= CONTACT_LABEL_WORDS


def is_reader_prompt(text: str) -> bool:
    """A short line with a call to action (``READER_PROMPT``) that speaks to the
    reader (a label of ``PROMPT_LABEL_WORDS`` words or fewer, the call opens a
    clause, or ``READER_ADDRESS``)."""
    words = count_words(text)
    if words > PROMPT_MAX_WORDS:
        return False
    found = READER_PROMPT.search(text)
    if found is None:
        return False
    if words <= PROMPT_LABEL_WORDS:
        return True
    before = text[: found.start()].rstrip()
    opens_clause = not before or before[-1] in ":.!?-–—|"
    return opens_clause or bool(READER_ADDRESS.search(text))


# A timestamp shown as a paragraph of its own at the start or end of the body: the
# page's date line ("Stand: 28.04.2020 18:00 Uhr", "segunda-feira, 22 de janeiro de
# 2018 às 0:13", "July 7, 2020", "Updated at 1:23 p.m."), which the three corpora's
# references leave out (the record has it as ``date``). A date is a numeric one
# (28.04.2020, 2020-04-28) or a day and a year; a time is hh:mm (hh h mm) with its
# am/pm.
_NUMERIC_DATE = re.compile(
    r"\b(\d{1,2}[./-]\d{1,2}[./-](19|20)?\d\d|(19|20)\d\d-\d\d-\d\d)\b"
)
_DAY_AND_YEAR = re.compile(r"\b\d{1,2}\b.*\b(19|20)\d\d\b|\b(19|20)\d\d\b.*\b\d{1,2}\b")
_CLOCK = re.compile(r"\b\d{1,2}[:h]\d\d\b(\s*[ap]\.?m\.?)?", re.IGNORECASE)
_LETTER_RUN = re.compile(r"[^\W\d_]+")
TIMESTAMP_MAX_CHARS = 80
# Words of letters besides the date and time: a label, a weekday, a month, "Uhr",
# a zone ("Posted: Thursday, April 21, 2022. 10:11 pm CST."). A line with a date
# or a time alone has fewer: more is a sentence that mentions a date.
TIMESTAMP_WORDS = 6
TIMESTAMP_WORDS_DATE_OR_TIME = 3


def is_timestamp(paragraph: str) -> bool:
    """A short line that is a date and time, a date or a time with at most a few
    words around them (``TIMESTAMP_WORDS``, ``TIMESTAMP_WORDS_DATE_OR_TIME``). An
    embedded post's signature ("— Jane Doe (@jane) May 2, 2019") is not one: it
    closes a quote the article shows."""
    text = paragraph.strip()
    if len(text) > TIMESTAMP_MAX_CHARS or "@" in text:
        return False
    dated = bool(_NUMERIC_DATE.search(text) or _DAY_AND_YEAR.search(text))
    timed = bool(_CLOCK.search(text))
    if not (dated or timed):
        return False
    words = len(_LETTER_RUN.findall(_CLOCK.sub(" ", text)))
    limit = TIMESTAMP_WORDS if dated and timed else TIMESTAMP_WORDS_DATE_OR_TIME
    return words <= limit


def drop_edge_timestamps(paragraphs: list[str]) -> list[str]:
    """``paragraphs`` without the timestamps (``is_timestamp``) that open or close
    them; all of them when nothing else is left."""
    start, end = 0, len(paragraphs)
    while start < end and is_timestamp(paragraphs[start]):
        start += 1
    while end > start and is_timestamp(paragraphs[end - 1]):
        end -= 1
    return paragraphs[start:end] or paragraphs


# A byline shown as a paragraph of its own ("By Jane Doe", "von Jane Doe",
# "Publicado por Jane Doe", "Jane Doe"): the author's name and at most
# ``BYLINE_OTHER_WORDS`` other words. Only names of two words or more are looked
# for: one word ("Reuters", "Staff") also names agencies, products and places the
# body speaks of. A line quoting the name in code or data ('"name": "Jane Doe"')
# is no byline.
BYLINE_OTHER_WORDS = 2
BYLINE_MAX_CHARS = 100
_CODE_MARKS = re.compile(r"[\"{}\[\];=<>]")


def drop_bylines(paragraphs: list[str], authors: Iterable[str]) -> list[str]:
    """``paragraphs`` without the lines that are a byline of ``authors``; all of
    them when nothing else is left."""
    names = [a.lower() for a in authors if len(a.split()) >= 2]
    if not names:
        return paragraphs
    kept = [p for p in paragraphs if not _is_byline(p, names)]
    return kept or paragraphs


def _is_byline(paragraph: str, names: list[str]) -> bool:
    """``paragraph`` holds one of ``names`` (lower case) as whole words and at most
    ``BYLINE_OTHER_WORDS`` other words."""
    text = paragraph.strip()
    if len(text) > BYLINE_MAX_CHARS:
        return False
    rest = text.lower()
    found = [name for name in names if name in rest]  # most lines: none
    if not found or _CODE_MARKS.search(text):
        return False
    replaced = 0
    for name in found:
        rest, n = re.subn(rf"(?<!\w){re.escape(name)}(?!\w)", " ", rest)
        replaced += n
    return bool(replaced) and len(_LETTER_RUN.findall(rest)) <= BYLINE_OTHER_WORDS


# Closing quotes of every convention: ” ’ (English), “ ‘ (German), » « › (French,
# Swiss, Nordic).
PROSE_END = re.compile(r"[.!?…:;\"”’“‘»«›)\]。！？」』]$")


def is_prose(text: str) -> bool:
    """A sentence: eight words (script-aware: ``count_words``) or 60 characters or
    more, ending like a sentence."""
    text = text.strip()
    long_enough = len(text) >= 60 or count_words(text) >= 8
    return long_enough and bool(PROSE_END.search(text))


def text_key(text: str) -> str:
    """Word tokens of ``text``, lower-cased, joined by single spaces: what the
    clean-up and the markup rules compare lines by."""
    return " ".join(_WORD_RUN.findall(text)).lower()


# All of them in one expression: most paragraphs match none, and one search rules
# them out (an alternation matches the whole text when one of its branches does).
_ANY_FURNITURE = re.compile(
    "|".join(f"(?:{p.pattern})" for p in FURNITURE_PATTERNS), re.IGNORECASE
)


def is_furniture(paragraph: str) -> bool:
    """True when a whole paragraph is page furniture by the generic rules."""
    text = paragraph.strip()
    if not text or len(text) > 200 or not _ANY_FURNITURE.fullmatch(text):
        return False
    for pattern in FURNITURE_PATTERNS:
        if pattern.fullmatch(text):
            if pattern is FURNITURE_PATTERNS[0] and _SENTENCE_END.search(text):
                return False  # "Read more: the minister said ... ." is a sentence
            return True
    return False


_BLANK_LINE = re.compile(r"\n\s*\n")


def split_blocks(paragraphs: Iterable[str]) -> list[str]:
    """Paragraphs as the record's text holds them: one per block, split at a blank
    line inside one, each normalized (``normalize_space``), none empty; joined with
    ``"\\n\\n"`` they are a text with exactly one blank line between paragraphs."""
    return [
        block
        for paragraph in paragraphs
        for block in map(normalize_space, _BLANK_LINE.split(paragraph))
        if block
    ]


def clean_paragraphs(
    paragraphs: Iterable[str],
    *,
    title: str = "",
    description: str = "",
    captions: Iterable[str] = (),
    clutter_phrases: Iterable[str] = (),
) -> list[str]:
    """Drop furniture, the repeated title, captions, site clutter, adjacent repeats,
    related-links headings, tag lists and closing calls to action."""
    rules = _PageRules(
        title_key=text_key(title),
        desc_key=text_key(description),
        caption_keys=frozenset(text_key(c) for c in captions if c.strip()),
        phrases=tuple(p.lower() for p in clutter_phrases if p.strip()),
    )
    previous = ""
    kept: list[str] = []
    for raw in paragraphs:
        text = normalize_space(raw)
        key = text_key(text)
        if not key:
            continue
        if key == previous:
            continue  # the same paragraph twice in a row: markup shown twice
        if rules.drops(text, key):
            continue
        previous = key
        kept.append(text)
    return drop_closing_prompts(drop_tag_lists(kept))


@dataclass(frozen=True)
class _PageRules:
    """What ``clean_paragraphs`` drops on one page, besides adjacent repeats."""

    title_key: str
    desc_key: str
    caption_keys: frozenset[str]
    phrases: tuple[str, ...]  # the site's clutter phrases, lower case

    def drops(self, text: str, key: str) -> bool:
        """True when a paragraph (normalized ``text``, its ``key``) is the title or
        the description repeated, a caption, site clutter or page furniture."""
        if self.title_key and key == self.title_key:
            return True
        if self.desc_key and key == self.desc_key:
            return True
        if key in self.caption_keys:
            return True
        if self.phrases and text.lower().startswith(self.phrases):
            return True
        return is_furniture(text) or is_related_heading(text)
