"""The Slack emulator through the real `slack_sdk.WebClient`: every strictness rule has a test here."""

from __future__ import annotations

import base64
import http.client
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from integrations.emulators.slack import SlackEmulator

CHANNEL = "C0ALERTS"
OTHER_CHANNEL = "C0OTHER"
AGENT = "U0AGENT"


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=(CHANNEL, OTHER_CHANNEL), users=(AGENT,), clock=clock) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=emu.token, base_url=emu.api_url)


def slack_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> dict[str, Any]:
    response = excinfo.value.response
    assert response.status_code == 200
    return dict(response.data)


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str, *, text: str = "Ack", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, **extra}


def modal(**overrides: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "snooze",
        "title": {"type": "plain_text", "text": "Snooze alert"},
        "blocks": [section("Pick a time")],
    }
    view.update(overrides)
    return view


# -- auth -------------------------------------------------------------------------------------------
def test_auth_test_returns_bot_identity(client: WebClient) -> None:
    response = client.auth_test()

    assert response["team_id"] == "T0DESKWATCH"
    assert response["user_id"] == "U0DESKBOT"
    assert response["bot_id"] == "B0DESKBOT"


def test_call_without_token_is_not_authed(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        WebClient(base_url=emu.api_url).chat_postMessage(channel=CHANNEL, text="hi")

    assert slack_error(excinfo)["error"] == "not_authed"
    assert emu.messages() == []


def test_call_with_wrong_token_is_invalid_auth(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        WebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test()

    assert slack_error(excinfo)["error"] == "invalid_auth"


def test_token_form_parameter_is_accepted(emu: SlackEmulator) -> None:
    response = requests.post(
        emu.api_url + "chat.postMessage",
        data={
            "token": emu.token,
            "channel": CHANNEL,
            "text": "form post",
            "blocks": json.dumps([section("x")]),
        },
        timeout=5,
    )

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert emu.messages()[0]["blocks"] == [section("x")]


def test_token_inside_json_body_is_ignored_like_slack(emu: SlackEmulator) -> None:
    response = requests.post(
        emu.api_url + "chat.postMessage",
        json={"token": emu.token, "channel": CHANNEL, "text": "x"},
        timeout=5,
    )

    assert response.json() == {"ok": False, "error": "not_authed"}


def test_get_with_query_parameters_is_accepted(emu: SlackEmulator) -> None:
    response = requests.get(
        emu.api_url + "conversations.info", params={"token": emu.token, "channel": CHANNEL}, timeout=5
    )

    assert response.json()["channel"]["id"] == CHANNEL


def test_unknown_method_answers_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.teleport", json={"channel": CHANNEL})

    assert slack_error(excinfo)["error"] == "unknown_method"


# -- chat.postMessage -------------------------------------------------------------------------------
def test_post_message_to_unknown_channel_is_channel_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C0NOPE", text="hi")

    assert slack_error(excinfo)["error"] == "channel_not_found"


def test_post_message_without_text_or_blocks_is_no_text(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo, pytest.warns(UserWarning):
        client.chat_postMessage(channel=CHANNEL)

    assert slack_error(excinfo)["error"] == "no_text"


def test_post_message_with_blocks_but_no_text_warns(client: WebClient) -> None:
    with pytest.warns(UserWarning):
        response = client.chat_postMessage(channel=CHANNEL, blocks=[section("only blocks")])

    assert response["warning"] == "missing_text_in_blocks"
    assert response["response_metadata"]["warnings"] == ["missing_text_in_blocks"]


def test_post_message_with_text_has_no_warning(client: WebClient) -> None:
    response = client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=[section("x")])

    assert "warning" not in response.data


def test_post_message_over_40000_chars_is_msg_too_long(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="x" * 40_001)

    assert slack_error(excinfo)["error"] == "msg_too_long"


def test_post_message_records_message_with_ts_format(emu: SlackEmulator, client: WebClient) -> None:
    response = client.chat_postMessage(
        channel=CHANNEL,
        text="Ticket #42 breaches in 10 min",
        blocks=[section("Ticket *#42*")],
        metadata={"event_type": "sla_alert", "event_payload": {"ticket": "zendesk:42"}},
    )

    assert re.fullmatch(r"\d{10}\.\d{6}", response["ts"])
    assert response["channel"] == CHANNEL
    assert response["message"]["metadata"]["event_type"] == "sla_alert"
    assert emu.messages() == [
        {
            "channel": CHANNEL,
            "ts": response["ts"],
            "text": "Ticket #42 breaches in 10 min",
            "blocks": [section("Ticket *#42*")],
            "thread_ts": None,
            "reply_broadcast": False,
            "metadata": {"event_type": "sla_alert", "event_payload": {"ticket": "zendesk:42"}},
            "edited": False,
            "user": "U0DESKBOT",
        }
    ]


def test_ts_values_are_unique_and_strictly_increasing(emu: SlackEmulator, client: WebClient) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: client.chat_postMessage(channel=CHANNEL, text=f"m{i}"), range(24)))
    client.chat_postEphemeral(channel=CHANNEL, user=AGENT, text="only you")

    stamps = [m["ts"] for m in emu.messages()] + [emu.ephemerals()[0]["ts"]]
    as_numbers = [tuple(int(p) for p in ts.split(".")) for ts in stamps]
    assert len(set(stamps)) == 25
    assert as_numbers == sorted(as_numbers)
    assert float(stamps[0]) > 1_700_000_000  # posting time in epoch seconds, as Slack does


def test_ts_follows_the_injected_wall_clock() -> None:
    with SlackEmulator(channels=[CHANNEL], wall_clock=lambda: 1_800_000_000.5) as emu:
        client = WebClient(token=emu.token, base_url=emu.api_url)
        first = client.chat_postMessage(channel=CHANNEL, text="a")["ts"]
        second = client.chat_postMessage(channel=CHANNEL, text="b")["ts"]

    assert first == "1800000000.500000" and second == "1800000000.500100"


def test_thread_reply_to_missing_parent_is_thread_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts="1600000000.000100")

    assert slack_error(excinfo)["error"] == "thread_not_found"


