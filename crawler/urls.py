"""URL normalization: one canonical form per article, so three URLs make one record."""

from __future__ import annotations

import re
from urllib.parse import urlparse, urlunparse

from w3lib.url import canonicalize_url, url_query_cleaner

# Parameters that only track where a click came from; they never change the page.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gclsrc|msclkid|mc_cid|mc_eid|yclid|igshid|"
    r"_ga|_gl|ref_src|ref_url|cmpid|ito|at_medium|at_campaign|ns_source|ns_mchannel|"
    r"ns_campaign|ocid|sr_share|s_cid|share|smid|spm|__twitter_impression)$",
    re.IGNORECASE,
)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, sorted query."""
    parts = urlparse(url.strip())
    if parts.query:
        names = [kv.split("=", 1)[0] for kv in parts.query.split("&") if kv]
        drop = [n for n in names if TRACKING_PARAMS.match(n)]
        if drop:
            url = url_query_cleaner(url, drop, remove=True, keep_fragments=False)
            parts = urlparse(url)
    netloc = parts.netloc.lower()
    if netloc.endswith(":80") and parts.scheme == "http":
        netloc = netloc[:-3]
    if netloc.endswith(":443") and parts.scheme == "https":
        netloc = netloc[:-4]
    cleaned = urlunparse((parts.scheme.lower(), netloc, parts.path or "/", parts.params,
                          parts.query, ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def same_site(url: str, domains: tuple[str, ...]) -> bool:
    """True when ``url``'s host is one of ``domains`` or a subdomain of one."""
    host = (urlparse(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)
