"""Acknowledge and Open-ticket buttons through signed block_actions requests."""

from __future__ import annotations

from bot.blocks.ids import SlaActions
from bot.blocks.metadata import AlertButtonValue
from jobs.sla import scan
from tests.helpers.slack_requests import block_action
from tests.helpers.waiting import wait_for


def _first_alert(deps, ref: str):
    return next(a for a in deps.store.all_alerts() if str(a.ref) == ref)


def test_acknowledge_records_who_and_when_and_updates_the_same_message(seeded, running_bot, slack_emu, clock):
    deps = running_bot.deps
    scan(deps, clock())
    alert = _first_alert(deps, "zd:101")
    clock.advance(minutes=3)

    resp = block_action(
        running_bot.events_url,
        secret=running_bot.secret,
        user_id="U0MANAGER",
        channel_id=alert.channel,
        message_ts=alert.ts,
        action_id=SlaActions.ACKNOWLEDGE.value,
        value=AlertButtonValue(alert_id=alert.id).encode(),
        response_url=slack_emu.response_url("ack"),
    )

    assert resp.status_code == 200
    message = wait_for(
        lambda: next((m for m in slack_emu.messages() if m["ts"] == alert.ts and m.get("edited")), None),
        what="chat.update of the alert",
    )
    stored = deps.store.get_alert(alert.id)
    assert stored.acked_by == "U0MANAGER" and stored.acked_at == clock()
    rendered = repr(message["blocks"])
    assert "<@U0MANAGER>" in rendered
    action_ids = {
        e.get("action_id") for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    }
    assert action_ids == {SlaActions.OPEN_TICKET.value}  # the Acknowledge button is gone once acknowledged
    assert len(slack_emu.messages()) == len(deps.store.all_alerts())  # updated in place, nothing new posted


def test_second_acknowledge_keeps_the_first(seeded, running_bot, slack_emu, clock):
    deps = running_bot.deps
    scan(deps, clock())
    alert = _first_alert(deps, "ic:9001")
    for user in ("U0MANAGER", "U0PAYLEAD"):
        block_action(
            running_bot.events_url,
            secret=running_bot.secret,
            user_id=user,
            channel_id=alert.channel,
            message_ts=alert.ts,
            action_id=SlaActions.ACKNOWLEDGE.value,
            value=AlertButtonValue(alert_id=alert.id).encode(),
            response_url=slack_emu.response_url(f"ack-{user}"),
        )
        wait_for(lambda: deps.store.get_alert(alert.id).acked_by, what="ack recorded")

    told = wait_for(
        lambda: [r for r in slack_emu.responses() if r["_name"] == "ack-U0PAYLEAD"],
        what="second clicker told",
    )[0]
    assert told["response_type"] == "ephemeral"
    assert "already acknowledged by <@U0MANAGER> at 15:00 UTC" in told["text"]
    wait_for(lambda: slack_emu.calls("/api/chat.update"), what="the first click's update")
    assert len(slack_emu.calls("/api/chat.update")) == 1  # the message was updated once
    assert deps.store.get_alert(alert.id).acked_by == "U0MANAGER"


def test_acknowledge_with_a_forged_button_value_answers_clearly(seeded, running_bot, slack_emu, clock):
    resp = block_action(
        running_bot.events_url,
        secret=running_bot.secret,
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        message_ts="1.000001",
        action_id=SlaActions.ACKNOWLEDGE.value,
        value="not-json",
        response_url=slack_emu.response_url("bad"),
    )

    assert resp.status_code == 200  # acked at once; the lazy listener reports the problem
    response = wait_for(
        lambda: [r for r in slack_emu.responses() if r["_name"] == "bad"], what="error reply"
    )[0]
    assert response["response_type"] == "ephemeral" and ":warning:" in response["text"]
    assert slack_emu.calls("/api/chat.update") == []


def test_open_ticket_click_is_acknowledged(running_bot, slack_emu):
    resp = block_action(
        running_bot.events_url,
        secret=running_bot.secret,
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        message_ts="1.000001",
        action_id=SlaActions.OPEN_TICKET.value,
        value=None,
        response_url=slack_emu.response_url("open"),
    )

    assert resp.status_code == 200
