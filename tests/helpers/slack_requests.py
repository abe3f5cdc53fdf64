"""Signed Slack requests, as Slack sends them, for driving Bolt over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

# The workspace the emulator and the test bot share (SlackEmulator defaults).
TEAM_ID = "T0DESKWATCH"
TEAM = {"id": TEAM_ID, "domain": "deskwatch"}
APP_ID = "A0DESKWATCH"
BOT_ID = "B0DESKBOT"
BOT_USER_ID = "U0DESKBOT"
VERIFICATION_TOKEN = "legacy-verification-token"
_CHANNEL_TYPES = {"C": "channel", "G": "group", "D": "im"}


def signed_post(
    url: str,
    body: str,
    *,
    secret: str,
    content_type: str,
    timestamp: int | None = None,
    signature: str | None = None,
) -> requests.Response:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    sig = signature or SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
    }
    return requests.post(url, data=body.encode(), headers=headers, timeout=10)


def slash_command(
    url: str,
    *,
    secret: str,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str = "T-trigger",
) -> requests.Response:
    body = urlencode(
        slash_command_payload(
            command=command,
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            trigger_id=trigger_id,
        )
    )
    return signed_post(url, body, secret=secret, content_type="application/x-www-form-urlencoded")


def slash_command_payload(
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str = "T-trigger",
) -> dict[str, str]:
    """The form fields Slack posts for a slash command (also the Socket Mode payload)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": "deskwatch",
        "channel_id": channel_id,
        "channel_name": "support",
        "user_id": user_id,
        "user_name": "manager",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_action(url: str, *, secret: str, **fields: Any) -> requests.Response:
    """A click in a message, signed and posted; see `block_action_payload` for the fields."""
    return _interactive(url, block_action_payload(**fields), secret=secret)


def block_action_payload(
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str | None = None,
    response_url: str,
    block_id: str = "b",
    trigger_id: str = "T-trigger",
    action_type: str = "button",
    selected_user: str | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A click in a message. `selected_user` makes it a `users_select` choice (no `value`, as Slack
    sends it); `message` is the message the action is in (default: a plain alert at `message_ts`)."""
    if selected_user is not None and action_type == "button":
        action_type = "users_select"
    action: dict[str, Any] = {
        "type": action_type,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": "1.2",
    }
    if action_type == "users_select":
        if selected_user is None:
            raise ValueError("a users_select action needs selected_user")
        action["selected_user"] = selected_user
    else:
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": "button"}
        if value is not None:
            action["value"] = value
    return {
        "type": "block_actions",
        "team": TEAM,
        "user": {"id": user_id, "username": "manager", "name": "manager", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "channel": {"id": channel_id, "name": "support"},
        "message": message if message is not None else {"type": "message", "ts": message_ts, "text": "alert"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }


def view_submission(url: str, *, secret: str, **fields: Any) -> requests.Response:
    """A modal's submit, signed and posted; see `view_submission_payload` for the fields."""
    return _interactive(url, view_submission_payload(**fields), secret=secret)


def view_submission_payload(
    *,
    user_id: str,
    view: dict[str, Any],
    values: dict[str, Any],
    view_id: str | None = None,
    hash: str | None = None,  # noqa: A002 - Slack's field name
    private_metadata: str | None = None,
    trigger_id: str = "T-trigger-view",
) -> dict[str, Any]:
    """The submit of a modal the app opened: `view` is the view as opened (a `views.open` payload or
    the emulator's stored view), `values` its `state.values` (`{block_id: {action_id: {...}}}`).
    `callback_id`, `private_metadata`, `id` and `hash` come from `view` unless given ("V1"/"h1" when
    the view has none)."""
    view_id = view_id or view.get("id") or "V1"
    return {
        "type": "view_submission",
        "team": TEAM,
        "user": {"id": user_id, "username": "manager", "name": "manager", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": private_metadata
            if private_metadata is not None
            else view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": values},
            "hash": hash or view.get("hash") or "h1",
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "external_id": view.get("external_id", ""),
            "root_view_id": view.get("root_view_id") or view_id,
            "previous_view_id": view.get("previous_view_id"),
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_shortcut(
    url: str,
    *,
    secret: str,
    user_id: str,
    channel_id: str,
    message: dict[str, Any],
    callback_id: str,
    trigger_id: str,
    response_url: str,
) -> requests.Response:
    """A message shortcut ("More actions" on a message): payload type `message_action`."""
    payload = {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": "1700000000.000200",
        "team": TEAM,
        "user": {"id": user_id, "name": "manager", "team_id": TEAM_ID},
        "channel": {"id": channel_id, "name": "support"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message["ts"],
        "message": message,
    }
    return _interactive(url, payload, secret=secret)


def event_callback(
    url: str, *, secret: str, event: dict[str, Any], event_id: str = "Ev1"
) -> requests.Response:
    """An Events API delivery, signed and posted as JSON; see `event_callback_payload`."""
    envelope = event_callback_payload(event=event, event_id=event_id)
    return signed_post(url, json.dumps(envelope), secret=secret, content_type="application/json")


def event_callback_payload(*, event: dict[str, Any], event_id: str = "Ev1") -> dict[str, Any]:
    """An Events API delivery (JSON), e.g. a thread reply:
    `{"type": "message", "channel": "C..", "user": "U..", "text": "..", "ts": "..", "thread_ts": ".."}`.
    `event_ts`, `team` and (for messages) `channel_type` are filled in as Slack does when absent."""
    event = dict(event)
    if "ts" in event:
        event.setdefault("event_ts", event["ts"])
    event.setdefault("team", TEAM_ID)
    channel = event.get("channel")
    if event.get("type") == "message" and isinstance(channel, str):
        event.setdefault("channel_type", _CHANNEL_TYPES.get(channel[:1], "channel"))
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }
    return envelope


def link_shared(
    url: str, *, secret: str, event: dict[str, Any], event_id: str = "EvLink1"
) -> requests.Response:
    """A `link_shared` delivery (e.g. `SlackEmulator.unfurl.link_shared_event(...)`), signed and posted."""
    return signed_post(
        url,
        json.dumps(link_shared_payload(event=event, event_id=event_id)),
        secret=secret,
        content_type="application/json",
    )


def link_shared_payload(*, event: dict[str, Any], event_id: str = "EvLink1") -> dict[str, Any]:
    """The Events API envelope of a `link_shared` event; refuses an event missing what Slack always
    sends (`channel`, `user`, `message_ts`, `links: [{domain, url}]`, `source`, `unfurl_id`)."""
    missing = {"channel", "user", "message_ts", "links", "source", "unfurl_id"} - set(event)
    if event.get("type") != "link_shared" or missing:
        raise ValueError(f"not a link_shared event (missing {sorted(missing)})")
    return event_callback_payload(event=event, event_id=event_id)


def _interactive(url: str, payload: dict[str, Any], *, secret: str) -> requests.Response:
    """Interactivity is a form post with the JSON payload in `payload`."""
    body = urlencode({"payload": json.dumps(payload)})
    return signed_post(url, body, secret=secret, content_type="application/x-www-form-urlencoded")