def test_thread_parent_in_other_channel_is_thread_not_found(client: WebClient) -> None:
    parent = client.chat_postMessage(channel=OTHER_CHANNEL, text="parent")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])

    assert slack_error(excinfo)["error"] == "thread_not_found"


def test_thread_reply_is_listed_by_replies_not_history(emu: SlackEmulator, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")
    reply = client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])
    broadcast = client.chat_postMessage(
        channel=CHANNEL, text="escalated", thread_ts=parent["ts"], reply_broadcast=True
    )

    replies = client.conversations_replies(channel=CHANNEL, ts=parent["ts"])
    history = client.conversations_history(channel=CHANNEL)

    assert [m["ts"] for m in replies["messages"]] == [parent["ts"], reply["ts"], broadcast["ts"]]
    assert replies["messages"][0]["reply_count"] == 2
    assert [m["ts"] for m in history["messages"]] == [broadcast["ts"], parent["ts"]]
    assert history["messages"][0]["subtype"] == "thread_broadcast"
    assert emu.messages()[2]["reply_broadcast"] is True


def test_replies_of_unknown_ts_is_thread_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_replies(channel=CHANNEL, ts="1600000000.000100")

    assert slack_error(excinfo)["error"] == "thread_not_found"


# -- Block Kit through the API ------------------------------------------------------------------------
INVALID_BLOCKS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "section_text_3001": ([section("x" * 3001)], "/blocks/0/text/text"),
    "too_many_blocks": ([{"type": "divider"}] * 51, "/blocks"),
    "eleven_fields": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "/blocks/0/fields",
    ),
    "field_2001": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "/blocks/0/fields/0/text",
    ),
    "header_151": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "/blocks/0/text/text",
    ),
    "header_mrkdwn": ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
    "context_11": (
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "/blocks/0/elements",
    ),
    "actions_26": (
        [{"type": "actions", "elements": [button(f"a{i}") for i in range(26)]}],
        "/blocks/0/elements",
    ),
    "button_text_76": (
        [{"type": "actions", "elements": [button("a", text="b" * 76)]}],
        "/blocks/0/elements/0/text/text",
    ),
    "button_value_2001": (
        [{"type": "actions", "elements": [button("a", value="v" * 2001)]}],
        "/blocks/0/elements/0/value",
    ),
    "button_url_3001": (
        [{"type": "actions", "elements": [button("a", url="https://x/" + "u" * 2992)]}],
        "/blocks/0/elements/0/url",
    ),
    "action_id_256": (
        [{"type": "actions", "elements": [button("a" * 256)]}],
        "/blocks/0/elements/0/action_id",
    ),
    "duplicate_action_id": (
        [{"type": "actions", "elements": [button("ack")]}, section("s", accessory=button("ack"))],
        "/blocks/1/accessory/action_id",
    ),
    "block_id_256": ([{"type": "divider", "block_id": "b" * 256}], "/blocks/0/block_id"),
    "duplicate_block_id": (
        [{"type": "divider", "block_id": "d"}, {"type": "divider", "block_id": "d"}],
        "/blocks/1/block_id",
    ),
    "unknown_block_type": ([{"type": "carousel"}], "/blocks/0/type"),
    "unknown_element_type": (
        [{"type": "actions", "elements": [{"type": "slider"}]}],
        "/blocks/0/elements/0/type",
    ),
    "bad_text_type": (
        [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
        "/blocks/0/text/type",
    ),
    "empty_text": ([section("")], "/blocks/0/text/text"),
    "input_without_element": (
        [{"type": "input", "label": {"type": "plain_text", "text": "Reason"}}],
        "/blocks/0",
    ),
    "input_label_2001": (
        [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "l" * 2001},
                "element": {"type": "plain_text_input", "action_id": "reason"},
            }
        ],
        "/blocks/0/label/text",
    ),
    "misspelt_property": ([{"type": "section", "txt": {"type": "mrkdwn", "text": "x"}}], "/blocks/0"),
}


@pytest.mark.parametrize("case", sorted(INVALID_BLOCKS))
def test_post_message_with_invalid_blocks_is_invalid_blocks(client: WebClient, case: str) -> None:
    blocks, pointer = INVALID_BLOCKS[case]

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=blocks)

    body = slack_error(excinfo)
    assert body["error"] == "invalid_blocks"
    assert any(error.endswith(f"[json-pointer:{pointer}]") for error in body["errors"]), body["errors"]
    assert body["response_metadata"]["messages"][0].startswith("[ERROR] ")


def test_post_message_with_blocks_at_every_limit_is_accepted(emu: SlackEmulator, client: WebClient) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("s" * 3000, block_id="b" * 255),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {
            "type": "actions",
            "elements": [button(f"a{i}", text="t" * 75, value="v" * 2000) for i in range(24)]
            + [button("z" * 255, url="https://x/" + "u" * 2990)],
        },
    ]
    blocks += [{"type": "divider"}] * (50 - len(blocks))

    client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=blocks)

    assert len(emu.messages()[0]["blocks"]) == 50


def test_blocks_that_are_not_json_are_invalid_blocks_format(emu: SlackEmulator) -> None:
    response = requests.post(
        emu.api_url + "chat.postMessage",
        data={"token": emu.token, "channel": CHANNEL, "text": "x", "blocks": "[{not json"},
        timeout=5,
    )

    assert response.json() == {"ok": False, "error": "invalid_blocks_format"}


# -- metadata -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "metadata",
    [
        {"event_payload": {"ticket": "zendesk:42"}},
        {"event_type": "", "event_payload": {}},
        {"event_type": "sla_alert", "event_payload": ["not", "an", "object"]},
    ],
)
def test_post_message_with_bad_metadata_is_invalid_metadata_format(
    client: WebClient, metadata: dict[str, Any]
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="x", metadata=metadata)

    assert slack_error(excinfo)["error"] == "invalid_metadata_format"


def test_metadata_that_is_not_json_is_invalid_metadata_format(emu: SlackEmulator) -> None:
    response = requests.post(
        emu.api_url + "chat.postMessage",
        data={"token": emu.token, "channel": CHANNEL, "text": "x", "metadata": "{event_type"},
        timeout=5,
    )

    assert response.json()["error"] == "invalid_metadata_format"


