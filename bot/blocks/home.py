"""The App Home tab: one person's board. Pure rendering: a `HomeView` in, a `views.publish` view out.

Sections: my breached and at-risk tickets (matched by Slack email to a helpdesk agent), the teams I manage
(counts by state, open escalations, the next deadlines), the open handoffs I respond to with their ack
clocks, and my QA average and open disputes. Every list is capped and ends with "…and N more"; lines are
packed into sections under Slack's 3000-character limit and the view never exceeds Home's 100 blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.alerts import RenderedMessage
from bot.blocks.ids import HomeActions, HomeBlocks, HomeViews
from bot.blocks.sla_list import SlaListRow
from bot.blocks.text import (
    format_local,
    format_local_time,
    mrkdwn_link,
    mrkdwn_text,
    one_line,
    truncate,
    user_mention,
)
from bot.domain.durations import format_duration
from bot.domain.model import metric_label

MAX_BLOCKS = 100  # Slack's cap for a Home tab
SECTION_TEXT_MAX = 3000
HEADER_MAX = 150
MINE_LIMIT = 20  # my tickets shown; the rest is "…and N more"
TEAMS_LIMIT = 10
NEXT_LIMIT = 5
ESCALATIONS_LIMIT = 15
_SUBJECT_MAX = 80
_NAME_MAX = 60
_LINK_URL_MAX = 1000
NO_AGENT_TEXT = "No tickets assigned to you (we match your Slack email to helpdesk agents)."


@dataclass(frozen=True)
class HomeTeam:
    """One managed team's board line: distinct open items by their worst deadline."""

    name: str
    breached: int
    at_risk: int
    ok: int
    escalations: int


@dataclass(frozen=True)
class HomeEscalation:
    """An open handoff the user responds to (or owns). `ack_deadline` runs; `ack_left` is a paused clock."""

    escalation_id: int
    ref: str
    tier_name: str
    status: str
    owner: str | None
    ack_deadline: datetime | None
    ack_left: timedelta | None
    url: str | None = None


@dataclass(frozen=True)
class HomeQa:
    """The user's QA figures over the last `days` days and the disputes waiting on someone."""

    days: int
    reviews: int
    average: float | None
    my_open_disputes: int
    to_decide: int


@dataclass(frozen=True)
class HomeView:
    """Everything the tab shows. `agent_matched` False: the Slack email matched no helpdesk agent.
    `escalations` None: handoffs are not configured; `qa` None: QA is not configured."""

    user: str
    now: datetime
    tz: ZoneInfo
    agent_matched: bool
    my_tickets: Sequence[SlaListRow] = ()
    teams: Sequence[HomeTeam] = ()
    next_deadlines: Sequence[SlaListRow] = ()
    escalations: Sequence[HomeEscalation] | None = None
    qa: HomeQa | None = None
    agent_note: str | None = None  # why the match failed, when the helpdesk could not be asked
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def render_home(view: HomeView) -> dict[str, Any]:
    """The `views.publish` payload for `view.user`."""
    if view.now.tzinfo is None or view.now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {view.now.isoformat()}")
    blocks: list[Block] = [
        HeaderBlock(block_id=HomeBlocks.HEADER, text=PlainTextObject(text="Deskwatch", emoji=True)),
        ContextBlock(  # left out of the refresh job's change hash (see `bot.services.home.view_hash`)
            block_id=HomeBlocks.UPDATED,
            elements=[_mrkdwn(f"Updated {format_local_time(view.now, view.tz)} · {user_mention(view.user)}")],
        ),
        ActionsBlock(
            block_id=HomeBlocks.ACTIONS,
            elements=[
                ButtonElement(text="Refresh", action_id=HomeActions.REFRESH),
                ButtonElement(text="Open /sla", action_id=HomeActions.OPEN_SLA),
            ],
        ),
    ]
    sections = [_mine(view), _teams(view), _escalations(view), _qa(view)]
    for n, section in enumerate(s for s in sections if s):
        blocks.append(DividerBlock(block_id=f"{HomeBlocks.DIVIDER}_{n}"))
        blocks += section
    if len(blocks) > MAX_BLOCKS:  # cannot happen with the caps above; keep the buttons, drop the tail
        blocks = blocks[:MAX_BLOCKS]
    return View(type="home", callback_id=HomeViews.HOME, blocks=blocks).to_dict()


