"""The whole escalation flow through signed Slack requests against the emulators, on Zendesk and
Intercom: /escalate -> modal (opened with the trigger_id, filled with views.update) -> submit -> handoff
post + internal note + routing -> Accept / Need info / thread answer / Escalate further -> resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bot.blocks.ids import (
    EscalationActions,
    EscalationBlocks,
    EscalationModalActions,
    EscalationPromptIds,
    EscalationViews,
    Shortcuts,
    SlaActions,
)
from bot.blocks.metadata import AlertButtonValue, EscalationButtonValue
from bot.domain.escalation_types import RequestInfo, Status
from jobs.sla import scan, sync_job
from tests.helpers.slack_requests import (
    block_action,
    event_callback,
    message_shortcut,
    slash_command,
    view_submission,
)
from tests.helpers.waiting import wait_for

CARD = "4111 1111 1111 1111"


@dataclass(frozen=True)
class Desk:
    ref: str
    notes: Any  # () -> list of internal note bodies on the ticket


@pytest.fixture(params=["zd:101", "ic:9001"])
def desk(request, esc_desk) -> Desk:
    zendesk, intercom = esc_desk
    if request.param.startswith("zd"):
        return Desk("zd:101", lambda: [c["body"] for c in zendesk.comments(101) if c.get("public") is False])
    parts = lambda: intercom.conversation(9001)["conversation_parts"]["conversation_parts"]  # noqa: E731
    return Desk("ic:9001", lambda: [p["body"] for p in parts() if p["part_type"] == "note"])


def _form_values(tier: int = 1, needs: str = f"Refund the double charge on {CARD}", ref: str | None = None):
    values: dict[str, Any] = {
        EscalationBlocks.MODAL_TIER: {
            EscalationModalActions.TIER: {"type": "static_select", "selected_option": {"value": str(tier)}}
        },
        EscalationBlocks.MODAL_REASON: {
            EscalationModalActions.REASON: {
                "type": "static_select",
                "selected_option": {"value": "billing_dispute"},
            }
        },
        EscalationBlocks.MODAL_NEEDS: {
            EscalationModalActions.NEEDS: {"type": "plain_text_input", "value": needs}
        },
        EscalationBlocks.MODAL_TRIED: {
            EscalationModalActions.TRIED: {"type": "plain_text_input", "value": "Checked the ledger"}
        },
        EscalationBlocks.MODAL_URGENCY: {
            EscalationModalActions.URGENCY: {"type": "static_select", "selected_option": {"value": "high"}}
        },
    }
    if ref is not None:
        values[EscalationBlocks.MODAL_REF] = {
            EscalationModalActions.REF: {"type": "plain_text_input", "value": ref}
        }
    return values


def _escalate(bot, slack_emu, text: str, user: str = "U0MANAGER", channel: str = "C0BILLING"):
    trigger = slack_emu.issue_trigger_id()
    resp = slash_command(
        bot.events_url,
        secret=bot.secret,
        command="/escalate",
        text=text,
        user_id=user,
        channel_id=channel,
        response_url=slack_emu.response_url(f"esc-{text}"),
        trigger_id=trigger,
    )
    assert resp.status_code == 200
    return resp


def _form(slack_emu) -> dict[str, Any]:
    return wait_for(
        lambda: next((v for v in slack_emu.views() if v.get("callback_id") == EscalationViews.FORM), None),
        what="the escalation form swapped in with views.update",
    )


def _submit(bot, slack_emu, view, values, user="U0MANAGER"):
    return view_submission(
        bot.events_url, secret=bot.secret, user_id=user, view=view, values=values, view_id=view["id"]
    )


def _open_handoff(bot, slack_emu, ref: str, tier: int = 1):
    _escalate(bot, slack_emu, ref)
    form = _form(slack_emu)
    resp = _submit(bot, slack_emu, form, _form_values(tier))
    assert resp.status_code == 200
    channel = "C0T2" if tier == 1 else "C0COMPLIANCE"
    post = wait_for(
        lambda: next((m for m in slack_emu.messages(channel) if not m.get("thread_ts")), None),
        what=f"the handoff post in {channel}",
    )
    esc = wait_for(lambda: bot.deps.escalations.by_thread(channel, post["ts"]), what="handoff recorded")
    return esc, post


def _press(bot, slack_emu, esc, action_id: str, user: str, **extra):
    name = f"{action_id}-{user}-{len(slack_emu.responses())}"
    resp = block_action(
        bot.events_url,
        secret=bot.secret,
        user_id=user,
        channel_id=esc.channel,
        message_ts=esc.message_ts,
        action_id=action_id,
        value=extra.pop("value", EscalationButtonValue(escalation_id=esc.id).encode()),
        response_url=slack_emu.response_url(name),
        **extra,
    )
    assert resp.status_code == 200
    return name


def _thread(slack_emu, esc) -> list[dict[str, Any]]:
    return [m for m in slack_emu.messages(esc.channel) if m.get("thread_ts") == esc.message_ts]


# -- starting ------------------------------------------------------------------------------------------
def test_escalate_posts_the_handoff_writes_one_note_and_routes(esc_bot, slack_emu, desk, clock):
    deps = esc_bot.deps
    _escalate(esc_bot, slack_emu, desk.ref)
    form = _form(slack_emu)
    # opened at once with the command's trigger_id, then filled once the helpdesk answered
    assert len(slack_emu.calls("/api/views.open")) == 1 and len(slack_emu.calls("/api/views.update")) == 1
    shown = repr(form["blocks"])
    assert desk.ref in shown and "Requester" in shown

    _submit(esc_bot, slack_emu, form, _form_values(tier=2))

    post = wait_for(lambda: slack_emu.messages("C0COMPLIANCE"), what="handoff posted")[-1]
    blocks = repr(post["blocks"])
    assert "<@U0LEGAL>" in blocks and "Refund the double charge" in blocks
    assert CARD not in repr(post) and "1111" in blocks  # redacted at the Slack boundary, last four kept
    assert EscalationActions.ACCEPT in blocks
    result = wait_for(
        lambda: next((v for v in slack_emu.views() if "Escalated" in repr(v.get("title"))), None),
        what="the form turned into the result",
    )
    assert "Open the handoff" in repr(result["blocks"])
    deps.outbox.drain(now=clock())
    notes = wait_for(desk.notes, what="internal note")
    assert len(notes) == 1
    assert "Slack thread: " in notes[0] and "/archives/C0COMPLIANCE/p" in notes[0] and CARD not in notes[0]
    assert "[card" not in notes[0].split("Slack thread:")[1]  # the permalink is not mistaken for a card
    esc = deps.escalations.by_thread("C0COMPLIANCE", post["ts"])
    kinds = [e.kind for e in deps.escalations.store.events_of(esc.id)]
    assert kinds.count("written_back") == 2  # the note and the routing (group/team 900, tags)


def test_malformed_ref_is_refused_in_the_ack_and_unknown_ref_in_the_form(esc_bot, slack_emu):
    resp = _escalate(esc_bot, slack_emu, "zd-101-please")
    assert "is not a ticket reference" in resp.json()["text"]
    assert slack_emu.calls("/api/views.open") == []

    _escalate(esc_bot, slack_emu, "zd:424242")
    told = wait_for(
        lambda: [r for r in slack_emu.responses() if r["_name"] == "esc-zd:424242"], what="ephemeral error"
    )
    assert "there is no Zendesk ticket 424242" in told[0]["text"]
    assert any("Unknown ticket" in repr(v.get("title")) for v in slack_emu.views())


def test_an_expired_trigger_id_is_explained(esc_bot, slack_emu):
    trigger = slack_emu.issue_trigger_id()
    slack_emu._triggers[trigger].issued_at -= 5  # the lazy listener ran 5 s after Slack sent the command
    slash_command(
        esc_bot.events_url,
        secret=esc_bot.secret,
        command="/escalate",
        text="zd:101",
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        response_url=slack_emu.response_url("late"),
        trigger_id=trigger,
    )
    told = wait_for(lambda: [r for r in slack_emu.responses() if r["_name"] == "late"], what="told")
    assert "3-second window" in told[0]["text"] and "/escalate zd:101" in told[0]["text"]
    assert slack_emu.views() == []


def test_form_validates_inline_and_a_typed_ref_must_exist(esc_bot, slack_emu):
    _escalate(esc_bot, slack_emu, "")
    form = _form(slack_emu)
    resp = _submit(esc_bot, slack_emu, form, _form_values(needs="", ref="zd:424242"))
    body = resp.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {EscalationBlocks.MODAL_NEEDS}
    resp = _submit(esc_bot, slack_emu, form, _form_values(ref="zd:424242"))
    assert resp.json()["errors"] == {
        EscalationBlocks.MODAL_REF: "zd:424242: there is no Zendesk ticket 424242"
    }
    resp = _submit(
        esc_bot, slack_emu, form, _form_values(ref="https://deskwatch-demo.zendesk.com/agent/tickets/102")
    )
    assert resp.json()["response_action"] == "update"
    wait_for(lambda: slack_emu.messages("C0T2"), what="handoff of the typed ticket")


def test_escalate_button_on_an_alert_and_the_message_shortcut_open_the_form(
    esc_bot, seeded, slack_emu, clock
):
    deps = esc_bot.deps
    scan(deps, clock())
    alert = next(a for a in deps.store.all_alerts() if str(a.ref) == "zd:101")
    message = next(m for m in slack_emu.messages(alert.channel) if m["ts"] == alert.ts)
    assert SlaActions.ESCALATE in repr(message["blocks"])
    block_action(
        esc_bot.events_url,
        secret=esc_bot.secret,
        user_id="U0MANAGER",
        channel_id=alert.channel,
        message_ts=alert.ts,
        action_id=SlaActions.ESCALATE.value,
        value=AlertButtonValue(alert_id=alert.id).encode(),
        response_url=slack_emu.response_url("btn"),
        trigger_id=slack_emu.issue_trigger_id(),
    )
    assert "zd:101" in repr(_form(slack_emu)["blocks"])

    message_shortcut(
        esc_bot.events_url,
        secret=esc_bot.secret,
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        message={"type": "message", "ts": "1700000000.000900", "text": "customer on ic:9002 is furious"},
        callback_id=Shortcuts.ESCALATE_TICKET.value,
        trigger_id=slack_emu.issue_trigger_id(),
        response_url=slack_emu.response_url("sc"),
    )
    wait_for(
        lambda: (
            sum(v.get("callback_id") == EscalationViews.FORM for v in slack_emu.views()) == 2
            and "ic:9002" in repr(slack_emu.views()[-1]["blocks"])
        ),
        what="the shortcut's form names the message's ticket",
    )


# -- acting ----------------------------------------------------------------------------------------------
def test_double_accept_gives_one_owner_and_tells_the_second(esc_bot, slack_emu, desk, clock):
    esc, _ = _open_handoff(esc_bot, slack_emu, desk.ref)
    _press(esc_bot, slack_emu, esc, EscalationActions.ACCEPT, "U0T2A")
    # Lazy listeners run concurrently: the first click is let through before the second (presses at the
    # very same moment are tested in tests/bot/services/test_escalation_service.py).
    wait_for(lambda: esc_bot.deps.escalations.get(esc.id).state.owner, what="first accept")
    second = _press(esc_bot, slack_emu, esc, EscalationActions.ACCEPT, "U0T2B")
    told = wait_for(lambda: [r for r in slack_emu.responses() if r["_name"] == second], what="second told")
    assert told[0]["response_type"] == "ephemeral" and "already accepted by <@U0T2A>" in told[0]["text"]
    stored = esc_bot.deps.escalations.get(esc.id)
    assert stored.state.owner == "U0T2A" and stored.state.status is Status.ACCEPTED
    wait_for(lambda: any("accepted" in m["text"] for m in _thread(slack_emu, esc)), what="told in the thread")
    message = next(m for m in slack_emu.messages(esc.channel) if m["ts"] == esc.message_ts)
    assert "Accepted by <@U0T2A>" in repr(message["blocks"])


def test_only_responders_and_managers_may_accept(esc_bot, slack_emu, clock):
    esc, _ = _open_handoff(esc_bot, slack_emu, "zd:101")
    name = _press(esc_bot, slack_emu, esc, EscalationActions.ACCEPT, "U0AGENT")
    told = wait_for(lambda: [r for r in slack_emu.responses() if r["_name"] == name], what="refusal")
    assert "only T2 responders or a manager" in told[0]["text"]
    assert esc_bot.deps.escalations.get(esc.id).state.owner is None
    _press(esc_bot, slack_emu, esc, EscalationActions.ACCEPT, "U0MANAGER")  # a team manager may
    wait_for(lambda: esc_bot.deps.escalations.get(esc.id).state.owner == "U0MANAGER", what="manager accepted")


def test_reassign_with_the_user_picker(esc_bot, slack_emu):
    esc, _ = _open_handoff(esc_bot, slack_emu, "zd:101")
    _press(
        esc_bot,
        slack_emu,
        esc,
        EscalationActions.REASSIGN,
        "U0T2A",
        value=None,
        action_type="users_select",
        selected_user="U0T2B",
        block_id=f"{EscalationBlocks.ACTIONS}_{esc.id}",
    )
    wait_for(lambda: esc_bot.deps.escalations.get(esc.id).state.owner == "U0T2B", what="reassigned")
    wait_for(lambda: any("reassigned" in m["text"] for m in _thread(slack_emu, esc)), what="told")


def test_need_info_pauses_the_clock_until_the_escalator_answers_in_the_thread(esc_bot, slack_emu, clock):
    deps = esc_bot.deps
    esc, _ = _open_handoff(esc_bot, slack_emu, "zd:101")
    clock.advance(minutes=5)
    _press(
        esc_bot, slack_emu, esc, EscalationActions.NEED_INFO, "U0T2A", trigger_id=slack_emu.issue_trigger_id()
    )
    prompt = wait_for(
        lambda: next(
            (v for v in slack_emu.views() if v.get("callback_id") == EscalationViews.NEED_INFO), None
        ),
        what="the question prompt",
    )
    values = {
        EscalationPromptIds.BLOCK: {
            EscalationPromptIds.INPUT: {"type": "plain_text_input", "value": "Which card?"}
        }
    }
    view_submission(esc_bot.events_url, secret=esc_bot.secret, user_id="U0T2A", view=prompt, values=values)
    wait_for(
        lambda: deps.escalations.get(esc.id).state.status is Status.WAITING_INFO, what="waiting for info"
    )
    dm = wait_for(lambda: slack_emu.messages(deps.directory.dm_channel("U0MANAGER")), what="the DM")
    assert "Which card?" in dm[0]["text"] and "thread" in dm[0]["text"]
    wait_for(
        lambda: any("Which card?" in repr(m) for m in _thread(slack_emu, esc)), what="asked in the thread"
    )

    clock.advance(hours=2)  # far past ack_within: paused, so no re-ping
    assert deps.escalations.run_timers(clock()) == 0

    event_callback(
        esc_bot.events_url,
        secret=esc_bot.secret,
        event={
            "type": "message",
            "channel": esc.channel,
            "user": "U0MANAGER",
            "text": "The Visa ending 1111",
            "ts": "1800000000.000100",
            "thread_ts": esc.message_ts,
        },
    )
    state = wait_for(
        lambda: (s := deps.escalations.get(esc.id).state).status is Status.OPEN and s, what="clock restarted"
    )
    assert state.ack_deadline == clock() + timedelta(minutes=10)  # 15m ack_within, 5m used before the pause
    clock.advance(minutes=10, seconds=1)
    assert deps.escalations.run_timers(clock()) == 1  # the 10 minutes left ran out: first re-ping


def test_escalate_further_opens_the_next_tier_with_the_reason(esc_bot, slack_emu, clock):
    deps = esc_bot.deps
    esc, _ = _open_handoff(esc_bot, slack_emu, "zd:101")
    _press(
        esc_bot,
        slack_emu,
        esc,
        EscalationActions.ESCALATE_FURTHER,
        "U0T2B",
        trigger_id=slack_emu.issue_trigger_id(),
    )
    prompt = wait_for(
        lambda: next((v for v in slack_emu.views() if v.get("callback_id") == EscalationViews.FURTHER), None),
        what="why prompt",
    )
    values = {
        EscalationPromptIds.BLOCK: {
            EscalationPromptIds.INPUT: {"type": "plain_text_input", "value": "Chargeback filed"}
        }
    }
    view_submission(esc_bot.events_url, secret=esc_bot.secret, user_id="U0T2B", view=prompt, values=values)
    successor = wait_for(
        lambda: deps.escalations.store.get_by_chain_tier(esc.state.chain, 2), what="next tier"
    )
    post = wait_for(lambda: slack_emu.messages("C0COMPLIANCE"), what="compliance handoff")[-1]
    assert "Chargeback filed" in repr(post["blocks"]) and "<@U0LEGAL>" in repr(post["blocks"])
    assert deps.escalations.get(esc.id).state.status is Status.ESCALATED
    assert successor.state.due_at is not None


def test_solved_upstream_closes_the_handoff_with_its_times(esc_bot, esc_desk, slack_emu, clock):
    zendesk, _ = esc_desk
    deps = esc_bot.deps
    sync_job(deps, clock())
    esc, _ = _open_handoff(esc_bot, slack_emu, "zd:101")
    clock.advance(minutes=4)
    _press(esc_bot, slack_emu, esc, EscalationActions.ACCEPT, "U0T2A")
    wait_for(lambda: deps.escalations.get(esc.id).state.owner, what="accepted")
    clock.advance(hours=3)
    zendesk.upsert_ticket(id=101, status="solved")
    sync_job(deps, clock())
    deps.outbox.drain(now=clock())
    state = deps.escalations.get(esc.id).state
    assert state.status is Status.RESOLVED
    message = next(m for m in slack_emu.messages(esc.channel) if m["ts"] == esc.message_ts)
    status = repr(message["blocks"])
    assert (
        "Resolved upstream" in status and "time to accept 4m" in status and "time to resolve 3h 4m" in status
    )


def test_info_added_button_restarts_the_clock_and_last_tier_cannot_go_further(esc_bot, slack_emu, clock):
    deps = esc_bot.deps
    esc, _ = _open_handoff(esc_bot, slack_emu, "zd:101", tier=2)
    deps.escalations.act(esc.id, RequestInfo(user="U0LEGAL", question="KYC file?", at=clock()))
    _press(
        esc_bot,
        slack_emu,
        esc,
        EscalationActions.INFO_ADDED,
        "U0MANAGER",
        trigger_id=slack_emu.issue_trigger_id(),
    )
    prompt = wait_for(
        lambda: next(
            (v for v in slack_emu.views() if v.get("callback_id") == EscalationViews.INFO_ADDED), None
        ),
        what="info prompt",
    )
    empty = {
        EscalationPromptIds.BLOCK: {EscalationPromptIds.INPUT: {"type": "plain_text_input", "value": " "}}
    }
    resp = view_submission(
        esc_bot.events_url, secret=esc_bot.secret, user_id="U0MANAGER", view=prompt, values=empty
    )
    assert resp.json()["response_action"] == "errors"
    values = {
        EscalationPromptIds.BLOCK: {
            EscalationPromptIds.INPUT: {"type": "plain_text_input", "value": "Uploaded"}
        }
    }
    view_submission(
        esc_bot.events_url, secret=esc_bot.secret, user_id="U0MANAGER", view=prompt, values=values
    )
    wait_for(lambda: deps.escalations.get(esc.id).state.status is Status.OPEN, what="info added")

    name = _press(
        esc_bot,
        slack_emu,
        esc,
        EscalationActions.ESCALATE_FURTHER,
        "U0LEGAL",
        trigger_id=slack_emu.issue_trigger_id(),
    )
    told = wait_for(lambda: [r for r in slack_emu.responses() if r["_name"] == name], what="refusal")
    assert "Compliance is the last tier" in told[0]["text"]
    assert not any(v.get("callback_id") == EscalationViews.FURTHER for v in slack_emu.views())
