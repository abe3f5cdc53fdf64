"""QA scorecards: rubric versions, reviews and calibration scores, calibration sessions, disputes, weekly
samples and the append-only QA audit log.

Revision ID: 0006_qa
Revises: 0005_escalation_context
Create Date: 2026-12-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.types import UtcDateTime

revision = "0006_qa"
down_revision = "0005_escalation_context"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_rubrics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(12), nullable=False),
        sa.Column("rubric", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("version", name="uq_qa_rubrics_version"),
    )
    op.create_table(
        "qa_calibrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("closes_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_qa_calibrations_status_closes", "qa_calibrations", ["status", "closes_at"])
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rubric_id", sa.Integer(), sa.ForeignKey("qa_rubrics.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("calibration_id", sa.Integer(), sa.ForeignKey("qa_calibrations.id"), nullable=True),
        sa.Column("reviewer", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("agent_email", sa.String(254), nullable=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("critical_failed", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("coaching", sa.Text(), nullable=False),
        sa.Column("dispute_state", sa.String(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("edited_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("calibration_id", "reviewer", name="uq_qa_reviews_calibration_reviewer"),
    )
    op.create_index("ix_qa_reviews_agent_created", "qa_reviews", ["agent", "created_at"])
    op.create_index("ix_qa_reviews_created", "qa_reviews", ["created_at", "id"])
    op.create_index("ix_qa_reviews_kind", "qa_reviews", ["kind"])
    op.create_table(
        "qa_disputes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("qa_reviews.id"), nullable=False),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("review_id", name="uq_qa_disputes_review"),
    )
    op.create_table(
        "qa_samples",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reviewer", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("assigned_at", UtcDateTime(), nullable=False),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("qa_reviews.id"), nullable=True),
        sa.UniqueConstraint("reviewer", "ref", "week_start", name="uq_qa_samples_reviewer_ref_week"),
    )
    op.create_index("ix_qa_samples_reviewer_review", "qa_samples", ["reviewer", "review_id"])
    op.create_table(
        "qa_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("qa_reviews.id"), nullable=True),
        sa.Column("calibration_id", sa.Integer(), sa.ForeignKey("qa_calibrations.id"), nullable=True),
        sa.Column("dispute_id", sa.Integer(), sa.ForeignKey("qa_disputes.id"), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(32), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_qa_events_at", "qa_events", ["at", "id"])


def downgrade() -> None:
    op.drop_index("ix_qa_events_at", table_name="qa_events")
    op.drop_table("qa_events")
    op.drop_index("ix_qa_samples_reviewer_review", table_name="qa_samples")
    op.drop_table("qa_samples")
    op.drop_table("qa_disputes")
    op.drop_index("ix_qa_reviews_kind", table_name="qa_reviews")
    op.drop_index("ix_qa_reviews_created", table_name="qa_reviews")
    op.drop_index("ix_qa_reviews_agent_created", table_name="qa_reviews")
    op.drop_table("qa_reviews")
    op.drop_index("ix_qa_calibrations_status_closes", table_name="qa_calibrations")
    op.drop_table("qa_calibrations")
    op.drop_table("qa_rubrics")