# -- chat.update / delete / ephemeral / permalink --------------------------------------------------
def test_update_changes_current_message_state(emu: SlackEmulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="breach in 10 min", blocks=[section("10 min")])

    updated = client.chat_update(
        channel=CHANNEL,
        ts=posted["ts"],
        text="acknowledged",
        metadata={"event_type": "sla_alert", "event_payload": {"state": "acked"}},
    )

    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "acknowledged"
    [message] = emu.messages()
    assert message["text"] == "acknowledged"
    assert message["blocks"] == [section("10 min")]  # blocks not sent: kept, as Slack does
    assert message["edited"] is True
    assert message["metadata"]["event_payload"] == {"state": "acked"}


def test_update_with_empty_blocks_removes_blocks(emu: SlackEmulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section("x")])

    client.chat_update(channel=CHANNEL, ts=posted["ts"], text="t2", blocks=[])

    assert emu.messages()[0]["blocks"] is None


def test_update_of_unknown_ts_is_message_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=CHANNEL, ts="1600000000.000100", text="x")

    assert slack_error(excinfo)["error"] == "message_not_found"


def test_update_with_invalid_blocks_leaves_message_unchanged(emu: SlackEmulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="t")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=CHANNEL, ts=posted["ts"], text="t2", blocks=[section("x" * 3001)])

    assert slack_error(excinfo)["error"] == "invalid_blocks"
    assert emu.messages()[0]["text"] == "t"
    assert emu.messages()[0]["edited"] is False


def test_delete_removes_message(emu: SlackEmulator, client: WebClient) -> None:
    kept = client.chat_postMessage(channel=CHANNEL, text="keep")
    gone = client.chat_postMessage(channel=CHANNEL, text="delete me")

    response = client.chat_delete(channel=CHANNEL, ts=gone["ts"])

    assert response["ts"] == gone["ts"]
    assert [m["ts"] for m in emu.messages()] == [kept["ts"]]


def test_delete_of_unknown_ts_is_message_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_delete(channel=CHANNEL, ts="1600000000.000100")

    assert slack_error(excinfo)["error"] == "message_not_found"


def test_post_ephemeral_is_recorded_apart_from_messages(emu: SlackEmulator, client: WebClient) -> None:
    response = client.chat_postEphemeral(channel=CHANNEL, user=AGENT, text="You snoozed #42")

    assert emu.messages() == []
    assert emu.ephemerals(CHANNEL) == [
        {
            "channel": CHANNEL,
            "user": AGENT,
            "ts": response["message_ts"],
            "text": "You snoozed #42",
            "blocks": None,
            "thread_ts": None,
        }
    ]


def test_post_ephemeral_to_unknown_user_is_user_not_in_channel(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postEphemeral(channel=CHANNEL, user="U0STRANGER", text="x")

    assert slack_error(excinfo)["error"] == "user_not_in_channel"


def test_get_permalink_points_at_message(client: WebClient) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="x")

    response = client.chat_getPermalink(channel=CHANNEL, message_ts=posted["ts"])

    assert response["permalink"].endswith(f"/archives/{CHANNEL}/p{posted['ts'].replace('.', '')}")


def test_get_permalink_of_unknown_ts_is_message_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_getPermalink(channel=CHANNEL, message_ts="1600000000.000100")

    assert slack_error(excinfo)["error"] == "message_not_found"


# -- conversations / users ------------------------------------------------------------------------
def test_conversations_info_returns_channel(emu: SlackEmulator, client: WebClient) -> None:
    emu.add_channel("C0ESCALATE", "sla-escalations")

    channel = client.conversations_info(channel="C0ESCALATE")["channel"]

    assert channel["id"] == "C0ESCALATE"
    assert channel["name"] == "sla-escalations"
    assert channel["is_member"] is True


def test_conversations_info_of_unknown_channel_is_channel_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_info(channel="C0NOPE")

    assert slack_error(excinfo)["error"] == "channel_not_found"


def test_history_returns_metadata_only_when_asked(client: WebClient) -> None:
    metadata = {"event_type": "sla_alert", "event_payload": {"ticket": "intercom:7"}}
    client.chat_postMessage(channel=CHANNEL, text="alert", metadata=metadata)

    with_metadata = client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    without = client.conversations_history(channel=CHANNEL)

    assert with_metadata["messages"][0]["metadata"] == metadata
    assert "metadata" not in without["messages"][0]


def test_history_is_newest_first_and_filters_by_oldest_and_latest(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=CHANNEL, text=f"m{i}")["ts"] for i in range(4)]
    client.chat_postMessage(channel=OTHER_CHANNEL, text="elsewhere")

    everything = client.conversations_history(channel=CHANNEL)
    window = client.conversations_history(channel=CHANNEL, oldest=stamps[0], latest=stamps[3])
    inclusive = client.conversations_history(
        channel=CHANNEL, oldest=stamps[0], latest=stamps[3], inclusive=True
    )

    assert [m["ts"] for m in everything["messages"]] == stamps[::-1]
    assert [m["ts"] for m in window["messages"]] == [stamps[2], stamps[1]]
    assert [m["ts"] for m in inclusive["messages"]] == stamps[::-1]


def test_history_paginates_with_cursor(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=CHANNEL, text=f"m{i}")["ts"] for i in range(5)]

    first = client.conversations_history(channel=CHANNEL, limit=2)
    pages = [
        [m["ts"] for m in page["messages"]] for page in client.conversations_history(channel=CHANNEL, limit=2)
    ]

    assert first["has_more"] is True
    assert first["response_metadata"]["next_cursor"]
    assert pages == [stamps[4:2:-1], stamps[2:0:-1], stamps[0:1]]


def test_history_with_garbage_cursor_is_invalid_cursor(client: WebClient) -> None:
    client.chat_postMessage(channel=CHANNEL, text="m")

    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_history(channel=CHANNEL, cursor=base64.b64encode(b"nonsense").decode())

    assert slack_error(excinfo)["error"] == "invalid_cursor"


def test_users_info_returns_timezone(emu: SlackEmulator, client: WebClient) -> None:
    emu.add_user("U0BERLIN", "greta", tz="Europe/Berlin")

    user = client.users_info(user="U0BERLIN")["user"]

    assert user["name"] == "greta"
    assert user["tz"] == "Europe/Berlin"
    assert user["tz_offset"] in (3600, 7200)


