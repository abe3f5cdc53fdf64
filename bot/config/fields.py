"""Scalar YAML field types (durations, clock times, days, dates, holiday regions, timezones, Slack and
helpdesk ids): each is an `Annotated` type whose validator accepts what a support lead would write and
rejects anything else with a message that says what was expected. Clock times are 00:00-23:59; an end
time may also be "24:00" (END_OF_DAY).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as pyholidays
from pydantic import BeforeValidator

from bot.config.errors import _invalid, _q
from bot.domain.calendar import END_OF_DAY, ClosingTime, EndOfDay
from bot.domain.durations import parse_duration

_DURATION_EXAMPLES = "like 30m, 2h, 1h30m, 90s or 1d"


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, str):
        try:
            delta = parse_duration(value.strip())
        except ValueError as exc:  # its message already reads '"x" is not a duration: use e.g. ...'
            raise _invalid(str(exc)) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        raise _invalid(f"{_q(value)} is not a duration: add a unit, {_DURATION_EXAMPLES}")
    else:
        raise _invalid(f"{_q(value)} is not a duration {_DURATION_EXAMPLES}")
    if delta <= timedelta(0):
        raise _invalid(f"{_q(value)} must be longer than zero")
    return delta


def _duration_or_seconds(value: Any) -> timedelta:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise _invalid(f"{_q(value)} must not be negative")
        return timedelta(seconds=value)
    if isinstance(value, str) and value.strip() in ("0", "0s"):
        return timedelta(0)
    return _duration(value)


_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$", re.ASCII)
_END_OF_DAY_TEXT = "24:00"


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    text = value.strip() if isinstance(value, str) else None
    match = _HHMM.match(text) if text is not None else None
    if match is None:
        if text == _END_OF_DAY_TEXT:
            raise _invalid(f"{_q(value)} is only allowed as an end time; use 00:00 to 23:59 here")
        raise _invalid(f"{_q(value)} is not HH:MM")
    return time(int(match[1]), int(match[2]))


def _closing_clock(value: Any) -> ClosingTime:
    """HH:MM, or "24:00" for the midnight ending the day (which `time` cannot hold)."""
    if isinstance(value, EndOfDay):
        return value
    if isinstance(value, str) and value.strip() == _END_OF_DAY_TEXT:
        return END_OF_DAY
    if isinstance(value, str) and re.fullmatch(r"24:[0-9]{2}", value.strip(), re.ASCII):
        raise _invalid(f'{_q(value)} is past the end of the day (the latest end is "24:00")')
    return _clock(value)


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    **{name: index for index, name in enumerate(DAY_NAMES)},
    **{
        name: index
        for index, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}


def _day(value: Any) -> int:
    index = _DAY_ALIASES.get(value.strip().lower()) if isinstance(value, str) else None
    if index is None:
        raise _invalid(f"{_q(value)} is not a day (use {', '.join(DAY_NAMES)})")
    return index


def _iso_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise _invalid(f"{_q(value)} is not an ISO date (YYYY-MM-DD, without a time)")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _invalid(f"{_q(value)} is not an ISO date (YYYY-MM-DD)")


@functools.cache
def _holiday_regions() -> dict[str, tuple[str, ...]]:
    return {code: tuple(subdivs) for code, subdivs in pyholidays.list_supported_countries().items()}


def _holiday_region(value: Any) -> str | None:
    """`US` or `US-CA`, checked against the `holidays` package; returned in its canonical spelling."""
    if value is None:
        return None
    expected = "a country code like US, GB or DE, or country-subdivision like US-CA"
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{_q(value)} is not a holiday country ({expected})")
    country, _, subdiv = value.strip().partition("-")
    regions = _holiday_regions()
    country = country.upper()
    if country not in regions:
        raise _invalid(f"{_q(value)} is not a supported holiday country ({expected})")
    if not subdiv:
        return country
    by_upper = {name.upper(): name for name in regions[country]}
    canonical = by_upper.get(subdiv.upper())
    if canonical is None:
        known = ", ".join(regions[country][:15]) + (", ..." if len(regions[country]) > 15 else "")
        detail = f"known: {known}" if known else f"{country} has no subdivisions; use {country}"
        raise _invalid(f'{_q(value)}: "{subdiv}" is not a holiday subdivision of {country} ({detail})')
    return f"{country}-{canonical}"


def _timezone(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        name = value.strip()
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        folded = {zone.lower(): zone for zone in available_timezones()}
        if name.lower() in folded:
            return folded[name.lower()]
        close = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.6)
        hint = f' (did you mean "{folded[close[0]]}"?)' if close else ""
    else:
        hint = ""
    raise _invalid(f"{_q(value)} is not an IANA timezone like UTC, Europe/Paris or America/New_York{hint}")


_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$", re.ASCII)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$", re.ASCII)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$", re.ASCII)
_DIGITS = re.compile(r"^[0-9]+$", re.ASCII)


def _channel_id(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is not None and _CHANNEL_ID.match(text):
        return text
    if text is not None and text.startswith("#"):
        raise _invalid(
            f"{_q(value)} is a channel name, not a Slack channel id: use the channel's ID "
            '(like C0123ABCD, shown under "View channel details")'
        )
    raise _invalid(f"{_q(value)} is not a Slack channel id (like C0123ABCD or G0123ABCD)")


def _user_id(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is not None and _USER_ID.match(text):
        return text
    if text is not None and text.startswith("@"):
        raise _invalid(
            f"{_q(value)} is a display name, not a Slack user id: use the member ID "
            '(like U0123ABCD, from "Copy member ID" in the profile)'
        )
    raise _invalid(f"{_q(value)} is not a Slack user id (like U0123ABCD or W0123ABCD)")


def _team_name(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not _SLUG.match(text):
        raise _invalid(
            f"{_q(value)} is not a team name (lowercase letters, digits, - and _, starting with a letter "
            "or digit, e.g. billing-emea)"
        )
    return text


def _numeric_id(what: str, example: str) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if isinstance(value, str) and _DIGITS.match(value.strip()):
            return str(int(value.strip()))
        raise _invalid(f"{_q(value)} is not {what} (a number like {example})")

    return validate


Duration = Annotated[timedelta, BeforeValidator(_duration)]
DurationOrSeconds = Annotated[timedelta, BeforeValidator(_duration_or_seconds)]
ClockTime = Annotated[time, BeforeValidator(_clock)]
EndClockTime = Annotated[ClosingTime, BeforeValidator(_closing_clock)]
Weekday = Annotated[int, BeforeValidator(_day)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
HolidayRegion = Annotated[str, BeforeValidator(_holiday_region)]
TimezoneName = Annotated[str, BeforeValidator(_timezone)]
ChannelId = Annotated[str, BeforeValidator(_channel_id)]
UserId = Annotated[str, BeforeValidator(_user_id)]
TeamName = Annotated[str, BeforeValidator(_team_name)]
ZendeskGroupId = Annotated[str, BeforeValidator(_numeric_id("a Zendesk group id", "360001234567"))]
IntercomTeamId = Annotated[str, BeforeValidator(_numeric_id("an Intercom team id", "5017691"))]
