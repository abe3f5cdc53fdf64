"""Everything a rendered digest shows: the figures plus who, which window, the worst breaches, freshness.

Built by `bot.services.digests` from the history store; read by the pure renderers in `bot.blocks.digest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.digest import DigestFigures


class DigestKind(StrEnum):
    DAILY = "daily"  # previous_business_day / last_24h: the morning standup
    WEEKLY = "weekly"  # previous_week: the weekly report


@dataclass(frozen=True)
class BreachLine:
    """One breached SLA target of the window, for the "worst five" list (linked to the ticket)."""

    ref: str  # "zd:101"
    url: str
    metric: str  # "first_reply_time"
    due_at: datetime | None
    overdue_seconds: int | None  # how late the target was met, or is, at the window's end
    priority: str | None = None
    subject: str | None = None


@dataclass(frozen=True)
class DigestView:
    """One team's digest for one window. Times are aware UTC; `timezone` is the team's IANA name."""

    team: str
    schedule: str  # the schedule's name ("daily", "weekly", or the configured one)
    kind: DigestKind
    start: datetime
    end: datetime
    timezone: str
    figures: DigestFigures
    narrative: tuple[str, str, str]
    worst_breaches: tuple[BreachLine, ...] = ()
    synced_at: datetime | None = None  # oldest last successful history sync of the helpdesks it covers
    generated_at: datetime | None = None  # "now" when computed (freshness is synced_at against this)
    definitions_url: str = ""
    business_hours: bool = False  # speed figures are in the team's business hours