def test_users_info_of_unknown_user_is_user_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U0NOBODY")

    assert slack_error(excinfo)["error"] == "user_not_found"


# -- channel access, membership, scopes -------------------------------------------------------------
PUBLIC_OUTSIDE = "C0OUTSIDE"
PRIVATE_IN = "C0PRIVIN"
PRIVATE_OUT = "C0PRIVOUT"
ARCHIVED = "C0ARCHIVED"


@pytest.fixture
def rooms(emu: SlackEmulator) -> SlackEmulator:
    """One channel of each kind the bot meets in a real workspace."""
    emu.add_channel(PUBLIC_OUTSIDE, "billing", member=False)
    emu.add_channel(PRIVATE_IN, "vip-escalations", private=True)
    emu.add_channel(PRIVATE_OUT, "legal", private=True, member=False)
    emu.add_channel(ARCHIVED, "old-alerts", archived=True)
    return emu


def scoped_client(emu: SlackEmulator, *scopes: str) -> WebClient:
    emu.scopes = scopes
    return WebClient(token=emu.token, base_url=emu.api_url, retry_handlers=[])


def test_conversations_info_reports_channel_attributes(rooms: SlackEmulator, client: WebClient) -> None:
    rooms.add_channel("G0LEGACY", "old-private", private=True)

    public_outside = client.conversations_info(channel=PUBLIC_OUTSIDE)["channel"]
    private_in = client.conversations_info(channel=PRIVATE_IN)["channel"]
    archived = client.conversations_info(channel=ARCHIVED)["channel"]
    legacy = client.conversations_info(channel="G0LEGACY")["channel"]

    assert (public_outside["is_private"], public_outside["is_member"], public_outside["is_channel"]) == (
        False,
        False,
        True,
    )
    assert (private_in["is_private"], private_in["is_member"]) == (True, True)
    assert (private_in["is_channel"], private_in["is_group"]) == (True, False)  # C-ids since 2021
    assert (legacy["is_channel"], legacy["is_group"]) == (False, True)
    assert archived["is_archived"] is True
    assert public_outside["name"] == "billing" and public_outside["context_team_id"] == "T0DESKWATCH"


def test_private_channel_bot_is_not_in_does_not_exist_for_it(rooms: SlackEmulator, client: WebClient) -> None:
    calls = [
        lambda: client.conversations_info(channel=PRIVATE_OUT),
        lambda: client.conversations_history(channel=PRIVATE_OUT),
        lambda: client.chat_postMessage(channel=PRIVATE_OUT, text="hi"),
    ]
    errors = []
    for call in calls:
        with pytest.raises(SlackApiError) as excinfo:
            call()
        errors.append(slack_error(excinfo)["error"])

    assert errors == ["channel_not_found"] * 3
    assert rooms.messages(PRIVATE_OUT) == []


def test_invited_private_channel_becomes_visible(rooms: SlackEmulator, client: WebClient) -> None:
    rooms.add_channel(PRIVATE_OUT, "legal", private=True, member=True)  # someone ran /invite @Deskwatch

    client.chat_postMessage(channel=PRIVATE_OUT, text="now it works")

    assert client.conversations_history(channel=PRIVATE_OUT)["messages"][0]["text"] == "now it works"


def test_post_to_public_channel_bot_is_not_in_works_with_chat_write_public(
    rooms: SlackEmulator, client: WebClient
) -> None:
    response = client.chat_postMessage(channel=PUBLIC_OUTSIDE, text="via chat:write.public")

    assert response["channel"] == PUBLIC_OUTSIDE
    assert rooms.channel(PUBLIC_OUTSIDE)["is_member"] is False  # posting does not join


def test_post_to_public_channel_bot_is_not_in_without_chat_write_public_is_not_in_channel(
    rooms: SlackEmulator,
) -> None:
    client = scoped_client(rooms, "chat:write", "channels:history")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=PUBLIC_OUTSIDE, text="x")

    assert slack_error(excinfo) == {"ok": False, "error": "not_in_channel"}
    assert rooms.messages(PUBLIC_OUTSIDE) == []


def test_history_and_replies_of_public_channel_bot_is_not_in_are_not_in_channel(
    rooms: SlackEmulator, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel=PUBLIC_OUTSIDE, text="posted from outside")["ts"]

    with pytest.raises(SlackApiError) as history:
        client.conversations_history(channel=PUBLIC_OUTSIDE)
    with pytest.raises(SlackApiError) as replies:
        client.conversations_replies(channel=PUBLIC_OUTSIDE, ts=ts)

    assert slack_error(history) == {"ok": False, "error": "not_in_channel"}
    assert slack_error(replies) == {"ok": False, "error": "not_in_channel"}


def test_join_public_channel_then_history_works(rooms: SlackEmulator, client: WebClient) -> None:
    metadata = {"event_type": "sla_alert", "event_payload": {"alert": "zd:1:breach"}}
    ts = client.chat_postMessage(channel=PUBLIC_OUTSIDE, text="alert", metadata=metadata)["ts"]

    joined = client.conversations_join(channel=PUBLIC_OUTSIDE)
    history = client.conversations_history(channel=PUBLIC_OUTSIDE, include_all_metadata=True)

    assert joined["channel"]["id"] == PUBLIC_OUTSIDE
    assert joined["channel"]["is_member"] is True
    assert "warning" not in joined.data
    assert [(m["ts"], m["metadata"]) for m in history["messages"]] == [(ts, metadata)]
    assert client.conversations_replies(channel=PUBLIC_OUTSIDE, ts=ts)["messages"][0]["ts"] == ts
    assert rooms.channel(PUBLIC_OUTSIDE)["is_member"] is True


