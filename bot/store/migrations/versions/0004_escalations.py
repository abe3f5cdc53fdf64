"""Escalation handoffs (one row per chain and tier, with the timer the scheduler wakes up for) and their
append-only audit events.

Revision ID: 0004_escalations
Revises: 0003_deadlines
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.types import UtcDateTime

revision = "0004_escalations"
down_revision = "0003_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("next_timer_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("chain", "tier", name="uq_escalations_chain_tier"),
    )
    op.create_index("ix_escalations_ref", "escalations", ["ref"])
    op.create_index("ix_escalations_next_timer_at", "escalations", ["next_timer_at"])
    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalations.id"), nullable=False),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(32), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_escalation_events_at", "escalation_events", ["at", "id"])
    op.create_index("ix_escalation_events_escalation_id", "escalation_events", ["escalation_id"])


def downgrade() -> None:
    op.drop_index("ix_escalation_events_escalation_id", table_name="escalation_events")
    op.drop_index("ix_escalation_events_at", table_name="escalation_events")
    op.drop_table("escalation_events")
    op.drop_index("ix_escalations_next_timer_at", table_name="escalations")
    op.drop_index("ix_escalations_ref", table_name="escalations")
    op.drop_table("escalations")
