"""Stored escalation -> what Slack and the helpdesk are shown: the handoff view, the write-back note."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.escalation import HandoffView, TicketSummary, Urgency, reason_label
from bot.config import AppConfig
from bot.domain.escalation_types import EscalationPolicy, Status
from bot.domain.model import TicketRef
from bot.store.escalations import EscalationStore, StoredEscalation


def summary_to_context(ticket: TicketSummary) -> dict[str, Any]:
    return {
        "url": ticket.url,
        "subject": ticket.subject,
        "requester": ticket.requester,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "sla_state": ticket.sla_state,
        "last_customer_message": ticket.last_customer_message,
    }


def summary_from_context(ref: TicketRef, data: dict[str, Any]) -> TicketSummary:
    return TicketSummary(
        ref=ref,
        url=str(data.get("url") or ""),
        subject=str(data.get("subject") or ""),
        requester=data.get("requester"),
        priority=data.get("priority"),
        assignee=data.get("assignee"),
        sla_state=data.get("sla_state"),
        last_customer_message=data.get("last_customer_message"),
    )


class EscalationViews:
    """Renders from the stored row; `policy` is the service's (user groups resolved, cached)."""

    def __init__(
        self,
        *,
        config: AppConfig,
        store: EscalationStore,
        policy: Callable[[], EscalationPolicy],
        live_ticket: Callable[[TicketRef, datetime], dict[str, Any] | None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.policy = policy
        # The ticket as the last sync stored it (assignee, priority, SLA now), over the snapshot taken when
        # it was escalated: a handoff shown hours later must not claim a stale assignee or SLA.
        self.live_ticket = live_ticket

    def tz(self, tier: int) -> ZoneInfo:
        tiers = self.config.escalation.tiers if self.config.escalation else []
        name = tiers[tier].timezone if tier < len(tiers) else None
        return ZoneInfo(name) if name else self.config.tz

    def handoff(
        self, esc: StoredEscalation, now: datetime, *, mentions: Sequence[str] | None = None
    ) -> HandoffView:
        state = esc.state
        policy = self.policy()
        tier = policy.tiers[state.tier]
        context = esc.context or {}
        reassigned = state.owner is not None and any(
            e.kind == "reassigned" for e in self.store.events_of(esc.id)
        )
        escalated_to = None
        if state.status is Status.ESCALATED and state.tier + 1 < len(policy.tiers):
            escalated_to = policy.tiers[state.tier + 1].name
        urgency = context.get("urgency")
        ticket = dict(context.get("ticket") or {})
        if self.live_ticket is not None:
            ticket.update(self.live_ticket(state.ref, now) or {})
        return HandoffView(
            escalation_id=esc.id,
            ticket=summary_from_context(state.ref, ticket),
            tier_name=tier.name,
            reason=state.reason,
            urgency=Urgency(urgency) if urgency in {u.value for u in Urgency} else Urgency.NORMAL,
            needs=str(context.get("needs") or state.note),
            tried=str(context.get("tried") or ""),
            escalated_by=state.opened_by,
            responders=tuple(mentions) if mentions is not None else tier.responders,
            status=state.status,
            opened_at=state.opened_at,
            tz=self.tz(state.tier),
            note=context.get("handoff_note"),
            owner=state.owner,
            reassigned=reassigned,
            accepted_at=state.accepted_at,
            resolved_at=state.resolved_at,
            ack_deadline=state.ack_deadline,
            due_at=state.due_at,
            question=state.question,
            escalated_to=escalated_to,
        )

    def note_text(
        self, esc: StoredEscalation, thread_link: str | None, *, clean: Callable[[str], str] = str
    ) -> str:
        """The internal note: the handoff in plain text, the Slack thread link, no Slack markup.
        `clean` (redaction) applies to the words, not to the link: a permalink's digits are no card."""
        state = esc.state
        policy = self.policy()
        context = esc.context or {}
        urgency = context.get("urgency") or "normal"
        lines = [
            f"Escalated to {policy.tiers[state.tier].name} via Deskwatch (Slack user {state.opened_by}).",
            f"Reason: {reason_label(state.reason)} · Urgency: {urgency}",
        ]
        if context.get("handoff_note"):
            lines += ["", str(context["handoff_note"])]
        if context.get("needs"):
            lines += ["", "What the customer needs:", str(context["needs"])]
        if context.get("tried"):
            lines += ["", "What was tried:", str(context["tried"])]
        if not context.get("needs") and not context.get("tried"):
            lines += ["", state.note]
        words = clean("\n".join(lines))
        return (
            f"{words}\n\nSlack thread: {thread_link}"
            if thread_link
            else f"{words}\n\nSlack thread: (not posted)"
        )
