"""Escalation handoff message and its thread notes.

Pure rendering: a `HandoffView` (domain values, text already escaped-safe but not yet redacted: redaction
happens at the Slack boundary) in, `RenderedMessage` out. The escalator's words are shown verbatim
(escaped, never one-lined) and cut to fixed budgets, so the worst form still fits one Slack message.
The same renderer draws every state: the service re-renders and `chat.update`s on each change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)

from bot.blocks.alerts import RenderedMessage
from bot.blocks.ids import EscalationActions, EscalationBlocks
from bot.blocks.metadata import EscalationButtonValue, InvalidButtonValue
from bot.blocks.text import (
    due_phrase,
    format_local,
    format_local_time,
    mrkdwn_link,
    mrkdwn_text,
    one_line,
    truncate,
    user_mention,
)
from bot.domain.durations import format_duration
from bot.domain.escalation_types import Status
from bot.domain.model import TicketRef

HEADER_MAX = 150
FALLBACK_TEXT_MAX = 300
# Slack refuses messages whose blocks hold more than ~13k characters (`msg_blocks_too_long`, see
# alert_group.py); the fixed budgets below add up to well under this for the worst input.
MESSAGE_TEXT_BUDGET = 12_000
WORDS_MAX = 2800  # each of "needs" and "tried": a section holds 3000 with its label
NOTE_MAX = 1500
QUESTION_MAX = 1000
MENTIONS_MAX = 1500
THREAD_DETAIL_MAX = 2000
_SUBJECT_MAX = 500
_FACT_MAX = 150
_LINK_URL_MAX = 1000
_S_GROUP = re.compile(r"^S[A-Z0-9]{2,30}$")
_ACTIONS_BLOCK = re.compile(rf"^{re.escape(EscalationBlocks.ACTIONS)}_(\d{{1,19}})$")


class Urgency(StrEnum):
    """How urgent the escalator says it is; shown on the handoff, chosen in the modal."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {"low": "Low", "normal": "Normal", "high": "High", "urgent": "🔥 Urgent"}[self.value]


@dataclass(frozen=True)
class TicketSummary:
    """What the helpdesk says about the ticket (shown in the modal and on the handoff)."""

    ref: TicketRef
    url: str
    subject: str
    requester: str | None = None
    priority: str | None = None
    assignee: str | None = None
    sla_state: str | None = None  # one line, e.g. "first reply breached 12m ago"
    last_customer_message: str | None = None


@dataclass(frozen=True)
class HandoffView:
    """One handoff in one tier. `responders` are Slack user (U/W) or user-group (S) ids."""

    escalation_id: int
    ticket: TicketSummary
    tier_name: str
    reason: str  # config slug, shown as a label
    urgency: Urgency
    needs: str
    tried: str
    escalated_by: str
    responders: tuple[str, ...]
    status: Status
    opened_at: datetime
    tz: tzinfo
    note: str | None = None  # e.g. "Escalated from T2: ..." on a successor handoff
    owner: str | None = None
    reassigned: bool = False
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    ack_deadline: datetime | None = None
    due_at: datetime | None = None
    question: str | None = None
    escalated_to: str | None = None  # next tier's name once ESCALATED


def reason_label(slug: str) -> str:
    """`billing_dispute` -> `Billing dispute`."""
    words = one_line(slug.replace("_", " ").replace("-", " "))
    return words[:1].upper() + words[1:]


def mention(slack_id: str) -> str:
    """`<@U1>` for users, `<!subteam^S1>` for user groups, anything else escaped (never trusted)."""
    if _S_GROUP.match(slack_id):
        return f"<!subteam^{slack_id}>"
    return user_mention(slack_id)


def escalation_id_from_block_id(block_id: str) -> int:
    """The escalation id of a handoff's actions block (the Reassign picker's only carrier of it)."""
    match = _ACTIONS_BLOCK.match(block_id) if isinstance(block_id, str) else None
    if match is None or int(match.group(1)) < 1:
        raise InvalidButtonValue(f"not a handoff actions block_id: {block_id!r:.80}")
    return int(match.group(1))


