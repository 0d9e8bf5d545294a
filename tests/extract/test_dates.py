"""Timestamps in several languages and zones; the year-from-reference rule; URL dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from newsarchive.extract.dates import parse_timestamp, url_date


def tz(hours: float) -> timezone:
    return timezone(timedelta(minutes=round(hours * 60)))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-03T10:00:00Z", datetime(2024, 5, 3, 10, 0, tzinfo=UTC)),
        ("2024-05-03T10:00:00.123+0200", datetime(2024, 5, 3, 10, 0, 0, 123000, tzinfo=tz(2))),
        ("2024-05-03 10:00:00 +02:00", datetime(2024, 5, 3, 10, 0, tzinfo=tz(2))),
        ("2024-05-03T10:00:00-04:00", datetime(2024, 5, 3, 10, 0, tzinfo=tz(-4))),
        ("20240503T1000Z", datetime(2024, 5, 3, 10, 0, tzinfo=UTC)),
        ("2024-05-03", datetime(2024, 5, 3)),
    ],
)
def test_iso_8601(raw, expected):
    value = parse_timestamp(raw)
    assert value == expected
    assert (value.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1484822880", datetime(2017, 1, 19, 10, 48, tzinfo=UTC)),
        ("1484822880000", datetime(2017, 1, 19, 10, 48, tzinfo=UTC)),
        ("1484822880.5", datetime(2017, 1, 19, 10, 48, 0, 500000, tzinfo=UTC)),
        # a 9- or 11-digit number is an id, not a time
        ("123456789", None),
        ("12345678901", None),
    ],
)
def test_epoch_seconds_and_milliseconds(raw, expected):
    assert parse_timestamp(raw) == expected


def test_epoch_shown_in_the_given_zone_is_the_same_instant():
    value = parse_timestamp("1484822880", timezone="Europe/Moscow")
    assert value.utcoffset() == timedelta(hours=3)
    assert value.hour == 13
    assert value == datetime(2017, 1, 19, 10, 48, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        ("January 19, 2017 13:48 UTC+3", "en", datetime(2017, 1, 19, 13, 48, tzinfo=tz(3))),
        ("Jan. 5, 2024 3:45 p.m. EST", "en", datetime(2024, 1, 5, 15, 45, tzinfo=tz(-5))),
        ("Mon, 03 May 2024 12:00:00 GMT", "en", datetime(2024, 5, 3, 12, 0, tzinfo=UTC)),
        ("Updated 5:07 PM EDT, Fri May 3, 2024", "en", datetime(2024, 5, 3, 17, 7, tzinfo=tz(-4))),
        ("Fri Apr 28 19:20:36 CEST 2023", "de", datetime(2023, 4, 28, 19, 20, 36, tzinfo=tz(2))),
        ("19 января 2017, 13:48 МСК", "ru", datetime(2017, 1, 19, 13, 48, tzinfo=tz(3))),
        ("30 июня 2023 г., 09:05 (MSK)", "ru", datetime(2023, 6, 30, 9, 5, tzinfo=tz(3))),
        ("3. März 2024, 14:05 Uhr", "de", datetime(2024, 3, 3, 14, 5)),
        ("28.04.2023 19:20", "de", datetime(2023, 4, 28, 19, 20)),
        ("le 5 juin 2023 à 18h30", "fr", datetime(2023, 6, 5, 18, 30)),
        ("mardi 12 décembre 2023, 08:15 GMT+1", "fr", datetime(2023, 12, 12, 8, 15, tzinfo=tz(1))),
        ("21 de marzo de 2024 10:15 CET", "es", datetime(2024, 3, 21, 10, 15, tzinfo=tz(1))),
        ("2026.01.29 18:40", "ko", datetime(2026, 1, 29, 18, 40)),
        ("14:30, 2 September 2022 (GMT+05:30)", "en", datetime(2022, 9, 2, 14, 30, tzinfo=tz(5.5))),
        ("2024-05-03T10:00:00 EST", "en", datetime(2024, 5, 3, 10, 0, tzinfo=tz(-5))),
        ("2024-05-03 10:00 GMT+3", "en", datetime(2024, 5, 3, 10, 0, tzinfo=tz(3))),
    ],
)
def test_written_dates_in_several_languages_and_zones(raw, language, expected):
    value = parse_timestamp(raw, language=language)
    assert value == expected
    assert (value.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        ("04/28/2023", None, datetime(2023, 4, 28)),
        ("28/04/2023", None, datetime(2023, 4, 28)),
        ("03/05/2024", "en-GB", datetime(2024, 5, 3)),
        ("03/05/2024", "en-US", datetime(2024, 3, 5)),
        ("03.05.2024", "en-US", datetime(2024, 5, 3)),
    ],
)
def test_numeric_day_month_order(raw, language, expected):
    assert parse_timestamp(raw, language=language) == expected


def test_naive_result_takes_the_given_zone():
    value = parse_timestamp("28.04.2023 19:20", timezone="Europe/Berlin")
    assert value.tzinfo == ZoneInfo("Europe/Berlin")
    assert value.utcoffset() == timedelta(hours=2)


def test_stated_zone_beats_the_default_zone():
    value = parse_timestamp("2024-05-03T10:00:00Z", timezone="Europe/Moscow")
    assert value.utcoffset() == timedelta(0)


def test_unknown_default_zone_is_ignored():
    assert parse_timestamp("2024-05-03 10:00", timezone="Mars/Olympus") == datetime(2024, 5, 3, 10, 0)


@pytest.mark.parametrize(
    ("raw", "reference", "expected"),
    [
        # the seed page: the URL or page context says 2017
        ("January 19, 13:48 UTC+3", datetime(2017, 1, 25), datetime(2017, 1, 19, 13, 48, tzinfo=tz(3))),
        # late December seen in early January belongs to the year before
        ("December 30, 10:00", datetime(2018, 1, 2), datetime(2017, 12, 30, 10, 0)),
        ("30 декабря, 10:00", datetime(2018, 1, 2, tzinfo=UTC), datetime(2017, 12, 30, 10, 0)),
        # the same day as the reference, later in the day (zone differences): same year
        ("March 3, 23:30", datetime(2020, 3, 3, 12, 0), datetime(2020, 3, 3, 23, 30)),
    ],
)
def test_year_comes_from_the_reference(raw, reference, expected):
    assert parse_timestamp(raw, reference=reference) == expected


def test_year_in_string_wins_over_reference():
    assert parse_timestamp("19 January 2015", reference=datetime(2020, 1, 1)) == datetime(2015, 1, 19)


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "no date here", "Copyright", "99/99/2024", "2024-13-45", "x" * 500,
     # a month name inside a word, a year read as a day, a month without a day
     "5 Marathon 2024", "Im Juli 1993 wurde", "October 2020", "Mayday 12 2020"],
)
def test_not_a_timestamp(raw):
    assert parse_timestamp(raw) is None


@pytest.mark.parametrize(("raw", "language"), [("vor 2 Stunden", "de"), ("3 hours ago", "en"),
                                                ("Prieš 8 min.", "lt"), ("yesterday", None)])
def test_relative_times_are_not_timestamps(raw, language):
    # without the fetch time they cannot be placed; an archive must not invent one
    assert parse_timestamp(raw, language=language, reference=datetime(2024, 5, 3, 12, 0)) is None


def test_unusual_absolute_dates_reach_dateparser():
    assert parse_timestamp("dimanche 5 mai 2024", language="fr") == datetime(2024, 5, 5)
    assert parse_timestamp("2 Eylül 2022 14:30", language="tr") == datetime(2022, 9, 2, 14, 30)
    assert parse_timestamp("2024年5月3日 10時30分", language="ja") == datetime(2024, 5, 3, 10, 30)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/news/2024/05/03/story", datetime(2024, 5, 3)),
        ("https://example.org/2024-05-03-story.html", datetime(2024, 5, 3)),
        ("https://en.yna.co.kr/view/AEN20240805006051320", datetime(2024, 8, 5)),
        ("https://example.org/world/12345678/story", None),
        ("https://example.org/2024/13/40/story", None),
        (None, None),
    ],
)
def test_url_date(url, expected):
    assert url_date(url) == expected
