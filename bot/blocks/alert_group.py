"""Grouped SLA alerts: up to 20 tickets of one kind for one channel in one message, each with its own
Acknowledge, so an alert storm (500 breaches at once) reaches Slack in 25 posts instead of 500.

Pure rendering: an `AlertGroupView` of `AlertView` lines in, `RenderedMessage` out. Every per-line budget
is fixed (not shared out by content), so acknowledging one ticket re-renders only that ticket's blocks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.alerts import AlertView, RenderedMessage
from bot.blocks.ids import Commands, SlaActions, SlaBlocks
from bot.blocks.metadata import AlertButtonValue
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
from bot.domain.model import AlertKind, metric_label

GROUP_SIZE = 20  # tickets per message: 20 x (line + ack context) + header + footer = 42 of Slack's 50 blocks
HEADER_MAX = 150
FALLBACK_TEXT_MAX = 1000  # the fallback lists every ref: see _fallback
# Slack refuses messages whose blocks hold more than ~13k characters (`msg_blocks_too_long`, undocumented:
# slackapi/bolt-js#2509) although each block is within its own limit. The fixed budgets below keep the worst
# 20-line message under this.
MESSAGE_TEXT_BUDGET = 12_000
_LINK_URL_MAX = 150  # helpdesk ticket URLs are ~60-110 characters; a longer one shows the ref unlinked
_REF_MAX = 30
_SUBJECT_MAX = 100
_METRIC_MAX = 30
_PRIORITY_MAX = 20
_ASSIGNEE_MAX = 50
_SCOPE_MAX = 80

# Matches every per-line Acknowledge action_id of a group message, for `app.action(GROUP_ACK_ACTION_RE)`.
GROUP_ACK_ACTION_RE = re.compile(rf"^{re.escape(SlaActions.ACKNOWLEDGE_IN_GROUP)}_\d+$")

_EMOJI = {AlertKind.WARNING: ":warning:", AlertKind.BREACH: ":rotating_light:"}

T = TypeVar("T")


@dataclass(frozen=True)
class AlertGroupView:
    """One message of a group: `lines` (1-20, in display order) of one `kind`, part `part` of `parts`.

    `total` counts the alerts across all parts (the header shows it); None means `len(lines)`. Each line
    keeps its own `tz` (a channel may serve several teams), used for its due and acknowledgement times.
    """

    kind: AlertKind
    scope_label: str  # team or channel name for the header
    lines: tuple[AlertView, ...]
    part: int = 1
    parts: int = 1
    total: int | None = None

    @property
    def count(self) -> int:
        return len(self.lines) if self.total is None else self.total


def group_ack_action_id(alert_id: int) -> str:
    """The action_id of one line's Acknowledge button (unique within the message)."""
    return f"{SlaActions.ACKNOWLEDGE_IN_GROUP}_{alert_id}"


def chunk(items: Sequence[T], size: int = GROUP_SIZE) -> list[tuple[T, ...]]:
    """Split `items` into ceil(n/size) parts of near-equal length, order kept.

    Balanced rather than greedy, so 21 alerts make parts of 11 and 10, not 20 and a lone ticket.
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    if not items:
        return []
    parts = math.ceil(len(items) / size)
    base, extra = divmod(len(items), parts)
    out: list[tuple[T, ...]] = []
    start = 0
    for index in range(parts):
        end = start + base + (1 if index < extra else 0)
        out.append(tuple(items[start:end]))
        start = end
    return out


def group_views(
    alerts: Sequence[AlertView], *, kind: AlertKind, scope_label: str, size: int = GROUP_SIZE
) -> list[AlertGroupView]:
    """The messages for one channel's alerts of one kind (already sorted): part/parts/total filled in."""
    if size > GROUP_SIZE:
        raise ValueError(f"a group message holds at most {GROUP_SIZE} tickets, got size {size}")
    parts = chunk(alerts, size)
    return [
        AlertGroupView(
            kind=kind, scope_label=scope_label, lines=lines, part=n, parts=len(parts), total=len(alerts)
        )
        for n, lines in enumerate(parts, start=1)
    ]


def render_alert_group(view: AlertGroupView, *, now: datetime) -> RenderedMessage:
    """Render one message of an alert group; acknowledged lines show who and when instead of a button."""
    _check(view, now)
    blocks: list[Block] = [
        HeaderBlock(
            block_id=SlaBlocks.GROUP_HEADER,
            text=PlainTextObject(text=truncate(_title(view, emoji=True), HEADER_MAX), emoji=True),
        )
    ]
    for line in view.lines:
        blocks += _line_blocks(line, now)
    blocks.append(ContextBlock(block_id=SlaBlocks.GROUP_FOOTER, elements=[_mrkdwn(_footer(view))]))
    return RenderedMessage(text=_fallback(view), blocks=[block.to_dict() for block in blocks])


