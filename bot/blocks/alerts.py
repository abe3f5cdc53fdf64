"""SLA alert message: one ticket at risk of (or past) its SLA deadline, with Acknowledge / Open buttons.

Pure rendering: an `AlertView` (domain values, text already redacted) in, `RenderedMessage` out.
Every piece of helpdesk text is escaped and cut to a budget so the worst input still fits Slack's limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.ids import SlaActions, SlaBlocks
from bot.blocks.metadata import AlertButtonValue
from bot.blocks.text import (
    due_phrase,
    format_local,
    format_local_time,
    is_linkable_url,
    mrkdwn_link,
    mrkdwn_text,
    one_line,
    truncate,
    user_mention,
)
from bot.domain.durations import format_duration
from bot.domain.model import AlertKind, TicketRef, metric_label

HEADER_MAX = 150  # HeaderBlock plain_text
BUTTON_URL_MAX = 3000
FALLBACK_TEXT_MAX = 300
_SUBJECT_MAX = 1000
_LINK_URL_MAX = 1000
_NAME_MAX = 150
_PRIORITY_MAX = 40

_TITLES = {
    AlertKind.WARNING: (":warning:", "SLA at risk"),
    AlertKind.BREACH: (":rotating_light:", "SLA breached"),
}


@dataclass(frozen=True)
class AlertView:
    """What an SLA alert shows. Text fields are already redacted; `tz` is the owning team's timezone."""

    alert_id: int
    ref: TicketRef
    kind: AlertKind
    metric: str
    threshold: timedelta | None
    subject: str
    priority: str | None
    assignee_name: str | None
    team_name: str | None
    group_name: str | None
    url: str
    due_at: datetime
    tz: ZoneInfo
    acked_by: str | None = None  # Slack user id
    acked_at: datetime | None = None
    moved_from: datetime | None = None  # the due time before the helpdesk moved it inside this cycle
    escalate: bool = False  # show "Escalate" (escalation handoffs are configured)

    @property
    def acked(self) -> bool:
        return self.acked_by is not None or self.acked_at is not None


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for chat.postMessage / chat.update: notification `text` plus `blocks`."""

    text: str
    blocks: list[dict[str, Any]]


def render_alert(view: AlertView, *, now: datetime) -> RenderedMessage:
    """Render an SLA alert (or its acknowledged version) for the team channel."""
    _require_aware(now, "now")
    _require_aware(view.due_at, "due_at")
    if view.acked_at is not None:
        _require_aware(view.acked_at, "acked_at")
    emoji, title = _TITLES[view.kind]
    label = metric_label(view.metric)

    blocks: list[Block] = [
        HeaderBlock(
            block_id=SlaBlocks.HEADER,
            text=PlainTextObject(
                text=truncate(one_line(f"{emoji} {title} · {label}"), HEADER_MAX), emoji=True
            ),
        ),
        SectionBlock(block_id=SlaBlocks.SUMMARY, text=_mrkdwn(_summary(view))),
        SectionBlock(block_id=SlaBlocks.DETAILS, fields=[_mrkdwn(f) for f in _fields(view, label, now)]),
    ]
    if view.moved_from is not None and view.moved_from != view.due_at:
        _require_aware(view.moved_from, "moved_from")
        moved = (
            f":arrows_counterclockwise: Deadline moved from {format_local_time(view.moved_from, view.tz)} "
            f"to {format_local_time(view.due_at, view.tz)}"
        )
        blocks.append(ContextBlock(block_id=SlaBlocks.MOVED, elements=[_mrkdwn(moved)]))
    if view.acked:
        blocks.append(ContextBlock(block_id=SlaBlocks.ACKNOWLEDGED, elements=[_mrkdwn(_ack_line(view, now))]))
    buttons = _buttons(view)
    if buttons:
        blocks.append(ActionsBlock(block_id=SlaBlocks.ACTIONS, elements=buttons))

    fallback = f"{title}: {view.ref} {label} - {one_line(view.subject)}"
    return RenderedMessage(
        text=mrkdwn_text(fallback, FALLBACK_TEXT_MAX),
        blocks=[block.to_dict() for block in blocks],
    )


def _summary(view: AlertView) -> str:
    ref_link = mrkdwn_link(view.url, str(view.ref), max_url_length=_LINK_URL_MAX)
    subject = mrkdwn_text(one_line(view.subject), _SUBJECT_MAX) or "_(no subject)_"
    return f"*{ref_link}* · {view.ref.source.label}\n{subject}"


def _fields(view: AlertView, label: str, now: datetime) -> list[str]:
    metric = mrkdwn_text(label, _NAME_MAX)
    if view.kind is AlertKind.WARNING and view.threshold is not None:
        metric += f"\n_warning {format_duration(view.threshold)} before due_"
    team = _name(view.team_name) or "—"
    if view.group_name:
        team += f" ({_name(view.group_name)})"
    priority = (
        mrkdwn_text(one_line(view.priority).replace("_", " ").capitalize(), _PRIORITY_MAX)
        if view.priority
        else "—"
    )
    return [
        f"*Due*\n{format_local(view.due_at, view.tz)}\n{due_phrase(view.due_at, now)}",
        f"*Metric*\n{metric}",
        f"*Priority*\n{priority}",
        f"*Assignee*\n{_name(view.assignee_name) or 'Unassigned'}",
        f"*Team*\n{team}",
    ]


def _ack_line(view: AlertView, now: datetime) -> str:
    line = ":white_check_mark: Acknowledged"
    if view.acked_by is not None:
        line += f" by {user_mention(view.acked_by)}"
    if view.acked_at is not None:
        same_day = view.acked_at.astimezone(view.tz).date() == now.astimezone(view.tz).date()
        when = format_local_time if same_day else format_local
        line += f" at {when(view.acked_at, view.tz)}"
    return line


def _buttons(view: AlertView) -> list[ButtonElement]:
    buttons: list[ButtonElement] = []
    if not view.acked:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Acknowledge", emoji=True),
                action_id=SlaActions.ACKNOWLEDGE,
                value=AlertButtonValue(alert_id=view.alert_id).encode(),
                style="primary",
            )
        )
    if view.escalate:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Escalate", emoji=True),
                action_id=SlaActions.ESCALATE,
                value=AlertButtonValue(alert_id=view.alert_id).encode(),
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


def _name(value: str | None) -> str:
    return mrkdwn_text(one_line(value), _NAME_MAX) if value else ""


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: helpdesk text must not be auto-linked or turned into @channel-style mentions.
    return MarkdownTextObject(text=text, verbatim=True)


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")
