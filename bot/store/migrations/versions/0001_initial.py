"""Initial schema: tickets, sync_state, sla_alerts.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.types import UtcDateTime

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(32), nullable=True),
        sa.Column("group_id", sa.String(64), nullable=True),
        sa.Column("group_name", sa.String(), nullable=True),
        sa.Column("assignee_id", sa.String(64), nullable=True),
        sa.Column("assignee_name", sa.String(), nullable=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("first_admin_reply_at", UtcDateTime(), nullable=True),
        sa.Column("waiting_since", UtcDateTime(), nullable=True),
        sa.Column("last_contact_reply_at", UtcDateTime(), nullable=True),
        sa.Column("sla_metrics", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("synced_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_tickets_source", "tickets", ["source"])
    op.create_index("ix_tickets_is_open", "tickets", ["is_open"])

    op.create_table(
        "sync_state",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("cursor", sa.String(), nullable=True),
        sa.Column("last_started_at", UtcDateTime(), nullable=True),
        sa.Column("last_success_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("items_synced", sa.Integer(), nullable=False),
    )

    op.create_table(
        "sla_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("cycle", sa.String(64), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("threshold_seconds", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("posted_at", UtcDateTime(), nullable=True),
        sa.Column("acked_by", sa.String(32), nullable=True),
        sa.Column("acked_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("ref", "metric", "cycle", "key", name="uq_sla_alerts_decision"),
    )
    op.create_index("ix_sla_alerts_ref", "sla_alerts", ["ref"])
    op.create_index("ix_sla_alerts_status_next", "sla_alerts", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_sla_alerts_status_next", table_name="sla_alerts")
    op.drop_index("ix_sla_alerts_ref", table_name="sla_alerts")
    op.drop_table("sla_alerts")
    op.drop_table("sync_state")
    op.drop_index("ix_tickets_is_open", table_name="tickets")
    op.drop_index("ix_tickets_source", table_name="tickets")
    op.drop_table("tickets")