def render_handoff(view: HandoffView, *, now: datetime) -> RenderedMessage:
    """The handoff message in the tier's channel, in its current state."""
    for name in ("opened_at", "accepted_at", "resolved_at", "ack_deadline", "due_at"):
        _require_aware(getattr(view, name), name)
    _require_aware(now, "now")
    ref = str(view.ticket.ref)
    header = truncate(one_line(f"🆘 Escalated to {view.tier_name} · {ref}"), HEADER_MAX)
    blocks: list[Block] = [
        HeaderBlock(block_id=EscalationBlocks.HEADER, text=PlainTextObject(text=header, emoji=True)),
        SectionBlock(block_id=EscalationBlocks.SUMMARY, text=_mrkdwn(_summary(view.ticket))),
        SectionBlock(block_id=EscalationBlocks.FACTS, fields=[_mrkdwn(f) for f in _facts(view, now)]),
        _words(EscalationBlocks.NEEDS, "What the customer needs", view.needs, WORDS_MAX),
        _words(EscalationBlocks.TRIED, "What was tried", view.tried, WORDS_MAX),
    ]
    if view.note and view.note.strip():
        blocks.append(_words(EscalationBlocks.NOTE, "Note", view.note, NOTE_MAX))
    if view.status is Status.WAITING_INFO and view.question:
        label = f"❓ {user_mention(view.owner) if view.owner else 'A responder'} needs info"
        blocks.append(_words(EscalationBlocks.QUESTION, label, view.question, QUESTION_MAX))
    if view.responders:
        blocks.append(SectionBlock(block_id=EscalationBlocks.RESPONDERS, text=_mrkdwn(_responders(view))))
    blocks.append(ContextBlock(block_id=EscalationBlocks.STATUS, elements=[_mrkdwn(_status(view, now))]))
    elements = _actions(view)
    if elements:
        blocks.append(
            ActionsBlock(block_id=f"{EscalationBlocks.ACTIONS}_{view.escalation_id}", elements=elements)
        )
    state = view.status.value.replace("_", " ")
    fallback = f"Escalated to {view.tier_name}: {ref} - {one_line(view.ticket.subject)} ({state})"
    return RenderedMessage(
        text=mrkdwn_text(fallback, FALLBACK_TEXT_MAX), blocks=[block.to_dict() for block in blocks]
    )


def _summary(ticket: TicketSummary) -> str:
    link = mrkdwn_link(ticket.url, str(ticket.ref), max_url_length=_LINK_URL_MAX)
    subject = mrkdwn_text(one_line(ticket.subject), _SUBJECT_MAX) or "_(no subject)_"
    return f"*{link}* · {ticket.ref.source.label}\n{subject}"


def ticket_facts(ticket: TicketSummary) -> list[str]:
    """Requester / priority / assignee / SLA fields, shared with the modal's ticket summary."""
    priority = one_line(ticket.priority).replace("_", " ").capitalize() if ticket.priority else None
    return [
        f"*Requester*\n{_fact(ticket.requester, '—')}",
        f"*Priority*\n{_fact(priority, '—')}",
        f"*Assignee*\n{_fact(ticket.assignee, 'Unassigned')}",
        f"*SLA*\n{_fact(ticket.sla_state, 'No SLA running')}",
    ]


def _facts(view: HandoffView, now: datetime) -> list[str]:
    fields = ticket_facts(view.ticket)
    fields += [
        f"*Reason*\n{_fact(reason_label(view.reason), '—')}",
        f"*Urgency*\n{view.urgency.label}",
        f"*Escalated by*\n{user_mention(view.escalated_by)} at {_when(view.opened_at, view.tz, now)}",
    ]
    if view.status is Status.OPEN and view.ack_deadline is not None:
        fields.append(
            f"*Accept by*\n{_when(view.ack_deadline, view.tz, now)}\n{_ack_phrase(view.ack_deadline, now)}"
        )
    if view.status not in (Status.ESCALATED, Status.RESOLVED) and view.due_at is not None:
        fields.append(f"*Due*\n{format_local(view.due_at, view.tz)}\n{due_phrase(view.due_at, now)}")
    return fields


def _ack_phrase(deadline: datetime, now: datetime) -> str:
    if deadline <= now:
        return f"late by {format_duration(now - deadline)}"
    return f"in {format_duration(deadline - now)}"


def _words(block_id: str, label: str, text: str, limit: int) -> SectionBlock:
    body = mrkdwn_text(text.strip(), limit) if text.strip() else "_(nothing given)_"
    return SectionBlock(block_id=block_id, text=_mrkdwn(f"*{label}*\n{body}"))


def _responders(view: HandoffView) -> str:
    label = f"*{mrkdwn_text(one_line(view.tier_name), 60)} responders:* "
    shown: list[str] = []
    used = len(label)
    for index, slack_id in enumerate(view.responders):
        piece = mention(slack_id)
        rest = len(view.responders) - index
        if used + len(piece) + 1 + len(f"and {rest} more") > MENTIONS_MAX:
            shown.append(f"and {rest} more")
            break
        shown.append(piece)
        used += len(piece) + 1
    return label + " ".join(shown)


