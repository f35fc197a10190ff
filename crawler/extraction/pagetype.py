"""Pages that are not articles (bot challenges, consent walls, error pages, listings);
paywall teasers.

A news site answers 200 to many pages that are not the article: a bot-protection or
JavaScript challenge, a cookie-consent wall standing in for the page, a "page not
found" page. Emitting their text as an article is worse than emitting nothing, so each
is recognized and becomes ``ExtractionError(reason)``, counted as ``extract/<reason>``.

Two stages keep real articles safe:

* ``challenge_verdict`` runs before extraction on *structural* markers of the known
  protection services (the challenge form, its script, its title), which no article
  carries.
* ``short_page_verdict`` runs only when the extracted body is short (an article
  that merely mentions "cookies" or "404" has a long body and is never judged).

A listing (``looks_like_listing``: a body mostly made of teasers of the site's other
articles) is ``listing_like``; the spider's discovery never needs this, only extraction.

A paywall teaser is still an article: it is emitted with ``paywalled: true``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

# The body must be shorter than this (words) for the text-based verdicts to apply.
SHORT_BODY_WORDS = 150
# ... and shorter than this for the error page and JavaScript shell verdicts (an
# error page says a sentence or two; a short news brief is longer).
ERROR_MAX_WORDS = 60
# A paywalled page whose body has fewer words than this is a teaser.
TEASER_MAX_WORDS = 350


@dataclass(frozen=True)
class Verdict:
    """Why a page is not an article: ``reason`` is the counter name."""

    reason: str
    detail: str = ""


# --- bot protection / JavaScript challenges ---------------------------------

# Titles the protection services give their challenge pages (whole title).
_CHALLENGE_TITLES = re.compile(
    r"(just a moment\.*|attention required!? \| cloudflare|please wait\.*|"
    r"access to this page has been denied\.?|pardon our interruption\.*|"
    r"are you a robot\??|ddos-guard|security check|human verification|"
    r"verifying (that )?you are (a )?human\.*|checking your browser\.*|"
    r"sucuri website firewall - access denied|bot verification)",
    re.IGNORECASE,
)
# Element ids, script sources and form actions only challenge pages have (Cloudflare,
# PerimeterX, DataDome, Imperva/Incapsula, AWS WAF).
_CHALLENGE_IDS = frozenset(
    {
        "challenge-form",
        "cf-challenge-running",
        "challenge-running",
        "px-captcha",
        "challenge-error-text",
        "cf-error-details",
    }
)
_CHALLENGE_SOURCES = re.compile(
    r"(captcha-delivery\.com|/cdn-cgi/challenge-platform/h/|_Incapsula_Resource|"
    r"awswaf.*challenge|__cf_chl_)"
)
_CHALLENGE_TEXT = re.compile(
    r"(checking (if the site connection is secure|your browser before accessing)|"
    r"enable javascript and cookies to continue|"
    r"incapsula incident id|"
    r"verify(ing)? you are (a )?human|"
    r"press (and|&) hold to confirm you are)",
)

_JS_REQUIRED = re.compile(
    r"((enable|turn on|activate) javascript|"
    r"javascript (is )?(required|disabled|needed)|"
    r"requires javascript|javascript must be enabled)"
)

# --- consent walls -------------------------------------------------------------

_CONSENT_TITLE = re.compile(
    r"(before you continue|consent|cookie|privacy (settings|choices|preferences)|"
    r"we value your privacy|gdpr)",
    re.IGNORECASE,
)
_CONSENT_TEXT = re.compile(
    r"(accept all|reject all|agree (and|&) (continue|proceed)|manage (your )?"
    r"(options|preferences|settings|choices)|we and our (\d+ )?partners|"
    r"(store|access) information on (a|your) device|use (of )?cookies|"
    r"consent to (the use|our use)|legitimate interest)",
)

# --- error pages ---------------------------------------------------------------

_ERROR_TITLE = re.compile(
    r"(\b(404|410|500|502|503)\b|page (was )?not found|^not found\b|"
    r"no longer (available|exists)|does(n't| not) exist|page unavailable|^error\b|"
    r"internal server error|service unavailable|an error (has )?occurred)",
    re.IGNORECASE,
)
_ERROR_TEXT = re.compile(
    r"(page (you (were|are) looking for|you requested) (could not be found|"
    r"(does not|doesn't) exist|(is|was) not found|"
    r"(has been|may have been) (removed|moved))|"
    r"(sorry|oops)[,!.]? (we|that page|this page|the page)|error 404|404 error|"
    r"page not found)",
)

# --- paywalls ------------------------------------------------------------------

_PAYWALL_TEXT = re.compile(
    r"(subscribe (now )?to (continue|keep) reading|subscribers only|to continue reading"
    r"|already a subscriber|this (article|content|story) is (only )?(for|available to) "
    r"(subscribers|members)|(sign|log) in to (continue|read)|"
    r"unlock (this|the full) (article|story)|register to continue reading|"
    r"become a (subscriber|member) to read)",
)
# Class or id names of paywall containers and premium bodies (lower case).
_PAYWALL_NAMES = (
    "paywall",
    "premium-content",
    "subscriber-only",
    "subscribers-only",
    "meteredcontent",
)
# Words every paywall prompt above contains: the costly expression runs only when one
# of them is in the text (Python's regular expressions scan long texts slowly).
_PAYWALL_HINTS = (
    "subscri",
    "sign in",
    "log in",
    "unlock",
    "register",
    "member",
    "continue reading",
)


def _visible_text(tree: HtmlElement) -> str:
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts = root.xpath(
        ".//text()[not(ancestor::script) and not(ancestor::style)"
        " and not(ancestor::noscript) and not(ancestor::template)]"
    )
    return " ".join(" ".join(parts).split())


def challenge_verdict(tree: HtmlElement, title: str) -> Verdict | None:
    """A bot-protection / JavaScript challenge page, by its structure or title."""
    page_title = " ".join((tree.findtext(".//title") or title or "").split())
    if page_title and _CHALLENGE_TITLES.fullmatch(page_title):
        return Verdict("bot_challenge", f"title {page_title!r}")
    ids = set(tree.xpath("//@id"))
    if ids & _CHALLENGE_IDS:
        return Verdict("bot_challenge", "challenge markup")
    sources = tree.xpath("//script/@src | //iframe/@src | //form/@action")
    if any(_CHALLENGE_SOURCES.search(src) for src in sources):
        return Verdict("bot_challenge", "challenge script")
    return None


def short_page_verdict(
    tree: HtmlElement, title: str, body_words: int, body: str = ""
) -> Verdict | None:
    """For a page whose body is short: a challenge, consent wall, error page, or an
    application shell whose only text asks for JavaScript?"""
    if body_words >= SHORT_BODY_WORDS:
        return None
    if body_words < ERROR_MAX_WORDS and _JS_REQUIRED.search(body.lower()):
        return Verdict("js_required", body[:120])
    text = _visible_text(tree).lower()
    if _CHALLENGE_TEXT.search(text[:5000]):
        return Verdict("bot_challenge", "challenge text")
    page_title = " ".join((tree.findtext(".//title") or "").split()) or title
    consent = _consent_wall(tree, text, page_title)
    if consent is not None:
        return consent
    if body_words < ERROR_MAX_WORDS:
        return _error_page(tree, text, page_title)
    return None


def _consent_wall(tree: HtmlElement, text: str, page_title: str) -> Verdict | None:
    """A consent wall: consent prompts in the (lower-case, visible) ``text`` with a
    consent form or title, or three different prompts."""
    consent_hits = {m.group(0).lower() for m in _CONSENT_TEXT.finditer(text[:20000])}
    consent_form = tree.xpath(
        '//form[contains(@action, "consent") or contains(@action, "gdpr")]'
    )
    if (
        (consent_form or _CONSENT_TITLE.search(page_title))
        and consent_hits
        or (len(consent_hits) >= 3)
    ):
        return Verdict("consent_wall", ", ".join(sorted(consent_hits))[:200])
    return None


def _error_page(tree: HtmlElement, text: str, page_title: str) -> Verdict | None:
    """An error page: its title, an <h1> or the start of its text says so."""
    heading = " ".join(" ".join(h.itertext()) for h in tree.iter("h1"))
    if (
        _ERROR_TITLE.search(page_title)
        or _ERROR_TEXT.search(heading.lower())
        or (_ERROR_TEXT.search(text[:3000]))
    ):
        return Verdict("error_page", page_title[:120])
    return None


def _free_flags(objects: list[dict[str, Any]]) -> list[bool]:
    """The ``isAccessibleForFree`` values of the page's JSON-LD objects."""
    flags = []
    for obj in objects:
        part = obj.get("hasPart")
        for node in [obj, *(part if isinstance(part, list) else [part])]:
            if isinstance(node, dict) and "isAccessibleForFree" in node:
                value = str(node["isAccessibleForFree"]).lower()
                flags.append(value not in ("false", "0", "no"))
    return flags


