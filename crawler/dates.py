"""Dates: one parser for every date newsites reads, from feeds and sitemaps to pages.

Three readings of a date string, for three uses:

* ``parse_date``: an RFC 822 or ISO 8601 date as an aware ``datetime`` (naive is UTC),
  for dates newsites wrote itself or compares exactly (``--since``, the seen store).
* ``parse_date_hint`` / ``date_from_url``: a date an entry point gives for an
  article, as an *upper bound* of the instant it means. A date without a time zone
  could be local time anywhere on earth, so it is read as the latest instant it can
  mean (a date alone is the end of that day; either is then taken at UTC-12). A
  hint never makes an article look older than it is; the exact check happens after
  extraction.
* ``parse_any_date``: the ISO 8601 text of a date as a page writes it, machine or
  human ("January 5, 2012" -> "2012-01-05"), kept naive when the page gives no zone.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime

# The latest UTC offset on earth is UTC-12: local times are at most 12 h behind UTC.
_LATEST_OFFSET = timedelta(hours=12)
_DATE_ONLY = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$")


# --- exact dates ----------------------------------------------------------------


def parse_date(value: str) -> datetime | None:
    """Parse an RFC 822 or ISO 8601 date; naive results are taken as UTC."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --- upper bounds (entry points) ------------------------------------------------


def parse_date_hint(value: str) -> datetime | None:
    """A date as an upper bound of the instant it means (see the module docstring).

    ``2024-11-03`` -> 2024-11-04T11:59:59Z; ``2024-11-03T10:00`` -> 22:00Z;
    ``2024-11-03T10:00+01:00`` -> exactly 09:00Z. RFC 822 dates always carry a zone.
    """
    value = (value or "").strip()
    if match := _DATE_ONLY.match(value):  # W3C: YYYY, YYYY-MM or YYYY-MM-DD
        return _end_of_period(match)
    parsed = parse_date(value)
    if parsed is None:
        return None
    try:
        naive = datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None
    except ValueError:
        naive = False  # RFC 822: parsedate_to_datetime gave a zone (or -0000 = UTC)
    return parsed + _LATEST_OFFSET if naive else parsed


def _end_of_period(match: re.Match[str]) -> datetime | None:
    """The latest instant of a W3C year, month or day (None for a bad month/day)."""
    year, month = int(match["y"]), int(match["m"] or 12)
    try:
        day = date(year, month, int(match["d"] or calendar.monthrange(year, month)[1]))
    except (ValueError, calendar.IllegalMonthError):
        return None
    return datetime.combine(day, time(23, 59, 59), UTC) + _LATEST_OFFSET


_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d{2})[/-](?P<m>0?[1-9]|1[0-2])"
    r"(?:[/-](?P<d>0?[1-9]|[12]\d|3[01]))?(?=[/-])"
)
_URL_DATE_COMPACT = re.compile(
    r"/(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])/"
)


def date_from_url(url: str) -> datetime | None:
    """The date written in a URL path (``/2024/11/29/``, ``/2024-11-29-``,
    ``/20241129/``, ``/2024/11/``), as an upper bound.

    A year and month alone give the month's last day.
    """
    match = _URL_DATE.search(url) or _URL_DATE_COMPACT.search(url)
    if not match:
        return None
    year, month = int(match["y"]), int(match["m"])
    day = int(match["d"]) if match["d"] else calendar.monthrange(year, month)[1]
    try:
        end_of_day = datetime(year, month, day, 23, 59, 59, tzinfo=UTC)
    except ValueError:  # 2024/02/31
        return None
    return end_of_day + _LATEST_OFFSET


# --- dates as pages write them --------------------------------------------------

_MONTHS = (
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%b. %d, %Y",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%d.%m.%Y",
)
_HUMAN_DATE = re.compile(
    r"(\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}"
    r"|\d{4}/\d{2}/\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4})"
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")

# Unix time in seconds or milliseconds, as some sites put in article:published_time.
_EPOCH = re.compile(r"\d{10}(?:\d{3})?")
# Java's Date.toString() ("Fri Apr 28 19:20:36 CEST 2023"), printed by many CMSs.
_JAVA_DATE = re.compile(
    r"[A-Z][a-z]{2} ([A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2}) ([A-Z]{2,5}) (\d{4})"
)
# Offsets of the zone names Java prints most; another name gives a local time.
_ZONE_HOURS = {
    "UTC": 0,
    "GMT": 0,
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "IST": 5.5,
    "CST": -6,
    "CDT": -5,
    "EST": -5,
    "EDT": -4,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "JST": 9,
    "KST": 9,
}


def parse_any_date(raw: str) -> str | None:
    """ISO 8601 of a machine or human date ("January 5, 2012" -> "2012-01-05")."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if _EPOCH.fullmatch(raw):
        return _epoch_date(raw)
    if java := _JAVA_DATE.search(raw):
        return _java_date(java)
    match = _HUMAN_DATE.search(raw)
    if not match:
        return None
    found = match.group(1)
    if _ISO_DAY.match(found):
        return _iso_date(found)
    return _human_date(found)


def _epoch_date(raw: str) -> str | None:
    seconds = int(raw) / (1000 if len(raw) == 13 else 1)
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _java_date(match: re.Match[str]) -> str | None:
    try:
        local = datetime.strptime(f"{match[1]} {match[3]}", "%b %d %H:%M:%S %Y")
    except ValueError:
        return None
    hours = _ZONE_HOURS.get(match[2])
    if hours is None:
        return local.isoformat()
    return local.replace(tzinfo=timezone(timedelta(hours=hours))).isoformat()


def _iso_date(found: str) -> str:
    """An ISO 8601 date or date-time, naive when it has no zone; the day alone when
    the time does not parse."""
    if len(found) == 10:
        return found
    parsed = parse_date(found.replace(" ", "T", 1))
    if parsed is None:
        return found[:10]
    if not _ISO_ZONE.search(found):
        return parsed.replace(tzinfo=None).isoformat()
    return parsed.isoformat()


def _human_date(found: str) -> str | None:
    """A written date ("Jan 5, 2012", "5 January 2012", "05.01.2012") as its day."""
    cleaned = found.replace(",", ", ").replace(",  ", ", ")
    for fmt in _MONTHS:
        for candidate in (found, cleaned):
            try:
                return datetime.strptime(candidate, fmt).date().isoformat()
            except ValueError:
                continue
    return None
