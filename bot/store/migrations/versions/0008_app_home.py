"""App Home: who opened the Home tab, when it was last published and the hash of what was published.

Revision ID: 0008_app_home
Revises: 0007_history
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.types import UtcDateTime

revision = "0008_app_home"
down_revision = "0007_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_views",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
    )
    op.create_index("ix_home_views_opened_at", "home_views", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_home_views_opened_at", table_name="home_views")
    op.drop_table("home_views")
