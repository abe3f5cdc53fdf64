from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.domain.calendar import END_OF_DAY, MAX_CLOSED_DAYS, BusinessHours, ClosingTime, add_business_time

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")  # changes DST at local midnight
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def ny(*args: int) -> datetime:
    """Aware New York wall-clock datetime (fold=0)."""
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def office(
    tz: ZoneInfo = NEW_YORK,
    days: frozenset[int] = WEEKDAYS,
    start: time = time(9),
    end: ClosingTime = time(17),
    holidays: object = frozenset(),
) -> BusinessHours:
    return BusinessHours(tz=tz, days=days, start=start, end=end, holidays=holidays)  # type: ignore[arg-type]


def twenty_four_five(tz: ZoneInfo = BERLIN, holidays: object = frozenset()) -> BusinessHours:
    return office(tz=tz, start=time(0), end=END_OF_DAY, holidays=holidays)


def whole_days(tz: ZoneInfo, days: frozenset[int] = EVERY_DAY) -> BusinessHours:
    return office(tz=tz, days=days, start=time(0), end=END_OF_DAY)


class EveryDayIsAHoliday:
    def __contains__(self, item: object) -> bool:
        return True


# --- construction ---------------------------------------------------------------------------------------


def test_business_hours_without_days_rejected() -> None:
    with pytest.raises(ValueError, match="at least one open weekday"):
        office(days=frozenset())


@pytest.mark.parametrize("days", [frozenset({7}), frozenset({-1}), frozenset({0, 9})])
def test_business_hours_day_out_of_range_rejected(days: frozenset[int]) -> None:
    with pytest.raises(ValueError, match=r"0 \(Monday\) .. 6 \(Sunday\)"):
        office(days=days)


@pytest.mark.parametrize(("start", "end"), [(time(17), time(9)), (time(9), time(9))])
def test_business_hours_end_not_after_start_rejected(start: time, end: time) -> None:
    with pytest.raises(ValueError, match="must be after start"):
        office(start=start, end=end)


def test_business_hours_aware_times_rejected() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        office(start=time(9, tzinfo=UTC))


def test_business_hours_end_of_day_accepted_after_any_start() -> None:
    assert office(start=time(0), end=END_OF_DAY).end is END_OF_DAY
    assert office(start=time(23, 59), end=END_OF_DAY).end is END_OF_DAY


def test_business_hours_end_of_day_as_start_rejected() -> None:
    with pytest.raises(ValueError, match=r"start must be a datetime.time \(00:00 .. 23:59\)"):
        office(start=END_OF_DAY, end=END_OF_DAY)  # type: ignore[arg-type]


def test_business_hours_midnight_end_is_not_end_of_day() -> None:
    # time(0) is the start of the day: 00:00-00:00 is refused, with a pointer to END_OF_DAY.
    with pytest.raises(ValueError, match="use END_OF_DAY to close at midnight"):
        office(start=time(0), end=time(0))


@pytest.mark.parametrize("end", ["24:00", 1440, None])
def test_business_hours_end_of_other_type_rejected(end: object) -> None:
    with pytest.raises(ValueError, match="end must be a datetime.time or END_OF_DAY"):
        office(end=end)  # type: ignore[arg-type]


def test_end_of_day_formats_as_24_00() -> None:
    assert str(END_OF_DAY) == f"{END_OF_DAY}" == f"{END_OF_DAY:%H:%M}" == "24:00"


def test_business_hours_days_given_as_set_stored_frozen() -> None:
    calendar = office(days={0, 1})  # type: ignore[arg-type]
    assert calendar.days == frozenset({0, 1})
    assert isinstance(calendar.days, frozenset)


# --- is_open --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(2026, 11, 23, 9, 0), True),  # Monday, opening instant
        (ny(2026, 11, 23, 8, 59), False),
        (ny(2026, 11, 23, 12, 0), True),
        (ny(2026, 11, 23, 16, 59, 59), True),
        (ny(2026, 11, 23, 17, 0), False),  # closing instant is closed
        (ny(2026, 11, 28, 12, 0), False),  # Saturday
        (ny(2026, 11, 29, 12, 0), False),  # Sunday
    ],
)
def test_is_open_weekday_window(at: datetime, expected: bool) -> None:
    assert office().is_open(at) is expected


