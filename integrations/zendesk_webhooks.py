"""`deskwatch webhooks install` for Zendesk: one webhook and one trigger that calls it, made idempotently.

- Webhook (Webhooks API): found by name (`GET /api/v2/webhooks?filter[name_contains]=`, exact name
  match), else created (`POST /api/v2/webhooks`, 201); an existing one is updated in place
  (`PUT /api/v2/webhooks/{id}`, 204) so a changed `--url` takes effect. JSON, POST, active,
  `subscriptions: ["conditional_ticket_events"]` (a webhook triggers and automations may call).
  Its signing secret comes from `GET /api/v2/webhooks/{id}/signing_secret`.
- Trigger (Triggers API): found by title (`GET /api/v2/triggers.json`, every page), else created
  (`POST /api/v2/triggers.json`, 201), else updated (`PUT /api/v2/triggers/{id}.json`). It fires on
  every ticket create and change and sends `{"ticket_id": "{{ticket.id}}"}` through the action
  `notification_webhook: [webhook_id, body]`; Deskwatch re-reads the ticket, so the body carries no
  ticket text.

Running it twice creates nothing the second time. 429s are waited out (Retry-After, at most 3 times).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from integrations.base import HelpdeskError

if TYPE_CHECKING:
    from integrations.zendesk import ZendeskHelpdesk

WEBHOOK_NAME = "Deskwatch SLA alerts"
TRIGGER_TITLE = "Deskwatch: notify on ticket changes"
TRIGGER_BODY = json.dumps({"ticket_id": "{{ticket.id}}"})
MAX_429_WAITS = 3
MAX_TRIGGER_PAGES = 100


@dataclass(frozen=True)
class InstallResult:
    webhook_id: str
    webhook_created: bool
    trigger_id: int
    trigger_created: bool
    signing_secret: str | None


def webhook_spec(url: str) -> dict[str, Any]:
    return {
        "name": WEBHOOK_NAME,
        "status": "active",
        "endpoint": url,
        "http_method": "POST",
        "request_format": "json",
        "subscriptions": ["conditional_ticket_events"],
        "description": "Deskwatch re-reads a ticket when it changes (SLA alerts, handoffs).",
    }


def trigger_spec(webhook_id: str) -> dict[str, Any]:
    return {
        "title": TRIGGER_TITLE,
        "active": True,
        "description": "Tells Deskwatch a ticket changed; Deskwatch re-reads it.",
        "conditions": {
            "all": [{"field": "status", "operator": "less_than", "value": "closed"}],
            "any": [
                {"field": "update_type", "operator": "is", "value": "Create"},
                {"field": "update_type", "operator": "is", "value": "Change"},
            ],
        },
        "actions": [{"field": "notification_webhook", "value": [webhook_id, TRIGGER_BODY]}],
    }


class ZendeskWebhookInstaller:
    def __init__(self, helpdesk: ZendeskHelpdesk, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.helpdesk = helpdesk
        self._sleep = sleep

    def install(self, url: str) -> InstallResult:
        if not url.startswith("https://"):
            raise ValueError(f"the webhook URL must be https://, got {url[:80]!r}")
        webhook_id, webhook_created = self._ensure_webhook(url)
        trigger_id, trigger_created = self._ensure_trigger(webhook_id)
        secret = self.signing_secret(webhook_id)
        return InstallResult(webhook_id, webhook_created, trigger_id, trigger_created, secret)

    def signing_secret(self, webhook_id: str) -> str | None:
        body = self._json(
            self._call("GET", f"webhooks/{webhook_id}/signing_secret", None, "webhook signing secret")
        )
        secret = (body.get("signing_secret") or {}).get("secret")
        return secret if isinstance(secret, str) else None

    # -- webhook ---------------------------------------------------------------------------------
    def _ensure_webhook(self, url: str) -> tuple[str, bool]:
        spec = webhook_spec(url)
        existing = self._find_webhook()
        if existing is None:
            response = self._call("POST", "webhooks", {"webhook": spec}, "webhook creation")
            created = self._json(response).get("webhook") or {}
            if not isinstance(created.get("id"), str):
                raise HelpdeskError("Zendesk webhook creation answered without a webhook id")
            return created["id"], True
        self._call("PUT", f"webhooks/{existing}", {"webhook": spec}, "webhook update")
        return existing, False

    def _find_webhook(self) -> str | None:
        params: dict[str, Any] | None = {"filter[name_contains]": WEBHOOK_NAME}
        link = "webhooks"
        for _ in range(MAX_TRIGGER_PAGES):
            body = self._json(self._get(link, params, "webhook lookup"))
            for hook in body.get("webhooks") or []:
                if hook.get("name") == WEBHOOK_NAME and isinstance(hook.get("id"), str):
                    return hook["id"]
            following = (body.get("links") or {}).get("next")
            if not (body.get("meta") or {}).get("has_more") or not following:
                return None
            link, params = following, None
        return None

    # -- trigger ---------------------------------------------------------------------------------
    def _ensure_trigger(self, webhook_id: str) -> tuple[int, bool]:
        spec = trigger_spec(webhook_id)
        existing = self._find_trigger()
        if existing is None:
            response = self._call("POST", "triggers.json", {"trigger": spec}, "trigger creation")
            created = self._json(response).get("trigger") or {}
            if not isinstance(created.get("id"), int):
                raise HelpdeskError("Zendesk trigger creation answered without a trigger id")
            return created["id"], True
        self._call("PUT", f"triggers/{existing}.json", {"trigger": spec}, "trigger update")
        return existing, False

    def _find_trigger(self) -> int | None:
        link: str | None = "triggers.json"
        for _ in range(MAX_TRIGGER_PAGES):
            if link is None:
                return None
            body = self._json(self._get(link, None, "trigger lookup"))
            for trigger in body.get("triggers") or []:
                if trigger.get("title") == TRIGGER_TITLE and isinstance(trigger.get("id"), int):
                    return trigger["id"]
            link = body.get("next_page")
        return None

    # -- plumbing --------------------------------------------------------------------------------
    def _get(self, link: str, params: dict[str, Any] | None, action: str) -> requests.Response:
        for _ in range(MAX_429_WAITS):
            response = self.helpdesk.raw_get(link, params, action)
            if response.status_code != 429:
                return response
            self._wait(response)
        raise HelpdeskError(f"Zendesk {action}: still rate limited after {MAX_429_WAITS} waits")

    def _call(self, method: str, path: str, body: dict[str, Any] | None, action: str) -> requests.Response:
        if method == "GET":
            return self._get(path, None, action)
        for _ in range(MAX_429_WAITS):
            response = self.helpdesk.raw_send(method, path, body, action)
            if response.status_code != 429:
                return response
            self._wait(response)  # a 429 means Zendesk did nothing: sending again is safe
        raise HelpdeskError(f"Zendesk {action}: still rate limited after {MAX_429_WAITS} waits")

    def _wait(self, response: requests.Response) -> None:
        try:
            seconds = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            seconds = 1.0
        self._sleep(min(max(seconds, 0.0), 60.0))

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        if response.status_code == 204 or not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:
            raise HelpdeskError("Zendesk answered a body that is not JSON") from exc
        return body if isinstance(body, dict) else {}
