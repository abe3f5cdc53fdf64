"""SLA rules applied to items: their deadlines and routes, re-checking a decided alert against the
current state, and what alert messages and `/sla` show.

Costs no helpdesk API call. Helpdesk text is passed through as is: it is redacted once, on the final
payload, at the Slack boundary. Deciding lives in bot.services.sweep, deadlines at sync time in
bot.services.deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from bot.blocks.alerts import AlertView
from bot.blocks.sla_list import SlaListRow
from bot.config import AppConfig
from bot.domain.calendar import BusinessHours
from bot.domain.model import AlertKind, Deadline, DomainError, HelpdeskItem, TeamRoute, TicketRef
from bot.domain.routing import route
from bot.domain.sla import SlaStatus, classify, deadlines_for
from bot.metrics import Metrics
from bot.store.deadlines import DeadlineStore
from bot.store.repository import Store, StoredAlert


@dataclass(frozen=True)
class Recheck:
    """A decided alert against the current state: post it when `reason` is None, to `channel`."""

    item: HelpdeskItem | None
    deadline: Deadline | None
    reason: str | None
    team: str | None = None
    channel: str | None = None


class SlaService:
    def __init__(self, *, store: Store, config: AppConfig, metrics: Metrics) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics
        self.deadline_store = DeadlineStore(store.engine)

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
            escalate=self.config.escalation is not None,
        )

    def acknowledge(self, alert_id: int, *, user_id: str, now: datetime) -> StoredAlert:
        """Record the acknowledgement (first click wins); the message update goes through the outbox."""
        alert = self.store.acknowledge(alert_id, user_id=user_id, now=now)
        if alert is None:
            raise DomainError("This alert is no longer known to Deskwatch; nothing was recorded.")
        return alert

    def list_rows(self, *, now: datetime, teams: set[str] | None) -> list[SlaListRow]:
        """Breached and at-risk deadlines for `/sla`, by due time, read from the deadlines table through
        its due-time index. teams None = all teams."""
        widest = max(self.config.alerts.warn_before, default=timedelta(0))
        return [
            SlaListRow(
                ref=TicketRef.parse(row.record.ref),
                subject=row.subject,
                url=row.url,
                metric=row.record.metric,
                due_at=row.record.due_at,
                breached=row.record.due_at <= now,
                team_name=row.record.team,
                assignee_name=row.assignee_name,
                priority=row.priority,
            )
            for row in self.deadline_store.listed(due_before=now + widest, teams=teams)
        ]
