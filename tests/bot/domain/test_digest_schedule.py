"""Digest send times and windows: DST in London and New York, holidays, weekends, missed runs.

2025 changes: London springs forward Sun 30 Mar 01:00 UTC and falls back Sun 26 Oct 01:00 UTC;
New York springs forward Sun 9 Mar 02:00 EST and falls back Sun 2 Nov 02:00 EDT.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.domain.calendar import BusinessHours
from bot.domain.digest_schedule import (
    Covers,
    SendSchedule,
    digest_key,
    is_send_day,
    missed_runs,
    next_send_time,
    previous_send_time,
    send_date_of,
    send_time_on,
    send_times,
    window,
    window_on,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def schedule(
    at: time = time(9, 15),
    days: frozenset[int] = WEEKDAYS,
    covers: Covers = Covers.PREVIOUS_BUSINESS_DAY,
    skip_holidays: bool = True,
) -> SendSchedule:
    return SendSchedule(
        team="billing", name="daily", at=at, days=days, skip_holidays=skip_holidays, covers=covers
    )


def us_calendar() -> BusinessHours:
    return BusinessHours(
        tz=NEW_YORK, days=WEEKDAYS, start=time(9), end=time(17), holidays=holidays.country_holidays("US")
    )


# --- send times -------------------------------------------------------------------------------------------


def test_london_spring_forward_keeps_local_time() -> None:
    times = send_times(schedule(), LONDON, None, utc(2025, 3, 27), utc(2025, 4, 2))
    assert times == [
        utc(2025, 3, 27, 9, 15),  # Thu, GMT
        utc(2025, 3, 28, 9, 15),  # Fri, GMT
        utc(2025, 3, 31, 8, 15),  # Mon, BST: still 09:15 on the wall clock
        utc(2025, 4, 1, 8, 15),
    ]
    assert {t.astimezone(LONDON).time() for t in times} == {time(9, 15)}


def test_london_fall_back_keeps_local_time() -> None:
    times = send_times(schedule(), LONDON, None, utc(2025, 10, 24), utc(2025, 10, 28))
    assert times == [utc(2025, 10, 24, 8, 15), utc(2025, 10, 27, 9, 15)]


def test_new_york_spring_forward_and_fall_back() -> None:
    spring = send_times(schedule(), NEW_YORK, None, utc(2025, 3, 7), utc(2025, 3, 11))
    assert spring == [utc(2025, 3, 7, 14, 15), utc(2025, 3, 10, 13, 15)]  # EST, then EDT
    fall = send_times(schedule(), NEW_YORK, None, utc(2025, 10, 31), utc(2025, 11, 4))
    assert fall == [utc(2025, 10, 31, 13, 15), utc(2025, 11, 3, 14, 15)]  # EDT, then EST


def test_wall_times_in_a_dst_gap_or_overlap() -> None:
    """Skipped 02:30 is sent an hour later (03:30 EDT); repeated 01:30 at its first occurrence (EDT)."""
    gap = schedule(at=time(2, 30), days=EVERY_DAY)
    assert send_times(gap, NEW_YORK, None, utc(2025, 3, 9), utc(2025, 3, 10)) == [utc(2025, 3, 9, 7, 30)]
    assert utc(2025, 3, 9, 7, 30).astimezone(NEW_YORK).time() == time(3, 30)
    overlap = schedule(at=time(1, 30), days=EVERY_DAY)
    assert send_times(overlap, NEW_YORK, None, utc(2025, 11, 2), utc(2025, 11, 3)) == [
        utc(2025, 11, 2, 5, 30)
    ]
    london_gap = schedule(at=time(1, 30), days=EVERY_DAY)
    assert send_time_on(london_gap, LONDON, date(2025, 3, 30)) == utc(2025, 3, 30, 1, 30)  # 02:30 BST


def test_send_times_are_half_open_and_only_on_listed_days() -> None:
    weekly = schedule(days=frozenset({0}))
    start = utc(2025, 3, 3, 9, 15)  # a Monday send time exactly
    assert send_times(weekly, LONDON, None, start, start + timedelta(days=14)) == [
        start,
        start + timedelta(days=7),
    ]
    assert send_times(weekly, LONDON, None, start + timedelta(seconds=1), start + timedelta(days=7)) == []


def test_us_holiday_is_skipped() -> None:
    """Memorial Day, Mon 26 May 2025: no digest; Tuesday's covers Friday 09:15 .. Tuesday 09:15."""
    calendar = us_calendar()
    times = send_times(schedule(), NEW_YORK, calendar, utc(2025, 5, 23), utc(2025, 5, 28))
    assert times == [utc(2025, 5, 23, 13, 15), utc(2025, 5, 27, 13, 15)]
    assert not is_send_day(schedule(), calendar, date(2025, 5, 26))
    assert window(schedule(), utc(2025, 5, 27, 13, 15), NEW_YORK, calendar) == (
        utc(2025, 5, 23, 13, 15),
        utc(2025, 5, 27, 13, 15),
    )


