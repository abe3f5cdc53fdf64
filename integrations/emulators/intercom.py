"""A strict local emulator of the Intercom REST API 2.14, for tests and `deskwatch demo`.

Shapes follow `shared/specs/intercom/2.14/api.intercom.io.yaml`. It is strict where the real API
punishes lenient clients: search pages hold 20 conversations unless `pagination.per_page` (max 150)
is sent, filters nest at most two levels, only searchable fields are accepted (`sla_applied` is not),
`admin_assignee_id` / `team_assignee_id` are JSON integers, every error is an `error.list`, and an
unsupported `Intercom-Version` header is refused. The `Intercom-Version` values received are kept in
`versions_seen`, so tests can prove the client pins the version.

Conversations the team started (`delivered_as` admin_initiated, automated, operator_initiated or
campaigns_initiated) carry the shapes Intercom sends for them (the spec's recorded examples of
`GET /conversations/{id}` and of a user reply): an admin source author, `first_contact_reply: null`,
`waiting_since: null` and `statistics: null` until the customer writes. A customer reply
(`customer_reply` or `POST /conversations/{id}/reply` with `type: user`) sets `first_contact_reply`
and `waiting_since`; `statistics.first_admin_reply_at` counts only admin replies after it.

Every conversation has one customer (`contacts.contacts[0]`, a bare `{type, id, external_id}`
reference as Intercom sends it): a contact registered with `add_contact` and named by `contact_id`,
or a per-conversation default ("Customer"). `GET /contacts/{id}` serves them; the customer is the
source author of a conversation they started and the author (`user` or `lead`) of their replies.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import html
import itertools
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from integrations.emulators.base import EmulatorServer, RecordedRequest, Response
from integrations.emulators.intercom_history import HistorySeeding, sort_error

if TYPE_CHECKING:
    from integrations.emulators.base import _Fault

SUPPORTED_VERSIONS = frozenset({"2.14", "2.15"})
CUSTOMER_INITIATED = "customer_initiated"
# `conversation_source.delivered_as` values listed in the 2.14 spec.
DELIVERED_AS = frozenset(
    {CUSTOMER_INITIATED, "campaigns_initiated", "operator_initiated", "automated", "admin_initiated"}
)
_CONTACT_AUTHORS = frozenset({"user", "lead"})
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 150
MAX_NESTING = 2
MAX_GROUP_FILTERS = 15
RATE_LIMIT_WINDOW_SECONDS = 10

_STRING, _DATE, _INTEGER, _BOOLEAN = "string", "date", "integer", "boolean"
_OPERATORS = {
    _STRING: frozenset({"=", "!=", "IN", "NIN", "~", "!~", "^", "$"}),
    _DATE: frozenset({"=", "!=", "IN", "NIN", ">", "<"}),
    _INTEGER: frozenset({"=", "!=", "IN", "NIN", ">", "<"}),
    _BOOLEAN: frozenset({"=", "!=", "IN", "NIN"}),
}
_STAT_TIMESTAMPS = (
    "first_contact_reply_at",
    "first_assignment_at",
    "first_admin_reply_at",
    "first_close_at",
    "last_assignment_at",
    "last_assignment_admin_reply_at",
    "last_contact_reply_at",
    "last_admin_reply_at",
    "last_close_at",
)
_STAT_INTEGERS = (
    "time_to_assignment",
    "time_to_admin_reply",
    "time_to_first_close",
    "time_to_last_close",
    "median_time_to_reply",
    "count_reopens",
    "count_assignments",
    "count_conversation_parts",
)
# The "Accepted Fields" table of POST /conversations/search (contacts, teammates, ratings and AI
# agent fields omitted: the emulator does not model them, so searching them is refused).
_SEARCH_FIELDS: dict[str, str] = {
    "id": _STRING,
    "created_at": _DATE,
    "updated_at": _DATE,
    "source.type": _STRING,
    "source.id": _STRING,
    "source.delivered_as": _STRING,
    "source.subject": _STRING,
    "source.body": _STRING,
    "source.author.id": _STRING,
    "source.author.type": _STRING,
    "source.author.name": _STRING,
    "source.author.email": _STRING,
    "source.url": _STRING,
    "admin_assignee_id": _STRING,
    "team_assignee_id": _STRING,
    "open": _BOOLEAN,
    "read": _BOOLEAN,
    "state": _STRING,
    "waiting_since": _DATE,
    "snoozed_until": _DATE,
    "tag_ids": _STRING,
    "priority": _STRING,
    "statistics.last_closed_by_id": _STRING,
    **{f"statistics.{name}": _DATE for name in _STAT_TIMESTAMPS},
    **{f"statistics.{name}": _INTEGER for name in _STAT_INTEGERS},
}
_UPSERT_FIELDS = frozenset(
    {
        "id",
        "title",
        "state",
        "open",
        "read",
        "priority",
        "admin_assignee_id",
        "team_assignee_id",
        "created_at",
        "updated_at",
        "waiting_since",
        "snoozed_until",
        "source",
        "subject",
        "body",
        "statistics",
        "tags",
        "sla_applied",
        "custom_attributes",
        "delivered_as",
        "contact_id",
    }
)
CONTACT_ROLES = frozenset({"user", "lead"})
_TAG_RE = re.compile(r"<[^>]*>")
_WORD_RE = re.compile(r"\w+")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _ApiError(Exception):
    """Raised inside a route to answer with an Intercom `error.list`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {
        "type": "error.list",
        "request_id": str(uuid.uuid4()),
        "errors": [{"code": code, "message": message}],
    }