def _check(view: AlertGroupView, now: datetime) -> None:
    _require_aware(now, "now")
    if not 1 <= len(view.lines) <= GROUP_SIZE:
        raise ValueError(f"a group message needs 1 to {GROUP_SIZE} lines, got {len(view.lines)}")
    if not 1 <= view.part <= view.parts:
        raise ValueError(f"part {view.part} of {view.parts} is not a valid part number")
    if view.count < len(view.lines):
        raise ValueError(f"total {view.count} is less than the {len(view.lines)} lines shown")
    ids = [line.alert_id for line in view.lines]
    if len(set(ids)) != len(ids):
        raise ValueError(f"alert ids repeat within one group message: {ids}")
    for line in view.lines:
        if line.kind is not view.kind:
            raise ValueError(f"alert {line.alert_id} is a {line.kind}, not a {view.kind} like its group")
        _require_aware(line.due_at, "due_at")
        if line.acked_at is not None:
            _require_aware(line.acked_at, "acked_at")


def _title(view: AlertGroupView, *, emoji: bool) -> str:
    n = view.count
    if view.kind is AlertKind.BREACH:
        title = f"{n} SLA breach" if n == 1 else f"{n} SLA breaches"
    else:
        title = f"{n} ticket at risk" if n == 1 else f"{n} tickets at risk"
    scope = truncate(one_line(view.scope_label), _SCOPE_MAX)
    if scope:
        title += f" · {scope}" if emoji else f" in {scope}"
    return f"{_EMOJI[view.kind]} {title}" if emoji else title


def _line_blocks(line: AlertView, now: datetime) -> list[Block]:
    """The section of one ticket (with its Acknowledge accessory until acked), plus the ack context."""
    section = SectionBlock(
        block_id=f"{SlaBlocks.GROUP_LINE}_{line.alert_id}",
        text=_mrkdwn(_line_text(line, now)),
        accessory=None
        if line.acked
        else ButtonElement(
            text=PlainTextObject(text="Acknowledge", emoji=True),
            action_id=group_ack_action_id(line.alert_id),
            value=AlertButtonValue(alert_id=line.alert_id).encode(),
            style="primary",
        ),
    )
    if not line.acked:
        return [section]
    acked = ContextBlock(
        block_id=f"{SlaBlocks.GROUP_ACKNOWLEDGED}_{line.alert_id}",
        elements=[_mrkdwn(_ack_line(line, now))],
    )
    return [section, acked]


def _line_text(line: AlertView, now: datetime) -> str:
    ref = mrkdwn_link(line.url, str(line.ref), max_url_length=_LINK_URL_MAX, max_label_length=_REF_MAX)
    subject = mrkdwn_text(one_line(line.subject), _SUBJECT_MAX) or "_(no subject)_"
    details = [mrkdwn_text(metric_label(line.metric), _METRIC_MAX)]
    if line.priority:
        details.append(mrkdwn_text(one_line(line.priority).replace("_", " ").capitalize(), _PRIORITY_MAX))
    assignee = mrkdwn_text(one_line(line.assignee_name), _ASSIGNEE_MAX) if line.assignee_name else ""
    details.append(assignee or "Unassigned")
    details.append(f"{_when(line.due_at, line, now)} ({due_phrase(line.due_at, now)})")
    return f"*{ref}* · {subject}\n{' · '.join(details)}"


def _ack_line(line: AlertView, now: datetime) -> str:
    text = ":white_check_mark: Acknowledged"
    if line.acked_by is not None:
        text += f" by {user_mention(line.acked_by)}"
    if line.acked_at is not None:
        text += f" at {_when(line.acked_at, line, now)}"
    return text


def _when(dt: datetime, line: AlertView, now: datetime) -> str:
    same_day = dt.astimezone(line.tz).date() == now.astimezone(line.tz).date()
    return (format_local_time if same_day else format_local)(dt, line.tz)


def _footer(view: AlertGroupView) -> str:
    see_all = f"use `{Commands.SLA}` for the full list"
    if view.parts == 1:
        return see_all[0].upper() + see_all[1:]
    return f"Part {view.part} of {view.parts} · {see_all}"


def _fallback(view: AlertGroupView) -> str:
    """`500 SLA breaches in billing (part 2 of 25): zd:121, zd:122, …`: every ref of this message.

    At most 200 + 20 x 32 characters (the title and each ref have their own budget)."""
    head = mrkdwn_text(_title(view, emoji=False), 200)
    if view.parts > 1:
        head += f" (part {view.part} of {view.parts})"
    return f"{head}: {', '.join(mrkdwn_text(str(line.ref), _REF_MAX) for line in view.lines)}"


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: helpdesk text must not be auto-linked or turned into @channel-style mentions.
    return MarkdownTextObject(text=text, verbatim=True)


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")
