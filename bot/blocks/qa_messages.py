"""QA scorecard messages: the scorecard (agent's DM, reviewer's confirmation), disputes, the scoring queue
and `/qa help`. Reports and calibration are in `bot.blocks.qa_reports`.

Pure rendering: view values in (scores already computed by `bot.domain`, text already redacted), a
`RenderedMessage` out. Reviewer and helpdesk text is escaped and cut to fixed budgets, so the worst input
still fits one Slack message; buttons carry a `QaButtonValue` (ids only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.alerts import RenderedMessage
from bot.blocks.ids import Commands, QaActions, QaBlocks
from bot.blocks.metadata import QaButtonValue
from bot.blocks.qa_text import (
    CATEGORIES_MAX,
    HEADER_MAX,
    button,
    category_lines,
    critical_line,
    format_day,
    label_text,
    line_sections,
    message,
    mrkdwn,
    plural,
    require_aware,
    score_phrase,
    ticket_line,
    ticket_link,
    total_line,
    weight_text,
    words_section,
)
from bot.blocks.text import format_local, mrkdwn_text, one_line, truncate, user_mention
from bot.domain.model import TicketRef
from bot.domain.qa_types import Rubric, Scorecard, ScoreResult

QUEUE_ITEMS_MAX = 20
_QUEUE_SUBJECT_MAX = 120
_ERROR_MAX = 500

# Matches every per-ticket "Score" action_id of a queue message, for `app.action(SCORE_ACTION_RE)`.
SCORE_ACTION_RE = re.compile(rf"^{re.escape(QaActions.SCORE)}_\d+$")


class ScorecardAudience(StrEnum):
    """Who a scorecard message is for: it decides the header and which button it may carry."""

    AGENT = "agent"  # the agent's DM: "Dispute" while disputes are open
    REVIEWER = "reviewer"  # the reviewer's confirmation: "Edit" while the edit window is open


class DisputeState(StrEnum):
    """A dispute's state, as `qa_disputes.state` stores it."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RESCORED = "rescored"


@dataclass(frozen=True)
class ScorecardView:
    """One stored review. `rubric` is the version it was scored with; `result` its stored score.

    Agent audience: "Dispute" shows while `dispute_state` is None and `now < dispute_until` (None: disputes
    are off). Reviewer audience: "Edit" shows while `now < edit_until` (None: no editing)."""

    review_id: int
    card: Scorecard
    reviewer: str  # Slack user id
    rubric: Rubric
    result: ScoreResult
    created_at: datetime
    tz: tzinfo
    url: str | None = None  # the ticket in the helpdesk
    subject: str | None = None
    audience: ScorecardAudience = ScorecardAudience.REVIEWER
    edited_at: datetime | None = None
    dispute_until: datetime | None = None
    edit_until: datetime | None = None
    dispute_state: DisputeState | None = None


@dataclass(frozen=True)
class DisputeView:
    """An agent's dispute of one review; `new_result` is the review's score after a rescore."""

    dispute_id: int
    review_id: int
    agent: str
    reviewer: str
    ref: TicketRef
    reason: str
    result: ScoreResult  # the score the agent disputed
    opened_at: datetime
    tz: tzinfo
    url: str | None = None
    subject: str | None = None
    state: DisputeState = DisputeState.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""
    new_result: ScoreResult | None = None


@dataclass(frozen=True)
class QueueItem:
    """A sampled (or otherwise assigned) ticket still to be scored."""

    ref: TicketRef
    agent: str  # Slack user id
    url: str | None = None
    subject: str | None = None


# --- scorecard ----------------------------------------------------------------------------------------


