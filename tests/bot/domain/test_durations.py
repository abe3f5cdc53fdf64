from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.durations import describe_due, format_duration, parse_duration

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("1d", timedelta(days=1)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("  2H ", timedelta(hours=2)),
        ("0h15m", timedelta(minutes=15)),
        ("120m", timedelta(hours=2)),
    ],
)
def test_parse_duration_accepts_compact_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["45", "30 minutes", "", "   ", "1.5h", "h", "m30", "30m2h", "-5m", "2 hours", "1w"]
)
def test_parse_duration_rejects_other_text_with_usage_hint(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration: use e\.g\. 30m, 2h, 1h30m, 1d"):
        parse_duration(text)


def test_parse_duration_error_quotes_the_input() -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_duration("30 minutes")
    assert str(excinfo.value) == '"30 minutes" is not a duration: use e.g. 30m, 2h, 1h30m, 1d'


def test_parse_duration_bare_number_string_explains_missing_unit() -> None:
    with pytest.raises(ValueError, match="bare number has no unit"):
        parse_duration("45")


@pytest.mark.parametrize("value", [45, 1.5, True])
def test_parse_duration_rejects_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0m", "0h0m", "0s", "0d"])
def test_parse_duration_zero_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(hours=2, minutes=5), "2h 5m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(days=3, hours=4), "3d 4h"),
        (timedelta(days=3, hours=4, minutes=59), "3d 4h"),
        (timedelta(days=2), "2d"),
        (timedelta(hours=5), "5h"),
        (timedelta(seconds=59), "<1m"),
        (timedelta(0), "<1m"),
        (timedelta(minutes=1), "1m"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=23, minutes=59), "23h 59m"),
        (timedelta(minutes=-45), "-45m"),
    ],
)
def test_format_duration_compact_two_units(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


def test_format_duration_round_trips_with_parse() -> None:
    assert format_duration(parse_duration("1h30m")) == "1h 30m"


@pytest.mark.parametrize(
    ("due_at", "expected"),
    [
        (NOW + timedelta(minutes=25), "in 25m"),
        (NOW - timedelta(minutes=12), "12m ago"),
        (NOW, "now"),
        (NOW + timedelta(seconds=59), "now"),
        (NOW - timedelta(seconds=30), "now"),
        (NOW + timedelta(hours=2, minutes=5), "in 2h 5m"),
        (NOW - timedelta(days=1, hours=3), "1d 3h ago"),
    ],
)
def test_describe_due_relative_wording(due_at: datetime, expected: str) -> None:
    assert describe_due(due_at, NOW) == expected


def test_describe_due_compares_instants_across_timezones() -> None:
    due_local = (NOW + timedelta(minutes=25)).astimezone(ZoneInfo("America/New_York"))
    assert describe_due(due_local, NOW) == "in 25m"


def test_describe_due_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        describe_due(datetime(2026, 11, 23, 15, 0), NOW)
