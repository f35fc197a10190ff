"""Retry 429 and 503 answers after the wait the server asks for, pausing the host.

Scrapy's ``RetryMiddleware`` retries at once, which is the wrong answer to "Too Many
Requests" (429) and "Service Unavailable" (503): RFC 9110 section 10.2.3 lets the
server say how long to wait in ``Retry-After`` (seconds, or an HTTP date). This
subclass, for the codes in ``RETRY_AFTER_HTTP_CODES``:

* honours ``Retry-After`` up to ``RETRY_AFTER_MAX_DELAY`` seconds; a server asking
  for longer is not retried (retrying sooner than asked is not polite);
* without the header, backs off exponentially: ``RETRY_AFTER_BACKOFF_BASE`` seconds,
  doubled at each retry, at most ``RETRY_AFTER_BACKOFF_MAX``;
* pauses the whole host (its download slot) for that time, since the server spoke
  about itself, not about one page. Requests to a paused host wait on a timer in
  ``process_request``; the reactor is never blocked.

Other retryable codes (500, 502...) and network errors are retried as Scrapy does,
and ``RETRY_TIMES`` bounds every kind. Counters: ``retry_after/honoured``,
``retry_after/backoff``, ``retry_after/too_long``, ``retry_after/bad_header``,
``retry_after/delayed_requests``, ``retry_after/paused_seconds``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet.task import deferLater

from crawler.middlewares import slot_key

logger = logging.getLogger(__name__)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date).

    None when the value is missing or malformed; a date in the past gives 0.
    """
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def _sleep(seconds: float) -> None:
    """Wait without blocking the reactor (asyncio or not)."""
    from twisted.internet import reactor

    await maybe_deferred_to_future(deferLater(reactor, seconds))  # type: ignore[arg-type]


class RetryAfterMiddleware(RetryMiddleware):
    """``RetryMiddleware`` that waits before retrying 429/503 (see the module doc)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        super().__init__(settings)  # NotConfigured when RETRY_ENABLED is off
        self.crawler = crawler
        self.stats = crawler.stats
        enabled = settings.getbool("RETRY_AFTER_ENABLED")
        codes = settings.getlist("RETRY_AFTER_HTTP_CODES") if enabled else []
        self.wait_codes = {int(code) for code in codes}
        self.max_delay = settings.getfloat("RETRY_AFTER_MAX_DELAY")
        self.backoff_base = settings.getfloat("RETRY_AFTER_BACKOFF_BASE")
        self.backoff_max = settings.getfloat("RETRY_AFTER_BACKOFF_MAX")
        self.paused_until: dict[str, float] = {}  # slot key -> time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def pause(self, key: str, seconds: float) -> None:
        """No request to ``key`` leaves before ``seconds`` from now."""
        until = time.monotonic() + seconds
        if until > self.paused_until.get(key, 0.0):
            self.paused_until[key] = until
        self.stats.inc_value("retry_after/paused_seconds", round(seconds))

    async def process_request(self, request: Request) -> None:
        if not self.paused_until:
            return None
        key = slot_key(request)
        counted = False
        # Loop: the pause may be extended by another 429 while this request waits.
        while (left := self.paused_until.get(key, 0.0) - time.monotonic()) > 0:
            if not counted:
                self.stats.inc_value("retry_after/delayed_requests")
                counted = True
            await _sleep(left)
        if counted:
            self.paused_until.pop(key, None)  # expired
        return None

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if (
            request.meta.get("dont_retry", False)
            or response.status not in self.wait_codes
            or response.status not in self.retry_http_codes
        ):
            return super().process_response(request, response)
        header = response.headers.get("Retry-After")
        wait = parse_retry_after(header.decode("latin-1") if header else None)
        if header and wait is None:
            self.stats.inc_value("retry_after/bad_header")
        key = slot_key(request)
        if wait is None:
            retries = int(request.meta.get("retry_times", 0))
            wait = min(self.backoff_base * 2**retries, self.backoff_max)
            outcome = "backoff"
        elif wait > self.max_delay:
            self.stats.inc_value("retry_after/too_long")
            logger.warning(
                "Not retrying %s: Retry-After %.0f s > RETRY_AFTER_MAX_DELAY %.0f s",
                request.url,
                wait,
                self.max_delay,
            )
            self.pause(key, self.max_delay)
            return response
        else:
            outcome = "honoured"
        self.pause(key, wait)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        self.stats.inc_value(f"retry_after/{outcome}")
        logger.info(
            "%s answered %d: retrying in %.1f s", request.url, response.status, wait
        )
        return retry
