"""The QA score modal: a review, a blind calibration score, or an edit of one's own review, with its
loading / result views and its parser. The dispute modals are in `bot.blocks.qa_dispute_modal` and reuse
the category selects and parsing helpers defined here.

Pure: values in, view dicts (or a typed Scorecard / `{block_id: message}` inline errors) out.
`private_metadata` carries ids only (`QaModalMetadata`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.escalation import TicketSummary, ticket_facts
from bot.blocks.ids import QaBlocks, QaModalActions, QaViews
from bot.blocks.metadata import QaModalMetadata, QaMode
from bot.blocks.qa_text import WORDS_MAX, mrkdwn, ticket_line
from bot.blocks.text import mrkdwn_text, one_line, truncate
from bot.blocks.view_state import input_state, input_text, selected_value
from bot.domain.model import InvalidTicketRef, TicketRef
from bot.domain.qa_types import Category, Rubric, Scorecard, Scores

COMMENT_MAX = WORDS_MAX  # the scorecard shows up to WORDS_MAX of each, verbatim
COACHING_MAX = WORDS_MAX
CATEGORIES_MAX = 80  # a modal holds 100 blocks: the ticket, the notes and the other inputs need the rest
NA = "na"  # option value of "n/a"
_LABEL_MAX = 150
_MESSAGES_SHOWN = 3
_MESSAGE_MAX = 800
_REF_INPUT_MAX = 500
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_TITLES: dict[str, tuple[str, str]] = {  # mode -> (title, submit); Slack caps both at 24 characters
    "review": ("QA review", "Save review"),
    "edit": ("Edit QA review", "Save changes"),
    "calibration": ("Calibration score", "Submit blind"),
}


@dataclass(frozen=True)
class QaModalView:
    """What the score form shows. `metadata.mode` picks the variant; `metadata.rubric_version` must be
    `rubric.version`. `agent` prefills the agent picker (the ticket's assignee mapped to a Slack user);
    in edit mode `existing` gives every initial value (its agent wins over `agent`)."""

    metadata: QaModalMetadata
    rubric: Rubric
    ticket: TicketSummary | None = None
    last_messages: tuple[str, ...] = ()  # the ticket's last messages, oldest first, already redacted
    agent: str | None = None
    existing: Scorecard | None = None


def category_block_id(key: str) -> str:
    """block_id of a category's select: `qa_cat_accuracy`."""
    return f"{QaBlocks.CATEGORY}_{key}"


def category_action_id(key: str) -> str:
    """action_id of a category's select: `qa_cat_select_accuracy`."""
    return f"{QaModalActions.CATEGORY}_{key}"


# --- loading and result -------------------------------------------------------------------------------


def qa_loading_modal(ref_text: str) -> dict[str, Any]:
    """Opened at once with the command's trigger_id, replaced by `qa_modal` via views.update."""
    what = mrkdwn_text(one_line(ref_text), 200) if ref_text and ref_text.strip() else ""
    text = f"⏳ Looking up *{what}* in the helpdesk…" if what else "⏳ Preparing the QA form…"
    return View(
        type="modal",
        callback_id=QaViews.LOADING,
        title=PlainTextObject(text="QA review"),
        close=PlainTextObject(text="Cancel"),
        blocks=[SectionBlock(block_id=QaBlocks.MODAL_LOADING, text=mrkdwn(text))],
    ).to_dict()


def qa_result_modal(title: str, text: str) -> dict[str, Any]:
    """What the form becomes when it cannot go on (unknown ticket, helpdesk down). `text` is escaped."""
    body = mrkdwn_text(text.strip(), 2900) if text and text.strip() else "Nothing to do."
    return View(
        type="modal",
        callback_id=QaViews.RESULT,
        title=PlainTextObject(text=truncate(one_line(title), 24) or "QA"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(block_id=QaBlocks.MODAL_RESULT, text=mrkdwn(body))],
    ).to_dict()


# --- the score form -----------------------------------------------------------------------------------


def qa_modal(view: QaModalView) -> dict[str, Any]:
    """The score form: the ticket as the helpdesk has it, then agent, ref, one select per category,
    comment and coaching note (calibration: no agent picker and no coaching note)."""
    meta, rubric = view.metadata, view.rubric
    if meta.rubric_version != rubric.version:
        raise ValueError(f"metadata names rubric {meta.rubric_version}, the form draws {rubric.version}")
    if meta.mode == "edit" and view.existing is None:
        raise ValueError("edit mode needs the existing scorecard")
    check_rubric(rubric)
    existing = view.existing if meta.mode == "edit" else None
    blocks: list[Block] = _ticket_blocks(view)
    if meta.mode == "calibration":
        note = (
            "🙈 *Blind calibration:* your scores stay hidden until the session closes, and calibration "
            "scores never count in the agent's average."
        )
        blocks.append(ContextBlock(block_id=QaBlocks.MODAL_NOTE, elements=[mrkdwn(note)]))
    if meta.ref is None:
        blocks.append(
            text_input(QaBlocks.REF, QaModalActions.REF, "Ticket", max_length=_REF_INPUT_MAX, multiline=False)
        )
    if meta.mode != "calibration":
        initial = existing.agent if existing is not None else view.agent
        picker = UserSelectElement(
            action_id=QaModalActions.AGENT,
            placeholder=PlainTextObject(text="Whose ticket is it?"),
            initial_user=initial if initial and _USER_ID.match(initial) else None,
        )
        blocks.append(
            InputBlock(block_id=QaBlocks.AGENT, label=PlainTextObject(text="Agent"), element=picker)
        )
    blocks += category_inputs(rubric, existing.scores if existing is not None else None)
    blocks.append(
        text_input(
            QaBlocks.COMMENT,
            QaModalActions.COMMENT,
            "Comment",
            max_length=COMMENT_MAX,
            optional=meta.mode == "calibration",
            initial=existing.comment if existing is not None else None,
        )
    )
    if meta.mode != "calibration":
        blocks.append(
            text_input(
                QaBlocks.COACHING,
                QaModalActions.COACHING,
                "Coaching note",
                max_length=COACHING_MAX,
                optional=True,
                initial=existing.coaching if existing is not None else None,
            )
        )
    title, submit = _TITLES[meta.mode]
    return View(
        type="modal",
        callback_id=QaViews.CALIBRATION_SCORE if meta.mode == "calibration" else QaViews.SCORE,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=meta.encode(),
        blocks=blocks,
    ).to_dict()


def _ticket_blocks(view: QaModalView) -> list[Block]:
    ticket = view.ticket
    if ticket is None:
        if view.metadata.ref is not None:
            text = f"*Ticket:* {view.metadata.ref}"
        else:
            text = "Paste the ticket's Zendesk or Intercom link, or type `zd:101` / `ic:9001`."
        return [ContextBlock(block_id=QaBlocks.MODAL_TICKET, elements=[mrkdwn(text)])]
    blocks: list[Block] = [
        SectionBlock(
            block_id=QaBlocks.MODAL_TICKET, text=mrkdwn(ticket_line(ticket.ref, ticket.url, ticket.subject))
        ),
        SectionBlock(block_id=QaBlocks.MODAL_TICKET_FACTS, fields=[mrkdwn(f) for f in ticket_facts(ticket)]),
    ]
    said = [m for m in view.last_messages if m and m.strip()]
    if not said and ticket.last_customer_message and ticket.last_customer_message.strip():
        said = [ticket.last_customer_message]
    shown = said[-_MESSAGES_SHOWN:]
    for n, text in enumerate(shown, start=1):
        label = "Last message" if len(shown) == 1 else f"Message {len(said) - len(shown) + n} of {len(said)}"
        blocks.append(
            SectionBlock(
                block_id=f"{QaBlocks.MODAL_MESSAGES}_{n}",
                text=mrkdwn(f"*{label}*\n{mrkdwn_text(text.strip(), _MESSAGE_MAX)}"),
            )
        )
    return blocks


def category_inputs(rubric: Rubric, initial: Scores | None) -> list[InputBlock]:
    """One select per category, labelled `Correct resolution (×3)` (+ `(critical)`), options 1..scale
    and n/a; `initial` preselects a stored review's scores (None in a score preselects n/a)."""
    options = [_option(str(n), str(n)) for n in range(1, rubric.scale + 1)] + [_option("n/a", NA)]
    by_value = {o.value: o for o in options}
    blocks = []
    for category in rubric.categories:
        chosen = None
        if initial is not None and category.key in initial:
            score = initial[category.key]
            chosen = by_value.get(NA if score is None else str(score))
        element = StaticSelectElement(
            action_id=category_action_id(category.key),
            placeholder=PlainTextObject(text=f"1–{rubric.scale} or n/a"),
            options=options,
            initial_option=chosen,
        )
        hint = "Critical: scoring 1 makes the whole review 0" if category.critical else None
        blocks.append(
            InputBlock(
                block_id=category_block_id(category.key),
                label=PlainTextObject(text=category_label(category)),
                element=element,
                hint=PlainTextObject(text=hint) if hint else None,
            )
        )
    return blocks


def category_label(category: Category) -> str:
    """`Correct resolution (×3)`, `Compliance (KYC/PCI) (×3) (critical)`: plain text, cut."""
    suffix = f" (×{category.weight})" + (" (critical)" if category.critical else "")
    label = one_line(category.label) or one_line(category.key)
    return truncate(label, _LABEL_MAX - len(suffix)) + suffix


def check_rubric(rubric: Rubric) -> None:
    if not rubric.categories:
        raise ValueError("the QA form needs at least one rubric category")
    if len(rubric.categories) > CATEGORIES_MAX:
        raise ValueError(
            f"the QA form holds at most {CATEGORIES_MAX} categories, got {len(rubric.categories)}"
        )
    if not 1 <= rubric.scale <= 99:
        raise ValueError(f"a static select holds 100 options: scale must be 1-99, got {rubric.scale}")
    if len(set(rubric.keys)) != len(rubric.keys):
        raise ValueError("rubric category keys must be unique")
    for key in rubric.keys:
        if not key or len(category_action_id(key)) > 255:
            raise ValueError(f"category key {key[:40]!r} does not fit a Slack block_id")


def _option(text: str, value: str) -> Option:
    return Option(text=PlainTextObject(text=text), value=value)


def text_input(
    block_id: str,
    action_id: str,
    label: str,
    *,
    max_length: int,
    multiline: bool = True,
    optional: bool = False,
    initial: str | None = None,
) -> InputBlock:
    element = PlainTextInputElement(
        action_id=action_id,
        multiline=multiline,
        max_length=max_length,
        initial_value=truncate(initial, max_length) if initial else None,
    )
    return InputBlock(
        block_id=block_id, label=PlainTextObject(text=label), element=element, optional=optional
    )


# --- submissions --------------------------------------------------------------------------------------


def parse_qa_submission(
    values: Mapping[str, Any],
    *,
    rubric: Rubric,
    ref: TicketRef | None,
    mode: QaMode,
    agent: str | None = None,
) -> Scorecard | dict[str, str]:
    """`view.state.values` of a score form as a Scorecard, or `{block_id: message}` for
    `ack(response_action="errors", errors=...)`. `ref` comes from private_metadata (None: the form asked
    for it). `rubric` must be the version the form was drawn with (`metadata.rubric_version`). In
    calibration mode the form has no agent picker: the Scorecard's agent is `agent` (or "")."""
    errors: dict[str, str] = {}
    if ref is None:
        typed = input_text(values, QaBlocks.REF, QaModalActions.REF)
        if not typed:
            errors[QaBlocks.REF] = "Paste the ticket link or type zd:101 / ic:9001"
        else:
            try:
                ref = TicketRef.parse(typed)
            except InvalidTicketRef as exc:
                errors[QaBlocks.REF] = truncate(str(exc), 150)
    if mode == "calibration":
        chosen = agent or ""
    else:
        selected = input_state(values, QaBlocks.AGENT, QaModalActions.AGENT).get("selected_user")
        chosen = selected if isinstance(selected, str) and _USER_ID.match(selected) else ""
        if not chosen:
            errors[QaBlocks.AGENT] = "Choose the agent whose ticket this is"
    scores = parse_scores(values, rubric, errors)
    comment = bounded_text(values, QaBlocks.COMMENT, QaModalActions.COMMENT, COMMENT_MAX, errors)
    if not comment and mode != "calibration" and QaBlocks.COMMENT not in errors:
        errors[QaBlocks.COMMENT] = "Required: the agent reads this with the scores"
    coaching = ""
    if mode != "calibration":
        coaching = bounded_text(values, QaBlocks.COACHING, QaModalActions.COACHING, COACHING_MAX, errors)
    if errors:
        return errors
    assert ref is not None
    return Scorecard(agent=chosen, ref=ref, scores=scores, comment=comment, coaching=coaching)


def parse_scores(values: Mapping[str, Any], rubric: Rubric, errors: dict[str, str]) -> dict[str, int | None]:
    """Every category's select as key -> 1..scale or None (n/a); a missing or forged choice, or every
    category n/a, adds an inline error to `errors`."""
    scores: dict[str, int | None] = {}
    for category in rubric.categories:
        block_id = category_block_id(category.key)
        value = selected_value(values, block_id, category_action_id(category.key))
        if value == NA:
            scores[category.key] = None
        elif value is not None and value.isascii() and value.isdigit() and 1 <= int(value) <= rubric.scale:
            scores[category.key] = int(value)
        else:
            errors[block_id] = f"Choose a score from 1 to {rubric.scale}, or n/a"
    if (
        rubric.categories
        and len(scores) == len(rubric.categories)
        and all(s is None for s in scores.values())
    ):
        errors[category_block_id(rubric.categories[0].key)] = "Rate at least one category (not all n/a)"
    return scores


def bounded_text(
    values: Mapping[str, Any], block_id: str, action_id: str, limit: int, errors: dict[str, str]
) -> str:
    text = input_text(values, block_id, action_id)
    if len(text) > limit:
        errors[block_id] = f"Keep it under {limit} characters (this is {len(text)})"
    return text
