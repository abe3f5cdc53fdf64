"""`deskwatch serve --socket-mode`: the real Bolt app over the Slack emulator's Socket Mode WebSocket
(apps.connections.open with the app-level token, hello, envelopes, acks, disconnect), no HTTP endpoint.
/sla, Acknowledge and the escalation flow are driven with the same payloads the HTTP tests post."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from slack_sdk.errors import SlackApiError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.blocks.ids import EscalationBlocks, EscalationModalActions, EscalationViews, SlaActions
from bot.blocks.metadata import AlertButtonValue
from bot.config import ConfigError
from jobs.sla import scan
from tests.conftest import SLACK_TOKEN
from tests.helpers.socket_mode import (
    APP_TOKEN,
    send_block_action,
    send_event,
    send_slash_command,
    send_view_submission,
    socket_bot,
    socket_settings,
)
from tests.helpers.waiting import wait_for
from tests.scenarios.escalation_fixtures import escalation_config

CARD = "4111 1111 1111 1111"


def _sla(slack_emu, name: str, channel: str = "C0BILLING") -> tuple[Any, dict[str, Any]]:
    envelope = send_slash_command(
        slack_emu,
        command="/sla",
        text="",
        user_id="U0NOBODY",
        channel_id=channel,
        response_url=slack_emu.response_url(name),
    )
    ack = slack_emu.socket.wait_ack(envelope)
    response = wait_for(
        lambda: [r for r in slack_emu.responses() if r["_name"] == name], what="/sla response"
    )
    return ack, response[0]


def _all_text(response: dict) -> str:
    return response["text"] + repr(response.get("blocks"))


@pytest.fixture
def sla_deps(seeded, make_deps, demo_config, clock):
    deps = make_deps(demo_config)
    scan(deps, clock())
    return deps


def test_sla_over_the_socket_acks_at_once_and_lists_the_teams_tickets(sla_deps, slack_emu):
    with socket_bot(sla_deps, slack_emu):
        ack, response = _sla(slack_emu, "sla")

    opened = slack_emu.calls("/api/apps.connections.open")
    assert len(opened) == 1 and opened[0].header("Authorization") == f"Bearer {APP_TOKEN}"
    assert ack.type == "slash_commands" and ack.payload is None and ack.retry_attempt == 0
    assert not ack.late  # acked before the lazy listener's work, within Slack's 3 s
    assert response["response_type"] == "ephemeral"
    text = _all_text(response)
    for ref in ("zd:101", "zd:102", "ic:9001"):
        assert ref in text
    for ref in ("zd:103", "ic:9002", "zd:108", "zd:104"):
        assert ref not in text
    assert text.index("zd:101") < text.index("zd:102")
    assert CARD not in text


def test_acknowledge_over_the_socket_updates_the_alert(sla_deps, slack_emu, clock):
    deps = sla_deps
    alert = next(a for a in deps.store.all_alerts() if str(a.ref) == "zd:101")
    clock.advance(minutes=3)
    with socket_bot(deps, slack_emu):
        envelope = send_block_action(
            slack_emu,
            user_id="U0MANAGER",
            channel_id=alert.channel,
            message_ts=alert.ts,
            action_id=SlaActions.ACKNOWLEDGE.value,
            value=AlertButtonValue(alert_id=alert.id).encode(),
            response_url=slack_emu.response_url("ack"),
        )
        ack = slack_emu.socket.wait_ack(envelope)
        message = wait_for(
            lambda: next((m for m in slack_emu.messages() if m["ts"] == alert.ts and m.get("edited")), None),
            what="chat.update of the alert",
        )

    assert ack.type == "interactive" and ack.payload is None
    stored = deps.store.get_alert(alert.id)
    assert stored.acked_by == "U0MANAGER" and stored.acked_at == clock()
    assert "<@U0MANAGER>" in repr(message["blocks"])
    assert len(slack_emu.calls("/api/chat.update")) == 1


def _form_values(needs: str) -> dict[str, Any]:
    def select(value: str) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"value": value}}

    def typed(value: str) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    return {
        EscalationBlocks.MODAL_TIER: {EscalationModalActions.TIER: select("2")},
        EscalationBlocks.MODAL_REASON: {EscalationModalActions.REASON: select("billing_dispute")},
        EscalationBlocks.MODAL_NEEDS: {EscalationModalActions.NEEDS: typed(needs)},
        EscalationBlocks.MODAL_TRIED: {EscalationModalActions.TRIED: typed("Checked the ledger")},
        EscalationBlocks.MODAL_URGENCY: {EscalationModalActions.URGENCY: select("high")},
    }


@pytest.fixture
def esc_deps(esc_desk, make_deps):
    return make_deps(escalation_config())


def test_escalation_flow_over_the_socket_with_a_reconnect_in_the_middle(esc_deps, slack_emu):
    with socket_bot(esc_deps, slack_emu):
        trigger = slack_emu.issue_trigger_id()
        command = send_slash_command(
            slack_emu,
            command="/escalate",
            text="zd:101",
            user_id="U0MANAGER",
            channel_id="C0BILLING",
            response_url=slack_emu.response_url("esc"),
            trigger_id=trigger,
        )
        assert slack_emu.socket.wait_ack(command).payload is None
        form = wait_for(
            lambda: next(
                (v for v in slack_emu.views() if v.get("callback_id") == EscalationViews.FORM), None
            ),
            what="the escalation form (views.open with the trigger_id, then views.update)",
        )
        opened = slack_emu.calls("/api/views.open")
        assert len(opened) == 1 and opened[0].json()["trigger_id"] == trigger

        slack_emu.socket.request_reconnect()  # Slack refreshes the connection mid-flow
        slack_emu.socket.wait_connections(2, open_=1)

        submit = send_view_submission(
            slack_emu,
            user_id="U0MANAGER",
            view=form,
            values=_form_values(f"Refund the double charge on {CARD}"),
            view_id=form["id"],
        )
        ack = slack_emu.socket.wait_ack(submit)
        post = wait_for(lambda: slack_emu.messages("C0COMPLIANCE"), what="handoff posted")[-1]

    assert ack.connection == 2  # delivered over the new connection
    assert ack.payload is None or "errors" not in ack.payload
    assert len(slack_emu.calls("/api/apps.connections.open")) == 2
    blocks = repr(post["blocks"])
    assert "<@U0LEGAL>" in blocks and "Refund the double charge" in blocks
    assert CARD not in repr(post)
    assert esc_deps.escalations.by_thread("C0COMPLIANCE", post["ts"]) is not None


def test_the_next_command_works_after_a_server_requested_reconnect(sla_deps, slack_emu):
    with socket_bot(sla_deps, slack_emu):
        first, _ = _sla(slack_emu, "before")
        slack_emu.socket.request_reconnect("refresh_requested")
        slack_emu.socket.wait_connections(2, open_=1)
        second, response = _sla(slack_emu, "after")

    assert (first.connection, second.connection) == (1, 2)
    assert slack_emu.socket.connections == 2
    assert "zd:101" in _all_text(response)


def test_an_ack_payload_is_redacted_like_an_http_ack_body(esc_deps, slack_emu):
    with socket_bot(esc_deps, slack_emu):
        envelope = send_slash_command(
            slack_emu,
            command="/escalate",
            text=CARD,
            user_id="U0MANAGER",
            channel_id="C0BILLING",
            response_url=slack_emu.response_url("bad-ref"),
        )
        ack = slack_emu.socket.wait_ack(envelope)

    shown = json.dumps(ack.payload)
    assert "is not a ticket reference" in ack.payload["text"]
    assert CARD not in shown and "4111111111111111" not in shown and "1111" in shown
    assert slack_emu.calls("/api/views.open") == []


def test_an_event_over_the_socket_is_acked_and_its_lazy_listener_runs(sla_deps, slack_emu):
    alert = slack_emu.messages("C0BILLING")[0]  # mentioned in the thread of a posted alert
    mention = {"type": "app_mention", "channel": "C0BILLING", "user": "U0MANAGER", "text": "<@U0DESKBOT> hi"}
    with socket_bot(sla_deps, slack_emu):
        envelope = send_event(
            slack_emu, event={**mention, "ts": "1795446999.000100", "thread_ts": alert["ts"]}
        )
        ack = slack_emu.socket.wait_ack(envelope)
        wait_for(
            lambda: [m for m in slack_emu.messages("C0BILLING") if m.get("thread_ts") == alert["ts"]],
            what="the reply to the mention, in the thread",
        )

    assert ack.type == "events_api" and ack.retry_attempt == 0 and not ack.late
    assert slack_emu.socket.envelope(envelope)["timed_out"] == 0


# -- what the emulator enforces ------------------------------------------------------------------
def _open(slack_emu, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{slack_emu.api_url}apps.connections.open", headers=headers, timeout=5).json()


def test_apps_connections_open_takes_only_the_app_level_token(slack_emu):
    assert _open(slack_emu, SLACK_TOKEN) == {"ok": False, "error": "not_allowed_token_type"}
    assert _open(slack_emu, "xapp-1-wrong")["error"] == "invalid_auth"
    assert _open(slack_emu, None)["error"] == "not_authed"
    opened = _open(slack_emu, slack_emu.socket.app_token)
    assert opened["ok"] and opened["url"].startswith("ws://127.0.0.1:") and "/link/?ticket=" in opened["url"]


def test_a_ticket_opens_one_connection_and_the_server_says_hello(slack_emu):
    url = _open(slack_emu, slack_emu.socket.app_token)["url"]
    with connect(url) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": slack_emu.app_id}
        assert hello["num_connections"] == 1 and "debug_info" in hello
        with pytest.raises(InvalidStatus) as refused:
            connect(url)
        assert refused.value.response.status_code == 401


def test_an_unacked_event_is_delivered_again_with_the_retry_attempt(slack_emu):
    slack_emu.socket.ack_timeout = 0.2
    url = _open(slack_emu, slack_emu.socket.app_token)["url"]
    with connect(url) as ws:
        json.loads(ws.recv(timeout=5))  # hello
        envelope_id = slack_emu.socket.event({"type": "event_callback", "event": {"type": "app_mention"}})
        first = json.loads(ws.recv(timeout=5))
        retry = json.loads(ws.recv(timeout=5))
        assert (first["envelope_id"], first["retry_attempt"]) == (envelope_id, 0)
        assert (retry["retry_attempt"], retry["retry_reason"]) == (1, "timeout")
        assert retry["accepts_response_payload"] is False
        ws.send(json.dumps({"envelope_id": envelope_id}))
        ack = slack_emu.socket.wait_ack(envelope_id)
    assert ack.late and ack.retry_attempt == 1


def test_socket_mode_needs_an_app_level_token(settings, slack_emu):
    from slack_bolt import App

    from bot.socket_mode import start_socket_mode

    app = App(token=SLACK_TOKEN, signing_secret="s", token_verification_enabled=False)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        start_socket_mode(app, settings)
    with pytest.raises(ConfigError, match="app-level token"):
        start_socket_mode(app, socket_settings(settings, SLACK_TOKEN))
    with pytest.raises(SlackApiError, match="invalid_auth"):
        start_socket_mode(app, socket_settings(settings, "xapp-1-not-this-app"))
