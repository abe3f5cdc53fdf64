"""The Zendesk emulator's history side: ticket metric events, satisfaction ratings, export rate limit.

`ZendeskHistoryMixin` is mixed into `ZendeskEmulator`, which calls `_init_history()` and
`_record_metric_events(previous, ticket, stamp)` on every committed change. It serves:

- `GET /api/v2/incremental/ticket_metric_events.json?start_time=<unix>`: the time-based export
  (`ticket_metric_events`, `next_page`, `end_time`, `count`, `end_of_stream`), oldest first, at most
  `metric_events_page_size` a page; events of the last minute are not served yet and a start_time
  from the last minute is refused, as Zendesk does. `end_time` is the time of the page's last event,
  and `next_page` starts there (inclusive), so a boundary event may come twice, as in Zendesk.
- `GET /api/v2/satisfaction_ratings.json`: cursor pagination only (`page[size]` ≤ 100, `page[after]`,
  `meta.has_more`, `links.next`), `start_time`/`end_time` filtering on the rating's `created_at`
  (the offer), `score` filter. One rating per ticket: answering an offered survey updates it.
- the incremental-export limit, when `export_rate_limit` is set (10 is Zendesk's; off by default,
  as tests that sync many times in a frozen fake minute would wait forever): more requests to
  `/api/v2/incremental/` in a rolling minute of the emulator clock answer 429 with `Retry-After`
  (seconds until the oldest one leaves the window). Refused requests do not count.

Metric events follow the ticket's life: creation activates `reply_time` and `resolution_time`
instance 1 (with `apply_sla` when the ticket's `slas` has an active first_reply_time /
total_resolution_time metric); a public agent reply fulfils the active reply instance; a requester
comment after a fulfilled reply activates the next reply instance (`apply_sla` when an active
next_reply_time metric is set); a solve fulfils resolution_time and a reopen activates a new
instance. An SLA'd instance whose breach_at passes gets a `breach` event at breach_at, recorded at
fulfilment or, lazily, when the export is read. A moved breach_at records a new `apply_sla`.
"""

from __future__ import annotations

import base64
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.emulators.base import RecordedRequest, Response

METRIC_EVENT_ID_OFFSET = 9_100_000_000_000
RATING_ID_OFFSET = 360_000_000_000
RATING_SCORES = ("offered", "unoffered", "good", "bad")
RATINGS_MAX_PAGE_SIZE = 100
EXPORT_WINDOW = timedelta(seconds=60)
_SLA_METRIC = {("reply_time", True): "first_reply_time", ("reply_time", False): "next_reply_time"}
_POLICY = {"id": 25, "title": "Deskwatch default SLA", "description": "Emulated policy"}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _err(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "description": description})


@dataclass
class _Instance:
    """The open instance of one metric on one ticket."""

    instance_id: int
    breach_at: datetime | None = None  # set when an SLA target applies
    breached: bool = False
    fulfilled: bool = False


