"""The dispute modals: the agent's reason for disputing a review, and the reviewer's decision (Reject
with a note, or Rescore with the category selects preselected and an optional note), with their parsers.

Pure: values in, view dicts (or a typed value / `{block_id: message}` inline errors) out. `private_metadata`
carries ids only: `QaButtonValue(review_id)` on the reason modal, `QaDecisionMetadata` on the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.blocks.ids import QaBlocks, QaModalActions, QaViews
from bot.blocks.metadata import QaButtonValue, QaDecision, QaDecisionMetadata
from bot.blocks.qa_modal import bounded_text, category_inputs, check_rubric, parse_scores, text_input
from bot.blocks.qa_text import WORDS_MAX, mrkdwn, score_phrase
from bot.blocks.text import mrkdwn_text, user_mention
from bot.domain.model import TicketRef
from bot.domain.qa_types import Rubric, ScoreResult, Scores

REASON_MAX = WORDS_MAX  # the reviewer's dispute message shows up to WORDS_MAX, verbatim
NOTE_MAX = WORDS_MAX


@dataclass(frozen=True)
class DisputeReasonModalView:
    """The agent's "Dispute" form on one review."""

    review_id: int
    ref: TicketRef
    reviewer: str  # Slack user id
    result: ScoreResult


@dataclass(frozen=True)
class DisputeDecisionModalView:
    """The reviewer's Reject (note required) or Rescore (category selects, optional note) form.
    `rubric` is the version the review was scored with; `scores` its current scores."""

    dispute_id: int
    outcome: QaDecision  # "reject" | "rescore"
    agent: str
    ref: TicketRef
    reason: str  # the agent's words, shown escaped
    rubric: Rubric
    scores: Scores
    result: ScoreResult


@dataclass(frozen=True)
class DisputeDecision:
    """A valid decision submission; `scores` is None for a rejection."""

    note: str
    scores: Scores | None = None


def dispute_reason_modal(view: DisputeReasonModalView) -> dict[str, Any]:
    """The agent's dispute form: why the review is wrong (required)."""
    intro = (
        f"You are disputing {user_mention(view.reviewer)}'s review of *{view.ref}* "
        f"({score_phrase(view.result)}). They can accept it, reject it or rescore the ticket; "
        "you will hear back by DM."
    )
    return View(
        type="modal",
        callback_id=QaViews.DISPUTE_REASON,
        title=PlainTextObject(text="Dispute QA review"),
        submit=PlainTextObject(text="Send dispute"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=QaButtonValue(review_id=view.review_id).encode(),
        blocks=[
            ContextBlock(block_id=QaBlocks.MODAL_DISPUTE, elements=[mrkdwn(intro)]),
            text_input(
                QaBlocks.DISPUTE_REASON,
                QaModalActions.DISPUTE_REASON,
                "Why is the review wrong?",
                max_length=REASON_MAX,
            ),
        ],
    ).to_dict()


def dispute_decision_modal(view: DisputeDecisionModalView) -> dict[str, Any]:
    """The reviewer's decision form: Reject (a note, required) or Rescore (the categories, preselected
    with the review's scores, and an optional note)."""
    rescore = view.outcome == "rescore"
    if rescore:
        check_rubric(view.rubric)
    reason = mrkdwn_text(view.reason.strip(), 1500) if view.reason.strip() else "_(no reason given)_"
    intro = (
        f"{user_mention(view.agent)} disputes your review of *{view.ref}* "
        f"({score_phrase(view.result)}):\n{reason}"
    )
    blocks: list[Block] = [SectionBlock(block_id=QaBlocks.MODAL_DISPUTE, text=mrkdwn(intro))]
    if rescore:
        blocks += category_inputs(view.rubric, view.scores)
    blocks.append(
        text_input(
            QaBlocks.RESCORE,
            QaModalActions.RESCORE,
            "Note for the agent" if rescore else "Why does the score stand?",
            max_length=NOTE_MAX,
            optional=rescore,
        )
    )
    return View(
        type="modal",
        callback_id=QaViews.DISPUTE_DECISION,
        title=PlainTextObject(text="Rescore review" if rescore else "Reject dispute"),
        submit=PlainTextObject(text="Save new scores" if rescore else "Reject"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=QaDecisionMetadata(dispute_id=view.dispute_id, outcome=view.outcome).encode(),
        blocks=blocks,
    ).to_dict()


# --- submissions --------------------------------------------------------------------------------------


def parse_dispute_reason(values: Mapping[str, Any]) -> str | dict[str, str]:
    """The agent's reason, or `{block_id: message}` when it is empty or too long."""
    errors: dict[str, str] = {}
    reason = bounded_text(values, QaBlocks.DISPUTE_REASON, QaModalActions.DISPUTE_REASON, REASON_MAX, errors)
    if not reason and not errors:
        errors[QaBlocks.DISPUTE_REASON] = "Required: say what the review got wrong"
    return errors or reason


def parse_dispute_decision(
    values: Mapping[str, Any], *, outcome: QaDecision, rubric: Rubric
) -> DisputeDecision | dict[str, str]:
    """A Reject (note required) or Rescore (every category, optional note) submission, or inline errors.
    `outcome` comes from QaDecisionMetadata; `rubric` is the review's version."""
    errors: dict[str, str] = {}
    note = bounded_text(values, QaBlocks.RESCORE, QaModalActions.RESCORE, NOTE_MAX, errors)
    if outcome == "reject":
        if not note and not errors:
            errors[QaBlocks.RESCORE] = "Required: tell the agent why the score stands"
        return errors or DisputeDecision(note=note)
    scores = parse_scores(values, rubric, errors)
    return errors or DisputeDecision(note=note, scores=scores)
