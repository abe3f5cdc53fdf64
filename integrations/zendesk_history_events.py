"""Zendesk export JSON -> history records: the events a ticket's latest state and metric set tell, and
the solves and reopens its `resolution_time` metric events tell. Pure mapping, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.history import EventKind, TicketEvent
from bot.domain.model import Metric, Source, TicketRef
from integrations.base import HelpdeskError

UNSOLVED = frozenset({"new", "open", "pending", "hold"})
SOLVED = frozenset({"solved", "closed"})
_SLA_METRICS = {
    "agent_work_time": Metric.AGENT_WORK,
    "pausable_update_time": Metric.PAUSABLE_UPDATE,
    "periodic_update_time": Metric.PERIODIC_UPDATE,
    "requester_wait_time": Metric.REQUESTER_WAIT,
    "resolution_time": Metric.TOTAL_RESOLUTION,
    "group_ownership_time": Metric.GROUP_OWNERSHIP,
}


@dataclass(frozen=True)
class _Facts:
    group_id: str | None
    priority: str | None
    created_at: datetime | None = None


def _facts(ticket: dict[str, Any]) -> _Facts:
    return _Facts(_id(ticket.get("group_id")), ticket.get("priority"), _time(ticket.get("created_at")))


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HelpdeskError(f"Zendesk sent an unreadable timestamp {value[:40]!r}") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _id(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else str(value)


def _ref(ticket_id: Any) -> TicketRef:
    return TicketRef(Source.ZENDESK, str(ticket_id))


def ticket_events(ticket: dict[str, Any], metric_set: dict[str, Any] | None) -> list[TicketEvent]:
    """Events told by a ticket's latest state and metric set (none for a deleted ticket):

    - CREATED at created_at; FIRST_REPLY at created_at + reply_time_in_minutes.calendar (minute
      precision), its clock started at created_at;
    - SOLVED `solved:<reopens>` at solved_at while solved/closed, with `replies` as agent_replies;
    - REOPENED `reopened:<reopens>` at status_updated_at while the ticket is open after its solve (a
      reopen already followed by another status change cannot be dated and is not emitted);
    - REASSIGNED `reassigned:<micros of assigned_at>` when assigned_at is later than
      initially_assigned_at (assignee_updated_at is the assignee's last update, not an assignment).
    """
    created = _time(ticket.get("created_at"))
    status = ticket.get("status")
    if created is None or status == "deleted":
        return []
    via = ticket.get("via")
    tags = ticket.get("tags")

    def event(event_id: str, kind: EventKind, at: datetime, **extra: Any) -> TicketEvent:
        return TicketEvent(
            ref=_ref(ticket["id"]),
            event_id=event_id,
            kind=kind,
            at=at,
            created_at=created,
            group_id=_id(ticket.get("group_id")),
            assignee_id=_id(ticket.get("assignee_id")),
            priority=ticket.get("priority"),
            channel=via.get("channel") if isinstance(via, dict) else None,
            **extra,
        )

    tag_tuple = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
    events = [event("created", EventKind.CREATED, created, tags=tag_tuple)]
    if not metric_set:
        return events
    reopens = metric_set.get("reopens") or 0
    minutes = (metric_set.get("reply_time_in_minutes") or {}).get("calendar")
    if isinstance(minutes, int) and (metric_set.get("replies") or 0) > 0:
        at = created + timedelta(minutes=minutes)
        events.append(event("first_reply", EventKind.FIRST_REPLY, at, clock_started_at=created))
    solved_at = _time(metric_set.get("solved_at"))
    if status in SOLVED and solved_at is not None:
        replies = metric_set.get("replies")
        events.append(event(f"solved:{reopens}", EventKind.SOLVED, solved_at, agent_replies=replies))
    status_at = _time(metric_set.get("status_updated_at"))
    if (
        reopens > 0
        and status == "open"
        and status_at is not None
        and (solved_at is None or status_at > solved_at)
    ):
        events.append(event(f"reopened:{reopens}", EventKind.REOPENED, status_at))
    assigned, first = _time(metric_set.get("assigned_at")), _time(metric_set.get("initially_assigned_at"))
    if assigned is not None and first is not None and assigned > first:
        micros = int(assigned.timestamp() * 1_000_000)
        events.append(event(f"reassigned:{micros}", EventKind.REASSIGNED, assigned))
    return events


def _lifecycle_kind(row: dict[str, Any]) -> EventKind | None:
    """Solves and reopens the ticket export cannot show once a later change hid them: each solve
    fulfils a `resolution_time` instance, each reopen activates the next one."""
    instance = row.get("instance_id")
    if row.get("metric") != "resolution_time" or not isinstance(instance, int):
        return None
    if row.get("type") == "fulfill":
        return EventKind.SOLVED
    if row.get("type") == "activate" and instance > 1:
        return EventKind.REOPENED
    return None


def _lifecycle_event(row: dict[str, Any], facts: dict[int, _Facts | None]) -> TicketEvent | None:
    """`solved:<n>` / `reopened:<n>` from a resolution_time metric event, the ids `ticket_events` gives
    the same happenings (instance n+1 is the cycle after the n-th reopen), so either source stores once.
    Agent replies are not known here: such a solve is left out of the one-touch rate."""
    kind, at = _lifecycle_kind(row), _time(row.get("time"))
    known = facts.get(row.get("ticket_id"))  # type: ignore[arg-type]
    if kind is None or at is None or known is None or known.created_at is None:
        return None
    n = int(row["instance_id"]) - 1
    return TicketEvent(
        ref=_ref(row["ticket_id"]),
        event_id=f"{'solved' if kind is EventKind.SOLVED else 'reopened'}:{n}",
        kind=kind,
        at=at,
        created_at=known.created_at,
        group_id=known.group_id,
        priority=known.priority,
    )


def _sla_metric(metric: str, instance_id: int) -> str | None:
    if metric == "reply_time":
        return Metric.FIRST_REPLY if instance_id <= 1 else Metric.NEXT_REPLY
    return _SLA_METRICS.get(metric)