def render_sla_modal(message: RenderedMessage) -> dict[str, Any]:
    """The `/sla` list (at most 50 blocks) as the modal Home's "Open /sla" button opens."""
    return View(
        type="modal",
        callback_id=HomeViews.SLA_MODAL,
        title="SLA status",
        close="Close",
        blocks=message.blocks,
    ).to_dict()


# -- sections ------------------------------------------------------------------------------------------
def _mine(view: HomeView) -> list[Block]:
    blocks: list[Block] = [_header(HomeBlocks.MINE_HEADER, "My tickets at risk")]
    if not view.agent_matched:
        text = f":bust_in_silhouette: {NO_AGENT_TEXT}"
        if view.agent_note:
            text += f"\n_{mrkdwn_text(one_line(view.agent_note), 200)}_"
        blocks.append(SectionBlock(block_id=HomeBlocks.MINE_EMPTY, text=_mrkdwn(text)))
        return blocks
    rows = list(view.my_tickets)
    if not rows:
        blocks.append(
            SectionBlock(
                block_id=HomeBlocks.MINE_EMPTY,
                text=_mrkdwn(":white_check_mark: None of your tickets is breached or at risk."),
            )
        )
        return blocks
    breached = sum(1 for row in rows if row.breached)
    lines = [f":rotating_light: *{breached} breached* · :warning: *{len(rows) - breached} at risk*"]
    lines += [_ticket_line(row, view) for row in rows[:MINE_LIMIT]]
    blocks += _sections(HomeBlocks.MINE_ROWS, lines)
    blocks += _more(HomeBlocks.MINE_MORE, len(rows) - min(len(rows), MINE_LIMIT))
    return blocks


def _teams(view: HomeView) -> list[Block]:
    if not view.teams:
        return []
    blocks: list[Block] = [_header(HomeBlocks.TEAMS_HEADER, "My teams")]
    for n, team in enumerate(view.teams[:TEAMS_LIMIT]):
        text = (
            f"*{mrkdwn_text(team.name, _NAME_MAX)}* · :rotating_light: {team.breached} breached"
            f" · :warning: {team.at_risk} at risk · :large_green_circle: {team.ok} ok"
            f" · :sos: {team.escalations} open escalation{'' if team.escalations == 1 else 's'}"
        )
        blocks.append(SectionBlock(block_id=f"{HomeBlocks.TEAM}_{n}", text=_mrkdwn(text)))
    blocks += _more(HomeBlocks.TEAMS_MORE, len(view.teams) - min(len(view.teams), TEAMS_LIMIT))
    upcoming = list(view.next_deadlines[:NEXT_LIMIT])
    if upcoming:
        lines = ["*Next deadlines*"] + [_ticket_line(row, view) for row in upcoming]
        blocks += _sections(HomeBlocks.NEXT_ROWS, lines)
    else:
        blocks.append(
            SectionBlock(
                block_id=HomeBlocks.NEXT_EMPTY, text=_mrkdwn("*Next deadlines*\nNo upcoming deadlines.")
            )
        )
    return blocks


def _escalations(view: HomeView) -> list[Block]:
    if view.escalations is None:
        return []
    blocks: list[Block] = [_header(HomeBlocks.ESC_HEADER, "Escalations waiting on me")]
    rows = list(view.escalations)
    if not rows:
        blocks.append(
            SectionBlock(block_id=HomeBlocks.ESC_EMPTY, text=_mrkdwn("No open escalations for you."))
        )
        return blocks
    blocks += _sections(HomeBlocks.ESC_ROWS, [_escalation_line(e, view) for e in rows[:ESCALATIONS_LIMIT]])
    blocks += _more(HomeBlocks.ESC_MORE, len(rows) - min(len(rows), ESCALATIONS_LIMIT))
    return blocks