def test_is_open_uses_local_wall_clock_not_utc() -> None:
    # 14:30 UTC on a November Monday is 09:30 in New York: open. 13:30 UTC is 08:30: closed.
    assert office().is_open(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))
    assert not office().is_open(datetime(2026, 11, 23, 13, 30, tzinfo=UTC))


def test_is_open_local_day_differs_from_utc_day() -> None:
    # Friday 23:30 in Los Angeles is Saturday 07:30 UTC; a Los Angeles team open until midnight is open.
    calendar = office(tz=ZoneInfo("America/Los_Angeles"), end=time(23, 59))
    assert calendar.is_open(datetime(2026, 11, 28, 7, 30, tzinfo=UTC))


def test_is_open_closed_on_us_thanksgiving() -> None:
    calendar = office(holidays=holidays.country_holidays("US"))
    assert not calendar.is_open(ny(2026, 11, 26, 12, 0))
    assert calendar.is_open(ny(2026, 11, 27, 12, 0))


def test_is_open_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office().is_open(datetime(2026, 11, 23, 12, 0))


# --- add: nights, weekends, boundaries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (ny(2026, 11, 23, 10, 0), timedelta(hours=2), ny(2026, 11, 23, 12, 0)),  # within the day
        (ny(2026, 11, 23, 16, 0), timedelta(hours=2), ny(2026, 11, 24, 10, 0)),  # overnight
        (ny(2026, 11, 23, 7, 0), timedelta(minutes=30), ny(2026, 11, 23, 9, 30)),  # before opening
        (ny(2026, 11, 23, 18, 0), timedelta(hours=1), ny(2026, 11, 24, 10, 0)),  # after closing
        (ny(2026, 11, 23, 15, 0), timedelta(hours=2), ny(2026, 11, 23, 17, 0)),  # ends exactly at closing
        (ny(2026, 11, 23, 9, 0), timedelta(hours=8), ny(2026, 11, 23, 17, 0)),  # whole day
        (ny(2026, 11, 23, 9, 0), timedelta(hours=8, seconds=1), ny(2026, 11, 24, 9, 0, 1)),
        (ny(2026, 11, 20, 16, 0), timedelta(hours=2), ny(2026, 11, 23, 10, 0)),  # Friday -> Monday
        (ny(2026, 11, 21, 12, 0), timedelta(hours=1), ny(2026, 11, 23, 10, 0)),  # Saturday start
        (ny(2026, 11, 22, 23, 59), timedelta(minutes=1), ny(2026, 11, 23, 9, 1)),  # Sunday night start
        (ny(2026, 11, 23, 9, 0), timedelta(hours=40), ny(2026, 11, 27, 17, 0)),  # a full working week
        (ny(2026, 11, 23, 12, 0), timedelta(hours=20), ny(2026, 11, 25, 16, 0)),  # Mon 5h, Tue 8h, Wed 7h
    ],
)
def test_add_counts_only_open_hours(start: datetime, duration: timedelta, expected: datetime) -> None:
    assert office().add(start, duration) == expected


def test_add_returns_aware_utc() -> None:
    result = office().add(ny(2026, 11, 23, 10, 0), timedelta(hours=1))
    assert result.tzinfo is UTC
    assert result == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def test_add_accepts_start_in_any_timezone() -> None:
    start_utc = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # Monday 16:00 New York
    assert office().add(start_utc, timedelta(hours=2)) == ny(2026, 11, 24, 10, 0)


def test_add_zero_inside_hours_returns_start() -> None:
    assert office().add(ny(2026, 11, 23, 10, 0), timedelta(0)) == ny(2026, 11, 23, 10, 0)


def test_add_zero_outside_hours_returns_next_opening() -> None:
    assert office().add(ny(2026, 11, 21, 10, 0), timedelta(0)) == ny(2026, 11, 23, 9, 0)