def test_join_channel_bot_is_already_in_warns_already_in_channel(client: WebClient) -> None:
    joined = client.conversations_join(channel=CHANNEL)

    assert joined["ok"] is True
    assert joined["warning"] == "already_in_channel"
    assert joined["response_metadata"]["warnings"] == ["already_in_channel"]
    assert joined["channel"]["is_member"] is True


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        (PRIVATE_OUT, "method_not_supported_for_channel_type"),
        (PRIVATE_IN, "method_not_supported_for_channel_type"),
        (ARCHIVED, "is_archived"),
        ("C0NOPE", "channel_not_found"),
    ],
)
def test_join_refuses_what_slack_refuses(
    rooms: SlackEmulator, client: WebClient, channel: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_join(channel=channel)

    assert slack_error(excinfo) == {"ok": False, "error": error}
    assert rooms.channel(PRIVATE_OUT)["is_member"] is False


def test_join_without_channels_join_scope_is_missing_scope(rooms: SlackEmulator) -> None:
    client = scoped_client(rooms, "chat:write", "chat:write.public", "channels:history")

    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_join(channel=PUBLIC_OUTSIDE)

    assert slack_error(excinfo) == {
        "ok": False,
        "error": "missing_scope",
        "needed": "channels:join",
        "provided": "chat:write,chat:write.public,channels:history",
    }
    assert rooms.channel(PUBLIC_OUTSIDE)["is_member"] is False


@pytest.mark.parametrize(
    ("channel", "needed", "other"),
    [(CHANNEL, "channels:history", "groups:history"), (PRIVATE_IN, "groups:history", "channels:history")],
)
def test_history_without_history_scope_names_the_scope_of_the_channel_type(
    rooms: SlackEmulator, channel: str, needed: str, other: str
) -> None:
    client = scoped_client(rooms, "chat:write", other)

    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_history(channel=channel)

    error = slack_error(excinfo)
    assert (error["error"], error["needed"]) == ("missing_scope", needed)
    assert error["provided"] == ",".join(rooms.scopes)


def test_post_without_chat_write_is_missing_scope(emu: SlackEmulator) -> None:
    client = scoped_client(emu, "channels:read")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="x")

    assert slack_error(excinfo) == {
        "ok": False,
        "error": "missing_scope",
        "needed": "chat:write",
        "provided": "channels:read",
    }
    assert emu.messages() == []


def test_post_to_archived_channel_is_is_archived(rooms: SlackEmulator, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=ARCHIVED, text="x")

    assert slack_error(excinfo) == {"ok": False, "error": "is_archived"}


def test_update_in_channel_archived_since_is_is_archived(emu: SlackEmulator, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=OTHER_CHANNEL, text="before")["ts"]
    emu.add_channel(OTHER_CHANNEL, archived=True)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=OTHER_CHANNEL, ts=ts, text="after")

    assert slack_error(excinfo) == {"ok": False, "error": "is_archived"}
    assert emu.messages(OTHER_CHANNEL)[0]["text"] == "before"
    assert client.conversations_history(channel=OTHER_CHANNEL)["messages"][0]["ts"] == ts  # still readable


def test_every_response_carries_x_oauth_scopes(emu: SlackEmulator, client: WebClient) -> None:
    ok = client.auth_test()
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C0NOPE", text="x")

    assert ok.headers["x-oauth-scopes"] == ",".join(emu.scopes)
    scopes = set(ok.headers["x-oauth-scopes"].split(","))
    assert {"chat:write", "chat:write.public", "channels:join"} <= scopes
    assert excinfo.value.response.headers["x-oauth-scopes"] == ",".join(emu.scopes)
    assert excinfo.value.response.headers["x-accepted-oauth-scopes"] == "chat:write"


def test_scopes_given_to_the_emulator_are_the_ones_reported() -> None:
    with SlackEmulator(scopes=("chat:write", "commands")) as emu:
        headers = WebClient(token=emu.token, base_url=emu.api_url).auth_test().headers

    assert headers["x-oauth-scopes"] == "chat:write,commands"


def test_users_info_shows_email_with_users_read_email(emu: SlackEmulator, client: WebClient) -> None:
    emu.add_user("U0ANA", "ana", tz="America/New_York", email="ana@acme.test")
    emu.add_user("U0BEN", "ben")

    ana = client.users_info(user="U0ANA")["user"]
    ben = client.users_info(user="U0BEN")["user"]
    bot = client.users_info(user=emu.bot_user_id)["user"]

    assert (ana["profile"]["email"], ana["tz"]) == ("ana@acme.test", "America/New_York")
    assert ben["profile"]["email"] == "ben@example.com"
    assert bot["is_bot"] is True and "email" not in bot["profile"]


def test_users_info_without_users_read_email_has_no_email(emu: SlackEmulator) -> None:
    client = scoped_client(emu, "users:read")

    user = client.users_info(user=AGENT)["user"]

    assert "email" not in user["profile"]


def test_users_info_without_users_read_is_missing_scope(emu: SlackEmulator) -> None:
    client = scoped_client(emu, "chat:write")

    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user=AGENT)

    assert (slack_error(excinfo)["error"], slack_error(excinfo)["needed"]) == ("missing_scope", "users:read")


# -- rate limits and faults -----------------------------------------------------------------------------
def test_scripted_429_has_retry_after_and_ratelimited_body(emu: SlackEmulator, client: WebClient) -> None:
    emu.fail_next("/api/chat.postMessage", status=429, retry_after=1)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="x")

    response = excinfo.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.data == {"ok": False, "error": "ratelimited"}
    assert emu.messages() == []


def test_rate_limit_retry_handler_succeeds_after_429(
    emu: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    class RecordingTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            waits.append(seconds)

    monkeypatch.setattr(builtin_handlers, "time", RecordingTime)
    client = WebClient(token=emu.token, base_url=emu.api_url, retry_handlers=[RateLimitErrorRetryHandler()])
    emu.fail_next("/api/chat.postMessage", status=429, retry_after=1)

    response = client.chat_postMessage(channel=CHANNEL, text="after retry")

    assert response["ok"] is True
    assert len(emu.calls("/api/chat.postMessage")) == 2
    assert len(waits) == 1 and waits[0] >= 1
    assert [m["text"] for m in emu.messages()] == ["after retry"]


def test_scripted_500_has_slack_error_body(emu: SlackEmulator, client: WebClient) -> None:
    emu.fail_next("/api/chat.update", status=500)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=CHANNEL, ts="1700000000.000100", text="x")

    assert excinfo.value.response.status_code == 500
    assert excinfo.value.response.data == {"ok": False, "error": "internal_error"}


