"""Intercom's side of the digest history: `IntercomHistory`, a `HistoryFeed` over conversations.

A run searches the conversations updated at or after its position (`POST /conversations/search`,
`updated_at >` which Intercom's conversation search treats as "greater or equal", sorted by
`updated_at` ascending, 150 a page, following `pages.next.starting_after`), and reads each changed
conversation once (`GET /conversations/{id}`) for its `conversation_parts`, which give exact times:

- CREATED at `created_at` (tags, `source.type` as channel, priority, team and admin assignee);
- FIRST_REPLY at the first admin `comment` part at or after the customer's first message: the opening
  message when the customer started the conversation, else their first reply (`first_contact_reply`,
  `statistics.first_contact_reply_at`, or their first part): the team's own outbound message and
  anything it sends before the customer writes are not replies, so a team-started conversation the
  customer never answered owes none. `statistics.first_admin_reply_at` stands in when no part shows it;
- REPLIED for each later admin `comment` (`part:<id>`), SOLVED for each `close` part (`part:<id>`,
  with the admin replies so far), REOPENED for an `open` / `assign_and_reopen` part or a customer
  comment after a close, REASSIGNED for each assignment part (`assignment`, `assign_and_*`,
  `*_assignment`); notes, snoozes and other parts are no events;
- a Rating from `conversation_rating` (id: the conversation id, one per conversation; good when
  4 or 5; at its `created_at`).

No SlaOutcomes: `sla_applied` has a status (hit / missed / active / cancelled) but no metric, no time
and no due date, and `missed` is only set at the next teammate reply; Deskwatch derives first-reply
outcomes from the FIRST_REPLY events.

Team and assignee at each event come from the assignment parts before it; before the first assignment
part of a kind (team or admin) it is unknown and None, or the current value when no such part exists.

Cursor `u:<unix>:<ids>`: everything updated before second `<unix>` has been read, and of the
conversations updated in that second, the comma-separated ids. A run re-searches from that second and
skips those ids, so ties (many conversations changed in one second) are neither lost nor re-read
forever. The cursor after each page covers that page: a run costs one search per 150 changed
conversations plus one read per changed conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot.domain.history import EventKind, Rating, TicketEvent
from bot.domain.model import Source, TicketRef
from integrations.base import HelpdeskError, HelpdeskNotFound
from integrations.history import HistoryPage
from integrations.intercom_conversations import CUSTOMER_INITIATED, id_str

if TYPE_CHECKING:
    from integrations.intercom import IntercomHelpdesk

PER_PAGE = 150
SORT = {"field": "updated_at", "order": "ascending"}
_CURSOR_RE = re.compile(r"^u:(\d{1,12}):((?:[A-Za-z0-9_-]{1,64})(?:,[A-Za-z0-9_-]{1,64})*)?$")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONTACT_AUTHORS = frozenset({"user", "lead", "contact"})
_REOPEN_PARTS = frozenset({"open", "assign_and_reopen"})


class IntercomHistory:
    """The history feed of one Intercom workspace, on an `IntercomHelpdesk`'s client and retries."""

    source = Source.INTERCOM

    def __init__(self, helpdesk: IntercomHelpdesk) -> None:
        self._helpdesk = helpdesk

    def history(self, cursor: str | None, *, since: datetime, now: datetime) -> Iterator[HistoryPage]:
        """Pages of events and ratings after `cursor`, or from `since` when it is None (a backfill: only
        records at or after `since`). Raises ValueError at once on a malformed cursor or naive times."""
        if since.tzinfo is None or now.tzinfo is None:
            raise ValueError("since and now must be timezone-aware UTC")
        if cursor is None:
            return self._pages(int(since.timestamp()), frozenset(), since, now)
        return self._pages(*parse_cursor(cursor), None, now)

    def _pages(
        self, position: int, seen: frozenset[str], since: datetime | None, now: datetime
    ) -> Iterator[HistoryPage]:
        helpdesk = self._helpdesk
        query = {"field": "updated_at", "operator": ">", "value": position}
        starting_after: str | None = None
        cursors: set[str] = set()
        ids = set(seen)
        while True:
            before = helpdesk._http_calls
            pagination: dict[str, Any] = {"per_page": PER_PAGE}
            if starting_after is not None:
                pagination["starting_after"] = starting_after
            body = helpdesk._call(
                "search conversations",
                lambda pagination=pagination, **kw: helpdesk._post_search(query, pagination, sort=SORT, **kw),
            )
            found = [raw for raw in body.get("conversations") or () if isinstance(raw, dict)]
            events: list[TicketEvent] = []
            ratings: list[Rating] = []
            for raw in found:
                conv_id, updated = _conv_id(raw), _unix(raw, "updated_at")
                if updated < position or (updated == position and conv_id in ids):
                    continue  # read before: the search starts at the cursor's second
                full = self._read(conv_id)
                if full is not None:
                    conv_events, conv_rating = conversation_records(full, since=since)
                    events.extend(conv_events)
                    ratings.extend([conv_rating] if conv_rating is not None else [])
                if updated > position:
                    position, ids = updated, set()
                ids.add(conv_id)
            pages = body.get("pages") if isinstance(body.get("pages"), dict) else {}
            following = (pages.get("next") or {}).get("starting_after") if found else None
            if following is not None and not isinstance(following, str):
                raise HelpdeskError(f"Intercom search sent a {type(following).__name__} page cursor")
            if following is not None and following in cursors:
                raise HelpdeskError("Intercom search returned the same page cursor twice; stopping")
            yield HistoryPage(
                events=tuple(events),
                ratings=tuple(ratings),
                cursor=format_cursor(position, ids),
                reached=_time(position) if following else now,
                api_calls=helpdesk._http_calls - before,
            )
            if not following:
                return
            cursors.add(following)
            starting_after = following

    def _read(self, conv_id: str) -> dict[str, Any] | None:
        """The conversation with its parts, None if it was deleted since the search."""
        helpdesk = self._helpdesk
        try:
            return helpdesk._call(
                f"fetch conversation {conv_id}",
                lambda **kw: helpdesk._request_json(f"conversations/{quote(conv_id, safe='')}", "GET", **kw),
                not_found=f"Intercom conversation {conv_id} not found",
            )
        except HelpdeskNotFound:
            return None


