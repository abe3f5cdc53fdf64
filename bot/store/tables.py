"""SQLModel tables: helpdesk item state, sync cursors and SLA alerts.

Ticket state is kept locally so deadlines are evaluated from the database every sweep (no API call),
and upstream syncs only fetch what changed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
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
    first_contact_at: datetime | None = _ts(nullable=True)
    reopens: int = 0
    agent_replies: int = 0
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
    # The due time before the helpdesk last moved it inside this cycle (shown as "deadline moved").
    previous_due_at: datetime | None = _ts(nullable=True)
    # The outbox key of the grouped message (storm) or backlog summary this alert went out in, if any.
    group_key: str | None = Field(default=None, max_length=200, index=True)


class OutboxRow(SQLModel, table=True):
    """One outward effect (a Slack post or update, later helpdesk writes), delivered exactly once.

    `key` is the idempotency key: enqueueing the same effect twice is a no-op. States:
    pending -> sending -> posted; `unknown` when a request may have gone through but its outcome was not
    seen (resolved by a lookup before anything is re-sent); `dead` on a permanent error (`last_error` has
    the reason); `cancelled` when the effect no longer applies. A claim carries `claim_token`: only the
    holder of the token can move the row on (fencing), so a slow worker cannot overwrite a newer claim.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)  # slack.post | slack.update
    purpose: str = Field(max_length=32)  # what prepares and finishes it: sla_alert, sla_alert_update, ...
    subject_id: int | None = Field(default=None, index=True)
    channel: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    claim_token: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = _ts(nullable=True)
    first_sent_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    done_at: datetime | None = _ts(nullable=True)


class ChannelPaceRow(SQLModel, table=True):
    """Next moment (epoch seconds) a post to this channel may start, shared by every replica."""

    __tablename__ = "slack_pacing"

    channel: str = Field(primary_key=True, max_length=64)
    next_at: float = 0.0


class DeadlineRow(SQLModel, table=True):
    """One SLA deadline of one open item, kept at sync time so the sweep reads only what is due.

    `next_at` is the next moment an alert of this deadline becomes due (its widest warning, a tighter
    one, the breach); None once there is nothing left to decide. The sweep selects `next_at <= now`
    through its index and never loads every open item. `first_seen_at` tells a backlog (breached long
    before Deskwatch first saw it) from a fresh breach.
    """

    __tablename__ = "sla_deadlines"
    __table_args__ = (
        Index("ix_sla_deadlines_next_at", "next_at"),
        Index("ix_sla_deadlines_due_at", "due_at"),
    )

    ref: str = Field(primary_key=True, max_length=64)
    metric: str = Field(primary_key=True, max_length=64)
    cycle: str = Field(primary_key=True, max_length=64)
    due_at: datetime = _ts()
    team: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=64)
    next_at: datetime | None = _ts(nullable=True)
    first_seen_at: datetime = _ts()
    updated_at: datetime = _ts()


class MetaRow(SQLModel, table=True):
    """Small facts about the store itself, e.g. the hash of the configuration deadlines were built with."""

    __tablename__ = "deskwatch_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = ""


