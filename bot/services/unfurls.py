"""Ticket link unfurls: which links of a `link_shared` event name tickets, and each one's card.

The ticket is read from the synced copy first (a database read); only a ticket Deskwatch has not
synced costs one helpdesk read. Its team, next SLA deadline and state come from the same routing and
deadline computation the SLA alerts use, so the card and the alerts agree. Nothing is redacted here:
the Slack client masks the final `chat.unfurl` request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import structlog

from bot.blocks.unfurl import UnfurlDeadline, UnfurlEscalation, UnfurlView, render_unfurl
from bot.domain.escalation_types import CLOSED
from bot.domain.model import HelpdeskItem, InvalidTicketRef, TicketRef
from bot.domain.sla import classify
from bot.services.ticket_summary import UnknownTicket
from bot.store.alerts import AlertStatus, StoredAlert
from integrations.base import HelpdeskError

log = structlog.get_logger(__name__)

MAX_LINKS = 5  # cards per event: a message pasting a whole ticket list must not fan out helpdesk reads


def ticket_links(
    links: Iterable[Mapping[str, Any]], *, limit: int = MAX_LINKS
) -> list[tuple[str, TicketRef]]:
    """The event's links that name a Zendesk ticket or Intercom conversation, as (url, ref), at most
    `limit`, each URL once. Other links (the helpdesk's home page, a view, another site) are skipped."""
    found: list[tuple[str, TicketRef]] = []
    seen: set[str] = set()
    for link in links:
        url = link.get("url") if isinstance(link, Mapping) else None
        if not isinstance(url, str) or url in seen or not url.lower().startswith(("https://", "http://")):
            continue
        try:
            ref = TicketRef.parse(url)
        except InvalidTicketRef:
            continue
        seen.add(url)
        found.append((url, ref))
        if len(found) >= limit:
            break
    return found


def unfurl_payload(deps, links: Iterable[Mapping[str, Any]], *, now: datetime) -> dict[str, dict[str, Any]]:
    """`chat.unfurl`'s `unfurls` map (url -> {blocks}) for the ticket links among `links`; empty when
    none of them names a ticket Deskwatch can read."""
    unfurls: dict[str, dict[str, Any]] = {}
    views: dict[TicketRef, UnfurlView | None] = {}
    for url, ref in ticket_links(links):
        if ref not in views:
            views[ref] = unfurl_view(deps, ref, now=now)
        view = views[ref]
        if view is not None:
            unfurls[url] = render_unfurl(view, now=now)
    return unfurls


def unfurl_view(deps, ref: TicketRef, *, now: datetime) -> UnfurlView | None:
    """The card's values for `ref`, or None when there is no such ticket (or its helpdesk is not
    connected or does not answer: a link without a card is better than an error in the channel)."""
    item = read_item(deps, ref)
    if item is None:
        return None
    team, deadlines = deps.sla.deadlines(item)
    team_name = team.name if team else None
    deadline = None
    if not item.is_closed and deadlines:
        soonest = min(deadlines, key=lambda d: d.due_at)
        state = classify(soonest, now, deps.config.alerts.warn_before)
        deadline = UnfurlDeadline(metric=soonest.metric, due_at=soonest.due_at, state=state)
    cycles = [(str(ref), d.metric, d.cycle) for d in deadlines]
    alert = unacknowledged_alert(deps.store.alerts_for_cycles(cycles).values()) if cycles else None
    return UnfurlView(
        ref=ref,
        url=item.url,
        subject=item.subject,
        status=item.status,
        priority=item.priority,
        assignee_name=item.assignee_name or (None if item.assignee_id is None else f"#{item.assignee_id}"),
        team_name=team_name,
        group_name=item.group_name,
        tz=deps.config.team_tz(team_name),
        deadline=deadline,
        escalation=open_escalation(deps, ref),
        ack_alert_id=alert.id if alert is not None else None,
        escalate=deps.escalations.enabled,
    )


def read_item(deps, ref: TicketRef) -> HelpdeskItem | None:
    item = deps.store.get_item(ref)
    if item is not None:
        return item
    try:
        return deps.tickets.item(ref)
    except UnknownTicket:
        return None
    except HelpdeskError as exc:
        log.warning("unfurl_helpdesk_unavailable", ref=str(ref), error=type(exc).__name__)
        return None


def unacknowledged_alert(groups: Iterable[list[StoredAlert]]) -> StoredAlert | None:
    """The latest posted, unacknowledged alert among the ticket's current deadlines: the one whose
    Acknowledge button the card carries."""
    posted = [
        alert
        for alerts in groups
        for alert in alerts
        if alert.status == AlertStatus.POSTED and alert.ts is not None and alert.acked_by is None
    ]
    return max(posted, key=lambda a: (a.posted_at or a.decided_at, a.id), default=None)


def open_escalation(deps, ref: TicketRef) -> UnfurlEscalation | None:
    """The ticket's newest handoff that is neither escalated further nor resolved."""
    if not deps.escalations.enabled:
        return None
    stored = [e for e in deps.escalations.store.open_for_refs([str(ref)]) if e.state.status not in CLOSED]
    if not stored:
        return None
    latest = max(stored, key=lambda e: e.id)
    tiers = deps.config.escalation.tiers
    tier = (
        tiers[latest.state.tier].name if 0 <= latest.state.tier < len(tiers) else f"tier {latest.state.tier}"
    )
    return UnfurlEscalation(tier=tier, status=str(latest.state.status), owner=latest.state.owner)
