"""Zendesk's `HistoryFeed`: ticket events, SLA outcomes and satisfaction ratings for the digests.

One run reads three streams in order, each from its own stored position, and yields a page per
vendor page (the cursor of every page holds all three positions, so a restart resumes mid-run):

1. tickets: the cursor export `incremental/tickets/cursor.json?include=metric_sets` (first from
   `start_time`, then `cursor=`, stopped on `end_of_stream`). Events come from each ticket's latest
   state and its metric set (rules in `ticket_events`); re-reading a ticket yields the same ids.
2. metric events: the time-based export `incremental/ticket_metric_events.json?start_time=`, resumed
   from the last page's `end_time` (inclusive: a boundary event may come twice, same `mev:` id). An
   SLA-applied instance (`apply_sla`) that is fulfilled without a breach is achieved at the fulfil
   time; one with a non-deleted `breach` is breached at the breach time. Group and priority come from
   the tickets of step 1, else from show_many (100 ids a call); deleted tickets give no outcome.
   The SLA'd instances still undecided at the end of a page are kept in the cursor (`pending`), so
   a fulfil read in a later run than its apply_sla is still an achieved outcome.
3. ratings: `satisfaction_ratings.json?start_time=&end_time=&page[size]=100` (cursor pagination).
   Zendesk filters by the rating's creation (the survey offer), and a customer answers later: each
   run re-reads the ratings offered in the last `RATING_REVISIT` before the stored end_time.
   "offered" / "unoffered" are skipped.

Incremental exports allow 10 requests a minute: the feed paces them itself (rolling 60 s of the
injected `clock`, waiting with the injected `sleep`) and waits out `Retry-After` on any 429.
Time-based exports refuse a start_time from the last minute; a stream whose position is that recent
is not read this run. Nothing before the backfill's `since` (kept in the cursor) is emitted.

Cursor: `zdh1:` + urlsafe base64 of JSON `{"floor", "ticket_start", "tickets", "metrics", "ratings",
"pending"}`: the backfill horizon, the ticket export's start_time (until it gives an after_cursor) and
after_cursor, the metric events' next start_time, the ratings' last end_time, and the SLA'd metric
instances not decided yet (`[ticket_id, metric, instance_id]`). Its `since` is ignored once a cursor
exists.

Solves and reopens that a later status change hid from the export come from the metric events'
`resolution_time` instances (`zendesk_history_events`). Not derived: REPLIED (`replied:<n>`: Zendesk tells
the reply count, not each reply's time) and group changes without an assignee change.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.history import Rating, SlaOutcome, TicketEvent
from bot.domain.model import Source
from integrations.base import HelpdeskError
from integrations.history import HistoryPage
from integrations.zendesk_history_events import (
    _Facts,
    _facts,
    _id,
    _lifecycle_event,
    _lifecycle_kind,
    _ref,
    _sla_metric,
    _time,
    ticket_events,
)

if TYPE_CHECKING:
    from integrations.zendesk import ZendeskHelpdesk

CURSOR_PREFIX = "zdh1:"
EXPORT_LIMIT_PER_MINUTE = 10
EXPORT_START_LAG_SECONDS = 61  # start_time must be at least a minute old
MAX_RATE_LIMIT_WAITS = 5
DEFAULT_RETRY_AFTER = 60
SHOW_MANY_CHUNK = 100
RATING_PAGE_SIZE = 100
RATING_REVISIT = timedelta(days=3)


@dataclass
class _Position:
    floor: int  # the backfill's since (unix): nothing earlier is emitted
    ticket_start: int  # start_time of the ticket export while there is no cursor
    metrics: int  # start_time of the next metric events read
    ratings: int  # ratings were read up to this end_time
    tickets: str | None = None  # the ticket export's after_cursor
    pending: list[list[Any]] = field(default_factory=list)  # [ticket_id, metric, instance] SLA'd, undecided

    def encode(self) -> str:
        raw = json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)
        return CURSOR_PREFIX + base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> _Position:
        try:
            if not cursor.startswith(CURSOR_PREFIX):
                raise ValueError("prefix")
            raw = json.loads(base64.urlsafe_b64decode(cursor[len(CURSOR_PREFIX) :].encode()))
            position = cls(**raw)
            if not all(
                isinstance(getattr(position, n), int) for n in ("floor", "ticket_start", "metrics", "ratings")
            ):
                raise ValueError("types")
            return position
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"unparseable Zendesk history cursor {cursor[:80]!r}") from exc


class ZendeskHistory:
    """`HistoryFeed` for Zendesk Support over a `ZendeskHelpdesk`'s session (its retries and call count)."""

    source = Source.ZENDESK

    def __init__(
        self,
        helpdesk: ZendeskHelpdesk,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._helpdesk = helpdesk
        self._sleep = sleep
        self._clock = clock
        self._export_hits: deque[float] = deque()  # clock() of recent incremental export requests

    def history(self, cursor: str | None, *, since: datetime, now: datetime) -> Iterator[HistoryPage]:
        if now.tzinfo is None or since.tzinfo is None:
            raise ValueError("since and now must be timezone-aware")
        if cursor is not None:
            position = _Position.decode(cursor)  # validated now, not at the first next()
        else:
            floor = int(since.timestamp())
            start = min(floor, int(now.timestamp()) - EXPORT_START_LAG_SECONDS)
            position = _Position(floor=floor, ticket_start=start, metrics=start, ratings=floor)
        return self._run(position, now)

    def _run(self, position: _Position, now: datetime) -> Iterator[HistoryPage]:
        facts: dict[int, _Facts | None] = {}  # ticket id -> facts, None when deleted
        emitted: set[tuple[str, str]] = set()  # (ref, event id) the ticket pages gave: they know more
        yield from self._ticket_pages(position, now, facts, emitted)
        yield from self._metric_pages(position, now, facts, emitted)
        yield from self._rating_pages(position, now)

    # -- tickets ---------------------------------------------------------------------------------
    def _ticket_pages(
        self, pos: _Position, now: datetime, facts: dict[int, _Facts | None], emitted: set[tuple[str, str]]
    ) -> Iterator[HistoryPage]:
        latest = int(now.timestamp()) - EXPORT_START_LAG_SECONDS
        floor = datetime.fromtimestamp(pos.floor, UTC)
        if pos.tickets is None and pos.ticket_start > latest:
            return
        while True:
            mark = self._helpdesk.api_calls
            params: dict[str, Any] = {"include": "metric_sets"}
            if pos.tickets is None:
                params["start_time"] = pos.ticket_start
            else:
                params["cursor"] = pos.tickets
            body = self._get("incremental/tickets/cursor.json", params, "history ticket export", export=True)
            sets = {m.get("ticket_id"): m for m in body.get("metric_sets") or () if isinstance(m, dict)}
            events: list[TicketEvent] = []
            stamps = []
            for ticket in body.get("tickets") or ():
                deleted = ticket.get("status") == "deleted"
                facts[ticket["id"]] = None if deleted else _facts(ticket)
                events += [e for e in ticket_events(ticket, sets.get(ticket["id"])) if e.at >= floor]
                if isinstance(ticket.get("generated_timestamp"), int):
                    stamps.append(ticket["generated_timestamp"])
            emitted.update((str(e.ref), e.event_id) for e in events)
            previous, after = pos.tickets, body.get("after_cursor")
            if after:
                pos.tickets = after
            elif pos.tickets is None:  # a start_time export that found nothing: nothing changed until now
                pos.ticket_start = latest
            reached = datetime.fromtimestamp(max(stamps), UTC) if stamps else None
            calls = self._helpdesk.api_calls - mark
            yield HistoryPage(events=tuple(events), cursor=pos.encode(), reached=reached, api_calls=calls)
            if body.get("end_of_stream") is True:
                return
            if not after or after == previous:
                raise HelpdeskError(
                    "Zendesk's incremental ticket export stopped advancing before end_of_stream"
                )

    # -- metric events ---------------------------------------------------------------------------
    def _metric_pages(
        self, pos: _Position, now: datetime, facts: dict[int, _Facts | None], emitted: set[tuple[str, str]]
    ) -> Iterator[HistoryPage]:
        latest = int(now.timestamp()) - EXPORT_START_LAG_SECONDS
        floor = datetime.fromtimestamp(pos.floor, UTC)
        start = pos.metrics
        pending = {tuple(key) for key in pos.pending}
        seen: set[Any] = set()
        while start <= latest:
            mark = self._helpdesk.api_calls
            body = self._get(
                "incremental/ticket_metric_events.json",
                {"start_time": start},
                "ticket metric events export",
                export=True,
            )
            page = [e for e in body.get("ticket_metric_events") or () if isinstance(e, dict)]
            rows = [e for e in page if e.get("id") not in seen]  # next_page starts at end_time, inclusive
            seen.update(e.get("id") for e in page)
            decided = []
            lifecycle = [row for row in rows if _lifecycle_kind(row) is not None]
            for row in rows:
                key = (row.get("ticket_id"), row.get("metric"), row.get("instance_id"))
                kind = row.get("type")
                if kind == "apply_sla":
                    pending.add(key)
                elif kind == "breach" and not row.get("deleted"):  # deleted breaches are void
                    pending.discard(key)  # decided: a fulfil after a breach is not an achievement
                    decided.append((row, False))
                elif kind == "fulfill" and key in pending:
                    pending.discard(key)
                    decided.append((row, True))
            wanted = {row["ticket_id"] for row, _ in decided} | {row.get("ticket_id") for row in lifecycle}
            self._fill_facts(wanted - set(facts), facts)
            events = [
                e
                for e in (_lifecycle_event(row, facts) for row in lifecycle)
                if e is not None and e.at >= floor and (str(e.ref), e.event_id) not in emitted
            ]
            emitted.update((str(e.ref), e.event_id) for e in events)
            outcomes = []
            for row, achieved in decided:
                outcome = self._outcome(row, achieved, facts)
                if outcome is not None and outcome.at >= floor:
                    outcomes.append(outcome)
            pending = {key for key in pending if not (key[0] in facts and facts[key[0]] is None)}
            pos.pending = sorted([list(key) for key in pending], key=lambda k: (k[0], str(k[1]), k[2] or 0))
            end_time = body.get("end_time")
            done = body.get("end_of_stream") is True or not page or not body.get("next_page")
            if not page:
                pos.metrics = max(pos.metrics, latest)  # nothing up to the export horizon
            elif isinstance(end_time, int):
                # The export holds back the last minute, so nothing can still arrive at end_time once the
                # stream has ended: the stored position starts after it. Mid-stream, next_page's start.
                pos.metrics = max(pos.metrics, end_time + 1 if done else end_time)
            calls = self._helpdesk.api_calls - mark
            reached = datetime.fromtimestamp(end_time, UTC) if isinstance(end_time, int) else None
            yield HistoryPage(
                events=tuple(events),
                outcomes=tuple(outcomes),
                cursor=pos.encode(),
                reached=reached,
                api_calls=calls,
            )
            if done:
                return
            if not isinstance(end_time, int) or end_time <= start:
                raise HelpdeskError("Zendesk's ticket metric events export stopped advancing")
            start = end_time

    def _outcome(
        self, row: dict[str, Any], achieved: bool, facts: dict[int, _Facts | None]
    ) -> SlaOutcome | None:
        ticket_id, instance = row.get("ticket_id"), row.get("instance_id")
        metric = _sla_metric(str(row.get("metric")), instance if isinstance(instance, int) else 1)
        at = _time(row.get("time"))
        known = facts.get(ticket_id)  # type: ignore[arg-type]
        if metric is None or at is None or known is None:
            return None  # unknown metric, or a deleted ticket
        return SlaOutcome(
            ref=_ref(ticket_id),
            metric=str(metric),
            cycle=str(instance),
            achieved=achieved,
            at=at,
            due_at=None if achieved else at,
            group_id=known.group_id,
            priority=known.priority,
        )

    def _fill_facts(self, ids: Iterable[Any], facts: dict[int, _Facts | None]) -> None:
        """Group and priority of tickets not seen in the export: show_many (deleted ones are missing)."""
        wanted = sorted(i for i in ids if isinstance(i, int))
        for at in range(0, len(wanted), SHOW_MANY_CHUNK):
            chunk = wanted[at : at + SHOW_MANY_CHUNK]
            body = self._get(
                "tickets/show_many.json", {"ids": ",".join(map(str, chunk))}, "show_many for SLA outcomes"
            )
            for ticket_id in chunk:
                facts[ticket_id] = None
            for ticket in body.get("tickets") or ():
                facts[ticket["id"]] = _facts(ticket)

    # -- ratings ---------------------------------------------------------------------------------
    def _rating_pages(self, pos: _Position, now: datetime) -> Iterator[HistoryPage]:
        end = int(now.timestamp())
        start = max(pos.floor, min(pos.ratings, end) - int(RATING_REVISIT.total_seconds()))
        params: dict[str, Any] | None = {"start_time": start, "end_time": end, "page[size]": RATING_PAGE_SIZE}
        link = "satisfaction_ratings.json"
        floor = datetime.fromtimestamp(pos.floor, UTC)
        while True:
            mark = self._helpdesk.api_calls
            body = self._get(link, params, "satisfaction ratings list")
            ratings = []
            for row in body.get("satisfaction_ratings") or ():
                score = row.get("score")
                at = _time(row.get("updated_at")) or _time(row.get("created_at"))
                if score not in ("good", "bad") or at is None or at < floor:
                    continue  # offered / unoffered are not ratings
                ratings.append(
                    Rating(
                        ref=_ref(row["ticket_id"]),
                        rating_id=str(row["id"]),
                        good=score == "good",
                        score=score,
                        at=at,
                        group_id=_id(row.get("group_id")),
                    )
                )
            more = (body.get("meta") or {}).get("has_more") is True
            next_link = (body.get("links") or {}).get("next")
            if not more:
                pos.ratings = end
            calls = self._helpdesk.api_calls - mark
            cursor = pos.encode() if not more else None  # mid-list: a restart re-reads the window
            yield HistoryPage(
                ratings=tuple(ratings), cursor=cursor, reached=now if not more else None, api_calls=calls
            )
            if not more:
                return
            if not isinstance(next_link, str) or next_link == link:
                raise HelpdeskError("Zendesk's satisfaction ratings list has more pages but no new next link")
            link, params = next_link, None

    # -- plumbing --------------------------------------------------------------------------------
    def _get(
        self, path: str, params: dict[str, Any] | None, action: str, *, export: bool = False
    ) -> dict[str, Any]:
        """One GET, paced when it is an incremental export, waiting out 429 Retry-After."""
        for _ in range(MAX_RATE_LIMIT_WAITS + 1):
            if export:
                self._pace()
            response = self._helpdesk.raw_get(path, params, action)
            if response.status_code != 429:
                try:
                    body = response.json()
                except ValueError as exc:
                    raise HelpdeskError(f"Zendesk {action} returned a body that is not JSON") from exc
                if not isinstance(body, dict):
                    raise HelpdeskError(
                        f"Zendesk {action} returned {type(body).__name__}, expected an object"
                    )
                return body
            raw = response.headers.get("Retry-After", "")
            self._sleep(float(raw) if raw.strip().isdigit() else DEFAULT_RETRY_AFTER)
        raise HelpdeskError(f"Zendesk {action}: still rate limited after {MAX_RATE_LIMIT_WAITS} waits")

    def _pace(self) -> None:
        """At most 10 incremental export requests in any rolling 60 s of `clock`."""
        now = self._clock()
        while self._export_hits and self._export_hits[0] <= now - 60:
            self._export_hits.popleft()
        if len(self._export_hits) >= EXPORT_LIMIT_PER_MINUTE:
            self._sleep(self._export_hits[0] + 60 - now)
            now = self._clock()
            while self._export_hits and self._export_hits[0] <= now - 60:
                self._export_hits.popleft()
        self._export_hits.append(now)