def render_scorecard(view: ScorecardView, *, now: datetime) -> RenderedMessage:
    """The scorecard: who, which ticket, each category, total vs pass mark, why a critical failed,
    the comment and coaching note, and the one button this audience may use now."""
    for name in ("created_at", "edited_at", "dispute_until", "edit_until"):
        require_aware(getattr(view, name), name)
    require_aware(now, "now")
    card = view.card
    ref = str(card.ref)
    title = "📋 Your QA review" if view.audience is ScorecardAudience.AGENT else "📋 QA review saved"
    blocks: list[Block] = [
        HeaderBlock(
            block_id=QaBlocks.HEADER,
            text=PlainTextObject(text=truncate(f"{title} · {ref}", HEADER_MAX), emoji=True),
        ),
        SectionBlock(
            block_id=QaBlocks.SUMMARY,
            text=mrkdwn(ticket_line(card.ref, view.url, view.subject)),
            fields=[
                mrkdwn(f"*Agent*\n{user_mention(card.agent)}"),
                mrkdwn(f"*Reviewer*\n{user_mention(view.reviewer)}"),
            ],
        ),
        *line_sections(
            QaBlocks.SCORES,
            category_lines(view.rubric, card.scores, view.result.critical_failed),
            CATEGORIES_MAX,
            more=lambda n: f"…and {n} more categories",
        ),
        SectionBlock(block_id=QaBlocks.TOTAL, text=mrkdwn(total_line(view.result, view.rubric.pass_mark))),
    ]
    critical = critical_line(view.rubric, card.scores, view.result)
    if critical:
        blocks.append(SectionBlock(block_id=QaBlocks.CRITICAL, text=mrkdwn(critical)))
    if card.comment.strip():
        blocks.append(words_section(QaBlocks.COMMENT_TEXT, "Comment", card.comment))
    if card.coaching.strip():
        blocks.append(words_section(QaBlocks.COACHING_TEXT, "Coaching note", card.coaching))
    blocks.append(ContextBlock(block_id=QaBlocks.STATUS, elements=[mrkdwn(_card_status(view, now))]))
    action = _card_button(view, now)
    if action is not None:
        blocks.append(ActionsBlock(block_id=QaBlocks.ACTIONS, elements=[action]))
    whose = "Your QA review" if view.audience is ScorecardAudience.AGENT else "QA review"
    fallback = f"{whose} of {ref}: {score_phrase(view.result)}"
    return message(fallback, blocks)


def _card_status(view: ScorecardView, now: datetime) -> str:
    parts = [f"Scored by {user_mention(view.reviewer)} on {format_local(view.created_at, view.tz)}"]
    if view.edited_at is not None:
        parts.append(f"edited {format_local(view.edited_at, view.tz)}")
    parts.append(f"rubric {mrkdwn_text(view.rubric.version, 20)}")
    if view.dispute_state is not None:
        parts.append(_DISPUTE_STATUS[view.dispute_state])
    elif view.audience is ScorecardAudience.AGENT and _open(view.dispute_until, now):
        assert view.dispute_until is not None
        parts.append(f"you can dispute it until {format_local(view.dispute_until, view.tz)}")
    if view.audience is ScorecardAudience.REVIEWER and _open(view.edit_until, now):
        assert view.edit_until is not None
        parts.append(f"you can edit it until {format_local(view.edit_until, view.tz)}")
    return " · ".join(parts)


_DISPUTE_STATUS = {
    DisputeState.OPEN: "⚖️ disputed: waiting for the reviewer",
    DisputeState.ACCEPTED: "⚖️ dispute accepted",
    DisputeState.REJECTED: "⚖️ dispute rejected",
    DisputeState.RESCORED: "⚖️ rescored after a dispute",
}


def _card_button(view: ScorecardView, now: datetime) -> ButtonElement | None:
    if view.audience is ScorecardAudience.AGENT:
        if view.dispute_state is None and _open(view.dispute_until, now):
            value = QaButtonValue(review_id=view.review_id).encode()
            return button("Dispute", QaActions.DISPUTE, value)
        return None
    if _open(view.edit_until, now):
        value = QaButtonValue(review_id=view.review_id, ref=str(view.card.ref)).encode()
        return button("Edit", QaActions.EDIT, value)
    return None


def _open(until: datetime | None, now: datetime) -> bool:
    return until is not None and now < until


# --- disputes -----------------------------------------------------------------------------------------