def test_add_negative_duration_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        office().add(ny(2026, 11, 23, 10, 0), timedelta(minutes=-1))


def test_add_naive_start_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office().add(datetime(2026, 11, 23, 10, 0), timedelta(hours=1))


def test_add_long_duration_walks_whole_year() -> None:
    # 2000 business hours = 250 eight-hour days = 50 five-day weeks, across both 2026 DST changes.
    start = ny(2026, 1, 5, 9, 0)  # Monday
    assert office().add(start, timedelta(hours=2000)) == ny(2026, 12, 18, 17, 0)


def test_add_weekend_only_team() -> None:
    calendar = office(days=frozenset({5, 6}))
    assert calendar.add(ny(2026, 11, 23, 10, 0), timedelta(hours=9)) == ny(2026, 11, 29, 10, 0)


def test_add_short_window() -> None:
    calendar = office(start=time(12, 0), end=time(12, 30))
    assert calendar.add(ny(2026, 11, 23, 12, 20), timedelta(minutes=20)) == ny(2026, 11, 24, 12, 10)


# --- add: holidays --------------------------------------------------------------------------------------


def test_add_skips_holiday_from_plain_set() -> None:
    calendar = office(holidays=frozenset({date(2026, 11, 25)}))  # a Wednesday
    assert calendar.add(ny(2026, 11, 24, 16, 0), timedelta(hours=2)) == ny(2026, 11, 26, 10, 0)


def test_add_skips_us_thanksgiving() -> None:
    calendar = office(holidays=holidays.country_holidays("US"))
    # Wednesday before Thanksgiving 16:00 + 2h -> Friday 10:00 (Thanksgiving 2026-11-26 closed).
    assert calendar.add(ny(2026, 11, 25, 16, 0), timedelta(hours=2)) == ny(2026, 11, 27, 10, 0)


def test_add_skips_christmas_and_weekend() -> None:
    calendar = office(holidays=holidays.country_holidays("US"))
    # Thursday 2026-12-24 16:00 + 2h: Christmas Friday and the weekend are closed -> Monday 10:00.
    assert calendar.add(ny(2026, 12, 24, 16, 0), timedelta(hours=2)) == ny(2026, 12, 28, 10, 0)


def test_add_skips_new_year_in_next_year() -> None:
    calendar = office(holidays=holidays.country_holidays("US"))
    # Thursday 2026-12-31 16:00 + 2h: New Year's Day 2027 is a Friday -> Monday 2027-01-04 10:00.
    assert calendar.add(ny(2026, 12, 31, 16, 0), timedelta(hours=2)) == ny(2027, 1, 4, 10, 0)


def test_add_skips_observed_holiday() -> None:
    calendar = office(holidays=holidays.country_holidays("US"))
    # Independence Day 2026 is a Saturday, observed Friday 2026-07-03.
    assert calendar.add(ny(2026, 7, 2, 16, 0), timedelta(hours=2)) == ny(2026, 7, 6, 10, 0)


def test_add_holiday_compared_on_local_date() -> None:
    # A Sydney team: Monday 2026-01-26 (Australia Day) local, still Sunday in UTC at opening time.
    sydney = ZoneInfo("Australia/Sydney")
    calendar = BusinessHours(
        tz=sydney, days=WEEKDAYS, start=time(9), end=time(17), holidays=frozenset({date(2026, 1, 26)})
    )
    start = datetime(2026, 1, 23, 16, 0, tzinfo=sydney)  # Friday
    assert calendar.add(start, timedelta(hours=2)) == datetime(2026, 1, 27, 10, 0, tzinfo=sydney)


def test_add_start_on_holiday_waits_for_next_open_day() -> None:
    calendar = office(holidays=frozenset({date(2026, 11, 23)}))
    assert calendar.add(ny(2026, 11, 23, 11, 0), timedelta(hours=1)) == ny(2026, 11, 24, 10, 0)