def _status(view: HandoffView, now: datetime) -> str:
    tz = view.tz
    accepted = ""
    if view.owner is not None:
        verb = "Reassigned to" if view.reassigned else "Accepted by"
        accepted = f"{verb} {user_mention(view.owner)}"
        if view.accepted_at is not None:
            accepted += (
                f" · accepted at {_when(view.accepted_at, tz, now)}"
                f" (after {format_duration(view.accepted_at - view.opened_at)})"
            )
    if view.status is Status.OPEN:
        return f"⏳ Waiting for a {mrkdwn_text(one_line(view.tier_name), 60)} responder to accept"
    if view.status is Status.WAITING_INFO:
        line = f"❓ Waiting for info from {user_mention(view.escalated_by)}"
        return f"{line} · {accepted}" if accepted else line
    if view.status is Status.ACCEPTED:
        return f"✅ {accepted}"
    if view.status is Status.ESCALATED:
        where = mrkdwn_text(one_line(view.escalated_to), 60) if view.escalated_to else "the next tier"
        return f"⏫ Escalated further to {where}" + (f" · {accepted}" if accepted else "")
    line = "✅ Resolved upstream"
    if view.resolved_at is not None:
        line += f" at {_when(view.resolved_at, tz, now)}"
    line += " · " + _times(view.accepted_at, view.resolved_at, view.opened_at)
    return line + (f" · owner {user_mention(view.owner)}" if view.owner else "")


def _times(accepted_at: datetime | None, resolved_at: datetime | None, opened_at: datetime) -> str:
    accept = (
        "never accepted"
        if accepted_at is None
        else f"time to accept {format_duration(accepted_at - opened_at)}"
    )
    if resolved_at is None:
        return accept
    return f"{accept}, time to resolve {format_duration(resolved_at - opened_at)}"


def _actions(view: HandoffView) -> list[ButtonElement | UserSelectElement]:
    """Only the moves the state machine accepts in this state; none once the handoff is closed."""
    value = EscalationButtonValue(escalation_id=view.escalation_id).encode()
    accept = _button("Accept", EscalationActions.ACCEPT, value, style="primary")
    reassign = UserSelectElement(
        action_id=EscalationActions.REASSIGN,
        placeholder=PlainTextObject(text="Reassign to…", emoji=True),
    )
    need_info = _button("Need info", EscalationActions.NEED_INFO, value)
    further = _button("Escalate further", EscalationActions.ESCALATE_FURTHER, value, style="danger")
    if view.status is Status.OPEN:
        return [accept, reassign, need_info, further]
    if view.status is Status.WAITING_INFO:
        info = _button("Info added", EscalationActions.INFO_ADDED, value, style="primary")
        return [info, reassign, further] if view.owner else [info, accept, reassign, further]
    if view.status is Status.ACCEPTED:
        return [reassign, need_info, further]
    return []


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=text, emoji=True), action_id=action_id, value=value, style=style
    )


# --- thread notes -------------------------------------------------------------------------------------


class ThreadStep(StrEnum):
    """One step told in the handoff's thread."""

    ACCEPTED = "accepted"
    REASSIGNED = "reassigned"
    INFO_REQUESTED = "info_requested"
    INFO_ADDED = "info_added"
    REPINGED = "repinged"
    ESCALATED = "escalated"
    AUTO_ESCALATED = "auto_escalated"
    WRITTEN_BACK = "written_back"
    WRITE_BACK_FAILED = "write_back_failed"
    WRITE_BACK_GAVE_UP = "write_back_gave_up"
    ASSIGNEE_SKIPPED = "assignee_skipped"
    DUE_WARNING = "due_warning"
    DUE_PASSED = "due_passed"
    ACK_EXHAUSTED = "ack_exhausted"
    RESOLVED = "resolved"


