"""Sign and send helpdesk webhooks the way Zendesk and Intercom do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import requests

ZENDESK_SECRET = "zd-webhook-signing-secret-0123456789"
INTERCOM_SECRET = "ic-client-secret-0123456789abcdef"


def zendesk_headers(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    """`X-Zendesk-Webhook-Signature`: base64 HMAC-SHA256 of timestamp + raw body."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "User-Agent": "Zendesk Webhook",
        "X-Zendesk-Webhook-Id": "01HWDESK000000000000000001",
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def intercom_headers(secret: str, body: bytes) -> dict[str, str]:
    """`X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body with the app's client secret>`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": "Intercom-Webhook",
        "X-Hub-Signature": f"sha1={digest}",
    }


def zendesk_event(ticket_id: int | str, event: str = "comment_added", *, at: datetime) -> dict[str, Any]:
    """An event-subscription payload (`zen:event-type:ticket.*`, the id in `detail.id` as a string)."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": f"zen:event-type:ticket.{event}",
        "account_id": 88888888,
        "id": f"01HWEVENT{ticket_id}",
        "time": stamp,
        "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{ticket_id}",
        "detail": {"id": str(ticket_id), "status": "OPEN", "updated_at": stamp, "created_at": stamp},
        "event": {},
    }


def intercom_notification(conversation_id: str, topic: str = "conversation.admin.replied") -> dict[str, Any]:
    return {
        "type": "notification_event",
        "app_id": "deskwatch-app",
        "id": f"notif_{conversation_id}",
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "created_at": 1_700_000_000,
        "data": {"type": "notification_event_data", "item": {"type": "conversation", "id": conversation_id}},
    }


def post(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=5)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