def test_add_endless_holidays_raise_instead_of_looping() -> None:
    calendar = office(holidays=EveryDayIsAHoliday())
    with pytest.raises(ValueError, match=f"more than {MAX_CLOSED_DAYS} consecutive days"):
        calendar.add(ny(2026, 11, 23, 10, 0), timedelta(hours=1))


def test_add_long_holiday_run_within_bound_still_found() -> None:
    closed = frozenset(date(2026, 11, 23) + timedelta(days=offset) for offset in range(1000))
    calendar = office(days=EVERY_DAY, holidays=closed)
    expected = datetime.combine(date(2026, 11, 23) + timedelta(days=1000), time(10), tzinfo=NEW_YORK)
    assert calendar.add(ny(2026, 11, 23, 10, 0), timedelta(hours=1)) == expected


# --- add: daylight saving time --------------------------------------------------------------------------


def test_add_across_spring_forward_weekend_keeps_local_hours() -> None:
    # Friday 2026-03-06 16:00 EST (21:00 UTC) + 2h -> Monday 2026-03-09 10:00 EDT (14:00 UTC).
    result = office().add(ny(2026, 3, 6, 16, 0), timedelta(hours=2))
    assert result == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert result.astimezone(NEW_YORK).hour == 10


def test_add_across_fall_back_weekend_keeps_local_hours() -> None:
    # Friday 2026-10-30 16:00 EDT (20:00 UTC) + 2h -> Monday 2026-11-02 10:00 EST (15:00 UTC).
    assert office().add(ny(2026, 10, 30, 16, 0), timedelta(hours=2)) == datetime(
        2026, 11, 2, 15, 0, tzinfo=UTC
    )


def test_add_on_spring_forward_day_nine_to_five_is_eight_hours() -> None:
    calendar = office(days=EVERY_DAY)
    assert calendar.add(ny(2026, 3, 8, 9, 0), timedelta(hours=8)) == ny(2026, 3, 8, 17, 0)
    assert calendar.add(ny(2026, 3, 7, 16, 0), timedelta(hours=2)) == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)


def test_add_on_fall_back_day_nine_to_five_is_eight_hours() -> None:
    calendar = office(days=EVERY_DAY)
    assert calendar.add(ny(2026, 11, 1, 9, 0), timedelta(hours=8)) == ny(2026, 11, 1, 17, 0)


def test_add_window_containing_spring_forward_jump_is_one_hour_shorter() -> None:
    # 00:00-06:00 on 2026-03-08: 00:00 EST (05:00 UTC) to 06:00 EDT (10:00 UTC) is five real hours.
    calendar = office(days=EVERY_DAY, start=time(0), end=time(6))
    result = calendar.add(ny(2026, 3, 8, 0, 0), timedelta(hours=3))
    assert result == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    assert result.astimezone(NEW_YORK).strftime("%H:%M %Z") == "04:00 EDT"
    assert calendar.add(ny(2026, 3, 8, 0, 0), timedelta(hours=5)) == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
    # the sixth hour spills into the next day's window: 2026-03-09 00:00-01:00 EDT.
    assert calendar.add(ny(2026, 3, 8, 0, 0), timedelta(hours=6)) == ny(2026, 3, 9, 1, 0)


def test_add_window_containing_fall_back_jump_is_one_hour_longer() -> None:
    # 00:00-06:00 on 2026-11-01: 00:00 EDT (04:00 UTC) to 06:00 EST (11:00 UTC) is seven real hours.
    calendar = office(days=EVERY_DAY, start=time(0), end=time(6))
    assert calendar.add(ny(2026, 11, 1, 0, 0), timedelta(hours=7)) == datetime(2026, 11, 1, 11, 0, tzinfo=UTC)
    assert calendar.add(ny(2026, 11, 1, 0, 0), timedelta(hours=8)) == ny(2026, 11, 2, 1, 0)


def test_add_opening_inside_spring_forward_gap_shifts_later_by_gap() -> None:
    # 02:30 does not exist on 2026-03-08 in New York; like fold=0 it resolves to 02:30 EST = 03:30 EDT.
    calendar = office(days=EVERY_DAY, start=time(2, 30), end=time(10))
    result = calendar.add(ny(2026, 3, 8, 0, 0), timedelta(minutes=30))
    assert result == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    assert result.astimezone(NEW_YORK).strftime("%H:%M") == "04:00"