_NOT_SHOWN = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def is_paywalled(
    tree: HtmlElement,
    source: str,
    body_words: int,
    json_ld: list[dict[str, Any]],
    last_paragraph: str = "",
    raw: bytes | None = None,
) -> bool:
    """True when the page says its content is restricted and the body is a teaser.

    Signals: JSON-LD ``isAccessibleForFree: false``, a paywall container's class or
    id, or a subscribe prompt in the page's text. The prompt follows the teaser, so
    it is looked for in the source after the body's last paragraph when that is found
    there (the whole source otherwise), tags and scripts removed by regular expressions.
    ``raw`` is the page's bytes, when the caller has them (``source`` decoded).
    """
    if body_words >= TEASER_MAX_WORDS:
        return False
    if False in _free_flags(json_ld):
        return True
    if _mentions_paywall_name(source, raw):
        names = " ".join(tree.xpath("//@class | //@id")).lower()
        if any(name in names for name in _PAYWALL_NAMES):
            return True
    start = source.find(last_paragraph[:40]) if len(last_paragraph) >= 40 else -1
    window = (source[start : start + 40000] if start >= 0 else source).lower()
    if not any(hint in window for hint in _PAYWALL_HINTS):
        return False
    shown = " ".join(_TAG.sub(" ", _NOT_SHOWN.sub(" ", window)).split())
    return bool(_PAYWALL_TEXT.search(shown))