def test_holidays_are_sent_on_when_not_skipped() -> None:
    calendar = us_calendar()
    keep = schedule(skip_holidays=False)
    times = send_times(keep, NEW_YORK, calendar, utc(2025, 5, 23), utc(2025, 5, 28))
    assert times == [utc(2025, 5, 23, 13, 15), utc(2025, 5, 26, 13, 15), utc(2025, 5, 27, 13, 15)]
    assert window(keep, times[2], NEW_YORK, calendar) == (times[1], times[2])


def test_next_and_previous_send_time() -> None:
    friday = utc(2025, 3, 28, 9, 15)
    monday = utc(2025, 3, 31, 8, 15)
    assert next_send_time(schedule(), LONDON, None, friday) == monday
    assert next_send_time(schedule(), LONDON, None, friday - timedelta(seconds=1)) == friday
    assert previous_send_time(schedule(), LONDON, None, monday) == friday
    assert previous_send_time(schedule(), LONDON, None, monday + timedelta(seconds=1)) == monday


# --- windows ----------------------------------------------------------------------------------------------


def test_monday_covers_friday() -> None:
    monday = send_time_on(schedule(), LONDON, date(2025, 3, 3))
    assert window(schedule(), monday, LONDON, None) == (utc(2025, 2, 28, 9, 15), utc(2025, 3, 3, 9, 15))


def test_monday_covers_friday_across_spring_forward() -> None:
    start, end = window(schedule(), utc(2025, 3, 31, 8, 15), LONDON, None)
    assert (start, end) == (utc(2025, 3, 28, 9, 15), utc(2025, 3, 31, 8, 15))
    assert end - start == timedelta(hours=71)  # 72 wall-clock hours, one of them skipped


def test_tuesday_digest_covers_monday() -> None:
    """`deskwatch digest send --date 2025-03-04`: the digest that goes out that Tuesday."""
    assert window_on(schedule(), LONDON, None, date(2025, 3, 4)) == (
        utc(2025, 3, 3, 9, 15),
        utc(2025, 3, 4, 9, 15),
    )
    assert window_on(schedule(), LONDON, None, date(2025, 3, 3))[0] == utc(2025, 2, 28, 9, 15)


@pytest.mark.parametrize(
    ("send_at", "expected"),
    [
        # Mon 7 Apr 08:00 BST: the week Mon 31 Mar 00:00 BST .. Mon 7 Apr 00:00 BST
        (utc(2025, 4, 7, 7, 0), (utc(2025, 3, 30, 23, 0), utc(2025, 4, 6, 23, 0))),
        # a Wednesday send still reports the last full Monday-to-Monday week
        (utc(2025, 4, 9, 7, 0), (utc(2025, 3, 30, 23, 0), utc(2025, 4, 6, 23, 0))),
        # sent at Monday 00:00 exactly: the week that has just ended
        (utc(2025, 4, 6, 23, 0), (utc(2025, 3, 30, 23, 0), utc(2025, 4, 6, 23, 0))),
        # one second before it: still the week before
        (utc(2025, 4, 6, 22, 59, 59), (utc(2025, 3, 24, 0, 0), utc(2025, 3, 30, 23, 0))),  # GMT, then BST
    ],
)
def test_previous_week_boundaries(send_at: datetime, expected: tuple[datetime, datetime]) -> None:
    weekly = schedule(at=time(8), days=frozenset({0}), covers=Covers.PREVIOUS_WEEK)
    assert window(weekly, send_at, LONDON, None) == expected


def test_previous_week_across_dst_is_167_or_169_real_hours() -> None:
    weekly = schedule(at=time(8), days=frozenset({0}), covers=Covers.PREVIOUS_WEEK)
    start, end = window(weekly, utc(2025, 3, 31, 7, 0), LONDON, None)
    assert (start, end) == (utc(2025, 3, 24, 0, 0), utc(2025, 3, 30, 23, 0))
    assert end - start == timedelta(hours=167)
    start, end = window(weekly, utc(2025, 11, 3, 13, 0), NEW_YORK, None)
    assert (start, end) == (utc(2025, 10, 27, 4, 0), utc(2025, 11, 3, 5, 0))
    assert end - start == timedelta(hours=169)