def _qa(view: HomeView) -> list[Block]:
    qa = view.qa
    if qa is None:
        return []
    if qa.average is None:
        average = f"No QA reviews of your tickets in the last {qa.days} days."
    else:
        plural = "" if qa.reviews == 1 else "s"
        average = f"QA average *{qa.average:.1f} %* over {qa.reviews} review{plural} ({qa.days} days)."
    lines = [average, f"Open disputes of mine: *{qa.my_open_disputes}*"]
    if qa.to_decide:
        lines.append(f"Disputes waiting for my decision: *{qa.to_decide}*")
    return [
        _header(HomeBlocks.QA_HEADER, "My QA"),
        SectionBlock(block_id=HomeBlocks.QA_SUMMARY, text=_mrkdwn("\n".join(lines))),
    ]


# -- lines -------------------------------------------------------------------------------------------
def _ticket_line(row: SlaListRow, view: HomeView) -> str:
    now = view.now
    marker = ":rotating_light:" if row.breached else ":warning:" if row.due_at <= now + _SOON else ":clock3:"
    parts = [
        f"{marker} *{mrkdwn_link(row.url, str(row.ref), max_url_length=_LINK_URL_MAX)}*"
        f" {mrkdwn_text(metric_label(row.metric), _NAME_MAX)}",
        f"{'breached' if row.breached else 'due'} {_when(row.due_at, view)}",
    ]
    if row.team_name:
        parts.append(_name(row.team_name))
    if row.priority:
        parts.append(_name(row.priority.replace("_", " ").capitalize()))
    subject = mrkdwn_text(one_line(row.subject), _SUBJECT_MAX)
    if subject:
        parts.append(subject)
    return " · ".join(parts)


_SOON = timedelta(hours=1)


def _when(at: datetime, view: HomeView) -> str:
    """Absolute times only (`14:05 UTC`, another day `Mon 23 Nov 14:05 UTC`): a relative "in 5m" would
    change the view every minute, and the refresh job publishes only views that changed."""
    same_day = at.astimezone(view.tz).date() == view.now.astimezone(view.tz).date()
    return (format_local_time if same_day else format_local)(at, view.tz)


def _escalation_line(esc: HomeEscalation, view: HomeView) -> str:
    ref = mrkdwn_link(esc.url, esc.ref, max_url_length=_LINK_URL_MAX) if esc.url else mrkdwn_text(esc.ref, 40)
    parts = [f":sos: *{ref}*", _name(esc.tier_name) or "tier", _name(esc.status.replace("_", " "))]
    if esc.owner:
        parts.append("accepted by you" if esc.owner == view.user else f"owner {user_mention(esc.owner)}")
    if esc.ack_deadline is not None:
        if esc.ack_deadline > view.now:
            parts.append(f":hourglass_flowing_sand: ack by {_when(esc.ack_deadline, view)}")
        else:
            parts.append(f":alarm_clock: ack overdue since {_when(esc.ack_deadline, view)}")
    elif esc.ack_left is not None:
        parts.append(f":double_vertical_bar: ack clock paused ({format_duration(esc.ack_left)} left)")
    return " · ".join(parts)


# -- helpers ------------------------------------------------------------------------------------------
def _sections(block_id: str, lines: list[str]) -> list[Block]:
    """Lines packed into sections of at most SECTION_TEXT_MAX characters (numbered block ids)."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, SECTION_TEXT_MAX)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= SECTION_TEXT_MAX:
            current = candidate
        else:
            texts.append(current)
            current = line
    if current:
        texts.append(current)
    return [SectionBlock(block_id=f"{block_id}_{n}", text=_mrkdwn(text)) for n, text in enumerate(texts)]


def _more(block_id: str, hidden: int) -> list[Block]:
    if hidden <= 0:
        return []
    return [ContextBlock(block_id=block_id, elements=[_mrkdwn(f"…and {hidden} more")])]


def _header(block_id: str, text: str) -> HeaderBlock:
    return HeaderBlock(block_id=block_id, text=PlainTextObject(text=truncate(text, HEADER_MAX), emoji=True))


def _name(value: str | None) -> str:
    return mrkdwn_text(one_line(value), _NAME_MAX) if value else ""


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)
