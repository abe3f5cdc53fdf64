"""Signed Slack requests to the bot's /slack/events, as Slack sends them (slash commands, block_actions,
view_submission, events), so the page drives the real bot through its real request verification."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

VERIFICATION_TOKEN = "legacy-verification-token"


class SignedSlack:
    def __init__(self, events_url: str, secret: str, *, team_id: str, app_id: str) -> None:
        if not events_url.startswith("http://127.0.0.1"):
            raise ValueError("the demo page only talks to 127.0.0.1")
        self.events_url = events_url
        self._verifier = SignatureVerifier(secret)
        self.team = {"id": team_id, "domain": "deskwatch"}
        self.app_id = app_id

    def post(self, body: str, content_type: str) -> requests.Response:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self._verifier.generate_signature(timestamp=ts, body=body),
        }
        return requests.post(self.events_url, data=body.encode(), headers=headers, timeout=10)

    def _user(self, user_id: str, name: str) -> dict[str, Any]:
        return {"id": user_id, "username": name, "name": name, "team_id": self.team["id"]}

    def slash_command(
        self,
        *,
        command: str,
        text: str,
        user_id: str,
        user_name: str,
        channel_id: str,
        channel_name: str,
        response_url: str,
        trigger_id: str,
    ) -> requests.Response:
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team["id"],
            "team_domain": self.team["domain"],
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        return self.post(urlencode(fields), "application/x-www-form-urlencoded")

    def interactive(self, payload: dict[str, Any]) -> requests.Response:
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def block_actions(
        self,
        *,
        user_id: str,
        user_name: str,
        action: dict[str, Any],
        container: dict[str, Any],
        trigger_id: str,
        response_url: str | None = None,
        channel: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
    ) -> requests.Response:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": self.team,
            "user": self._user(user_id, user_name),
            "api_app_id": self.app_id,
            "token": VERIFICATION_TOKEN,
            "container": container,
            "trigger_id": trigger_id,
            "state": {"values": {}},
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        if channel is not None:
            payload["channel"] = channel
        if message is not None:
            payload["message"] = message
        if response_url is not None:
            payload["response_url"] = response_url
        if view is not None:
            payload["view"] = view
        return self.interactive(payload)

    def view_submission(
        self, *, user_id: str, user_name: str, view: dict[str, Any], values: dict[str, Any], trigger_id: str
    ) -> requests.Response:
        submitted = {**view, "state": {"values": values}}
        payload = {
            "type": "view_submission",
            "team": self.team,
            "user": self._user(user_id, user_name),
            "api_app_id": self.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self.interactive(payload)

    def view_closed(self, *, user_id: str, user_name: str, view: dict[str, Any]) -> requests.Response:
        payload = {
            "type": "view_closed",
            "team": self.team,
            "user": self._user(user_id, user_name),
            "api_app_id": self.app_id,
            "token": VERIFICATION_TOKEN,
            "view": view,
            "is_cleared": False,
        }
        return self.interactive(payload)

    def event(self, event: dict[str, Any], *, bot_user_id: str) -> requests.Response:
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team["id"],
            "api_app_id": self.app_id,
            "event": {**event, "event_ts": f"{time.time():.6f}"},
            "type": "event_callback",
            "event_id": f"EvDemo{time.time_ns()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.team["id"], "user_id": bot_user_id, "is_bot": True, "enterprise_id": None}
            ],
        }
        return self.post(json.dumps(envelope), "application/json")
