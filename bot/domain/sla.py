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

    The cycle says which clock instance this is, from the ticket's own history (`zendesk_cycle`), never
    from `breach_at`: a priority or policy change moves the breach time inside the same cycle.
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
                ref=item.ref, metric=metric.metric, due_at=due_at, cycle=zendesk_cycle(item, metric.metric)
            )
        )
    return deadlines


def zendesk_cycle(item: HelpdeskItem, metric: str) -> str:
    """Identity of the clock instance a Zendesk metric is running for, from the ticket's metric set.

    First reply runs once per ticket. Next reply (and the update metrics) restart with each requester
    comment after an agent reply, so agent reply N identifies the cycle. Resolution-type metrics run
    once per solve, so each reopen starts a new cycle. Group ownership restarts per group.
    """
    reopens, replies = item.reopens, item.agent_replies
    if metric == Metric.FIRST_REPLY:
        return "first"
    if metric in (Metric.NEXT_REPLY, Metric.PERIODIC_UPDATE, Metric.PAUSABLE_UPDATE):
        return f"reply:{reopens}:{replies}"
    if metric == Metric.GROUP_OWNERSHIP:
        return f"group:{item.group_id or '-'}:{reopens}"
    return f"solve:{reopens}"


def intercom_deadlines(
    item: HelpdeskItem, targets: IntercomTargets, calendar: BusinessHours | None
) -> list[Deadline]:
    """First-reply deadline until an admin replies, then a next-reply deadline while the customer waits.

    The first-reply clock starts when the customer first wrote (`first_contact_at`): at creation for a
    conversation the customer started, at the customer's first reply for one the team started
    (outbound, automated, admin-initiated), and not at all before the customer has written.

    `waiting_since` is the authority for "the customer is waiting on us": Intercom sets it when a customer
    writes and clears it when a teammate replies. When it is None after the first admin reply, the
    conversation is waiting on the customer and has no deadline, whatever `last_contact_reply_at` says.
    """
    if item.is_closed or item.status in INTERCOM_QUIET_STATUSES:
        return []
    is_priority = item.priority == INTERCOM_PRIORITY
    answered = item.first_admin_reply_at is not None
    if not answered and item.first_contact_at is None:
        return []  # the team started it and the customer has not written: no reply is owed
    if not answered and _team_started(item):
        # Intercom may send `statistics: null` for these, hiding the first admin reply; `waiting_since`
        # still says whether the customer waits: not waiting = answered, waiting since a later message
        # = the team answered the first one and this is a next reply.
        if item.waiting_since is None:
            return []
        answered = _utc(item.waiting_since, "waiting_since") > _utc(item.first_contact_at, "first_contact_at")
    if not answered:
        started = _utc(item.first_contact_at, "first_contact_at")
        target = targets.first_reply_priority if is_priority else targets.first_reply_not_priority
        return [
            Deadline(
                ref=item.ref,
                metric=Metric.FIRST_REPLY,
                due_at=add_business_time(calendar, started, target),
                cycle=f"first:{int(started.timestamp())}",
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


def _team_started(item: HelpdeskItem) -> bool:
    """The customer first wrote after the conversation was created: the team opened it."""
    return item.first_contact_at is not None and item.first_contact_at > item.created_at


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