def _unix(value: datetime | int | None) -> int | None:
    """Accept an aware datetime or a unix int (what the API itself speaks)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the Intercom emulator; use an aware UTC datetime")
        return int(value.timestamp())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected an aware datetime or unix int, got {value!r}")


def _int_id(value: int | str | None) -> int | None:
    if value is None:
        return None
    return int(value)


def _plain_text(body: str | None) -> str:
    return " ".join(html.unescape(_TAG_RE.sub(" ", body or "")).split())


class IntercomEmulator(HistorySeeding, EmulatorServer):
    """Serves /me, /admins, /teams and the conversation endpoints Deskwatch reads and writes; the
    history seeding (`close`, `reopen`, `assign`, `snooze`, `rate` at given times) is `HistorySeeding`."""

    name = "intercom"

    def __init__(
        self,
        *,
        token: str = "ic-demo-token",
        app_id: str = "deskwatchdemo",
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__()
        self.token = token
        self.app_id = app_id
        self._now = now
        self._admins: dict[str, dict[str, Any]] = {}
        self._teams: dict[str, dict[str, Any]] = {}
        self._tags: dict[str, str] = {}
        self._conversations: dict[str, dict[str, Any]] = {}
        self._parts: dict[str, list[dict[str, Any]]] = {}
        self._contacts: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._versions: list[str] = []
        # Sorted search results by query, dropped on any change: paging 80,000 conversations 150 at a
        # time must not filter and sort all of them again for every page.
        self._results: dict[str, _Results] = {}
        self._api("GET", "/me", self._me)
        self._api("GET", "/admins", self._list_admins)
        self._api("GET", "/teams", self._list_teams)
        self._api("GET", "/contacts/{id}", self._get_contact)
        self._api("POST", "/conversations/search", self._search)
        self._api("GET", "/conversations", self._list_conversations)
        self._api("GET", "/conversations/{id}", self._get_conversation)
        self._api("PUT", "/conversations/{id}", self._update_conversation)
        self._api("POST", "/conversations/{id}/reply", self._reply)
        self._api("POST", "/conversations/{id}/parts", self._manage)
        self._api("POST", "/conversations/{id}/tags", self._attach_tag)
        self._api("POST", "/tags", self._create_tag)

    # -- seeding ---------------------------------------------------------------------------------
    @property
    def versions_seen(self) -> list[str]:
        """`Intercom-Version` header values received, in order (requests without one add nothing)."""
        with self._lock:
            return list(self._versions)

    def add_admin(
        self,
        id: int | str,  # noqa: A002
        name: str,
        email: str | None = None,
        *,
        has_inbox_seat: bool = True,
    ) -> None:
        with self._lock:
            admin_id = str(id)
            self._admins[admin_id] = {
                "id": admin_id,
                "name": name,
                "email": email or f"admin{admin_id}@example.com",
                "has_inbox_seat": has_inbox_seat,
            }

    def add_team(self, id: int | str, name: str, admin_ids: Iterable[int | str] = ()) -> None:  # noqa: A002
        with self._lock:
            self._teams[str(id)] = {"id": str(id), "name": name, "admin_ids": [int(a) for a in admin_ids]}

    def add_contact(
        self,
        id: str,  # noqa: A002
        name: str | None,
        email: str | None = None,
        *,
        role: str = "user",
    ) -> None:
        """A workspace contact (`role` user or lead; leads often have no name) for `contact_id=`."""
        if role not in CONTACT_ROLES:
            raise ValueError(f"role must be one of {sorted(CONTACT_ROLES)}, got {role!r}")
        with self._lock:
            self._contacts[str(id)] = {
                "id": str(id),
                "role": role,
                "name": name,
                "email": email,
                "created_at": self._now_ts(),
            }

    def add_tag(self, id: int | str, name: str) -> None:  # noqa: A002
        """Register a workspace tag so POST /conversations/{id}/tags can attach it by id."""
        with self._lock:
            self._tags[str(id)] = name

    def upsert_conversation(self, **fields: Any) -> dict[str, Any]:
        """Create or update a conversation; returns its API JSON. Unknown fields raise TypeError.

        `subject` / `body` are shortcuts for `source.subject` / `source.body`; `tags` is a list of
        tag names (or `{"id", "name"}` dicts). `updated_at` defaults to now and never moves back.
        `delivered_as` (fixed at creation, default `customer_initiated`) says who started it: the
        customer (source author a `user`, `first_contact_reply` = the opening message) or the team
        (`admin_initiated`, `automated`, `operator_initiated`, `campaigns_initiated`: admin author,
        `first_contact_reply` and `statistics` null until `customer_reply`). `statistics=None` makes
        statistics null; a dict (even `{}`) creates them if null and sets the named ones.
        `contact_id` (fixed at creation) names the customer, a contact registered with `add_contact`.
        """
        with self._lock:
            return self._render(self._upsert(fields), parts=False)

    def upsert_conversations(self, rows: Iterable[dict[str, Any]]) -> int:
        """`upsert_conversation` for many at once (e.g. 80,000 to page through), without rendering
        each one back; returns how many were upserted."""
        with self._lock:
            count = 0
            for fields in rows:
                self._upsert(fields)
                count += 1
            return count

    def _upsert(self, fields: dict[str, Any]) -> dict[str, Any]:
        unknown = set(fields) - _UPSERT_FIELDS
        if unknown:
            raise TypeError(f"unknown Intercom conversation fields: {sorted(unknown)}")
        conv_id = str(fields["id"]) if "id" in fields else self._unused_id(self._conversations, 1000)
        existing = self._conversations.get(conv_id)
        origin = fields.get("delivered_as")
        if existing is not None and origin is not None and origin != _delivered_as(existing):
            raise ValueError(f"conversation {conv_id} exists: delivered_as is fixed at creation")
        contact_id = fields.get("contact_id")
        if contact_id is not None and str(contact_id) not in self._contacts:
            raise ValueError(f"unknown contact {contact_id!r}: register it with add_contact first")
        if existing is not None and contact_id is not None and str(contact_id) != _contact_id(existing):
            raise ValueError(f"conversation {conv_id} exists: its contact is fixed at creation")
        conv = existing if existing is not None else self._new_conversation(conv_id, fields)
        self._apply_fields(conv, fields)
        self._sync_first_contact(conv, fields)
        explicit = _unix(fields.get("updated_at"))
        stamp = explicit if explicit is not None else self._now_ts()
        conv["updated_at"] = stamp if existing is None else max(conv["updated_at"], stamp)
        self._conversations[conv_id] = conv
        self._results.clear()
        self._parts.setdefault(conv_id, [])
        return conv

    def conversation(self, id: int | str) -> dict[str, Any]:  # noqa: A002
        """Current API JSON of one conversation, with its parts (for assertions)."""
        with self._lock:
            return self._render(self._conversations[str(id)], parts=True)

    def customer_reply(
        self,
        id: int | str,  # noqa: A002
        *,
        body: str = "<p>Thanks, I have a question</p>",
        at: datetime | int | None = None,
    ) -> dict[str, Any]:
        """The conversation's customer writes (at `at`, default now), as through the Messenger.

        Same effect as `POST /conversations/{id}/reply` with `type: user`; returns the API JSON."""
        with self._lock:
            conv = self._conversations[str(id)]
            self._contact_reply(conv, body, self._at(at))
            return self._render(conv, parts=True)

    def admin_reply(
        self,
        id: int | str,  # noqa: A002
        admin_id: int | str,
        *,
        body: str = "<p>Happy to help</p>",
        at: datetime | int | None = None,
        message_type: str = "comment",
    ) -> dict[str, Any]:
        """A registered admin replies (or adds a `note`) at `at`, default now, as through the API."""
        if message_type not in ("comment", "note"):
            raise ValueError(f"message_type must be comment or note, got {message_type!r}")
        with self._lock:
            conv = self._conversations[str(id)]
            admin = self._admins[str(admin_id)]
            self._admin_reply(conv, admin, message_type, body, self._at(at))
            return self._render(conv, parts=True)

    def _unused_id(self, taken: dict[str, Any], base: int) -> str:
        while True:
            candidate = str(base + next(self._ids))
            if candidate not in taken:
                return candidate

    def _now_ts(self) -> int:
        return int(self._now().timestamp())

    def _at(self, at: datetime | int | None) -> int:
        stamp = _unix(at)
        return self._now_ts() if stamp is None else stamp

    def _new_conversation(self, conv_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        created = _unix(fields.get("created_at"))
        if created is None:
            created = _unix(fields.get("updated_at")) or self._now_ts()
        delivered_as = fields.get("delivered_as", CUSTOMER_INITIATED)
        if delivered_as not in DELIVERED_AS:
            raise ValueError(f"delivered_as must be one of {sorted(DELIVERED_AS)}, got {delivered_as!r}")
        customer_started = delivered_as == CUSTOMER_INITIATED
        if fields.get("contact_id") is not None:
            customer = _contact_author(self._contacts[str(fields["contact_id"])])
        else:
            customer = _default_customer(conv_id)
            self._contacts.setdefault(
                customer["id"],
                {
                    "id": customer["id"],
                    "role": customer["type"],
                    "name": customer["name"],
                    "email": customer["email"],
                    "created_at": created,
                },
            )
        return {
            "type": "conversation",
            "id": conv_id,
            "title": None,
            "created_at": created,
            "updated_at": created,
            "waiting_since": None,
            "snoozed_until": None,
            "source": {
                "type": "conversation",
                "id": f"src-{conv_id}",
                "delivered_as": delivered_as,
                "subject": "",
                "body": "",
                "author": customer if customer_started else self._team_author(delivered_as, fields),
                "attachments": [],
                "url": None,
                "redacted": False,
            },
            "contacts": {
                "type": "contact.list",
                "contacts": [{"type": "contact", "id": customer["id"], "external_id": None}],
            },
            "first_contact_reply": None,
            "admin_assignee_id": None,
            "team_assignee_id": None,
            "open": True,
            "state": "open",
            "read": False,
            "tags": {"type": "tag.list", "tags": []},
            "priority": "not_priority",
            "sla_applied": None,
            "statistics": _blank_statistics() if customer_started else None,
            "conversation_rating": None,
            "teammates": None,
            "custom_attributes": {},
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
            "ai_agent": None,
            "ai_agent_participated": False,
        }

    def _team_author(self, delivered_as: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Who sent a team-started conversation: the spec's examples show an `admin` author (the
        Operator bot-admin for custom bots); here the assignee if registered, else the first admin."""
        if delivered_as == "operator_initiated":
            return {
                "type": "admin",
                "id": "0",
                "name": "Operator",
                "email": f"operator+{self.app_id}@intercom.io",
            }
        assignee = fields.get("admin_assignee_id")
        admin = self._admins.get(str(assignee)) if assignee is not None else None
        admin = admin or next(iter(self._admins.values()), None)
        if admin is None:
            return {"type": "admin", "id": "0", "name": "Workspace admin", "email": None}
        return _admin_author(admin)

    def _customer(self, conv: dict[str, Any]) -> dict[str, Any]:
        """The contact who writes on this conversation: the source author when the customer started it,
        else the conversation's contact."""
        author = conv["source"].get("author") or {}
        if _delivered_as(conv) == CUSTOMER_INITIATED and author.get("type") in _CONTACT_AUTHORS:
            return dict(author)
        contact = self._contacts.get(_contact_id(conv) or "")
        return _contact_author(contact) if contact is not None else _default_customer(conv["id"])

    @staticmethod
    def _sync_first_contact(conv: dict[str, Any], fields: dict[str, Any]) -> None:
        """A customer-started conversation's first contact reply is its opening message."""
        if _delivered_as(conv) != CUSTOMER_INITIATED:
            return
        conv["first_contact_reply"] = {
            "created_at": conv["created_at"],
            "type": conv["source"]["type"],
            "url": conv["source"]["url"],
        }
        stats = conv["statistics"]
        if stats is not None and "first_contact_reply_at" not in (fields.get("statistics") or {}):
            stats["first_contact_reply_at"] = conv["created_at"]

    def _apply_fields(self, conv: dict[str, Any], fields: dict[str, Any]) -> None:
        for key in ("title", "read", "custom_attributes"):
            if key in fields:
                conv[key] = fields[key]
        if "created_at" in fields:
            conv["created_at"] = _unix(fields["created_at"])
        for key in ("waiting_since", "snoozed_until"):
            if key in fields:
                conv[key] = _unix(fields[key])
        for key in ("admin_assignee_id", "team_assignee_id"):
            if key in fields:
                conv[key] = _int_id(fields[key])
        if "priority" in fields:
            if fields["priority"] not in ("priority", "not_priority"):
                raise ValueError(f"priority must be 'priority' or 'not_priority', got {fields['priority']!r}")
            conv["priority"] = fields["priority"]
        self._apply_state(conv, fields)
        source = dict(fields.get("source") or {})
        if "delivered_as" in source:
            raise TypeError("pass delivered_as=..., not inside source=: it is fixed at creation")
        for key in ("subject", "body"):
            if key in fields:
                source[key] = fields[key]
        conv["source"].update(source)
        if "statistics" in fields and fields["statistics"] is None:
            conv["statistics"] = None
        elif "statistics" in fields and conv["statistics"] is None:
            conv["statistics"] = _blank_statistics()
        for name, value in (fields.get("statistics") or {}).items():
            if name in _STAT_TIMESTAMPS:
                conv["statistics"][name] = _unix(value)
            elif name in _STAT_INTEGERS or name == "last_closed_by_id":
                conv["statistics"][name] = value
            else:
                raise TypeError(f"unknown conversation statistic {name!r}")
        if "tags" in fields:
            conv["tags"]["tags"] = [self._tag_json(tag) for tag in fields["tags"]]
        if "sla_applied" in fields:
            sla = fields["sla_applied"]
            conv["sla_applied"] = None if sla is None else {"type": "conversation_sla_summary", **sla}

    @staticmethod
    def _apply_state(conv: dict[str, Any], fields: dict[str, Any]) -> None:
        if "state" in fields:
            state = fields["state"]
            if state not in ("open", "closed", "snoozed"):
                raise ValueError(f"state must be open/closed/snoozed, got {state!r}")
            is_open = state != "closed"
            if "open" in fields and bool(fields["open"]) != is_open:
                raise ValueError(f"open={fields['open']!r} contradicts state={state!r}")
            conv["state"], conv["open"] = state, is_open
        elif "open" in fields:
            conv["open"] = bool(fields["open"])
            conv["state"] = "open" if conv["open"] else "closed"

    def _tag_json(self, tag: str | dict[str, Any]) -> dict[str, Any]:
        if isinstance(tag, dict):
            tag_id, name = str(tag["id"]), str(tag["name"])
            self._tags[tag_id] = name
        else:
            name = tag
            tag_id = next((i for i, n in self._tags.items() if n == name), None) or self._unused_id(
                self._tags, 9000
            )
            self._tags[tag_id] = name
        return {"type": "tag", "id": tag_id, "name": name, "applied_at": None, "applied_by": None}

    def _render(self, conv: dict[str, Any], *, parts: bool) -> dict[str, Any]:
        out = copy.deepcopy(conv)
        if parts:
            conv_parts = copy.deepcopy(self._parts.get(conv["id"], []))
            out["conversation_parts"] = {
                "type": "conversation_part.list",
                "conversation_parts": conv_parts,
                "total_count": len(conv_parts),
            }
        return out

    # -- HTTP plumbing ---------------------------------------------------------------------------
    def _api(self, method: str, pattern: str, fn: Callable[..., Response]) -> None:
        def guarded(req: RecordedRequest, params: dict[str, str]) -> Response:
            if req.header("Authorization") != f"Bearer {self.token}":
                return Response(401, _error_body("unauthorized", "Access Token Invalid"))
            version = req.header("Intercom-Version")
            if version is not None and version not in SUPPORTED_VERSIONS:
                return Response(
                    400,
                    _error_body(
                        "intercom_version_invalid",
                        f"Requested version {version!r} is not valid; this emulator serves 2.14 and 2.15",
                    ),
                )
            try:
                with self._lock:
                    return fn(req, params)
            except _ApiError as exc:
                return Response(exc.status, _error_body(exc.code, exc.message))

        self.route(method, pattern, guarded)

    def handle(self, req: RecordedRequest) -> Response:
        version = req.header("Intercom-Version")
        if version is not None:
            with self._lock:
                self._versions.append(version)
        return super().handle(req)

    def not_found(self, req: RecordedRequest) -> Response:
        return Response(404, _error_body("not_found", f"Resource Not Found: {req.method} {req.path}"))

    def fault_response(self, fault: _Fault) -> Response:
        """Intercom-shaped fault: an `error.list` body; a 429 carries X-RateLimit-* headers
        (Intercom's own) and Retry-After only when the test scripted one."""
        codes = {
            429: (
                "rate_limit_exceeded",
                f"Exceeded rate limit of 167 in {RATE_LIMIT_WINDOW_SECONDS}_seconds",
            ),
            500: ("server_error", "Internal Server Error"),
            502: ("bad_gateway", "Bad Gateway"),
            503: ("service_unavailable", "Service Unavailable"),
            504: ("gateway_timeout", "Gateway Timeout"),
        }
        code, message = codes.get(fault.status, ("emulated_error", f"emulated status {fault.status}"))
        body = fault.body if fault.body is not None else _error_body(code, message)
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.status == 429:
            wait = fault.retry_after if fault.retry_after is not None else RATE_LIMIT_WINDOW_SECONDS
            headers.update(
                {
                    "X-RateLimit-Limit": "167",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(self._now_ts() + wait),
                }
            )
        return Response(fault.status, body, headers)

    @staticmethod
    def _body(req: RecordedRequest) -> dict[str, Any]:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise _ApiError(400, "bad_request", "Request body is not valid JSON") from exc
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise _ApiError(400, "bad_request", "Request body must be a JSON object")
        return body

    def _conversation_or_404(self, conv_id: str) -> dict[str, Any]:
        conv = self._conversations.get(conv_id)
        if conv is None:
            raise _ApiError(404, "not_found", "Conversation not found")
        return conv

    def _admin_or_error(self, body: dict[str, Any]) -> dict[str, Any]:
        admin_id = body.get("admin_id")
        if admin_id in (None, ""):
            raise _ApiError(400, "parameter_not_found", "admin_id not specified")
        admin = self._admins.get(str(admin_id))
        if admin is None:
            raise _ApiError(404, "admin_not_found", "Admin not found")
        return admin

    # -- admins & teams --------------------------------------------------------------------------
    def _admin_json(self, admin: dict[str, Any]) -> dict[str, Any]:
        team_ids = [int(t["id"]) for t in self._teams.values() if int(admin["id"]) in t["admin_ids"]]
        return {
            "type": "admin",
            "id": admin["id"],
            "name": admin["name"],
            "email": admin["email"],
            "job_title": None,
            "away_mode_enabled": False,
            "away_mode_reassign": False,
            "has_inbox_seat": admin.get("has_inbox_seat", True),
            "team_ids": team_ids,
            "avatar": {"type": "avatar", "image_url": None},
        }

    def _me(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        admin = next(iter(self._admins.values()), {"id": "0", "name": "API token owner", "email": None})
        body = {
            **self._admin_json(admin),
            "email_verified": True,
            "app": {
                "type": "app",
                "id_code": self.app_id,
                "name": "Deskwatch Demo",
                "created_at": 1_700_000_000,
                "secure": False,
                "identity_verification": False,
                "timezone": "Etc/UTC",
                "region": "US",
            },
        }
        return Response(200, body)

    def _list_admins(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        return Response(
            200, {"type": "admin.list", "admins": [self._admin_json(a) for a in self._admins.values()]}
        )

    def _list_teams(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        teams = [
            {"type": "team", "id": t["id"], "name": t["name"], "admin_ids": list(t["admin_ids"])}
            for t in self._teams.values()
        ]
        return Response(200, {"type": "team.list", "teams": teams})

    def _get_contact(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """A `contact` as `GET /contacts/{id}` returns it (the spec's example, unset fields null)."""
        contact = self._contacts.get(params["id"])
        if contact is None:
            raise _ApiError(404, "not_found", "User Not Found")
        contact_id = contact["id"]

        def listing(kind: str) -> dict[str, Any]:
            return {
                "type": "list",
                "data": [],
                "url": f"/contacts/{contact_id}/{kind}",
                "total_count": 0,
                "has_more": False,
            }

        body = {
            "type": "contact",
            "id": contact_id,
            "workspace_id": self.app_id,
            "external_id": None,
            "role": contact["role"],
            "email": contact["email"],
            "phone": None,
            "name": contact["name"],
            "avatar": None,
            "owner_id": None,
            "social_profiles": {"type": "list", "data": []},
            "has_hard_bounced": False,
            "marked_email_as_spam": False,
            "unsubscribed_from_emails": False,
            "created_at": contact["created_at"],
            "updated_at": contact["created_at"],
            "signed_up_at": contact["created_at"] if contact["role"] == "user" else None,
            "last_seen_at": None,
            "last_replied_at": None,
            "last_contacted_at": None,
            "last_email_opened_at": None,
            "last_email_clicked_at": None,
            "language_override": None,
            "browser": None,
            "browser_version": None,
            "browser_language": None,
            "os": None,
            "location": {
                "type": "location",
                "country": None,
                "region": None,
                "city": None,
                "country_code": None,
                "continent_code": None,
            },
            "custom_attributes": {},
            "tags": listing("tags"),
            "notes": listing("notes"),
            "companies": listing("companies"),
            "opted_out_subscription_types": listing("subscriptions"),
            "opted_in_subscription_types": listing("subscriptions"),
            "utm_campaign": None,
            "utm_content": None,
            "utm_medium": None,
            "utm_source": None,
            "utm_term": None,
            "referrer": None,
            "enabled_push_messaging": None,
        }
        return Response(200, body)

    # -- reading conversations -------------------------------------------------------------------
    def _get_conversation(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        return Response(200, self._render(self._conversation_or_404(params["id"]), parts=True))

    def _list_conversations(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        raw_per_page = req.query.get("per_page", [None])[-1]
        per_page = _per_page(int(raw_per_page) if raw_per_page and raw_per_page.isdigit() else raw_per_page)
        after = req.query.get("starting_after", [None])[-1]
        return self._page(self._ordered("", lambda conv: True), per_page, after)

    def _search(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        body = self._body(req)
        if "query" not in body:
            raise _ApiError(400, "parameter_not_found", "query not specified")
        matches = _compile(body["query"], depth=0)
        pagination = body.get("pagination") or {}
        if not isinstance(pagination, dict):
            raise _ApiError(400, "parameter_invalid", "pagination must be an object")
        per_page = _per_page(pagination.get("per_page"))
        problem = sort_error(body.get("sort"))
        if problem is not None:
            raise _ApiError(400, "parameter_invalid", problem)
        ordered = self._ordered(json.dumps(body["query"], sort_keys=True), matches)
        return self._page(ordered, per_page, pagination.get("starting_after"))

    def _ordered(self, key: str, matches: Predicate) -> _Results:
        """The matching conversations in (updated_at, id) order, computed once per query and state."""
        results = self._results.get(key)
        if results is None:
            found = sorted((c for c in self._conversations.values() if matches(c)), key=_sort_key)
            results = self._results[key] = _Results(found, [_sort_key(c) for c in found])
        return results

    def _page(self, results: _Results, per_page: int, starting_after: Any) -> Response:
        """One `conversation.list` page after the cursor (the last key seen: the page resumes there
        whatever changed meanwhile), serialised under the lock instead of deep-copied."""
        total = len(results.conversations)
        start, page_no = 0, 1
        if starting_after not in (None, ""):
            after_key, page_no = _decode_cursor(starting_after)
            start = bisect.bisect_right(results.keys, after_key)
        page = results.conversations[start : start + per_page]
        pages: dict[str, Any] = {
            "type": "pages",
            "page": page_no,
            "per_page": per_page,
            "total_pages": math.ceil(total / per_page),
        }
        if start + per_page < total:
            pages["next"] = {"per_page": per_page, "starting_after": _encode_cursor(page[-1], page_no + 1)}
        body = {"type": "conversation.list", "pages": pages, "total_count": total, "conversations": page}
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8"})

    # -- writing conversations -------------------------------------------------------------------
    def _touch(self, conv: dict[str, Any], at: int | None = None) -> int:
        """Every API change to a conversation comes through here (before or after the change, under
        the lock), so this is where cached search results go stale."""
        self._results.clear()
        now = self._now_ts() if at is None else at
        conv["updated_at"] = max(conv["updated_at"], now)
        return now

    def _add_part(
        self,
        conv: dict[str, Any],
        part_type: str,
        author: dict[str, Any],
        *,
        at: int | None = None,
        **extra: Any,
    ) -> None:
        now = self._now_ts() if at is None else at
        part = {
            "type": "conversation_part",
            "id": str(next(self._ids) + 500_000),
            "part_type": part_type,
            "body": None,
            "created_at": now,
            "updated_at": now,
            "notified_at": now,
            "assigned_to": None,
            "author": dict(author),
            "attachments": [],
            "external_id": None,
            "redacted": False,
            **extra,
        }
        self._parts[conv["id"]].append(part)
        if conv["statistics"] is not None:
            conv["statistics"]["count_conversation_parts"] += 1

    def _admin_reply(
        self, conv: dict[str, Any], admin: dict[str, Any], message_type: str, body: str, at: int
    ) -> None:
        """A comment stops the customer waiting; it is the first admin reply only if it comes after the
        first contact reply (`first_admin_reply_at`: "Time of first admin reply after
        first_contact_reply_at"), so the team's own opening messages never count."""
        self._touch(conv, at)
        self._add_part(conv, message_type, _admin_author(admin), at=at, body=body)
        if message_type != "comment":
            return
        conv["waiting_since"] = None
        stats = conv["statistics"]
        if stats is None:
            return
        first_contact = (conv["first_contact_reply"] or {}).get("created_at")
        if stats["first_admin_reply_at"] is None and first_contact is not None and at >= first_contact:
            stats["first_admin_reply_at"] = at
            stats["time_to_admin_reply"] = at - first_contact
        stats["last_admin_reply_at"] = at

    def _contact_reply(self, conv: dict[str, Any], body: str, at: int) -> None:
        """The customer writes: reopens a closed or snoozed conversation (an `open` part, as in the
        spec's recorded user reply), sets `first_contact_reply` once and `waiting_since` unless the
        customer is already waiting. Null statistics stay null, as in that recorded reply."""
        reopened = conv["state"] != "open"
        stats = conv["statistics"]
        if conv["state"] == "closed" and stats is not None:
            stats["count_reopens"] += 1
        conv["state"], conv["open"], conv["snoozed_until"] = "open", True, None
        self._touch(conv, at)
        self._add_part(conv, "open" if reopened else "comment", self._customer(conv), at=at, body=body)
        if conv["first_contact_reply"] is None:
            conv["first_contact_reply"] = {"created_at": at, "type": conv["source"]["type"], "url": None}
        if stats is not None:
            stats["first_contact_reply_at"] = stats["first_contact_reply_at"] or at
            stats["last_contact_reply_at"] = at
        if conv["waiting_since"] is None:
            conv["waiting_since"] = at

    def _update_conversation(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        conv = self._conversation_or_404(params["id"])
        body = self._body(req)
        unknown = set(body) - {"read", "title", "custom_attributes", "company_id"}
        if unknown:
            raise _ApiError(400, "parameter_invalid", f"Unknown parameters: {', '.join(sorted(unknown))}")
        if "read" in body:
            conv["read"] = bool(body["read"])
        if "title" in body:
            conv["title"] = body["title"]
        if "custom_attributes" in body:
            if not isinstance(body["custom_attributes"], dict):
                raise _ApiError(400, "parameter_invalid", "custom_attributes must be an object")
            conv["custom_attributes"].update(body["custom_attributes"])
        self._touch(conv)
        return Response(200, self._render(conv, parts=True))

    def _reply(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        conv = self._conversation_or_404(params["id"])
        body = self._body(req)
        if body.get("type") == "user":
            return self._reply_as_contact(conv, body)
        message_type = body.get("message_type")
        if message_type not in ("comment", "note"):
            raise _ApiError(400, "parameter_invalid", "message_type must be comment or note")
        if body.get("type") != "admin":
            raise _ApiError(400, "parameter_invalid", "type must be admin or user")
        admin = self._admin_or_error(body)
        if not body.get("body"):
            raise _ApiError(400, "parameter_not_found", "body not specified")
        self._admin_reply(conv, admin, message_type, body["body"], self._now_ts())
        return Response(200, self._render(conv, parts=True))

    def _reply_as_contact(self, conv: dict[str, Any], body: dict[str, Any]) -> Response:
        """`contact_reply_conversation_request`: a comment by the conversation's contact, named by
        intercom_user_id, email or user_id (the emulator's contacts have no external id)."""
        if body.get("message_type") != "comment":
            raise _ApiError(400, "parameter_invalid", "message_type must be comment for a user reply")
        if not body.get("body"):
            raise _ApiError(400, "parameter_not_found", "body not specified")
        keys = ("intercom_user_id", "email", "user_id")
        given = {key: str(body[key]) for key in keys if body.get(key) not in (None, "")}
        if not given:
            raise _ApiError(400, "parameter_not_found", "intercom_user_id, email or user_id not specified")
        customer = self._customer(conv)
        known = {"intercom_user_id": customer["id"], "email": customer["email"], "user_id": None}
        if any(value != known[key] for key, value in given.items()):
            raise _ApiError(404, "not_found", "Resource Not Found")  # the spec's 404 example
        at = body.get("created_at")
        if at is None:
            at = self._now_ts()
        elif not isinstance(at, int) or isinstance(at, bool):
            raise _ApiError(400, "parameter_invalid", "created_at must be a unix timestamp")
        self._contact_reply(conv, body["body"], at)
        return Response(200, self._render(conv, parts=True))

    def _manage(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        conv = self._conversation_or_404(params["id"])
        body = self._body(req)
        message_type = body.get("message_type")
        if message_type not in ("assignment", "close", "open", "snoozed"):
            raise _ApiError(
                400, "parameter_invalid", "message_type must be assignment, close, open or snoozed"
            )
        admin = self._admin_or_error(body)
        if message_type == "snoozed":
            until = body.get("snoozed_until")
            if not isinstance(until, int) or isinstance(until, bool):
                raise _ApiError(400, "parameter_invalid", "snoozed_until must be a unix timestamp")
        self._manage_part(conv, admin, body, self._now_ts())
        return Response(200, self._render(conv, parts=True))

    def _manage_part(
        self, conv: dict[str, Any], admin: dict[str, Any], body: dict[str, Any], now: int
    ) -> None:
        """Apply a validated `POST /conversations/{id}/parts` body at `now` (also the seed helpers')."""
        message_type, author = body["message_type"], _admin_author(admin)
        self._touch(conv, now)
        # Null statistics (team-started conversations) stay null: there is nothing to count into.
        stats = conv["statistics"] if conv["statistics"] is not None else _blank_statistics()
        if message_type == "assignment":
            assigned_to = self._assign(conv, body)
            stats["first_assignment_at"] = stats["first_assignment_at"] or now
            stats["last_assignment_at"] = now
            stats["count_assignments"] += 1
            self._add_part(conv, "assignment", author, at=now, body=body.get("body"), assigned_to=assigned_to)
        elif message_type == "close":
            conv["state"], conv["open"], conv["snoozed_until"] = "closed", False, None
            stats["first_close_at"] = stats["first_close_at"] or now
            stats["last_close_at"] = now
            stats["last_closed_by_id"] = admin["id"]
            self._add_part(conv, "close", author, at=now, body=body.get("body"), state="closed")
        elif message_type == "open":
            if conv["state"] == "closed":
                stats["count_reopens"] += 1
            conv["state"], conv["open"], conv["snoozed_until"] = "open", True, None
            self._add_part(conv, "open", author, at=now, state="open")
        else:
            conv["state"], conv["open"], conv["snoozed_until"] = "snoozed", True, body["snoozed_until"]
            self._add_part(conv, "snoozed", author, at=now, state="snoozed")

    def _assign(self, conv: dict[str, Any], body: dict[str, Any]) -> dict[str, str] | None:
        kind = body.get("type")
        if kind not in ("admin", "team"):
            raise _ApiError(400, "parameter_invalid", "type must be admin or team")
        if body.get("assignee_id") in (None, ""):
            raise _ApiError(400, "parameter_not_found", "assignee_id not specified")
        assignee = str(body["assignee_id"])
        registry = self._admins if kind == "admin" else self._teams
        if assignee != "0" and assignee not in registry:
            raise _ApiError(404, "assignee_not_found", f"{kind.capitalize()} {assignee} not found")
        conv[f"{kind}_assignee_id"] = None if assignee == "0" else int(assignee)
        return None if assignee == "0" else {"type": kind, "id": assignee}

    def _attach_tag(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        conv = self._conversation_or_404(params["id"])
        body = self._body(req)
        if body.get("id") in (None, ""):
            raise _ApiError(400, "parameter_not_found", "id not specified")
        admin = self._admin_or_error(body)
        tag_id = str(body["id"])
        if tag_id not in self._tags:
            raise _ApiError(404, "tag_not_found", "Tag not found")
        now = self._touch(conv)
        tag = {
            "type": "tag",
            "id": tag_id,
            "name": self._tags[tag_id],
            "applied_at": now,
            "applied_by": {"type": "admin", "id": admin["id"]},
        }
        if all(t["id"] != tag_id for t in conv["tags"]["tags"]):
            conv["tags"]["tags"].append(tag)
        return Response(200, tag)

    def _create_tag(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """Create or update a tag (`{"name"}`, or `{"id", "name"}` to rename); returns the tag."""
        body = self._body(req)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _ApiError(400, "parameter_not_found", "name not specified")
        if body.get("id") not in (None, ""):
            if str(body["id"]) not in self._tags:
                raise _ApiError(404, "tag_not_found", "Tag not found")
            self._tags[str(body["id"])] = name
            return Response(200, {"type": "tag", "id": str(body["id"]), "name": name})
        tag = self._tag_json(name)
        return Response(200, {"type": "tag", "id": tag["id"], "name": tag["name"]})


# -- conversation shapes ----------------------------------------------------------------------------
def _delivered_as(conv: dict[str, Any]) -> str:
    return str(conv["source"].get("delivered_as") or CUSTOMER_INITIATED)


def _contact_id(conv: dict[str, Any]) -> str | None:
    contacts = conv["contacts"]["contacts"]
    return str(contacts[0]["id"]) if contacts else None


def _contact_author(contact: dict[str, Any]) -> dict[str, Any]:
    """A contact as a conversation part's author: `user` or `lead`, name and email possibly null."""
    return {"type": contact["role"], "id": contact["id"], "name": contact["name"], "email": contact["email"]}


def _default_customer(conv_id: str) -> dict[str, Any]:
    return {"type": "user", "id": f"contact-{conv_id}", "name": "Customer", "email": "customer@example.com"}


def _admin_author(admin: dict[str, Any]) -> dict[str, Any]:
    return {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]}


def _blank_statistics() -> dict[str, Any]:
    return {
        "type": "conversation_statistics",
        **dict.fromkeys(_STAT_TIMESTAMPS),
        **dict.fromkeys(_STAT_INTEGERS[:5]),
        "last_closed_by_id": None,
        "count_reopens": 0,
        "count_assignments": 0,
        "count_conversation_parts": 0,
    }


# -- search query evaluation ------------------------------------------------------------------------
Predicate = Callable[[dict[str, Any]], bool]


def _per_page(value: Any) -> int:
    if value is None:
        return DEFAULT_PER_PAGE
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _ApiError(400, "parameter_invalid", "per_page must be a positive integer")
    if value > MAX_PER_PAGE:
        raise _ApiError(400, "parameter_invalid", f"per_page must be at most {MAX_PER_PAGE}")
    return value


@dataclass(frozen=True)
class _Results:
    """Search results in page order, with their sort keys (for bisecting to a cursor)."""

    conversations: list[dict[str, Any]]
    keys: list[tuple[int, int, str]]


def _sort_key(conv: dict[str, Any]) -> tuple[int, int, str]:
    return (conv["updated_at"], len(conv["id"]), conv["id"])


def _encode_cursor(conv: dict[str, Any], next_page: int) -> str:
    raw = json.dumps([conv["updated_at"], conv["id"], next_page]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: Any) -> tuple[tuple[int, int, str], int]:
    try:
        updated_at, conv_id, page = json.loads(base64.urlsafe_b64decode(str(cursor).encode()))
        return (int(updated_at), len(str(conv_id)), str(conv_id)), int(page)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise _ApiError(400, "parameter_invalid", "starting_after is not a valid cursor") from exc


def _compile(node: Any, *, depth: int) -> Predicate:
    """Validate a search query the way Intercom does and turn it into a predicate over conversations."""
    if not isinstance(node, dict):
        raise _ApiError(400, "parameter_invalid", "query must be an object")
    operator = node.get("operator")
    if operator in ("AND", "OR"):
        if depth >= MAX_NESTING:
            raise _ApiError(400, "parameter_invalid", f"Queries can be nested at most {MAX_NESTING} levels")
        children = node.get("value")
        if not isinstance(children, list) or not children:
            raise _ApiError(400, "parameter_invalid", f"{operator} needs a non-empty list of filters")
        if len(children) > MAX_GROUP_FILTERS:
            raise _ApiError(
                400, "parameter_invalid", f"An {operator} group can hold at most {MAX_GROUP_FILTERS} filters"
            )
        preds = [_compile(child, depth=depth + 1) for child in children]
        if operator == "AND":
            return lambda conv: all(p(conv) for p in preds)
        return lambda conv: any(p(conv) for p in preds)
    return _compile_single(node)


def _compile_single(node: dict[str, Any]) -> Predicate:
    field, operator = node.get("field"), node.get("operator")
    if not isinstance(field, str) or "value" not in node:
        raise _ApiError(400, "parameter_invalid", "A filter needs field, operator and value")
    kind = _SEARCH_FIELDS.get(field)
    if kind is None:
        raise _ApiError(400, "parameter_invalid", f"{field} is not a searchable conversation field")
    if operator not in _OPERATORS[kind]:
        raise _ApiError(
            400, "parameter_invalid", f"Operator {operator!r} is not supported for {field} ({kind})"
        )
    raw = node["value"]
    if operator in ("IN", "NIN"):
        if not isinstance(raw, list) or not raw:
            raise _ApiError(400, "parameter_invalid", f"{operator} needs a non-empty list value")
        values = [_coerce(v, kind, field) for v in raw]
    else:
        if isinstance(raw, list):
            raise _ApiError(400, "parameter_invalid", f"Operator {operator!r} needs a single value")
        values = [_coerce(raw, kind, field)]
        if values[0] is None and operator not in ("=", "!="):
            raise _ApiError(400, "parameter_invalid", f"Operator {operator!r} needs a value for {field}")
    test = _operator_test(operator, values, body_tokens=field == "source.body")

    def predicate(conv: dict[str, Any]) -> bool:
        actual = _field_value(conv, field, kind)
        if isinstance(actual, list):  # tag_ids: a match on any element, negations over all of them
            if operator in ("!=", "NIN", "!~"):
                return all(test(a) for a in actual)
            return any(test(a) for a in actual)
        return test(actual)

    return predicate


def _coerce(value: Any, kind: str, field: str) -> Any:
    if value is None:
        return None
    if kind in (_DATE, _INTEGER):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
    elif kind == _BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    raise _ApiError(400, "parameter_invalid", f"{value!r} is not a valid {kind} value for {field}")


def _field_value(conv: dict[str, Any], field: str, kind: str) -> Any:
    if field == "tag_ids":
        return [t["id"] for t in conv["tags"]["tags"]]
    value: Any = conv
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return None
    if field == "source.body":
        return _plain_text(value)
    return str(value) if kind == _STRING else value


def _operator_test(operator: str, values: list[Any], *, body_tokens: bool) -> Callable[[Any], bool]:
    """`>` / `<` are "greater (or equal)" / "lower (or equal)" per the 2.14 search docs."""
    value = values[0]
    if body_tokens and operator in ("=", "!="):  # source.body matches single words, not the whole text
        word = str(value).casefold()

        def has_word(actual: Any) -> bool:
            return actual is not None and word in _WORD_RE.findall(actual.casefold())

        return has_word if operator == "=" else (lambda actual: not has_word(actual))
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda a: a == value,
        "!=": lambda a: a != value,
        "IN": lambda a: a in values,
        "NIN": lambda a: a not in values,
        ">": lambda a: a is not None and a >= value,
        "<": lambda a: a is not None and a <= value,
        "~": lambda a: a is not None and str(value).casefold() in a.casefold(),
        "!~": lambda a: a is None or str(value).casefold() not in a.casefold(),
        "^": lambda a: a is not None and a.casefold().startswith(str(value).casefold()),
        "$": lambda a: a is not None and a.casefold().endswith(str(value).casefold()),
    }
    return tests[operator]
