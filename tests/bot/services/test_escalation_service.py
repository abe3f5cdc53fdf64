"""The escalation service against the emulators (no Bolt): open, deliver, act, timers, upstream close."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks.escalation import Urgency
from bot.blocks.escalation_modal import EscalationRequest
from bot.domain.escalation_types import Accept, AckTimeout, Status
from bot.domain.model import TicketRef
from tests.scenarios.escalation_fixtures import escalation_config


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


def test_a_restart_in_the_middle_of_a_timer_fires_it_once(esc_desk, make_deps, slack_emu, clock):
    first = make_deps(escalation_config())
    esc = _open(first).escalation
    clock.advance(minutes=10)
    first.store.engine.dispose()  # the process dies; its timer lives in the database
    second = make_deps(escalation_config(), migrate=False)
    clock.advance(minutes=5, seconds=1)
    assert second.escalations.run_timers(clock()) == 1
    assert second.escalations.run_timers(clock()) == 0  # the same wake-up twice: nothing more
    replies = [m for m in slack_emu.messages("C0T2") if m.get("thread_ts") == esc.message_ts]
    assert sum("re-pinged" in m["text"] for m in replies) == 1
    assert second.escalations.get(esc.id).state.pings == 1


def test_lost_note_answer_is_resolved_by_looking_not_by_writing_again(esc_desk, make_deps, slack_emu, clock):
    zendesk, _ = esc_desk
    zendesk.lose_response("/api/v2/tickets/101.json", mode="reset", method="PUT")
    deps = make_deps(escalation_config())
    esc = _open(deps).escalation
    deps.outbox.drain(now=clock())
    # Zendesk stored it and the answer was lost: the note is looked for (found), not written again
    notes = [c for c in zendesk.comments(101) if c.get("public") is False]
    assert len(notes) == 1
    assert deps.outbox.store.get_by_key(f"esc:{esc.id}:write:note").state == "posted"
    assert len(zendesk.calls("/api/v2/tickets/101.json", method="PUT")) == 1  # never re-sent


def test_write_failure_is_told_in_the_thread_and_retried_without_a_second_note(
    esc_desk, make_deps, slack_emu, clock
):
    zendesk, _ = esc_desk
    zendesk.fail_next("/api/v2/tickets/101.json", status=503, method="PUT", count=2)
    deps = make_deps(escalation_config())
    esc = _open(deps).escalation
    deps.outbox.drain(now=clock())
    thread = lambda: [m["text"] for m in slack_emu.messages("C0T2") if m.get("thread_ts") == esc.message_ts]  # noqa: E731
    assert any("write-back failed" in t for t in thread())
    for _ in range(3):
        clock.advance(minutes=5)
        deps.outbox.drain(now=clock())
    notes = [c for c in zendesk.comments(101) if c.get("public") is False]
    assert len(notes) == 1
    assert sum("write-back failed" in t for t in thread()) == 1  # the first failure told, retries audited
    assert any("internal note added (after 3 attempts)" in t for t in thread())
    kinds = [e.kind for e in deps.escalations.store.events_of(esc.id)]
    assert kinds.count("write_failed") == 2 and kinds.count("written_back") == 1


def test_solved_ticket_resolves_only_its_open_handoff(esc_desk, make_deps, slack_emu, clock):
    zendesk, _ = esc_desk
    deps = make_deps(escalation_config())
    from jobs.sla import sync_job

    sync_job(deps, clock())
    esc = _open(deps).escalation
    other = _open(deps, ref="zd:102").escalation
    clock.advance(hours=1)
    zendesk.upsert_ticket(id=101, status="solved")
    sync_job(deps, clock())
    assert deps.escalations.get(esc.id).state.status is Status.RESOLVED
    assert deps.escalations.get(other.id).state.status is Status.OPEN


def test_two_accepts_at_the_same_moment_give_one_owner(esc_desk, make_deps, slack_emu, clock):
    import threading

    deps = make_deps(escalation_config())
    esc = _open(deps).escalation
    barrier = threading.Barrier(2)
    outcomes = {}

    def press(user):
        barrier.wait()
        outcomes[user] = deps.escalations.act(esc.id, Accept(user=user, at=clock()))

    threads = [threading.Thread(target=press, args=(u,)) for u in ("U0T2A", "U0T2B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    owner = deps.escalations.get(esc.id).state.owner
    assert owner in ("U0T2A", "U0T2B")
    loser = "U0T2B" if owner == "U0T2A" else "U0T2A"
    assert outcomes[owner].refusal is None
    assert f"already accepted by <@{owner}>" in outcomes[loser].refusal.message
    kinds = [e.kind for e in deps.escalations.store.events_of(esc.id)]
    assert kinds.count("accepted") == 1 and kinds.count("refused") == 1


def test_user_group_responders_are_resolved_once_and_may_accept(esc_desk, make_deps, slack_emu, clock):
    slack_emu.add_usergroup("S0T2ONCALL", ["U0T2B"])
    deps = make_deps(escalation_config(T2={"responders": ["S0T2ONCALL"]}))
    esc = _open(deps).escalation
    post = next(m for m in slack_emu.messages("C0T2") if m["ts"] == esc.message_ts)
    assert "<!subteam^S0T2ONCALL>" in repr(post["blocks"])
    refused = deps.escalations.act(esc.id, Accept(user="U0T2A", at=clock()))
    assert refused.refusal is not None
    accepted = deps.escalations.act(esc.id, Accept(user="U0T2B", at=clock()))
    assert accepted.refusal is None
    assert len(slack_emu.calls("/api/usergroups.users.list")) == 1  # cached


def test_tier_due_warns_then_alerts_in_the_channel(esc_desk, make_deps, slack_emu, clock):
    deps = make_deps(escalation_config())
    esc = _open(deps, tier=2).escalation
    deps.escalations.act(esc.id, Accept(user="U0LEGAL", at=clock()))
    clock.advance(hours=23, seconds=1)  # due 24h: warned an hour before (a quarter of it, at most 1h)
    assert deps.escalations.run_timers(clock()) == 1
    clock.advance(hours=1)
    assert deps.escalations.run_timers(clock()) == 1
    deps.outbox.drain(now=clock())
    replies = [m for m in slack_emu.messages("C0COMPLIANCE") if m.get("thread_ts") == esc.message_ts]
    texts = [m["text"] for m in replies]
    assert sum("deadline approaching" in t for t in texts) == 1
    passed = [m for m in replies if "deadline passed" in m["text"]]
    assert len(passed) == 1 and passed[0]["reply_broadcast"] is True and "<@U0LEGAL>" in repr(passed[0])
    assert deps.escalations.run_timers(clock()) == 0


def test_intercom_write_failure_is_retried_without_a_second_note(esc_desk, make_deps, slack_emu, clock):
    _, intercom = esc_desk
    intercom.fail_next("/conversations/9001/reply", status=500, method="POST")
    deps = make_deps(escalation_config())
    esc = _open(deps, ref="ic:9001").escalation
    deps.outbox.drain(now=clock())
    clock.advance(minutes=5)
    deps.outbox.drain(now=clock())
    parts = intercom.conversation(9001)["conversation_parts"]["conversation_parts"]
    notes = [p for p in parts if p["part_type"] == "note"]
    assert len(notes) == 1 and f"deskwatch:esc:{esc.id}:note" in notes[0]["body"]
    replies = [m["text"] for m in slack_emu.messages("C0T2") if m.get("thread_ts") == esc.message_ts]
    assert any("write-back failed" in t for t in replies) and any("internal note added" in t for t in replies)