def render_dispute_for_reviewer(view: DisputeView) -> RenderedMessage:
    """The dispute in the reviewer's DM: Accept / Reject / Rescore while open, the decision once made."""
    _require_dispute_times(view)
    ref = str(view.ref)
    blocks: list[Block] = [
        HeaderBlock(
            block_id=QaBlocks.HEADER,
            text=PlainTextObject(text=truncate(f"⚖️ QA review disputed · {ref}", HEADER_MAX), emoji=True),
        ),
        SectionBlock(
            block_id=QaBlocks.SUMMARY,
            text=mrkdwn(
                f"{user_mention(view.agent)} disputes your review ({score_phrase(view.result)}) of "
                f"{ticket_line(view.ref, view.url, view.subject)}"
            ),
        ),
        words_section(QaBlocks.REASON_TEXT, "Their reason", view.reason),
    ]
    if view.state is DisputeState.OPEN:
        blocks.append(
            ContextBlock(
                block_id=QaBlocks.STATUS,
                elements=[mrkdwn(f"⏳ Disputed on {format_local(view.opened_at, view.tz)}: your decision")],
            )
        )
        value = QaButtonValue(dispute_id=view.dispute_id, review_id=view.review_id).encode()
        blocks.append(
            ActionsBlock(
                block_id=QaBlocks.ACTIONS,
                elements=[
                    button("Accept", QaActions.DISPUTE_ACCEPT, value, style="primary"),
                    button("Reject", QaActions.DISPUTE_REJECT, value, style="danger"),
                    button("Rescore", QaActions.DISPUTE_RESCORE, value),
                ],
            )
        )
        fallback = f"QA review of {ref} disputed ({score_phrase(view.result)})"
    else:
        blocks += _decision_blocks(view)
        fallback = f"QA dispute on {ref}: {view.state.value}"
    return message(fallback, blocks)


def render_dispute_outcome_for_agent(view: DisputeView) -> RenderedMessage:
    """What the agent is told once the reviewer decided (refused for an open dispute)."""
    if view.state is DisputeState.OPEN:
        raise ValueError("an open dispute has no outcome to tell the agent")
    _require_dispute_times(view)
    ref = str(view.ref)
    blocks: list[Block] = [
        HeaderBlock(
            block_id=QaBlocks.HEADER,
            text=PlainTextObject(
                text=truncate(f"⚖️ Your dispute was {view.state.value} · {ref}", HEADER_MAX), emoji=True
            ),
        ),
        SectionBlock(
            block_id=QaBlocks.SUMMARY,
            text=mrkdwn(
                f"Your dispute of the QA review ({score_phrase(view.result)}) of "
                f"{ticket_line(view.ref, view.url, view.subject)}"
            ),
        ),
        *_decision_blocks(view),
    ]
    return message(f"Your dispute of the QA review of {ref} was {view.state.value}", blocks)


def _decision_blocks(view: DisputeView) -> list[Block]:
    who = user_mention(view.decided_by) if view.decided_by else "the reviewer"
    when = f" on {format_local(view.decided_at, view.tz)}" if view.decided_at else ""
    line = {
        DisputeState.ACCEPTED: f"✅ Accepted by {who}{when}",
        DisputeState.REJECTED: f"❌ Rejected by {who}{when}: the score stands",
        DisputeState.RESCORED: f"🔁 Rescored by {who}{when}",
    }[view.state]
    if view.state is DisputeState.RESCORED and view.new_result is not None:
        line += f": {score_phrase(view.result)} → *{score_phrase(view.new_result)}*"
    blocks: list[Block] = [SectionBlock(block_id=QaBlocks.STATUS, text=mrkdwn(line))]
    if view.note.strip():
        blocks.append(words_section(QaBlocks.NOTE_TEXT, "Reviewer's note", view.note))
    return blocks


def _require_dispute_times(view: DisputeView) -> None:
    require_aware(view.opened_at, "opened_at")
    require_aware(view.decided_at, "decided_at")


# --- queue --------------------------------------------------------------------------------------------


