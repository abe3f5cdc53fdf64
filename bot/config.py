"""Deskwatch configuration: secrets and endpoints from the environment, teams and SLAs from YAML.

`Settings` holds what differs per deployment and must stay secret (tokens, database URL); `AppConfig`
holds what a support lead edits (teams, channels, business hours, SLA targets). Both report every
problem at once as one actionable line naming the env var or YAML path, so an operator fixes the
whole file in one pass and never sees a traceback. Nothing here runs at import time: the composition
root calls `load_settings()` and `load_config()`.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import threading
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as pyholidays
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.domain.calendar import BusinessHours
from bot.domain.durations import parse_duration
from bot.domain.model import IntercomTargets, TeamRoute

__all__ = [
    "AlertsConfig",
    "AppConfig",
    "BusinessHoursConfig",
    "ConfigError",
    "HolidayDates",
    "IntercomSlaConfig",
    "RedactConfig",
    "ReplyTargets",
    "ScheduleConfig",
    "Settings",
    "SlaConfig",
    "SlackConfig",
    "TeamConfig",
    "config_from_dict",
    "load_config",
    "load_settings",
    "settings_problems",
]

EXAMPLE_FILE = "deskwatch.example.yaml"
SECRET_IN_YAML = "secrets belong in environment variables (e.g. ZENDESK_API_TOKEN), not in the YAML"


class ConfigError(Exception):
    """Configuration cannot be used; `problems` holds one actionable line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------------------------------------------------
# Problem reporting: validators raise PydanticCustomError so pydantic keeps the location (no "Value error,"
# prefix), and `_format_errors` turns each error into `path: "value" is not X`.

_PROBLEM = "deskwatch"


def _invalid(message: str) -> PydanticCustomError:
    """A finished problem message (without its path); no context, so braces in values are not formatted."""
    return PydanticCustomError(_PROBLEM, message)


def _problems(items: Sequence[tuple[str, str]]) -> PydanticCustomError:
    """Several problems at paths relative to the validated object (e.g. `end`, `teams[1].name`)."""
    summary = "; ".join(f"{path}: {message}" for path, message in items)
    return PydanticCustomError(_PROBLEM, "{summary}", {"summary": summary, "problems": list(items)})


