"""The digest's details modal: every figure of the window as full tables.

Pure rendering like `bot.blocks.digest` (whose formatting it shares): a `DigestView` in, a modal view dict
out. Every list (metrics, channels, tiers, tags, breaches) is shown whole while it fits its character
budget, packed into 3000-character sections and ended with "…and N more" by whole lines; the budgets add
up to far fewer than Slack's 100 blocks per modal, and a final guard keeps it so.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.blocks.digest import (
    BLOCKS,
    LABEL_MAX,
    NO_DATA,
    ages_text,
    breach_line,
    by_count,
    details_value,
    freshness,
    metric_order,
    priority_label,
    speed_text,
    tag_text,
    title,
    trend_text,
    window_range,
)
from bot.blocks.ids import DigestBlocks, DigestViews
from bot.blocks.qa_text import line_sections, mrkdwn, plural
from bot.blocks.text import escape_mrkdwn, truncate
from bot.domain.digest import format_value
from bot.domain.digest_view import DigestView
from bot.domain.model import metric_label

MODAL_TITLE = "Digest details"
MODAL_MAX_BLOCKS = 100
NAME_MAX = 150  # a channel, tag or tier name in the modal
SUBJECT_MAX = 150
# Character budgets of each table (each packs into ceil(budget / ~2800) sections at most).
SLA_MAX = 9_000
SHORT_MAX = 3_000  # volume, speed, quality, escalation totals
CHANNELS_MAX = 12_000
TIERS_MAX = 12_000
TAGS_MAX = 45_000
BREACHES_MAX = 30_000


def digest_details_modal(view: DigestView) -> dict[str, Any]:
    """The details modal (`DigestViews.DETAILS`, close button only). `private_metadata` is the
    `DigestButtonValue` of the digest, so a later action on the modal knows its window."""
    fmt = BLOCKS
    f = view.figures
    header = truncate(title(view), 150)
    blocks: list[Block] = [
        HeaderBlock(block_id=DigestBlocks.HEADER, text=PlainTextObject(text=header, emoji=True)),
        ContextBlock(
            block_id=DigestBlocks.FOOTER,
            elements=[mrkdwn(escape_mrkdwn(window_range(view))), mrkdwn(freshness(view))],
        ),
    ]

    volume = [
        "*📥 Volume*",
        f"• New: {fmt.esc(trend_text(f.new), 200)}",
        f"• Solved: {fmt.esc(trend_text(f.solved), 200)}",
        f"• Reopened: {fmt.esc(trend_text(f.reopened), 200)}",
        f"• Backlog: {fmt.esc(trend_text(f.backlog), 200)}",
        f"• Backlog age: {ages_text(f.backlog_ages, fmt)}",
    ]
    blocks += line_sections(DigestBlocks.VOLUME, volume, SHORT_MAX)
    channels = [f"• {fmt.esc(name, NAME_MAX)}: {count:,}" for name, count in by_count(f.by_channel)]
    blocks += line_sections(DigestBlocks.CHANNELS, ["*By channel*", *(channels or [NO_DATA])], CHANNELS_MAX)

    sla = ["*⏱ SLA attainment*"]
    sla += [
        f"• {fmt.esc(metric_label(m), LABEL_MAX)}: {fmt.esc(trend_text(f.sla_attainment[m], unit='%'), 200)}"
        for m in metric_order(list(f.sla_attainment))
    ] or [NO_DATA]
    sla.append(f"*Breaches:* {fmt.esc(trend_text(f.breaches), 200)}")
    sla += [
        f"• {fmt.esc(priority_label(p), NAME_MAX)}: {count:,}"
        for p, count in by_count(f.breaches_by_priority)
    ]
    sla.append(f"*At risk now:* {'no data' if f.at_risk is None else format(f.at_risk, ',')}")
    blocks += line_sections(DigestBlocks.SLA, sla, SLA_MAX)

    breaches = [f"• {breach_line(b, fmt, subject_max=SUBJECT_MAX)}" for b in view.worst_breaches]
    blocks += line_sections(DigestBlocks.BREACHES, ["*Breaches*", *(breaches or [NO_DATA])], BREACHES_MAX)

    speed = ["*🏃 Speed*" + (" (business hours)" if view.business_hours else "")]
    for label, figures in (("First reply", f.first_reply), ("Full resolution", f.resolution)):
        speed.append(f"• {label}: {speed_text(figures, fmt, sep=' · ')}")
    blocks += line_sections(DigestBlocks.SPEED, speed, SHORT_MAX)

    quality = [
        "*⭐ Quality*",
        f"• CSAT: {fmt.esc(trend_text(f.csat, unit='%'), 200)} ({plural(f.csat_responses, 'response')})",
        f"• One-touch: {fmt.esc(trend_text(f.one_touch, unit='%'), 200)}",
    ]
    if f.qa_average is None and f.qa_pass_rate is None:
        quality.append("• QA: no QA reviews")
    else:
        average = fmt.esc(trend_text(f.qa_average, unit="%"), 200) if f.qa_average else NO_DATA
        passed = fmt.esc(trend_text(f.qa_pass_rate, unit="%"), 200) if f.qa_pass_rate else NO_DATA
        quality.append(f"• QA: average {average} · pass rate {passed} ({plural(f.qa_reviews, 'review')})")
    blocks += line_sections(DigestBlocks.QUALITY, quality, SHORT_MAX)

    e = f.escalations
    if e is None:
        blocks += line_sections(DigestBlocks.ESCALATIONS, ["*🆘 Escalations*", "no escalations"], SHORT_MAX)
    else:
        totals = [
            "*🆘 Escalations*",
            f"• Opened: {fmt.esc(trend_text(e.opened), 200)}",
            f"• Accepted: {fmt.esc(trend_text(e.accepted), 200)}",
            f"• Median time to accept: {fmt.esc(trend_text(e.median_time_to_accept), 200)}",
            f"• Still open: {e.still_open:,}",
        ]
        blocks += line_sections(DigestBlocks.ESCALATIONS, totals, SHORT_MAX)
        tiers = [
            f"• {fmt.esc(t.tier, NAME_MAX)}: {t.opened:,} opened · {t.accepted:,} accepted · "
            f"{t.still_open:,} still open · median accept "
            f"{fmt.esc(format_value(t.median_time_to_accept), 40) if t.median_time_to_accept else NO_DATA}"
            for t in e.tiers
        ]
        blocks += line_sections(DigestBlocks.TIERS, ["*By tier*", *(tiers or [NO_DATA])], TIERS_MAX)

    tags = f.tags
    tag_lines = [f"• {tag_text(t, fmt, NAME_MAX)}" for t in tags.top] if tags else []
    if tags is not None and tags.biggest_mover is not None:
        tag_lines.append(f"*Biggest mover:* {tag_text(tags.biggest_mover, fmt, NAME_MAX)}")
    blocks += line_sections(
        DigestBlocks.DRIVERS, ["*🏷 Contact drivers*", *(tag_lines or [NO_DATA])], TAGS_MAX
    )

    if len(blocks) > MODAL_MAX_BLOCKS:  # the budgets above keep this from happening; never fail on it
        more = SectionBlock(block_id=DigestBlocks.MORE, text=mrkdwn("…more figures than a modal can show"))
        blocks = [*blocks[: MODAL_MAX_BLOCKS - 1], more]
    modal = View(
        type="modal",
        callback_id=DigestViews.DETAILS,
        title=PlainTextObject(text=MODAL_TITLE),
        close=PlainTextObject(text="Close"),
        private_metadata=details_value(view).encode(),
        blocks=blocks,
    )
    return modal.to_dict()


def digest_loading_modal() -> dict[str, Any]:
    """Opened at once with the trigger_id (it lives 3 s), replaced by the details via views.update."""
    return View(
        type="modal",
        callback_id=DigestViews.DETAILS,
        title=PlainTextObject(text="Digest details"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=mrkdwn("⏳ Computing the full tables…"))],
    ).to_dict()
