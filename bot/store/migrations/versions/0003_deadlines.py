"""Deadlines kept at sync time (indexed by the next moment an alert is due) and a small meta table.

The deadlines of stored open items are built on the next start: the configuration hash in
`deskwatch_meta` is missing, so every open item's deadlines are computed once.

Revision ID: 0003_deadlines
Revises: 0002_outbox
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.types import UtcDateTime

revision = "0003_deadlines"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_deadlines",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("metric", sa.String(64), primary_key=True),
        sa.Column("cycle", sa.String(64), primary_key=True),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("next_at", UtcDateTime(), nullable=True),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_sla_deadlines_next_at", "sla_deadlines", ["next_at"])
    op.create_index("ix_sla_deadlines_due_at", "sla_deadlines", ["due_at"])
    with op.batch_alter_table("sla_alerts") as batch:
        batch.add_column(sa.Column("group_key", sa.String(200), nullable=True))
        batch.create_index("ix_sla_alerts_group_key", ["group_key"])
    op.create_table(
        "deskwatch_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deskwatch_meta")
    with op.batch_alter_table("sla_alerts") as batch:
        batch.drop_index("ix_sla_alerts_group_key")
        batch.drop_column("group_key")
    op.drop_index("ix_sla_deadlines_due_at", table_name="sla_deadlines")
    op.drop_index("ix_sla_deadlines_next_at", table_name="sla_deadlines")
    op.drop_table("sla_deadlines")
