"""Daily standup digest and weekly report: the Block Kit message and its plain-text fallback.

Pure rendering: a `DigestView` (figures already computed by `bot.domain.digest`) in, blocks or text out.
Both surfaces are drawn from the same content (`_parts`), so the fallback never says something the blocks
do not. Team, channel, tag, tier and metric names are untrusted text: each piece is escaped and cut to a
fixed budget *before* lines are assembled, and long lists are shortened by whole lines ("…and 12 more"),
so no cut ever lands inside an entity, a link or a digit run. Missing data says "no data", never 0.
The details modal (`bot.blocks.digest_details`) shows the full tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.ids import DigestActions, DigestBlocks
from bot.blocks.metadata import DigestButtonValue
from bot.blocks.qa_text import button, mrkdwn, plural
from bot.blocks.text import escape_mrkdwn, format_local, mrkdwn_link, mrkdwn_text, one_line, truncate
from bot.domain.digest import (
    AGE_1_TO_3D,
    AGE_OVER_3D,
    AGE_UNDER_1D,
    SpeedFigures,
    TagTrend,
    Trend,
    format_trend,
)
from bot.domain.digest_view import BreachLine, DigestKind, DigestView
from bot.domain.durations import format_duration
from bot.domain.model import Metric, metric_label

HEADER_MAX = 150
NARRATIVE_MAX = 1500
# Slack refuses messages whose blocks hold more than ~13k characters (`msg_blocks_too_long`, see
# alert_group.py); the budgets below add up to well under this for the worst input (tested).
MESSAGE_TEXT_BUDGET = 12_000
NAME_MAX = 60  # a channel, tag, tier or priority name in the message
LABEL_MAX = 80  # a metric label
LINK_URL_MAX = 300  # helpdesk URLs are ~60-110 characters; a longer one shows the ref unlinked
TOP_CHANNELS = 5
TOP_TAGS = 5
TOP_TIERS = 5
WORST_BREACHES = 5
SLA_METRIC_FIELDS = 6  # the SLA section also holds Breaches and At risk (10 fields at most)
NO_DATA = "no data"
DETAILS_BUTTON_TEXT = "Details"
DEFINITIONS_TEXT = "How these are counted"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_METRIC_ORDER = {m.value: n for n, m in enumerate(Metric)}
_EPSILON = timedelta(microseconds=1)


# --- formatting shared by the message, the fallback and the modal --------------------------------------


@dataclass(frozen=True)
class Formatter:
    """How untrusted text becomes output: escaped mrkdwn with `<url|label>` links (blocks), escaped text
    with "label (url)" (the `text` fallback, which Slack also reads as mrkdwn) or raw text (a terminal)."""

    escape: bool = True
    links: bool = True

    def esc(self, text: str, limit: int) -> str:
        """One line of `text`, escaped when needed and cut to `limit` characters (never mid-entity)."""
        flat = one_line(text)
        return mrkdwn_text(flat, limit) if self.escape else truncate(flat, limit)

    def link(self, url: str, label: str) -> str:
        if self.links:
            return mrkdwn_link(url, label, max_url_length=LINK_URL_MAX, max_label_length=NAME_MAX)
        shown = self.esc(label, NAME_MAX)
        if not url.strip():
            return shown
        return f"{shown} ({self.esc(url, 2000) if len(url) <= LINK_URL_MAX else 'link too long'})"


BLOCKS = Formatter()
FALLBACK = Formatter(links=False)
RAW = Formatter(escape=False, links=False)


def trend_text(t: Trend, unit: str = "") -> str:
    """`format_trend`, or "no data" when the window has no value (never an invented 0)."""
    return NO_DATA if t.current is None else format_trend(t, unit)


def team_zone(view: DigestView) -> tzinfo:
    return ZoneInfo(view.timezone)


def format_day(day: date) -> str:
    """`Mon 30 Nov`."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def window_label(view: DigestView) -> str:
    """`Mon 30 Nov` for a daily digest (its last day), `23–29 Nov` for a weekly one (end is exclusive)."""
    _require_aware(view.start, "start")
    _require_aware(view.end, "end")
    tz = team_zone(view)
    first = view.start.astimezone(tz).date()
    last = max(view.start, view.end - _EPSILON).astimezone(tz).date()
    if view.kind is DigestKind.DAILY or first == last:
        return format_day(last)
    if first.year != last.year:
        return f"{_day_month(first)} {first.year} – {_day_month(last)} {last.year}"
    if first.month != last.month:
        return f"{_day_month(first)} – {_day_month(last)}"
    return f"{first.day}–{last.day} {_MONTHS[last.month - 1]}"


