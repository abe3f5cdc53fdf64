"""App Home as a plain `(deps, now)` job: republish the boards of people who opened Home lately, only
those whose rendered view changed and at most once per debounce interval each (bot.services.home)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Deps


def home_job(deps: Deps, now: datetime) -> int:
    """How many Home tabs were republished."""
    if deps.home is None:
        return 0
    return sum(1 for result in deps.home.refresh_recent(now=now) if result.published)
