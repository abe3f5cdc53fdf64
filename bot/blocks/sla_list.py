"""`/sla` summary: the breached and at-risk tickets of one team (or all), one line per ticket.

Pure rendering. Lines are packed into as few sections as fit Slack's 3000-character section limit,
and the message never exceeds 50 blocks however many rows or however long their text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.alerts import RenderedMessage
from bot.blocks.ids import SlaBlocks
from bot.blocks.text import (
    due_phrase,
    format_local,
    format_local_time,
    mrkdwn_link,
    mrkdwn_text,
    one_line,
    truncate,
)
from bot.domain.model import TicketRef, metric_label

SECTION_TEXT_MAX = 3000
MAX_BLOCKS = 50
HEADER_MAX = 150
_FIXED_BLOCKS = 3  # header, counts, "…and N more"
_LINK_URL_MAX = 1000
_SUBJECT_MAX = 100
_NAME_MAX = 60
_SCOPE_MAX = 100


@dataclass(frozen=True)
class SlaListRow:
    """One ticket in the `/sla` summary. Text fields are already redacted."""

    ref: TicketRef
    subject: str
    url: str
    metric: str
    due_at: datetime
    breached: bool
    team_name: str | None
    assignee_name: str | None
    priority: str | None


def render_sla_list(
    rows: Sequence[SlaListRow],
    *,
    now: datetime,
    tz: ZoneInfo,
    scope_label: str,
    limit: int = 40,
) -> RenderedMessage:
    """Render rows in the given order (the caller sorts by due time); show at most `limit` of them."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    scope = truncate(one_line(scope_label), _SCOPE_MAX) or "all teams"
    if not rows:
        message = f"No breached or at-risk tickets for {scope}"
        empty = SectionBlock(
            block_id=SlaBlocks.LIST_EMPTY,
            text=_mrkdwn(
                f":white_check_mark: No breached or at-risk tickets for *{mrkdwn_text(scope, _SCOPE_MAX)}*."
            ),
        )
        return RenderedMessage(text=mrkdwn_text(message, 300), blocks=[empty.to_dict()])

    breached = sum(1 for row in rows if row.breached)
    at_risk = len(rows) - breached
    blocks: list[Block] = [
        HeaderBlock(
            block_id=SlaBlocks.LIST_HEADER,
            text=PlainTextObject(text=truncate(f"SLA status · {scope}", HEADER_MAX), emoji=True),
        ),
        ContextBlock(
            block_id=SlaBlocks.LIST_COUNTS,
            elements=[_mrkdwn(f":rotating_light: *{breached} breached* · :warning: *{at_risk} at risk*")],
        ),
    ]
    sections, shown = _pack([_line(row, now=now, tz=tz) for row in rows[:limit]], MAX_BLOCKS - _FIXED_BLOCKS)
    blocks += [
        SectionBlock(block_id=f"{SlaBlocks.LIST_ROWS}_{n}", text=_mrkdwn(text))
        for n, text in enumerate(sections)
    ]
    hidden = len(rows) - shown
    if hidden:
        blocks.append(ContextBlock(block_id=SlaBlocks.LIST_MORE, elements=[_mrkdwn(f"…and {hidden} more")]))

    fallback = f"SLA status for {scope}: {breached} breached, {at_risk} at risk"
    return RenderedMessage(text=mrkdwn_text(fallback, 300), blocks=[block.to_dict() for block in blocks])


def _line(row: SlaListRow, *, now: datetime, tz: ZoneInfo) -> str:
    marker = ":rotating_light:" if row.breached else ":warning:"
    same_day = row.due_at.astimezone(tz).date() == now.astimezone(tz).date()
    when = (format_local_time if same_day else format_local)(row.due_at, tz)
    parts = [
        f"{marker} *{mrkdwn_link(row.url, str(row.ref), max_url_length=_LINK_URL_MAX)}*"
        f" {mrkdwn_text(metric_label(row.metric), _NAME_MAX)}",
        f"{due_phrase(row.due_at, now)} ({when})",
        _name(row.assignee_name) or "Unassigned",
    ]
    if row.team_name:
        parts.append(_name(row.team_name))
    if row.priority:
        parts.append(_name(row.priority.replace("_", " ").capitalize()))
    subject = mrkdwn_text(one_line(row.subject), _SUBJECT_MAX)
    if subject:
        parts.append(subject)
    return " · ".join(parts)


def _pack(lines: list[str], max_sections: int) -> tuple[list[str], int]:
    """Join lines into section texts of at most SECTION_TEXT_MAX; return the texts and lines used.

    Every line is far shorter than a section by construction (each part has its own budget).
    """
    sections: list[str] = []
    current = ""
    used = 0
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= SECTION_TEXT_MAX:
            current = candidate
        else:
            if len(sections) + 1 >= max_sections:
                break
            sections.append(current)
            current = line
        used += 1
    if current:
        sections.append(current)
    return sections, used


def _name(value: str | None) -> str:
    return mrkdwn_text(one_line(value), _NAME_MAX) if value else ""


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)
