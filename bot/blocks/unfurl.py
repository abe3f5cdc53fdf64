"""Ticket link unfurl: the live card Slack shows under a Zendesk ticket or Intercom conversation link.

Pure rendering: an `UnfurlView` (domain values) in, the unfurl's `{"blocks": [...]}` out, for
`chat.unfurl`'s `unfurls` map. Helpdesk text is not redacted here (the Slack client does that on the
final request) but it is escaped and cut to a budget, so the worst subject still fits Slack's limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.ids import SlaActions, UnfurlActions, UnfurlBlocks
from bot.blocks.metadata import AlertButtonValue, _IdPayload
from bot.blocks.text import (
    due_phrase,
    format_local,
    is_linkable_url,
    mrkdwn_link,
    mrkdwn_text,
    one_line,
    user_mention,
)
from bot.domain.model import TicketRef, metric_label
from bot.domain.sla import SlaStatus

BUTTON_URL_MAX = 3000
_SUBJECT_MAX = 1500
_LINK_URL_MAX = 1000
_NAME_MAX = 150
_SHORT_MAX = 60

_STATE = {
    SlaStatus.BREACHED: ":rotating_light: Breached",
    SlaStatus.AT_RISK: ":warning: At risk",
    SlaStatus.OK: ":large_green_circle: On track",
}
_ESCALATION_STATUS = {
    "open": "waiting for a responder",
    "waiting_info": "waiting for information",
    "accepted": "accepted",
}


class UnfurlButtonValue(_IdPayload):
    """Value of the card's Escalate button: the ticket it escalates (an id, never ticket text)."""

    _what: ClassVar[str] = "unfurl button value"

    v: Literal[1] = 1
    ref: str = Field(pattern=r"^(zd|ic):\d{1,20}$")


@dataclass(frozen=True)
class UnfurlDeadline:
    """The ticket's next SLA deadline and where it stands at render time."""

    metric: str
    due_at: datetime
    state: SlaStatus


@dataclass(frozen=True)
class UnfurlEscalation:
    """The ticket's open handoff: its tier's name, its status and who accepted it."""

    tier: str
    status: str
    owner: str | None = None  # Slack user id


@dataclass(frozen=True)
class UnfurlView:
    """What the card shows. `tz` is the owning team's timezone; `ack_alert_id` is the ticket's posted,
    unacknowledged SLA alert (None: no Acknowledge button); `escalate` shows Escalate."""

    ref: TicketRef
    url: str
    subject: str
    status: str
    priority: str | None
    assignee_name: str | None
    team_name: str | None
    group_name: str | None
    tz: ZoneInfo
    deadline: UnfurlDeadline | None = None
    escalation: UnfurlEscalation | None = None
    ack_alert_id: int | None = None
    escalate: bool = False


def render_unfurl(view: UnfurlView, *, now: datetime) -> dict[str, Any]:
    """The unfurl for one link: `{"blocks": [...]}`, the value `chat.unfurl` takes per URL."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    blocks: list[Block] = [
        SectionBlock(block_id=UnfurlBlocks.SUMMARY, text=_mrkdwn(_summary(view))),
        SectionBlock(block_id=UnfurlBlocks.FIELDS, fields=[_mrkdwn(f) for f in _fields(view, now)]),
    ]
    if view.escalation is not None:
        blocks.append(
            ContextBlock(block_id=UnfurlBlocks.ESCALATION, elements=[_mrkdwn(_escalation(view.escalation))])
        )
    buttons = _buttons(view)
    if buttons:
        blocks.append(ActionsBlock(block_id=UnfurlBlocks.ACTIONS, elements=buttons))
    return {"blocks": [block.to_dict() for block in blocks]}


def _summary(view: UnfurlView) -> str:
    ref = mrkdwn_link(view.url, str(view.ref), max_url_length=_LINK_URL_MAX)
    subject = mrkdwn_text(one_line(view.subject), _SUBJECT_MAX) if view.subject.strip() else ""
    return f"*{ref}* · {view.ref.source.label}\n{subject or '_(no subject)_'}"


def _fields(view: UnfurlView, now: datetime) -> list[str]:
    team = _name(view.team_name) or "_no team_"
    if view.group_name:
        team += f" ({_name(view.group_name)})"
    return [
        f"*Status*\n{_label(view.status) or '—'}",
        f"*Priority*\n{_label(view.priority) or '—'}",
        f"*Assignee*\n{_name(view.assignee_name) or 'Unassigned'}",
        f"*Team*\n{team}",
        f"*Next SLA*\n{_deadline(view, now)}",
    ]


def _deadline(view: UnfurlView, now: datetime) -> str:
    deadline = view.deadline
    if deadline is None:
        return "No SLA running"
    metric = mrkdwn_text(metric_label(deadline.metric), _NAME_MAX)
    when = format_local(deadline.due_at, view.tz)
    return f"{_STATE[deadline.state]} · {metric}\n{when} ({due_phrase(deadline.due_at, now)})"


def _escalation(escalation: UnfurlEscalation) -> str:
    status = _ESCALATION_STATUS.get(escalation.status, escalation.status.replace("_", " "))
    line = f":arrow_double_up: Escalated to *{_name(escalation.tier)}*: {status}"
    if escalation.owner:
        line += f" by {user_mention(escalation.owner)}"
    return line


def _buttons(view: UnfurlView) -> list[ButtonElement]:
    buttons: list[ButtonElement] = []
    if view.ack_alert_id is not None:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Acknowledge", emoji=True),
                action_id=SlaActions.ACKNOWLEDGE,
                value=AlertButtonValue(alert_id=view.ack_alert_id).encode(),
                style="primary",
            )
        )
    if view.escalate and view.escalation is None:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Escalate", emoji=True),
                action_id=UnfurlActions.ESCALATE,
                value=UnfurlButtonValue(ref=str(view.ref)).encode(),
            )
        )
    if is_linkable_url(view.url, BUTTON_URL_MAX):
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Open ticket", emoji=True),
                action_id=SlaActions.OPEN_TICKET,
                url=view.url,
            )
        )
    return buttons


def _label(value: str | None) -> str:
    return mrkdwn_text(one_line(value).replace("_", " ").capitalize(), _SHORT_MAX) if value else ""


def _name(value: str | None) -> str:
    return mrkdwn_text(one_line(value), _NAME_MAX) if value else ""


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: helpdesk text must not be auto-linked or turned into @channel-style mentions.
    return MarkdownTextObject(text=text, verbatim=True)
