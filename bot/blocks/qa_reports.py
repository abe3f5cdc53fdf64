"""QA reports and calibration messages: an agent's report, the team report, a calibration session, its
result and the calibration report over recent sessions.

Pure rendering: report values computed by `bot.domain` in, `RenderedMessage` out. Calibration messages
name who has scored but never show a score before the session closes (the result shows them all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.alerts import RenderedMessage
from bot.blocks.ids import QaActions, QaBlocks
from bot.blocks.metadata import QaButtonValue
from bot.blocks.qa_text import (
    CATEGORIES_MAX,
    HEADER_MAX,
    button,
    format_day,
    format_percent,
    joined,
    label_text,
    line_sections,
    message,
    mrkdwn,
    plural,
    require_aware,
    ticket_line,
)
from bot.blocks.text import format_local, mrkdwn_text, one_line, truncate, user_mention
from bot.domain.model import TicketRef
from bot.domain.qa_types import AgentReport, CalibrationResult, Rubric

ROWS_MAX = 6000  # team report lines, calibration session lines (each message)
WEEKS_MAX = 60  # weekly trend lines shown (a year and a bit)
MENTIONS_MAX = 1500
SPREAD_LINE_MAX = 900  # one category's reviewer scores in the calibration result
FLAGGED_MAX = 1500
ALPHA_GOOD = 0.8
ALPHA_TENTATIVE = 0.667
_SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class CalibrationSessionView:
    """An open (or closed) calibration session. `scored_by` names reviewers only, never their scores."""

    calibration_id: int
    ref: TicketRef
    owner: str  # Slack user id
    closes_at: datetime
    tz: tzinfo
    scored_by: tuple[str, ...] = ()
    url: str | None = None
    subject: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None  # None with closed_at set: the window ran out


@dataclass(frozen=True)
class CalibrationAlpha:
    """One closed session in the calibration report."""

    calibration_id: int
    ref: TicketRef
    closed_at: datetime
    reviewers: int
    alpha: float | None
    flagged: int = 0  # categories flagged in that session


# --- reports ------------------------------------------------------------------------------------------


def render_agent_report(report: AgentReport, *, rubric: Rubric, days: int) -> RenderedMessage:
    """One agent over the last `days` days: average, change, pass rate, reviews, weekly trend, categories."""
    period = _period(days)
    blocks: list[Block] = [
        HeaderBlock(
            block_id=QaBlocks.HEADER,
            text=PlainTextObject(text=truncate(f"📊 QA report · {period}", HEADER_MAX), emoji=True),
        )
    ]
    who = user_mention(report.agent)
    if report.reviews == 0:
        blocks.append(
            SectionBlock(block_id=QaBlocks.EMPTY, text=mrkdwn(f"No reviews of {who} in the {period}."))
        )
        return message(f"QA report, {period}: no reviews", blocks)
    fields = [
        f"*Average*\n{_percent(report.average)}",
        f"*Change*\n{_change(report.average, report.previous_average, days)}",
        f"*Pass rate*\n{_percent(report.pass_rate)}",
        f"*Reviews*\n{report.reviews}",
    ]
    if report.weakest is not None:
        fields.append(f"*Weakest category*\n{_category_average(rubric, report.weakest, report.per_category)}")
    blocks.append(
        SectionBlock(block_id=QaBlocks.SUMMARY, text=mrkdwn(f"*{who}*"), fields=[mrkdwn(f) for f in fields])
    )
    if report.weekly:
        weeks = report.weekly[-WEEKS_MAX:]
        lines = [f"*Trend by week* `{sparkline([w.average for w in weeks])}`"]
        lines += [
            f"• week of {format_day(w.week_start)}: {format_percent(w.average)} "
            f"({plural(w.reviews, 'review')})"
            for w in weeks
        ]
        blocks += line_sections(QaBlocks.TREND, lines, CATEGORIES_MAX)
    keys = _ordered_keys(rubric, report.per_category)
    if keys:
        lines = ["*By category*"] + [
            f"• {_category_average(rubric, key, report.per_category)}" for key in keys
        ]
        blocks += line_sections(QaBlocks.CATEGORIES, lines, CATEGORIES_MAX)
    fallback = f"QA report, {period}: average {_percent(report.average)}, {plural(report.reviews, 'review')}"
    return message(fallback, blocks)


def render_team_report(
    reports: Sequence[AgentReport], *, rubric: Rubric, days: int, team_name: str | None = None
) -> RenderedMessage:
    """One line per agent, best average first (agents without reviews last)."""
    period = _period(days)
    team = one_line(team_name or "")
    title = (
        f"📊 QA team report · {truncate(team, 60)} · {period}" if team else f"📊 QA team report · {period}"
    )
    blocks: list[Block] = [
        HeaderBlock(
            block_id=QaBlocks.HEADER, text=PlainTextObject(text=truncate(title, HEADER_MAX), emoji=True)
        )
    ]
    if not reports:
        blocks.append(
            SectionBlock(block_id=QaBlocks.EMPTY, text=mrkdwn(f"No agents reviewed in the {period}."))
        )
        return message(f"QA team report, {period}: no reviews", blocks)
    ordered = sorted(
        reports, key=lambda r: (r.average is None or r.reviews == 0, -(r.average or 0.0), r.agent)
    )
    total = sum(r.reviews for r in reports)
    summary = f"*{plural(len(reports), 'agent')}* · {plural(total, 'review')}"
    blocks.append(SectionBlock(block_id=QaBlocks.SUMMARY, text=mrkdwn(summary)))
    lines = [_team_line(n, r, rubric, days) for n, r in enumerate(ordered, start=1)]
    blocks += line_sections(QaBlocks.ROWS, lines, ROWS_MAX, more=lambda n: f"…and {n} more agents")
    return message(
        f"QA team report, {period}: {plural(len(reports), 'agent')}, {plural(total, 'review')}", blocks
    )


def _team_line(n: int, report: AgentReport, rubric: Rubric, days: int) -> str:
    who = user_mention(report.agent)
    if report.reviews == 0 or report.average is None:
        return f"{n}. {who}: no reviews"
    parts = [
        f"*{format_percent(report.average)}*",
        f"pass {_percent(report.pass_rate)}",
        f"{plural(report.reviews, 'review')}",
    ]
    if report.weakest is not None:
        category = rubric.category(report.weakest)
        parts.append(f"weakest {label_text(category) if category else _key(report.weakest)}")
    if report.previous_average is not None:
        parts.append(_change(report.average, report.previous_average, days, short=True))
    return f"{n}. {who}: " + " · ".join(parts)


def sparkline(percents: Sequence[float]) -> str:
    """`▃▅▆▇`: one bar per value on the absolute 0-100 % scale (not stretched to the values' range)."""
    return "".join(_SPARKS[min(len(_SPARKS) - 1, max(0, int(p / 100 * len(_SPARKS))))] for p in percents)


def _change(current: float | None, previous: float | None, days: int, *, short: bool = False) -> str:
    if current is None or previous is None:
        return "—" if short else f"no reviews in the previous {days} days"
    delta = round(round(current, 1) - round(previous, 1), 1)  # the change between the numbers shown
    text = "= no change" if delta == 0 else f"{'▲' if delta > 0 else '▼'} {abs(delta):g} pts"
    return text if short else f"{text} vs the previous {days} days"


def _category_average(rubric: Rubric, key: str, averages: Mapping[str, float | None]) -> str:
    category = rubric.category(key)
    label = label_text(category) if category else _key(key)
    value = averages.get(key)
    shown = "n/a" if value is None else f"{value:.1f}/{rubric.scale}"
    return f"{label}: {shown}"


def _ordered_keys(rubric: Rubric, averages: Mapping[str, float | None]) -> list[str]:
    present = list(averages)
    ordered = [k for k in rubric.keys if k in present]
    return ordered + sorted(k for k in present if k not in ordered)


def _period(days: int) -> str:
    if days < 1:
        raise ValueError(f"a report covers at least one day, got {days}")
    return "last day" if days == 1 else f"last {days} days"


def _percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


def _key(key: str) -> str:
    return mrkdwn_text(one_line(key), 60)


# --- calibration --------------------------------------------------------------------------------------


def render_calibration_session(view: CalibrationSessionView) -> RenderedMessage:
    """The session message: ticket, owner, who has scored (names only), when it closes, and while open
    the "Score blind" and "Close session" buttons."""
    for name in ("closes_at", "closed_at"):
        require_aware(getattr(view, name), name)
    ref = str(view.ref)
    blocks: list[Block] = [
        HeaderBlock(
            block_id=QaBlocks.HEADER,
            text=PlainTextObject(text=truncate(f"🎯 QA calibration · {ref}", HEADER_MAX), emoji=True),
        ),
        SectionBlock(
            block_id=QaBlocks.SUMMARY,
            text=mrkdwn(ticket_line(view.ref, view.url, view.subject)),
            fields=[
                mrkdwn(f"*Owner*\n{user_mention(view.owner)}"),
                mrkdwn(
                    f"*{'Closed' if view.closed_at else 'Closes'}*\n"
                    f"{format_local(view.closed_at or view.closes_at, view.tz)}"
                ),
            ],
        ),
        SectionBlock(block_id=QaBlocks.ROWS, text=mrkdwn(_scored_by(view.scored_by))),
    ]
    if view.closed_at is None:
        note = "🙈 Score it blind: everyone's scores stay hidden until the session closes."
        blocks.append(ContextBlock(block_id=QaBlocks.STATUS, elements=[mrkdwn(note)]))
        value = QaButtonValue(calibration_id=view.calibration_id, ref=ref).encode()
        blocks.append(
            ActionsBlock(
                block_id=QaBlocks.ACTIONS,
                elements=[
                    button("Score blind", QaActions.CALIBRATION_SCORE, value, style="primary"),
                    button("Close session", QaActions.CALIBRATION_CLOSE, value),
                ],
            )
        )
        fallback = f"QA calibration on {ref}: score it blind"
    else:
        by = f"by {user_mention(view.closed_by)}" if view.closed_by else "when its window ran out"
        blocks.append(
            ContextBlock(
                block_id=QaBlocks.STATUS, elements=[mrkdwn(f"🔒 Closed {by}: results in the thread.")]
            )
        )
        fallback = f"QA calibration on {ref}: closed"
    return message(fallback, blocks)


def _scored_by(reviewers: Sequence[str]) -> str:
    if not reviewers:
        return "_Nobody has scored yet._"
    label = f"*Scored so far ({len(reviewers)}):* "
    return label + joined([user_mention(r) for r in reviewers], MENTIONS_MAX - len(label), " ")


def render_calibration_result(
    result: CalibrationResult,
    *,
    rubric: Rubric,
    ref: TicketRef,
    url: str | None = None,
    threshold: int | None = None,
) -> RenderedMessage:
    """After the session closed: each category's spread with every reviewer's score, flagged categories,
    each reviewer's total, and Krippendorff's alpha in plain words."""
    blocks: list[Block] = [
        HeaderBlock(
            block_id=QaBlocks.HEADER,
            text=PlainTextObject(text=truncate(f"🎯 Calibration results · {ref}", HEADER_MAX), emoji=True),
        ),
        SectionBlock(block_id=QaBlocks.ALPHA, text=mrkdwn(f"*Agreement:* {alpha_phrase(result.alpha)}")),
    ]
    reviewers = result.reviewers
    lines = []
    for spread in result.spreads:
        category = rubric.category(spread.key)
        label = label_text(category) if category else _key(spread.key)
        pieces = [
            f"{user_mention(reviewer)} {'n/a' if score is None else score}"
            for reviewer, score in zip(reviewers, spread.scores, strict=False)
        ]
        span = "" if spread.low is None or spread.high is None else f" → {spread.low}–{spread.high}"
        flag = " 🚩" if spread.flagged else ""
        lines.append(f"• *{label}*{flag}{span}: {joined(pieces, SPREAD_LINE_MAX, ' · ')}")
    blocks += line_sections(
        QaBlocks.SCORES, lines, CATEGORIES_MAX, more=lambda n: f"…and {n} more categories"
    )
    flagged = [s.key for s in result.spreads if s.flagged]
    if flagged:
        labels = [label_text(c) if (c := rubric.category(k)) else _key(k) for k in flagged]
        names = joined(labels, FLAGGED_MAX, ", ")
        why = f" (threshold {threshold} points)" if threshold is not None else ""
        text = f"🚩 *Flagged{why}:* {names}. Worth discussing before the next reviews."
    else:
        text = "No category flagged: reviewers are close on every category."
    blocks.append(SectionBlock(block_id=QaBlocks.CRITICAL, text=mrkdwn(text)))
    if result.percents:
        pieces = [
            f"{user_mention(r)} {format_percent(result.percents[r])}"
            for r in reviewers
            if r in result.percents
        ]
        totals = joined(pieces, MENTIONS_MAX, " · ")
        if totals:
            blocks.append(ContextBlock(block_id=QaBlocks.TOTAL, elements=[mrkdwn(f"Totals: {totals}")]))
    blocks.append(ContextBlock(block_id=QaBlocks.STATUS, elements=[mrkdwn(_reviewer_note(reviewers))]))
    fallback = f"Calibration results for {ref}: {_alpha_short(result.alpha)}, {len(flagged)} flagged"
    return message(fallback, blocks)


def _reviewer_note(reviewers: Sequence[str]) -> str:
    count = f"{plural(len(reviewers), 'reviewer')}"
    return f"{count} · calibration scores never count in agents' averages"


def render_calibration_report(
    sessions: Sequence[CalibrationAlpha], pooled_alpha: float | None, *, tz: tzinfo
) -> RenderedMessage:
    """Alpha per recent session (newest first as given) and pooled over all of them."""
    for session in sessions:
        require_aware(session.closed_at, "closed_at")
    title = f"🎯 Calibration report · last {len(sessions)} sessions" if sessions else "🎯 Calibration report"
    blocks: list[Block] = [
        HeaderBlock(block_id=QaBlocks.HEADER, text=PlainTextObject(text=title, emoji=True))
    ]
    if not sessions:
        blocks.append(
            SectionBlock(block_id=QaBlocks.EMPTY, text=mrkdwn("No closed calibration sessions yet."))
        )
        return message("Calibration report: no closed sessions yet", blocks)
    pooled = f"*Pooled over {plural(len(sessions), 'session')}:* "
    blocks.append(SectionBlock(block_id=QaBlocks.ALPHA, text=mrkdwn(pooled + alpha_phrase(pooled_alpha))))
    lines = [
        f"• *{s.ref}* · closed {format_local(s.closed_at, tz)} · {s.reviewers} reviewers"
        f" · {_alpha_short(s.alpha)}" + (f" · {s.flagged} flagged" if s.flagged else "")
        for s in sessions
    ]
    blocks += line_sections(QaBlocks.ROWS, lines, ROWS_MAX, more=lambda n: f"…and {n} more sessions")
    return message(f"Calibration report: pooled {_alpha_short(pooled_alpha)}", blocks)


def alpha_phrase(alpha: float | None) -> str:
    """Krippendorff's alpha in plain words: ≥ 0.8 good, 0.667-0.8 tentative, below that poor."""
    if alpha is None:
        return "α undefined: too few scores, or no variation between them to compare"
    shown = round(alpha, 3)
    if shown >= ALPHA_GOOD:
        words = "good agreement"
    elif shown >= ALPHA_TENTATIVE:
        words = "tentative agreement: usable, but worth a calibration talk"
    else:
        words = "poor agreement: reviewers read the rubric differently"
    return f"Krippendorff's α (ordinal) = *{shown:.3f}*: {words}"


def _alpha_short(alpha: float | None) -> str:
    if alpha is None:
        return "α undefined"
    shown = round(alpha, 3)
    words = "good" if shown >= ALPHA_GOOD else "tentative" if shown >= ALPHA_TENTATIVE else "poor"
    return f"α {shown:.3f} ({words})"
