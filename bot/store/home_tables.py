"""The App Home table: who opened Home lately and what was last published to them.

The refresh job reads it to republish only the boards of people who look at Home, and only when the
rendered view changed (`hash`), at most once per debounce interval per user (`published_at`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from bot.store.types import UtcDateTime


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


class HomeViewRow(SQLModel, table=True):
    """One Slack user's Home tab: last opened, last published, and the hash of the published view."""

    __tablename__ = "home_views"

    user_id: str = Field(primary_key=True, max_length=32)
    opened_at: datetime = _ts(index=True)
    published_at: datetime | None = _ts(nullable=True)
    hash: str | None = Field(default=None, max_length=64)
