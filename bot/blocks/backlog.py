"""SLA backlog summary: items already long breached when Deskwatch first sees them (first sync, a new
team or channel), reported as one message per channel instead of one stale alert each.

Pure rendering: a `BacklogView` in, `RenderedMessage` out. Shows the count and the oldest ten tickets;
`/sla` lists the rest, so the message size does not grow with the backlog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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
from bot.blocks.ids import Commands, SlaBlocks
from bot.blocks.text import due_phrase, format_local, mrkdwn_link, mrkdwn_text, one_line, truncate
from bot.domain.durations import format_duration
from bot.domain.model import TicketRef, metric_label

BACKLOG_SHOWN = 10
HEADER_MAX = 150
_LINK_URL_MAX = 500
_REF_MAX = 30
_SUBJECT_MAX = 200
_METRIC_MAX = 40
_SCOPE_MAX = 80


@dataclass(frozen=True)
class BacklogItem:
    """One long-breached ticket. `due_at` is when it breached (aware)."""

    ref: TicketRef
    url: str
    subject: str
    metric: str
    due_at: datetime


@dataclass(frozen=True)
class BacklogView:
    """The backlog of one channel: `total` items, of which `items` holds at least the oldest ten (more is
    fine: the renderer picks the oldest). `older_than` is `alerts.backlog_after`; `tz` the team's timezone."""

    scope_label: str  # channel or team name
    total: int
    items: tuple[BacklogItem, ...]
    older_than: timedelta
    tz: ZoneInfo


def render_backlog_summary(view: BacklogView, *, now: datetime) -> RenderedMessage:
    """Render the one-off backlog summary of a channel: count, oldest ten with links, how to see all."""
    _check(view, now)
    oldest = sorted(view.items, key=lambda item: (item.due_at, item.ref))[:BACKLOG_SHOWN]
    scope = truncate(one_line(view.scope_label), _SCOPE_MAX)
    watched = f"*{mrkdwn_text(scope, _SCOPE_MAX)}*" if scope else "this channel"
    intro = (
        f"These were already breached when Deskwatch started watching {watched}, "
        "so they are listed once here instead of alerted one by one."
    )
    blocks: list[Block] = [
        HeaderBlock(
            block_id=SlaBlocks.BACKLOG_HEADER,
            text=PlainTextObject(text=truncate(f":clipboard: {_title(view)}", HEADER_MAX), emoji=True),
        ),
        ContextBlock(block_id=SlaBlocks.BACKLOG_INTRO, elements=[_mrkdwn(intro)]),
    ]
    blocks += [
        SectionBlock(block_id=f"{SlaBlocks.BACKLOG_ROWS}_{n}", text=_mrkdwn(_line(item, view, now)))
        for n, item in enumerate(oldest)
    ]
    hidden = view.total - len(oldest)
    command = f"`{Commands.SLA}`"
    more = (
        f"…and {hidden} more: run {command} in this channel to see all"
        if hidden
        else f"Run {command} in this channel to see every breached and at-risk ticket"
    )
    blocks.append(ContextBlock(block_id=SlaBlocks.BACKLOG_MORE, elements=[_mrkdwn(more)]))
    return RenderedMessage(text=_fallback(view, scope, oldest), blocks=[block.to_dict() for block in blocks])


def _check(view: BacklogView, now: datetime) -> None:
    _require_aware(now, "now")
    if not view.items:
        raise ValueError("a backlog summary needs at least one item")
    if view.total < len(view.items):
        raise ValueError(f"total {view.total} is less than the {len(view.items)} items given")
    for item in view.items:
        _require_aware(item.due_at, "due_at")


def _title(view: BacklogView, scope: str = "") -> str:
    tickets = "1 ticket" if view.total == 1 else f"{view.total} tickets"
    where = f" in {scope}" if scope else ""
    return f"SLA backlog{where}: {tickets} breached more than {_threshold(view.older_than)} ago"


def _threshold(older_than: timedelta) -> str:
    # `24h` as configured reads better than `1d`; longer or odd thresholds use the usual format.
    hours, rest = divmod(int(older_than.total_seconds()), 3600)
    return f"{hours}h" if not rest and 0 < hours <= 72 else format_duration(older_than)


def _line(item: BacklogItem, view: BacklogView, now: datetime) -> str:
    ref = mrkdwn_link(item.url, str(item.ref), max_url_length=_LINK_URL_MAX, max_label_length=_REF_MAX)
    metric = mrkdwn_text(metric_label(item.metric), _METRIC_MAX)
    subject = mrkdwn_text(one_line(item.subject), _SUBJECT_MAX) or "_(no subject)_"
    when = f"{due_phrase(item.due_at, now)} ({format_local(item.due_at, view.tz)})"
    return f"*{ref}* · {metric} · {when}\n{subject}"


def _fallback(view: BacklogView, scope: str, oldest: list[BacklogItem]) -> str:
    """`SLA backlog in billing: 137 tickets breached more than 24h ago: zd:1, zd:2, … (+127 more)`.

    At most ~650 characters: the scope and the ten refs have their own budgets."""
    head = _title(view, scope)
    refs = ", ".join(mrkdwn_text(str(item.ref), _REF_MAX) for item in oldest)
    hidden = view.total - len(oldest)
    return f"{mrkdwn_text(head, 300)}: {refs}" + (f", … (+{hidden} more)" if hidden else "")


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: helpdesk text must not be auto-linked or turned into @channel-style mentions.
    return MarkdownTextObject(text=text, verbatim=True)


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")
