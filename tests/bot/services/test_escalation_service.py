"""The escalation service against the emulators (no Bolt): open, deliver, act, timers, upstream close."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks.escalation import Urgency
from bot.blocks.escalation_modal import EscalationRequest
from bot.domain.escalation_types import Accept, AckTimeout, Status
from bot.domain.model import TicketRef
from tests.scenarios.escalation_fixtures import escalation_config, esc_desk  # noqa: F401


def _open(deps, ref="zd:101", tier=1, by="U0MANAGER"):
    ticket = deps.tickets.summary(TicketRef.parse(ref), now=deps.clock())
    request = EscalationRequest(
        ref=TicketRef.parse(ref),
        tier=tier,
        reason="billing_dispute",
        needs="Refund of a double charge on card 4111 1111 1111 1111",
        tried="Checked the ledger; both charges settled",
        urgency=Urgency.HIGH,
    )
    return deps.escalations.open(request, chain=None, by=by, ticket=ticket)


def test_open_posts_the_handoff_writes_the_note_and_routes(esc_desk, make_deps, slack_emu, clock):
    zendesk, _ = esc_desk
    deps = make_deps(escalation_config())
    outcome = _open(deps, tier=2)
    esc = outcome.escalation
    assert esc.message_ts and esc.channel == "C0COMPLIANCE"
    posted = [m for m in slack_emu.messages("C0COMPLIANCE") if m["ts"] == esc.message_ts][0]
    assert "<@U0LEGAL>" in repr(posted["blocks"])
    assert "4111 1111 1111 1111" not in repr(posted)
    deps.outbox.drain(now=clock())
    notes = [c for c in zendesk.comments(101) if c.get("public") is False]
    assert len(notes) == 1 and "deskwatch:esc:" in notes[0]["body"]
    assert "4111 1111 1111 1111" not in notes[0]["body"]
    ticket = zendesk.ticket_json(101)
    assert ticket["group_id"] == 900 and "compliance_review" in ticket["tags"]
    kinds = [e.kind for e in deps.escalations.store.events_of(esc.id)]
    assert kinds[:2] == ["opened", "posted"] and kinds.count("written_back") == 2


def test_accept_then_timers_do_nothing(esc_desk, make_deps, slack_emu, clock):
    deps = make_deps(escalation_config())
    esc = _open(deps).escalation
    clock.advance(minutes=3)
    outcome = deps.escalations.act(esc.id, Accept(user="U0T2A", at=clock()))
    assert outcome.refusal is None and outcome.escalation.state.status is Status.ACCEPTED
    second = deps.escalations.act(esc.id, Accept(user="U0T2B", at=clock()))
    assert second.refusal is not None and "<@U0T2A>" in second.refusal.message
    clock.advance(hours=1)
    assert deps.escalations.run_timers(clock()) == 0


def test_ack_timeout_repings_then_auto_escalates(esc_desk, make_deps, slack_emu, clock):
    deps = make_deps(escalation_config())
    esc = _open(deps).escalation
    for _ in range(2):
        clock.advance(minutes=15)
        assert deps.escalations.run_timers(clock()) == 1
        deps.outbox.drain(now=clock())
    clock.advance(minutes=15)
    deps.escalations.run_timers(clock())
    deps.outbox.drain(now=clock())
    chain = deps.escalations.store.chain(esc.state.chain)
    assert [c.state.status for c in chain] == [Status.ESCALATED, Status.OPEN]
    assert chain[1].channel == "C0COMPLIANCE" and chain[1].message_ts
    replies = [m for m in slack_emu.messages("C0T2") if m.get("thread_ts") == esc.message_ts]
    assert sum("re-pinged" in m["text"] for m in replies) == 2
    assert any("auto-escalated" in m["text"] for m in replies)
    # the same wake-up again changes nothing
    assert deps.escalations.run_timers(clock()) == 0
    assert AckTimeout  # imported for readers: the job sends AckTimeout(now)
    assert timedelta
