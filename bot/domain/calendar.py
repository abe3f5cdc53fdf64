"""Business-hours arithmetic: SLA clocks that only run while a team is open.

Each open day is one window from `start` to `end` local wall-clock time, converted to UTC for that specific
date, so a 09:00-17:00 day on a DST-change date is still 8 hours and a window containing the 02:00 jump is
an hour shorter or longer, as the wall clock says. Wall times that do not exist (skipped by a spring-forward
jump) resolve like `fold=0`: shifted later by the length of the gap; repeated wall times (fall-back) resolve
to their first occurrence. Arithmetic walks day by day and never minute by minute.

An `end` of END_OF_DAY (24:00, which `datetime.time` cannot hold) closes at the next date's local 00:00,
resolved the same way, which is the very instant that date's 00:00 window opens: consecutive 00:00-24:00
days are one unbroken stretch (24/5 runs Monday 00:00 to Friday 24:00), even when DST changes at midnight.
"""

from __future__ import annotations

import enum
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Longest run of closed days tolerated before a calendar is declared unusable (ten years of holidays).
MAX_CLOSED_DAYS = 3660

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)


class EndOfDay(enum.Enum):
    """24:00, the midnight that ends a day: a closing time `datetime.time` cannot represent.

    A one-member enum rather than `time(0)` so "closes at the start of the day" can never be mistaken for
    "closes at its end"; it formats as "24:00" (also with `%H:%M`, like the `time` it stands beside).
    """

    END_OF_DAY = "24:00"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        if spec in ("", "%H:%M"):
            return self.value
        return super().__format__(spec)


END_OF_DAY = EndOfDay.END_OF_DAY

# What a window may close at: a wall-clock time of the same day, or END_OF_DAY (24:00).
ClosingTime = time | EndOfDay


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours of one team: weekdays (0=Mon .. 6=Sun), a same-day local window, and holidays.

    `end` is a `time` or END_OF_DAY (24:00); `start=time(0), end=END_OF_DAY` is open all day.
    `holidays` is any container answering `date in holidays`: a set of dates, or
    `holidays.country_holidays(...)` (which fills in years lazily).
    """

    tz: ZoneInfo
    days: frozenset[int]
    start: time
    end: ClosingTime
    holidays: Container[date] = frozenset()

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        if not days:
            raise ValueError("business hours need at least one open weekday")
        if any(not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in days):
            raise ValueError(f"business days must be 0 (Monday) .. 6 (Sunday), got {sorted(days, key=str)}")
        if not isinstance(self.start, time):
            raise ValueError(
                f"business hours start must be a datetime.time (00:00 .. 23:59), got {self.start!r}"
            )
        if not isinstance(self.end, (time, EndOfDay)):
            raise ValueError(f"business hours end must be a datetime.time or END_OF_DAY, got {self.end!r}")
        if self.start.tzinfo is not None or (isinstance(self.end, time) and self.end.tzinfo is not None):
            raise ValueError("business hours start/end are local wall-clock times: give them without tzinfo")
        if isinstance(self.end, time) and self.end <= self.start:
            raise ValueError(
                f"business hours end ({self.end:%H:%M}) must be after start ({self.start:%H:%M}): "
                "windows are within one day (use END_OF_DAY to close at midnight)"
            )
        object.__setattr__(self, "days", days)

    def is_open(self, at: datetime) -> bool:
        """True while the clock runs: on an open, non-holiday weekday between start and end local time."""
        at = _require_aware(at, "at")
        local_day = at.astimezone(self.tz).date()
        return any(
            opens <= at < closes
            for opens, closes in (self._window(local_day - _ONE_DAY), self._window(local_day))
            if opens is not None and closes is not None
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (aware UTC) at which `duration` of business time has elapsed after `start`.

        A start outside hours begins counting at the next opening; a zero duration therefore returns
        that opening. A duration that ends exactly at closing time returns the closing time.
        """
        cursor = _require_aware(start, "start").astimezone(UTC)
        if duration < _ZERO:
            raise ValueError(f"business time to add must not be negative, got {duration}")
        remaining = duration
        for opens, closes in self._windows_from(cursor.astimezone(self.tz).date() - _ONE_DAY):
            if closes <= cursor:
                continue
            begin = max(cursor, opens)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = closes
        raise AssertionError("unreachable: _windows_from is infinite or raises")

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time between two instants; negative when `b` is before `a`."""
        a = _require_aware(a, "a").astimezone(UTC)
        b = _require_aware(b, "b").astimezone(UTC)
        if b < a:
            return -self.business_time_between(b, a)
        total = _ZERO
        day = a.astimezone(self.tz).date() - _ONE_DAY
        last_day = b.astimezone(self.tz).date()
        while day <= last_day:
            opens, closes = self._window(day)
            if opens is not None and closes is not None:
                overlap = min(closes, b) - max(opens, a)
                if overlap > _ZERO:
                    total += overlap
            day += _ONE_DAY
        return total

    def _window(self, day: date) -> tuple[datetime, datetime] | tuple[None, None]:
        """UTC opening and closing of a local date, or (None, None) when closed all day."""
        if day.weekday() not in self.days or day in self.holidays:
            return None, None
        opens = _wall_to_utc(day, self.start, self.tz)
        if isinstance(self.end, EndOfDay):  # the next date's 00:00, resolved exactly as its own opening is
            closes = _wall_to_utc(day + _ONE_DAY, time(0), self.tz)
        else:
            closes = _wall_to_utc(day, self.end, self.tz)
        if closes <= opens:  # both ends in/after a DST gap collapse the window: nothing is open that day
            return None, None
        return opens, closes

    def _windows_from(self, first_day: date) -> Iterator[tuple[datetime, datetime]]:
        """Open windows in order from `first_day`; ValueError after MAX_CLOSED_DAYS closed days in a row."""
        day = first_day
        closed_run = 0
        while True:
            opens, closes = self._window(day)
            if opens is not None and closes is not None:
                closed_run = 0
                yield opens, closes
            else:
                closed_run += 1
                if closed_run > MAX_CLOSED_DAYS:
                    raise ValueError(
                        f"business hours are closed for more than {MAX_CLOSED_DAYS} consecutive days "
                        f"from {first_day.isoformat()}: check the holiday list"
                    )
            day += _ONE_DAY


def add_business_time(calendar: BusinessHours | None, start: datetime, duration: timedelta) -> datetime:
    """Add `duration` of business time; `calendar=None` means the clock runs 24/7. Returns aware UTC."""
    if calendar is None:
        if duration < _ZERO:
            raise ValueError(f"business time to add must not be negative, got {duration}")
        return _require_aware(start, "start").astimezone(UTC) + duration
    return calendar.add(start, duration)


def _wall_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value
