import datetime as dt

import pytest

from flows.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT5M", dt.timedelta(minutes=5)),
        ("PT1S", dt.timedelta(seconds=1)),
        ("P1D", dt.timedelta(days=1)),
        ("P1DT2H", dt.timedelta(days=1, hours=2)),
        ("PT0.5S", dt.timedelta(milliseconds=500)),
        ("PT0,5S", dt.timedelta(milliseconds=500)),
        ("P2W", dt.timedelta(weeks=2)),
        ("P1W2D", dt.timedelta(days=9)),
        ("PT1H30M15S", dt.timedelta(hours=1, minutes=30, seconds=15)),
        ("P1.5D", dt.timedelta(days=1, hours=12)),
        ("PT0S", dt.timedelta()),
        ("pt5m", dt.timedelta(minutes=5)),
        (" PT5M ", dt.timedelta(minutes=5)),
        ("+PT1M", dt.timedelta(minutes=1)),
    ],
)
def test_parse_duration_accepts_iso_8601(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["10:00", "5 minutes", "300", "", "P", "PT", "P1DT", "P1H", "T5M", "PT5X"]
)
def test_parse_duration_rejects_non_iso_forms(text):
    with pytest.raises(ValueError, match="is not an ISO 8601 duration"):
        parse_duration(text)


def test_parse_duration_rejects_non_strings():
    with pytest.raises(ValueError, match="is not an ISO 8601 duration"):
        parse_duration(300)


@pytest.mark.parametrize("text", ["P1Y", "P1M", "P1Y2M3D", "P2MT5M"])
def test_parse_duration_rejects_years_and_months_as_not_fixed(text):
    with pytest.raises(ValueError, match="years or months, which have no fixed"):
        parse_duration(text)


def test_parse_duration_rejects_negative_durations():
    with pytest.raises(ValueError, match="'-PT5M' is negative"):
        parse_duration("-PT5M")


def test_parse_duration_rejects_overflow_with_a_message():
    with pytest.raises(ValueError, match="too long"):
        parse_duration("P999999999999D")


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (dt.timedelta(minutes=5), "PT5M"),
        (dt.timedelta(days=1, hours=2), "P1DT2H"),
        (dt.timedelta(milliseconds=500), "PT0.5S"),
        (dt.timedelta(days=3), "P3D"),
        (dt.timedelta(hours=36), "P1DT12H"),
        (dt.timedelta(minutes=1, seconds=30), "PT1M30S"),
        (dt.timedelta(seconds=1, microseconds=1), "PT1.000001S"),
        (dt.timedelta(), "PT0S"),
        (dt.timedelta(minutes=-5), "-PT5M"),
    ],
)
def test_format_duration_writes_the_short_iso_form(td, text):
    assert format_duration(td) == text


@pytest.mark.parametrize(
    "td",
    [
        dt.timedelta(days=400, hours=23, minutes=59, seconds=59, microseconds=999999),
        dt.timedelta(weeks=2),
        dt.timedelta(microseconds=1),
        dt.timedelta(hours=1),
    ],
)
def test_format_then_parse_round_trips(td):
    assert parse_duration(format_duration(td)) == td
