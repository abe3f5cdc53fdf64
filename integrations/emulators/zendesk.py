"""A strict local Zendesk Support API emulator for tests and `deskwatch demo`.

It serves the handful of endpoints Deskwatch calls through zenpy, shaped after Zendesk's OAS
(`TicketObject`, `TicketMetricObject`, `CursorBasedExportIncrementalTicketsResponse`,
`SearchExportResponse`) and recorded real responses, and it reproduces the traps a lenient fake
would hide (see shared/API-PITFALLS.md):

- `slas` and `metric_sets` are sideloaded only when `include=` asks for them, never otherwise;
  `slas` sits on each ticket, `metric_sets` is a top-level list keyed by `ticket_id` (none for
  deleted tickets, whose metrics Zendesk no longer serves);
- `slas.policy_metrics[]` entries carry one signed unit (`minutes`, `hours` or `days`) computed
  from the emulator clock, negative once `breach_at` has passed, as a live response does:
  `{"breach_at": ..., "stage": "achieved", "metric": "first_reply_time", "days": -141}`;
- export cursors are standard base64 with `=` padding (URLs carry `%3D`), shaped like Zendesk's
  `base64("<generated_timestamp>.0||<position>|")`; a cursor whose padding was stripped or that was
  URL-encoded twice is a 400;
- the cursor export keeps `after_url` on its last page (`end_of_stream: true`), and that cursor,
  requested later, returns the tickets changed since; each ticket appears once, at its latest state;
  a page started from `start_time` has null `before_cursor` / `before_url`;
- deleted tickets are 404 on show, missing from show_many and search, and listed by the export
  with `status: "deleted"`;
- `start_time` must be at least a minute old; show_many takes at most 100 ids; plain search stops
  at 1000 results (422) while still linking the next page;
- credentials are checked on every call (HTTP Basic `{email}/token:{token}`).

Tests move tickets through their life with `upsert_ticket`, `agent_reply`, `requester_comment`,
`set_priority` and `delete_ticket`; each bumps `updated_at` so the change shows up in the export,
and the ticket's metric set (`replies`, `reopens`, stations, timestamps) follows along.

Comments are listed as List Comments shows them: the ticket's first comment is its description,
written by the requester when the ticket was created; `agent_reply` and `requester_comment` add a
public comment by the assignee (else the API user) and by the requester; a PUT with `comment` adds
one by the API user. `author_id`s are JSON integers; ids grow with time.

Search understands a deliberately small query language (`type:ticket`, `status`, `priority`,
`group`, `assignee`, `tags`, `created`, `updated`); anything else is a 400 naming the term, so a
test can never pass on a query the emulator silently misread.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import hmac
import html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from integrations.emulators.base import EmulatorServer, RecordedRequest, Response, _Fault
from integrations.emulators.zendesk_history import ZendeskHistoryMixin
from integrations.emulators.zendesk_webhooks import ZendeskWebhooksMixin

TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
UNSOLVED_STATUSES = frozenset({"new", "open", "pending", "hold"})
PRIORITIES = ("low", "normal", "high", "urgent")
SLA_STAGES = frozenset({"active", "paused", "achieved"})
# Metrics an agent's public reply fulfils (first reply, and each next reply after a requester comment).
REPLY_METRICS = frozenset({"first_reply_time", "next_reply_time"})
SIDELOADS = frozenset({"slas", "metric_sets", "users", "groups"})
SHOW_MANY_MAX_IDS = 100
SEARCH_RESULT_LIMIT = 1000
EXPORT_MAX_PAGE_SIZE = 1000
START_TIME_MIN_AGE = timedelta(seconds=60)
# "The cursor specified by the `after_cursor` property in a response expires after one hour."
SEARCH_EXPORT_CURSOR_TTL = timedelta(hours=1)
# Ticket metric ids are their own sequence in Zendesk; a fixed offset keeps them distinct from ticket ids.
METRIC_SET_ID_OFFSET = 5_527_084_700_000
# Comment ids: the opening one derives from the ticket id (below all later ones), later ones count up.
OPENING_COMMENT_ID_OFFSET = 30_000_000_000_000
FIRST_COMMENT_ID = 40_000_000_000_001
DEFAULT_AGENT_REPLY = "Thanks for your patience, we are looking into this now."
DEFAULT_REQUESTER_COMMENT = "Any news on this? It is still not working for me."

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
        "reopens",
        "replies",
    }
)
_UPDATABLE_FIELDS = frozenset({"subject", "status", "priority", "group_id", "assignee_id", "tags", "comment"})
_SLA_KEYS = frozenset({"breach_at", "stage", "metric"})
_SLA_UNITS = frozenset({"minutes", "hours", "days"})
_TOKEN_RE = re.compile(r'(?:[^\s"]+|"[^"]*")+')
_TERM_RE = re.compile(r'^(?P<field>[a-z_]+)(?P<op><=|>=|:|<|>)(?P<value>"[^"]*"|\S+)$')
_EXPORT_AFTER_RE = re.compile(r"(?P<ts>\d+)\.0\|\|(?P<pos>\d+)\|")
_EXPORT_BEFORE_RE = re.compile(r"\|(?P<ts>\d+)\.0\|\|(?P<pos>\d+)")


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


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else _iso(value)


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, not {type(value).__name__}")
    return value


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return value


def _normalise_slas(slas: Any) -> dict[str, Any] | None:
    """Validate a ticket's `slas` and keep only what is stored: breach_at, stage, metric.

    The signed unit (`minutes`/`hours`/`days`) is computed on every read from the emulator clock, so
    a caller-supplied one would silently disagree with breach_at: it is refused.
    """
    if slas is None:
        return None
    if not isinstance(slas, dict) or not isinstance(slas.get("policy_metrics"), list):
        raise ValueError('slas must look like {"policy_metrics": [{...}, ...]}')
    metrics = []
    for raw in slas["policy_metrics"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("metric"), str):
            raise ValueError(f"slas.policy_metrics entry needs a 'metric' name: {raw!r}")
        units = set(raw) & _SLA_UNITS
        if units:
            raise ValueError(
                f"slas.policy_metrics {raw['metric']}: {sorted(units)} are computed from breach_at and the "
                "emulator clock; leave them out"
            )
        unknown = set(raw) - _SLA_KEYS
        if unknown:
            raise ValueError(f"slas.policy_metrics {raw['metric']}: unknown keys {sorted(unknown)}")
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
            }
        )
    return {"policy_metrics": metrics}


def _signed_unit(breach_at: datetime, now: datetime) -> tuple[str, int]:
    """Time left to `breach_at` (negative once past) in one unit, as Zendesk reports it.

    Recorded responses show `"hours": 21`, `"days": 7`, `"days": -141`: minutes under an hour, hours
    under a day, days beyond, each rounded to the nearest whole unit (so 23h40m reads `"hours": 24`).
    """
    seconds = (breach_at - now).total_seconds()
    magnitude = abs(seconds)
    if magnitude < 3600:
        unit, size = "minutes", 60
    elif magnitude < 86_400:
        unit, size = "hours", 3600
    else:
        unit, size = "days", 86_400
    value = int(magnitude / size + 0.5)
    return unit, value if seconds >= 0 else -value


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds() // 60))


def _minutes_pair(value: int | None) -> dict[str, int | None]:
    """`{calendar, business}`; the emulator has no schedules, so business time equals calendar time."""
    return {"calendar": value, "business": value}


def _b64(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def _unb64(token: str) -> str | None:
    """Strict standard base64: padding required, and only the canonical encoding is accepted."""
    try:
        raw = base64.b64decode(token, validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if base64.b64encode(raw).decode() == token else None


def _export_cursor(timestamp: int, position: int, *, before: bool = False) -> str:
    """Zendesk's shape, `base64("<ts>.0||<id>|")` after / `base64("|<ts>.0||<id>")` before; the
    emulator puts its change-log position where Zendesk puts a ticket id."""
    return _b64(f"|{timestamp}.0||{position}" if before else f"{timestamp}.0||{position}|")


def _decode_export_cursor(token: str) -> tuple[int, int] | None:
    """(timestamp, position) of an export cursor, or None (the caller answers 400)."""
    text = _unb64(token)
    if text is None:
        return None
    match = _EXPORT_AFTER_RE.fullmatch(text) or _EXPORT_BEFORE_RE.fullmatch(text)
    return None if match is None else (int(match["ts"]), int(match["pos"]))


def _search_cursor(created_micros: int, ticket_id: int) -> str:
    """Search export cursors are base64 JSON in Zendesk (`eyJmaWVsZCI6ImNyZWF0ZWRfYXQi...fQ==`)."""
    state = {
        "field": "created_at",
        "desc": False,
        "tieBreakField": "id",
        "sortValues": [created_micros, ticket_id],
    }
    return _b64(json.dumps(state, separators=(",", ":")))


def _export_key(ticket: _Ticket) -> tuple[int, int]:
    """Search export order: created_at (microseconds, as the cursor's sortValues), then id."""
    return int(ticket.created_at.timestamp() * 1_000_000), ticket.id


def _decode_search_cursor(token: str) -> tuple[int, int] | None:
    text = _unb64(token)
    if text is None:
        return None
    try:
        values = json.loads(text).get("sortValues")
    except (ValueError, AttributeError):
        return None
    if not (isinstance(values, list) and len(values) == 2 and all(isinstance(v, int) for v in values)):
        return None
    return values[0], values[1]


def _via(channel: str) -> dict[str, Any]:
    """A comment's `via`: how it was created ("web" for the agent UI and help center, "api")."""
    return {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}


def _error(status: int, error: str, description: str, **extra: Any) -> Response:
    return Response(status, {"error": error, "description": description, **extra})


class _BadRequest(Exception):
    """Raised inside a handler to answer with a Zendesk-shaped error."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body)
        self.response = response


@dataclass
class _Metrics:
    """What Zendesk's ticket metric set tracks, kept up to date by every mutation."""

    created_at: datetime
    reopens: int = 0
    replies: int = 0
    assignee_stations: int = 0
    group_stations: int = 0
    initially_assigned_at: datetime | None = None
    assigned_at: datetime | None = None
    assignee_updated_at: datetime | None = None
    requester_updated_at: datetime | None = None
    status_updated_at: datetime | None = None
    latest_comment_added_at: datetime | None = None
    first_reply_at: datetime | None = None
    first_solved_at: datetime | None = None
    solved_at: datetime | None = None
    # seconds spent in each status before its latest change, for the wait-time metrics
    seconds_in: dict[str, float] = field(default_factory=dict)


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
    metrics: _Metrics
    seq: int = 0  # position of this ticket's latest change in the change log
    generated_at: datetime = field(default_factory=_utc_now)
    deleted: bool = False
    comments: list[dict[str, Any]] = field(default_factory=list)


Predicate = Callable[[_Ticket], bool]


class ZendeskEmulator(ZendeskHistoryMixin, ZendeskWebhooksMixin, EmulatorServer):
    """Zendesk Support API (the subset Deskwatch uses) with seedable state and scripted faults.

    History endpoints (metric events, satisfaction ratings, the export rate limit): `zendesk_history`.
    Webhooks and Triggers APIs: `zendesk_webhooks`."""

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
        self._search_cursors: dict[str, datetime] = {}  # search export after_cursor -> when issued
        self._seq = 0
        self._last_generated: datetime | None = None
        self._next_comment_id = FIRST_COMMENT_ID
        self._bot_user_id = 900_000_000_001
        # show_many must precede {id}.json, which would otherwise match "show_many.json".
        self.route("GET", "/api/v2/users/me.json", self._guarded(self._users_me))
        self.route("GET", "/api/v2/users/{id}.json", self._guarded(self._show_user))
        self.route("GET", "/api/v2/tickets/show_many.json", self._guarded(self._show_many))
        self.route("GET", "/api/v2/tickets/{id}.json", self._guarded(self._show_ticket))
        self.route("PUT", "/api/v2/tickets/{id}.json", self._guarded(self._update_ticket))
        self.route("GET", "/api/v2/tickets/{id}/comments.json", self._guarded(self._list_comments))
        self.route("PUT", "/api/v2/tickets/{id}/tags.json", self._guarded(self._add_tags))
        self.route(
            "GET",
            "/api/v2/incremental/tickets/cursor.json",
            self._guarded(self._export_limited(self._export_tickets)),
        )
        self.route("GET", "/api/v2/search.json", self._guarded(self._search))
        self.route("GET", "/api/v2/search/export.json", self._guarded(self._search_export))
        self._init_history()
        self._init_webhooks()

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

        Besides the ticket fields, `reopens` and `replies` set the metric set's counters outright
        (otherwise a solved ticket set back to an unsolved status counts a reopen, as in Zendesk).
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
            stored = self._tickets.get(ticket_id)
            if stored is not None and stored.deleted:
                raise ValueError(f"ticket {ticket_id} was deleted")
            if stored is None:
                created = _as_utc(fields["created_at"], "created_at") if "created_at" in fields else now
                ticket = _Ticket(
                    id=ticket_id,
                    subject="",
                    description="",
                    status="open",
                    priority=None,
                    group_id=None,
                    assignee_id=None,
                    requester_id=None,
                    tags=[],
                    created_at=created,
                    updated_at=created,
                    slas=None,
                    metrics=_Metrics(
                        created_at=created,
                        requester_updated_at=created,  # the description is the requester's first comment
                        status_updated_at=created,
                        latest_comment_added_at=created,
                    ),
                )
                stamp = max(now, created)
            else:
                ticket = copy.deepcopy(stored)  # a refused change leaves the stored ticket untouched
                stamp = max(now, stored.updated_at)
                if "created_at" in fields:
                    ticket.created_at = ticket.metrics.created_at = _as_utc(
                        fields["created_at"], "created_at"
                    )
            if "updated_at" in fields:
                stamp = _as_utc(fields["updated_at"], "updated_at")
                if stored is not None and stamp < stored.updated_at:
                    raise ValueError(
                        f"ticket {ticket_id}: updated_at {_iso(stamp)} is before "
                        f"its current updated_at {_iso(stored.updated_at)}"
                    )
            self._apply_fields(ticket, fields, stamp)
            if "reopens" in fields:
                ticket.metrics.reopens = _count(fields["reopens"], "reopens")
            if "replies" in fields:
                ticket.metrics.replies = _count(fields["replies"], "replies")
            self._commit(ticket, stamp)
            return self._ticket_json(ticket, include={"slas"})

    def agent_reply(
        self,
        ticket_id: int,
        *,
        at: datetime | str | None = None,
        status: str | None = None,
        slas: dict[str, Any] | None = None,
        body: str = DEFAULT_AGENT_REPLY,
        author_id: int | None = None,
    ) -> dict[str, Any]:
        """A public agent comment: `replies` + 1, and the active reply metrics (first/next reply
        time) become `achieved`, keeping their breach_at. `status` submits the reply as that status
        (e.g. "pending"); `slas` replaces the SLA state outright instead. The comment (`body`) is by
        `author_id`, default the assignee, else the API user. Returns the ticket JSON."""
        with self._lock:
            ticket, stamp = self._editable(ticket_id, at)
            author = author_id if author_id is not None else ticket.assignee_id or self._bot_user_id
            self._add_comment(ticket, body, author_id=author, at=stamp, channel="web")
            self._record_agent_reply(ticket, stamp)
            if status is not None:
                self._apply_fields(ticket, {"status": status}, stamp)
            if slas is not None:
                ticket.slas = _normalise_slas(slas)
            self._commit(ticket, stamp)
            return self._ticket_json(ticket, include={"slas"})

    def requester_comment(
        self,
        ticket_id: int,
        *,
        at: datetime | str | None = None,
        slas: dict[str, Any] | None = None,
        body: str = DEFAULT_REQUESTER_COMMENT,
    ) -> dict[str, Any]:
        """The requester writes again (a public comment, `body`): a pending, on-hold or solved ticket
        goes back to open (a solved one counts a reopen); a closed ticket refuses, as Zendesk makes a
        follow-up instead. `slas` sets the SLA state the comment starts (e.g. a new active
        next_reply_time)."""
        with self._lock:
            ticket, stamp = self._editable(ticket_id, at)
            if ticket.status == "closed":
                raise ValueError(f"ticket {ticket_id} is closed: Zendesk takes a reply as a follow-up ticket")
            self._add_comment(ticket, body, author_id=ticket.requester_id, at=stamp, channel="web")
            ticket.metrics.requester_updated_at = stamp
            ticket.metrics.latest_comment_added_at = stamp
            if ticket.status in ("pending", "hold", "solved"):
                self._set_status(ticket, "open", stamp)
            if slas is not None:
                ticket.slas = _normalise_slas(slas)
            self._commit(ticket, stamp)
            return self._ticket_json(ticket, include={"slas"})

    def set_priority(
        self,
        ticket_id: int,
        priority: str | None,
        *,
        breach_at: datetime | str | None = None,
        metric: str | None = None,
        at: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Change the priority and, as the SLA policy's new target does, move `breach_at` of the
        active metrics (only `metric` when given). Replies and reopens stay as they are."""
        with self._lock:
            ticket, stamp = self._editable(ticket_id, at)
            self._apply_fields(ticket, {"priority": priority}, stamp)
            if breach_at is not None:
                moved = _iso(_as_utc(breach_at, "breach_at"))
                targets = [
                    m
                    for m in (ticket.slas or {}).get("policy_metrics", ())
                    if m["stage"] == "active" and metric in (None, m["metric"])
                ]
                if not targets:
                    raise ValueError(f"ticket {ticket_id} has no active {metric or 'SLA'} metric to move")
                for target in targets:
                    target["breach_at"] = moved
            self._commit(ticket, stamp)
            return self._ticket_json(ticket, include={"slas"})

    def delete_ticket(self, id: int) -> None:  # noqa: A002
        """Soft-delete: gone from show/search, listed with status "deleted" by the export."""
        with self._lock:
            ticket = self._tickets.get(id)
            if ticket is None or ticket.deleted:
                raise KeyError(f"no ticket {id}")
            ticket.deleted = True
            ticket.status = "deleted"
            self._commit(ticket, max(self._now(), ticket.updated_at))

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Comments posted through the API (PUT with `comment`), oldest first."""
        with self._lock:
            return [dict(c) for c in self._tickets[ticket_id].comments if c["via"]["channel"] == "api"]

    def all_comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every comment as List Comments shows it, oldest first: the opening one (the description,
        by the requester), then agent replies, requester comments and API comments."""
        with self._lock:
            return [self._comment_json(c) for c in self._comment_thread(self._tickets[ticket_id])]

    def ticket_json(self, ticket_id: int) -> dict[str, Any]:
        """The ticket as GET /tickets/{id}.json?include=slas would show it (for assertions)."""
        with self._lock:
            return self._ticket_json(self._tickets[ticket_id], include={"slas"})

    def metric_set(self, ticket_id: int) -> dict[str, Any]:
        """The ticket's entry in an `include=metric_sets` sideload (for assertions)."""
        with self._lock:
            return self._metric_set_json(self._tickets[ticket_id])

    def _editable(self, ticket_id: int, at: datetime | str | None) -> tuple[_Ticket, datetime]:
        """A working copy of a live ticket and the time of the change (never before updated_at)."""
        stored = self._tickets.get(ticket_id)
        if stored is None or stored.deleted:
            raise KeyError(f"no ticket {ticket_id}")
        if at is None:
            return copy.deepcopy(stored), max(self._now(), stored.updated_at)
        stamp = _as_utc(at, "at")
        if stamp < stored.updated_at:
            raise ValueError(
                f"ticket {ticket_id}: at {_iso(stamp)} is before its updated_at {_iso(stored.updated_at)}"
            )
        return copy.deepcopy(stored), stamp

    def _add_comment(
        self,
        ticket: _Ticket,
        body: str,
        *,
        author_id: int | None,
        at: datetime,
        channel: str,
        public: bool = True,
    ) -> dict[str, Any]:
        """Append a comment to a working copy of the ticket (committed by the caller)."""
        if not isinstance(body, str) or not body.strip():
            raise ValueError("a comment needs a non-empty body")
        stored = {
            "id": self._next_comment_id,
            "type": "Comment",
            "body": body,
            "public": public,
            "author_id": author_id,
            "created_at": _iso(at),
            "audit_id": self._next_comment_id + 1,
            "via": _via(channel),
        }
        self._next_comment_id += 2  # one id for the comment, one for its audit
        ticket.comments.append(stored)
        return stored

    def _comment_thread(self, ticket: _Ticket) -> list[dict[str, Any]]:
        """All comments oldest first; the first is the ticket's description, by its requester."""
        opening = {
            "id": OPENING_COMMENT_ID_OFFSET + ticket.id,
            "type": "Comment",
            "body": ticket.description or ticket.subject,
            "public": True,
            "author_id": ticket.requester_id,
            "created_at": _iso(ticket.created_at),
            "audit_id": OPENING_COMMENT_ID_OFFSET + ticket.id + 1,
            "via": _via("web"),
        }
        return [opening, *ticket.comments]

    def _commit(self, ticket: _Ticket, stamp: datetime) -> None:
        ticket.updated_at = stamp
        previous = self._tickets.get(ticket.id)
        self._tickets[ticket.id] = ticket
        self._log_change(ticket)
        self._record_metric_events(previous, ticket, stamp)

    def _apply_fields(self, ticket: _Ticket, fields: dict[str, Any], at: datetime) -> None:
        if "subject" in fields:
            ticket.subject = str(fields["subject"] or "")
        if "description" in fields:
            ticket.description = str(fields["description"] or "")
        if "status" in fields:
            if fields["status"] not in TICKET_STATUSES:
                raise ValueError(f"status must be one of {TICKET_STATUSES}, got {fields['status']!r}")
            self._set_status(ticket, fields["status"], at)
        if "priority" in fields:
            if fields["priority"] is not None and fields["priority"] not in PRIORITIES:
                raise ValueError(f"priority must be one of {PRIORITIES} or None, got {fields['priority']!r}")
            ticket.priority = fields["priority"]
        if "assignee_id" in fields:
            assignee = _optional_int(fields["assignee_id"], "assignee_id")
            if assignee is not None and assignee != ticket.assignee_id:
                ticket.metrics.assignee_stations += 1
                ticket.metrics.assigned_at = at
                ticket.metrics.initially_assigned_at = ticket.metrics.initially_assigned_at or at
            ticket.assignee_id = assignee
        if "group_id" in fields:
            group = _optional_int(fields["group_id"], "group_id")
            if group is not None and group != ticket.group_id:
                ticket.metrics.group_stations += 1
            ticket.group_id = group
        if "requester_id" in fields:
            ticket.requester_id = _optional_int(fields["requester_id"], "requester_id")
        if "tags" in fields:
            tags = fields["tags"] or []
            if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
                raise TypeError("tags must be a list of strings")
            ticket.tags = list(tags)
        if "slas" in fields:
            ticket.slas = _normalise_slas(fields["slas"])

    @staticmethod
    def _set_status(ticket: _Ticket, status: str, at: datetime) -> None:
        """Status change with the metric bookkeeping Zendesk does: time per status, solved_at, and a
        reopen whenever a solved ticket goes back to an unsolved status."""
        previous, metrics = ticket.status, ticket.metrics
        if status == previous:
            return
        since = metrics.status_updated_at or ticket.created_at
        elapsed = max(0.0, (at - since).total_seconds())
        metrics.seconds_in[previous] = metrics.seconds_in.get(previous, 0.0) + elapsed
        if previous == "solved" and status in UNSOLVED_STATUSES:
            metrics.reopens += 1
        if status in ("solved", "closed") and previous not in ("solved", "closed"):
            metrics.solved_at = at
            metrics.first_solved_at = metrics.first_solved_at or at
        metrics.status_updated_at = at
        ticket.status = status

    @staticmethod
    def _record_agent_reply(ticket: _Ticket, at: datetime) -> None:
        metrics = ticket.metrics
        metrics.replies += 1
        metrics.first_reply_at = metrics.first_reply_at or at
        metrics.assignee_updated_at = at
        metrics.latest_comment_added_at = at
        for entry in (ticket.slas or {}).get("policy_metrics", ()):
            if entry["metric"] in REPLY_METRICS and entry["stage"] == "active":
                entry["stage"] = "achieved"

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
            body["slas"] = self._slas_json(ticket)
        return body

    def _slas_json(self, ticket: _Ticket) -> dict[str, Any]:
        now = self._now()
        metrics = []
        for stored in (ticket.slas or {}).get("policy_metrics", ()):
            entry = dict(stored)
            if stored["breach_at"] is not None:
                unit, value = _signed_unit(_as_utc(stored["breach_at"], "breach_at"), now)
                entry[unit] = value
            metrics.append(entry)
        return {"policy_metrics": metrics}

    def _metric_set_json(self, ticket: _Ticket) -> dict[str, Any]:
        """A `TicketMetricObject`, field for field as a real account returns it for a web ticket
        (`reply_time_in_seconds` exists only for messaging tickets); nulls until a thing happened."""
        m = ticket.metrics
        metric_id = METRIC_SET_ID_OFFSET + ticket.id
        solved = m.solved_at is not None

        def waited(*statuses: str) -> int | None:
            return int(sum(m.seconds_in.get(s, 0.0) for s in statuses) // 60) if solved else None

        return {
            "url": f"{self._base_url}/api/v2/ticket_metrics/{metric_id}.json",
            "id": metric_id,
            "ticket_id": ticket.id,
            "created_at": _iso(m.created_at),
            "updated_at": _iso(ticket.updated_at),
            "group_stations": m.group_stations,
            "assignee_stations": m.assignee_stations,
            "reopens": m.reopens,
            "replies": m.replies,
            "assignee_updated_at": _iso_or_none(m.assignee_updated_at),
            "requester_updated_at": _iso_or_none(m.requester_updated_at),
            "status_updated_at": _iso_or_none(m.status_updated_at),
            "initially_assigned_at": _iso_or_none(m.initially_assigned_at),
            "assigned_at": _iso_or_none(m.assigned_at),
            "solved_at": _iso_or_none(m.solved_at),
            "latest_comment_added_at": _iso_or_none(m.latest_comment_added_at),
            "reply_time_in_minutes": _minutes_pair(_minutes(m.created_at, m.first_reply_at)),
            "first_resolution_time_in_minutes": _minutes_pair(_minutes(m.created_at, m.first_solved_at)),
            "full_resolution_time_in_minutes": _minutes_pair(_minutes(m.created_at, m.solved_at)),
            "agent_wait_time_in_minutes": _minutes_pair(waited("pending")),
            "requester_wait_time_in_minutes": _minutes_pair(waited("new", "open", "hold")),
            "on_hold_time_in_minutes": _minutes_pair(int(m.seconds_in.get("hold", 0.0) // 60)),
            "custom_status_updated_at": _iso_or_none(m.status_updated_at),
        }

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
        if "metric_sets" in include:
            # Zendesk serves no metrics for deleted tickets.
            body["metric_sets"] = [self._metric_set_json(t) for t in tickets if not t.deleted]
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

    def _show_user(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        user = self._users.get(int(params["id"])) if params["id"].isdigit() else None
        if user is None:
            raise _BadRequest(_error(404, "RecordNotFound", "Not found"))
        return Response(200, {"user": {**dict(user), "url": self._api_url(f"users/{user['id']}.json")}})

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
        ticket = copy.deepcopy(ticket)
        stamp = max(self._now(), ticket.updated_at)
        events: list[dict[str, Any]] = []
        if comment is not None:
            stored = self._add_comment(
                ticket,
                comment["body"],
                author_id=self._bot_user_id,
                at=stamp,
                channel="api",
                public=bool(comment.get("public", True)),
            )
            events.append({k: stored[k] for k in ("id", "type", "body", "public", "author_id", "created_at")})
            if stored["public"]:  # the API user is an admin: a public comment is an agent reply
                self._record_agent_reply(ticket, stamp)
            else:
                ticket.metrics.latest_comment_added_at = stamp
        self._apply_fields(ticket, changes, stamp)
        for name, value in changes.items():
            events.append({"type": "Change", "field_name": name, "value": value})
        self._commit(ticket, stamp)
        audit = {
            "id": ticket.seq,
            "ticket_id": ticket.id,
            "created_at": _iso(stamp),
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
            floor_ts = start_time
        else:
            assert raw_cursor is not None
            decoded = _decode_export_cursor(raw_cursor)
            if decoded is None:
                raise _BadRequest(_error(400, "InvalidCursor", "The cursor is invalid or has expired"))
            floor_ts, floor = decoded
            stream = [t for t in log if t.seq > floor]
        page = stream[:page_size]
        end_of_stream = len(stream) <= page_size
        if page:
            after = _export_cursor(int(page[-1].generated_at.timestamp()), page[-1].seq)
        else:
            after = _export_cursor(floor_ts, floor)
        # A page started from start_time is the first: Zendesk sends null before_cursor/before_url.
        before = None
        if raw_cursor is not None and page:
            before = _export_cursor(int(page[0].generated_at.timestamp()), page[0].seq - 1, before=True)
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

    def _list_comments(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """List Comments, offset-paged (`page`, `per_page` ≤ 100), `sort_order` asc (default) or desc."""
        ticket = self._live_ticket(params["id"])
        order = self._param(req, "sort_order") or "asc"
        if order not in ("asc", "desc"):
            raise _BadRequest(_error(400, "InvalidValue", "sort_order must be asc or desc"))
        per_page = max(1, min(self._int_param(req, "per_page", 100), 100))
        page_number = max(self._int_param(req, "page", 1), 1)
        thread = self._comment_thread(ticket)
        ordered = thread if order == "asc" else list(reversed(thread))
        start = (page_number - 1) * per_page
        window = ordered[start : start + per_page]

        def page_url(number: int) -> str:
            path = f"tickets/{ticket.id}/comments.json"
            return self._api_url(path, {"sort_order": order, "page": number, "per_page": per_page})

        body = {
            "comments": [self._comment_json(c) for c in window],
            "next_page": page_url(page_number + 1) if start + per_page < len(ordered) else None,
            "previous_page": page_url(page_number - 1) if page_number > 1 else None,
            "count": len(ordered),
        }
        return Response(200, body)

    @staticmethod
    def _comment_json(comment: dict[str, Any]) -> dict[str, Any]:
        """A `TicketCommentObject`: `body` as written, `html_body` one paragraph a line, `plain_body`
        the text without formatting."""
        lines = [line for line in comment["body"].splitlines() if line.strip()]
        paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
        return {
            **copy.deepcopy(comment),
            "html_body": f'<div class="zd-comment" dir="auto">{paragraphs}</div>',
            "plain_body": "\n".join(line.strip() for line in lines),
            "attachments": [],
            "metadata": {"system": {}, "custom": {}},
        }

    def _add_tags(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """Add Tags: merges `tags` into the ticket's tags (Set Tags would replace them)."""
        ticket = self._live_ticket(params["id"])
        try:
            payload = req.json()
        except ValueError as exc:
            raise _BadRequest(_error(400, "InvalidValue", "request body is not JSON")) from exc
        tags = payload.get("tags") if isinstance(payload, dict) else None
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t for t in tags):
            raise _BadRequest(_error(400, "InvalidValue", 'body must be {"tags": ["tag", ...]}'))
        ticket = copy.deepcopy(ticket)
        merged = list(dict.fromkeys([*ticket.tags, *(t.lower() for t in tags)]))
        if merged != ticket.tags:
            ticket.tags = merged
            self._commit(ticket, max(self._now(), ticket.updated_at))
        return Response(200, {"tags": list(ticket.tags)})

    def _search_users(self, query: str) -> Response:
        """`type:user email:<address>` (the only user search supported): exact, case-insensitive."""
        terms = _TOKEN_RE.findall(query)
        emails = [t.split(":", 1)[1].strip('"').lower() for t in terms if t.startswith("email:")]
        if len(emails) != 1 or len(terms) != 2:
            raise self._unsupported(query)
        found = [u for _, u in sorted(self._users.items()) if (u["email"] or "").lower() == emails[0]]
        body = {
            "results": [{**dict(u), "result_type": "user"} for u in found],
            "facets": None,
            "next_page": None,
            "previous_page": None,
            "count": len(found),
        }
        return Response(200, body)

    def _search(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        """Offset-paged search: at most 1000 results reachable, though next_page keeps linking on."""
        query = self._param(req, "query") or ""
        if "type:user" in _TOKEN_RE.findall(query):
            return self._search_users(query)
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
        """Cursor-paged search export, ordered by created_at: no 1000-result cap. The type goes in
        `filter[type]` only ("Searches with type in the query string will result in an error"), and
        an `after_cursor` is good for an hour after it was issued."""
        filter_type = self._param(req, "filter[type]")
        if filter_type is None:
            raise _BadRequest(_error(400, "InvalidValue", "filter[type] is required for search export"))
        query = self._param(req, "query") or ""
        if any(token.startswith("type:") for token in _TOKEN_RE.findall(query)):
            raise _BadRequest(
                _error(400, "InvalidValue", "search export takes the type in filter[type], not in the query")
            )
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
        matches = sorted(self._matching(predicates), key=_export_key)
        start = 0
        after_token = self._param(req, "page[after]")
        if after_token:
            decoded = _decode_search_cursor(after_token)
            issued = self._search_cursors.get(after_token)
            if decoded is None or issued is None or self._now() - issued > SEARCH_EXPORT_CURSOR_TTL:
                raise _BadRequest(
                    _error(400, "InvalidPaginationParameter", "page[after] is invalid or expired")
                )
            start = bisect.bisect_right(matches, decoded, key=_export_key)
        page = matches[start : start + page_size]
        has_more = start + page_size < len(matches)
        after = None
        if has_more:
            after = _search_cursor(*_export_key(page[-1]))
            self._search_cursors[after] = self._now()
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