def test_last_24h_is_24_real_hours_across_dst() -> None:
    """Chosen: 24 real hours (as named), so the wall-clock start reads 08:15 or 10:15, not 09:15."""
    daily = schedule(days=EVERY_DAY, covers=Covers.LAST_24H)
    spring = send_time_on(daily, LONDON, date(2025, 3, 30))
    start, end = window(daily, spring, LONDON, None)
    assert end - start == timedelta(hours=24)
    assert start.astimezone(LONDON).replace(tzinfo=None) == datetime(2025, 3, 29, 8, 15)  # 25 h on the wall
    fall = send_time_on(daily, NEW_YORK, date(2025, 11, 2))
    start, end = window(daily, fall, NEW_YORK, None)
    assert end - start == timedelta(hours=24)
    assert start.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(
        2025, 11, 1, 10, 15
    )  # 23 h on the wall


# --- keys, dates, missed runs -----------------------------------------------------------------------------


def test_digest_key_is_per_team_schedule_and_local_date() -> None:
    assert digest_key("billing", "daily", date(2025, 3, 31)) == "digest:billing:daily:2025-03-31"
    assert digest_key("billing", "weekly", date(2025, 3, 31)) != digest_key(
        "billing", "daily", date(2025, 3, 31)
    )


def test_send_date_is_the_team_local_date() -> None:
    late = schedule(at=time(23, 30))
    send_at = send_time_on(late, NEW_YORK, date(2025, 3, 31))
    assert send_at == utc(2025, 4, 1, 3, 30)  # already Tuesday in UTC
    assert send_date_of(send_at, NEW_YORK) == date(2025, 3, 31)
    assert send_times(late, NEW_YORK, None, utc(2025, 4, 1), utc(2025, 4, 2)) == [send_at]


def test_three_days_down_sends_one_late_run() -> None:
    """Last sent Friday; down all weekend until Tuesday noon: only Tuesday's digest goes out."""
    friday = utc(2025, 3, 28, 9, 15)
    now = utc(2025, 4, 1, 11, 0)
    assert missed_runs(schedule(), LONDON, None, friday, now) == [utc(2025, 4, 1, 8, 15)]


def test_missed_runs_none_or_exactly_due() -> None:
    monday = utc(2025, 3, 31, 8, 15)
    friday = utc(2025, 3, 28, 9, 15)
    assert missed_runs(schedule(), LONDON, None, friday, monday - timedelta(seconds=1)) == []
    assert missed_runs(schedule(), LONDON, None, friday, monday) == [monday]
    assert missed_runs(schedule(), LONDON, None, monday, monday + timedelta(hours=5)) == []  # already sent
    assert missed_runs(schedule(), LONDON, None, None, monday) == []  # never sent: wait for the next one


def test_missed_run_skips_a_holiday() -> None:
    """Down from Friday to Memorial Day evening: nothing is due on the holiday, so nothing is missed."""
    calendar = us_calendar()
    assert missed_runs(schedule(), NEW_YORK, calendar, utc(2025, 5, 23, 13, 15), utc(2025, 5, 26, 23)) == []


def test_naive_datetimes_and_bad_schedules_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        send_times(schedule(), LONDON, None, datetime(2025, 1, 1), utc(2025, 1, 2))  # noqa: DTZ001
    with pytest.raises(ValueError, match="at least one weekday"):
        schedule(days=frozenset())
    with pytest.raises(ValueError, match="0 \\(Monday\\)"):
        schedule(days=frozenset({7}))
    with pytest.raises(ValueError):
        SendSchedule(team="t", name="n", at=time(9), days=WEEKDAYS, covers="yesterday")  # type: ignore[arg-type]


def test_a_schedule_that_never_sends_raises() -> None:
    everything = BusinessHours(tz=LONDON, days=WEEKDAYS, start=time(9), end=time(17), holidays=_AllDays())
    with pytest.raises(ValueError, match="no digest send day"):
        window(schedule(), utc(2025, 3, 31, 8, 15), LONDON, everything)


class _AllDays:
    def __contains__(self, item: object) -> bool:
        return True