def test_add_window_wholly_inside_gap_order_kept() -> None:
    # 02:10-02:50 on the spring-forward day both shift by the gap: still 40 minutes, 07:10-07:50 UTC.
    calendar = office(days=EVERY_DAY, start=time(2, 10), end=time(2, 50))
    assert calendar.add(ny(2026, 3, 8, 0, 0), timedelta(minutes=40)) == datetime(
        2026, 3, 8, 7, 50, tzinfo=UTC
    )


def test_add_window_collapsed_by_gap_is_closed_that_day() -> None:
    # 02:30 resolves to 03:30 EDT, after a 03:15 close: nothing is open on 2026-03-08.
    calendar = office(days=EVERY_DAY, start=time(2, 30), end=time(3, 15))
    assert calendar.add(ny(2026, 3, 8, 0, 0), timedelta(minutes=10)) == ny(2026, 3, 9, 2, 40)


def test_add_ambiguous_fall_back_time_uses_first_occurrence() -> None:
    # 01:00-01:30 on 2026-11-01 in New York happens twice; the window is the first (EDT) occurrence.
    calendar = office(days=EVERY_DAY, start=time(1, 0), end=time(1, 30))
    assert calendar.add(ny(2026, 11, 1, 0, 0), timedelta(minutes=30)) == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


def test_add_london_spring_forward_window() -> None:
    # Europe/London 2026-03-29: 01:00 GMT -> 02:00 BST. A 00:00-04:00 window is three real hours.
    calendar = office(tz=LONDON, days=EVERY_DAY, start=time(0), end=time(4))
    assert calendar.add(london(2026, 3, 29, 0, 0), timedelta(hours=3)) == datetime(
        2026, 3, 29, 3, 0, tzinfo=UTC
    )
    assert calendar.add(london(2026, 3, 29, 0, 0), timedelta(hours=4)) == london(2026, 3, 30, 1, 0)


def test_add_london_fall_back_window() -> None:
    # Europe/London 2026-10-25: 02:00 BST -> 01:00 GMT. A 00:00-04:00 window is five real hours.
    calendar = office(tz=LONDON, days=EVERY_DAY, start=time(0), end=time(4))
    assert calendar.add(london(2026, 10, 25, 0, 0), timedelta(hours=5)) == datetime(
        2026, 10, 25, 4, 0, tzinfo=UTC
    )


def test_add_london_across_uk_bank_holiday_and_dst() -> None:
    calendar = office(tz=LONDON, holidays=holidays.country_holidays("GB", subdiv="ENG"))
    # Thursday 2026-04-02 16:00 GMT+1; Good Friday 04-03 and Easter Monday 04-06 closed -> Tuesday 10:00 BST.
    assert calendar.add(london(2026, 4, 2, 16, 0), timedelta(hours=2)) == london(2026, 4, 7, 10, 0)


