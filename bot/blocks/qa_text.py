"""Text helpers shared by the QA renderers (`qa_messages`, `qa_reports`, `qa_modal`): fixed budgets,
percent and day formats, category labels, ticket links and the packing of lines into sections.

Every piece of reviewer or helpdesk text goes through `mrkdwn_text` and is cut to a budget before it is
packed, so no helper ever cuts an escaped entity or a mention in half.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import Block, ButtonElement, MarkdownTextObject, PlainTextObject, SectionBlock

from bot.blocks.alerts import RenderedMessage
from bot.blocks.text import mrkdwn_link, mrkdwn_text, one_line
from bot.domain.model import TicketRef
from bot.domain.qa_types import Category, Rubric, ScoreResult, Scores

HEADER_MAX = 150
FALLBACK_TEXT_MAX = 300
SECTION_MAX = 3000
# Slack refuses messages whose blocks hold more than ~13k characters (`msg_blocks_too_long`, see
# alert_group.py); the fixed budgets of every QA message add up to well under this for the worst input.
MESSAGE_TEXT_BUDGET = 12_000
CATEGORIES_MAX = 3000  # all category lines of one message, over as many sections as they need
WORDS_MAX = 2000  # comment, coaching note, dispute reason, decision note (each)
LABEL_MAX = 80  # a category's label inside mrkdwn
LINK_URL_MAX = 300  # helpdesk URLs are ~60-110 characters; a longer one shows the ref unlinked
SUBJECT_MAX = 200
CRITICAL_MAX = 1500  # the failed critical categories named on one scorecard
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_percent(value: float) -> str:
    """`86%` for a whole number, else one decimal: `85.7%`."""
    rounded = round(value, 1)
    return f"{rounded:.0f}%" if rounded == int(rounded) else f"{rounded:.1f}%"


def plural(count: int, word: str) -> str:
    """`1 review`, `3 reviews`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_day(day: date) -> str:
    """`Mon 16 Nov`."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def label_text(category: Category) -> str:
    """The category's label, escaped for mrkdwn and cut."""
    return mrkdwn_text(one_line(category.label), LABEL_MAX) or mrkdwn_text(one_line(category.key), LABEL_MAX)


def weight_text(category: Category) -> str:
    return f"×{category.weight}" + (", critical" if category.critical else "")


def ticket_link(ref: TicketRef, url: str | None) -> str:
    return mrkdwn_link(url, str(ref), max_url_length=LINK_URL_MAX) if url else str(ref)


def ticket_line(ref: TicketRef, url: str | None, subject: str | None) -> str:
    """`*<url|zd:101>* · Zendesk`, then the subject on its own line when known."""
    line = f"*{ticket_link(ref, url)}* · {ref.source.label}"
    if subject and subject.strip():
        line += f"\n{mrkdwn_text(one_line(subject), SUBJECT_MAX)}"
    return line


def words_section(block_id: str, label: str, text: str) -> SectionBlock:
    """Reviewer or agent words, verbatim (escaped, line breaks kept), cut to WORDS_MAX."""
    body = mrkdwn_text(text.strip(), WORDS_MAX) if text.strip() else "_(nothing given)_"
    return SectionBlock(block_id=block_id, text=mrkdwn(f"*{label}*\n{body}"))


def line_sections(
    block_id: str,
    lines: Sequence[str],
    budget: int,
    *,
    more: Callable[[int], str] = lambda n: f"…and {n} more",
) -> list[SectionBlock]:
    """`lines` packed into sections of at most SECTION_MAX characters, numbered f"{block_id}_{n}",
    stopping with `more(left)` once `budget` characters are used. Each line must already be cut."""
    texts: list[str] = []
    current = ""
    used = 0
    for index, line in enumerate(lines):
        after = len(lines) - index - 1
        reserve = len(more(after)) + 1 if after else 0
        if used + len(line) + 1 + reserve > budget:
            current = _append(texts, current, more(after + 1))
            break
        current = _append(texts, current, line)
        used += len(line) + 1
    if current:
        texts.append(current)
    return [
        SectionBlock(block_id=f"{block_id}_{n}", text=mrkdwn(text)) for n, text in enumerate(texts, start=1)
    ]


def _append(texts: list[str], current: str, line: str) -> str:
    if len(line) > SECTION_MAX:
        raise ValueError(f"a line of {len(line)} characters cannot fit a section; cut its parts first")
    if not current:
        return line
    if len(current) + 1 + len(line) > SECTION_MAX:
        texts.append(current)
        return line
    return f"{current}\n{line}"


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=text, emoji=True), action_id=action_id, value=value, style=style
    )


def message(fallback: str, blocks: Sequence[Block]) -> RenderedMessage:
    return RenderedMessage(
        text=mrkdwn_text(one_line(fallback), FALLBACK_TEXT_MAX), blocks=[b.to_dict() for b in blocks]
    )


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: reviewer and helpdesk text must not be auto-linked into mentions.
    return MarkdownTextObject(text=text, verbatim=True)


def require_aware(dt: datetime | None, name: str) -> None:
    if dt is not None and (dt.tzinfo is None or dt.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")


def joined(pieces: Sequence[str], budget: int, separator: str) -> str:
    """`pieces` joined while they fit `budget`, then `and N more` (pieces are never cut)."""
    shown: list[str] = []
    used = 0
    for index, piece in enumerate(pieces):
        after = len(pieces) - index - 1
        reserve = len(separator) + len(f"and {after} more") if after else 0
        if used + len(piece) + reserve > budget:
            shown.append(f"and {after + 1} more")
            break
        shown.append(piece)
        used += len(piece) + len(separator)
    return separator.join(shown)


def category_lines(rubric: Rubric, scores: Scores, critical_failed: Sequence[str] = ()) -> list[str]:
    """`• *Correct resolution* (×3): *4*/5` per rubric category, in rubric order."""
    lines = []
    for category in rubric.categories:
        score = scores.get(category.key)
        shown = "n/a" if score is None else f"*{score}*/{rubric.scale}"
        flag = " 🚫" if category.key in critical_failed else ""
        lines.append(f"• *{label_text(category)}* ({weight_text(category)}): {shown}{flag}")
    return lines


def total_line(result: ScoreResult, pass_mark: int) -> str:
    verdict = "✅ PASS" if result.passed else "❌ FAIL"
    return f"*Score: {format_percent(result.percent)}* · {verdict} (pass mark {pass_mark}%)"


def critical_line(rubric: Rubric, scores: Scores, result: ScoreResult) -> str:
    """`🚫 Critical: Compliance (KYC/PCI) scored 1 → review scored 0`, or "" when no critical failed."""
    if not result.critical_failed:
        return ""
    named = []
    for key in result.critical_failed:
        category = rubric.category(key)
        label = label_text(category) if category else mrkdwn_text(one_line(key), LABEL_MAX)
        score = scores.get(key)
        named.append(f"{label} scored {score if score is not None else 'the lowest score'}")
    return f"🚫 *Critical:* {joined(named, CRITICAL_MAX, ', ')} → review scored 0"


def score_phrase(result: ScoreResult) -> str:
    """`86% PASS`, for fallbacks and one-line summaries."""
    return f"{format_percent(result.percent)} {'PASS' if result.passed else 'FAIL'}"
