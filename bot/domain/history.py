"""What happened to tickets, as the digests need it: events, SLA outcomes and satisfaction ratings.

Adapters (`integrations/*_history.py`) turn helpdesk exports into these values; the history store keeps
them append-only, stamped with the team at the time, and digests aggregate them with SQL. Every record
carries a source event id that is stable across re-reads (a vendor id, or one derived from the ticket's
own counters, like `solved:2` for the solve after the second reopen), so a backfill that overlaps the
live feed, or a page read twice, adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.model import TicketRef


class EventKind(StrEnum):
    CREATED = "created"  # the ticket/conversation was created (customer- or team-started)
    FIRST_REPLY = "first_reply"  # the first agent reply to the customer (public comment / admin reply)
    REPLIED = "replied"  # any later public agent reply
    SOLVED = "solved"  # Zendesk status solved (or closed without solve); Intercom closed
    REOPENED = "reopened"  # a solved/closed item went back to open
    REASSIGNED = "reassigned"  # the group/team or the assignee changed


@dataclass(frozen=True)
class TicketEvent:
    """One thing that happened to a ticket, with the ticket's facts at that moment.

    - `event_id`: unique per ticket for this kind of happening and stable across reads. Derived ids:
      `created`, `first_reply`, `replied:<n>` (the n-th agent reply), `solved:<reopens>`,
      `reopened:<n>`, `reassigned:<unix micros>`; vendor ids where the helpdesk gives one (`mev:<id>`).
    - `group_id`: the Zendesk group / Intercom team id at the time (the store maps it to a Deskwatch team).
    - `channel`: where the ticket came in (`email`, `web`, `chat`, `api`, `messaging`...; Zendesk
      `via.channel`, Intercom `source.type`), None when the helpdesk does not say.
    - `created_at`: the ticket's creation, so a solve carries the resolution time and a reply its wait.
    - `clock_started_at` (FIRST_REPLY): when the reply clock started: the ticket's creation, or for an
      Intercom conversation the team started, the customer's first reply.
    - `agent_replies` (SOLVED): agent replies so far (1 = one-touch resolution).
    - `tags` (CREATED): the ticket's tags (contact drivers), else ().
    """

    ref: TicketRef
    event_id: str
    kind: EventKind
    at: datetime
    created_at: datetime
    group_id: str | None = None
    assignee_id: str | None = None
    priority: str | None = None
    channel: str | None = None
    tags: tuple[str, ...] = ()
    clock_started_at: datetime | None = None
    agent_replies: int | None = None


@dataclass(frozen=True)
class SlaOutcome:
    """One SLA target met or missed: metric (`first_reply_time`...), cycle (clock instance), due, when.

    `at` is when the outcome was decided: the fulfil time for an achieved target, the breach time (usually
    `due_at`) for a breached one. `due_at` may be None when the helpdesk reports a breach without a target.
    """

    ref: TicketRef
    metric: str
    cycle: str
    achieved: bool
    at: datetime
    due_at: datetime | None = None
    group_id: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class Rating:
    """One satisfaction rating. `good`: Zendesk score "good"; Intercom rating 4 or 5 of 5.

    `score` is the raw score as the helpdesk states it ("good", "bad", "4"); `rating_id` the vendor id.
    Offered-but-unanswered Zendesk ratings are not ratings and never become one.
    """

    ref: TicketRef
    rating_id: str
    good: bool
    score: str
    at: datetime
    group_id: str | None = None
