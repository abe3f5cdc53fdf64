"""Digest jobs as plain `(deps, now)` functions: feed the history, and queue the digests that are due.

Both are idempotent: history records dedupe by source event id, and a digest is keyed by team, schedule
and local date in the outbox, so a cron firing, the catch-up pass and a restart can all run them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.services.digests import Enqueued
from bot.services.history import HistoryResult

if TYPE_CHECKING:
    from bot.app import Deps


def history_job(deps: Deps, now: datetime) -> list[HistoryResult]:
    """Read what happened since the last run from each helpdesk's history feed."""
    return deps.history.pull(now=now)


def digest_job(deps: Deps, now: datetime) -> list[Enqueued]:
    """Queue every digest whose send time has come (or was missed since the last one), then post it.

    The digest's backlog is counted from the synced tickets, so the history is read first: the figures
    are as fresh as one more helpdesk read."""
    due = deps.digests.due(now=now)
    if not due:
        return []
    deps.history.pull(now=now)
    return deps.digests.run_due(now=now, due=due)
