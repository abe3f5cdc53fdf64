"""When a team's digest goes out and which window it covers: pure calendar maths, no I/O.

A digest is sent at the schedule's local wall-clock `at` on each listed weekday, in the team's timezone,
converted to UTC for that specific date, so 09:15 stays 09:15 local across DST changes. A wall time that
does not exist (skipped by a spring-forward jump) resolves like `fold=0`: shifted later by the gap; a
repeated wall time (fall-back) resolves to its first occurrence, exactly as `bot.domain.calendar` does.
With `skip_holidays`, dates the team's business calendar lists as holidays get no digest.

Windows (start inclusive, end exclusive, aware UTC):
- `last_24h`: the 24 real hours before the send time, not "since the same wall time yesterday": when the
  clocks changed inside it, the start reads an hour off on the wall clock (a London 09:15 send on the Sunday
  the clocks spring forward covers from Saturday 08:15; on the fall-back Sunday, from Saturday 10:15).
- `previous_business_day`: from the schedule's previous send time to this one, so Monday's digest covers
  Friday 09:15 .. Monday 09:15 and the digest after a skipped holiday reaches back to the last sending day.
- `previous_week`: the local Monday 00:00 .. Monday 00:00 week before the send time (167 or 169 real hours
  across a DST change).

A run missed while Deskwatch was down is sent late once: `missed_runs` returns only the latest send time
missed, and `digest_key` (team, schedule, local date) makes the outbox drop any second attempt.
"""

from __future__ import annotations

import enum
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.calendar import BusinessHours

# How far back/forward a search for a sending day goes before the schedule is declared unusable.
MAX_SEARCH_DAYS = 3660

_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(days=7)
_REAL_DAY = timedelta(hours=24)


class Covers(enum.StrEnum):
    """The window a digest reports on."""

    LAST_24H = "last_24h"
    PREVIOUS_BUSINESS_DAY = "previous_business_day"
    PREVIOUS_WEEK = "previous_week"


@dataclass(frozen=True)
class SendSchedule:
    """One digest schedule: local send time `at`, weekdays 0=Mon .. 6=Sun, holiday skipping, window."""

    team: str
    name: str
    at: time
    days: frozenset[int]
    skip_holidays: bool = True
    covers: Covers = Covers.PREVIOUS_BUSINESS_DAY

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        if not days:
            raise ValueError("a digest schedule needs at least one weekday")
        if any(not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in days):
            raise ValueError(f"digest days must be 0 (Monday) .. 6 (Sunday), got {sorted(days, key=str)}")
        if not isinstance(self.at, time) or self.at.tzinfo is not None:
            raise ValueError(f"digest `at` must be a local datetime.time without tzinfo, got {self.at!r}")
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "covers", Covers(self.covers))


def is_send_day(schedule: SendSchedule, calendar: BusinessHours | None, day: date) -> bool:
    """True when a digest goes out on this local date: a listed weekday, not a skipped holiday."""
    if day.weekday() not in schedule.days:
        return False
    return not (schedule.skip_holidays and day in _holidays(calendar))


def send_time_on(schedule: SendSchedule, tz: ZoneInfo, day: date) -> datetime:
    """The aware UTC instant of `at` on this local date, whether or not the schedule sends that day.

    This is what `deskwatch digest send --date` uses: the digest that goes out on that date.
    """
    return _wall_to_utc(day, schedule.at, tz)


def send_date_of(send_at: datetime, tz: ZoneInfo) -> date:
    """The team-local date a send time falls on (the date in its `digest_key`)."""
    return _require_aware(send_at, "send_at").astimezone(tz).date()


def send_times(
    schedule: SendSchedule, tz: ZoneInfo, calendar: BusinessHours | None, start: datetime, end: datetime
) -> list[datetime]:
    """Every send time with `start <= t < end`, ascending, aware UTC."""
    start = _require_aware(start, "start").astimezone(UTC)
    end = _require_aware(end, "end").astimezone(UTC)
    times: list[datetime] = []
    # a local date's send time can fall on the UTC date before or after it: look one day either side
    day = start.astimezone(tz).date() - _ONE_DAY
    last_day = end.astimezone(tz).date() + _ONE_DAY
    while day <= last_day:
        if is_send_day(schedule, calendar, day):
            at = send_time_on(schedule, tz, day)
            if start <= at < end:
                times.append(at)
        day += _ONE_DAY
    return times


