"""The deadline sweep: decide the alerts whose moment has come, reading only those deadlines.

It selects `next_at <= now` through the index (never every open item, never every alert key ever
decided), decides with the alerts already recorded for just those cycles, records the new decisions
with their outbox rows in one transaction, and moves each deadline's `next_at` on. Storms become
grouped messages; breaches that were already old when Deskwatch first saw them become one backlog
summary per channel.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.blocks.alert_group import chunk as chunk_ids
from bot.config import AppConfig
from bot.domain.model import AlertKind, Deadline, TicketRef
from bot.domain.sla import alert_key, decide_alerts
from bot.metrics import Metrics
from bot.services.deadlines import DeadlineKeeper, alert_moments
from bot.store.alerts import RoutedDecision, alert_post_effect
from bot.store.deadlines import DeadlineRecord, DeadlineStore, Key
from bot.store.outbox import Effect, OutboxKind
from bot.store.repository import Store

GROUP_PURPOSE = "sla_alert_group"
BACKLOG_PURPOSE = "sla_backlog"
CHUNK = 1000  # deadlines per sweep step


@dataclass
class SweepResult:
    decided: list[int] = field(default_factory=list)
    rows_read: int = 0
    complete: bool = True  # False when the time budget ran out (the rest waits for the next sweep)


class DeadlineSweep:
    def __init__(
        self,
        *,
        store: Store,
        deadlines: DeadlineStore,
        keeper: DeadlineKeeper,
        config: AppConfig,
        metrics: Metrics,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.deadlines = deadlines
        self.keeper = keeper
        self.config = config
        self.metrics = metrics
        self._monotonic = monotonic
        self.would_post: list[RoutedDecision] = []  # what the last run decided (or would have)

    def run(self, *, now: datetime, budget_seconds: float | None = None, record: bool = True) -> SweepResult:
        """Decide every due alert (or, with `record=False`, only say what would be decided)."""
        self.keeper.ensure_current(now=now)
        result = SweepResult()
        stop_at = None if budget_seconds is None else self._monotonic() + budget_seconds
        after: tuple[datetime, str, str, str] | None = None
        routed: list[RoutedDecision] = []
        updates: list[tuple[Key, datetime | None]] = []
        seen: list[DeadlineRecord] = []
        while True:
            chunk = self.deadlines.due(now=now, limit=CHUNK, after=after)
            if not chunk:
                break
            result.rows_read += len(chunk)
            last = chunk[-1]
            after = (last.next_at, last.ref, last.metric, last.cycle)
            chunk_routed, chunk_updates = self._decide(chunk, now)
            routed += chunk_routed
            updates += chunk_updates
            seen += chunk
            if stop_at is not None and self._monotonic() >= stop_at:
                result.complete = False
                break
        # Recorded together, so a storm is grouped per channel across the whole sweep.
        if record:
            inserted = self.store.record_decisions(
                routed, now=now, plan=lambda ins: self._plan(ins, seen, now)
            )
            result.decided = [alert_id for alert_id, _ in inserted]
            for _, r in inserted:
                self.metrics.alerts_decided.labels(r.decision.kind.value).inc()
            self.deadlines.set_next(updates)
        self.would_post = routed
        widest = max(self.config.alerts.warn_before, default=None)
        at_risk, breached = self.deadlines.counts(now=now, widest=now + widest if widest else now)
        self.metrics.at_risk.set(at_risk)
        self.metrics.breached.set(breached)
        self.metrics.sweep_rows_read.set(result.rows_read)
        return result

    def pending(self, *, now: datetime) -> list[RoutedDecision]:
        """What a sweep now would decide, recording nothing (`sla scan --dry-run`)."""
        self.run(now=now, record=False)
        return self.would_post

    def _decide(
        self, chunk: list[DeadlineRecord], now: datetime
    ) -> tuple[list[RoutedDecision], list[tuple[Key, datetime | None]]]:
        warn_before = self.config.alerts.warn_before
        decided = self.store.alerts_for_cycles([d.key for d in chunk])
        already = {
            (a_ref, a.metric, a.cycle, a.key) for (a_ref, _, _), alerts in decided.items() for a in alerts
        }
        deadlines = {d.key: Deadline(TicketRef.parse(d.ref), d.metric, d.due_at, d.cycle) for d in chunk}
        decisions = decide_alerts(deadlines.values(), now=now, warn_before=warn_before, already=already)
        by_key = {d.key: d for d in chunk}
        routed = [
            RoutedDecision(dec, by_key[alert_key(dec)[:3]].team, by_key[alert_key(dec)[:3]].channel)
            for dec in decisions
        ]
        breached_now = {alert_key(dec)[:3] for dec in decisions if dec.kind is AlertKind.BREACH}
        updates: list[tuple[Key, datetime | None]] = []
        for d in chunk:
            done = d.key in breached_now or (str(d.ref), d.metric, d.cycle, "breach") in already
            later = [m for m in alert_moments(d.due_at, warn_before) if m > now]
            updates.append((d.key, None if done or not later else later[0]))
        return routed, updates

    # -- how decisions go out ---------------------------------------------------------------------
    def _plan(
        self, inserted: list[tuple[int, RoutedDecision]], chunk: list[DeadlineRecord], now: datetime
    ) -> list[Effect]:
        alerts = self.config.alerts
        first_seen = {d.key: d.first_seen_at or now for d in chunk}
        effects: list[Effect] = []
        backlog: dict[str, list[int]] = defaultdict(list)
        fresh: dict[tuple[str, AlertKind], list[tuple[int, RoutedDecision]]] = defaultdict(list)
        for alert_id, r in inserted:
            key = alert_key(r.decision)[:3]
            old = (
                r.decision.kind is AlertKind.BREACH
                and r.decision.deadline.due_at < first_seen[key] - alerts.backlog_after
            )
            if old and alerts.backlog != "each":
                backlog[r.channel].append(alert_id)
            else:
                fresh[(r.channel, r.decision.kind)].append((alert_id, r))
        for (channel, kind), group in fresh.items():
            if len(group) <= alerts.group_above:
                effects += [alert_post_effect(alert_id, channel, kind) for alert_id, _ in group]
                continue
            ids = [
                alert_id for alert_id, _ in sorted(group, key=lambda g: (g[1].decision.deadline.due_at, g[0]))
            ]
            parts = [list(part) for part in chunk_ids(ids)]
            effects += [
                Effect(
                    key=f"{GROUP_PURPOSE}:{kind.value}:{part[0]}",
                    kind=OutboxKind.SLACK_POST,
                    purpose=GROUP_PURPOSE,
                    channel=channel,
                    payload={
                        "alert_ids": part,
                        "kind": kind.value,
                        "part": n,
                        "parts": len(parts),
                        "total": len(ids),
                    },
                )
                for n, part in enumerate(parts, start=1)
            ]
        for channel, ids in backlog.items():
            # With `alerts.backlog: skip` the row is cancelled when its turn comes, so the decisions keep
            # a trail (outbox list shows why) and nothing reaches Slack.
            effects.append(
                Effect(
                    key=f"{BACKLOG_PURPOSE}:{channel}:{min(ids)}",
                    kind=OutboxKind.SLACK_POST,
                    purpose=BACKLOG_PURPOSE,
                    channel=channel,
                    payload={"alert_ids": sorted(ids), "skip": alerts.backlog == "skip"},
                )
            )
        return effects
