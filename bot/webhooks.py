"""POST /webhooks/zendesk and POST /webhooks/intercom: verify, name the item, queue it, ack at once.

- Zendesk signs `timestamp + raw body` with the webhook's signing secret (HMAC-SHA256, base64) in
  `X-Zendesk-Webhook-Signature`, the timestamp in `X-Zendesk-Webhook-Signature-Timestamp`
  (ISO 8601). A timestamp more than `MAX_AGE` away from now is refused (replays).
- Intercom signs the raw body with the app's client secret (HMAC-SHA1, hex) in
  `X-Hub-Signature: sha1=<hex>`. Intercom sends no timestamp, so there is no replay window to check;
  a replay costs one re-read and changes nothing the helpdesk does not already say.

Forged, stale and unsigned requests get 401 and change nothing; a helpdesk that is not configured
(no API credentials, or no webhook secret) gets 404. A valid webhook naming a ticket (Zendesk event
subscriptions: `type: zen:event-type:ticket.*` with `detail.id`; trigger webhooks: `ticket_id`) or a
conversation (Intercom `notification_event`, `data.item` of type conversation) queues that item for
`bot.services.realtime.WebhookQueue` and is answered 200 within milliseconds. Bodies are never logged
(they can hold card numbers); secrets never leave this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from bot.domain.model import Source

if TYPE_CHECKING:
    from bot.app import Deps

log = structlog.get_logger(__name__)

PREFIX = "/webhooks/"
ZENDESK_PATH = "/webhooks/zendesk"
INTERCOM_PATH = "/webhooks/intercom"
MAX_AGE = timedelta(minutes=5)
MAX_BODY_BYTES = 1024 * 1024
ZENDESK_TICKET_EVENT = "zen:event-type:ticket."
_ZENDESK_ID = re.compile(r"[0-9]{1,20}")
_INTERCOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def intercom_signature(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def _parse_timestamp(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def zendesk_ticket_id(body: Any) -> str | None:
    """The ticket a Zendesk webhook names: an event subscription's `detail.id`, or the `ticket_id` of
    the body `deskwatch webhooks install` gives the trigger. None for anything else."""
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    if isinstance(kind, str) and kind.startswith(ZENDESK_TICKET_EVENT):
        detail = body.get("detail")
        value = detail.get("id") if isinstance(detail, dict) else None
    else:
        value = body.get("ticket_id")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    value = str(value).strip()
    return value if _ZENDESK_ID.fullmatch(value) else None


def intercom_conversation_id(body: Any) -> str | None:
    """The conversation an Intercom `notification_event` is about (`data.item`), if any."""
    if not isinstance(body, dict) or body.get("type") != "notification_event":
        return None
    data = body.get("data")
    item = data.get("item") if isinstance(data, dict) else None
    if not isinstance(item, dict) or item.get("type") != "conversation":
        return None
    value = item.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    value = str(value)
    return value if _INTERCOM_ID.fullmatch(value) else None


def _answer(start_response, status: str, body: dict[str, Any]):
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _read_body(environ) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length < 0 or length > MAX_BODY_BYTES:
        return None
    return environ["wsgi.input"].read(length) if length else b""


def build_webhook_app(deps: Deps):
    """The WSGI app behind every `/webhooks/...` path."""

    def secret_of(source: Source) -> str | None:
        if source not in deps.helpdesks:
            return None
        name = "zendesk_webhook_secret" if source is Source.ZENDESK else "intercom_client_secret"
        secret = getattr(deps.settings, name, None)
        return secret.get_secret_value() if secret is not None else None

    def count(source: Source, outcome: str) -> None:
        deps.metrics.webhooks.labels(source.value, outcome).inc()

    def refuse(start_response, source: Source, outcome: str):
        count(source, outcome)
        log.warning("webhook_refused", source=source.value, reason=outcome)
        return _answer(start_response, "401 Unauthorized", {"error": "invalid signature"})

    def accept(start_response, source: Source, external_id: str | None):
        if external_id is None:
            count(source, "ignored")
            return _answer(start_response, "200 OK", {"ok": True, "queued": False})
        queued = deps.realtime.submit(source, external_id) if deps.realtime is not None else False
        count(source, "accepted" if queued else "not_queued")
        return _answer(start_response, "200 OK", {"ok": True, "queued": queued})

    def zendesk(environ, start_response, secret: str, body: bytes):
        signature = environ.get("HTTP_X_ZENDESK_WEBHOOK_SIGNATURE")
        timestamp = environ.get("HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP")
        if not signature or not timestamp:
            return refuse(start_response, Source.ZENDESK, "unsigned")
        expected = zendesk_signature(secret, timestamp, body)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            return refuse(start_response, Source.ZENDESK, "forged")
        sent_at = _parse_timestamp(timestamp)
        if sent_at is None or abs(deps.clock() - sent_at) > MAX_AGE:
            return refuse(start_response, Source.ZENDESK, "stale")
        try:
            parsed = json.loads(body or b"null")
        except ValueError:
            parsed = None
        return accept(start_response, Source.ZENDESK, zendesk_ticket_id(parsed))

    def intercom(environ, start_response, secret: str, body: bytes):
        signature = environ.get("HTTP_X_HUB_SIGNATURE")
        if not signature:
            return refuse(start_response, Source.INTERCOM, "unsigned")
        if not hmac.compare_digest(intercom_signature(secret, body).encode(), signature.strip().encode()):
            return refuse(start_response, Source.INTERCOM, "forged")
        try:
            parsed = json.loads(body or b"null")
        except ValueError:
            parsed = None
        return accept(start_response, Source.INTERCOM, intercom_conversation_id(parsed))

    handlers = {ZENDESK_PATH: (Source.ZENDESK, zendesk), INTERCOM_PATH: (Source.INTERCOM, intercom)}

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "").rstrip("/")
        if path not in handlers:
            return _answer(start_response, "404 Not Found", {"error": "not found"})
        source, handler = handlers[path]
        secret = secret_of(source)
        if secret is None:
            count(source, "unconfigured")
            return _answer(start_response, "404 Not Found", {"error": f"{source.value} is not configured"})
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Length", "0")])
            return [b""]
        body = _read_body(environ)
        if body is None:
            return _answer(start_response, "413 Request Entity Too Large", {"error": "body too large"})
        return handler(environ, start_response, secret, body)

    return app
