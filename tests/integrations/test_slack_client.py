"""The Slack redaction boundary, driven through the real slack_sdk / Bolt clients against the emulator."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View

from bot.domain.redact import RedactionPolicy, redact
from bot.web import make_http_server
from integrations.slack_client import (
    RedactingRespond,
    RedactingWebClient,
    redacting_wsgi,
    redaction_middleware,
)
from tests.conftest import SIGNING_SECRET, SLACK_TOKEN
from tests.helpers.cards import card_leaks, request_card_leaks
from tests.helpers.slack_requests import slash_command
from tests.helpers.waiting import wait_for

# The issue's shapes: double spaces, tab, NBSP, line break, glued prefixes, dots, and a number in front.
CARD_TEXTS = [
    "4111  1111  1111  1111",
    "4111\t1111\t1111\t1111",
    "4111\u00a01111\u202f1111\u20071111",
    "4111\n1111\n1111\n1111",
    "4111\u200b1111\u200b1111\u200b1111",
    "+4111 1111 1111 1111",
    "card4111111111111111",
    "4111.1111.1111.1111",
    "Order 10005 5555 5555 5555 4444",
]
TEXT = "Customer wrote: " + " | ".join(CARD_TEXTS)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.fixture
def client(slack_emu) -> RedactingWebClient:
    return RedactingWebClient(token=SLACK_TOKEN, base_url=slack_emu.api_url)


def assert_clean(slack_emu, path: str) -> None:
    calls = slack_emu.calls(path)
    assert calls, f"no request to {path}"
    for call in calls:
        assert request_card_leaks(call) == [], call.body


def test_post_message_text_blocks_and_attachments_are_redacted(slack_emu, client) -> None:
    client.chat_postMessage(
        channel="C0ALERTS",
        text=TEXT,
        blocks=[section(TEXT), SectionBlock(text=f"*{CARD_TEXTS[2]}*")],
        attachments=[{"fallback": TEXT, "text": TEXT}],
    )
    assert_clean(slack_emu, "/api/chat.postMessage")
    posted = slack_emu.messages("C0ALERTS")[0]
    assert "[card •••• 1111]" in posted["text"] and "[card •••• 4444]" in posted["text"]
    assert "4111" not in json.dumps(posted["blocks"])


def test_update_and_ephemeral_keep_ts_and_ids_intact(slack_emu, client) -> None:
    ts = client.chat_postMessage(channel="C0ALERTS", text="first")["ts"]
    reply_ts = client.chat_postMessage(channel="C0ALERTS", text="reply", thread_ts=ts)["ts"]
    updated = client.chat_update(channel="C0ALERTS", ts=ts, text=TEXT, blocks=[section(TEXT)])
    client.chat_postEphemeral(channel="C0ALERTS", user="U0MANAGER", text=TEXT, thread_ts=reply_ts)
    history = client.conversations_replies(channel="C0ALERTS", ts=ts, oldest="1700000000.000000")

    assert redact(ts) != ts and redact(reply_ts) != reply_ts  # as text, these ts would be masked
    assert updated["ts"] == ts  # the emulator found the message by its ts
    assert [m["ts"] for m in history["messages"]] == [ts, reply_ts]
    update_body = slack_emu.calls("/api/chat.update")[0].json()
    assert update_body["ts"] == ts and update_body["channel"] == "C0ALERTS"
    assert slack_emu.calls("/api/conversations.replies")[0].form()["oldest"] == "1700000000.000000"
    assert slack_emu.ephemerals()[0]["thread_ts"] == reply_ts
    assert_clean(slack_emu, "/api/chat.update")
    assert_clean(slack_emu, "/api/chat.postEphemeral")


def test_views_open_push_update_publish_are_redacted(slack_emu, client) -> None:
    modal = View(type="modal", title="Ticket", callback_id="cb", blocks=[SectionBlock(text=TEXT)])
    opened = client.views_open(trigger_id=slack_emu.issue_trigger_id(), view=modal)["view"]
    client.views_push(trigger_id=slack_emu.issue_trigger_id(), view=modal)
    client.views_update(
        view_id=opened["id"],
        hash=opened["hash"],
        view={
            "type": "modal",
            "title": {"type": "plain_text", "text": "Ticket"},
            "private_metadata": '{"v":1,"alert_id":7}',
            "blocks": [section(TEXT)],
        },
    )
    client.views_publish(user_id="U0MANAGER", view={"type": "home", "blocks": [section(TEXT)]})

    for method in ("views.open", "views.push", "views.update", "views.publish"):
        assert_clean(slack_emu, f"/api/{method}")
    assert [v["private_metadata"] for v in slack_emu.views() if v["id"] == opened["id"]] == [
        '{"v":1,"alert_id":7}'
    ]


def test_unfurl_is_redacted_even_when_slack_refuses_it(slack_emu, client) -> None:
    with pytest.raises(SlackApiError):
        client.chat_unfurl(channel="C0ALERTS", ts="1700000000.000100", unfurls={"https://x": {"text": TEXT}})
    assert slack_emu.calls("/api/chat.unfurl")[0].json()["ts"] == "1700000000.000100"
    assert_clean(slack_emu, "/api/chat.unfurl")


def test_form_encoded_and_query_parameters_are_redacted(slack_emu, client) -> None:
    client.api_call(
        "chat.postMessage",
        data={"channel": "C0ALERTS", "text": TEXT, "blocks": json.dumps([section(TEXT)])},
    )
    client.api_call(
        "conversations.history",
        http_verb="GET",
        params={"channel": "C0ALERTS", "oldest": "1700000000.000100", "latest": "1799999999.999999"},
    )
    assert_clean(slack_emu, "/api/chat.postMessage")
    assert "[card •••• 1111]" in slack_emu.messages("C0ALERTS")[0]["text"]
    sent = slack_emu.calls("/api/conversations.history")[0].form()  # slack_sdk sends params as a form body
    assert sent["oldest"] == "1700000000.000100" and sent["latest"] == "1799999999.999999"


def test_retried_request_is_sent_redacted_again(slack_emu) -> None:
    no_wait = FixedValueRetryIntervalCalculator(0)
    retry = ServerErrorRetryHandler(max_retry_count=1, interval_calculator=no_wait)
    client = RedactingWebClient(token=SLACK_TOKEN, base_url=slack_emu.api_url, retry_handlers=[retry])
    slack_emu.fail_next("/api/chat.postMessage", status=500)

    client.chat_postMessage(channel="C0ALERTS", text=TEXT)

    assert len(slack_emu.calls("/api/chat.postMessage")) == 2
    assert_clean(slack_emu, "/api/chat.postMessage")


def test_redaction_policy_can_be_set_after_construction(slack_emu, client) -> None:
    client.redaction = RedactionPolicy(emails=True)
    client.chat_postMessage(channel="C0ALERTS", text="from jane@example.com")
    assert slack_emu.messages("C0ALERTS")[0]["text"] == "from [email]"


def test_respond_posts_redacted_message_to_response_url(slack_emu) -> None:
    respond = RedactingRespond(response_url=slack_emu.response_url("r"))
    assert respond(text=TEXT, blocks=[SectionBlock(text=TEXT)], response_type="ephemeral").status_code == 200
    assert respond({"text": TEXT, "blocks": [section(TEXT)], "replace_original": True}).status_code == 200

    bodies = [call.body for call in slack_emu.calls("/response/r")]
    assert len(bodies) == 2 and all(card_leaks(body) == [] for body in bodies)
    assert slack_emu.responses()[0]["response_type"] == "ephemeral"


# --- Bolt: listeners' client, say, respond and ack bodies ------------------------------------------------


@pytest.fixture
def bolt_url(slack_emu):
    policy = RedactionPolicy()
    app = App(
        client=RedactingWebClient(token=SLACK_TOKEN, base_url=slack_emu.api_url, redaction=policy),
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
    )
    app.use(redaction_middleware(policy))

    def ack_with_card(ack, command) -> None:
        ack(text=f"Looking up {command['text']}", response_type="ephemeral")

    def answer(command, client, say, respond) -> None:
        respond(text=command["text"], blocks=[section(command["text"])])
        say(text=command["text"])
        client.chat_postMessage(channel="C0BILLING", text=command["text"])

    app.command("/card")(ack=ack_with_card, lazy=[answer])
    server = make_http_server(redacting_wsgi(SlackRequestHandler(app), policy), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events"
    server.shutdown()
    server.server_close()


def test_bolt_listener_surfaces_are_redacted(slack_emu, bolt_url) -> None:
    response = slash_command(
        bolt_url,
        secret=SIGNING_SECRET,
        command="/card",
        text=TEXT,
        user_id="U0MANAGER",
        channel_id="C0ALERTS",
        response_url=slack_emu.response_url("cmd"),
    )

    assert response.status_code == 200 and card_leaks(response.content) == []
    assert "[card •••• 1111]" in response.json()["text"]
    assert int(response.headers["Content-Length"]) == len(response.content)
    wait_for(lambda: len(slack_emu.calls("/api/chat.postMessage")) == 2, what="say and client posts")
    wait_for(lambda: slack_emu.calls("/response/cmd"), what="respond")
    assert_clean(slack_emu, "/api/chat.postMessage")
    assert_clean(slack_emu, "/response/cmd")


def test_card_leaks_sees_through_form_json_and_escape_encodings() -> None:
    card = "4111\u00a01111 1111 1111"
    assert card_leaks(urlencode({"text": card})) == ["4111111111111111"]
    assert card_leaks(json.dumps({"blocks": json.dumps([section(card)])})) == ["4111111111111111"]
    assert card_leaks(repr({"text": card})) == ["4111111111111111"]
    assert card_leaks("ok [card •••• 1111]") == []


# --- redacting_wsgi -------------------------------------------------------------------------------------


def fake_app(body: bytes, content_type: str):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    return app


def call_wsgi(app, path: str = "/slack/events") -> tuple[str, dict[str, str], bytes]:
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "POST"}, start_response))
    return seen["status"], seen["headers"], body


def test_redacting_wsgi_redacts_json_bodies_and_keeps_ids() -> None:
    view = {"type": "modal", "private_metadata": "4111111111111111", "blocks": [section(TEXT)]}
    payload = {"response_action": "update", "view": view, "ts": "1700000000.000100"}
    app = fake_app(json.dumps(payload).encode(), "application/json;charset=utf-8")
    wrapped = redacting_wsgi(app, RedactionPolicy())

    status, headers, body = call_wsgi(wrapped)

    sent = json.loads(body)
    assert status == "200 OK" and headers["Content-Length"] == str(len(body))
    assert sent["ts"] == "1700000000.000100" and sent["view"]["private_metadata"] == "4111111111111111"
    assert "4111" not in json.dumps(sent["view"]["blocks"])


def test_redacting_wsgi_redacts_text_bodies_and_ignores_other_paths() -> None:
    app = fake_app("ack 4111\u00a01111\u00a01111\u00a01111".encode(), "text/plain;charset=utf-8")
    wrapped = redacting_wsgi(app, RedactionPolicy())

    assert call_wsgi(wrapped)[2] == "ack [card •••• 1111]".encode()
    assert call_wsgi(wrapped, "/healthz")[2] == "ack 4111\u00a01111\u00a01111\u00a01111".encode()
