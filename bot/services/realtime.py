"""Webhook-driven re-reads: a verified helpdesk webhook names one ticket or conversation, and this worker
re-reads just that item (one API call), stores it, rewrites its deadlines and handoffs, and settles its
alerts at once instead of at the next poll.

`WebhookQueue` is bounded and coalescing: an item named again while it waits is queued once, so a burst
of webhooks about one ticket costs one read. One worker thread (started by `deskwatch serve`, stopped in
its `finally`; tests start and stop it) drains it. For each item:

1. read it from the helpdesk (`get_item`; a 404 marks it gone, i.e. closed);
2. store it, then `keeper.refresh` (deadlines) and `escalations.on_items` (handoffs), as a sync does;
3. deliver its alerts already decided but not posted now (`outbox.deliver_ids`): the SLA alert purpose
   re-checks each against the fresh state, so a reply, a solve or a pause cancels it, and a reassignment
   posts it in the new team's channel;
4. run the decide step (`sweep.run`) and deliver what it decided now: a new urgent ticket gets its
   warning without waiting for the poll.

Nothing is lost when the queue is full or the worker is stopped: the poll is still the safety net.
`poll_interval` says how long the poll may wait while webhooks of a helpdesk keep arriving.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select

from bot.domain.model import Source, TicketRef
from bot.metrics import Metrics
from bot.services.deadlines import DeadlineKeeper
from bot.services.escalations import EscalationService
from bot.services.outbox import Outbox
from bot.services.sweep import DeadlineSweep
from bot.store.alerts import ALERT_PURPOSE, AlertStatus
from bot.store.repository import Store
from bot.store.tables import AlertRow
from integrations.base import Helpdesk, HelpdeskError, HelpdeskNotFound

log = structlog.get_logger(__name__)

DEFAULT_MAX_QUEUED = 1000
# The poll may stretch while webhooks flow: up to STRETCH x its configured interval, never past
# MAX_POLL_INTERVAL, and back to the configured one as soon as no webhook came for QUIET_AFTER.
STRETCH = 5
MAX_POLL_INTERVAL = timedelta(minutes=5)
QUIET_AFTER = timedelta(minutes=10)


@dataclass
class ProcessResult:
    ref: TicketRef
    outcome: str  # processed, gone, failed, unconfigured
    cancelled: int = 0
    posted: int = 0
    decided: list[int] = field(default_factory=list)


class WebhookQueue:
    """Bounded, coalescing queue of items named by webhooks, and the worker thread that settles them."""

    def __init__(
        self,
        *,
        store: Store,
        helpdesks: Mapping[Source, Helpdesk],
        keeper: DeadlineKeeper,
        escalations: EscalationService,
        sweep: DeadlineSweep,
        outbox: Outbox,
        metrics: Metrics,
        clock: Callable[[], datetime],
        max_queued: int = DEFAULT_MAX_QUEUED,
    ) -> None:
        self.store = store
        self.helpdesks = helpdesks
        self.keeper = keeper
        self.escalations = escalations
        self.sweep = sweep
        self.outbox = outbox
        self.metrics = metrics
        self.clock = clock
        self.max_queued = max_queued
        self._pending: OrderedDict[TicketRef, None] = OrderedDict()
        self._cond = threading.Condition()
        self._busy = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_webhook: dict[Source, datetime] = {}
        self._last_failure: dict[Source, datetime] = {}

    # -- producer side (request threads) ---------------------------------------------------------
    def submit(self, source: Source, external_id: str) -> bool:
        """Queue one item; never blocks. False when the queue is full (the poll will catch it up)."""
        ref = TicketRef(source, external_id)
        with self._cond:
            self._last_webhook[source] = self.clock()
            if ref in self._pending:
                self.metrics.webhooks.labels(source.value, "coalesced").inc()
                return True
            if len(self._pending) >= self.max_queued:
                self.metrics.webhooks.labels(source.value, "dropped").inc()
                log.warning("webhook_queue_full", source=source.value, queued=len(self._pending))
                return False
            self._pending[ref] = None
            self._cond.notify()
        return True

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._pending)

    # -- worker lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="deskwatch-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the item in hand (queued ones are left to the poll)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is queued or in hand (tests); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout=timeout)

    def _take(self) -> TicketRef | None:
        with self._cond:
            while not self._pending and not self._stop.is_set():
                self._cond.wait(0.5)
            if self._stop.is_set() or not self._pending:
                return None
            ref, _ = self._pending.popitem(last=False)
            self._busy += 1
            return ref

    def _run(self) -> None:
        while not self._stop.is_set():
            ref = self._take()
            if ref is None:
                continue
            try:
                self.process(ref)
            except Exception:  # one bad item must not stop the worker; the poll retries it
                self.metrics.webhooks.labels(ref.source.value, "failed").inc()
                log.exception("webhook_item_failed", ref=str(ref))
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def drain(self) -> list[ProcessResult]:
        """Process everything queued on the calling thread (one-shot use and tests without the worker)."""
        results = []
        while True:
            with self._cond:
                if not self._pending:
                    return results
                ref, _ = self._pending.popitem(last=False)
            results.append(self.process(ref))

    # -- the work --------------------------------------------------------------------------------
    def process(self, ref: TicketRef) -> ProcessResult:
        """Re-read one item (one API call) and settle its deadlines and alerts now."""
        started = time.perf_counter()
        source = ref.source.value
        helpdesk = self.helpdesks.get(ref.source)
        if helpdesk is None:
            self.metrics.webhooks.labels(source, "unconfigured").inc()
            return ProcessResult(ref, "unconfigured")
        now = self.clock()
        try:
            items = [helpdesk.get_item(ref.external_id)]
            outcome = "processed"
        except HelpdeskNotFound:
            items, outcome = [], "gone"
        except (HelpdeskError, ValueError) as exc:
            self._last_failure[ref.source] = now
            self.metrics.webhooks.labels(source, "failed").inc()
            log.warning("webhook_reread_failed", ref=str(ref), error=str(exc))
            return ProcessResult(ref, "failed")
        if items:
            self.store.upsert_items(items, now=now)
        else:
            self.store.mark_gone([ref], now=now)
            stored = self.store.get_item(ref)
            items = [stored] if stored is not None else []
        if items:
            self.keeper.refresh(items, now=now)
            self.escalations.on_items(items, now=now)
        result = ProcessResult(ref, outcome)
        # Alerts of this item decided but not posted: the purpose re-checks them against what was
        # just stored (cancel, re-route or post); no wait for the next delivery pass.
        report = self.outbox.deliver_ids(self._pending_rows(ref), now=now)
        result.cancelled = len(report.cancelled)
        result.posted = len(report.posted)
        # What became due (a new urgent ticket's warning): decide and deliver now.
        result.decided = self.sweep.run(now=now).decided
        if result.decided:
            report = self.outbox.deliver_ids(self._rows_of_alerts(result.decided), now=now)
            result.posted += len(report.posted)
        self.metrics.webhooks.labels(source, outcome).inc()
        log.info(
            "webhook_item_settled",
            ref=str(ref),
            outcome=outcome,
            cancelled=result.cancelled,
            posted=result.posted,
            decided=len(result.decided),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return result

    def _pending_rows(self, ref: TicketRef) -> list[int]:
        stmt = select(AlertRow.id, AlertRow.group_key).where(
            AlertRow.ref == str(ref), AlertRow.status == AlertStatus.PENDING
        )
        with self.store.session() as session:
            rows = list(session.execute(stmt))
        return self._outbox_ids([(alert_id, group_key) for alert_id, group_key in rows])

    def _rows_of_alerts(self, alert_ids: list[int]) -> list[int]:
        stmt = select(AlertRow.id, AlertRow.group_key).where(AlertRow.id.in_(alert_ids))
        with self.store.session() as session:
            rows = list(session.execute(stmt))
        return self._outbox_ids([(alert_id, group_key) for alert_id, group_key in rows])

    def _outbox_ids(self, alerts: list[tuple[int, str | None]]) -> list[int]:
        """The outbox rows of single alerts. A grouped message (storm, backlog) holds other tickets'
        alerts too: it keeps its turn in the delivery job, which re-checks each of its lines."""
        rows = self.outbox.store
        keys = [f"{ALERT_PURPOSE}:{alert_id}" for alert_id, group_key in alerts if group_key is None]
        found = (rows.get_by_key(key) for key in keys)
        return [row.id for row in found if row is not None]

    # -- how long the poll may wait --------------------------------------------------------------
    def poll_interval(self, source: Source, base: timedelta, *, now: datetime) -> timedelta:
        """The sync interval for `source`: `base`, stretched up to STRETCH x base (at most
        MAX_POLL_INTERVAL, never below base) while verified webhooks of that helpdesk arrived within
        QUIET_AFTER and no webhook re-read failed since the last one. Back to `base` at once otherwise."""
        with self._cond:
            last = self._last_webhook.get(source)
            failed = self._last_failure.get(source)
        if last is None or now - last > QUIET_AFTER or (failed is not None and failed >= last):
            return base
        return max(base, min(base * STRETCH, MAX_POLL_INTERVAL))
