"""The `digests:` section: when each team's standup digest or weekly report goes out, and what it covers.

Field problems of every entry are reported at once, each at its YAML path (`digests[0].at`); the
cross-checks that need the rest of the file (the team is configured, one schedule per team and name)
run on the raw data from an AppConfig validator, so they are reported in the same pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from bot.config.errors import _format_errors, _hint, _invalid, _problems, _q
from bot.config.fields import ChannelId, ClockTime, TeamName, Weekday
from bot.config.models import AppConfig, _Model
from bot.domain.digest_schedule import Covers, SendSchedule

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$", re.ASCII)
WEEKDAYS = [0, 1, 2, 3, 4]
WEEKLY_DAYS = ["mon"]  # a `previous_week` report goes out on Mondays unless `days` says otherwise


def _covers(value: Any) -> Covers:
    try:
        return Covers(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        choices = ", ".join(covers.value for covers in Covers)
        raise _invalid(f"{_q(value)} is not a digest window: use {choices}") from None


def _name(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not _NAME.match(text):
        raise _invalid(
            f"{_q(value)} is not a digest name (lowercase letters, digits, - and _, e.g. standup or weekly)"
        )
    return text


CoversWindow = Annotated[Covers, BeforeValidator(_covers)]
DigestName = Annotated[str, BeforeValidator(_name)]


class DigestSchedule(_Model):
    """One digest: `at` on `days` in the team's timezone, to `channel` (default: the team's channel).

    `name` tells two schedules of one team apart in the outbox key; it defaults to `daily`, or `weekly`
    for `covers: previous_week`. `days` defaults to mon-fri, or [mon] for `previous_week`.
    """

    team: TeamName
    name: DigestName | None = None
    channel: ChannelId | None = None
    at: ClockTime
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    skip_holidays: bool = True
    covers: CoversWindow = Covers.PREVIOUS_BUSINESS_DAY

    @model_validator(mode="before")
    @classmethod
    def _weekly_days(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "days" not in data and _is_weekly(data):
            return {**data, "days": list(WEEKLY_DAYS)}
        return data

    @field_validator("days")
    @classmethod
    def _sorted_days(cls, days: list[int]) -> list[int]:
        if not days:
            raise _invalid("has no days: list at least one, e.g. [mon, tue, wed, thu, fri]")
        return sorted(set(days))

    @model_validator(mode="wrap")
    @classmethod
    def _all_problems(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> DigestSchedule:
        """Every field problem of this entry together, each at its path below `digests[i]`."""
        if not isinstance(data, Mapping):
            return handler(data)
        try:
            return handler(data)
        except ValidationError as exc:
            problems = [tuple(line.split(": ", 1)) for line in _format_errors(exc, cls)]
            raise _problems(list(dict.fromkeys(problems))) from None  # type: ignore[arg-type]

    @property
    def schedule_name(self) -> str:
        return self.name or ("weekly" if self.covers is Covers.PREVIOUS_WEEK else "daily")

    def send_schedule(self) -> SendSchedule:
        """The domain schedule that `bot.domain.digest_schedule` computes send times and windows from."""
        return SendSchedule(
            team=self.team,
            name=self.schedule_name,
            at=self.at,
            days=frozenset(self.days),
            skip_holidays=self.skip_holidays,
            covers=self.covers,
        )


def digest_channel(config: AppConfig, digest: DigestSchedule) -> str:
    """Where the digest is posted: its own channel, else the team's (whose default is the alerts channel)."""
    if digest.channel:
        return digest.channel
    team = config.team(digest.team)
    return config.channel_for(team) if team is not None else config.alerts.channel


def digests_for(config: AppConfig, team: str) -> list[DigestSchedule]:
    """The team's configured digests, in file order."""
    wanted = team.strip().lower()
    return [digest for digest in config.digests if digest.team == wanted]


def digest_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Raw-data cross-checks of `digests`: unknown teams, and two schedules with one team and name."""
    digests = data.get("digests")
    if not isinstance(digests, list):
        return []
    teams = data.get("teams")
    known = [
        team["name"].strip()
        for team in (teams if isinstance(teams, list) else [])
        if isinstance(team, Mapping) and isinstance(team.get("name"), str)
    ]
    problems: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, digest in enumerate(digests):
        if not isinstance(digest, Mapping) or not isinstance(digest.get("team"), str):
            continue
        team = digest["team"].strip()
        if team and team not in known:
            listed = f"configured teams: {', '.join(known)}" if known else "no teams are configured"
            problems.append(
                (
                    f"digests[{index}].team",
                    f"{_q(digest['team'])} is not a configured team{_hint(team, known)} ({listed})",
                )
            )
        key = (team, _raw_schedule_name(digest))
        if key in seen:
            problems.append(
                (
                    f"digests[{index}].name",
                    f'team "{team}" already has a digest named "{key[1]}" (digests[{seen[key]}]); '
                    "give one of them a different `name`",
                )
            )
        seen.setdefault(key, index)
    return problems


def _raw_schedule_name(digest: Mapping[str, Any]) -> str:
    name = digest.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return "weekly" if _is_weekly(digest) else "daily"


def _is_weekly(digest: Mapping[str, Any]) -> bool:
    covers = digest.get("covers")
    return isinstance(covers, str) and covers.strip().lower() == Covers.PREVIOUS_WEEK


def check_digests(data: Any, handler: ValidatorFunctionWrapHandler) -> AppConfig:
    """AppConfig's wrap validator: digest cross-checks joined to every other problem of the file."""
    problems = digest_problems(data) if isinstance(data, Mapping) else []
    if not problems:
        return handler(data)
    try:
        handler(data)
    except ValidationError as exc:
        others = [tuple(line.split(": ", 1)) for line in _format_errors(exc, AppConfig)]
        raise _problems(list(dict.fromkeys([*others, *problems]))) from None  # type: ignore[arg-type]
    raise _problems(problems)