def render_thread_step(
    kind: ThreadStep,
    actor: str | None,
    at: datetime,
    detail: str | None,
    tz: tzinfo,
    *,
    mentions: Sequence[str] = (),
    tier_name: str | None = None,
    time_to_accept: timedelta | None = None,
    time_to_resolve: timedelta | None = None,
) -> RenderedMessage:
    """A thread reply such as `<@U1> accepted at 14:07 CET`. `actor` is None for the clock or helpdesk;
    `detail` is free text (question, info, reason, error) shown escaped; `mentions` are pinged."""
    _require_aware(at, "at")
    step = _StepWords(
        who=user_mention(actor) if actor else "Deskwatch",
        time=format_local_time(at, tz),
        tier=mrkdwn_text(one_line(tier_name), 60) if tier_name else "the next tier",
        tta=time_to_accept,
        ttr=time_to_resolve,
    )
    text = _step_line(kind, step, _said(detail, THREAD_DETAIL_MAX, keep_lines=True), tuple(mentions[:30]))
    fallback = _step_line(kind, step, _said(detail, 120, keep_lines=False), tuple(mentions[:3]))
    block = SectionBlock(block_id=EscalationBlocks.THREAD_STEP, text=_mrkdwn(text))
    return RenderedMessage(text=fallback.split("\n", 1)[0], blocks=[block.to_dict()])


@dataclass(frozen=True)
class _StepWords:
    who: str
    time: str
    tier: str
    tta: timedelta | None
    ttr: timedelta | None


def _said(detail: str | None, limit: int, *, keep_lines: bool) -> str:
    if not detail or not detail.strip():
        return ""
    return mrkdwn_text(detail.strip() if keep_lines else one_line(detail), limit)


def _step_line(kind: ThreadStep, w: _StepWords, said: str, mentions: tuple[str, ...]) -> str:
    pinged = " ".join(mention(m) for m in mentions)
    if kind is ThreadStep.REASSIGNED:
        return f"🔁 {w.who} reassigned this to {pinged or 'someone else'} at {w.time}"
    if kind is ThreadStep.REPINGED:
        return f"🔔 re-pinged {pinged or 'the responders'}" + (f" ({said})" if said else "")
    if kind is ThreadStep.ACCEPTED:
        line = f"✅ {w.who} accepted at {w.time}"
    elif kind is ThreadStep.INFO_REQUESTED:
        line = f"❓ {w.who} is waiting for info: {said or '(no question given)'}"
    elif kind is ThreadStep.INFO_ADDED:
        line = f"📎 {w.who} added info: {said or '(no text)'}"
    elif kind is ThreadStep.ESCALATED:
        line = f"⏫ {w.who} escalated to {w.tier}" + (f": {said}" if said else "")
    elif kind is ThreadStep.AUTO_ESCALATED:
        line = f"⏫ auto-escalated to {w.tier}" + (f": {said}" if said else "")
    elif kind is ThreadStep.WRITTEN_BACK:
        line = f"📝 written back to {said or 'the helpdesk'}"
    elif kind is ThreadStep.WRITE_BACK_FAILED:
        line = f"⚠️ write-back failed: {said or 'unknown error'} (retrying)"
    elif kind is ThreadStep.WRITE_BACK_GAVE_UP:
        line = f"🛑 write-back failed for good: {said or 'unknown error'}. Slack and the helpdesk differ"
    elif kind is ThreadStep.ASSIGNEE_SKIPPED:
        line = f"ℹ️ helpdesk assignee unchanged: {said or 'no matching agent'}"
    elif kind is ThreadStep.DUE_WARNING:
        line = f"⏰ {w.tier} deadline approaching" + (f": due {said}" if said else "")
    elif kind is ThreadStep.DUE_PASSED:
        line = f"🚨 {w.tier} deadline passed" + (f" ({said})" if said else "")
    elif kind is ThreadStep.ACK_EXHAUSTED:
        line = "🚨 still unaccepted" + (f" after {said}" if said else "") + ": managers, please step in"
    else:
        accept = "never accepted" if w.tta is None else f"time to accept {format_duration(w.tta)}"
        resolve = "" if w.ttr is None else f", time to resolve {format_duration(w.ttr)}"
        line = f"✅ resolved upstream: {accept}{resolve}"
    return f"{line}\n{pinged}" if pinged else line


# --- helpers ------------------------------------------------------------------------------------------


def _fact(value: str | None, empty: str) -> str:
    return mrkdwn_text(one_line(value), _FACT_MAX) if value and value.strip() else empty


def _when(dt: datetime, tz: tzinfo, now: datetime) -> str:
    same_day = dt.astimezone(tz).date() == now.astimezone(tz).date()
    return format_local_time(dt, tz) if same_day else format_local(dt, tz)


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: the escalator's and the helpdesk's text must not be auto-linked into mentions.
    return MarkdownTextObject(text=text, verbatim=True)


def _require_aware(dt: datetime | None, name: str) -> None:
    if dt is not None and (dt.tzinfo is None or dt.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")