def _day_month(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]}"


def title(view: DigestView) -> str:
    """`Billing · Daily standup · Mon 30 Nov` (plain text, at most HEADER_MAX characters)."""
    kind = "Daily standup" if view.kind is DigestKind.DAILY else "Weekly report"
    suffix = f" · {kind} · {window_label(view)}"
    team = one_line(view.team)
    team = team[:1].upper() + team[1:]  # team names are lower-case slugs: "billing" heads as "Billing"
    return truncate(team, HEADER_MAX - len(suffix)) + suffix


def window_range(view: DigestView) -> str:
    """`Mon 30 Nov 00:00 CET – Tue 1 Dec 00:00 CET`, the window in the team's timezone."""
    tz = team_zone(view)
    return f"{format_local(view.start, tz)} – {format_local(view.end, tz)}"


def freshness(view: DigestView) -> str:
    """`data synced 2 min ago` (synced_at against generated_at), `data never synced` when never."""
    if view.synced_at is None:
        return "data never synced"
    _require_aware(view.synced_at, "synced_at")
    if view.generated_at is None:
        return f"data synced {format_local(view.synced_at, team_zone(view))}"
    _require_aware(view.generated_at, "generated_at")
    age = view.generated_at - view.synced_at
    if age < timedelta(minutes=1):
        return "data synced just now"
    if age < timedelta(hours=1):
        return f"data synced {int(age.total_seconds()) // 60} min ago"
    return f"data synced {format_duration(age)} ago"


def metric_order(metrics: Sequence[str]) -> list[str]:
    """Known metrics in `Metric` order, then any others by name."""
    return sorted(metrics, key=lambda m: (_METRIC_ORDER.get(m, len(_METRIC_ORDER)), m))