def test_channel_rate_limits_second_post_within_one_second(clock: FakeClock) -> None:
    with SlackEmulator(channels=(CHANNEL, OTHER_CHANNEL), clock=clock, enforce_channel_rate=True) as emu:
        client = WebClient(token=emu.token, base_url=emu.api_url)
        client.chat_postMessage(channel=CHANNEL, text="first")
        clock.advance(0.5)

        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel=CHANNEL, text="too soon")
        client.chat_postMessage(channel=OTHER_CHANNEL, text="other channel is independent")
        clock.advance(0.5)
        client.chat_postMessage(channel=CHANNEL, text="one second later")

        assert excinfo.value.response.status_code == 429
        assert excinfo.value.response.headers["Retry-After"] == "1"
        assert excinfo.value.response.data["error"] == "ratelimited"
        assert [m["text"] for m in emu.messages(CHANNEL)] == ["first", "one second later"]


@pytest.mark.parametrize("error", ["invalid_blocks", "is_archived", "channel_not_found", "not_authed"])
def test_scripted_permanent_error_is_http_200_and_changes_nothing(
    emu: SlackEmulator, client: WebClient, error: str
) -> None:
    emu.fail_next_with_error("chat.postMessage", error)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="x")
    client.chat_postMessage(channel=CHANNEL, text="next one is fine")

    assert slack_error(excinfo) == {"ok": False, "error": error}
    assert excinfo.value.response["error"] == error
    assert [m["text"] for m in emu.messages()] == ["next one is fine"]


def test_scripted_error_can_carry_extra_fields(emu: SlackEmulator, client: WebClient) -> None:
    emu.fail_next_with_error("/api/chat.update", "invalid_blocks", errors=["must be a valid block"])

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=CHANNEL, ts="1700000000.000100", text="x")

    assert slack_error(excinfo)["errors"] == ["must be a valid block"]


# -- lost responses: Slack did it, the client never heard ------------------------------------------
LOST = {
    "reset": ConnectionResetError,
    "close": http.client.RemoteDisconnected,
    "timeout": TimeoutError,
}


@pytest.mark.parametrize("mode", sorted(LOST))
def test_post_accepted_but_response_lost_is_stored_while_client_raises(emu: SlackEmulator, mode: str) -> None:
    client = WebClient(token=emu.token, base_url=emu.api_url, timeout=1, retry_handlers=[])
    metadata = {"event_type": "sla_alert", "event_payload": {"alert": "zd:1:breach"}}
    emu.lose_response("/api/chat.postMessage", mode=mode)

    with pytest.raises(OSError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="lost", metadata=metadata)

    assert type(excinfo.value) is LOST[mode]
    assert [(m["text"], m["metadata"]) for m in emu.messages()] == [("lost", metadata)]
    found = client.conversations_history(channel=CHANNEL, include_all_metadata=True)["messages"]
    assert [m["metadata"] for m in found] == [metadata]


def test_default_client_resends_a_post_whose_response_was_reset_and_duplicates_it(emu: SlackEmulator) -> None:
    client = WebClient(token=emu.token, base_url=emu.api_url)  # ConnectionErrorRetryHandler is the default
    emu.lose_response("/api/chat.postMessage", mode="reset")

    response = client.chat_postMessage(channel=CHANNEL, text="once")

    assert response["ok"] is True
    assert [m["text"] for m in emu.messages()] == ["once", "once"]


def test_held_post_is_stored_before_its_response_is_released(emu: SlackEmulator, client: WebClient) -> None:
    hold = emu.hold_responses("/api/chat.postMessage")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(client.chat_postMessage, channel=CHANNEL, text="held")

        assert hold.wait_arrived(timeout=5)
        stored = emu.messages()
        still_waiting = not pending.done()
        hold.release()
        response = pending.result(timeout=5)

    assert [m["text"] for m in stored] == ["held"]
    assert still_waiting
    assert response["ts"] == stored[0]["ts"]
    assert client.chat_postMessage(channel=CHANNEL, text="not held")["ok"] is True


# -- views ---------------------------------------------------------------------------------------------
def test_views_open_with_fresh_trigger_creates_view(emu: SlackEmulator, client: WebClient) -> None:
    response = client.views_open(trigger_id=emu.issue_trigger_id(), view=modal(private_metadata='{"t":"42"}'))

    view = response["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "snooze"
    assert view["private_metadata"] == '{"t":"42"}'
    assert [v["id"] for v in emu.views()] == [view["id"]]


def test_views_open_trigger_is_valid_for_exactly_three_seconds(
    emu: SlackEmulator, client: WebClient, clock: FakeClock
) -> None:
    on_time = emu.issue_trigger_id()
    late = emu.issue_trigger_id()
    clock.advance(3.0)
    client.views_open(trigger_id=on_time, view=modal())
    clock.advance(0.001)

    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=late, view=modal())

    assert slack_error(excinfo)["error"] == "expired_trigger_id"
    assert len(emu.views()) == 1


def test_views_open_with_used_trigger_is_expired_trigger_id(emu: SlackEmulator, client: WebClient) -> None:
    trigger_id = emu.issue_trigger_id()
    client.views_open(trigger_id=trigger_id, view=modal())

    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger_id, view=modal())

    assert slack_error(excinfo)["error"] == "expired_trigger_id"


def test_views_open_with_unknown_trigger_is_invalid_trigger_id(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="123.456.abc", view=modal())

    assert slack_error(excinfo)["error"] == "invalid_trigger_id"


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"title": {"type": "plain_text", "text": "t" * 25}}, "/view/title/text"),
        ({"title": {"type": "mrkdwn", "text": "Title"}}, "/view/title/type"),
        ({"submit": {"type": "plain_text", "text": "s" * 25}}, "/view/submit/text"),
        ({"close": {"type": "plain_text", "text": "c" * 25}}, "/view/close/text"),
        ({"callback_id": "c" * 256}, "/view/callback_id"),
        ({"private_metadata": "p" * 3001}, "/view/private_metadata"),
        ({"blocks": [{"type": "divider"}] * 101}, "/view/blocks"),
    ],
)
def test_views_open_with_invalid_view_is_invalid_arguments(
    emu: SlackEmulator, client: WebClient, overrides: dict[str, Any], pointer: str
) -> None:
    trigger_id = emu.issue_trigger_id()

    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger_id, view=modal(**overrides))

    body = slack_error(excinfo)
    assert body["error"] == "invalid_arguments"
    assert any(m.endswith(f"[json-pointer:{pointer}]") for m in body["response_metadata"]["messages"])
    client.views_open(trigger_id=trigger_id, view=modal())  # a refused view does not use up the trigger


