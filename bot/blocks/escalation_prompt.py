"""Small modals of a handoff's buttons: the responder's question (Need info), the escalator's answer
(Info added) and why it goes further (Escalate further). One text input each; ids only in metadata."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.blocks.ids import EscalationPromptIds, EscalationViews
from bot.blocks.metadata import EscalationButtonValue
from bot.blocks.text import mrkdwn_text, one_line

PROMPT_MAX = 2000


@dataclass(frozen=True)
class _Prompt:
    title: str
    label: str
    hint: str
    submit: str
    optional: bool = False


_PROMPTS = {
    EscalationViews.NEED_INFO: _Prompt(
        "Need more information",
        "What do you need to know?",
        "The escalator gets this in the thread and by DM; the accept clock pauses until they answer.",
        "Ask",
    ),
    EscalationViews.INFO_ADDED: _Prompt(
        "Information added",
        "What did you add?",
        "Shown in the thread to the responders; the accept clock starts again.",
        "Send",
    ),
    EscalationViews.FURTHER: _Prompt(
        "Escalate further",
        "Why does this need the next tier?",
        "The next tier gets the whole handoff plus this.",
        "Escalate",
    ),
}


def prompt_modal(kind: EscalationViews, escalation_id: int, *, ticket: str) -> dict[str, Any]:
    """The modal for `kind` (NEED_INFO, INFO_ADDED or FURTHER) on escalation `escalation_id`."""
    prompt = _PROMPTS[kind]
    element = PlainTextInputElement(
        action_id=EscalationPromptIds.INPUT, multiline=True, max_length=PROMPT_MAX
    )
    view = View(
        type="modal",
        callback_id=kind,
        title=PlainTextObject(text=prompt.title[:24]),
        submit=PlainTextObject(text=prompt.submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=EscalationButtonValue(escalation_id=escalation_id).encode(),
        blocks=[
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"*{mrkdwn_text(one_line(ticket), 80)}* · {prompt.hint}", verbatim=True
                    )
                ]
            ),
            InputBlock(
                block_id=EscalationPromptIds.BLOCK,
                label=PlainTextObject(text=prompt.label),
                element=element,
                optional=prompt.optional,
            ),
        ],
    )
    return view.to_dict()


def prompt_text(values: Mapping[str, Any]) -> str:
    block = values.get(EscalationPromptIds.BLOCK) if isinstance(values, Mapping) else None
    state = block.get(EscalationPromptIds.INPUT) if isinstance(block, Mapping) else None
    value = state.get("value") if isinstance(state, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def result_modal(title: str, text: str) -> dict[str, Any]:
    """What the escalation form becomes when it cannot go on (unknown ticket, helpdesk down)."""
    from slack_sdk.models.blocks import SectionBlock

    view = View(
        type="modal",
        callback_id=EscalationViews.RESULT,
        title=PlainTextObject(text=title[:24]),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text, verbatim=True))],
    )
    return view.to_dict()
