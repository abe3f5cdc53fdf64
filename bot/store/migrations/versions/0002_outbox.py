"""The outbox (one table for every outward effect), shared per-channel pacing, ticket cycle fields.

Alerts that were still waiting for delivery under 0001 get an outbox row each: pending/failed ones
stay pending; one left `sending` by a crash becomes `unknown`, so it is looked up before any re-send.

Revision ID: 0002_outbox
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from bot.store.types import UtcDateTime

revision = "0002_outbox"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_contact_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("reopens", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("agent_replies", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("sla_alerts") as batch:
        batch.add_column(sa.Column("previous_due_at", UtcDateTime(), nullable=True))

    outbox = op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("first_sent_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_outbox_state_next", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_subject_id", "outbox", ["subject_id"])
    op.create_table(
        "slack_pacing",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
    )

    connection = op.get_bind()
    # Under 0001 every Intercom conversation was treated as customer-started; keep that for stored rows
    # until their next sync says otherwise (an unchanged conversation may not be re-read for a while).
    connection.execute(sa.text("UPDATE tickets SET first_contact_at = created_at WHERE source = 'intercom'"))
    now = datetime.now(UTC)
    waiting = connection.execute(
        sa.text(
            "SELECT id, channel, status, attempts, decided_at, claimed_at FROM sla_alerts "
            "WHERE status IN ('pending', 'failed', 'sending')"
        )
    ).fetchall()
    rows = []
    for alert_id, channel, status, attempts, decided_at, claimed_at in waiting:
        unknown = status == "sending"
        rows.append(
            {
                "key": f"sla_alert:{alert_id}",
                "kind": "slack.post",
                "purpose": "sla_alert",
                "subject_id": alert_id,
                "channel": channel,
                "payload": {"alert_id": alert_id},
                "state": "unknown" if unknown else "pending",
                "attempts": attempts or 0,
                "next_attempt_at": now,
                "first_sent_at": _aware(claimed_at or decided_at) if unknown else None,
                "created_at": _aware(decided_at) or now,
                "updated_at": now,
            }
        )
    if rows:
        op.bulk_insert(outbox, rows)
    connection.execute(
        sa.text("UPDATE sla_alerts SET status = 'pending' WHERE status IN ('failed', 'sending')")
    )


def _aware(value):
    """Raw SQL hands back naive datetimes (SQLite) or strings; the outbox wants aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def downgrade() -> None:
    op.drop_table("slack_pacing")
    op.drop_index("ix_outbox_subject_id", table_name="outbox")
    op.drop_index("ix_outbox_state_next", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("sla_alerts") as batch:
        batch.drop_column("previous_due_at")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("agent_replies")
        batch.drop_column("reopens")
        batch.drop_column("first_contact_at")