# --- end of day (24:00) and 24/5 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (berlin(2026, 1, 12, 0, 0), True),  # Monday 00:00 opens the week
        (berlin(2026, 1, 12, 23, 59, 59), True),
        (berlin(2026, 1, 13, 0, 0), True),  # Monday 24:00 = Tuesday 00:00: no gap at midnight
        (berlin(2026, 1, 16, 23, 59, 59), True),  # Friday, last second
        (berlin(2026, 1, 17, 0, 0), False),  # Friday 24:00 = Saturday 00:00 is closed
        (berlin(2026, 1, 18, 23, 59, 59), False),  # Sunday
        (berlin(2026, 1, 19, 0, 0), True),
    ],
)
def test_is_open_24_5_boundaries(at: datetime, expected: bool) -> None:
    assert twenty_four_five().is_open(at) is expected


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (berlin(2026, 1, 16, 23, 0), timedelta(hours=2), berlin(2026, 1, 19, 1, 0)),  # Fri 23:00 -> Mon 01:00
        (berlin(2026, 1, 12, 23, 0), timedelta(hours=2), berlin(2026, 1, 13, 1, 0)),  # Mon/Tue midnight
        (berlin(2026, 1, 16, 23, 0), timedelta(hours=1), berlin(2026, 1, 17, 0, 0)),  # ends at Fri 24:00
        (berlin(2026, 1, 12, 0, 0), timedelta(hours=120), berlin(2026, 1, 17, 0, 0)),  # the whole week
        (berlin(2026, 1, 12, 0, 0), timedelta(hours=120, seconds=1), berlin(2026, 1, 19, 0, 0, 1)),
        (berlin(2026, 1, 17, 12, 0), timedelta(0), berlin(2026, 1, 19, 0, 0)),  # Saturday: next opening
        (berlin(2026, 1, 18, 23, 59), timedelta(minutes=2), berlin(2026, 1, 19, 0, 2)),  # Sunday night
        (berlin(2026, 1, 14, 12, 0), timedelta(days=3), berlin(2026, 1, 19, 12, 0)),  # Wed noon + 72h
    ],
)
def test_add_24_5_runs_through_weeknights_and_stops_at_weekends(
    start: datetime, duration: timedelta, expected: datetime
) -> None:
    assert twenty_four_five().add(start, duration) == expected


def test_add_window_ending_at_midnight_reopens_next_morning() -> None:
    calendar = office(start=time(9), end=END_OF_DAY)
    assert calendar.add(ny(2026, 11, 23, 23, 30), timedelta(hours=1)) == ny(2026, 11, 24, 9, 30)
    assert calendar.is_open(ny(2026, 11, 23, 23, 59))
    assert not calendar.is_open(ny(2026, 11, 24, 0, 0))


def test_add_24_5_skips_weekday_holiday() -> None:
    calendar = twenty_four_five(holidays=frozenset({date(2026, 1, 13)}))  # a Tuesday
    # Monday 23:00 + 2h: one hour on Monday, Tuesday closed all day, one hour on Wednesday.
    assert calendar.add(berlin(2026, 1, 12, 23, 0), timedelta(hours=2)) == berlin(2026, 1, 14, 1, 0)
    assert not calendar.is_open(berlin(2026, 1, 13, 0, 0))
    assert calendar.is_open(berlin(2026, 1, 14, 0, 0))


def test_add_24_5_across_easter_holidays_and_weekend() -> None:
    calendar = twenty_four_five(holidays=holidays.country_holidays("DE", subdiv="BE"))
    # Thursday 2026-04-02 23:00; Good Friday, the weekend and Easter Monday closed -> Tuesday 01:00.
    assert calendar.add(berlin(2026, 4, 2, 23, 0), timedelta(hours=2)) == berlin(2026, 4, 7, 1, 0)


def test_add_24_5_across_spring_forward_weekend() -> None:
    # Berlin springs forward on Sunday 2026-03-29 (02:00 CET -> 03:00 CEST), inside the closed weekend.
    # Friday 23:00 CET (22:00 UTC) + 2h -> Monday 01:00 CEST (Sunday 23:00 UTC).
    result = twenty_four_five().add(berlin(2026, 3, 27, 23, 0), timedelta(hours=2))
    assert result == utc(2026, 3, 29, 23, 0)
    assert result.astimezone(BERLIN).strftime("%a %H:%M %Z") == "Mon 01:00 CEST"


