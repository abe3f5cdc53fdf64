"""The `HistoryFeed` protocol: a helpdesk's past as events, SLA outcomes and ratings, for the digests.

One feed per helpdesk (`ZendeskHistory`, `IntercomHistory`), read by `bot.services.history` both to
backfill (`deskwatch sync --backfill 56d`) and, from the stored cursor, to keep the history current.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.domain.history import Rating, SlaOutcome, TicketEvent
from bot.domain.model import Source


@dataclass(frozen=True)
class HistoryPage:
    """One page of history. Store `cursor` only after the records are stored (None: nothing to store).

    `reached` is how far in time the feed has read (for a progress bar: from `since` to `now`), None when
    the feed cannot tell. `api_calls` counts the HTTP requests made to produce this page.
    """

    events: tuple[TicketEvent, ...] = ()
    outcomes: tuple[SlaOutcome, ...] = ()
    ratings: tuple[Rating, ...] = ()
    cursor: str | None = None
    reached: datetime | None = None
    api_calls: int = 1


@runtime_checkable
class HistoryFeed(Protocol):
    source: Source

    def history(self, cursor: str | None, *, since: datetime, now: datetime) -> Iterator[HistoryPage]:
        """Pages of what happened after `cursor` (opaque, produced by this feed), or from `since` when
        `cursor` is None (a backfill). Re-reading an overlap is harmless: ids are stable. Raises
        `integrations.base.HelpdeskError` (pages already yielded stay valid)."""
        ...