def _q(value: Any) -> str:
    """The offending value, double-quoted and shortened, as it would read in YAML."""
    if isinstance(value, str):
        text = value
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (Mapping, list, tuple)):
        text = yaml.safe_dump(_plain(value), default_flow_style=True, width=10_000).strip()
    else:
        text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return json.dumps(text, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _join(base: str, rel: str) -> str:
    if not base:
        return rel
    if not rel:
        return base
    return base + rel if rel.startswith("[") else f"{base}.{rel}"


def _path(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        path = _join(path, f"[{part}]" if isinstance(part, int) else str(part))
    return path


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _got(value: Any) -> str:
    return "null" if value is None else f"{_kind(value)} {_q(value)}"


def _hint(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "x"?)` when a close match exists, else empty."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


def _describe(err: Mapping[str, Any], allowed: Sequence[str] | None) -> str:
    """Plain words for pydantic's own error types (the ones our custom validators do not raise)."""
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else ""
        if allowed:
            hint = _hint(key, allowed)
            return f"unknown key{hint}" if hint else f"unknown key (expected one of: {', '.join(allowed)})"
        return "unknown key"
    if kind in ("bool_type", "bool_parsing"):
        return f"{_q(value)} is not true or false"
    if kind in ("list_type", "tuple_type", "set_type", "frozen_set_type"):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return f"expected a list, got {_kind(value)} {_q(value)} (write [{value}])"
        return f"expected a list, got {_got(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {_got(value)}"
    if kind in ("string_type", "string_unicode"):
        return f"{_q(value)} is not text"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{_q(value)} is not an ISO date (YYYY-MM-DD)"
    return f"{_q(value)} is invalid: {err.get('msg', kind)}"


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class found at `loc` below `root`, for listing the keys it accepts."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _find_model(model.model_fields[part].annotation)
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _format_errors(exc: ValidationError, root: type[BaseModel]) -> list[str]:
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        base = _path(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == _PROBLEM and "problems" in ctx:
            lines.extend(f"{_join(base, rel)}: {message}" for rel, message in ctx["problems"])
        elif err["type"] == _PROBLEM:
            lines.append(f"{base or '<top level>'}: {err['msg']}")
        else:
            model = _model_at(root, err["loc"][:-1]) if err["type"] == "extra_forbidden" else None
            allowed = list(model.model_fields) if model is not None else None
            lines.append(f"{base or '<top level>'}: {_describe(err, allowed)}")
    return _unique(lines)


def _unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))


# ---------------------------------------------------------------------------------------------------------
# Scalar types used in the YAML.

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


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    match = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _invalid(f"{_q(value)} is not HH:MM")
    return time(int(match[1]), int(match[2]))


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
Weekday = Annotated[int, BeforeValidator(_day)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
HolidayRegion = Annotated[str, BeforeValidator(_holiday_region)]
TimezoneName = Annotated[str, BeforeValidator(_timezone)]
ChannelId = Annotated[str, BeforeValidator(_channel_id)]
UserId = Annotated[str, BeforeValidator(_user_id)]
TeamName = Annotated[str, BeforeValidator(_team_name)]
ZendeskGroupId = Annotated[str, BeforeValidator(_numeric_id("a Zendesk group id", "360001234567"))]
IntercomTeamId = Annotated[str, BeforeValidator(_numeric_id("an Intercom team id", "5017691"))]


# ---------------------------------------------------------------------------------------------------------
# YAML models.


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HolidayDates(Container[date]):
    """Non-business dates: a region's public holidays (computed per year on first use) plus extra dates."""

    def __init__(self, country: pyholidays.HolidayBase | None, extra: Iterable[date] = ()) -> None:
        self._country = country
        self._extra = frozenset(extra)
        self._lock = threading.Lock()  # HolidayBase fills in a year lazily on first lookup

    def __contains__(self, item: object) -> bool:
        if isinstance(item, datetime):
            item = item.date()
        if not isinstance(item, date):
            return False
        if item in self._extra:
            return True
        if self._country is None:
            return False
        with self._lock:
            return item in self._country

    def __repr__(self) -> str:
        region = None
        if self._country is not None:
            subdiv = getattr(self._country, "subdiv", None)
            region = f"{self._country.country}-{subdiv}" if subdiv else self._country.country
        return f"HolidayDates(region={region!r}, extra={[day.isoformat() for day in sorted(self._extra)]!r})"


class BusinessHoursConfig(_Model):
    """When a team's SLA clock runs; days are stored as 0=Mon..6=Sun."""

    days: list[Weekday] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    start: ClockTime
    end: ClockTime
    holidays: HolidayRegion | None = None
    extra_holidays: list[IsoDate] = Field(default_factory=list)

    @field_validator("days")
    @classmethod
    def _sorted_days(cls, days: list[int]) -> list[int]:
        if not days:
            raise _invalid("has no days: list at least one, e.g. [mon, tue, wed, thu, fri]")
        return sorted(set(days))

    @field_validator("extra_holidays")
    @classmethod
    def _sorted_dates(cls, dates: list[date]) -> list[date]:
        return sorted(set(dates))

    @model_validator(mode="after")
    def _end_after_start(self) -> BusinessHoursConfig:
        if self.end <= self.start:
            raise _problems(
                [
                    (
                        "end",
                        f'"{self.end:%H:%M}" must be after start "{self.start:%H:%M}" '
                        "(same day, 24-hour clock)",
                    )
                ]
            )
        return self

    def calendar(self, tz: ZoneInfo) -> BusinessHours:
        country = None
        if self.holidays:
            code, _, subdiv = self.holidays.partition("-")
            country = pyholidays.country_holidays(code, subdiv=subdiv or None)
        if country is None and not self.extra_holidays:
            return BusinessHours(tz=tz, days=frozenset(self.days), start=self.start, end=self.end)
        return BusinessHours(
            tz=tz,
            days=frozenset(self.days),
            start=self.start,
            end=self.end,
            holidays=HolidayDates(country, self.extra_holidays),
        )


class TeamConfig(_Model):
    """One support team: where its alerts go and which helpdesk groups/teams it owns."""

    name: TeamName
    channel: ChannelId | None = None
    timezone: TimezoneName | None = None
    zendesk_group_ids: list[ZendeskGroupId] = Field(default_factory=list)
    intercom_team_ids: list[IntercomTeamId] = Field(default_factory=list)
    managers: list[UserId] = Field(default_factory=list)
    business_hours: BusinessHoursConfig | None = None

    @field_validator("zendesk_group_ids", "intercom_team_ids", "managers")
    @classmethod
    def _dedupe(cls, values: list[str]) -> list[str]:
        return _unique(values)

    @property
    def tz(self) -> ZoneInfo:
        """The team's timezone; UTC for a team built outside an AppConfig without one."""
        return ZoneInfo(self.timezone or "UTC")

    def business_calendar(self) -> BusinessHours | None:
        """The team's business-hours calendar, or None when its SLA clock runs 24/7."""
        if self.business_hours is None:
            return None
        return self.business_hours.calendar(self.tz)


class AlertsConfig(_Model):
    channel: ChannelId
    warn_before: list[Duration] = Field(default_factory=lambda: [timedelta(minutes=30)])

    @field_validator("warn_before")
    @classmethod
    def _descending(cls, values: list[timedelta]) -> list[timedelta]:
        return sorted(set(values), reverse=True)


class ReplyTargets(_Model):
    priority: Duration
    not_priority: Duration


_INTERCOM_DEFAULTS = {
    "first_reply": {"priority": timedelta(minutes=30), "not_priority": timedelta(hours=2)},
    "next_reply": {"priority": timedelta(hours=1), "not_priority": timedelta(hours=4)},
}


class IntercomSlaConfig(_Model):
    """Reply-time targets for Intercom, which exposes no breach time of its own."""

    first_reply: ReplyTargets = Field(
        default_factory=lambda: ReplyTargets(**_INTERCOM_DEFAULTS["first_reply"])
    )
    next_reply: ReplyTargets = Field(default_factory=lambda: ReplyTargets(**_INTERCOM_DEFAULTS["next_reply"]))

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        """A block that sets only `priority` keeps the default `not_priority`, and vice versa."""
        if not isinstance(data, Mapping):
            return data
        filled = dict(data)
        for metric, defaults in _INTERCOM_DEFAULTS.items():
            if isinstance(filled.get(metric), Mapping):
                filled[metric] = {**defaults, **filled[metric]}
        return filled


class SlaConfig(_Model):
    intercom: IntercomSlaConfig = Field(default_factory=IntercomSlaConfig)


class RedactConfig(_Model):
    """Mask customer emails / phone numbers in text Deskwatch posts to Slack."""

    emails: bool = False
    phones: bool = False


class ScheduleConfig(_Model):
    sync_interval: Duration = timedelta(seconds=60)
    sweep_interval: Duration = timedelta(seconds=10)


class SlackConfig(_Model):
    post_interval_per_channel: DurationOrSeconds = timedelta(seconds=1)


class AppConfig(_Model):
    """The whole YAML file: global defaults, teams, SLA targets, and operational knobs."""

    timezone: TimezoneName = "UTC"
    alerts: AlertsConfig
    teams: list[TeamConfig] = Field(default_factory=list)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    redact: RedactConfig = Field(default_factory=RedactConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)

    @model_validator(mode="before")
    @classmethod
    def _teams_inherit_timezone(cls, data: Any) -> Any:
        """A team without `timezone` takes the top-level one (if valid, so a bad one is reported once)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("teams"), list):
            return data
        try:
            default = _timezone(data.get("timezone") or "UTC")
        except PydanticCustomError:
            return data
        teams = [
            {**team, "timezone": default}
            if isinstance(team, Mapping) and team.get("timezone") is None
            else team
            for team in data["teams"]
        ]
        return {**data, "teams": teams}

    @model_validator(mode="after")
    def _teams_unique(self) -> AppConfig:
        conflicts = _team_conflicts(
            (team.name, team.zendesk_group_ids, team.intercom_team_ids) for team in self.teams
        )
        if conflicts:
            raise _problems(conflicts)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def channel_for(self, team: TeamConfig) -> str:
        """The team's own channel, else the default alerts channel."""
        return team.channel or self.alerts.channel

    def routes(self) -> list[TeamRoute]:
        return [
            TeamRoute(
                name=team.name,
                channel=self.channel_for(team),
                zendesk_group_ids=frozenset(team.zendesk_group_ids),
                intercom_team_ids=frozenset(team.intercom_team_ids),
            )
            for team in self.teams
        ]

    def intercom_targets(self) -> IntercomTargets:
        intercom = self.sla.intercom
        return IntercomTargets(
            first_reply_priority=intercom.first_reply.priority,
            first_reply_not_priority=intercom.first_reply.not_priority,
            next_reply_priority=intercom.next_reply.priority,
            next_reply_not_priority=intercom.next_reply.not_priority,
        )

    def team(self, name: str) -> TeamConfig | None:
        wanted = name.strip().lower()
        return next((team for team in self.teams if team.name == wanted), None)

    def team_for_channel(self, channel_id: str) -> TeamConfig | None:
        """The one team whose alerts go to this channel; None when no team or several teams share it."""
        matches = [team for team in self.teams if self.channel_for(team) == channel_id]
        return matches[0] if len(matches) == 1 else None

    def teams_managed_by(self, user_id: str) -> list[TeamConfig]:
        return [team for team in self.teams if user_id in team.managers]

    def team_tz(self, name: str | None) -> ZoneInfo:
        """The named team's timezone; the top-level one for None or a team no longer configured."""
        team = self.team(name) if name else None
        return ZoneInfo(team.timezone) if team is not None and team.timezone else self.tz


def _team_conflicts(teams: Iterable[tuple[Any, Sequence[Any], Sequence[Any]]]) -> list[tuple[str, str]]:
    """Duplicate team names, and helpdesk ids claimed by more than one team, as (path, message)."""
    problems: list[tuple[str, str]] = []
    names: dict[str, int] = {}
    owners: dict[tuple[str, str], tuple[int, Any]] = {}
    for index, (name, group_ids, team_ids) in enumerate(teams):
        if isinstance(name, str):
            if name in names:
                problems.append(
                    (f"teams[{index}].name", f'"{name}" is already the name of teams[{names[name]}]')
                )
            else:
                names[name] = index
        for field, ids, what in (
            ("zendesk_group_ids", group_ids, "Zendesk group"),
            ("intercom_team_ids", team_ids, "Intercom team"),
        ):
            for position, ident in enumerate(ids):
                if ident is None:
                    continue
                owner = owners.setdefault((field, ident), (index, name))
                if owner[0] != index:
                    owner_name = owner[1] if isinstance(owner[1], str) else f"teams[{owner[0]}]"
                    problems.append(
                        (
                            f"teams[{index}].{field}[{position}]",
                            f'"{ident}" already belongs to team "{owner_name}" (teams[{owner[0]}]); '
                            f"a {what} may belong to only one team",
                        )
                    )
    return problems


def _raw_team_conflicts(data: Mapping[str, Any]) -> list[str]:
    """Same checks on unvalidated data, so they are reported alongside other problems in one pass."""
    teams = data.get("teams")
    if not isinstance(teams, list):
        return []
    zendesk = _numeric_id("", "")

    def ids(value: Any) -> list[str | None]:
        if not isinstance(value, list):
            return []
        out: list[str | None] = []
        for item in value:
            try:
                out.append(zendesk(item))
            except PydanticCustomError:
                out.append(None)
        return out

    entries = []
    for team in teams:
        team = team if isinstance(team, Mapping) else {}
        name = team.get("name")
        name = name.strip() if isinstance(name, str) else None
        entries.append((name, ids(team.get("zendesk_group_ids")), ids(team.get("intercom_team_ids"))))
    return [f"{path}: {message}" for path, message in _team_conflicts(entries)]


# ---------------------------------------------------------------------------------------------------------
# Loading YAML.

_SECRET_KEY = re.compile(r"token|secret|password|passwd|api_?key", re.IGNORECASE)


def _strip_secrets(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Drop secret-looking keys (reported, values never echoed) so they are not also 'unknown key'."""
    problems: list[str] = []
    if isinstance(value, Mapping):
        kept = {}
        for key, item in value.items():
            key_path = _join(path, str(key))
            if isinstance(key, str) and _SECRET_KEY.search(key.replace("-", "_")):
                problems.append(f"{key_path}: {SECRET_IN_YAML}")
                continue
            kept[key], inner = _strip_secrets(item, key_path)
            problems.extend(inner)
        return kept, problems
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            cleaned, inner = _strip_secrets(item, f"{path}[{index}]")
            items.append(cleaned)
            problems.extend(inner)
        return items, problems
    return value, problems


def config_from_dict(data: Any, source: str = "<dict>") -> AppConfig:
    """Validate already-parsed configuration; raise ConfigError listing every problem."""
    if data is None:
        raise ConfigError(
            [f"{source}: is empty; it needs at least `alerts: {{channel: C0123ABCD}}` (see {EXAMPLE_FILE})"]
        )
    if not isinstance(data, Mapping):
        raise ConfigError(
            [
                f"{source}: the top level must be a mapping (timezone:, alerts:, teams:, ...), "
                f"not {_kind(data)}"
            ]
        )
    cleaned, problems = _strip_secrets(data)
    try:
        config = AppConfig.model_validate(cleaned)
    except ValidationError as exc:
        problems += _format_errors(exc, AppConfig) + _raw_team_conflicts(cleaned)
    if problems:
        raise ConfigError(_unique(problems))
    return config


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars and no duplicate keys.

    YAML 1.1 reads `end: 17:00` as the integer 1020, `holidays: NO` as false and `007` as octal; a
    repeated key silently wins. Each of these would turn a typo into a wrong config instead of an error.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool, date)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_YAML_BOOL = "tag:yaml.org,2002:bool"
_YAML_INT = "tag:yaml.org,2002:int"
_YAML_FLOAT = "tag:yaml.org,2002:float"
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_YAML_BOOL, _YAML_INT, _YAML_FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    _YAML_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_YamlLoader.add_implicit_resolver(_YAML_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_YamlLoader.add_implicit_resolver(
    _YAML_FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_YamlLoader.add_constructor(_YAML_INT, lambda loader, node: int(loader.construct_scalar(node), 10))


def _timestamp_or_text(loader: _YamlLoader, node: yaml.ScalarNode) -> Any:
    """`2025-13-01` stays text (reported as 'not an ISO date') instead of crashing the YAML parser."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def load_config(path: str | Path) -> AppConfig:
    """Read and validate the YAML file at `path`; raise ConfigError listing every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                f"{file}: config file not found (looked in {file.absolute()}). Set DESKWATCH_CONFIG to your "
                f"config file's path, or copy {EXAMPLE_FILE} to {file} and edit it"
            ]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{file}: is not UTF-8 text; save it as UTF-8"]) from None
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read the config file ({exc.strerror or exc})"]) from None
    try:
        data = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(
            [f"{file}: invalid YAML{where}: {exc.problem or exc.context or 'cannot parse'}"]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}: invalid YAML: {exc}"]) from None
    return config_from_dict(data, source=str(file))


# ---------------------------------------------------------------------------------------------------------
# Environment.


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid(f"{_q(value)} is not an http(s) URL")
    return value


class Settings(BaseSettings):
    """Deployment settings from environment variables (field name = env var name, lower-cased).

    Built only by the composition root (`load_settings()`), never at import. Secrets are SecretStr, and
    DATABASE_URL (which may hold a password) is left out of repr.
    """

    model_config = SettingsConfigDict(
        env_ignore_empty=True, extra="ignore", env_prefix="", case_sensitive=False
    )

    deskwatch_config: Path = Path("deskwatch.yaml")
    database_url: str = Field("sqlite:///deskwatch.db", repr=False)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    zendesk_url: str | None = None
    zendesk_webhook_secret: SecretStr | None = None
    intercom_access_token: SecretStr | None = None
    intercom_client_secret: SecretStr | None = None
    intercom_url: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        """Strip pasted whitespace; an empty override means 'not set' (the default), like an empty env var."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if sep and scheme.lower() in ("postgres", "postgresql"):
            value = f"postgresql+psycopg://{rest}"
        try:
            make_url(value)
        except ArgumentError:
            raise _invalid(
                "is not a database URL (e.g. sqlite:///deskwatch.db or postgresql://user:password@host:5432/deskwatch)"
            ) from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        _http_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("zendesk_url")
    @classmethod
    def _zendesk_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        base = _http_url(value).rstrip("/")
        if base.lower().endswith("/api/v2"):
            raise _invalid(
                f"{_q(value)} must be the base URL without /api/v2 (e.g. https://acme.zendesk.com or "
                f"http://127.0.0.1:8025); Deskwatch adds /api/v2 itself"
            )
        return base

    @field_validator("intercom_url")
    @classmethod
    def _intercom_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value).rstrip("/")

    @field_validator("zendesk_subdomain")
    @classmethod
    def _zendesk_subdomain(cls, value: str | None) -> str | None:
        """Accept `acme`, `acme.zendesk.com` or `https://acme.zendesk.com/` and keep `acme`."""
        if value is None:
            return None
        text = re.sub(r"^https?://", "", value.lower()).rstrip("/")
        text = text.removesuffix(".zendesk.com")
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", text):
            raise _invalid(
                f"{_q(value)} is not a Zendesk subdomain (the `acme` in acme.zendesk.com; "
                "use ZENDESK_URL for another host)"
            )
        return text

    @field_validator("zendesk_email")
    @classmethod
    def _zendesk_email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise _invalid(
                f"{_q(value)} is not an email address (the Zendesk agent the API token belongs to)"
            )
        return value

    @property
    def config_path(self) -> Path:
        return self.deskwatch_config

    @property
    def zendesk_enabled(self) -> bool:
        return bool(
            (self.zendesk_subdomain or self.zendesk_url) and self.zendesk_email and self.zendesk_api_token
        )

    @property
    def intercom_enabled(self) -> bool:
        return self.intercom_access_token is not None

    @property
    def zendesk_base_url(self) -> str | None:
        """ZENDESK_URL if set, else https://<subdomain>.zendesk.com; without /api/v2."""
        if self.zendesk_url:
            return self.zendesk_url
        return f"https://{self.zendesk_subdomain}.zendesk.com" if self.zendesk_subdomain else None


_ZENDESK_VARS = (
    "zendesk_subdomain",
    "zendesk_url",
    "zendesk_email",
    "zendesk_api_token",
    "zendesk_webhook_secret",
)
_INTERCOM_VARS = ("intercom_client_secret", "intercom_url")


def settings_problems(settings: Settings) -> list[str]:
    """Half-configured integrations, one actionable line each; a helpdesk with nothing set is just off."""
    problems: list[str] = []
    zendesk_set = [name.upper() for name in _ZENDESK_VARS if getattr(settings, name) is not None]
    if zendesk_set and not settings.zendesk_enabled:
        present = ", ".join(zendesk_set) + (" are" if len(zendesk_set) > 1 else " is")
        off = "or unset the ZENDESK_* variables to turn Zendesk off"
        if not (settings.zendesk_subdomain or settings.zendesk_url):
            problems.append(
                f"ZENDESK_SUBDOMAIN is not set but {present} set: set ZENDESK_SUBDOMAIN (the `acme` in "
                f"acme.zendesk.com) or ZENDESK_URL, {off}"
            )
        if not settings.zendesk_email:
            problems.append(
                f"ZENDESK_EMAIL is not set but {present} set: set ZENDESK_EMAIL to the agent email that owns "
                f"the API token, {off}"
            )
        if not settings.zendesk_api_token:
            problems.append(
                f"ZENDESK_API_TOKEN is not set but {present} set: set ZENDESK_API_TOKEN to a Zendesk API "
                f"token (Admin Center > Apps and integrations > Zendesk API), {off}"
            )
    intercom_set = [name.upper() for name in _INTERCOM_VARS if getattr(settings, name) is not None]
    if intercom_set and not settings.intercom_enabled:
        problems.append(
            f"INTERCOM_ACCESS_TOKEN is not set but {', '.join(intercom_set)} "
            f"{'are' if len(intercom_set) > 1 else 'is'} set: set INTERCOM_ACCESS_TOKEN to "
            "an Intercom access token, or unset the INTERCOM_* variables to turn Intercom off"
        )
    bot, app = settings.slack_bot_token, settings.slack_app_token
    if bot is not None and bot.get_secret_value().startswith("xapp-"):
        problems.append(
            "SLACK_BOT_TOKEN holds an app-level token (xapp-...): put it in SLACK_APP_TOKEN instead"
        )
    if app is not None and app.get_secret_value().startswith(("xoxb-", "xoxp-")):
        problems.append(
            "SLACK_APP_TOKEN holds a bot/user token (xox...): use the app-level token (xapp-...), and put "
            "the bot token (xoxb-...) in SLACK_BOT_TOKEN"
        )
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment plus keyword overrides; raise ConfigError naming each env var."""
    values = {key.lower(): value for key, value in overrides.items()}
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        known = [name.upper() for name in Settings.model_fields]
        raise ConfigError(
            [f"{key.upper()}: not a Deskwatch setting{_hint(key.upper(), known)}" for key in unknown]
        )
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_settings_lines(exc)) from None


def _settings_lines(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        name = str(err["loc"][0]).upper() if err["loc"] else "<settings>"
        if err["type"] == _PROBLEM:
            lines.append(f"{name}: {err['msg']}")
        else:  # never echo the input: it may be a secret
            lines.append(f"{name}: invalid value ({err.get('msg', err['type'])})")
    return _unique(lines)
