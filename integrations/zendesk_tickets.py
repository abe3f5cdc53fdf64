"""Zendesk ticket JSON (with its `slas`, `metric_sets`, `users` and `groups` sideloads) to `HelpdeskItem`.

zenpy drops the sideloads when it builds objects, so the adapter keeps the raw JSON and maps it here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.domain.model import HelpdeskItem, MetricStage, SlaMetric, Source, TicketRef
from integrations.base import HelpdeskError

_STAGES = {stage.value: stage for stage in MetricStage}


def tickets_to_items(
    raws: Sequence[dict[str, Any]], body: dict[str, Any], url_of: Callable[[str], str]
) -> tuple[HelpdeskItem, ...]:
    """The tickets of one response, named and counted from that response's sideloads."""
    users, groups, metric_sets = _names(body, "users"), _names(body, "groups"), _metric_sets(body)
    return tuple(_item(raw, users, groups, metric_sets, url_of) for raw in raws)


def _item(
    raw: dict[str, Any],
    users: dict[int, str],
    groups: dict[int, str],
    metric_sets: dict[Any, dict[str, Any]],
    url_of: Callable[[str], str],
) -> HelpdeskItem:
    ticket_id = str(raw["id"])
    assignee_id, group_id = raw.get("assignee_id"), raw.get("group_id")
    # Zendesk lists metric sets beside the tickets; a `metric_set` nested on the ticket (where some
    # client code looks for it) is read as well.
    nested = raw.get("metric_set")
    metric_set = metric_sets.get(raw["id"]) or (nested if isinstance(nested, dict) else None)
    return HelpdeskItem(
        ref=TicketRef(Source.ZENDESK, ticket_id),
        subject=_subject(raw),
        status=str(raw["status"]),
        priority=raw.get("priority") or None,
        group_id=None if group_id is None else str(group_id),
        assignee_id=None if assignee_id is None else str(assignee_id),
        assignee_name=users.get(assignee_id),
        url=url_of(ticket_id),
        created_at=_parse_time(raw.get("created_at"), "created_at"),
        updated_at=_parse_time(raw.get("updated_at"), "updated_at"),
        sla_metrics=_sla_metrics(raw.get("slas")),
        tags=tuple(raw.get("tags") or ()),
        group_name=groups.get(group_id),
        reopens=_counter(metric_set, "reopens", ticket_id),
        agent_replies=_counter(metric_set, "replies", ticket_id),
    )


def _parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise HelpdeskError(f"Zendesk sent {what} as {type(value).__name__}, expected an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HelpdeskError(f"Zendesk sent an unparseable {what}: {value[:40]!r}") from exc
    if parsed.tzinfo is None:
        raise HelpdeskError(f"Zendesk sent {what} without a timezone: {value[:40]!r}")
    return parsed.astimezone(UTC)


def _subject(raw: dict[str, Any]) -> str:
    subject = (raw.get("subject") or "").strip()
    if subject:
        return subject
    for line in (raw.get("description") or "").splitlines():
        if line.strip():
            return line.strip()
    return "(no subject)"


def _sla_metrics(slas: Any) -> tuple[SlaMetric, ...]:
    """`slas.policy_metrics` to SlaMetric; stages this release does not know are skipped.

    Only `metric`, `stage` and `breach_at` are read: the signed unit next to them (`"hours": 21`,
    `"days": -141`) is a rounded restatement of breach_at relative to when Zendesk answered.
    """
    if not isinstance(slas, dict):
        return ()
    metrics = []
    for raw in slas.get("policy_metrics") or ():
        if not isinstance(raw, dict):
            continue
        stage = _STAGES.get(raw.get("stage"))
        if stage is None or not raw.get("metric"):
            continue
        breach_at = raw.get("breach_at")
        metrics.append(
            SlaMetric(
                metric=str(raw["metric"]),
                stage=stage,
                breach_at=None if breach_at is None else _parse_time(breach_at, "slas breach_at"),
            )
        )
    return tuple(metrics)


def _metric_sets(body: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    """`metric_sets` sideload by ticket id (a top-level list, one entry per ticket)."""
    return {
        entry["ticket_id"]: entry
        for entry in body.get("metric_sets") or ()
        if isinstance(entry, dict) and "ticket_id" in entry
    }


def _counter(metric_set: dict[str, Any] | None, key: str, ticket_id: str) -> int:
    """A metric-set count; 0 when Zendesk sent no metric set (deleted tickets) or no value."""
    value = (metric_set or {}).get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise HelpdeskError(f"Zendesk sent ticket {ticket_id} metric {key} as {value!r}, expected a count")
    return value


def _names(body: dict[str, Any], key: str) -> dict[int, str]:
    return {entry["id"]: entry.get("name") for entry in body.get(key) or () if "id" in entry}