def test_views_update_by_view_id_and_external_id(emu: SlackEmulator, client: WebClient) -> None:
    opened = client.views_open(trigger_id=emu.issue_trigger_id(), view=modal(external_id="snooze-42"))["view"]

    client.views_update(view_id=opened["id"], view=modal(blocks=[section("Loading done")]))
    by_external = client.views_update(external_id="snooze-42", view=modal(blocks=[section("Again")]))

    assert by_external["view"]["id"] == opened["id"]
    [view] = emu.views()
    assert view["blocks"] == [section("Again")]
    assert view["hash"] != opened["hash"]


def test_views_update_of_unknown_view_is_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id="V0NOPE", view=modal())

    assert slack_error(excinfo)["error"] == "not_found"


def test_views_update_with_stale_hash_is_hash_conflict(emu: SlackEmulator, client: WebClient) -> None:
    opened = client.views_open(trigger_id=emu.issue_trigger_id(), view=modal())["view"]
    client.views_update(view_id=opened["id"], view=modal(), hash=opened["hash"])

    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id=opened["id"], view=modal(), hash=opened["hash"])

    assert slack_error(excinfo)["error"] == "hash_conflict"


def test_views_push_needs_a_fresh_trigger(emu: SlackEmulator, client: WebClient) -> None:
    pushed = client.views_push(trigger_id=emu.issue_trigger_id(), view=modal(callback_id="details"))

    assert pushed["view"]["callback_id"] == "details"
    with pytest.raises(SlackApiError) as excinfo:
        client.views_push(trigger_id="1.2.3", view=modal())
    assert slack_error(excinfo)["error"] == "invalid_trigger_id"


def test_views_publish_replaces_users_home_tab(emu: SlackEmulator, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("3 tickets at risk")]}

    first = client.views_publish(user_id=AGENT, view=home)
    second = client.views_publish(user_id=AGENT, view={**home, "blocks": [section("All clear")]})

    assert second["view"]["id"] == first["view"]["id"]
    [view] = emu.views()
    assert view["user_id"] == AGENT
    assert view["blocks"] == [section("All clear")]


def test_views_publish_for_unknown_user_is_user_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_publish(user_id="U0NOBODY", view={"type": "home", "blocks": []})

    assert slack_error(excinfo)["error"] == "user_not_found"


# -- response_url -------------------------------------------------------------------------------------
def test_response_url_captures_posted_json(emu: SlackEmulator) -> None:
    url = emu.response_url("ack")

    response = requests.post(url, json={"text": "Acknowledged", "replace_original": True}, timeout=5)

    assert response.status_code == 200
    assert emu.responses() == [{"text": "Acknowledged", "replace_original": True, "_name": "ack"}]


def test_response_url_accepts_webhook_client_as_bolt_respond_uses(emu: SlackEmulator) -> None:
    response = WebhookClient(emu.response_url()).send(
        text="Snoozed", blocks=[section("Snoozed 30 min")], response_type="ephemeral"
    )

    assert response.status_code == 200
    assert emu.responses()[0]["_name"] == "r"
    assert emu.responses()[0]["blocks"] == [section("Snoozed 30 min")]


def test_response_url_refuses_invalid_blocks_with_400(emu: SlackEmulator) -> None:
    response = requests.post(
        emu.response_url(), json={"text": "x", "blocks": [section("x" * 3001)]}, timeout=5
    )

    assert response.status_code == 400
    assert response.text == "invalid_blocks"
    assert emu.responses() == []


def test_unissued_response_url_is_404(emu: SlackEmulator) -> None:
    response = requests.post(f"{emu.url}/response/never-issued", json={"text": "x"}, timeout=5)

    assert response.status_code == 404


# -- user groups and DMs (slack_directory.py) ------------------------------------------------------
def test_usergroups_users_list_returns_the_members_in_order_and_counts_calls(
    emu: SlackEmulator, client: WebClient
) -> None:
    emu.add_usergroup("S0TIER2", ["U0BEA", "U0ALI", "W0EXT"])

    response = client.usergroups_users_list(usergroup="S0TIER2")

    assert response.data == {"ok": True, "users": ["U0BEA", "U0ALI", "W0EXT"]}
    assert response.headers["x-accepted-oauth-scopes"] == "usergroups:read"
    assert len(emu.calls("/api/usergroups.users.list")) == 1