# -- cursor ----------------------------------------------------------------------------------------
def format_cursor(position: int, ids: set[str] | frozenset[str]) -> str:
    return f"u:{position}:{','.join(sorted(ids))}"


def parse_cursor(cursor: str) -> tuple[int, frozenset[str]]:
    match = _CURSOR_RE.match(cursor)
    if match is None:
        raise ValueError(
            f"invalid Intercom history cursor {cursor[:40]!r}: expected 'u:<unix time>:<comma-separated ids>'"
        )
    return int(match.group(1)), frozenset(match.group(2).split(",")) if match.group(2) else frozenset()


# -- mapping ---------------------------------------------------------------------------------------
def conversation_records(
    conv: dict[str, Any], *, since: datetime | None
) -> tuple[list[TicketEvent], Rating | None]:
    """The events of one conversation read with its parts (those at or after `since` when given), and
    its rating if the customer gave one."""
    conv_id = _conv_id(conv)
    ref = TicketRef(Source.INTERCOM, conv_id)
    created = _time(_unix(conv, "created_at"))
    source = conv.get("source") if isinstance(conv.get("source"), dict) else {}
    stats = conv.get("statistics") if isinstance(conv.get("statistics"), dict) else {}
    tags = ((conv.get("tags") or {}).get("tags")) or []
    priority = conv.get("priority") if isinstance(conv.get("priority"), str) else None
    parts = _parts(conv)
    team, admin = _initial_assignment(conv, parts)
    events: list[TicketEvent] = []

    def emit(kind: EventKind, event_id: str, at: datetime, **extra: Any) -> None:
        events.append(
            TicketEvent(
                ref=ref,
                event_id=event_id,
                kind=kind,
                at=at,
                created_at=created,
                group_id=team,
                assignee_id=admin,
                priority=priority,
                channel=source.get("type") or None,
                **extra,
            )
        )

    emit(EventKind.CREATED, "created", created, tags=tuple(t["name"] for t in tags if t.get("name")))
    first_contact = _first_contact(conv, source, stats, parts, created)
    replies, closed = 0, False
    for part in parts:
        kind, at, part_id = part.get("part_type") or "", _time(part["created_at"]), f"part:{part['id']}"
        author_type = (part.get("author") or {}).get("type")
        if _is_assignment(kind):
            team, admin = _assigned(part.get("assigned_to"), team, admin)
            emit(EventKind.REASSIGNED, part_id, at)
        if kind == "comment" and author_type == "admin":
            if first_contact is None or at < first_contact:
                continue  # the team writing before the customer has: not a reply
            replies += 1
            if replies == 1:
                emit(EventKind.FIRST_REPLY, "first_reply", at, clock_started_at=first_contact)
            else:
                emit(EventKind.REPLIED, part_id, at)
        elif kind == "close":
            closed = True
            emit(EventKind.SOLVED, part_id, at, agent_replies=replies)
        elif closed and (kind in _REOPEN_PARTS or (kind == "comment" and author_type in _CONTACT_AUTHORS)):
            closed = False
            emit(EventKind.REOPENED, part_id, at)
    first_admin_reply = stats.get("first_admin_reply_at")
    if replies == 0 and first_contact is not None and isinstance(first_admin_reply, int):
        at = _time(first_admin_reply)
        if at >= first_contact:  # the parts did not show it (Intercom returns at most 500)
            emit(EventKind.FIRST_REPLY, "first_reply", at, clock_started_at=first_contact)
    if since is not None:
        events = [e for e in events if e.at >= since]
    rating = _rating(conv, ref, team)
    if rating is not None and since is not None and rating.at < since:
        rating = None
    return events, rating