class ZendeskHistoryMixin:
    """History state and endpoints; relies on the emulator's `_now`, `_lock`, `_tickets`, `route`,
    `_guarded` and `_api_url`."""

    _now: Callable[[], datetime]

    def _init_history(self) -> None:
        self.metric_events_page_size = 1000
        self.export_rate_limit: int | None = None  # Zendesk: 10
        self._metric_events: list[dict[str, Any]] = []
        self._instances: dict[tuple[int, str], _Instance] = {}
        self._ratings: dict[int, dict[str, Any]] = {}  # ticket id -> rating
        self._export_hits: deque[datetime] = deque()
        route, guarded = self.route, self._guarded  # type: ignore[attr-defined]
        route(
            "GET",
            "/api/v2/incremental/ticket_metric_events.json",
            guarded(self._export_limited(self._export_metric_events)),
        )
        route("GET", "/api/v2/satisfaction_ratings.json", guarded(self._list_ratings))

    # -- seeding ---------------------------------------------------------------------------------
    def add_satisfaction_rating(
        self,
        ticket_id: int,
        score: str,
        at: datetime | None = None,
        comment: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Offer or answer the ticket's survey (one rating per ticket: a second call updates it, keeping
        `created_at`). Assignee, group and requester are the ticket's at that moment."""
        if score not in RATING_SCORES:
            raise ValueError(f"score must be one of {RATING_SCORES}, got {score!r}")
        with self._lock:  # type: ignore[attr-defined]
            ticket = self._tickets[ticket_id]  # type: ignore[attr-defined]
            stamp = _iso(at or self._now())
            rating = self._ratings.get(ticket_id)
            if rating is None:
                rating_id = RATING_ID_OFFSET + len(self._ratings) + 1
                rating = {
                    "id": rating_id,
                    "url": self._api_url(f"satisfaction_ratings/{rating_id}.json"),  # type: ignore[attr-defined]
                    "ticket_id": ticket_id,
                    "created_at": stamp,
                }
                self._ratings[ticket_id] = rating
            rating.update(
                assignee_id=ticket.assignee_id,
                group_id=ticket.group_id,
                requester_id=ticket.requester_id,
                score=score,
                comment=comment,
                reason=reason if score == "bad" else None,
                reason_id=None,
                updated_at=stamp,
            )
            return dict(rating)

    def add_metric_event(
        self, ticket_id: int, metric: str, type: str, time: datetime, instance_id: int = 1, **extra: Any
    ) -> dict[str, Any]:  # noqa: A002
        """A hand-built metric event (e.g. `sla={...}` for apply_sla, `deleted=True` for a breach)."""
        with self._lock:  # type: ignore[attr-defined]
            return self._metric_event(ticket_id, metric, type, time, instance_id, **extra)

    def metric_events(self, ticket_id: int | None = None) -> list[dict[str, Any]]:
        """Recorded metric events, oldest first (for assertions)."""
        with self._lock:  # type: ignore[attr-defined]
            self._breach_due(self._now())
            return [dict(e) for e in self._sorted_events() if ticket_id in (None, e["ticket_id"])]

    # -- recording -------------------------------------------------------------------------------
    def _metric_event(
        self, ticket_id: int, metric: str, kind: str, at: datetime, instance_id: int, **extra: Any
    ) -> dict[str, Any]:
        event = {
            "id": METRIC_EVENT_ID_OFFSET + len(self._metric_events) + 1,
            "ticket_id": ticket_id,
            "metric": metric,
            "instance_id": instance_id,
            "type": kind,
            "time": _iso(at),
            **extra,
        }
        self._metric_events.append(event)
        return event

    def _sorted_events(self) -> list[dict[str, Any]]:
        return sorted(self._metric_events, key=lambda e: (e["time"], e["id"]))

    def _policy_breach_at(self, ticket: Any, sla_metric: str) -> datetime | None:
        for entry in (ticket.slas or {}).get("policy_metrics", ()):
            if entry["metric"] == sla_metric and entry["stage"] == "active" and entry["breach_at"]:
                return _parse(entry["breach_at"])
        return None

    def _activate(self, ticket: Any, metric: str, instance_id: int, at: datetime) -> None:
        instance = _Instance(instance_id)
        self._instances[(ticket.id, metric)] = instance
        self._metric_event(ticket.id, metric, "activate", at, instance_id)
        self._apply_sla(ticket, metric, instance, at)

    def _apply_sla(self, ticket: Any, metric: str, instance: _Instance, at: datetime) -> None:
        sla_metric = _SLA_METRIC.get((metric, instance.instance_id == 1), "total_resolution_time")
        breach_at = self._policy_breach_at(ticket, sla_metric)
        if breach_at is None or breach_at == instance.breach_at or instance.fulfilled:
            return
        instance.breach_at = breach_at
        target = max(0, int((breach_at - at).total_seconds() // 60))
        sla = {"target": target, "business_hours": False, "policy": dict(_POLICY)}
        self._metric_event(ticket.id, metric, "apply_sla", at, instance.instance_id, sla=sla)

    def _fulfil(self, ticket_id: int, metric: str, at: datetime) -> None:
        instance = self._instances.get((ticket_id, metric))
        if instance is None or instance.fulfilled:
            return
        self._breach_due(at)
        instance.fulfilled = True
        self._metric_event(ticket_id, metric, "fulfill", at, instance.instance_id)

    def _breach_due(self, now: datetime) -> None:
        for (ticket_id, metric), instance in self._instances.items():
            due = instance.breach_at
            if due is not None and not instance.breached and not instance.fulfilled and due <= now:
                instance.breached = True
                self._metric_event(ticket_id, metric, "breach", due, instance.instance_id, deleted=False)

    def _record_metric_events(self, previous: Any, ticket: Any, stamp: datetime) -> None:
        """Called by the emulator after each committed change; `previous` is the stored ticket before."""
        if ticket.deleted:
            return
        m = ticket.metrics
        if previous is None:
            self._activate(ticket, "reply_time", 1, ticket.created_at)
            self._activate(ticket, "resolution_time", 1, ticket.created_at)
            return
        p = previous.metrics
        reply = self._instances.get((ticket.id, "reply_time"))
        if m.replies > p.replies:
            self._fulfil(ticket.id, "reply_time", stamp)
        elif reply is not None and reply.fulfilled and m.requester_updated_at != p.requester_updated_at:
            self._activate(ticket, "reply_time", reply.instance_id + 1, stamp)
        solved = ("solved", "closed")
        if ticket.status in solved and previous.status not in solved:
            self._fulfil(ticket.id, "resolution_time", stamp)
        if m.reopens > p.reopens:
            resolution = self._instances.get((ticket.id, "resolution_time"))
            self._activate(
                ticket, "resolution_time", (resolution.instance_id if resolution else 0) + 1, stamp
            )
        for metric in ("reply_time", "resolution_time"):  # a moved target re-applies the SLA
            instance = self._instances.get((ticket.id, metric))
            if instance is not None and not instance.fulfilled:
                self._apply_sla(ticket, metric, instance, stamp)

    # -- endpoints -------------------------------------------------------------------------------
    def _export_limited(
        self, fn: Callable[[RecordedRequest, dict[str, str]], Response]
    ) -> Callable[[RecordedRequest, dict[str, str]], Response]:
        """Zendesk's 10 requests a minute on incremental exports (rolling window of the emulator clock)."""

        def handler(req: RecordedRequest, params: dict[str, str]) -> Response:
            limit = self.export_rate_limit
            if limit is not None:
                now = self._now()
                while self._export_hits and self._export_hits[0] <= now - EXPORT_WINDOW:
                    self._export_hits.popleft()
                if len(self._export_hits) >= limit:
                    wait = (self._export_hits[0] + EXPORT_WINDOW - now).total_seconds()
                    body = {
                        "error": "APIRateLimitExceeded",
                        "description": "Number of allowed incremental export requests per minute exceeded",
                    }
                    return Response(429, body, {"Retry-After": str(max(1, math.ceil(wait)))})
                self._export_hits.append(now)
            return fn(req, params)

        return handler

    def _start_time(self, req: RecordedRequest) -> int:
        from integrations.emulators.zendesk import START_TIME_MIN_AGE, _BadRequest

        raw = self._param(req, "start_time")  # type: ignore[attr-defined]
        if raw is None or not raw.isdigit():
            raise _BadRequest(_err(400, "InvalidValue", f"start_time must be a unix time, got {raw!r}"))
        if int(raw) > (self._now() - START_TIME_MIN_AGE).timestamp():
            raise _BadRequest(
                _err(400, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute")
            )
        return int(raw)

    def _export_metric_events(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        start_time = self._start_time(req)
        now = self._now()
        self._breach_due(now)
        horizon = _iso(now - EXPORT_WINDOW)  # the last minute is not exported yet
        stream = [
            e
            for e in self._sorted_events()
            if _parse(e["time"]).timestamp() >= start_time and e["time"] <= horizon
        ]
        page = stream[: self.metric_events_page_size]
        end_time = int(_parse(page[-1]["time"]).timestamp()) if page else start_time
        body = {
            "ticket_metric_events": [dict(e) for e in page],
            "count": len(page),
            "end_time": end_time,
            "next_page": self._api_url("incremental/ticket_metric_events.json", {"start_time": end_time}),  # type: ignore[attr-defined]
            "end_of_stream": len(stream) <= self.metric_events_page_size,
        }
        return Response(200, body)

    def _list_ratings(self, req: RecordedRequest, params: dict[str, str]) -> Response:
        from integrations.emulators.zendesk import _BadRequest

        def number(name: str) -> int | None:
            raw = self._param(req, name)  # type: ignore[attr-defined]
            if raw is not None and not raw.isdigit():
                raise _BadRequest(_err(400, "InvalidValue", f"{name} must be an integer, got {raw!r}"))
            return None if raw is None else int(raw)

        size = number("page[size]")
        if size is None:
            raise _BadRequest(_err(400, "InvalidValue", "this emulator implements cursor pagination only"))
        if not 1 <= size <= RATINGS_MAX_PAGE_SIZE:
            raise _BadRequest(_err(400, "InvalidPaginationParameter", "page[size] must be 1..100"))
        start, end = number("start_time"), number("end_time")
        score = self._param(req, "score")  # type: ignore[attr-defined]
        after = self._param(req, "page[after]")  # type: ignore[attr-defined]
        floor: tuple[str, int] | None = None
        if after is not None:
            try:
                created, _, rid = base64.b64decode(after, validate=True).decode().partition("|")
                floor = (created, int(rid))
            except ValueError as exc:
                raise _BadRequest(_err(400, "InvalidPaginationParameter", "invalid page[after]")) from exc

        def wanted(r: dict[str, Any]) -> bool:
            ts = _parse(r["created_at"]).timestamp()
            return (
                (start is None or ts >= start)
                and (end is None or ts <= end)
                and (score is None or r["score"] == score)
                and (floor is None or (r["created_at"], r["id"]) > floor)
            )

        rows = sorted(
            (r for r in self._ratings.values() if wanted(r)), key=lambda r: (r["created_at"], r["id"])
        )
        page, more = rows[:size], len(rows) > size
        cursor = (
            base64.b64encode(f"{page[-1]['created_at']}|{page[-1]['id']}".encode()).decode() if page else None
        )
        query = {k: v[-1] for k, v in req.query.items() if k != "page[after]"}
        next_url = None
        if more and cursor:
            next_url = self._api_url("satisfaction_ratings.json", {**query, "page[after]": cursor})  # type: ignore[attr-defined]
        body = {
            "satisfaction_ratings": [dict(r) for r in page],
            "meta": {"has_more": more, "after_cursor": cursor, "before_cursor": None},
            "links": {"prev": None, "next": next_url},
        }
        return Response(200, body)
