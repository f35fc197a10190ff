"""crawler/dates.py: exact dates, upper-bound hints, URL dates, dates as pages write.

Hints are upper bounds (a hint must never make an article look older than it is),
so each hint test says which instant a value stands for.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.dates import date_from_url, parse_any_date, parse_date, parse_date_hint


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- exact dates and upper bounds ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-03T10:00:00Z", utc(2024, 11, 3, 10)),
        ("2024-11-03T10:00:00+02:00", utc(2024, 11, 3, 8)),
        ("Sun, 03 Nov 2024 10:00:00 GMT", utc(2024, 11, 3, 10)),
        ("Sun, 03 Nov 2024 10:00:00 -0500", utc(2024, 11, 3, 15)),
        ("2024-11-03", utc(2024, 11, 3)),  # naive: UTC
        ("", None),
        ("yesterday", None),
    ],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # with a zone: exact
        ("2024-11-03T10:00:00Z", utc(2024, 11, 3, 10)),
        ("2024-11-03T10:00:00+01:00", utc(2024, 11, 3, 9)),
        ("Sun, 03 Nov 2024 10:00:00 GMT", utc(2024, 11, 3, 10)),
        # no zone: local time anywhere on earth, latest at UTC-12
        ("2024-11-03T10:00:00", utc(2024, 11, 3, 22)),
        ("2024-11-03", utc(2024, 11, 4, 11, 59, 59)),
        ("2024-11", utc(2024, 12, 1, 11, 59, 59)),
        ("2024", utc(2025, 1, 1, 11, 59, 59)),
        ("2024-13", None),
        ("2024-02-30", None),
        ("soon", None),
    ],
)
def test_parse_date_hint_is_an_upper_bound(
    value: str, expected: datetime | None
) -> None:
    assert parse_date_hint(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/2024/11/29/storm.html", utc(2024, 11, 30, 11, 59, 59)),
        ("https://x.example/news/2024-11-29-storm", utc(2024, 11, 30, 11, 59, 59)),
        ("https://x.example/2024/1/5/storm", utc(2024, 1, 6, 11, 59, 59)),
        ("https://x.example/20241129/storm", utc(2024, 11, 30, 11, 59, 59)),
        ("https://x.example/2024/02/storm", utc(2024, 3, 1, 11, 59, 59)),  # month end
        ("https://x.example/2024/02/31/storm", None),  # no such day
        ("https://x.example/article/2019-12345", None),  # an id, not a date
        ("https://x.example/news/2024/", None),  # a year alone says too little
        ("https://x.example/story/storm", None),
    ],
)
def test_date_from_url(url: str, expected: datetime | None) -> None:
    assert date_from_url(url) == expected


# --- dates as pages write them ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        # ISO 8601: the day alone, a time kept naive without a zone, a zone kept
        ("2012-01-05", "2012-01-05"),
        ("2012-01-05T22:01:00+05:00", "2012-01-05T22:01:00+05:00"),
        ("2012-01-05T22:01:00Z", "2012-01-05T22:01:00+00:00"),
        ("2012-01-05T22:01:00.250+0100", "2012-01-05T22:01:00.250000+01:00"),
        ("2012-01-05 22:01", "2012-01-05T22:01:00"),
        ("published 2012-01-05T22:01:00Z by the desk", "2012-01-05T22:01:00+00:00"),
        ("2012-01-05T25:61", "2012-01-05"),  # a time that is none: the day
        # written dates: the day
        ("January 5, 2012", "2012-01-05"),
        ("Jan 5 2012", "2012-01-05"),
        ("Jan. 5, 2012", "2012-01-05"),
        ("5 Jan 2012", "2012-01-05"),
        ("5 January 2012", "2012-01-05"),
        ("Posted: January 5, 2012 at noon", "2012-01-05"),
        ("2012/01/05", "2012-01-05"),
        ("05/01/2012", "2012-01-05"),  # day first
        ("05.01.2012", "2012-01-05"),
        ("Smarch 5, 2012", None),  # no such month
        ("no date here", None),
        ("", None),
    ],
)
def test_parse_any_date(raw: str, iso: str | None) -> None:
    assert parse_any_date(raw) == iso


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("1714638600000", "2024-05-02T08:30:00+00:00"),  # epoch milliseconds
        ("1714638600", "2024-05-02T08:30:00+00:00"),  # epoch seconds
        ("Thu May 02 10:30:00 CEST 2024", "2024-05-02T10:30:00+02:00"),  # Java
        ("Thu May 02 10:30:00 EDT 2024", "2024-05-02T10:30:00-04:00"),
        ("Thu May 02 10:30:00 IST 2024", "2024-05-02T10:30:00+05:30"),
        ("Thu May 02 10:30:00 ABCT 2024", "2024-05-02T10:30:00"),  # unknown zone
        ("Thu Foo 02 10:30:00 CEST 2024", None),  # Java's shape, no month
    ],
)
def test_machine_dates_sites_print_are_parsed(raw: str, iso: str | None) -> None:
    assert parse_any_date(raw) == iso


@pytest.mark.parametrize(
    "raw",
    [
        "2012-01-05",
        "2012-01-05T22:01:00",
        "2012-01-05T22:01:00.250000+01:00",
        "2024-05-02T10:30:00+05:30",
        "2024-05-02T08:30:00+00:00",
    ],
)
def test_parse_any_date_gives_back_its_own_output(raw: str) -> None:
    """The record's ``date`` read again is the same ``date`` (nothing downstream
    needs to parse it twice)."""
    assert parse_any_date(raw) == raw
