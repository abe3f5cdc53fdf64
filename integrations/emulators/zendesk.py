"""A strict local Zendesk Support API emulator for tests and `deskwatch demo`.

It serves the handful of endpoints Deskwatch calls through zenpy, shaped after Zendesk's OAS
(`TicketObject`, `CursorBasedExportIncrementalTicketsResponse`, `SearchExportResponse`), and it
reproduces the traps a lenient fake would hide (see shared/API-PITFALLS.md):

- `slas` is sideloaded only when `include=slas` is asked for, never otherwise;
- the cursor export keeps `after_url` on its last page (`end_of_stream: true`), and that cursor,
  requested later, returns the tickets changed since; each ticket appears once, at its latest state;
- `start_time` must be at least a minute old; show_many takes at most 100 ids; plain search stops
  at 1000 results (422) while still linking the next page;
- credentials are checked on every call (HTTP Basic `{email}/token:{token}`).

Search understands a deliberately small query language (`type:ticket`, `status`, `priority`,
`group`, `assignee`, `tags`, `created`, `updated`); anything else is a 400 naming the term, so a
test can never pass on a query the emulator silently misread.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from integrations.emulators.base import EmulatorServer, RecordedRequest, Response, _Fault

TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
SLA_STAGES = frozenset({"active", "paused", "achieved"})
SIDELOADS = frozenset({"slas", "users", "groups"})
SHOW_MANY_MAX_IDS = 100
SEARCH_RESULT_LIMIT = 1000
EXPORT_MAX_PAGE_SIZE = 1000
START_TIME_MIN_AGE = timedelta(seconds=60)

_TICKET_FIELDS = frozenset(
    {
        "id",
        "subject",
        "description",
        "status",
        "priority",
        "group_id",
        "assignee_id",
        "requester_id",
        "tags",
        "created_at",
        "updated_at",
        "slas",
    }
)
_UPDATABLE_FIELDS = frozenset({"subject", "status", "priority", "group_id", "assignee_id", "tags", "comment"})
_TOKEN_RE = re.compile(r'(?:[^\s"]+|"[^"]*")+')
_TERM_RE = re.compile(r'^(?P<field>[a-z_]+)(?P<op><=|>=|:|<|>)(?P<value>"[^"]*"|\S+)$')


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime | str, name: str) -> datetime:
    """Accept an aware datetime or an ISO-8601 string with offset; refuse naive times."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{name}: {value!r} is not an ISO-8601 timestamp") from exc
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or ISO-8601 string, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, not {type(value).__name__}")
    return value


def _normalise_slas(slas: Any) -> dict[str, Any] | None:
    """Validate a ticket's `slas` sideload and store breach_at as Zendesk's ISO string."""
    if slas is None:
        return None
    if not isinstance(slas, dict) or not isinstance(slas.get("policy_metrics"), list):
        raise ValueError('slas must look like {"policy_metrics": [{...}, ...]}')
    metrics = []
    for raw in slas["policy_metrics"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("metric"), str):
            raise ValueError(f"slas.policy_metrics entry needs a 'metric' name: {raw!r}")
        if raw.get("stage") not in SLA_STAGES:
            raise ValueError(f"slas stage must be one of {sorted(SLA_STAGES)}, got {raw.get('stage')!r}")
        breach_at = raw.get("breach_at")
        if breach_at is None and raw["stage"] == "active":
            raise ValueError(f"an active {raw['metric']} metric needs a breach_at")
        metrics.append(
            {
                "breach_at": None if breach_at is None else _iso(_as_utc(breach_at, "breach_at")),
                "stage": raw["stage"],
                "metric": raw["metric"],
                "hours": int(raw.get("hours", 0)),
                "minutes": int(raw.get("minutes", 0)),
                "days": int(raw.get("days", 0)),
            }
        )
    return {"policy_metrics": metrics}


def _encode_cursor(*parts: object) -> str:
    raw = ":".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str, kind: str, arity: int) -> list[int] | None:
    """Opaque cursors are base64url("kind:n:..."); anything else is None (the caller answers 400)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split(":")
    if len(parts) != arity + 1 or parts[0] != kind or not all(p.lstrip("-").isdigit() for p in parts[1:]):
        return None
    return [int(p) for p in parts[1:]]


def _error(status: int, error: str, description: str, **extra: Any) -> Response:
    return Response(status, {"error": error, "description": description, **extra})


class _BadRequest(Exception):
    """Raised inside a handler to answer with a Zendesk-shaped error."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body)
        self.response = response


