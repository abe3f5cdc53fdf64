"""The ticket as an escalation shows it: read fresh from the helpdesk when someone escalates.

Subject, priority and assignee come from the item, requester and the customer's last message from
`get_context`, the SLA line from the same deadlines the SLA alerts use. Nothing is redacted here: the
Slack boundary does that on the final payload.
"""

from __future__ import annotations

from datetime import datetime

from bot.blocks.escalation import TicketSummary
from bot.domain.model import DomainError, HelpdeskItem, TicketRef, metric_label
from bot.services.sla import SlaService
from integrations.base import Helpdesk, HelpdeskNotFound


class UnknownTicket(DomainError):
    """The ref names no ticket Deskwatch can read (helpdesk not configured, or no such ticket)."""


class TicketLookup:
    def __init__(self, *, helpdesks: dict, sla: SlaService) -> None:
        self.helpdesks: dict = helpdesks
        self.sla = sla

    def helpdesk(self, ref: TicketRef) -> Helpdesk:
        helpdesk = self.helpdesks.get(ref.source)
        if helpdesk is None:
            raise UnknownTicket(
                f"{ref} is a {ref.source.label} ticket, but {ref.source.label} is not connected to "
                "Deskwatch (set its credentials, see `deskwatch config check`)"
            )
        return helpdesk

    def item(self, ref: TicketRef) -> HelpdeskItem:
        try:
            return self.helpdesk(ref).get_item(ref.external_id)
        except HelpdeskNotFound as exc:
            what = "ticket" if ref.source.prefix == "zd" else "conversation"
            raise UnknownTicket(f"{ref}: there is no {ref.source.label} {what} {ref.external_id}") from exc

    def summary(self, ref: TicketRef, *, now: datetime, item: HelpdeskItem | None = None) -> TicketSummary:
        """Raises UnknownTicket for a ticket that does not exist, HelpdeskError when the helpdesk fails."""
        item = item or self.item(ref)
        helpdesk = self.helpdesk(ref)
        requester = last_message = None
        get_context = getattr(helpdesk, "get_context", None)
        if get_context is not None:
            context = get_context(ref.external_id)
            requester, last_message = context.requester, context.last_customer_message
        return TicketSummary(
            ref=ref,
            url=item.url,
            subject=item.subject,
            requester=requester,
            priority=item.priority,
            assignee=item.assignee_name or (None if item.assignee_id is None else f"#{item.assignee_id}"),
            sla_state=self.sla_state(item, now),
            last_customer_message=last_message,
        )

    def sla_state(self, item: HelpdeskItem, now: datetime) -> str | None:
        """The soonest running deadline in one line: `First reply breached 12m ago` / `… due in 40m`."""
        if item.is_closed:
            return f"{item.status.capitalize()}: no SLA running"
        _, deadlines = self.sla.deadlines(item)
        if not deadlines:
            return None
        from bot.blocks.text import due_phrase  # the same words the SLA alerts use

        soonest = min(deadlines, key=lambda d: d.due_at)
        return f"{metric_label(soonest.metric)} {due_phrase(soonest.due_at, now)}"


def live_fields(store, lookup: TicketLookup):
    """`(ref, now) -> fields` from the synced copy of the ticket (a database read, no helpdesk call)."""

    def fields(ref: TicketRef, now: datetime) -> dict | None:
        item = store.get_item(ref)
        if item is None:
            return None
        assignee = item.assignee_name or (None if item.assignee_id is None else f"#{item.assignee_id}")
        return {
            "subject": item.subject,
            "priority": item.priority,
            "assignee": assignee,
            "sla_state": lookup.sla_state(item, now),
        }

    return fields