def render_queue(items: Sequence[QueueItem], *, sampled_week: date | None = None) -> RenderedMessage:
    """Tickets left to score, each with a "Score" button that opens the scoring modal. With
    `sampled_week` it is the Monday sample DM ("Your QA sample for the week of Mon 16 Nov")."""
    title = (
        f"🗂️ Your QA sample for the week of {format_day(sampled_week)}"
        if sampled_week is not None
        else "🗂️ QA queue"
    )
    blocks: list[Block] = [
        HeaderBlock(block_id=QaBlocks.HEADER, text=PlainTextObject(text=title, emoji=True))
    ]
    if not items:
        blocks.append(SectionBlock(block_id=QaBlocks.EMPTY, text=mrkdwn("🎉 Nothing left to score.")))
        return message("QA queue: nothing left to score", blocks)
    count = f"{plural(len(items), 'ticket')} to score"
    blocks.append(SectionBlock(block_id=QaBlocks.SUMMARY, text=mrkdwn(f"*{count}*")))
    for index, item in enumerate(items[:QUEUE_ITEMS_MAX], start=1):
        link = ticket_link(item.ref, item.url)
        subject = mrkdwn_text(one_line(item.subject), _QUEUE_SUBJECT_MAX) if item.subject else ""
        text = f"*{link}* · {user_mention(item.agent)}" + (f"\n{subject}" if subject else "")
        value = QaButtonValue(ref=str(item.ref)).encode()
        blocks.append(
            SectionBlock(
                block_id=f"{QaBlocks.ROWS}_{index}",
                text=mrkdwn(text),
                accessory=button("Score", f"{QaActions.SCORE}_{index}", value, style="primary"),
            )
        )
    if len(items) > QUEUE_ITEMS_MAX:
        more = f"…and {len(items) - QUEUE_ITEMS_MAX} more: score these, then run `{Commands.QA} queue`"
        blocks.append(ContextBlock(block_id=QaBlocks.MORE, elements=[mrkdwn(more)]))
    return message(f"QA queue: {count}", blocks)


# --- help ---------------------------------------------------------------------------------------------


def render_qa_help(rubric: Rubric, *, error: str | None = None) -> RenderedMessage:
    """The `/qa` commands and the rubric (valid categories, scale, pass mark). With `error` it is the
    ephemeral answer to a bad inline command: the problem first, then what is valid."""
    qa = Commands.QA
    example = " ".join(f"{c.key}={min(4, rubric.scale)}" for c in rubric.categories)
    commands = "\n".join(
        [
            f"*`{qa}`* or *`{qa} zd:123`*: score a ticket in a form",
            f'*`{qa} @agent zd:123 {mrkdwn_text(truncate(example, 400), 600)} "comment"`*: score inline',
            f"*`{qa} report @agent [30d]`*: an agent's average, weekly trend, categories and pass rate",
            f"*`{qa} report team [30d]`*: the same for every agent",
            f"*`{qa} calibrate zd:123`*: reviewers score one ticket blind, then compare",
            f"*`{qa} calibration report`*: agreement (Krippendorff's α) over recent sessions",
            f"*`{qa} queue`*: sampled tickets you have left to score",
        ]
    )
    blocks: list[Block] = []
    if error and error.strip():
        blocks.append(
            SectionBlock(block_id=QaBlocks.ERROR, text=mrkdwn(f"⚠️ {mrkdwn_text(error.strip(), _ERROR_MAX)}"))
        )
    blocks.append(SectionBlock(block_id=QaBlocks.HELP, text=mrkdwn(f"*QA commands*\n{commands}")))
    categories = ["*Categories* (type the key)"] + [
        f"• `{mrkdwn_text(one_line(c.key), 60)}`: {label_text(c)} ({weight_text(c)})"
        for c in rubric.categories
    ]
    blocks += line_sections(QaBlocks.CATEGORIES, categories, CATEGORIES_MAX)
    rules = (
        f"Scores are 1–{rubric.scale} or `n/a` (left out of the total). "
        f"A review passes at {rubric.pass_mark}%; a critical category scored 1 makes it 0."
    )
    blocks.append(ContextBlock(block_id=QaBlocks.STATUS, elements=[mrkdwn(rules)]))
    fallback = f"QA: {error.strip()}" if error and error.strip() else "QA commands and rubric"
    return message(fallback, blocks)
