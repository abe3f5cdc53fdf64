"""Digest history: ticket events, tags, SLA outcomes, satisfaction ratings, backlog snapshots, feed state.

Revision ID: 0007_history
Revises: 0006_qa
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.types import UtcDateTime

revision = "0007_history"
down_revision = "0006_qa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "history_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("group_id", sa.String(64), nullable=True),
        sa.Column("priority", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("business_seconds", sa.Integer(), nullable=True),
        sa.Column("agent_replies", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("ref", "event_id", name="uq_history_events_ref_event"),
    )
    op.create_index("ix_history_events_team_kind_at", "history_events", ["team", "kind", "at"])
    op.create_index("ix_history_events_at", "history_events", ["at"])
    op.create_table(
        "history_tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(128), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("ref", "tag", name="uq_history_tags_ref_tag"),
    )
    op.create_index("ix_history_tags_team_at", "history_tags", ["team", "at"])
    op.create_table(
        "history_sla_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("cycle", sa.String(64), nullable=False),
        sa.Column("achieved", sa.Boolean(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("priority", sa.String(32), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("ref", "metric", "cycle", name="uq_history_outcomes_cycle"),
    )
    op.create_index("ix_history_outcomes_team_at", "history_sla_outcomes", ["team", "at"])
    op.create_index("ix_history_outcomes_at", "history_sla_outcomes", ["at"])
    op.create_table(
        "history_ratings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("rating_id", sa.String(64), nullable=False),
        sa.Column("good", sa.Boolean(), nullable=False),
        sa.Column("score", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("ref", "rating_id", name="uq_history_ratings_ref_rating"),
    )
    op.create_index("ix_history_ratings_team_at", "history_ratings", ["team", "at"])
    op.create_index("ix_history_ratings_at", "history_ratings", ["at"])
    op.create_table(
        "history_backlog",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("under_1d", sa.Integer(), nullable=False),
        sa.Column("from_1d_to_3d", sa.Integer(), nullable=False),
        sa.Column("over_3d", sa.Integer(), nullable=False),
        sa.UniqueConstraint("team", "at", name="uq_history_backlog_team_at"),
    )
    op.create_table(
        "history_state",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("cursor", sa.String(), nullable=True),
        sa.Column("since", UtcDateTime(), nullable=True),
        sa.Column("last_success_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("history_state", "history_backlog", "history_ratings", "history_sla_outcomes"):
        op.drop_table(table)
    op.drop_table("history_tags")
    op.drop_table("history_events")
