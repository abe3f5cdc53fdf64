"""The escalation part of `deskwatch demo`: one ticket handed T1 -> T2, nobody in T2 accepts in time
(two re-pings, then auto-escalation), Compliance accepts (the responder becomes the Zendesk assignee),
and solving the ticket in Zendesk closes the handoff with its times. Time is moved on, not waited for."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.blocks.escalation import Urgency
from bot.blocks.escalation_modal import EscalationRequest
from bot.domain.escalation_types import Accept
from bot.domain.model import TicketRef
from jobs.sla import sync_job

# The README's escalation block, on the demo's channels and people.
DEMO_ESCALATION = {
    "tiers": [
        {"name": "T1"},
        {"name": "T2", "channel": "C0T2", "responders": ["U0T2A", "U0T2B"], "ack_within": "15m"},
        {
            "name": "Compliance",
            "channel": "C0COMPLIANCE",
            "responders": ["U0LEGAL"],
            "ack_within": "1h",
            "due": "24h",
            "zendesk": {"group_id": 900, "tags": ["compliance_review"]},
            "intercom": {"team_id": "900"},
        },
    ],
    "reasons": ["billing_dispute", "fraud_suspected", "bug", "legal_request", "vip", "other"],
}
DEMO_PEOPLE = (("U0T2A", "tara"), ("U0T2B", "tom"), ("U0LEGAL", "lena"), ("U0AGENT", "ada"))


class ShiftedClock:
    """Real time plus an offset the demo moves on, so timers fire without waiting 15 minutes, running
    `rate` times faster than real time (the browser demo's ×1/×60/×600). Thread-safe; never goes back."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._anchor_real = now()
        self._anchor = self._anchor_real
        self.rate = 1.0

    @property
    def offset(self) -> timedelta:
        return self() - self._now()

    def __call__(self) -> datetime:
        with self._lock:
            return self._anchor + (self._now() - self._anchor_real) * self.rate

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._anchor += delta

    def set_rate(self, rate: float) -> None:
        """From now on demo time runs `rate` (1..3600) times faster; the time so far is kept."""
        if not 1 <= rate <= 3600:
            raise ValueError(f"rate must be between 1 and 3600, got {rate!r}")
        with self._lock:
            real = self._now()
            self._anchor = self._anchor + (real - self._anchor_real) * self.rate
            self._anchor_real = real
            self.rate = float(rate)


def prepare_emulators(slack, zendesk, intercom) -> None:
    slack.add_channel("C0T2")
    for user, name in DEMO_PEOPLE:
        slack.add_user(user, name, email=f"{name}@deskwatch.example")
    zendesk.add_group(900, "Compliance review")
    intercom.add_team(900, "Compliance review")
    zendesk.add_user(5901, "Lena Legal", email="lena@deskwatch.example")


def play_escalation(deps, slack, zendesk, clock: ShiftedClock, show: Callable[[], None], out) -> None:
    ref = TicketRef.parse("zd:102")
    out("\n=== Escalations ===")
    out("Ada (T1) runs `/escalate zd:102`; the form is filled from Zendesk, she submits:")
    slack_before, zendesk_before = len(slack.calls("/api/")), len(zendesk.calls("/api/"))
    ticket = deps.tickets.summary(ref, now=clock())
    request = EscalationRequest(
        ref=ref,
        tier=1,
        reason="fraud_suspected",
        needs="Confirm whether the two card payments (card 4111 1111 1111 1111) were authorised",
        tried="Checked the ledger and 3-D Secure logs; the customer says they made neither",
        urgency=Urgency.HIGH,
    )
    deps.escalations.open(request, chain=None, by="U0AGENT", ticket=ticket)
    deps.outbox.drain(now=clock())
    show()
    out(
        f"(the card number never reaches Slack or the Zendesk note; opening cost "
        f"{_cost(slack, slack_before)} Slack and {_cost(zendesk, zendesk_before)} Zendesk calls)"
    )
    for attempt in (1, 2, 3):
        clock.advance(timedelta(minutes=15, seconds=1))
        what = "re-pings T2" if attempt < 3 else "auto-escalates to Compliance (2 re-pings unanswered)"
        out(f"\n+15 min, nobody in T2 accepted: Deskwatch {what}")
        deps.escalations.run_timers(clock())
        deps.outbox.drain(now=clock())
        show()
    chain = deps.escalations.store.open_for_refs([str(ref)])
    clock.advance(timedelta(minutes=4))
    out("\nLena (Compliance) presses Accept: she becomes the Zendesk assignee.")
    deps.escalations.act(chain[0].id, Accept(user="U0LEGAL", at=clock()))
    deps.outbox.drain(now=clock())
    show()
    clock.advance(timedelta(hours=2))
    zendesk.upsert_ticket(id=102, status="solved")
    out("\nTwo hours later the ticket is solved in Zendesk; the next sync closes the handoff:")
    sync_job(deps, clock())
    deps.outbox.drain(now=clock())
    show()
    notes = [c for c in zendesk.comments(102) if c.get("public") is False]
    assignee = zendesk.ticket_json(102).get("assignee_id")
    out(f"Zendesk zd:102 now has {len(notes)} internal note(s), group 900, assignee {assignee}.")
    out(
        f"The whole handoff, two tiers from open to resolved: {_cost(slack, slack_before)} Slack and "
        f"{_cost(zendesk, zendesk_before)} Zendesk API calls (with the sync that saw it solved)."
    )


def _cost(emulator, before: int) -> int:
    return len(emulator.calls("/api/")) - before