_PAYWALL_NAME_BYTES = tuple(name.encode("ascii") for name in _PAYWALL_NAMES)


def _mentions_paywall_name(source: str, raw: bytes | None) -> bool:
    """Whether a paywall class or id name (``_PAYWALL_NAMES``, case aside) is
    anywhere in the page: the cheap test before its attributes are read.

    On the bytes when there are any: their ASCII letters are lower-cased without
    decoding (a fifth of the time of lower-casing the text), and in every encoding
    that writes ASCII as ASCII (all but UTF-16/32, which hold NUL bytes) the names,
    all ASCII, are found in the bytes wherever they are in the text."""
    if raw is not None and b"\x00" not in raw:
        lowered_bytes = raw.lower()
        return any(name in lowered_bytes for name in _PAYWALL_NAME_BYTES)
    lowered = source.lower()
    return any(name in lowered for name in _PAYWALL_NAMES)


# --- listings ------------------------------------------------------------------


def looks_like_listing(
    paragraphs: list[str],
    link_texts: Iterable[str],
    *,
    min_teasers: int = 5,
    min_share: float = 0.5,
) -> bool:
    """True when a body is mostly teasers of other articles, i.e. a listing page.

    ``link_texts`` are the texts of the page's links to *other* article URLs. The
    body is a listing when at least ``min_teasers`` paragraphs are teasers (see
    ``is_teaser``) and those paragraphs hold at least ``min_share`` of the body's
    words. A real article with a "related" box has a few such paragraphs, not half
    its text.
    """
    texts = {" ".join(t.split()).lower() for t in link_texts}
    # A headline has words; a one-word anchor counts only when it is URL-like (an
    # HTML sitemap shows URLs). "Business" alone would match too much.
    texts = {t for t in texts if len(t.split()) >= 2 or ("/" in t and len(t) >= 10)}
    if not texts or not paragraphs:
        return False
    teaser_words = teasers = 0
    for paragraph in paragraphs:
        flat = " ".join(paragraph.split()).lower()
        if is_teaser(flat, texts):
            teasers += 1
            teaser_words += len(flat.split())
    total = sum(len(p.split()) for p in paragraphs)
    return teasers >= min_teasers and teaser_words >= min_share * total


_HEADLINE_WORDS = 4  # a link text this long opening a paragraph is its headline
_BULLETS = "-–—•*· "


def is_teaser(paragraph: str, link_texts: set[str]) -> bool:
    """True when a (flattened, lower-case) paragraph is a teaser: one of the link
    texts is most of it (a headline, a URL) or opens it as a headline does
    ("Headline: summary...").

    A link *inside* a sentence is not a teaser: an article links names, topics and
    earlier stories in its own text ("... said <a>the minister</a> ..."), and with
    no ``[articles] allow`` every same-site link counts as an article link, tag and
    topic pages included.
    """
    words = len(paragraph.split())
    opening = paragraph.lstrip(_BULLETS)  # list items come as "- Headline ..."
    for text in link_texts:
        if text not in paragraph:
            continue
        size = len(text.split())
        if 2 * size >= words:
            return True
        if size >= _HEADLINE_WORDS and opening.startswith(text):
            return True
    return False
