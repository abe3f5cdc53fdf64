"""Pull what changed from each helpdesk into the store, page by page, resuming from the stored cursor."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.domain.model import HelpdeskItem, Source
from bot.metrics import Metrics
from bot.store.repository import Store
from integrations.base import FIRST_SYNC_CHECKPOINT, Helpdesk, HelpdeskError

log = structlog.get_logger(__name__)

SyncProgress = Callable[[Source, int, int, bool], None]
"""Called after each stored page with (source, items stored so far, pages so far, first_sync)."""


def is_first_sync(cursor: str | None) -> bool:
    """No cursor yet, or a first-sync checkpoint (`first:…`) left by a first sync that was interrupted."""
    return cursor is None or cursor.startswith(FIRST_SYNC_CHECKPOINT)


@dataclass(frozen=True)
class SyncResult:
    source: Source
    items: int
    api_calls: int
    first_sync: bool
    error: str | None = None


class SyncService:
    def __init__(
        self,
        *,
        store: Store,
        helpdesks: Mapping[Source, Helpdesk],
        metrics: Metrics,
        on_stored: Callable[[Sequence[HelpdeskItem], datetime], object] | None = None,
    ) -> None:
        self.store = store
        self.helpdesks = helpdesks
        self.metrics = metrics
        # Called after each stored page (the deadlines of those items are written at sync time).
        self.on_stored = on_stored

    def sync_all(self, *, now: datetime, progress: SyncProgress | None = None) -> list[SyncResult]:
        """Sync every configured helpdesk; one helpdesk's outage does not stop the others."""
        return [self.sync_source(source, now=now, progress=progress) for source in self.helpdesks]

    def sync_source(
        self, source: Source, *, now: datetime, progress: SyncProgress | None = None
    ) -> SyncResult:
        helpdesk = self.helpdesks[source]
        state = self.store.sync_state(source)
        first_sync = is_first_sync(state.cursor)
        self.store.mark_sync_started(source, now=now)
        items = calls = pages = 0
        started = time.perf_counter()
        try:
            for page in helpdesk.sync(state.cursor, now=now):
                self.store.save_page(source, page.items, page.cursor, now=now)
                if self.on_stored is not None and page.items:
                    self.on_stored(page.items, now)
                items += len(page.items)
                calls += page.api_calls
                pages += 1
                if progress is not None:
                    progress(source, items, pages, first_sync)
        except HelpdeskError as exc:
            # Recorded (sync_state.last_error, metrics, log) and reported to the caller; the pages already
            # stored are kept and the cursor points after them, so the next sync resumes there.
            self.store.mark_sync_finished(source, now=now, error=str(exc))
            self.metrics.sync_runs.labels(source.value, "error").inc()
            self.metrics.helpdesk_calls.labels(source.value).inc(calls)
            log.warning("helpdesk_sync_failed", source=source.value, error=str(exc), items=items)
            return SyncResult(source, items, calls, first_sync, error=str(exc))
        self.store.mark_sync_finished(source, now=now, error=None)
        self.metrics.sync_runs.labels(source.value, "ok").inc()
        self.metrics.sync_items.labels(source.value).inc(items)
        self.metrics.helpdesk_calls.labels(source.value).inc(calls)
        self.metrics.sync_seconds.labels(source.value).observe(time.perf_counter() - started)
        self.metrics.open_items.labels(source.value).set(self.store.count_open(source))
        log.info("helpdesk_synced", source=source.value, items=items, api_calls=calls, first_sync=first_sync)
        return SyncResult(source, items, calls, first_sync)
