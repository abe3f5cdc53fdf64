"""SLA alerts through the outbox: what a decided alert posts, and how its message is updated.

Right before a breach goes out on stored state older than `REREAD_AFTER`, the ticket is read again
from the helpdesk (Zendesk show_many in batches, Intercom one read each): an agent who answered a
minute ago gets no breach alert, and a ticket moved to another team goes to that team's channel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection

from bot.blocks.alerts import render_alert
from bot.blocks.metadata import alert_message_metadata
from bot.domain.model import AlertKind, HelpdeskItem, Source, TicketRef
from bot.metrics import Metrics
from bot.services.outbox import Cancel, Prepared
from bot.services.sla import SlaService
from bot.store.alerts import AlertStatus
from bot.store.outbox import OutboxItem, OutboxState
from bot.store.repository import Store
from integrations.base import Helpdesk, HelpdeskError

log = structlog.get_logger(__name__)

REREAD_AFTER = timedelta(seconds=30)


class ItemRefresher:
    """Re-reads items whose stored state is older than `REREAD_AFTER` (one batch per helpdesk)."""

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
        self.on_stored = on_stored  # keeps the deadlines table in step with what was re-read

    def refresh_stale(self, refs: Iterable[TicketRef], *, now: datetime) -> int:
        """Refresh stale items; returns how many were re-read. A helpdesk outage leaves stored state."""
        stale = self.store.synced_before(set(refs), now - REREAD_AFTER)
        by_source: dict[Source, list[str]] = defaultdict(list)
        for ref in stale:
            by_source[ref.source].append(ref.external_id)
        refreshed = 0
        for source, ids in by_source.items():
            helpdesk = self.helpdesks.get(source)
            if helpdesk is None:
                continue
            try:
                items = helpdesk.get_items(ids)
            except HelpdeskError as exc:
                log.warning(
                    "reread_before_breach_failed", source=source.value, error=str(exc), items=len(ids)
                )
                continue
            self.store.upsert_items(items, now=now)
            returned = {item.ref.external_id for item in items}
            gone = [TicketRef(source, i) for i in ids if i not in returned]
            self.store.mark_gone(gone, now=now)
            if self.on_stored is not None:
                fresh = [self.store.get_item(ref) for ref in gone]
                self.on_stored([*items, *(item for item in fresh if item is not None)], now)
            self.metrics.rereads.labels(source.value).inc(len(ids))
            refreshed += len(ids)
        return refreshed


class SlaAlertPurpose:
    """Posts a decided alert, if it still applies when its turn comes."""

    def __init__(
        self, *, store: Store, sla: SlaService, refresher: ItemRefresher | None, metrics: Metrics
    ) -> None:
        self.store = store
        self.sla = sla
        self.refresher = refresher
        self.metrics = metrics

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None:
        if self.refresher is None:
            return
        alerts = [self.store.get_alert(item.subject_id) for item in items if item.subject_id]
        breaches = [a.ref for a in alerts if a is not None and a.kind is AlertKind.BREACH]
        if breaches:
            self.refresher.refresh_stale(breaches, now=now)

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel:
        alert = self.store.get_alert(item.subject_id or 0)
        if alert is None:
            return Cancel("alert row no longer exists")
        check = self.sla.recheck(alert, now=now)
        if check.reason is not None or check.item is None:
            return Cancel(check.reason or "ticket missing")
        if (check.team, check.channel) != (alert.team, alert.channel):
            log.info("alert_rerouted", alert_id=alert.id, ref=str(alert.ref), channel=check.channel)
            self.store.reroute(alert.id, team=check.team, channel=check.channel)
            alert = self.store.get_alert(alert.id) or alert
        message = render_alert(self.sla.alert_view(alert, check.item, check.deadline), now=now)
        thread_ts = None
        if alert.kind is AlertKind.BREACH:
            warning = self.store.posted_warning(alert.ref, alert.metric, alert.cycle)
            if warning is not None and warning.channel == alert.channel and warning.ts:
                thread_ts = warning.ts
        args: dict[str, Any] = {
            "channel": alert.channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            args.update(thread_ts=thread_ts, reply_broadcast=True)
        return Prepared("chat.postMessage", args, metadata=alert_message_metadata(alert.id))

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        self.store.alert_posted(
            conn,
            item.subject_id or 0,
            channel=result["channel"],
            ts=result["ts"],
            thread_ts=result.get("thread_ts"),
            now=now,
        )
        self.metrics.alerts_posted.labels(item.payload.get("kind", "alert")).inc()

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        status = AlertStatus.DEAD if state == OutboxState.DEAD else AlertStatus.CANCELLED
        self.store.alert_finished(conn, item.subject_id or 0, status=status, reason=reason)


class SlaAlertUpdatePurpose:
    """Re-renders a posted alert message from current state (acknowledged, deadline moved)."""

    def __init__(self, *, store: Store, sla: SlaService) -> None:
        self.store = store
        self.sla = sla

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None:
        return None

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel:
        alert = self.store.get_alert(item.subject_id or 0)
        if alert is None or not alert.ts:
            return Cancel("the alert message was never posted")
        ticket = self.store.get_item(alert.ref)
        if ticket is None:
            return Cancel(f"{alert.ref} is no longer in the store")
        view = self.sla.alert_view(alert, ticket, self.sla.current_deadline(alert, ticket))
        message = render_alert(view, now=now)
        return Prepared(
            "chat.update",
            {"channel": alert.channel, "ts": alert.ts, "text": message.text, "blocks": message.blocks},
        )

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        return None

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        return None
