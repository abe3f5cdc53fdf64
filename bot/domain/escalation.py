"""Escalation handoffs as an explicit state machine: one `Escalation` is one ticket's handoff to one tier.

Moving on (a responder's "escalate further", or no Accept after `repeat` re-pings) closes the handoff as
ESCALATED and opens a successor in the next tier: each tier posts its own message in its own channel, so
one record per (chain, tier) keeps message, owner and metrics apart, and the whole chain shares `chain`.

Every function is pure: it takes the state, the event (carrying its time) and the policy, and returns a
`Transition` (new state, effects for the service layer to perform, one audit event per handled event).
Who-may-do-what is answered with a `Refusal` value, never an exception. On the last tier the ack clock
stops after `repeat` re-pings with one message to the managers: re-pinging forever would train people to
mute the channel, and there is nobody left to hand the ticket to.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.domain.calendar import BusinessHours, add_business_time
from bot.domain.durations import format_duration
from bot.domain.escalation_types import (  # noqa: F401 - the public API of this module
    _ZERO,
    CLOSED,
    Accept,
    AckTimeout,
    AuditEvent,
    AutoEscalate,
    DueAlert,
    DueWarning,
    Effect,
    EscalateFurther,
    Escalation,
    EscalationPolicy,
    Event,
    InfoAdded,
    InvalidEscalation,
    Notify,
    PingResponders,
    PostHandoff,
    Reassign,
    Refusal,
    RefusalCode,
    RequestInfo,
    ResolvedUpstream,
    Status,
    TellThread,
    Tier,
    Transition,
    UpdateMessage,
    WriteBack,
    WriteBackTarget,
)
from bot.domain.model import TicketRef

# --- opening ------------------------------------------------------------------------------------------


def open_escalation(
    policy: EscalationPolicy,
    *,
    chain: str,
    ref: TicketRef,
    reason: str,
    note: str,
    by: str,
    at: datetime,
    tier: int = 1,
) -> Transition:
    """A new handoff to `tier` (default the first receiving tier); raises InvalidEscalation for bad input."""
    if reason not in policy.reasons:
        raise InvalidEscalation(
            f'"{reason}" is not an escalation reason: use one of {", ".join(policy.reasons)}'
        )
    if not 1 <= tier < len(policy.tiers):
        raise InvalidEscalation(f"there is no tier {tier} to escalate to (tiers 1..{len(policy.tiers) - 1})")
    if not note.strip():
        raise InvalidEscalation("a handoff note is required: say what you tried and what you need")
    state = Escalation(
        chain=chain, ref=ref, reason=reason, note=note.strip(), opened_by=by, tier=tier, opened_at=at
    )
    state, effects = _enter(policy, state, at)
    return Transition(state, effects, (_audit(state, "opened", by, at, reason=reason),))


def _enter(
    policy: EscalationPolicy, state: Escalation, at: datetime
) -> tuple[Escalation, tuple[Effect, ...]]:
    tier = policy.tiers[state.tier]
    mentions, cursor = _mentions(tier, 0)
    due_at = due_warn_at = None
    if tier.due is not None:
        due_at = add_business_time(tier.calendar, at, tier.due)
        if tier.due_warn_before is not None and tier.due_warn_before < tier.due:
            due_warn_at = add_business_time(tier.calendar, at, tier.due - tier.due_warn_before)
    ack = add_business_time(tier.calendar, at, tier.ack_within) if tier.ack_within else None
    state = replace(state, ack_deadline=ack, rr_next=cursor, due_at=due_at, due_warn_at=due_warn_at)
    effects: list[Effect] = [
        PostHandoff(state.tier, state.ref, state.reason, state.note, state.opened_by, mentions)
    ]
    # The internal note goes to the ticket on every handoff; routing only where the tier names a target.
    effects.append(WriteBack(state.tier, state.ref, tier.write_back or WriteBackTarget(), state.note))
    return state, tuple(effects)


def _mentions(tier: Tier, cursor: int) -> tuple[tuple[str, ...], int]:
    """Who to mention now, and the next round-robin cursor."""
    if not tier.responders:
        return (), cursor
    if tier.notify is Notify.ALL:
        return tier.responders, cursor
    return (tier.responders[cursor % len(tier.responders)],), (cursor + 1) % len(tier.responders)


# --- events -------------------------------------------------------------------------------------------


def apply(state: Escalation, event: Event, policy: EscalationPolicy) -> Transition:
    """Handle one event; the single entry point the service calls."""
    if isinstance(event, AckTimeout):
        return _on_timer(state, event.at, policy)
    if isinstance(event, ResolvedUpstream):
        return _on_resolved(state, event.at, policy)
    if state.status in CLOSED:
        where = "was resolved" if state.status is Status.RESOLVED else "moved to the next tier"
        refusal = Refusal(RefusalCode.CLOSED, f"this handoff {where}; nothing to do here")
        return _refuse(state, event, refusal)
    tier = policy.tiers[state.tier]
    user = event.user
    if isinstance(event, InfoAdded) and user != state.opened_by and user not in policy.managers:
        refusal = Refusal(
            RefusalCode.NOT_AUTHORISED,
            "only the person who escalated (or a manager) can add the information that was asked for",
        )
        return _refuse(state, event, refusal)
    if not isinstance(event, InfoAdded) and user != state.owner and not policy.may_act(tier, user):
        refusal = Refusal(
            RefusalCode.NOT_AUTHORISED,
            f"only {tier.name} responders or a manager can do that; ask in the thread instead",
        )
        return _refuse(state, event, refusal)
    if isinstance(event, Accept):
        return _on_accept(state, event, tier)
    if isinstance(event, Reassign):
        return _on_reassign(state, event, tier, policy)
    if isinstance(event, RequestInfo):
        return _on_request_info(state, event, tier)
    if isinstance(event, InfoAdded):
        return _on_info_added(state, event, tier)
    return _on_escalate(state, event.at, policy, actor=user, why=event.note, kind="escalated_further")


def _on_accept(state: Escalation, event: Accept, tier: Tier) -> Transition:
    if state.owner is not None:
        who = "you" if state.owner == event.user else f"<@{state.owner}>"
        return _refuse(state, event, Refusal(RefusalCode.ALREADY_ACCEPTED, f"already accepted by {who}"))
    status = Status.WAITING_INFO if state.status is Status.WAITING_INFO else Status.ACCEPTED
    new = replace(
        state, status=status, owner=event.user, accepted_at=event.at, ack_deadline=None, ack_left=None
    )
    waited = format_duration(event.at - state.opened_at)
    effects = (
        UpdateMessage(new.tier, new.status, new.owner),
        TellThread(new.tier, f"<@{event.user}> accepted after {waited}", (state.opened_by,)),
    )
    return Transition(new, effects, (_audit(new, "accepted", event.user, event.at),))


def _on_reassign(state: Escalation, event: Reassign, tier: Tier, policy: EscalationPolicy) -> Transition:
    if event.to == state.owner:
        return _refuse(state, event, Refusal(RefusalCode.INVALID, f"<@{event.to}> already owns this handoff"))
    if not policy.may_act(tier, event.to):
        refusal = Refusal(
            RefusalCode.INVALID, f"<@{event.to}> is not a {tier.name} responder or manager: pick one of them"
        )
        return _refuse(state, event, refusal)
    status = Status.WAITING_INFO if state.status is Status.WAITING_INFO else Status.ACCEPTED
    new = replace(
        state,
        status=status,
        owner=event.to,
        accepted_at=state.accepted_at or event.at,
        ack_deadline=None,
        ack_left=None,
    )
    effects = (
        UpdateMessage(new.tier, new.status, new.owner),
        TellThread(new.tier, f"<@{event.user}> reassigned this to <@{event.to}>", (event.to,)),
    )
    audit = _audit(new, "reassigned", event.user, event.at, previous=state.owner, to=event.to)
    return Transition(new, effects, (audit,))


def _on_request_info(state: Escalation, event: RequestInfo, tier: Tier) -> Transition:
    if state.status is Status.WAITING_INFO:
        return _refuse(state, event, Refusal(RefusalCode.INVALID, "information was already requested"))
    if not event.question.strip():
        return _refuse(state, event, Refusal(RefusalCode.INVALID, "say what information you need"))
    left = None
    if state.ack_deadline is not None:
        left = max(_ZERO, _business_between(tier.calendar, event.at, state.ack_deadline))
    new = replace(
        state, status=Status.WAITING_INFO, question=event.question.strip(), ack_deadline=None, ack_left=left
    )
    effects = (
        UpdateMessage(new.tier, new.status, new.owner),
        TellThread(new.tier, f"<@{event.user}> needs more information: {new.question}", (state.opened_by,)),
    )
    audit = _audit(new, "info_requested", event.user, event.at, question=new.question)
    return Transition(new, effects, (audit,))


def _on_info_added(state: Escalation, event: InfoAdded, tier: Tier) -> Transition:
    if state.status is not Status.WAITING_INFO:
        return _refuse(state, event, Refusal(RefusalCode.NOT_WAITING, "no information was requested"))
    ack = None
    if state.owner is None and state.ack_left is not None:
        ack = add_business_time(tier.calendar, event.at, state.ack_left)
    status = Status.OPEN if state.owner is None else Status.ACCEPTED
    new = replace(state, status=status, question=None, ack_deadline=ack, ack_left=None)
    mentions = (state.owner,) if state.owner else tier.responders
    effects = (
        UpdateMessage(new.tier, new.status, new.owner),
        TellThread(new.tier, f"<@{event.user}> added information: {event.text.strip()}", mentions),
    )
    audit = _audit(new, "info_added", event.user, event.at, text=event.text.strip())
    return Transition(new, effects, (audit,))


def _on_escalate(
    state: Escalation, at: datetime, policy: EscalationPolicy, *, actor: str | None, why: str, kind: str
) -> Transition:
    nxt = state.tier + 1
    if nxt >= len(policy.tiers):
        name = policy.tiers[state.tier].name
        refusal = Refusal(
            RefusalCode.LAST_TIER, f"{name} is the last tier: there is nowhere further to escalate"
        )
        return Transition(
            state, refusal=refusal, audit=(_refused(state, "escalate_further", actor, at, refusal),)
        )
    closed = replace(state, status=Status.ESCALATED, ack_deadline=None, ack_left=None)
    note = f"{state.note}\n\nEscalated from {policy.tiers[state.tier].name}: {why.strip()}"
    successor = Escalation(
        chain=state.chain,
        ref=state.ref,
        reason=state.reason,
        note=note,
        opened_by=actor or state.opened_by,
        tier=nxt,
        opened_at=at,
    )
    successor, entered = _enter(policy, successor, at)
    to_name = policy.tiers[nxt].name
    effects: list[Effect] = [UpdateMessage(closed.tier, closed.status, closed.owner)]
    if actor is None:
        effects.append(AutoEscalate(closed.tier, nxt, why))
    effects.append(TellThread(closed.tier, f"Escalated to {to_name}: {why.strip()}"))
    effects.extend(entered)
    audit = _audit(closed, kind, actor, at, to_tier=nxt, why=why.strip())
    return Transition(closed, tuple(effects), (audit,), successor=successor)


def _on_timer(state: Escalation, at: datetime, policy: EscalationPolicy) -> Transition:
    """Everything due by `at`: a stale or early wake-up changes nothing and audits nothing."""
    if state.status in CLOSED:
        return Transition(state)
    tier = policy.tiers[state.tier]
    effects: list[Effect] = []
    audits: list[AuditEvent] = []
    if state.due_at is not None and not state.due_alerted and at >= state.due_at:
        effects.append(DueAlert(state.tier, state.due_at, (state.owner,) if state.owner else tier.responders))
        state = replace(state, due_alerted=True, due_warned=True)  # a warning after the alert is noise
        audits.append(_audit(state, "due_passed", None, at, due_at=state.due_at.isoformat()))
    elif state.due_warn_at is not None and not state.due_warned and at >= state.due_warn_at:
        assert state.due_at is not None
        effects.append(DueWarning(state.tier, state.due_at))
        state = replace(state, due_warned=True)
        audits.append(_audit(state, "due_warning", None, at, due_at=state.due_at.isoformat()))
    if state.ack_deadline is None or at < state.ack_deadline:
        return Transition(state, tuple(effects), tuple(audits))
    assert tier.ack_within is not None
    if state.pings < tier.repeat:
        mentions, cursor = _mentions(tier, state.rr_next)
        pings = state.pings + 1
        deadline = add_business_time(tier.calendar, at, tier.ack_within)
        state = replace(state, pings=pings, rr_next=cursor, ack_deadline=deadline)
        effects.append(PingResponders(state.tier, mentions, pings))
        effects.append(UpdateMessage(state.tier, state.status, state.owner))  # "Accept by" moved on
        audits.append(_audit(state, "re_pinged", None, at, attempt=pings, mentions=list(mentions)))
        return Transition(state, tuple(effects), tuple(audits))
    waited = format_duration(at - state.opened_at)
    why = f"nobody accepted in {tier.name} within {waited} ({state.pings} re-pings)"
    if state.tier + 1 < len(policy.tiers):
        moved = _on_escalate(state, at, policy, actor=None, why=why, kind="auto_escalated")
        return replace(moved, effects=(*effects, *moved.effects), audit=(*audits, *moved.audit))
    state = replace(state, ack_deadline=None)
    effects.append(
        TellThread(
            state.tier, f"Still unaccepted: {why}. Managers, please step in.", tuple(sorted(policy.managers))
        )
    )
    audits.append(_audit(state, "ack_exhausted", None, at, pings=state.pings))
    return Transition(state, tuple(effects), tuple(audits))


def _on_resolved(state: Escalation, at: datetime, policy: EscalationPolicy) -> Transition:
    if state.status in CLOSED:
        return Transition(state)
    new = replace(state, status=Status.RESOLVED, resolved_at=at, ack_deadline=None, ack_left=None)
    accept = new.time_to_accept
    resolve = new.time_to_resolve
    assert resolve is not None
    accepted = f"accepted after {format_duration(accept)}, " if accept is not None else "never accepted, "
    text = f"Resolved in the helpdesk: {accepted}resolved {format_duration(resolve)} after the handoff"
    effects = (UpdateMessage(new.tier, new.status, new.owner), TellThread(new.tier, text))
    details = {
        "time_to_accept_s": None if accept is None else int(accept.total_seconds()),
        "time_to_resolve_s": int(resolve.total_seconds()),
    }
    return Transition(new, effects, (_audit(new, "resolved", None, at, **details),))


# --- timers and helpers -------------------------------------------------------------------------------


def next_timer_at(state: Escalation, now: datetime) -> datetime | None:
    """When the scheduler should send the next AckTimeout; an overdue timer is due `now`, never earlier."""
    if state.status in CLOSED:
        return None
    candidates = [state.ack_deadline]
    if not state.due_alerted:
        candidates.append(state.due_at)
        if not state.due_warned:
            candidates.append(state.due_warn_at)
    pending = [when for when in candidates if when is not None]
    return max(min(pending), now) if pending else None


def _business_between(calendar: BusinessHours | None, a: datetime, b: datetime) -> timedelta:
    return b - a if calendar is None else calendar.business_time_between(a, b)


def _audit(state: Escalation, kind: str, actor: str | None, at: datetime, **details: Any) -> AuditEvent:
    return AuditEvent(state.chain, state.tier, kind, actor, at, details)


def _refused(state: Escalation, action: str, actor: str | None, at: datetime, refusal: Refusal) -> AuditEvent:
    return _audit(state, "refused", actor, at, action=action, code=str(refusal.code), message=refusal.message)


_ACTIONS = {
    Accept: "accept",
    Reassign: "reassign",
    RequestInfo: "request_info",
    InfoAdded: "info_added",
    EscalateFurther: "escalate_further",
}


def _refuse(state: Escalation, event: Event, refusal: Refusal) -> Transition:
    """Refusals change nothing but are audited: who tried to act on a compliance handoff matters."""
    actor = getattr(event, "user", None)
    audit = _refused(state, _ACTIONS.get(type(event), "event"), actor, event.at, refusal)
    return Transition(state, refusal=refusal, audit=(audit,))
