"""Pages that are not articles: bot challenges, consent walls, error pages; paywall teasers.

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

A paywall teaser is still an article: it is emitted with ``paywalled: true``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lxml.html import HtmlElement

# The body must be shorter than this (words) for the text-based verdicts to apply.
SHORT_BODY_WORDS = 150
# A paywalled page whose body has fewer words than this is a teaser.
TEASER_MAX_WORDS = 350


@dataclass(frozen=True)
class Verdict:
    """Why a page is not an article: ``reason`` is the counter name."""

    reason: str
    detail: str = ""


# --- bot protection / JavaScript challenges ---------------------------------------------

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
    {"challenge-form", "cf-challenge-running", "challenge-running", "px-captcha",
     "challenge-error-text", "cf-error-details"}
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
    re.IGNORECASE,
)

# --- consent walls -------------------------------------------------------------------------

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
    re.IGNORECASE,
)

# --- error pages ---------------------------------------------------------------------------

_ERROR_TITLE = re.compile(
    r"(\b(404|410|500|502|503)\b|page (was )?not found|^not found\b|"
    r"no longer (available|exists)|does(n't| not) exist|page unavailable|^error\b|"
    r"internal server error|service unavailable|an error (has )?occurred)",
    re.IGNORECASE,
)
_ERROR_TEXT = re.compile(
    r"(page (you (were|are) looking for|you requested) (could not be found|"
    r"(does not|doesn't) exist|(is|was) not found|(has been|may have been) (removed|moved))|"
    r"(sorry|oops)[,!.]? (we|that page|this page|the page)|error 404|404 error|"
    r"page not found)",
    re.IGNORECASE,
)

# --- paywalls ------------------------------------------------------------------------------

_PAYWALL_TEXT = re.compile(
    r"(subscribe (now )?to (continue|keep) reading|subscribers only|to continue reading"
    r"|already a subscriber|this (article|content|story) is (only )?(for|available to) "
    r"(subscribers|members)|(sign|log) in to (continue|read)|"
    r"unlock (this|the full) (article|story)|register to continue reading|"
    r"become a (subscriber|member) to read)",
    re.IGNORECASE,
)
# Class or id names of paywall containers and premium bodies.
_PAYWALL_CLASS = re.compile(
    r"paywall|premium-content|subscriber-only|subscribers-only|meteredcontent",
    re.IGNORECASE,
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


def short_page_verdict(tree: HtmlElement, title: str, body_words: int) -> Verdict | None:
    """For a page whose body is short: a challenge, consent wall or error page?"""
    if body_words >= SHORT_BODY_WORDS:
        return None
    text = _visible_text(tree)
    if _CHALLENGE_TEXT.search(text[:5000]):
        return Verdict("bot_challenge", "challenge text")
    page_title = " ".join((tree.findtext(".//title") or "").split()) or title
    consent_hits = {m.group(0).lower() for m in _CONSENT_TEXT.finditer(text[:20000])}
    consent_form = tree.xpath(
        '//form[contains(@action, "consent") or contains(@action, "gdpr")]'
    )
    if (consent_form or _CONSENT_TITLE.search(page_title)) and consent_hits or (
        len(consent_hits) >= 3
    ):
        return Verdict("consent_wall", ", ".join(sorted(consent_hits))[:200])
    heading = " ".join(" ".join(h.itertext()) for h in tree.iter("h1"))
    if _ERROR_TITLE.search(page_title) or _ERROR_TEXT.search(heading) or (
        _ERROR_TEXT.search(text[:3000])
    ):
        return Verdict("error_page", page_title[:120])
    return None


def _json_ld_free_flags(tree: HtmlElement) -> list[bool]:
    flags: list[bool] = []
    for raw in tree.xpath('//script[@type="application/ld+json"]/text()'):
        if "isAccessibleForFree" not in raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            match = re.search(r'"isAccessibleForFree"\s*:\s*"?(true|false)', raw, re.I)
            if match:
                flags.append(match.group(1).lower() == "true")
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "isAccessibleForFree" in item:
                    value = item["isAccessibleForFree"]
                    flags.append(str(value).lower() not in ("false", "0", "no"))
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
    return flags


_NOT_SHOWN = re.compile(
    r"<(script|style|noscript|template)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE
)
_TAG = re.compile(r"<[^>]*>")


def is_paywalled(tree: HtmlElement, source: str, body_words: int) -> bool:
    """True when the page says its content is restricted and the body is a teaser.

    ``source`` is the decoded HTML: the paywall prompt is searched in its text with
    regular expressions (a third of the cost of walking the tree's text nodes).
    """
    if body_words >= TEASER_MAX_WORDS:
        return False
    if False in _json_ld_free_flags(tree):
        return True
    if any(_PAYWALL_CLASS.search(name) for name in tree.xpath("//@class | //@id")):
        return True
    shown = _TAG.sub(" ", _NOT_SHOWN.sub(" ", source))
    return bool(_PAYWALL_TEXT.search(" ".join(shown.split())))
