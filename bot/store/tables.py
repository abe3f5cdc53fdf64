"""SQLModel tables: helpdesk item state, sync cursors and SLA alerts.

Ticket state is kept locally so deadlines are evaluated from the database every sweep (no API call),
and upstream syncs only fetch what changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UtcDateTime


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


class TicketRow(SQLModel, table=True):
    """Latest known state of one Zendesk ticket or Intercom conversation."""

    __tablename__ = "tickets"

    ref: str = Field(primary_key=True, max_length=64)
    source: str = Field(max_length=16, index=True)
    external_id: str = Field(max_length=32)
    subject: str = ""
    status: str = Field(max_length=32)
    is_open: bool = Field(default=True, index=True)
    priority: str | None = Field(default=None, max_length=32)
    group_id: str | None = Field(default=None, max_length=64)
    group_name: str | None = None
    assignee_id: str | None = Field(default=None, max_length=64)
    assignee_name: str | None = None
    url: str = ""
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    first_admin_reply_at: datetime | None = _ts(nullable=True)
    waiting_since: datetime | None = _ts(nullable=True)
    last_contact_reply_at: datetime | None = _ts(nullable=True)
    sla_metrics: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    synced_at: datetime = _ts()


class SyncStateRow(SQLModel, table=True):
    """Per-helpdesk sync cursor (opaque, owned by the adapter) and health."""

    __tablename__ = "sync_state"

    source: str = Field(primary_key=True, max_length=16)
    cursor: str | None = None
    last_started_at: datetime | None = _ts(nullable=True)
    last_success_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None
    items_synced: int = 0


class AlertRow(SQLModel, table=True):
    """One SLA alert: decided first (pending), then posted (channel/ts recorded), then maybe acknowledged.

    The unique key (ref, metric, cycle, key) makes deciding idempotent: a rescan cannot post twice.
    """

    __tablename__ = "sla_alerts"
    __table_args__ = (
        UniqueConstraint("ref", "metric", "cycle", "key", name="uq_sla_alerts_decision"),
        Index("ix_sla_alerts_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64, index=True)
    metric: str = Field(max_length=64)
    cycle: str = Field(max_length=64)
    key: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    threshold_seconds: int | None = None
    team: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=32)
    due_at: datetime = _ts()
    decided_at: datetime = _ts()
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(nullable=True)
    claimed_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None
    ts: str | None = Field(default=None, max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    posted_at: datetime | None = _ts(nullable=True)
    acked_by: str | None = Field(default=None, max_length=32)
    acked_at: datetime | None = _ts(nullable=True)
