"""Signed Slack requests, as Slack sends them, for driving Bolt over HTTP."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier


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
        {
            "token": "legacy-verification-token",
            "team_id": "T0DESKWATCH",
            "team_domain": "deskwatch",
            "channel_id": channel_id,
            "channel_name": "support",
            "user_id": user_id,
            "user_name": "manager",
            "command": command,
            "text": text,
            "api_app_id": "A0DESKWATCH",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )
    return signed_post(url, body, secret=secret, content_type="application/x-www-form-urlencoded")


def block_action(
    url: str,
    *,
    secret: str,
    user_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str | None,
    response_url: str,
    block_id: str = "b",
) -> requests.Response:
    action = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": "1.2",
        "text": {"type": "plain_text", "text": "button"},
    }
    if value is not None:
        action["value"] = value
    payload = {
        "type": "block_actions",
        "team": {"id": "T0DESKWATCH", "domain": "deskwatch"},
        "user": {"id": user_id, "username": "manager", "team_id": "T0DESKWATCH"},
        "api_app_id": "A0DESKWATCH",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": "T-trigger",
        "channel": {"id": channel_id, "name": "support"},
        "message": {"type": "message", "ts": message_ts, "text": "alert"},
        "response_url": response_url,
        "actions": [action],
    }
    body = urlencode({"payload": json.dumps(payload)})
    return signed_post(url, body, secret=secret, content_type="application/x-www-form-urlencoded")
