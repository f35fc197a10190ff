"""Refuse requests to non-HTTP schemes and to loopback, private or reserved addresses.

A page, a redirect or a meta refresh can point the crawler at ``169.254.169.254`` (the
cloud metadata service), ``127.0.0.1:6379`` or a host on the LAN. This middleware checks
every request before it is sent: the scheme must be http(s), and the host, or every
address its name resolves to, must be a public one. A redirect to another scheme
(``file:``, ``ftp:``), which Scrapy leaves unfollowed as a plain 3xx, is refused the
same way rather than failing as an HTTP error. The hosts named in the site files
(home, feeds, sitemaps, sections) and those in ``SAFETY_ALLOW_PRIVATE_HOSTS`` are
exempt: an operator who configures an intranet site means it.

Names are resolved through the reactor's resolver, whose cache the download then
uses, so the address checked is the address connected to.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urljoin, urlparse

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is a globally routable unicast address.

    Loopback, private (RFC 1918, ULA), link-local, shared (RFC 6598), reserved,
    multicast and unspecified addresses are not; an IPv4-mapped IPv6 address is
    judged by its IPv4 address.
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_reserved
        or ip.is_link_local
        or ip.is_loopback
        or ip.is_unspecified
        or ip.is_private
    )


def parse_allow_list(
    entries: list[str],
) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split ``SAFETY_ALLOW_PRIVATE_HOSTS`` into host names and networks (CIDR, IP)."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return frozenset(names), tuple(networks)


def _as_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


class AddressPolicyMiddleware:
    """Downloader middleware: refuse, before connecting, what must not be fetched.

    Counters: ``safety/blocked_scheme``, ``safety/blocked_address``,
    ``safety/allowed_private`` (an exempt host on a private address).
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("SAFETY_BLOCK_PRIVATE_ADDRESSES"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.allow_names, self.allow_networks = parse_allow_list(
            settings.getlist("SAFETY_ALLOW_PRIVATE_HOSTS")
        )
        # Replayed fixtures never reach the network: do not resolve their names.
        self.resolve_names = (settings.get("FIXTURES_MODE") or "").lower() != "replay"
        # `scrapy shell ./page.html` reads a local file: the only file:// user
        self.schemes = ALLOWED_SCHEMES | (
            {"file"} if settings.getbool("SAFETY_ALLOW_FILE_URLS") else set()
        )
        self._site_hosts: frozenset[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressPolicyMiddleware:
        return cls(crawler)

    def site_hosts(self) -> frozenset[str]:
        """Host names the site files point at (home, feeds, sitemaps, sections)."""
        if self._site_hosts is None:
            hosts: set[str] = set()
            for site in getattr(self.crawler.spider, "sites", {}).values():
                d = site.discovery
                for url in (site.home, *d.feeds, *d.sitemaps, *d.sections):
                    host = urlparse(url).hostname
                    if host:
                        hosts.add(host.lower())
            self._site_hosts = frozenset(hosts)
        return self._site_hosts

    def _refuse(self, event: str, request: Request, why: str) -> IgnoreRequest:
        self.stats.inc_value(f"safety/{event}")
        logger.warning("Refused %s: %s", request.url, why)
        return IgnoreRequest(f"safety: {why}")

    def _exempt(self, host: str, ip: IPAddress | None) -> bool:
        if host in self.allow_names or host in self.site_hosts():
            return True
        return ip is not None and any(ip in net for net in self.allow_networks)

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        scheme = (parts.scheme or "").lower()
        if scheme not in self.schemes:
            why = f"scheme {scheme!r} is not http(s)"
            raise self._refuse("blocked_scheme", request, why)
        if scheme == "file":
            return
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise self._refuse("blocked_address", request, "no host")
        literal = _as_ip(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        elif self._exempt(host, None) or not self.resolve_names:
            return None
        else:
            addresses = await self._resolve(host)
        for ip in addresses:
            if is_public_address(ip):
                continue
            if self._exempt(host, ip):
                self.stats.inc_value("safety/allowed_private")
                continue
            raise self._refuse(
                "blocked_address",
                request,
                f"{host} is {ip}, a non-public address (SAFETY_ALLOW_PRIVATE_HOSTS)",
            )
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        """A redirect to a non-HTTP scheme is a refused request, not a failed one."""
        location = response.headers.get("Location")
        if not 300 <= response.status < 400 or not location:
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        scheme = (urlparse(target).scheme or "").lower()
        if scheme in ALLOWED_SCHEMES:
            return response
        raise self._refuse(
            "blocked_scheme", request, f"redirect to scheme {scheme!r} is not http(s)"
        )

    async def _resolve(self, host: str) -> list[IPAddress]:
        """The address the download will use (the reactor resolver caches it)."""
        from twisted.internet import reactor

        try:
            resolving: Any = reactor.resolve(host)  # type: ignore[arg-type]
            resolved = await maybe_deferred_to_future(resolving)
        except Exception:  # noqa: BLE001 - the download reports the DNS error itself
            return []
        ip = _as_ip(str(resolved))
        return [ip] if ip is not None else []
