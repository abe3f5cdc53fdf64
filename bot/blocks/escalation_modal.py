"""The `/escalate` modal: a loading view opened at once with the command's trigger_id (it expires in 3 s),
the form the handler swaps in with views.update once the helpdesk answered, and its submission parser.

Pure: values in, view dicts (or a typed request / inline errors) out. `private_metadata` carries ids only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.escalation import TicketSummary, Urgency, reason_label, ticket_facts
from bot.blocks.ids import EscalationBlocks, EscalationModalActions, EscalationViews
from bot.blocks.metadata import EscalationModalMetadata
from bot.blocks.text import mrkdwn_link, mrkdwn_text, one_line, truncate
from bot.blocks.view_state import input_text, selected_value
from bot.domain.model import InvalidTicketRef, TicketRef

TITLE = "Escalate a ticket"  # Slack caps a modal title at 24 characters
TEXT_INPUT_MAX = 3000  # Slack's cap on a plain_text_input; the handoff shows it verbatim
OPTIONS_MAX = 100  # per static_select
_SUBJECT_MAX = 300
_LAST_MESSAGE_MAX = 1500
_OPTION_TEXT_MAX = 75


@dataclass(frozen=True)
class TierChoice:
    """A tier the ticket can go to: its index in the policy (the domain's `tier`) and its name."""

    index: int
    name: str


@dataclass(frozen=True)
class EscalationModalView:
    """What the form shows. `ticket` is None when the command had no ref (the form then asks for one)."""

    metadata: EscalationModalMetadata
    tiers: tuple[TierChoice, ...]
    default_tier: int  # the next tier after the escalator's own
    reasons: tuple[str, ...]  # config slugs
    ticket: TicketSummary | None = None


@dataclass(frozen=True)
class EscalationRequest:
    """A valid submission: what the service needs to open the escalation."""

    ref: TicketRef
    tier: int
    reason: str
    needs: str
    tried: str
    urgency: Urgency

    @property
    def note(self) -> str:
        """The domain's single handoff note, for `open_escalation(note=...)` and the helpdesk write-back."""
        return f"What the customer needs:\n{self.needs}\n\nWhat was tried:\n{self.tried}"


def loading_modal(ref_text: str) -> dict[str, Any]:
    """Opened at once with the trigger_id, replaced by `escalation_modal` via views.update."""
    what = mrkdwn_text(one_line(ref_text), 200) if ref_text and ref_text.strip() else ""
    text = f"⏳ Looking up *{what}* in the helpdesk…" if what else "⏳ Preparing the escalation form…"
    view = View(
        type="modal",
        callback_id=EscalationViews.LOADING,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Cancel"),
        blocks=[SectionBlock(block_id=EscalationBlocks.MODAL_LOADING, text=_mrkdwn(text))],
    )
    return view.to_dict()


def escalation_modal(view: EscalationModalView) -> dict[str, Any]:
    """The form: the ticket as the helpdesk has it, then the escalator's inputs."""
    if not view.tiers:
        raise ValueError("the escalation modal needs at least one tier to escalate to")
    if view.default_tier not in {t.index for t in view.tiers}:
        raise ValueError(f"default tier {view.default_tier} is not among the tiers offered")
    if not view.reasons:
        raise ValueError("the escalation modal needs at least one reason")
    blocks: list[Block] = []
    if view.ticket is not None:
        blocks += _ticket_blocks(view.ticket)
    else:
        blocks.append(
            ContextBlock(
                block_id=EscalationBlocks.MODAL_NO_TICKET,
                elements=[
                    _mrkdwn("Paste the ticket's Zendesk or Intercom link, or type `zd:101` / `ic:9001`.")
                ],
            )
        )
    if view.metadata.ref is None:
        blocks.append(
            _text_input(EscalationBlocks.MODAL_REF, EscalationModalActions.REF, "Ticket", multiline=False)
        )
    tiers = [_option(t.name, str(t.index)) for t in view.tiers[:OPTIONS_MAX]]
    default = next(o for o, t in zip(tiers, view.tiers, strict=False) if t.index == view.default_tier)
    reasons = [_option(reason_label(r), r) for r in view.reasons[:OPTIONS_MAX]]
    urgencies = [_option(u.label, u.value) for u in Urgency]
    blocks += [
        _select(EscalationBlocks.MODAL_TIER, EscalationModalActions.TIER, "Escalate to", tiers, default),
        _select(EscalationBlocks.MODAL_REASON, EscalationModalActions.REASON, "Reason", reasons, None),
        _text_input(
            EscalationBlocks.MODAL_NEEDS, EscalationModalActions.NEEDS, "What does the customer need?"
        ),
        _text_input(EscalationBlocks.MODAL_TRIED, EscalationModalActions.TRIED, "What was tried?"),
        _select(
            EscalationBlocks.MODAL_URGENCY, EscalationModalActions.URGENCY, "Urgency", urgencies, urgencies[1]
        ),
    ]
    modal = View(
        type="modal",
        callback_id=EscalationViews.FORM,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Escalate"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=view.metadata.encode(),
        blocks=blocks,
    )
    return modal.to_dict()


def _ticket_blocks(ticket: TicketSummary) -> list[Block]:
    link = mrkdwn_link(ticket.url, str(ticket.ref))
    subject = mrkdwn_text(one_line(ticket.subject), _SUBJECT_MAX) or "_(no subject)_"
    blocks: list[Block] = [
        SectionBlock(
            block_id=EscalationBlocks.MODAL_TICKET,
            text=_mrkdwn(f"*{link}* · {ticket.ref.source.label}\n{subject}"),
        ),
        SectionBlock(
            block_id=EscalationBlocks.MODAL_TICKET_FACTS, fields=[_mrkdwn(f) for f in ticket_facts(ticket)]
        ),
    ]
    if ticket.last_customer_message and ticket.last_customer_message.strip():
        said = mrkdwn_text(ticket.last_customer_message.strip(), _LAST_MESSAGE_MAX)
        blocks.append(
            SectionBlock(
                block_id=EscalationBlocks.MODAL_LAST_MESSAGE,
                text=_mrkdwn(f"*Last customer message*\n{said}"),
            )
        )
    return blocks


def _option(text: str, value: str) -> Option:
    return Option(text=PlainTextObject(text=truncate(one_line(text), _OPTION_TEXT_MAX)), value=value)


def _select(
    block_id: str, action_id: str, label: str, options: list[Option], initial: Option | None
) -> InputBlock:
    element = StaticSelectElement(
        action_id=action_id,
        placeholder=PlainTextObject(text="Choose…"),
        options=options,
        initial_option=initial,
    )
    return InputBlock(block_id=block_id, label=PlainTextObject(text=label), element=element)


def _text_input(block_id: str, action_id: str, label: str, *, multiline: bool = True) -> InputBlock:
    element = PlainTextInputElement(
        action_id=action_id, multiline=multiline, max_length=TEXT_INPUT_MAX if multiline else 500
    )
    return InputBlock(block_id=block_id, label=PlainTextObject(text=label), element=element)


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


# --- submission ---------------------------------------------------------------------------------------


def parse_submission(
    values: Mapping[str, Any],
    *,
    ref: TicketRef | None,
    tiers: Sequence[int],
    reasons: Sequence[str],
) -> EscalationRequest | dict[str, str]:
    """`view.state.values` of a view_submission as a request, or `{block_id: message}` for
    `ack(response_action="errors", errors=...)`. `ref` comes from private_metadata; None means the form
    asked for it. `tiers` and `reasons` are the ones offered, re-checked since the payload is client input."""
    errors: dict[str, str] = {}
    if ref is None:
        typed = input_text(values, EscalationBlocks.MODAL_REF, EscalationModalActions.REF)
        if not typed:
            errors[EscalationBlocks.MODAL_REF] = "Paste the ticket link or type zd:101 / ic:9001"
        else:
            try:
                ref = TicketRef.parse(typed)
            except InvalidTicketRef as exc:
                errors[EscalationBlocks.MODAL_REF] = truncate(str(exc), 150)
    tier_value = selected_value(values, EscalationBlocks.MODAL_TIER, EscalationModalActions.TIER)
    tier = int(tier_value) if tier_value and tier_value.isascii() and tier_value.isdigit() else None
    if tier is None or tier not in tiers:
        errors[EscalationBlocks.MODAL_TIER] = "Choose one of the tiers listed"
    reason = selected_value(values, EscalationBlocks.MODAL_REASON, EscalationModalActions.REASON)
    if reason not in reasons:
        errors[EscalationBlocks.MODAL_REASON] = "Choose one of the reasons listed"
    needs = _required_text(values, EscalationBlocks.MODAL_NEEDS, EscalationModalActions.NEEDS, errors)
    tried = _required_text(values, EscalationBlocks.MODAL_TRIED, EscalationModalActions.TRIED, errors)
    urgency_value = selected_value(values, EscalationBlocks.MODAL_URGENCY, EscalationModalActions.URGENCY)
    urgency = Urgency(urgency_value) if urgency_value in {u.value for u in Urgency} else None
    if urgency is None:
        errors[EscalationBlocks.MODAL_URGENCY] = "Choose how urgent this is"
    if errors:
        return errors
    assert ref is not None and tier is not None and reason is not None and urgency is not None
    return EscalationRequest(ref=ref, tier=tier, reason=reason, needs=needs, tried=tried, urgency=urgency)


def _required_text(values: Mapping[str, Any], block_id: str, action_id: str, errors: dict[str, str]) -> str:
    text = input_text(values, block_id, action_id)
    if not text:
        errors[block_id] = "Required: the next tier reads this instead of the whole ticket"
    elif len(text) > TEXT_INPUT_MAX:
        errors[block_id] = f"Keep it under {TEXT_INPUT_MAX} characters (this is {len(text)})"
    return text
