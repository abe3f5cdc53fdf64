"""Evaluate deadlines from stored state, decide alerts, and build what Slack shows.

Costs no helpdesk API call: everything here reads the store, so a sweep can run every few seconds
and catch a breach at its moment even when nothing changed upstream. Helpdesk text is passed through
as is: it is redacted once, on the final payload, at the Slack boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from bot.blocks.alerts import AlertView
from bot.blocks.sla_list import SlaListRow
from bot.config import AppConfig
from bot.domain.calendar import BusinessHours
from bot.domain.model import AlertKind, Deadline, DomainError, HelpdeskItem, TeamRoute
from bot.domain.routing import route
from bot.domain.sla import SlaStatus, classify, deadlines_for, decide_alerts
from bot.metrics import Metrics
from bot.store.alerts import AlertStatus
from bot.store.repository import RoutedDecision, Store, StoredAlert

# A due time that moves by less than this is the helpdesk's rounding, not a moved deadline.
MOVE_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class Recheck:
    """A decided alert against the current state: post it when `reason` is None, to `channel`."""

    item: HelpdeskItem | None
    deadline: Deadline | None
    reason: str | None
    team: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Evaluated:
    """One deadline of one open item, with where it routes and its status at `now`."""

    item: HelpdeskItem
    deadline: Deadline
    status: SlaStatus
    team: TeamRoute | None
    channel: str


class SlaService:
    def __init__(self, *, store: Store, config: AppConfig, metrics: Metrics) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics

    # -- configuration-derived pieces, built once ---------------------------------------------------
    @cached_property
    def _routes(self) -> list[TeamRoute]:
        return self.config.routes()

    @cached_property
    def _calendars(self) -> dict[str | None, BusinessHours | None]:
        """Each team's business calendar, and under None the default one for items no team owns."""
        return {name: self.config.calendar_for(name) for name in [None, *(t.name for t in self.config.teams)]}

    @cached_property
    def _targets(self):
        return self.config.intercom_targets()

    def tz_for(self, team_name: str | None) -> ZoneInfo:
        return self.config.team_tz(team_name)

    # -- evaluation ------------------------------------------------------------------------------
    def deadlines(self, item: HelpdeskItem) -> tuple[TeamRoute | None, list[Deadline]]:
        team = route(item, self._routes)
        calendar = self._calendars.get(team.name if team else None)
        return team, deadlines_for(item, targets=self._targets, calendar=calendar)

    def evaluate(self, *, now: datetime, items: Iterable[HelpdeskItem] | None = None) -> list[Evaluated]:
        """Every deadline of every open item, classified at `now`."""
        warn_before = self.config.alerts.warn_before
        out: list[Evaluated] = []
        for item in self.store.open_items() if items is None else items:
            team, deadlines = self.deadlines(item)
            channel = team.channel if team else self.config.alerts.channel
            for deadline in deadlines:
                out.append(Evaluated(item, deadline, classify(deadline, now, warn_before), team, channel))
        return out

    def pending_decisions(
        self, *, now: datetime, evaluated: list[Evaluated] | None = None, decided: dict | None = None
    ) -> list[RoutedDecision]:
        """What should be posted now that has not been decided before (nothing is written)."""
        evaluated = self.evaluate(now=now) if evaluated is None else evaluated
        self.metrics.at_risk.set(sum(1 for e in evaluated if e.status is SlaStatus.AT_RISK))
        self.metrics.breached.set(sum(1 for e in evaluated if e.status is SlaStatus.BREACHED))
        by_deadline = {(e.deadline.ref, e.deadline.metric, e.deadline.cycle): e for e in evaluated}
        decisions = decide_alerts(
            [e.deadline for e in evaluated],
            now=now,
            warn_before=self.config.alerts.warn_before,
            already=set(self.store.decided_alerts() if decided is None else decided),
        )
        routed = []
        for decision in decisions:
            e = by_deadline[(decision.deadline.ref, decision.deadline.metric, decision.deadline.cycle)]
            routed.append(RoutedDecision(decision, e.team.name if e.team else None, e.channel))
        return routed

    def decide(self, *, now: datetime) -> list[int]:
        """Record due alert decisions (idempotent) and queue updates for deadlines the helpdesk moved
        inside a cycle; returns ids of newly decided alerts."""
        evaluated = self.evaluate(now=now)
        decided = self.store.decided_alerts()
        self._follow_moved_deadlines(evaluated, decided, now)
        inserted = self.store.record_decisions(
            self.pending_decisions(now=now, evaluated=evaluated, decided=decided), now=now
        )
        for _, routed in inserted:
            self.metrics.alerts_decided.labels(routed.decision.kind.value).inc()
        return [alert_id for alert_id, _ in inserted]

    def _follow_moved_deadlines(self, evaluated: list[Evaluated], decided: dict, now: datetime) -> None:
        """A due time that moved (priority or policy change) updates the alerts of its cycle: the
        stored due time, and each posted message ("deadline moved from 14:00 to 14:30")."""
        by_cycle: dict[tuple[str, str, str], list[StoredAlert]] = {}
        for (ref, metric, cycle, _key), alert in decided.items():
            by_cycle.setdefault((ref, metric, cycle), []).append(alert)
        for e in evaluated:
            d = e.deadline
            for alert in by_cycle.get((str(d.ref), d.metric, d.cycle), ()):
                moved = abs(alert.due_at - d.due_at) >= MOVE_TOLERANCE
                live = alert.status in (AlertStatus.PENDING, AlertStatus.POSTED)
                if moved and live and self.store.move_deadline(alert, d.due_at, now=now):
                    self.metrics.deadlines_moved.inc()

    def current_deadline(self, alert: StoredAlert, item: HelpdeskItem) -> Deadline | None:
        """The deadline an alert was decided for, as the item's current state computes it."""
        _, deadlines = self.deadlines(item)
        return next((d for d in deadlines if d.metric == alert.metric and d.cycle == alert.cycle), None)

    def recheck(self, alert: StoredAlert, *, now: datetime) -> Recheck:
        """Re-check a decided alert against current state before posting it.

        `reason` is set when it no longer applies: ticket solved, metric achieved or paused, deadline
        moved out of breach, or a warning that would now arrive after the breach (the breach covers it).
        """
        item = self.store.get_item(alert.ref)
        if item is None:
            return Recheck(None, None, "ticket no longer in the store")
        if item.is_closed:
            return Recheck(item, None, f"ticket is {item.status}")
        team, deadlines = self.deadlines(item)
        current = next((d for d in deadlines if d.metric == alert.metric and d.cycle == alert.cycle), None)
        if current is None:
            return Recheck(item, None, "SLA metric no longer active (answered, paused or achieved)")
        status = classify(current, now, self.config.alerts.warn_before)
        if alert.kind is AlertKind.BREACH and status is not SlaStatus.BREACHED:
            return Recheck(item, current, "deadline moved: no longer breached")
        if alert.kind is AlertKind.WARNING and status is SlaStatus.BREACHED:
            return Recheck(item, current, "warning superseded by the breach alert")
        channel = team.channel if team else self.config.alerts.channel
        return Recheck(item, current, None, team.name if team else None, channel)

    # -- presentation ----------------------------------------------------------------------------
    def alert_view(self, alert: StoredAlert, item: HelpdeskItem, deadline: Deadline | None) -> AlertView:
        """What the alert message shows; the due time is the current one when the deadline still exists."""
        return AlertView(
            alert_id=alert.id,
            ref=alert.ref,
            kind=alert.kind,
            metric=alert.metric,
            threshold=alert.threshold,
            subject=item.subject,
            priority=item.priority,
            assignee_name=item.assignee_name,
            team_name=alert.team,
            group_name=item.group_name,
            url=item.url,
            due_at=deadline.due_at if deadline else alert.due_at,
            tz=self.tz_for(alert.team),
            acked_by=alert.acked_by,
            acked_at=alert.acked_at,
            moved_from=alert.previous_due_at,
        )

    def acknowledge(self, alert_id: int, *, user_id: str, now: datetime) -> StoredAlert:
        """Record the acknowledgement (first click wins); the message update goes through the outbox."""
        alert = self.store.acknowledge(alert_id, user_id=user_id, now=now)
        if alert is None:
            raise DomainError("This alert is no longer known to Deskwatch; nothing was recorded.")
        return alert

    def list_rows(self, *, now: datetime, teams: set[str] | None) -> list[SlaListRow]:
        """Breached and at-risk deadlines for `/sla`, sorted by due time. teams None = all teams."""
        rows = []
        for e in self.evaluate(now=now):
            if e.status is SlaStatus.OK:
                continue
            team_name = e.team.name if e.team else None
            if teams is not None and team_name not in teams:
                continue
            rows.append(
                SlaListRow(
                    ref=e.item.ref,
                    subject=e.item.subject,
                    url=e.item.url,
                    metric=e.deadline.metric,
                    due_at=e.deadline.due_at,
                    breached=e.status is SlaStatus.BREACHED,
                    team_name=team_name,
                    assignee_name=e.item.assignee_name,
                    priority=e.item.priority,
                )
            )
        rows.sort(key=lambda r: (r.due_at, str(r.ref)))
        return rows
