"""An in-memory `HistoryFeed` for service tests: serves the pages it was given, records the cursors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from bot.domain.model import Source
from integrations.history import HistoryPage


class ListFeed:
    def __init__(self, source: Source, pages: list[HistoryPage] | None = None) -> None:
        self.source = source
        self.pages = list(pages or [])
        self.calls: list[tuple[str | None, datetime]] = []

    def history(self, cursor: str | None, *, since: datetime, now: datetime) -> Iterator[HistoryPage]:
        self.calls.append((cursor, since))
        start = int(cursor) if cursor else 0
        for index, page in enumerate(self.pages[start:], start=start + 1):
            yield HistoryPage(
                events=page.events,
                outcomes=page.outcomes,
                ratings=page.ratings,
                cursor=str(index),
                reached=now,
            )
