"""History tables for the digests: append-only records of what happened, stamped with the team then.

Rows are inserted (duplicates by source event id ignored) and read; only retention deletes them. The
backlog snapshots record how many items each team had open at a moment, because "backlog at the end of
last week's window" cannot be recomputed from current ticket state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UtcDateTime


def _ts(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable)


class HistoryEventRow(SQLModel, table=True):
    """One ticket event (created, first_reply, replied, solved, reopened, reassigned).

    `seconds` / `business_seconds`: for first_reply the wait since the reply clock started, for solved the
    time since creation; business seconds use the team's calendar at ingest (equal to `seconds` for 24/7).
    """

    __tablename__ = "history_events"
    __table_args__ = (
        UniqueConstraint("ref", "event_id", name="uq_history_events_ref_event"),
        Index("ix_history_events_team_kind_at", "team", "kind", "at"),
        Index("ix_history_events_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64)
    event_id: str = Field(max_length=96)
    kind: str = Field(max_length=16)
    at: datetime = _ts()
    team: str | None = Field(default=None, max_length=64)
    group_id: str | None = Field(default=None, max_length=64)
    priority: str | None = Field(default=None, max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts()
    seconds: int | None = None
    business_seconds: int | None = None
    agent_replies: int | None = None
    recorded_at: datetime = _ts()


class HistoryTagRow(SQLModel, table=True):
    """A tag of a ticket at its creation (contact drivers), dated by the ticket's creation."""

    __tablename__ = "history_tags"
    __table_args__ = (
        UniqueConstraint("ref", "tag", name="uq_history_tags_ref_tag"),
        Index("ix_history_tags_team_at", "team", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64)
    tag: str = Field(max_length=128)
    team: str | None = Field(default=None, max_length=64)
    at: datetime = _ts()


class HistoryOutcomeRow(SQLModel, table=True):
    """One SLA target (item, metric, cycle) achieved or breached, and when."""

    __tablename__ = "history_sla_outcomes"
    __table_args__ = (
        UniqueConstraint("ref", "metric", "cycle", name="uq_history_outcomes_cycle"),
        Index("ix_history_outcomes_team_at", "team", "at"),
        Index("ix_history_outcomes_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64)
    metric: str = Field(max_length=64)
    cycle: str = Field(max_length=64)
    achieved: bool
    at: datetime = _ts()
    due_at: datetime | None = _ts(nullable=True)
    team: str | None = Field(default=None, max_length=64)
    priority: str | None = Field(default=None, max_length=32)
    recorded_at: datetime = _ts()


class HistoryRatingRow(SQLModel, table=True):
    """One satisfaction rating (Zendesk good/bad, Intercom 1-5)."""

    __tablename__ = "history_ratings"
    __table_args__ = (
        UniqueConstraint("ref", "rating_id", name="uq_history_ratings_ref_rating"),
        Index("ix_history_ratings_team_at", "team", "at"),
        Index("ix_history_ratings_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64)
    rating_id: str = Field(max_length=64)
    good: bool
    score: str = Field(max_length=16)
    at: datetime = _ts()
    team: str | None = Field(default=None, max_length=64)
    recorded_at: datetime = _ts()


class BacklogSnapshotRow(SQLModel, table=True):
    """How many items a team had open at `at`, by age. `team` is "" for items no team claims."""

    __tablename__ = "history_backlog"
    __table_args__ = (UniqueConstraint("team", "at", name="uq_history_backlog_team_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=64)
    at: datetime = _ts()
    open: int = 0
    under_1d: int = 0
    from_1d_to_3d: int = 0
    over_3d: int = 0


class HistoryStateRow(SQLModel, table=True):
    """Per-helpdesk history feed cursor (opaque, owned by the feed) and health."""

    __tablename__ = "history_state"

    source: str = Field(primary_key=True, max_length=16)
    cursor: str | None = None
    since: datetime | None = _ts(nullable=True)  # how far back the history reaches (backfill start)
    last_success_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None
    records: int = 0