def test_usergroups_users_list_of_an_unknown_group_is_no_such_subteam(
    emu: SlackEmulator, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.usergroups_users_list(usergroup="S0NOPE")

    assert slack_error(excinfo) == {"ok": False, "error": "no_such_subteam"}


def test_usergroups_users_list_of_a_disabled_group_needs_include_disabled(
    emu: SlackEmulator, client: WebClient
) -> None:
    emu.add_usergroup("S0OLD", ["U0BEA"], disabled=True)

    with pytest.raises(SlackApiError) as excinfo:
        client.usergroups_users_list(usergroup="S0OLD")

    assert slack_error(excinfo)["error"] == "no_such_subteam"
    assert client.usergroups_users_list(usergroup="S0OLD", include_disabled=True)["users"] == ["U0BEA"]


def test_usergroups_users_list_without_usergroups_read_is_missing_scope() -> None:
    with SlackEmulator(scopes=("chat:write",)) as emu:
        emu.add_usergroup("S0TIER2", ["U0BEA"])
        with pytest.raises(SlackApiError) as excinfo:
            WebClient(token=emu.token, base_url=emu.api_url).usergroups_users_list(usergroup="S0TIER2")

    assert (slack_error(excinfo)["error"], slack_error(excinfo)["needed"]) == (
        "missing_scope",
        "usergroups:read",
    )


def test_add_usergroup_refuses_ids_that_are_not_slack_ids(emu: SlackEmulator) -> None:
    with pytest.raises(ValueError):
        emu.add_usergroup("T0TEAM", ["U0BEA"])
    with pytest.raises(ValueError):
        emu.add_usergroup("S0TIER2", ["bea@example.com"])


def test_conversations_open_gives_a_stable_dm_and_says_already_open_the_second_time(
    emu: SlackEmulator, client: WebClient
) -> None:
    first = client.conversations_open(users=AGENT)
    second = client.conversations_open(users=AGENT)
    resumed = client.conversations_open(channel=first["channel"]["id"])

    dm = emu.dm_channel(AGENT)
    assert dm.startswith("D")
    assert first.data == {"ok": True, "channel": {"id": dm}}
    assert second.data == {"ok": True, "no_op": True, "already_open": True, "channel": {"id": dm}}
    assert resumed["channel"]["id"] == dm


def test_conversations_open_with_return_im_gives_the_im_object(emu: SlackEmulator, client: WebClient) -> None:
    channel = client.conversations_open(users=AGENT, return_im=True)["channel"]

    assert (channel["id"], channel["is_im"], channel["user"], channel["is_open"]) == (
        emu.dm_channel(AGENT),
        True,
        AGENT,
        True,
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"users": "U0NOBODY"}, "user_not_found"),
        ({"return_im": True}, "users_list_not_supplied"),  # the SDK itself refuses a call without both
        ({"channel": "D0NOPE"}, "channel_not_found"),
        ({"channel": CHANNEL}, "method_not_supported_for_channel_type"),
    ],
)
def test_conversations_open_errors(client: WebClient, kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("conversations.open", json=kwargs)

    assert slack_error(excinfo) == {"ok": False, "error": error}


def test_conversations_open_without_im_write_is_missing_scope() -> None:
    with (
        SlackEmulator(users=(AGENT,), scopes=("chat:write",)) as emu,
        pytest.raises(SlackApiError) as excinfo,
    ):
        WebClient(token=emu.token, base_url=emu.api_url).conversations_open(users=AGENT)

    assert (slack_error(excinfo)["error"], slack_error(excinfo)["needed"]) == ("missing_scope", "im:write")


def test_post_to_a_user_id_lands_in_the_dm_and_answers_with_the_d_channel(
    emu: SlackEmulator, client: WebClient
) -> None:
    metadata = {"event_type": "deskwatch_handoff", "event_payload": {"escalation": 7}}

    posted = client.chat_postMessage(channel=AGENT, text="You have a handoff", metadata=metadata)

    dm = emu.dm_channel(AGENT)
    assert posted["channel"] == dm
    assert [m["text"] for m in emu.messages(channel=dm)] == ["You have a handoff"]
    assert client.conversations_open(users=AGENT)["already_open"] is True  # posting opened it
    history = client.conversations_history(channel=dm, include_all_metadata=True)
    assert [(m["ts"], m["metadata"]) for m in history["messages"]] == [(posted["ts"], metadata)]


def test_post_to_a_dm_channel_id_after_opening_it(emu: SlackEmulator, client: WebClient) -> None:
    dm = client.conversations_open(users=AGENT)["channel"]["id"]

    posted = client.chat_postMessage(channel=dm, text="Please take zd:101")
    client.chat_update(channel=dm, ts=posted["ts"], text="Please take zd:101 (updated)")

    assert posted["channel"] == dm
    assert [m["text"] for m in emu.messages(channel=dm)] == ["Please take zd:101 (updated)"]


def test_post_to_an_unknown_user_or_unopened_dm_is_channel_not_found(client: WebClient) -> None:
    for channel in ("U0NOBODY", "D0AGENT"):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel=channel, text="hi")
        assert slack_error(excinfo)["error"] == "channel_not_found"


def test_dm_history_needs_im_history() -> None:
    scopes = ("chat:write", "im:write", "channels:history", "groups:history")
    with SlackEmulator(users=(AGENT,), scopes=scopes) as emu:
        client = WebClient(token=emu.token, base_url=emu.api_url)
        dm = client.chat_postMessage(channel=AGENT, text="hi")["channel"]
        with pytest.raises(SlackApiError) as excinfo:
            client.conversations_history(channel=dm)

    assert (slack_error(excinfo)["error"], slack_error(excinfo)["needed"]) == ("missing_scope", "im:history")


def test_default_scopes_include_im_history(emu: SlackEmulator) -> None:
    assert {"im:write", "im:history", "usergroups:read", "users:read.email"} <= set(emu.scopes)


def test_users_info_of_an_added_user_shows_name_and_email(emu: SlackEmulator, client: WebClient) -> None:
    emu.add_user("U0TIER2", "Bea Tier", email="bea@acme.test")

    user = client.users_info(user="U0TIER2")["user"]

    assert (user["name"], user["real_name"], user["profile"]["email"]) == (
        "Bea Tier",
        "Bea Tier",
        "bea@acme.test",
    )


def test_users_lookup_by_email_answers_the_users_info_user(emu: SlackEmulator, client: WebClient) -> None:
    emu.add_user("U0TIER2", "Bea Tier", tz="Europe/Berlin", email="bea@acme.test")

    response = client.users_lookupByEmail(email="Bea@Acme.TEST")

    assert response.data == {"ok": True, "user": client.users_info(user="U0TIER2")["user"]}
    assert (response["user"]["id"], response["user"]["profile"]["email"]) == ("U0TIER2", "bea@acme.test")
    assert response.headers["x-accepted-oauth-scopes"] == "users:read.email"


def test_users_lookup_by_email_of_an_unknown_email_is_users_not_found(
    emu: SlackEmulator, client: WebClient
) -> None:
    emu.add_user("U0TIER2", "Bea Tier", email="bea@acme.test")

    with pytest.raises(SlackApiError) as excinfo:
        client.users_lookupByEmail(email="bea@other.test")

    assert slack_error(excinfo) == {"ok": False, "error": "users_not_found"}


def test_users_lookup_by_email_without_users_read_email_is_missing_scope(emu: SlackEmulator) -> None:
    client = scoped_client(emu, "users:read")

    with pytest.raises(SlackApiError) as excinfo:
        client.users_lookupByEmail(email=f"{AGENT.lower()}@example.com")

    assert (slack_error(excinfo)["error"], slack_error(excinfo)["needed"]) == (
        "missing_scope",
        "users:read.email",
    )
