"""Escalation context (the escalator's words, urgency, the ticket as shown, where /escalate ran) and the
index that finds a handoff from its Slack message (thread replies, button clicks).

Revision ID: 0005_escalation_context
Revises: 0004_escalations
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_escalation_context"
down_revision = "0004_escalations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("context", sa.JSON(), nullable=True))
    op.create_index("ix_escalations_message", "escalations", ["channel", "message_ts"])


def downgrade() -> None:
    op.drop_index("ix_escalations_message", table_name="escalations")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("context")