def previous_send_time(
    schedule: SendSchedule, tz: ZoneInfo, calendar: BusinessHours | None, before: datetime
) -> datetime:
    """The latest send time strictly before `before`; ValueError if none within MAX_SEARCH_DAYS."""
    before = _require_aware(before, "before").astimezone(UTC)
    for day in _days(before.astimezone(tz).date() + _ONE_DAY, step=-_ONE_DAY):
        if is_send_day(schedule, calendar, day):
            at = send_time_on(schedule, tz, day)
            if at < before:
                return at
    raise AssertionError("unreachable: _days raises after MAX_SEARCH_DAYS")


def next_send_time(
    schedule: SendSchedule, tz: ZoneInfo, calendar: BusinessHours | None, after: datetime
) -> datetime:
    """The earliest send time strictly after `after`; ValueError if none within MAX_SEARCH_DAYS."""
    after = _require_aware(after, "after").astimezone(UTC)
    for day in _days(after.astimezone(tz).date() - _ONE_DAY, step=_ONE_DAY):
        if is_send_day(schedule, calendar, day):
            at = send_time_on(schedule, tz, day)
            if at > after:
                return at
    raise AssertionError("unreachable: _days raises after MAX_SEARCH_DAYS")


def window(
    schedule: SendSchedule, send_at: datetime, tz: ZoneInfo, calendar: BusinessHours | None
) -> tuple[datetime, datetime]:
    """The [start, end) the digest sent at `send_at` covers, aware UTC (see the module docstring)."""
    send_at = _require_aware(send_at, "send_at").astimezone(UTC)
    if schedule.covers is Covers.LAST_24H:
        return send_at - _REAL_DAY, send_at  # 24 real hours, not "the same wall time yesterday"
    if schedule.covers is Covers.PREVIOUS_BUSINESS_DAY:
        return previous_send_time(schedule, tz, calendar, send_at), send_at
    local_day = send_at.astimezone(tz).date()
    monday = local_day - timedelta(days=local_day.weekday())
    end = _wall_to_utc(monday, time(0), tz)
    if end > send_at:  # only when Monday's midnight resolves past a send in a DST gap at midnight
        monday -= _ONE_WEEK
        end = _wall_to_utc(monday, time(0), tz)
    return _wall_to_utc(monday - _ONE_WEEK, time(0), tz), end


def window_on(
    schedule: SendSchedule, tz: ZoneInfo, calendar: BusinessHours | None, day: date
) -> tuple[datetime, datetime]:
    """The window of the digest that goes out on local date `day` (a Tuesday's covers Monday)."""
    return window(schedule, send_time_on(schedule, tz, day), tz, calendar)


def digest_key(team: str, schedule_name: str, local_date: date) -> str:
    """The outbox idempotency key: at most one digest per team, schedule and team-local date."""
    return f"digest:{team}:{schedule_name}:{local_date.isoformat()}"


def missed_runs(
    schedule: SendSchedule,
    tz: ZoneInfo,
    calendar: BusinessHours | None,
    last_sent: datetime | None,
    now: datetime,
) -> list[datetime]:
    """Send times missed after `last_sent` up to and including `now`: at most one, the latest.

    After three days down, only the most recent digest goes out (late, once); the older ones are stale.
    `last_sent=None` (never sent, e.g. a fresh install) misses nothing: the first digest is the next one.
    """
    now = _require_aware(now, "now").astimezone(UTC)
    if last_sent is None:
        return []
    last_sent = _require_aware(last_sent, "last_sent").astimezone(UTC)
    if last_sent >= now:
        return []
    latest = previous_send_time(schedule, tz, calendar, now + timedelta(microseconds=1))
    return [latest] if latest > last_sent else []


def _holidays(calendar: BusinessHours | None) -> Container[date]:
    return calendar.holidays if calendar is not None else frozenset()


def _days(first: date, *, step: timedelta) -> Iterator[date]:
    day = first
    for _ in range(MAX_SEARCH_DAYS):
        yield day
        day += step
    raise ValueError(
        f"no digest send day within {MAX_SEARCH_DAYS} days of {first.isoformat()}: check days and holidays"
    )


def _wall_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value
