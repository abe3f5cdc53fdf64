"""Alert storms and backlogs through the outbox: one grouped message for up to 20 tickets, one backlog
summary per channel, and the update of a grouped message when one of its tickets is acknowledged.

Each line is re-checked right before the post, like a single alert: a ticket answered or solved since
its decision is dropped from the message (its alert cancelled); a message with no line left is not
posted at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bot.blocks.alert_group import AlertGroupView, render_alert_group
from bot.blocks.backlog import BacklogItem, BacklogView, render_backlog_summary
from bot.domain.model import AlertKind
from bot.services.alert_delivery import ItemRefresher
from bot.services.outbox import Cancel, Prepared
from bot.services.sla import SlaService
from bot.store.alerts import AlertStatus, StoredAlert
from bot.store.outbox import Effect, OutboxItem, OutboxKind, OutboxState, OutboxStore
from bot.store.repository import Store

GROUP_METADATA_EVENT = "deskwatch_sla_alert_group"
GROUP_UPDATE_PURPOSE = "sla_alert_group_update"


def group_update_effect(group_key: str, channel: str, reason: str) -> Effect:
    return Effect(
        key=f"{GROUP_UPDATE_PURPOSE}:{group_key}:{reason}",
        kind=OutboxKind.SLACK_UPDATE,
        purpose=GROUP_UPDATE_PURPOSE,
        channel=channel,
        payload={"group_key": group_key},
    )


class _GroupBase:
    def __init__(self, *, store: Store, sla: SlaService, refresher: ItemRefresher | None = None) -> None:
        self.store = store
        self.sla = sla
        self.refresher = refresher

    def _alerts(self, item: OutboxItem) -> list[StoredAlert]:
        return [
            a for a in (self.store.get_alert(i) for i in item.payload.get("alert_ids", ())) if a is not None
        ]

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None:
        """Nothing up front: a pass may post only a few of a storm's messages within its time budget,
        so each message re-reads its own lines right before it goes out (see `_still_due`)."""
        return None

    def _refresh(self, alerts: list[StoredAlert], now: datetime) -> None:
        if self.refresher is not None:
            refs = [a.ref for a in alerts if a.kind is AlertKind.BREACH and a.status == AlertStatus.PENDING]
            if refs:
                self.refresher.refresh_stale(refs, now=now)

    def _still_due(self, alerts: list[StoredAlert], now: datetime) -> list[tuple[StoredAlert, Any]]:
        """(alert, recheck) for the lines that still apply; the others are cancelled with their reason."""
        kept = []
        for alert in alerts:
            if alert.status != AlertStatus.PENDING:
                continue
            check = self.sla.recheck(alert, now=now)
            if check.reason is None and check.item is not None:
                kept.append((alert, check))
            else:
                self.store.set_status(
                    [alert.id], AlertStatus.CANCELLED, reason=check.reason or "ticket missing"
                )
        return kept

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        ids = [a.id for a in self._alerts(item) if a.status == AlertStatus.PENDING]
        self.store.group_posted(conn, ids, channel=result["channel"], ts=result["ts"], now=now)

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        status = AlertStatus.DEAD if state == OutboxState.DEAD else AlertStatus.CANCELLED
        for alert in self._alerts(item):
            if alert.status == AlertStatus.PENDING:
                self.store.alert_finished(conn, alert.id, status=status, reason=reason)

    def _scope(self, alert: StoredAlert, channel: str) -> str:
        return alert.team or f"#{channel}"


class AlertGroupPurpose(_GroupBase):
    """A storm: more than `alerts.group_above` alerts of one kind for one channel at once."""

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel:
        alerts = self._alerts(item)
        self._refresh(alerts, now)  # at most 20 tickets: one Zendesk show_many, or 20 Intercom reads
        kept = self._still_due(alerts, now)
        if not kept:
            return Cancel("no ticket of this group still needs the alert")
        views = tuple(self.sla.alert_view(a, check.item, check.deadline) for a, check in kept)
        payload = item.payload
        view = AlertGroupView(
            kind=AlertKind(payload["kind"]),
            scope_label=self._scope(kept[0][0], item.channel or ""),
            lines=views,
            part=payload.get("part", 1),
            parts=payload.get("parts", 1),
            total=max(payload.get("total", len(views)), len(views)),
        )
        message = render_alert_group(view, now=now)
        args = {
            "channel": item.channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": False,
        }
        return Prepared("chat.postMessage", args, metadata={"event_type": GROUP_METADATA_EVENT})


class AlertGroupUpdatePurpose(_GroupBase):
    """Re-renders a posted grouped message from current state (a ticket in it was acknowledged)."""

    def __init__(self, *, store: Store, sla: SlaService, outbox: OutboxStore) -> None:
        super().__init__(store=store, sla=sla)
        self.outbox = outbox

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None:
        return None

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel:
        group = self.outbox.get_by_key(item.payload["group_key"])
        if group is None or group.state != OutboxState.POSTED or not group.result:
            return Cancel("the grouped message was never posted")
        alerts = [a for a in self.store.alerts_in_group(group.key) if a.status == AlertStatus.POSTED]
        lines = []
        for alert in sorted(alerts, key=lambda a: group.payload["alert_ids"].index(a.id)):
            ticket = self.store.get_item(alert.ref)
            if ticket is not None:
                lines.append(self.sla.alert_view(alert, ticket, self.sla.current_deadline(alert, ticket)))
        if not lines:
            return Cancel("no ticket of the grouped message is known any more")
        view = AlertGroupView(
            kind=AlertKind(group.payload["kind"]),
            scope_label=self._scope(alerts[0], group.result["channel"]),
            lines=tuple(lines),
            part=group.payload.get("part", 1),
            parts=group.payload.get("parts", 1),
            total=max(group.payload.get("total", len(lines)), len(lines)),
        )
        message = render_alert_group(view, now=now)
        args = {
            "channel": group.result["channel"],
            "ts": group.result["ts"],
            "text": message.text,
            "blocks": message.blocks,
        }
        return Prepared("chat.update", args)

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        return None

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        return None


class BacklogPurpose(_GroupBase):
    """One summary per channel of breaches that were already old when Deskwatch first saw them."""

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel:
        if item.payload.get("skip"):
            return Cancel("alerts.backlog is skip: breaches older than backlog_after are not posted")
        kept = self._still_due(self._alerts(item), now)
        if not kept:
            return Cancel("no ticket of the backlog still breached")
        entries = tuple(
            BacklogItem(a.ref, check.item.url, check.item.subject, a.metric, check.deadline.due_at)
            for a, check in kept
        )
        first = kept[0][0]
        view = BacklogView(
            scope_label=self._scope(first, item.channel or ""),
            total=len(entries),
            items=entries,
            older_than=self.sla.config.alerts.backlog_after,
            tz=self.sla.tz_for(first.team),
        )
        message = render_backlog_summary(view, now=now)
        args = {
            "channel": item.channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": False,
        }
        return Prepared("chat.postMessage", args, metadata={"event_type": "deskwatch_sla_backlog"})