def test_add_24_5_across_fall_back_weekend() -> None:
    # Berlin falls back on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET).
    # Friday 23:00 CEST (21:00 UTC) + 2h -> Monday 01:00 CET (00:00 UTC).
    result = twenty_four_five().add(berlin(2026, 10, 23, 23, 0), timedelta(hours=2))
    assert result == utc(2026, 10, 26, 0, 0)
    assert result.astimezone(BERLIN).strftime("%a %H:%M %Z") == "Mon 01:00 CET"


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 29), 23),  # Berlin spring forward
        (date(2026, 10, 25), 25),  # Berlin fall back
        (date(2026, 3, 30), 24),
    ],
)
def test_whole_day_lasts_as_long_as_the_local_day(day: date, hours: int) -> None:
    calendar = whole_days(BERLIN)
    a = datetime.combine(day, time(0), tzinfo=BERLIN)
    b = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert calendar.business_time_between(a, b) == timedelta(hours=hours)
    assert calendar.add(a, timedelta(hours=hours)) == b


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 4, 4), 25),  # Saturday: at its 24:00 Santiago falls back to Saturday 23:00
        (date(2026, 4, 5), 24),
        (date(2026, 9, 5), 24),  # Saturday: its 24:00 is Sunday 00:00, which is skipped (fold=0)
        (date(2026, 9, 6), 23),  # Sunday starts at 01:00
    ],
)
def test_whole_day_when_dst_changes_at_midnight(day: date, hours: int) -> None:
    calendar = whole_days(SANTIAGO, days=frozenset({day.weekday()}))
    a = datetime.combine(day, time(0), tzinfo=SANTIAGO)
    assert calendar.business_time_between(a, a + timedelta(days=3)) == timedelta(hours=hours)


@pytest.mark.parametrize("tz", [BERLIN, SANTIAGO, NEW_YORK])
@pytest.mark.parametrize(
    "start",
    [
        utc(2026, 3, 27, 22, 30),  # Berlin spring forward weekend
        utc(2026, 10, 24, 21, 0),  # Berlin fall back weekend
        utc(2026, 4, 3, 23, 59),  # Santiago fall back at midnight
        utc(2026, 9, 5, 3, 0),  # Santiago spring forward at midnight
        utc(2026, 3, 7, 12, 0),  # New York spring forward
    ],
)
def test_every_day_00_00_to_24_00_is_the_24_7_clock(tz: ZoneInfo, start: datetime) -> None:
    # Seven whole days a week must never lose or add a second at midnight, DST change or not.
    calendar = whole_days(tz)
    for duration in (timedelta(minutes=1), timedelta(hours=5), timedelta(hours=49, minutes=7)):
        assert calendar.add(start, duration) == add_business_time(None, start, duration)
        assert calendar.business_time_between(start, start + duration) == duration
        assert calendar.is_open(start + duration)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (berlin(2026, 1, 12, 0, 0), berlin(2026, 1, 19, 0, 0), timedelta(hours=120)),  # one week
        (berlin(2026, 1, 16, 23, 0), berlin(2026, 1, 19, 1, 0), timedelta(hours=2)),  # over the weekend
        (berlin(2026, 1, 17, 0, 0), berlin(2026, 1, 19, 0, 0), timedelta(0)),  # the weekend itself
        (berlin(2026, 3, 23, 0, 0), berlin(2026, 3, 30, 0, 0), timedelta(hours=120)),  # DST weekend
    ],
)
def test_business_time_between_24_5(a: datetime, b: datetime, expected: timedelta) -> None:
    assert twenty_four_five().business_time_between(a, b) == expected


def test_add_business_time_with_24_5_calendar() -> None:
    start = berlin(2026, 1, 16, 23, 0)
    assert add_business_time(twenty_four_five(), start, timedelta(hours=2)) == berlin(2026, 1, 19, 1, 0)


# --- business_time_between ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (ny(2026, 11, 23, 10, 0), ny(2026, 11, 23, 12, 0), timedelta(hours=2)),
        (ny(2026, 11, 23, 7, 0), ny(2026, 11, 23, 20, 0), timedelta(hours=8)),
        (ny(2026, 11, 23, 16, 0), ny(2026, 11, 24, 10, 0), timedelta(hours=2)),
        (ny(2026, 11, 20, 16, 0), ny(2026, 11, 23, 10, 0), timedelta(hours=2)),  # weekend skipped
        (ny(2026, 11, 21, 0, 0), ny(2026, 11, 23, 0, 0), timedelta(0)),  # all weekend
        (ny(2026, 11, 23, 9, 0), ny(2026, 11, 30, 9, 0), timedelta(hours=40)),
        (ny(2026, 11, 23, 10, 0), ny(2026, 11, 23, 10, 0), timedelta(0)),
    ],
)
def test_business_time_between_counts_open_time(a: datetime, b: datetime, expected: timedelta) -> None:
    assert office().business_time_between(a, b) == expected


