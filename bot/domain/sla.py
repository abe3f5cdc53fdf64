"""The SLA engine: which deadlines an item has, how close they are, and which alerts are due now.

Zendesk computes its own SLA breach times (`slas.policy_metrics`); Deskwatch only reads them.
Intercom exposes no breach time, so Deskwatch derives first-reply and next-reply deadlines from the
conversation's timestamps, the team's targets and its business hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Set
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.domain.calendar import BusinessHours, add_business_time
from bot.domain.model import (
    AlertDecision,
    AlertKind,
    Deadline,
    HelpdeskItem,
    IntercomTargets,
    Metric,
    MetricStage,
    Source,
)

# Intercom statuses in which nobody owes the customer a reply.
INTERCOM_QUIET_STATUSES = frozenset({"closed", "snoozed"})
INTERCOM_PRIORITY = "priority"


class SlaStatus(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


def zendesk_deadlines(item: HelpdeskItem) -> list[Deadline]:
    """One deadline per active Zendesk SLA metric with a breach time; none once the ticket is solved.

    The cycle is the breach time itself: when Zendesk moves a breach time, a fresh clock has started.
    """
    if item.is_closed:
        return []
    deadlines = []
    for metric in item.sla_metrics:
        if metric.stage is not MetricStage.ACTIVE or metric.breach_at is None:
            continue
        due_at = _utc(metric.breach_at, "breach_at")
        deadlines.append(
            Deadline(
                ref=item.ref, metric=metric.metric, due_at=due_at, cycle=due_at.isoformat(timespec="seconds")
            )
        )
    return deadlines


def intercom_deadlines(
    item: HelpdeskItem, targets: IntercomTargets, calendar: BusinessHours | None
) -> list[Deadline]:
    """First-reply deadline until an admin replies, then a next-reply deadline while the customer waits.

    `waiting_since` is the authority for "the customer is waiting on us": Intercom sets it when a customer
    writes and clears it when a teammate replies. When it is None after the first admin reply, the
    conversation is waiting on the customer and has no deadline, whatever `last_contact_reply_at` says.
    """
    if item.is_closed or item.status in INTERCOM_QUIET_STATUSES:
        return []
    is_priority = item.priority == INTERCOM_PRIORITY
    if item.first_admin_reply_at is None:
        created_at = _utc(item.created_at, "created_at")
        target = targets.first_reply_priority if is_priority else targets.first_reply_not_priority
        return [
            Deadline(
                ref=item.ref,
                metric=Metric.FIRST_REPLY,
                due_at=add_business_time(calendar, created_at, target),
                cycle=f"first:{int(created_at.timestamp())}",
            )
        ]
    if item.waiting_since is not None:
        waiting_since = _utc(item.waiting_since, "waiting_since")
        target = targets.next_reply_priority if is_priority else targets.next_reply_not_priority
        return [
            Deadline(
                ref=item.ref,
                metric=Metric.NEXT_REPLY,
                due_at=add_business_time(calendar, waiting_since, target),
                cycle=f"next:{int(waiting_since.timestamp())}",
            )
        ]
    return []


def deadlines_for(
    item: HelpdeskItem, *, targets: IntercomTargets, calendar: BusinessHours | None
) -> list[Deadline]:
    """Deadlines of any helpdesk item, dispatched on its source."""
    if item.ref.source is Source.ZENDESK:
        return zendesk_deadlines(item)
    return intercom_deadlines(item, targets, calendar)


def classify(deadline: Deadline, now: datetime, warn_before: Sequence[timedelta]) -> SlaStatus:
    """BREACHED from the due instant on; AT_RISK within the widest warning threshold; OK otherwise."""
    now = _utc(now, "now")
    remaining = deadline.due_at - now
    if remaining <= timedelta(0):
        return SlaStatus.BREACHED
    if warn_before and remaining <= max(warn_before):
        return SlaStatus.AT_RISK
    return SlaStatus.OK


def decide_alerts(
    deadlines: Iterable[Deadline],
    *,
    now: datetime,
    warn_before: Sequence[timedelta],
    already: Set[tuple[str, str, str, str]],
) -> list[AlertDecision]:
    """Alerts to post now, each at most once per (ref, metric, cycle, key), ordered by due time then ref.

    - Breached: one breach alert; never a late warning, even if no warning was ever sent.
    - At risk: a warning for the tightest threshold already crossed. Wider thresholds that were skipped are
      not posted late, and no warning is posted once a tighter warning or the breach was decided for the
      cycle (a deadline that moved later does not re-warn).
    `already` holds the keys decided earlier, as `(str(ref), metric, cycle, AlertDecision.key)`.
    """
    now = _utc(now, "now")
    thresholds = sorted(set(warn_before))
    if any(threshold <= timedelta(0) for threshold in thresholds):
        raise ValueError(f"warning thresholds must be positive, got {[str(t) for t in thresholds]}")
    decided: set[tuple[str, str, str, str]] = set()
    decisions: list[AlertDecision] = []
    for deadline in sorted(deadlines, key=lambda d: (d.due_at, d.ref, d.metric, d.cycle)):
        decision = _decide_one(deadline, now, thresholds, lambda key: key in already or key in decided)
        if decision is not None:
            decided.add(alert_key(decision))
            decisions.append(decision)
    return decisions


def alert_key(decision: AlertDecision) -> tuple[str, str, str, str]:
    """The store's uniqueness key for a decision: (ref, metric, cycle, key)."""
    deadline = decision.deadline
    return (str(deadline.ref), str(deadline.metric), deadline.cycle, decision.key)


def _decide_one(
    deadline: Deadline,
    now: datetime,
    thresholds: Sequence[timedelta],
    seen: Callable[[tuple[str, str, str, str]], bool],
) -> AlertDecision | None:
    status = classify(deadline, now, thresholds)
    if status is SlaStatus.OK:
        return None
    breach = AlertDecision(deadline=deadline, kind=AlertKind.BREACH)
    if status is SlaStatus.BREACHED:
        return None if seen(alert_key(breach)) else breach
    if seen(alert_key(breach)):
        return None
    remaining = deadline.due_at - now
    tightest = min(threshold for threshold in thresholds if remaining <= threshold)
    for threshold in thresholds:
        if threshold > tightest:
            break
        if seen(alert_key(AlertDecision(deadline=deadline, kind=AlertKind.WARNING, threshold=threshold))):
            return None
    return AlertDecision(deadline=deadline, kind=AlertKind.WARNING, threshold=tightest)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)
