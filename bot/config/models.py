"""The YAML file's pydantic models: frozen, unknown keys rejected, teams checked for clashing names
and helpdesk ids (also on raw data, so those clashes are reported in the same pass as other problems).

Defaults flow down like `timezone`: the top-level `business_hours` is the calendar of items that match no
team and of every team that omits the key; a team's own block (or `null`, for 24/7) replaces it whole.
"""

from __future__ import annotations

import threading
from collections.abc import Container, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import holidays as pyholidays
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.config.errors import _invalid, _problems, _unique
from bot.config.fields import (
    ChannelId,
    ClockTime,
    Duration,
    DurationOrSeconds,
    EndClockTime,
    HolidayRegion,
    IntercomTeamId,
    IsoDate,
    TeamName,
    TimezoneName,
    UserId,
    Weekday,
    ZendeskGroupId,
    _timezone,
)
from bot.config.team_checks import team_conflicts
from bot.domain.calendar import BusinessHours, EndOfDay
from bot.domain.model import IntercomTargets, TeamRoute

if TYPE_CHECKING:  # escalation.py builds on these models and completes AppConfig once it is defined
    from bot.config.escalation import EscalationConfig


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
    """When an SLA clock runs (a team's, or the top-level default); days are stored as 0=Mon..6=Sun.

    `end` may be "24:00" (END_OF_DAY) so a whole day, and hence 24/5, can be written; `start` may not.
    """

    days: list[Weekday] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    start: ClockTime
    end: EndClockTime
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
        if isinstance(self.end, EndOfDay) or self.end > self.start:
            return self
        # "00:00" is never after a start; whoever wrote it meant the midnight ending the day
        midnight = '; write "24:00" for midnight at the end of the day' if self.end == time(0) else ""
        raise _problems(
            [
                (
                    "end",
                    f'"{self.end:%H:%M}" must be after start "{self.start:%H:%M}" '
                    f"(same day, 24-hour clock{midnight})",
                )
            ]
        )

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
        """The team's business-hours calendar, or None when its SLA clock runs 24/7.

        Inside an AppConfig a team that omits `business_hours` already holds the top-level block, read in
        the team's own timezone, so this is the calendar the team's items run on.
        """
        if self.business_hours is None:
            return None
        return self.business_hours.calendar(self.tz)


class AlertsConfig(_Model):
    channel: ChannelId
    warn_before: list[Duration] = Field(default_factory=lambda: [timedelta(minutes=30)])
    # More alerts than this of one kind due for one channel at once are posted as grouped messages.
    group_above: int = Field(default=5, ge=1, le=1000)
    # A breach already older than this when Deskwatch first sees it is backlog, not news.
    backlog_after: Duration = timedelta(hours=24)
    backlog: Literal["summary", "each", "skip"] = "summary"

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
    # How often the digest history (events, SLA outcomes, ratings) is read from the helpdesks.
    history_interval: Duration = timedelta(minutes=5)


class SlackConfig(_Model):
    post_interval_per_channel: DurationOrSeconds = timedelta(seconds=1)


class RetentionConfig(_Model):
    """How long finished records are kept. Alerts of items still open are kept whatever their age:
    they are what stops a cycle from being alerted twice."""

    alerts: Duration = timedelta(days=30)
    # Digest history (events, SLA outcomes, ratings, backlog snapshots): 8 weeks covers a week against
    # the week before it, with room for a late weekly report.
    history: Duration = timedelta(days=56)


class AppConfig(_Model):
    """The whole YAML file: global defaults, teams, SLA targets, and operational knobs.

    `business_hours` (default null = 24/7) is the default calendar, in the top-level `timezone`, for items
    that match no team; a team that omits the key inherits it in the team's timezone, while a team with
    `business_hours: null` runs 24/7. Inheriting is the default because a support lead who sets company
    hours once expects every team to follow them unless it says otherwise.
    """

    timezone: TimezoneName = "UTC"
    business_hours: BusinessHoursConfig | None = None
    alerts: AlertsConfig
    teams: list[TeamConfig] = Field(default_factory=list)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    redact: RedactConfig = Field(default_factory=RedactConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    escalation: EscalationConfig | None = None  # absent: escalation handoffs are not configured
    qa: QaConfig | None = None  # absent: QA scorecards are not configured
    digests: list[DigestSchedule] = Field(default_factory=list)  # absent: no digests are sent

    @model_validator(mode="wrap")
    @classmethod
    def _digests_name_teams(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> AppConfig:
        """Each digest names a configured team, reported together with every other problem."""
        return check_digests(data, handler)

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

    @model_validator(mode="before")
    @classmethod
    def _teams_inherit_business_hours(cls, data: Any) -> Any:
        """A team without the `business_hours` key takes the top-level block; an explicit null stays 24/7.

        Only a valid block is passed down, so its problems are reported once, at `business_hours.*`.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("teams"), list):
            return data
        if data.get("business_hours") is None:
            return data
        try:
            default = BusinessHoursConfig.model_validate(data["business_hours"])
        except ValidationError:
            return data
        teams = [
            {**team, "business_hours": default}
            if isinstance(team, Mapping) and "business_hours" not in team
            else team
            for team in data["teams"]
        ]
        return {**data, "teams": teams}

    @model_validator(mode="after")
    def _teams_unique(self) -> AppConfig:
        conflicts = team_conflicts(
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

    def default_calendar(self) -> BusinessHours | None:
        """The calendar of items that match no team: top-level `business_hours` in the top-level timezone.

        None when the block is absent or null, i.e. those items' SLA clocks run 24/7.
        """
        if self.business_hours is None:
            return None
        return self.business_hours.calendar(self.tz)

    def calendar_for(self, team_name: str | None) -> BusinessHours | None:
        """The named team's calendar; the default one for None (unrouted) or a team no longer configured.

        Mirrors `team_tz`, so an item stored under a since-removed team keeps a sensible clock. Each call
        builds a fresh calendar (holiday tables included): callers evaluating many items should cache.
        """
        team = self.team(team_name) if team_name else None
        return team.business_calendar() if team is not None else self.default_calendar()


# QaConfig and DigestSchedule build on `_Model`, so they are imported once the models above exist; being in
# this module's namespace lets the `AppConfig.model_rebuild` in escalation.py resolve `qa` and `digests` as
# well, and `check_digests` is AppConfig's cross-check of digests against `teams`.
from bot.config.digests import DigestSchedule, check_digests  # noqa: E402
from bot.config.qa import QaConfig  # noqa: E402
