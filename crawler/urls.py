"""URL normalization: one canonical form per article, so three URLs make one record."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Parameters that only track where a click came from; they never change the page.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gclsrc|msclkid|mc_cid|mc_eid|yclid|igshid|"
    r"_ga|_gl|ref_src|ref_url|cmpid|ito|at_medium|at_campaign|ns_source|ns_mchannel|"
    r"ns_campaign|ocid|sr_share|s_cid|share|smid|spm|__twitter_impression)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


#: bytes of a ``url_key``: two of ten million URLs share a key with odds of ~1e-15
URL_KEY_BYTES = 12


def url_key(url: str) -> bytes:
    """A compact stand-in for ``url`` in sets and maps the run keeps for every URL
    (12 bytes of BLAKE2b, ~45 bytes in memory where the URL string takes ~150).

    Only for looking up: a key cannot be turned back into its URL."""
    return hashlib.blake2b(url.encode("utf-8"), digest_size=URL_KEY_BYTES).digest()


def is_tracking_param(name: str) -> bool:
    """True when a query parameter only tracks the click (``utm_*``, ``fbclid``...)."""
    return bool(TRACKING_PARAMS.match(name))


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking
    parameters, query sorted (w3lib's ``canonicalize_url``).

    Repeated parameters keep every value (``?a=1&a=2`` is not ``?a=1``).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not is_tracking_param(unquote_plus(pair.split("=", 1)[0]))
    )
    netloc = parts.netloc.lower()
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port and netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    cleaned = urlunsplit((scheme, netloc, parts.path or "/", query, ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def try_normalize_url(url: str, base: str = "") -> str | None:
    """``normalize_url`` of ``url`` (joined to ``base`` if given), or None for a URL
    that cannot be parsed: a port that is not a number or out of range, a bracketed
    host that is no IP address. Links come from pages anyone writes; one such link
    must not end the parsing of the page."""
    try:
        return normalize_url(urljoin(base, url) if base else url)
    except ValueError:
        return None


def same_site(url: str, domains: tuple[str, ...]) -> bool:
    """True when ``url``'s host is one of ``domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)