@dataclass
class _Ticket:
    id: int
    subject: str
    description: str
    status: str
    priority: str | None
    group_id: int | None
    assignee_id: int | None
    requester_id: int | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    slas: dict[str, Any] | None
    seq: int = 0  # position of this ticket's latest change in the change log
    generated_at: datetime = field(default_factory=_utc_now)
    deleted: bool = False
    comments: list[dict[str, Any]] = field(default_factory=list)


Predicate = Callable[[_Ticket], bool]


class ZendeskEmulator(EmulatorServer):
    """Zendesk Support API (the subset Deskwatch uses) with seedable state and scripted faults."""

    name = "zendesk"

    def __init__(
        self,
        *,
        subdomain: str = "deskwatch-demo",
        email: str = "bot@deskwatch.example",
        token: str = "zd-demo-token",
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__()
        self.subdomain = subdomain
        self.email = email
        self.token = token
        self._now = now
        self.export_page_size = 1000
        self.search_page_size = 100
        self._users: dict[int, dict[str, Any]] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._tickets: dict[int, _Ticket] = {}
        self._seq = 0
        self._last_generated: datetime | None = None
        self._next_comment_id = 1
        self._bot_user_id = 900_000_000_001
        # show_many must precede {id}.json, which would otherwise match "show_many.json".
        self.route("GET", "/api/v2/users/me.json", self._guarded(self._users_me))
        self.route("GET", "/api/v2/tickets/show_many.json", self._guarded(self._show_many))
        self.route("GET", "/api/v2/tickets/{id}.json", self._guarded(self._show_ticket))
        self.route("PUT", "/api/v2/tickets/{id}.json", self._guarded(self._update_ticket))
        self.route("GET", "/api/v2/incremental/tickets/cursor.json", self._guarded(self._export_tickets))
        self.route("GET", "/api/v2/search.json", self._guarded(self._search))
        self.route("GET", "/api/v2/search/export.json", self._guarded(self._search_export))

    # -- seeding ---------------------------------------------------------------------------------
    def add_user(self, id: int, name: str, email: str | None = None, role: str = "agent") -> None:  # noqa: A002
        with self._lock:
            stamp = _iso(self._now())
            self._users[id] = {
                "id": id,
                "name": name,
                "email": email,
                "role": role,
                "active": True,
                "suspended": False,
                "time_zone": "UTC",
                "created_at": stamp,
                "updated_at": stamp,
            }

    def add_group(self, id: int, name: str) -> None:  # noqa: A002
        with self._lock:
            stamp = _iso(self._now())
            self._groups[id] = {
                "id": id,
                "name": name,
                "deleted": False,
                "default": False,
                "is_public": True,
                "description": "",
                "created_at": stamp,
                "updated_at": stamp,
            }

    def upsert_ticket(self, **fields: Any) -> dict[str, Any]:
        """Create or update a ticket (omitted fields keep their value) and log the change.

        Returns the ticket as the API shows it, with its `slas`.
        """
        unknown = set(fields) - _TICKET_FIELDS
        if unknown:
            raise TypeError(f"upsert_ticket got unknown fields {sorted(unknown)}")
        if "id" not in fields:
            raise TypeError("upsert_ticket needs an id")
        ticket_id = _optional_int(fields["id"], "id")
        assert ticket_id is not None
        with self._lock:
            now = self._now()
            current = self._tickets.get(ticket_id)
            if current is not None and current.deleted:
                raise ValueError(f"ticket {ticket_id} was deleted")
            if current is None:
                current = _Ticket(
                    id=ticket_id,
                    subject="",
                    description="",
                    status="open",
                    priority=None,
                    group_id=None,
                    assignee_id=None,
                    requester_id=None,
                    tags=[],
                    created_at=now,
                    updated_at=now,
                    slas=None,
                )
                previous_updated = None
            else:
                previous_updated = current.updated_at
            ticket = self._apply_fields(current, fields)
            if "updated_at" in fields:
                ticket.updated_at = _as_utc(fields["updated_at"], "updated_at")
                if previous_updated is not None and ticket.updated_at < previous_updated:
                    raise ValueError(
                        f"ticket {ticket_id}: updated_at {_iso(ticket.updated_at)} is before "
                        f"its current updated_at {_iso(previous_updated)}"
                    )
            elif previous_updated is not None:
                ticket.updated_at = max(now, previous_updated)
            elif "created_at" in fields:
                ticket.updated_at = max(now, ticket.created_at)
            self._tickets[ticket_id] = ticket
            self._log_change(ticket)
            return self._ticket_json(ticket, include={"slas"})

    def delete_ticket(self, id: int) -> None:  # noqa: A002
        """Soft-delete: gone from show/search, listed with status "deleted" by the export."""
        with self._lock:
            ticket = self._tickets.get(id)
            if ticket is None or ticket.deleted:
                raise KeyError(f"no ticket {id}")
            ticket.deleted = True
            ticket.status = "deleted"
            ticket.updated_at = max(self._now(), ticket.updated_at)
            self._log_change(ticket)

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Comments posted through the API (PUT with `comment`), oldest first."""
        with self._lock:
            return [dict(c) for c in self._tickets[ticket_id].comments]

    def ticket_json(self, ticket_id: int) -> dict[str, Any]:
        """The ticket as GET /tickets/{id}.json?include=slas would show it (for assertions)."""
        with self._lock:
            return self._ticket_json(self._tickets[ticket_id], include={"slas"})

    def _apply_fields(self, ticket: _Ticket, fields: dict[str, Any]) -> _Ticket:
        if "subject" in fields:
            ticket.subject = str(fields["subject"] or "")
        if "description" in fields:
            ticket.description = str(fields["description"] or "")
        if "status" in fields:
            if fields["status"] not in TICKET_STATUSES:
                raise ValueError(f"status must be one of {TICKET_STATUSES}, got {fields['status']!r}")
            ticket.status = fields["status"]
        if "priority" in fields:
            if fields["priority"] is not None and fields["priority"] not in PRIORITIES:
                raise ValueError(f"priority must be one of {PRIORITIES} or None, got {fields['priority']!r}")
            ticket.priority = fields["priority"]
        for name in ("group_id", "assignee_id", "requester_id"):
            if name in fields:
                setattr(ticket, name, _optional_int(fields[name], name))
        if "tags" in fields:
            tags = fields["tags"] or []
            if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
                raise TypeError("tags must be a list of strings")
            ticket.tags = list(tags)
        if "created_at" in fields:
            ticket.created_at = _as_utc(fields["created_at"], "created_at")
        if "slas" in fields:
            ticket.slas = _normalise_slas(fields["slas"])
        return ticket

    def _log_change(self, ticket: _Ticket) -> None:
        """Move the ticket to the end of the change log; the export streams the log in order.

        `generated_timestamp` (what `start_time` filters on) is the emulator clock at the change,
        kept monotonic so the log stays ordered in time as well.
        """
        self._seq += 1
        ticket.seq = self._seq
        generated = self._now()
        if self._last_generated is not None and generated < self._last_generated:
            generated = self._last_generated
        self._last_generated = generated
        ticket.generated_at = generated

    # -- faults ----------------------------------------------------------------------------------
    def fault_response(self, fault: _Fault) -> Response:
        if fault.body is not None:
            body = fault.body
        elif fault.status == 429:
            body = {
                "error": "APIRateLimitExceeded",
                "description": "Number of allowed API requests per minute exceeded",
            }
        elif fault.status == 503:
            body = {"error": "ServiceUnavailable", "description": "Zendesk is temporarily unavailable"}
        elif fault.status >= 500:
            body = {"error": "InternalError", "description": "An internal error occurred"}
        else:
            body = {"error": "InvalidValue", "description": f"emulated status {fault.status}"}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(fault.status, body, headers)

    def not_found(self, req: RecordedRequest) -> Response:
        return _error(404, "InvalidEndpoint", "Not found")

    # -- plumbing --------------------------------------------------------------------------------
    def _guarded(
        self, fn: Callable[[RecordedRequest, dict[str, str]], Response]
    ) -> Callable[[RecordedRequest, dict[str, str]], Response]:
        """Check credentials, hold the state lock, and turn _BadRequest into its response."""

        def handler(req: RecordedRequest, params: dict[str, str]) -> Response:
            if not self._authorised(req):
                return Response(401, {"error": "Couldn't authenticate you"})
            with self._lock:
                try:
                    return fn(req, params)
                except _BadRequest as bad:
                    return bad.response

        return handler

    def _authorised(self, req: RecordedRequest) -> bool:
        header = req.header("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            supplied = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(supplied, f"{self.email}/token:{self.token}")

    @property
    def _base_url(self) -> str:
        """Where links point: the running server, else the Zendesk address it stands in for."""
        return self.url if self._server is not None else f"https://{self.subdomain}.zendesk.com"

    def _api_url(self, path: str, params: dict[str, Any] | None = None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self._base_url}/api/v2/{path}{query}"

    @staticmethod
    def _param(req: RecordedRequest, name: str) -> str | None:
        values = req.query.get(name)
        return values[-1] if values else None

    def _int_param(self, req: RecordedRequest, name: str, default: int) -> int:
        raw = self._param(req, name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit():
            raise _BadRequest(_error(400, "InvalidValue", f"{name} must be a positive integer, got {raw!r}"))
        return int(raw)

    def _include(self, req: RecordedRequest) -> set[str]:
        raw = self._param(req, "include") or ""
        wanted = {part.strip() for part in raw.split(",") if part.strip()}
        unsupported = wanted - SIDELOADS
        if unsupported:
            raise _BadRequest(
                _error(
                    400,
                    "InvalidValue",
                    f"unsupported sideload(s) {sorted(unsupported)}; "
                    f"this emulator supports {sorted(SIDELOADS)}",
                )
            )
        return wanted

    def _ticket_json(self, ticket: _Ticket, include: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": ticket.id,
            "url": f"{self._base_url}/api/v2/tickets/{ticket.id}.json",
            "external_id": None,
            "type": None,
            "subject": ticket.subject,
            "raw_subject": ticket.subject,
            "description": ticket.description,
            "priority": ticket.priority,
            "status": ticket.status,
            "recipient": None,
            "requester_id": ticket.requester_id,
            "submitter_id": ticket.requester_id,
            "assignee_id": ticket.assignee_id,
            "organization_id": None,
            "group_id": ticket.group_id,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": list(ticket.tags),
            "custom_fields": [],
            "via": {"channel": "web"},
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
            "created_at": _iso(ticket.created_at),
            "updated_at": _iso(ticket.updated_at),
            "generated_timestamp": int(ticket.generated_at.timestamp()),
        }
        if "slas" in include:
            body["slas"] = json.loads(json.dumps(ticket.slas or {"policy_metrics": []}))
        return body

    def _with_sideloads(
        self, body: dict[str, Any], tickets: Iterable[_Ticket], include: set[str]
    ) -> dict[str, Any]:
        tickets = list(tickets)
        if "users" in include:
            ids = sorted(
                {uid for t in tickets for uid in (t.assignee_id, t.requester_id) if uid in self._users}
            )
            body["users"] = [dict(self._users[uid]) for uid in ids]
        if "groups" in include:
            gids = sorted({t.group_id for t in tickets if t.group_id in self._groups})
            body["groups"] = [dict(self._groups[gid]) for gid in gids]
        return body

    def _live_ticket(self, raw_id: str) -> _Ticket:
        ticket = self._tickets.get(int(raw_id)) if raw_id.isdigit() else None
        if ticket is None or ticket.deleted:
            raise _BadRequest(_error(404, "RecordNotFound", "Not found"))
        return ticket

    # -- endpoints -------------------------------------------------------------------------------
    def _users_me(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        for user in self._users.values():
            if user["email"] == self.email:
                return Response(200, {"user": dict(user)})
        stamp = _iso(self._now())
        me = {
            "id": self._bot_user_id,
            "name": "Deskwatch Bot",
            "email": self.email,
            "role": "admin",
            "active": True,
            "suspended": False,
            "time_zone": "UTC",
            "created_at": stamp,
            "updated_at": stamp,
        }
        return Response(200, {"user": me})

    def _show_ticket(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        include = self._include(req)
        ticket = self._live_ticket(params["id"])
        return Response(
            200, self._with_sideloads({"ticket": self._ticket_json(ticket, include)}, [ticket], include)
        )

    def _show_many(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        include = self._include(req)
        raw = self._param(req, "ids") or ""
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise _BadRequest(_error(400, "InvalidValue", "ids must be a comma-separated list of ticket ids"))
        if len(parts) > SHOW_MANY_MAX_IDS:
            raise _BadRequest(
                _error(
                    400,
                    "TooManyValues",
                    f"Parameter ids cannot specify more than {SHOW_MANY_MAX_IDS} values",
                    max_count=SHOW_MANY_MAX_IDS,
                )
            )
        found: list[_Ticket] = []
        for part in dict.fromkeys(parts):
            ticket = self._tickets.get(int(part))
            if ticket is not None and not ticket.deleted:
                found.append(ticket)
        body = {
            "tickets": [self._ticket_json(t, include) for t in found],
            "next_page": None,
            "previous_page": None,
            "count": len(found),
        }
        return Response(200, self._with_sideloads(body, found, include))

    def _update_ticket(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        ticket = self._live_ticket(params["id"])
        try:
            payload = req.json()
        except ValueError as exc:
            raise _BadRequest(_error(400, "InvalidValue", "request body is not JSON")) from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), dict):
            raise _BadRequest(_error(400, "InvalidValue", 'body must be {"ticket": {...}}'))
        changes = {k: v for k, v in payload["ticket"].items() if k in _UPDATABLE_FIELDS}
        details = self._validate_update(changes)
        if details:
            raise _BadRequest(_error(422, "RecordInvalid", "Record validation errors", details=details))
        comment = changes.pop("comment", None)
        self._apply_fields(ticket, changes)
        now = self._now()
        events: list[dict[str, Any]] = []
        if comment is not None:
            stored = {
                "id": self._next_comment_id,
                "type": "Comment",
                "body": comment["body"],
                "public": bool(comment.get("public", True)),
                "author_id": self._bot_user_id,
                "created_at": _iso(now),
            }
            self._next_comment_id += 1
            ticket.comments.append(stored)
            events.append(dict(stored))
        for name, value in changes.items():
            events.append({"type": "Change", "field_name": name, "value": value})
        ticket.updated_at = max(now, ticket.updated_at)
        self._log_change(ticket)
        audit = {
            "id": ticket.seq,
            "ticket_id": ticket.id,
            "created_at": _iso(now),
            "author_id": self._bot_user_id,
            "events": events,
        }
        return Response(200, {"ticket": self._ticket_json(ticket, set()), "audit": audit})

    @staticmethod
    def _validate_update(changes: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        details: dict[str, list[dict[str, str]]] = {}

        def bad(name: str, text: str) -> None:
            details.setdefault(name, []).append({"description": text, "error": "InvalidValue"})

        if "status" in changes and changes["status"] not in TICKET_STATUSES:
            bad("status", f"Status: {changes['status']!r} is not a valid status")
        if "priority" in changes and changes["priority"] not in (*PRIORITIES, None):
            bad("priority", f"Priority: {changes['priority']!r} is not a valid priority")
        for name in ("group_id", "assignee_id"):
            value = changes.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                bad(name, f"{name} must be an integer")
        tags = changes.get("tags")
        if "tags" in changes and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
            bad("tags", "tags must be a list of strings")
        comment = changes.get("comment")
        if "comment" in changes and (
            not isinstance(comment, dict) or not isinstance(comment.get("body"), str) or not comment["body"]
        ):
            bad("comment", "comment needs a non-empty body")
        return details

    def _export_tickets(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """Cursor-based incremental export: the change log from a position, latest state per ticket."""
        include = self._include(req)
        raw_start, raw_cursor = self._param(req, "start_time"), self._param(req, "cursor")
        if (raw_start is None) == (raw_cursor is None):
            raise _BadRequest(_error(400, "InvalidValue", "Provide exactly one of start_time or cursor"))
        page_size = max(1, min(self.export_page_size, self._int_param(req, "per_page", EXPORT_MAX_PAGE_SIZE)))
        log = sorted(self._tickets.values(), key=lambda t: t.seq)
        if raw_start is not None:
            if not raw_start.lstrip("-").isdigit():
                raise _BadRequest(
                    _error(400, "InvalidValue", f"start_time must be an integer, got {raw_start!r}")
                )
            start_time = int(raw_start)
            if start_time > (self._now() - START_TIME_MIN_AGE).timestamp():
                raise _BadRequest(
                    _error(400, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute")
                )
            stream = [t for t in log if t.generated_at.timestamp() >= start_time]
            if not stream:
                # Zendesk gives no cursor when a start_time export finds nothing.
                return Response(200, self._export_body([], None, None, True, include))
            floor = stream[0].seq - 1
        else:
            assert raw_cursor is not None
            decoded = _decode_cursor(raw_cursor, "export", 1)
            if decoded is None:
                raise _BadRequest(_error(400, "InvalidCursor", "The cursor is invalid or has expired"))
            floor = decoded[0]
            stream = [t for t in log if t.seq > floor]
        page = stream[:page_size]
        end_of_stream = len(stream) <= page_size
        after = _encode_cursor("export", page[-1].seq if page else floor)
        before = _encode_cursor("export", page[0].seq - 1) if page else None
        return Response(200, self._export_body(page, after, before, end_of_stream, include))

    def _export_body(
        self,
        page: list[_Ticket],
        after: str | None,
        before: str | None,
        end_of_stream: bool,
        include: set[str],
    ) -> dict[str, Any]:
        def url(cursor: str | None) -> str | None:
            if cursor is None:
                return None
            query: dict[str, Any] = {"cursor": cursor}
            if include:
                query["include"] = ",".join(sorted(include))
            return self._api_url("incremental/tickets/cursor.json", query)

        body = {
            "tickets": [self._ticket_json(t, include) for t in page],
            "after_cursor": after,
            "after_url": url(after),
            "before_cursor": before,
            "before_url": url(before),
            "end_of_stream": end_of_stream,
        }
        return self._with_sideloads(body, page, include)

    def _search(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """Offset-paged search: at most 1000 results reachable, though next_page keeps linking on."""
        query = self._param(req, "query") or ""
        predicates = self._parse_query(query, filter_type=self._param(req, "filter[type]"))
        per_page = max(1, min(self._int_param(req, "per_page", self.search_page_size), 100))
        page_number = max(self._int_param(req, "page", 1), 1)
        if page_number * per_page > SEARCH_RESULT_LIMIT:
            raise _BadRequest(
                _error(
                    422,
                    "invalid",
                    "Invalid search: Requested response size was greater than Search Response Limits",
                )
            )
        matches = self._sorted(self._matching(predicates), req)
        start = (page_number - 1) * per_page
        window = matches[start : start + per_page]

        def page_url(number: int) -> str:
            return self._api_url("search.json", {"query": query, "page": number, "per_page": per_page})

        body = {
            "results": [{**self._ticket_json(t, set()), "result_type": "ticket"} for t in window],
            "facets": None,
            "next_page": page_url(page_number + 1) if start + per_page < len(matches) else None,
            "previous_page": page_url(page_number - 1) if page_number > 1 else None,
            "count": len(matches),
        }
        return Response(200, body)

    def _search_export(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """Cursor-paged search export, ordered by created_at: no 1000-result cap."""
        filter_type = self._param(req, "filter[type]")
        if filter_type is None:
            raise _BadRequest(_error(400, "InvalidValue", "filter[type] is required for search export"))
        query = self._param(req, "query") or ""
        predicates = self._parse_query(query, filter_type=filter_type)
        page_size = self._int_param(req, "page[size]", 100)
        if not 1 <= page_size <= EXPORT_MAX_PAGE_SIZE:
            raise _BadRequest(
                _error(
                    400,
                    "InvalidPaginationParameter",
                    f"page[size] must be between 1 and {EXPORT_MAX_PAGE_SIZE}",
                )
            )
        matches = sorted(self._matching(predicates), key=lambda t: (t.created_at, t.id))
        after_token = self._param(req, "page[after]")
        if after_token:
            decoded = _decode_cursor(after_token, "search", 2)
            if decoded is None:
                raise _BadRequest(
                    _error(400, "InvalidPaginationParameter", "page[after] is invalid or expired")
                )
            position = (decoded[0], decoded[1])
            matches = [t for t in matches if (int(t.created_at.timestamp() * 1_000_000), t.id) > position]
        page = matches[:page_size]
        has_more = len(matches) > page_size
        after = None
        if has_more:
            last = page[-1]
            after = _encode_cursor("search", int(last.created_at.timestamp() * 1_000_000), last.id)
        next_url = (
            self._api_url(
                "search/export.json",
                {"query": query, "filter[type]": filter_type, "page[size]": page_size, "page[after]": after},
            )
            if after
            else None
        )
        body = {
            "results": [{**self._ticket_json(t, set()), "result_type": "ticket"} for t in page],
            "facets": None,
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": None},
            "links": {"next": next_url, "prev": None},
        }
        return Response(200, body)

    # -- search query language ------------------------------------------------------------------
    def _matching(self, predicates: list[Predicate]) -> list[_Ticket]:
        return [t for t in self._tickets.values() if not t.deleted and all(p(t) for p in predicates)]

    def _sorted(self, tickets: list[_Ticket], req: RecordedRequest) -> list[_Ticket]:
        sort_by = self._param(req, "sort_by")
        descending = (self._param(req, "sort_order") or "desc") == "desc"
        keys: dict[str, Callable[[_Ticket], Any]] = {
            "created_at": lambda t: (t.created_at, t.id),
            "updated_at": lambda t: (t.updated_at, t.id),
            "priority": lambda t: (PRIORITIES.index(t.priority) if t.priority else -1, t.id),
            "status": lambda t: (TICKET_STATUSES.index(t.status), t.id),
        }
        if sort_by is None:
            return sorted(tickets, key=lambda t: t.id)
        if sort_by not in keys:
            raise _BadRequest(_error(400, "InvalidValue", f"sort_by must be one of {sorted(keys)}"))
        return sorted(tickets, key=keys[sort_by], reverse=descending)

    def _parse_query(self, query: str, *, filter_type: str | None) -> list[Predicate]:
        """Translate the supported query subset into predicates; anything else is a 400."""
        if filter_type is not None and filter_type != "ticket":
            raise _BadRequest(_error(400, "unsupported_query", "this emulator only searches tickets"))
        predicates: list[Predicate] = []
        saw_type = filter_type == "ticket"
        for token in _TOKEN_RE.findall(query):
            match = _TERM_RE.match(token)
            if match is None:
                raise self._unsupported(token)
            name, op, value = match["field"], match["op"], match["value"].strip('"')
            if name == "type":
                if op != ":" or value != "ticket":
                    raise self._unsupported(token)
                saw_type = True
            elif name == "status":
                predicates.append(self._ordered_term(token, op, value, TICKET_STATUSES, lambda t: t.status))
            elif name == "priority":
                predicates.append(self._ordered_term(token, op, value, PRIORITIES, lambda t: t.priority))
            elif name in ("group", "group_id") and op == ":":
                predicates.append(self._group_term(token, value))
            elif name == "assignee" and op == ":":
                predicates.append(self._id_term(token, value, lambda t: t.assignee_id))
            elif name in ("tags", "tag") and op == ":":
                predicates.append(lambda t, tag=value: tag in t.tags)
            elif name in ("created", "updated", "created_at", "updated_at"):
                getter = (lambda t: t.created_at) if name.startswith("created") else (lambda t: t.updated_at)
                predicates.append(self._time_term(token, op, value, getter))
            else:
                raise self._unsupported(token)
        if not saw_type:
            raise _BadRequest(
                _error(400, "unsupported_query", "this emulator only searches tickets: add type:ticket")
            )
        return predicates

    @staticmethod
    def _unsupported(token: str) -> _BadRequest:
        return _BadRequest(
            _error(
                400,
                "unsupported_query",
                f"the Zendesk emulator does not support the search term {token!r}; supported: type:ticket, "
                "status/priority with : < > <= >=, group:<id|name|none>, assignee:<id|none>, tags:<tag>, "
                "created/updated with : < > <= >= and an ISO date or timestamp",
            )
        )

    def _ordered_term(
        self,
        token: str,
        op: str,
        value: str,
        order: tuple[str, ...],
        getter: Callable[[_Ticket], str | None],
    ) -> Predicate:
        if value not in order:
            raise self._unsupported(token)
        rank = order.index(value)

        def predicate(t: _Ticket) -> bool:
            current = getter(t)
            if current is None:
                return False
            return _compare(order.index(current), op, rank)

        return predicate

    def _group_term(self, token: str, value: str) -> Predicate:
        if value == "none":
            return lambda t: t.group_id is None
        if value.isdigit():
            return lambda t: t.group_id == int(value)
        ids = {gid for gid, g in self._groups.items() if g["name"].lower() == value.lower()}
        if not ids:
            raise self._unsupported(token)
        return lambda t: t.group_id in ids

    def _id_term(self, token: str, value: str, getter: Callable[[_Ticket], int | None]) -> Predicate:
        if value == "none":
            return lambda t: getter(t) is None
        if not value.isdigit():
            raise self._unsupported(token)
        return lambda t: getter(t) == int(value)

    def _time_term(self, token: str, op: str, value: str, getter: Callable[[_Ticket], datetime]) -> Predicate:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return lambda t: _compare(getter(t).date(), op, day)
        try:
            moment = _as_utc(value, "search time")
        except (ValueError, TypeError) as exc:
            raise self._unsupported(token) from exc
        return lambda t: _compare(getter(t), op, moment)


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == ":":
        return left == right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right