def by_count(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Largest first, ties by name."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def priority_label(priority: str) -> str:
    return one_line(priority).replace("_", " ").capitalize()


def breach_line(b: BreachLine, fmt: Formatter, *, subject_max: int = 0) -> str:
    """`<url|zd:101> First reply · Urgent · 2h 5m late` (the subject appended when `subject_max`)."""
    pieces = [f"{fmt.link(b.url, b.ref)} {fmt.esc(metric_label(b.metric), LABEL_MAX)}"]
    if b.priority and b.priority.strip():
        pieces.append(fmt.esc(priority_label(b.priority), NAME_MAX))
    if b.overdue_seconds is None:
        pieces.append("breached")
    else:
        pieces.append(fmt.esc(f"{format_duration(timedelta(seconds=max(b.overdue_seconds, 0)))} late", 40))
    if subject_max and b.subject and b.subject.strip():
        pieces.append(fmt.esc(b.subject, subject_max))
    return " · ".join(pieces)


def speed_text(speed: SpeedFigures | None, fmt: Formatter, sep: str = "\n") -> str:
    if speed is None or (speed.median.current is None and speed.p90.current is None):
        return NO_DATA
    median = fmt.esc(trend_text(speed.median), 200)
    p90 = fmt.esc(trend_text(speed.p90), 200)
    return f"median {median}{sep}p90 {p90}{sep}{plural(speed.count, 'ticket')}"


def tag_text(tag: TagTrend, fmt: Formatter, name_max: int = NAME_MAX) -> str:
    return f"{fmt.esc(tag.tag, name_max)} {fmt.esc(trend_text(tag.trend), 200)}"


def ages_text(ages: Mapping[str, int], fmt: Formatter) -> str:
    if not ages:
        return NO_DATA
    return fmt.esc(
        " · ".join(f"{key} {ages.get(key, 0):,}" for key in (AGE_UNDER_1D, AGE_1_TO_3D, AGE_OVER_3D)), 200
    )


def counts_text(counts: Mapping[str, int], fmt: Formatter, top: int, *, label: Any = None) -> str:
    """`email 80 · chat 40 · and 3 more`: the `top` largest (names cut, so it stays short)."""
    ranked = by_count(counts)
    if not ranked:
        return NO_DATA
    show = label or (lambda name: name)
    pieces = [f"{fmt.esc(show(name), NAME_MAX)} {count:,}" for name, count in ranked[:top]]
    if len(ranked) > top:
        pieces.append(f"and {len(ranked) - top} more")
    return " · ".join(pieces)


def details_value(view: DigestView) -> DigestButtonValue:
    """What the Details button (and the modal's private_metadata) carries: team, schedule, window."""
    return DigestButtonValue(team=view.team, schedule=view.schedule, start=view.start, end=view.end)


# --- content ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """One section: labelled fields, and optionally a titled list of lines under them."""

    block_id: str
    heading: str
    fields: tuple[tuple[str, str], ...] = ()
    list_id: str = ""
    list_title: str = ""
    lines: tuple[str, ...] = ()


def _parts(view: DigestView, fmt: Formatter) -> list[_Part]:
    f = view.figures
    volume_empty = all(t.current is None for t in (f.new, f.solved, f.reopened, f.backlog))
    volume = (
        ()
        if volume_empty and not f.backlog_ages and not f.by_channel
        else (
            ("New", fmt.esc(trend_text(f.new), 200)),
            ("Solved", fmt.esc(trend_text(f.solved), 200)),
            ("Reopened", fmt.esc(trend_text(f.reopened), 200)),
            ("Backlog", fmt.esc(trend_text(f.backlog), 200)),
            ("Backlog age", ages_text(f.backlog_ages, fmt)),
            ("By channel", counts_text(f.by_channel, fmt, TOP_CHANNELS)),
        )
    )
    parts = [_Part(DigestBlocks.VOLUME, "📥 Volume", volume)]

    metrics = metric_order(list(f.sla_attainment))
    sla: list[tuple[str, str]] = [
        (fmt.esc(metric_label(m), LABEL_MAX), fmt.esc(trend_text(f.sla_attainment[m], unit="%"), 200))
        for m in metrics[:SLA_METRIC_FIELDS]
    ]
    if len(metrics) > SLA_METRIC_FIELDS:
        sla.append(("More metrics", f"and {len(metrics) - SLA_METRIC_FIELDS} more (see Details)"))
    has_sla = bool(metrics) or f.breaches.current is not None or f.at_risk or view.worst_breaches
    if has_sla:
        breaches = fmt.esc(trend_text(f.breaches), 200)
        if f.breaches_by_priority:
            breaches += "\n" + counts_text(f.breaches_by_priority, fmt, 4, label=priority_label)
        sla += [("Breaches", breaches), ("At risk now", "no data" if f.at_risk is None else f"{f.at_risk:,}")]
    worst = tuple(f"• {breach_line(b, fmt)}" for b in view.worst_breaches[:WORST_BREACHES])
    parts.append(_Part(DigestBlocks.SLA, "⏱ SLA", tuple(sla), DigestBlocks.BREACHES, "Worst breaches", worst))

    speed = ()
    if f.first_reply is not None or f.resolution is not None:
        speed = (
            ("First reply", speed_text(f.first_reply, fmt)),
            ("Full resolution", speed_text(f.resolution, fmt)),
        )
    heading = "🏃 Speed" + (" (business hours)" if view.business_hours else "")
    parts.append(_Part(DigestBlocks.SPEED, heading, speed))

    qa = "no QA reviews"
    if f.qa_average is not None or f.qa_pass_rate is not None:
        average = fmt.esc(trend_text(f.qa_average or Trend(None), unit="%"), 200)
        passed = fmt.esc(trend_text(f.qa_pass_rate or Trend(None), unit="%"), 200)
        qa = f"average {average}\npass rate {passed}\n{plural(f.qa_reviews, 'review')}"
    csat = NO_DATA
    if f.csat.current is not None:
        csat = f"{fmt.esc(trend_text(f.csat, unit='%'), 200)}\n{plural(f.csat_responses, 'response')}"
    quality = (("CSAT", csat), ("One-touch", fmt.esc(trend_text(f.one_touch, unit="%"), 200)), ("QA", qa))
    if (
        f.csat.current is None
        and f.one_touch.current is None
        and f.qa_average is None
        and f.qa_pass_rate is None
    ):
        quality = ()
    parts.append(_Part(DigestBlocks.QUALITY, "⭐ Quality", quality))

    e = f.escalations
    escalations: tuple[tuple[str, str], ...] = (("Escalations", "no escalations"),)
    if e is not None:
        tiers = [
            f"{fmt.esc(t.tier, NAME_MAX)}: {t.opened:,} opened, {t.accepted:,} accepted, "
            f"{t.still_open:,} open"
            for t in e.tiers[:TOP_TIERS]
        ]
        if len(e.tiers) > TOP_TIERS:
            tiers.append(f"and {len(e.tiers) - TOP_TIERS} more")
        escalations = (
            ("Opened", fmt.esc(trend_text(e.opened), 200)),
            ("Accepted", fmt.esc(trend_text(e.accepted), 200)),
            ("Median time to accept", fmt.esc(trend_text(e.median_time_to_accept), 200)),
            ("Still open", f"{e.still_open:,}"),
            ("By tier", "\n".join(tiers) if tiers else NO_DATA),
        )
    parts.append(_Part(DigestBlocks.ESCALATIONS, "🆘 Escalations", escalations))

    tags = f.tags
    lines: tuple[str, ...] = ()
    if tags is not None and tags.top:
        lines = tuple(f"• {tag_text(t, fmt)}" for t in tags.top[:TOP_TAGS])
        if tags.biggest_mover is not None:
            lines += (f"Biggest mover: {tag_text(tags.biggest_mover, fmt)}",)
    parts.append(_Part(DigestBlocks.DRIVERS, "🏷 Contact drivers", list_id=DigestBlocks.DRIVERS, lines=lines))
    return parts


# --- message ------------------------------------------------------------------------------------------


def digest_blocks(view: DigestView) -> list[dict[str, Any]]:
    """The digest message's blocks: header, narrative, one section per area, footer, Details button."""
    blocks: list[Block] = [
        HeaderBlock(block_id=DigestBlocks.HEADER, text=PlainTextObject(text=title(view), emoji=True)),
        SectionBlock(
            block_id=DigestBlocks.NARRATIVE,
            text=mrkdwn(mrkdwn_text(" ".join(one_line(s) for s in view.narrative), NARRATIVE_MAX) or NO_DATA),
        ),
    ]
    for part in _parts(view, BLOCKS):
        blocks += _part_blocks(part)
    footer = [mrkdwn(escape_mrkdwn(window_range(view))), mrkdwn(freshness(view))]
    definitions = mrkdwn_link(view.definitions_url, DEFINITIONS_TEXT, max_url_length=1000)
    if definitions != DEFINITIONS_TEXT:  # only a usable URL becomes a link
        footer.insert(0, mrkdwn(definitions))
    blocks.append(ContextBlock(block_id=DigestBlocks.FOOTER, elements=footer))
    details = button(DETAILS_BUTTON_TEXT, DigestActions.DETAILS, details_value(view).encode())
    blocks.append(ActionsBlock(block_id=DigestBlocks.ACTIONS, elements=[details]))
    return [block.to_dict() for block in blocks]


def _part_blocks(part: _Part) -> list[Block]:
    heading = f"*{part.heading}*"
    if part.list_id == part.block_id:  # a list-only section
        body = "\n".join(part.lines) if part.lines else f"_{NO_DATA}_"
        return [SectionBlock(block_id=part.block_id, text=mrkdwn(f"{heading}\n{body}"))]
    if not part.fields:
        return [SectionBlock(block_id=part.block_id, text=mrkdwn(f"{heading}\n_{NO_DATA}_"))]
    fields = [mrkdwn(f"*{label}*\n{value}") for label, value in part.fields]
    blocks: list[Block] = [SectionBlock(block_id=part.block_id, text=mrkdwn(heading), fields=fields)]
    if part.lines:
        text = f"*{part.list_title}*\n" + "\n".join(part.lines)
        blocks.append(SectionBlock(block_id=part.list_id, text=mrkdwn(text)))
    return blocks


# --- plain text ---------------------------------------------------------------------------------------


def digest_text(view: DigestView, *, escape: bool = True) -> str:
    """The same content as plain lines: the `text` of chat.postMessage and `digest send --dry-run`.

    Links read "zd:101 (url)". Slack reads a message's `text` as mrkdwn, so `&`, `<` and `>` are escaped
    by default; `escape=False` gives raw text for a terminal.
    """
    fmt = FALLBACK if escape else RAW
    lines = [fmt.esc(title(view), HEADER_MAX), fmt.esc(" ".join(view.narrative), NARRATIVE_MAX), ""]
    for part in _parts(view, fmt):
        lines.append(part.heading.split(" ", 1)[1])
        if part.list_id != part.block_id and not part.fields:
            lines.append(f"  {NO_DATA}")
        for label, value in part.fields:
            lines.append(f"  {label}: {value.replace(chr(10), '; ')}")
        if part.lines:
            if part.list_title:
                lines.append(f"  {part.list_title}:")
            lines += [f"  {line}" for line in part.lines]
        elif part.list_id == part.block_id:
            lines.append(f"  {NO_DATA}")
    lines.append("")
    if view.definitions_url.strip():
        lines.append(f"{DEFINITIONS_TEXT}: {fmt.esc(view.definitions_url, 1000)}")
    lines.append(f"{fmt.esc(window_range(view), 200)} · {freshness(view)}")
    return "\n".join(lines)


def _require_aware(dt: datetime | None, name: str) -> None:
    if dt is not None and (dt.tzinfo is None or dt.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")