def test_business_time_between_reversed_is_negative() -> None:
    assert office().business_time_between(ny(2026, 11, 23, 12, 0), ny(2026, 11, 23, 10, 0)) == timedelta(
        hours=-2
    )


def test_business_time_between_skips_holidays() -> None:
    calendar = office(holidays=holidays.country_holidays("US"))
    # Thanksgiving week Monday 09:00 -> next Monday 09:00: four open days.
    assert calendar.business_time_between(ny(2026, 11, 23, 9, 0), ny(2026, 11, 30, 9, 0)) == timedelta(
        hours=32
    )


@pytest.mark.parametrize(
    ("day", "expected_hours"),
    [(date(2026, 3, 8), 5), (date(2026, 11, 1), 7), (date(2026, 3, 9), 6)],
)
def test_business_time_between_dst_day_overnight_window(day: date, expected_hours: int) -> None:
    calendar = office(days=EVERY_DAY, start=time(0), end=time(6))
    a = datetime.combine(day, time(0), tzinfo=NEW_YORK)
    b = datetime.combine(day, time(12), tzinfo=NEW_YORK)
    assert calendar.business_time_between(a, b) == timedelta(hours=expected_hours)


def test_business_time_between_dst_day_nine_to_five_is_eight_hours() -> None:
    calendar = office(days=EVERY_DAY)
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        a = datetime.combine(day, time(0), tzinfo=NEW_YORK)
        assert calendar.business_time_between(a, a + timedelta(days=1)) == timedelta(hours=8)


def test_business_time_between_inverts_add() -> None:
    calendars = [
        office(holidays=holidays.country_holidays("US")),
        office(days=EVERY_DAY, start=time(0), end=time(6)),
        office(tz=LONDON, days=frozenset({0, 2, 4}), start=time(8, 30), end=time(18)),
        twenty_four_five(tz=NEW_YORK, holidays=holidays.country_holidays("US")),
        office(tz=SANTIAGO, days=frozenset({1, 5}), start=time(18), end=END_OF_DAY),
    ]
    starts = [
        ny(2026, 3, 6, 15, 0),
        ny(2026, 3, 8, 0, 30),
        ny(2026, 10, 31, 23, 0),
        ny(2026, 11, 25, 16, 45),
        ny(2026, 12, 24, 8, 0),
        london(2026, 3, 27, 17, 0),
    ]
    durations = [
        timedelta(minutes=1),
        timedelta(hours=2),
        timedelta(hours=7, minutes=13),
        timedelta(hours=30),
    ]
    for calendar in calendars:
        for start in starts:
            for duration in durations:
                end = calendar.add(start, duration)
                assert calendar.business_time_between(start, end) == duration, (calendar.tz, start, duration)


# --- add_business_time ----------------------------------------------------------------------------------


def test_add_business_time_without_calendar_runs_around_the_clock() -> None:
    start = ny(2026, 11, 21, 22, 0)  # Saturday night
    result = add_business_time(None, start, timedelta(hours=4))
    assert result == datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_add_business_time_without_calendar_across_dst_adds_real_hours() -> None:
    assert add_business_time(None, ny(2026, 3, 8, 1, 0), timedelta(hours=2)) == ny(2026, 3, 8, 4, 0)


def test_add_business_time_with_calendar_delegates() -> None:
    assert add_business_time(office(), ny(2026, 11, 23, 16, 0), timedelta(hours=2)) == ny(2026, 11, 24, 10, 0)


def test_add_business_time_naive_start_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(None, datetime(2026, 11, 23, 16, 0), timedelta(hours=2))


def test_add_business_time_negative_rejected_without_calendar() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_time(None, ny(2026, 11, 23, 16, 0), timedelta(hours=-2))
