"""Values of the escalation state machine: tiers and policy, the state of one handoff, the events it
reacts to, the effects it asks the service layer to perform, audit events and refusals. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.calendar import BusinessHours
from bot.domain.model import DomainError, TicketRef

_ZERO = timedelta(0)


class InvalidEscalation(DomainError):
    """An escalation cannot be opened as asked (unknown reason, no such tier, empty note)."""


class Status(StrEnum):
    OPEN = "open"  # posted, waiting for an Accept; ack clock running
    WAITING_INFO = "waiting_info"  # a responder asked for information; ack clock paused
    ACCEPTED = "accepted"
    ESCALATED = "escalated"  # handed to the next tier (closed here; the successor carries on)
    RESOLVED = "resolved"


CLOSED = frozenset({Status.ESCALATED, Status.RESOLVED})


class Notify(StrEnum):
    ALL = "all"
    ROUND_ROBIN = "round_robin"


@dataclass(frozen=True)
class WriteBackTarget:
    """Where the helpdesk ticket goes when a tier receives it (all optional)."""

    zendesk_group_id: int | None = None
    zendesk_assignee_id: int | None = None
    zendesk_tags: tuple[str, ...] = ()
    intercom_team_id: str | None = None
    intercom_admin_id: str | None = None


@dataclass(frozen=True)
class Tier:
    """One tier. `responders` are Slack user (U/W) or user-group (S) ids; `calendar=None` is 24/7."""

    name: str
    channel: str | None = None
    responders: tuple[str, ...] = ()
    ack_within: timedelta | None = None
    repeat: int = 2
    notify: Notify = Notify.ALL
    due: timedelta | None = None
    due_warn_before: timedelta | None = None
    calendar: BusinessHours | None = None
    write_back: WriteBackTarget | None = None


@dataclass(frozen=True)
class EscalationPolicy:
    """The tiers plus who else may act: `managers` always; members of S-groups as resolved by the service."""

    tiers: tuple[Tier, ...]
    reasons: tuple[str, ...]
    managers: frozenset[str] = frozenset()
    group_members: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)

    def may_act(self, tier: Tier, user: str) -> bool:
        if user in self.managers or user in tier.responders:
            return True
        return any(user in self.group_members.get(r, frozenset()) for r in tier.responders if r[:1] == "S")


@dataclass(frozen=True)
class Escalation:
    """One handoff. `ack_deadline` is None unless the ack clock runs; `ack_left` holds it while paused."""

    chain: str
    ref: TicketRef
    reason: str
    note: str
    opened_by: str
    tier: int
    opened_at: datetime
    status: Status = Status.OPEN
    owner: str | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    pings: int = 0  # re-pings sent in this tier
    rr_next: int = 0  # round-robin cursor into the tier's responders
    ack_deadline: datetime | None = None
    ack_left: timedelta | None = None
    question: str | None = None
    due_at: datetime | None = None
    due_warn_at: datetime | None = None
    due_warned: bool = False
    due_alerted: bool = False

    @property
    def time_to_accept(self) -> timedelta | None:
        return None if self.accepted_at is None else self.accepted_at - self.opened_at

    @property
    def time_to_resolve(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.opened_at


# --- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accept:
    user: str
    at: datetime


@dataclass(frozen=True)
class Reassign:
    user: str
    to: str
    at: datetime


@dataclass(frozen=True)
class RequestInfo:
    user: str
    question: str
    at: datetime


@dataclass(frozen=True)
class InfoAdded:
    user: str
    text: str
    at: datetime


@dataclass(frozen=True)
class EscalateFurther:
    user: str
    note: str
    at: datetime


@dataclass(frozen=True)
class AckTimeout:
    """The scheduler's wake-up at `next_timer_at`: handles the ack clock and the `due` warning/alert."""

    at: datetime


@dataclass(frozen=True)
class ResolvedUpstream:
    at: datetime


Event = Accept | Reassign | RequestInfo | InfoAdded | EscalateFurther | AckTimeout | ResolvedUpstream


# --- effects (the service maps them to outbox rows); `tier` says which handoff's message they concern ----


@dataclass(frozen=True)
class PostHandoff:
    tier: int
    ref: TicketRef
    reason: str
    note: str
    by: str
    mentions: tuple[str, ...]


@dataclass(frozen=True)
class UpdateMessage:
    tier: int
    status: Status
    owner: str | None


@dataclass(frozen=True)
class PingResponders:
    tier: int
    mentions: tuple[str, ...]
    attempt: int


@dataclass(frozen=True)
class AutoEscalate:
    from_tier: int
    to_tier: int
    reason: str


@dataclass(frozen=True)
class TellThread:
    tier: int
    text: str
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteBack:
    tier: int
    ref: TicketRef
    target: WriteBackTarget
    note: str


@dataclass(frozen=True)
class DueWarning:
    tier: int
    due_at: datetime


@dataclass(frozen=True)
class DueAlert:
    tier: int
    due_at: datetime
    mentions: tuple[str, ...]


Effect = (
    PostHandoff
    | UpdateMessage
    | PingResponders
    | AutoEscalate
    | TellThread
    | WriteBack
    | DueWarning
    | DueAlert
)


@dataclass(frozen=True)
class AuditEvent:
    chain: str
    tier: int
    kind: str
    actor: str | None  # None for the clock
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)


class RefusalCode(StrEnum):
    NOT_AUTHORISED = "not_authorised"
    ALREADY_ACCEPTED = "already_accepted"
    CLOSED = "closed"
    LAST_TIER = "last_tier"
    NOT_WAITING = "not_waiting"
    INVALID = "invalid"


@dataclass(frozen=True)
class Refusal:
    code: RefusalCode
    message: str


@dataclass(frozen=True)
class Transition:
    """One event's outcome. A refusal leaves `state` as it was; `successor` is the next tier's handoff."""

    state: Escalation
    effects: tuple[Effect, ...] = ()
    audit: tuple[AuditEvent, ...] = ()
    successor: Escalation | None = None
    refusal: Refusal | None = None
