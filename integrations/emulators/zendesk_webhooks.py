"""The Zendesk emulator's Webhooks and Triggers APIs, with Zendesk's shapes and strictness.

`ZendeskWebhooksMixin` is mixed into `ZendeskEmulator`, which calls `_init_webhooks()`. It serves:

- Webhooks API: `GET /api/v2/webhooks` (cursor pagination `page[size]` ≤ 100 / `page[after]`,
  `meta.has_more`, `links.next`; `filter[name_contains]`, `filter[status]`), `POST /api/v2/webhooks`
  (201 `{"webhook"}`), `GET|PUT|PATCH /api/v2/webhooks/{id}` (PUT and PATCH answer 204 No Content),
  `GET /api/v2/webhooks/{id}/signing_secret` (`{"signing_secret": {"algorithm": "SHA256",
  "secret"}}`). A webhook has a string id (ULID-like), `name`, `status` active|inactive, `endpoint`,
  `http_method`, `request_format` json|xml|form_encoded, `subscriptions` (`conditional_ticket_events`
  for webhooks triggers call, or `zen:event-type:...` event types). Errors are
  `{"errors": [{"code", "title", "detail", "source": {"pointer"}}]}` with 400, or 404 WebhookNotFound.
- Triggers API: `GET /api/v2/triggers.json` (offset pages: `triggers`, `next_page`, `previous_page`,
  `count`), `POST /api/v2/triggers.json` (201), `GET|PUT /api/v2/triggers/{id}.json` (200). A trigger
  has an integer id, `title`, `active`, `conditions {all, any}` (at least one `all` condition),
  `actions` (at least one); a `notification_webhook` action's value is `[webhook_id, body]`, the id of
  an existing webhook subscribed to `conditional_ticket_events`, and, for a JSON webhook, a body that
  parses as JSON. Errors: 422 `RecordInvalid` with `details`.

`trigger_webhook_requests(ticket_id)` renders what Zendesk would send for a ticket change: for each
active trigger's webhook action, the endpoint, the signed headers and the body (`{{ticket.id}}`
replaced), signed with that webhook's secret at the emulator clock's time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from integrations.emulators.base import RecordedRequest, Response

WEBHOOK_FIELDS = ("name", "status", "endpoint", "http_method", "request_format", "subscriptions")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REQUEST_FORMATS = ("json", "xml", "form_encoded")
WEBHOOK_STATUSES = ("active", "inactive")
CONDITIONAL = "conditional_ticket_events"
WEBHOOKS_MAX_PAGE_SIZE = 100
TRIGGERS_PAGE_SIZE = 100
FIRST_TRIGGER_ID = 360_000_100_001


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _webhook_error(status: int, code: str, detail: str, pointer: str | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "title": code, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return Response(status, {"errors": [error]})


def _trigger_invalid(field: str, description: str) -> Response:
    return Response(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field: [{"description": description, "error": "InvalidValue"}]},
        },
    )


class ZendeskWebhooksMixin:
    _now: Callable[[], datetime]
    url: str

    def _init_webhooks(self) -> None:
        self._webhooks: dict[str, dict[str, Any]] = {}
        self._webhook_secrets: dict[str, str] = {}
        self._triggers: dict[int, dict[str, Any]] = {}
        self._webhook_seq = itertools.count(1)
        self._trigger_seq = itertools.count(FIRST_TRIGGER_ID)
        route, guarded = self.route, self._guarded  # type: ignore[attr-defined]
        route("GET", "/api/v2/webhooks", guarded(self._list_webhooks))
        route("POST", "/api/v2/webhooks", guarded(self._create_webhook))
        route("GET", "/api/v2/webhooks/{id}/signing_secret", guarded(self._webhook_secret))
        route("GET", "/api/v2/webhooks/{id}", guarded(self._show_webhook))
        route("PUT", "/api/v2/webhooks/{id}", guarded(self._replace_webhook))
        route("PATCH", "/api/v2/webhooks/{id}", guarded(self._patch_webhook))
        route("GET", "/api/v2/triggers.json", guarded(self._list_triggers))
        route("POST", "/api/v2/triggers.json", guarded(self._create_trigger))
        route("GET", "/api/v2/triggers/{id}.json", guarded(self._show_trigger))
        route("PUT", "/api/v2/triggers/{id}.json", guarded(self._update_trigger))

    # -- inspection (tests) ----------------------------------------------------------------------
    def webhooks(self) -> list[dict[str, Any]]:
        with self._lock:  # type: ignore[attr-defined]
            return [dict(hook) for hook in self._webhooks.values()]

    def triggers(self) -> list[dict[str, Any]]:
        with self._lock:  # type: ignore[attr-defined]
            return [json.loads(json.dumps(t)) for t in self._triggers.values()]

    def webhook_signing_secret(self, webhook_id: str) -> str:
        with self._lock:  # type: ignore[attr-defined]
            return self._webhook_secrets[webhook_id]

    def trigger_webhook_requests(self, ticket_id: int) -> list[tuple[str, dict[str, str], bytes]]:
        """What Zendesk sends when a ticket changes: (endpoint, headers, body) per active trigger's
        webhook action of an active webhook (trigger conditions are not evaluated)."""
        out = []
        with self._lock:  # type: ignore[attr-defined]
            stamp = _iso(self._now())
            for trigger in self._triggers.values():
                if not trigger["active"]:
                    continue
                for action in trigger["actions"]:
                    if action["field"] != "notification_webhook":
                        continue
                    webhook_id, template = action["value"]
                    hook = self._webhooks.get(webhook_id)
                    if hook is None or hook["status"] != "active":
                        continue
                    body = template.replace("{{ticket.id}}", str(ticket_id)).encode()
                    secret = self._webhook_secrets[webhook_id]
                    signature = base64.b64encode(
                        hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
                    ).decode()
                    headers = {
                        "Content-Type": "application/json",
                        "User-Agent": "Zendesk Webhook",
                        "X-Zendesk-Webhook-Id": webhook_id,
                        "X-Zendesk-Webhook-Signature": signature,
                        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                    }
                    out.append((hook["endpoint"], headers, body))
        return out

    # -- webhooks --------------------------------------------------------------------------------
    def _validate_webhook(self, spec: Any, *, partial: bool) -> Response | None:
        if not isinstance(spec, dict):
            return _webhook_error(400, "InvalidInput", 'the body must be {"webhook": {...}}', "/webhook")
        missing = [] if partial else [f for f in WEBHOOK_FIELDS if f not in spec]
        if missing:
            return _webhook_error(400, "MissingField", f"{missing[0]} is required", f"/webhook/{missing[0]}")
        checks: dict[str, Callable[[Any], bool]] = {
            "name": lambda v: isinstance(v, str) and 0 < len(v.strip()) <= 255,
            "status": lambda v: v in WEBHOOK_STATUSES,
            "endpoint": lambda v: (
                isinstance(v, str) and urlsplit(v).scheme in ("http", "https") and bool(urlsplit(v).netloc)
            ),
            "http_method": lambda v: v in HTTP_METHODS,
            "request_format": lambda v: v in REQUEST_FORMATS,
            "subscriptions": lambda v: (
                isinstance(v, list)
                and bool(v)
                and all(
                    isinstance(s, str) and (s == CONDITIONAL or s.startswith("zen:event-type:")) for s in v
                )
            ),
            "description": lambda v: isinstance(v, str),
        }
        for name, value in spec.items():
            if name in ("authentication", "custom_headers", "external_source", "signing_secret"):
                continue
            check = checks.get(name)
            if check is None:
                return _webhook_error(
                    400, "UnknownField", f"{name} is not a webhook field", f"/webhook/{name}"
                )
            if not check(value):
                return _webhook_error(400, "InvalidValue", f"{name} is invalid", f"/webhook/{name}")
        return None

    def _render_webhook(self, hook: dict[str, Any]) -> dict[str, Any]:
        return {**hook, "signing_secret": {"algorithm": "SHA256", "secret": None}}

    def _list_webhooks(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        q = {k: v[-1] for k, v in req.query.items()}
        try:
            size = int(q.get("page[size]", WEBHOOKS_MAX_PAGE_SIZE))
        except ValueError:
            return _webhook_error(400, "InvalidPagination", "page[size] must be an integer")
        if not 0 < size <= WEBHOOKS_MAX_PAGE_SIZE:
            return _webhook_error(400, "InvalidPagination", f"page[size] must be 1..{WEBHOOKS_MAX_PAGE_SIZE}")
        contains = q.get("filter[name_contains]", "").lower()
        status = q.get("filter[status]")
        hooks = sorted(
            (
                h
                for h in self._webhooks.values()
                if contains in h["name"].lower() and (status is None or h["status"] == status)
            ),
            key=lambda h: h["id"],
        )
        after = q.get("page[after]")
        if after:
            hooks = [h for h in hooks if h["id"] > after]
        page, more = hooks[:size], len(hooks) > size
        last = page[-1]["id"] if page else None
        following = f"{self.url}/api/v2/webhooks?page[size]={size}&page[after]={last}" if more else None
        if more and contains:
            following += f"&filter[name_contains]={contains}"
        return Response(
            200,
            {
                "webhooks": [self._render_webhook(h) for h in page],
                "meta": {"has_more": more, "after_cursor": last if more else None, "before_cursor": None},
                "links": {"next": following, "prev": None},
            },
        )

    def _create_webhook(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        body = _json_body(req)
        spec = body.get("webhook") if isinstance(body, dict) else None
        problem = self._validate_webhook(spec, partial=False)
        if problem is not None:
            return problem
        assert isinstance(spec, dict)
        stamp = _iso(self._now())
        webhook_id = f"01HWDESK{next(self._webhook_seq):018d}"
        hook = {
            "id": webhook_id,
            **{k: spec[k] for k in WEBHOOK_FIELDS},
            "description": spec.get("description", ""),
            "created_at": stamp,
            "created_by": "900000000001",
            "updated_at": stamp,
            "updated_by": "900000000001",
        }
        self._webhooks[webhook_id] = hook
        self._webhook_secrets[webhook_id] = secrets.token_urlsafe(32)
        return Response(201, {"webhook": self._render_webhook(hook)})

    def _find_webhook(self, params: dict[str, str]) -> dict[str, Any] | Response:
        hook = self._webhooks.get(params["id"])
        if hook is None:
            return _webhook_error(404, "WebhookNotFound", "Webhook not found")
        return hook

    def _show_webhook(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        hook = self._find_webhook(params)
        return hook if isinstance(hook, Response) else Response(200, {"webhook": self._render_webhook(hook)})

    def _webhook_secret(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        hook = self._find_webhook(params)
        if isinstance(hook, Response):
            return hook
        secret = self._webhook_secrets[hook["id"]]
        return Response(200, {"signing_secret": {"algorithm": "SHA256", "secret": secret}})

    def _replace_webhook(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        return self._change_webhook(req, params, partial=False)

    def _patch_webhook(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        return self._change_webhook(req, params, partial=True)

    def _change_webhook(self, req: RecordedRequest, params: dict[str, str], *, partial: bool) -> Response:
        hook = self._find_webhook(params)
        if isinstance(hook, Response):
            return hook
        body = _json_body(req)
        spec = body.get("webhook") if isinstance(body, dict) else None
        problem = self._validate_webhook(spec, partial=partial)
        if problem is not None:
            return problem
        assert isinstance(spec, dict)
        if "signing_secret" in spec or "external_source" in spec:
            return _webhook_error(400, "InvalidInput", "signing_secret and external_source cannot be updated")
        hook.update({k: v for k, v in spec.items() if k in (*WEBHOOK_FIELDS, "description")})
        hook["updated_at"] = _iso(self._now())
        return Response(204, b"")

    # -- triggers --------------------------------------------------------------------------------
    def _validate_trigger(self, spec: Any) -> Response | None:
        if not isinstance(spec, dict):
            return _trigger_invalid("base", 'the body must be {"trigger": {...}}')
        title = spec.get("title")
        if not isinstance(title, str) or not title.strip():
            return _trigger_invalid("title", "Title: cannot be blank")
        if "active" in spec and not isinstance(spec["active"], bool):
            return _trigger_invalid("active", "active must be true or false")
        conditions = spec.get("conditions")
        if not isinstance(conditions, dict) or set(conditions) - {"all", "any"}:
            return _trigger_invalid("conditions", "conditions must be an object with all and any")
        for group in ("all", "any"):
            rows = conditions.get(group, [])
            if not isinstance(rows, list) or not all(
                isinstance(c, dict) and isinstance(c.get("field"), str) and isinstance(c.get("operator"), str)
                for c in rows
            ):
                return _trigger_invalid("conditions", f"conditions.{group}: each needs field and operator")
        if not conditions.get("all"):
            return _trigger_invalid("conditions", "Conditions: must have at least one condition in all")
        actions = spec.get("actions")
        if not isinstance(actions, list) or not actions:
            return _trigger_invalid("actions", "Actions: must have at least one action")
        for action in actions:
            if (
                not isinstance(action, dict)
                or not isinstance(action.get("field"), str)
                or "value" not in action
            ):
                return _trigger_invalid("actions", "each action needs field and value")
            if action["field"] == "notification_webhook":
                problem = self._validate_webhook_action(action["value"])
                if problem is not None:
                    return problem
        return None

    def _validate_webhook_action(self, value: Any) -> Response | None:
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            return _trigger_invalid("actions", "notification_webhook value must be [webhook_id, body]")
        hook = self._webhooks.get(value[0])
        if hook is None:
            return _trigger_invalid("actions", f"webhook {value[0]} does not exist")
        if CONDITIONAL not in hook["subscriptions"]:
            return _trigger_invalid("actions", "the webhook is not subscribed to conditional_ticket_events")
        if hook["request_format"] == "json":
            try:
                json.loads(value[1].replace("{{ticket.id}}", "1"))
            except ValueError:
                return _trigger_invalid("actions", "the JSON body is not valid JSON")
        return None

    def _render_trigger(
        self, spec: dict[str, Any], trigger_id: int, created: str, stamp: str
    ) -> dict[str, Any]:
        conditions = spec["conditions"]
        return {
            "id": trigger_id,
            "url": f"{self.url}/api/v2/triggers/{trigger_id}.json",
            "title": spec["title"],
            "active": spec.get("active", True),
            "description": spec.get("description"),
            "position": spec.get("position", trigger_id - FIRST_TRIGGER_ID + 1),
            "conditions": {"all": list(conditions.get("all", [])), "any": list(conditions.get("any", []))},
            "actions": list(spec["actions"]),
            "category_id": spec.get("category_id", "10001"),
            "raw_title": spec["title"],
            "default": False,
            "created_at": created,
            "updated_at": stamp,
        }

    def _list_triggers(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        q = {k: v[-1] for k, v in req.query.items()}
        try:
            page = max(1, int(q.get("page", "1")))
            per_page = min(TRIGGERS_PAGE_SIZE, max(1, int(q.get("per_page", str(TRIGGERS_PAGE_SIZE)))))
        except ValueError:
            return Response(
                400, {"error": "InvalidPaginationParameter", "description": "page must be a number"}
            )
        rows = [t for _, t in sorted(self._triggers.items())]
        if "active" in q:
            wanted = q["active"] == "true"
            rows = [t for t in rows if t["active"] is wanted]
        part = rows[(page - 1) * per_page : page * per_page]
        more = len(rows) > page * per_page
        base = f"{self.url}/api/v2/triggers.json?per_page={per_page}"
        return Response(
            200,
            {
                "triggers": part,
                "next_page": f"{base}&page={page + 1}" if more else None,
                "previous_page": f"{base}&page={page - 1}" if page > 1 else None,
                "count": len(rows),
            },
        )

    def _create_trigger(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        body = _json_body(req)
        spec = body.get("trigger") if isinstance(body, dict) else None
        problem = self._validate_trigger(spec)
        if problem is not None:
            return problem
        assert isinstance(spec, dict)
        stamp = _iso(self._now())
        trigger_id = next(self._trigger_seq)
        self._triggers[trigger_id] = self._render_trigger(spec, trigger_id, stamp, stamp)
        return Response(201, {"trigger": self._triggers[trigger_id]})

    def _trigger(self, params: dict[str, str]) -> dict[str, Any] | Response:
        raw = params["id"]
        trigger = self._triggers.get(int(raw)) if raw.isdigit() else None
        if trigger is None:
            return Response(404, {"error": "RecordNotFound", "description": "Not found"})
        return trigger

    def _show_trigger(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        trigger = self._trigger(params)
        return trigger if isinstance(trigger, Response) else Response(200, {"trigger": trigger})

    def _update_trigger(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        trigger = self._trigger(params)
        if isinstance(trigger, Response):
            return trigger
        body = _json_body(req)
        spec = body.get("trigger") if isinstance(body, dict) else None
        if not isinstance(spec, dict):
            return _trigger_invalid("base", 'the body must be {"trigger": {...}}')
        merged = {**trigger, **spec}
        problem = self._validate_trigger(merged)
        if problem is not None:
            return problem
        stamp = _iso(self._now())
        self._triggers[trigger["id"]] = self._render_trigger(
            merged, trigger["id"], trigger["created_at"], stamp
        )
        return Response(200, {"trigger": self._triggers[trigger["id"]]})


def _json_body(req: RecordedRequest) -> Any:
    try:
        return req.json()
    except ValueError:
        return None
