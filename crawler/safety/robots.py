"""robots.txt as RFC 9309 says, where Scrapy's RobotsTxtMiddleware is lenient.

Scrapy parses whatever robots.txt response it gets (a 503 error page included) and
allows everything when the download fails. RFC 9309 section 2.3.1 says:

* 4xx ("unavailable"): the crawler may access any resource (allow all);
* 5xx or no answer ("unreachable"): assume complete disallow; we keep that for the
  rest of the run (each host's robots.txt is fetched once per run);
* a crawler must parse at least 500 KiB; we read ``ROBOTSTXT_MAX_BYTES`` and stop
  the download there. ``DOWNLOAD_MAXSIZE`` still applies, so a robots.txt announced
  larger than that, or a compressed one inflating past it, counts as unreachable
  (disallow all) instead of costing memory.

The spider reads robots.txt too (``robots_sitemaps``: its ``Sitemap:`` lines). That
request is answered with the robots.txt this middleware already fetched for the host
(``robotstxt/reused``), so each host's robots.txt is downloaded once per run.

Counters: ``robotstxt/allow_all/4xx``, ``robotstxt/disallow_all/5xx``,
``robotstxt/disallow_all/unreachable``, ``robotstxt/truncated``,
``robotstxt/reused`` (besides Scrapy's ``robotstxt/forbidden`` for each refused
request).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

ALLOW_ALL = b""
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
_META_KEY = "newsites_robots_bytes"


class SafeRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware with RFC 9309 error handling and a size cap."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_bytes = crawler.settings.getint("ROBOTSTXT_MAX_BYTES")
        #: (scheme, netloc) -> the robots.txt response fetched for it (2xx/3xx only)
        self._responses: dict[tuple[str, str], Response] = {}
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    async def process_request(  # type: ignore[override]
        self, request: Request
    ) -> Response | None:
        # without the `spider` argument, deprecated since Scrapy 2.14
        await super().process_request(request)
        if request.meta.get("dont_obey_robotstxt"):
            return None
        parsed = urlparse_cached(request)
        if parsed.path != "/robots.txt" or parsed.query:
            return None
        fetched = self._responses.get((parsed.scheme, parsed.netloc))
        if fetched is None:
            return None
        self._stats.inc_value("robotstxt/reused")
        return fetched.replace(url=request.url, request=request)

    def _bytes_received(
        self, data: bytes, request: Request, spider: Any = None
    ) -> None:
        if _META_KEY not in request.meta or not self.max_bytes:
            return
        request.meta[_META_KEY] += len(data)
        if request.meta[_META_KEY] > self.max_bytes:
            self._stats.inc_value("robotstxt/truncated")
            raise StopDownload(fail=False)

    async def robot_parser(self, request: Request) -> Any:
        # Scrapy's method, with the robots.txt request capped by ROBOTSTXT_MAX_BYTES.
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            scheme = urlparse_cached(request).scheme
            robotsreq = Request(
                f"{scheme}://{netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                meta={
                    "dont_obey_robotstxt": True,
                    _META_KEY: 0,
                },
                callback=NO_CALLBACK,
            )
            try:
                resp = await self.crawler.engine.download_async(robotsreq)
                await self._parse_robots(resp, netloc, request)
            except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
                if not isinstance(exc, IgnoreRequest):
                    logger.warning("robots.txt of %s unreachable: %s", netloc, exc)
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            # Not `await maybe_deferred_to_future(parser)` (Scrapy >= 2.13): asFuture()
            # consumes the shared Deferred's result, so every request waiting after
            # the first got None, i.e. "allowed", and a disallowed page was fetched.
            # Each waiter gets its own Deferred, as before scrapy/scrapy#6802.
            mine: Deferred[Any] = Deferred()

            def fan_out(result: Any) -> Any:
                mine.callback(result)
                return result

            parser.addBoth(fan_out)
            return await maybe_deferred_to_future(mine)
        return parser

    async def _parse_robots(
        self, response: Response, netloc: str, request: Request
    ) -> None:
        status = response.status
        if 400 <= status < 500:
            self._stats.inc_value("robotstxt/allow_all/4xx")
            body = ALLOW_ALL
        elif status >= 500:
            self._stats.inc_value("robotstxt/disallow_all/5xx")
            logger.warning(
                "robots.txt of %s answered %d: disallow all (RFC 9309)", netloc, status
            )
            body = DISALLOW_ALL
        else:
            body = response.body[: self.max_bytes] if self.max_bytes else response.body
            key = (urlparse_cached(request).scheme, netloc)
            self._responses[key] = response.replace(body=body)
        await super()._parse_robots(response.replace(body=body), netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if not isinstance(exc, IgnoreRequest):
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._stats.inc_value("robotstxt/disallow_all/unreachable")
        rp_dfd = self._parsers[netloc]
        parser = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        self._parsers[netloc] = parser
        if isinstance(rp_dfd, Deferred):
            rp_dfd.callback(parser)