def _parts(conv: dict[str, Any]) -> list[dict[str, Any]]:
    listing = conv.get("conversation_parts") or {}
    raw = listing.get("conversation_parts") if isinstance(listing, dict) else None
    parts = [p for p in raw or () if isinstance(p, dict) and p.get("id") is not None]
    for part in parts:
        if not isinstance(part.get("created_at"), int):
            raise HelpdeskError(f"Intercom conversation {conv.get('id')} has a part without created_at")
    return sorted(parts, key=lambda p: p["created_at"])  # stable: Intercom's order within a second


def _is_assignment(part_type: str) -> bool:
    return (
        part_type == "assignment" or part_type.startswith("assign_and_") or part_type.endswith("_assignment")
    )


def _initial_assignment(conv: dict[str, Any], parts: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    kinds = {
        (p.get("assigned_to") or {}).get("type") for p in parts if _is_assignment(p.get("part_type") or "")
    }
    team = None if "team" in kinds else id_str(conv.get("team_assignee_id"))
    admin = None if kinds & {"admin", "nobody_admin"} else id_str(conv.get("admin_assignee_id"))
    return team, admin


def _assigned(target: Any, team: str | None, admin: str | None) -> tuple[str | None, str | None]:
    """Team and admin after an assignment part (`assigned_to` null: no change Intercom names)."""
    if not isinstance(target, dict):
        return team, admin
    if target.get("type") == "team":
        return id_str(target.get("id")), admin
    if target.get("type") == "admin":
        return team, id_str(target.get("id"))
    if target.get("type") == "nobody_admin":
        return team, None
    return team, admin


def _first_contact(
    conv: dict[str, Any],
    source: dict[str, Any],
    stats: dict[str, Any],
    parts: list[dict[str, Any]],
    created: datetime,
) -> datetime | None:
    """When the customer first wrote (the reply clock's start), None if they never have."""
    delivered_as = source.get("delivered_as")
    author_type = (source.get("author") or {}).get("type")
    if delivered_as == CUSTOMER_INITIATED or (not delivered_as and author_type in _CONTACT_AUTHORS):
        return created
    if not delivered_as and not author_type:
        return created  # origin unknown: as the adapter does, the clock starts at creation
    reply = conv.get("first_contact_reply")
    if isinstance(reply, dict) and isinstance(reply.get("created_at"), int):
        return _time(reply["created_at"])
    if isinstance(stats.get("first_contact_reply_at"), int):
        return _time(stats["first_contact_reply_at"])
    for part in parts:
        if (part.get("author") or {}).get("type") in _CONTACT_AUTHORS and part.get("part_type") in (
            "comment",
            "open",
        ):
            return _time(part["created_at"])
    return None


def _rating(conv: dict[str, Any], ref: TicketRef, team: str | None) -> Rating | None:
    rated = conv.get("conversation_rating")
    if not isinstance(rated, dict):
        return None
    score = rated.get("rating")
    if not isinstance(score, int) or isinstance(score, bool):
        return None  # requested, not (yet) given
    stamp = rated.get("created_at") if isinstance(rated.get("created_at"), int) else rated.get("updated_at")
    if not isinstance(stamp, int):
        stamp = _unix(conv, "updated_at")
    return Rating(
        ref=ref, rating_id=ref.external_id, good=score >= 4, score=str(score), at=_time(stamp), group_id=team
    )


def _conv_id(conv: dict[str, Any]) -> str:
    conv_id = id_str(conv.get("id"))
    if conv_id is None or not _ID_RE.match(conv_id):
        raise HelpdeskError(f"Intercom sent a conversation with an unusable id {str(conv.get('id'))[:40]!r}")
    return conv_id


def _unix(conv: dict[str, Any], name: str) -> int:
    value = conv.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise HelpdeskError(f"Intercom conversation {conv.get('id')} has no {name}")
    return value


def _time(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)