class EscalationRow(SQLModel, table=True):
    """One handoff (chain, tier): the serialised domain `Escalation` plus the columns queries need.

    `version` is bumped by every state change and every change names the version it read (optimistic
    concurrency): of two people pressing Accept at once exactly one update matches. `next_timer_at` is
    the scheduler's wake-up (None when no timer runs), so timers survive restarts and are read by index.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("chain", "tier", name="uq_escalations_chain_tier"),
        Index("ix_escalations_next_timer_at", "next_timer_at"),
        Index("ix_escalations_message", "channel", "message_ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64)
    tier: int
    ref: str = Field(max_length=64, index=True)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What the handoff message shows besides the domain state: needs / tried / urgency, the ticket as
    # the helpdesk described it when escalated, and where /escalate ran. Written once, at creation.
    context: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(max_length=16)
    owner: str | None = Field(default=None, max_length=32)
    channel: str | None = Field(default=None, max_length=64)
    message_ts: str | None = Field(default=None, max_length=32)
    next_timer_at: datetime | None = _ts(nullable=True)
    version: int = 1
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class EscalationEventRow(SQLModel, table=True):
    """One audit event of a handoff. Append-only: rows are inserted and read, never updated or deleted."""

    __tablename__ = "escalation_events"
    __table_args__ = (
        Index("ix_escalation_events_at", "at", "id"),
        Index("ix_escalation_events_escalation_id", "escalation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalations.id")
    chain: str = Field(max_length=64)
    tier: int
    kind: str = Field(max_length=32)
    actor: str | None = Field(default=None, max_length=32)
    at: datetime = _ts()
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


# -- QA scorecards ---------------------------------------------------------------------------------------
class QaRubricRow(SQLModel, table=True):
    """One rubric version (scale, pass mark, categories). Rows are never changed: a config change makes a
    new row, so old reviews keep the weights they were scored with."""

    __tablename__ = "qa_rubrics"
    __table_args__ = (UniqueConstraint("version", name="uq_qa_rubrics_version"),)

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=12)
    rubric: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class QaCalibrationRow(SQLModel, table=True):
    """A calibration session on one ticket: reviewers score it blind until it closes (owner or window)."""

    __tablename__ = "qa_calibrations"
    __table_args__ = (Index("ix_qa_calibrations_status_closes", "status", "closes_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64)
    owner: str = Field(max_length=32)
    channel: str | None = Field(default=None, max_length=64)
    message_ts: str | None = Field(default=None, max_length=32)
    opened_at: datetime = _ts()
    closes_at: datetime = _ts()
    closed_at: datetime | None = _ts(nullable=True)
    closed_by: str | None = Field(default=None, max_length=32)
    status: str = Field(default="open", max_length=16)  # open | closed


class QaReviewRow(SQLModel, table=True):
    """One scorecard: a review of an agent's ticket, or one reviewer's blind score in a calibration.

    The score is stored as computed with the row's rubric version. `version` is bumped by every score
    edit and every edit names the version it read, so two edits of one review cannot both apply.
    """

    __tablename__ = "qa_reviews"
    __table_args__ = (
        Index("ix_qa_reviews_agent_created", "agent", "created_at"),
        Index("ix_qa_reviews_created", "created_at", "id"),
        Index("ix_qa_reviews_kind", "kind"),
        UniqueConstraint("calibration_id", "reviewer", name="uq_qa_reviews_calibration_reviewer"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rubric_id: int = Field(foreign_key="qa_rubrics.id")
    kind: str = Field(max_length=16)  # review | calibration
    calibration_id: int | None = Field(default=None, foreign_key="qa_calibrations.id")
    reviewer: str = Field(max_length=32)
    agent: str = Field(max_length=32)
    agent_email: str | None = Field(default=None, max_length=254)
    ref: str = Field(max_length=64)
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    percent: float
    passed: bool
    critical_failed: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    comment: str = Field(default="", sa_type=Text)
    coaching: str = Field(default="", sa_type=Text)
    dispute_state: str | None = Field(default=None, max_length=16)  # open | accepted | rejected | rescored
    version: int = 1
    created_at: datetime = _ts()
    edited_at: datetime | None = _ts(nullable=True)


class QaDisputeRow(SQLModel, table=True):
    """An agent's dispute of one review (at most one per review) and the reviewer's decision."""

    __tablename__ = "qa_disputes"
    __table_args__ = (UniqueConstraint("review_id", name="uq_qa_disputes_review"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="qa_reviews.id")
    agent: str = Field(max_length=32)
    reason: str = Field(default="", sa_type=Text)
    state: str = Field(default="open", max_length=16)  # open | accepted | rejected | rescored
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = _ts(nullable=True)
    note: str = Field(default="", sa_type=Text)
    created_at: datetime = _ts()


class QaSampleRow(SQLModel, table=True):
    """A ticket assigned to a reviewer for one week's sample; `review_id` is set once it is scored."""

    __tablename__ = "qa_samples"
    __table_args__ = (
        UniqueConstraint("reviewer", "ref", "week_start", name="uq_qa_samples_reviewer_ref_week"),
        Index("ix_qa_samples_reviewer_review", "reviewer", "review_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reviewer: str = Field(max_length=32)
    agent: str = Field(max_length=32)
    ref: str = Field(max_length=64)
    week_start: date
    assigned_at: datetime = _ts()
    review_id: int | None = Field(default=None, foreign_key="qa_reviews.id")


class QaEventRow(SQLModel, table=True):
    """One QA audit event (review created or edited, calibration score, dispute, sample). Append-only:
    rows are inserted and read, never updated or deleted."""

    __tablename__ = "qa_events"
    __table_args__ = (Index("ix_qa_events_at", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int | None = Field(default=None, foreign_key="qa_reviews.id")
    calibration_id: int | None = Field(default=None, foreign_key="qa_calibrations.id")
    dispute_id: int | None = Field(default=None, foreign_key="qa_disputes.id")
    kind: str = Field(max_length=32)
    actor: str | None = Field(default=None, max_length=32)
    at: datetime = _ts()
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


import bot.store.history_tables  # noqa: E402,F401  (history tables live in their own module)
import bot.store.home_tables  # noqa: E402,F401  (the App Home table lives in its own module)
