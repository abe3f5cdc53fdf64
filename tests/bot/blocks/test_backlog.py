from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.backlog import BACKLOG_SHOWN, BacklogItem, BacklogView, render_backlog_summary
from bot.blocks.ids import SlaBlocks
from bot.domain.model import Source, TicketRef
from integrations.emulators.blockkit import validate_blocks

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday, 14:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
Checker = Callable[..., None]


def make_item(n: int, **changes: Any) -> BacklogItem:
    item = BacklogItem(
        ref=TicketRef(Source.ZENDESK, str(n)),
        url=f"https://acme.zendesk.com/agent/tickets/{n}",
        subject=f"Old ticket {n}",
        metric="first_reply_time",
        due_at=NOW - timedelta(days=2, hours=n),
    )
    return dataclasses.replace(item, **changes)


def make_view(initial: list[BacklogItem], **changes: Any) -> BacklogView:
    view = BacklogView(
        scope_label="billing",
        total=len(initial),
        items=tuple(initial),
        older_than=timedelta(hours=24),
        tz=BERLIN,
    )
    return dataclasses.replace(view, **changes)


def rows(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["block_id"].startswith(f"{SlaBlocks.BACKLOG_ROWS}_")]


def by_id(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == block_id)


def assert_slack_accepts(message: Any, assert_valid_blocks: Checker) -> None:
    assert validate_blocks(message.blocks, surface="message") == []
    assert_valid_blocks(message.text, message.blocks)


def test_render_backlog_summary_count_oldest_ten_and_more(assert_valid_blocks: Checker) -> None:
    items = [make_item(n) for n in range(1, 31)]  # item 30 breached longest ago

    message = render_backlog_summary(make_view(items, total=137), now=NOW)

    assert_slack_accepts(message, assert_valid_blocks)
    header = by_id(message.blocks, SlaBlocks.BACKLOG_HEADER)["text"]["text"]
    assert header == ":clipboard: SLA backlog: 137 tickets breached more than 24h ago"
    shown = rows(message.blocks)
    assert len(shown) == BACKLOG_SHOWN == 10
    assert shown[0].startswith("*<https://acme.zendesk.com/agent/tickets/30|zd:30>* · First reply · ")
    assert [int(r.split("|zd:")[1].split(">")[0]) for r in shown] == list(range(30, 20, -1))
    assert shown[0] == (
        "*<https://acme.zendesk.com/agent/tickets/30|zd:30>* · First reply · "
        "breached 3d 6h ago (Fri 20 Nov 08:00 CET)\nOld ticket 30"
    )
    more = by_id(message.blocks, SlaBlocks.BACKLOG_MORE)["elements"][0]["text"]
    assert more == "…and 127 more: run `/sla` in this channel to see all"
    intro = by_id(message.blocks, SlaBlocks.BACKLOG_INTRO)["elements"][0]["text"]
    assert "*billing*" in intro


def test_render_backlog_summary_fallback_lists_refs_and_count() -> None:
    items = [make_item(n) for n in range(1, 13)]

    message = render_backlog_summary(make_view(items), now=NOW)

    assert message.text == (
        "SLA backlog in billing: 12 tickets breached more than 24h ago: "
        "zd:12, zd:11, zd:10, zd:9, zd:8, zd:7, zd:6, zd:5, zd:4, zd:3, … (+2 more)"
    )


def test_render_backlog_summary_few_items_shows_all_without_more() -> None:
    message = render_backlog_summary(make_view([make_item(1)]), now=NOW)

    assert len(rows(message.blocks)) == 1
    header = by_id(message.blocks, SlaBlocks.BACKLOG_HEADER)["text"]["text"]
    assert header == ":clipboard: SLA backlog: 1 ticket breached more than 24h ago"
    more = by_id(message.blocks, SlaBlocks.BACKLOG_MORE)["elements"][0]["text"]
    assert more.startswith("Run `/sla` in this channel")
    assert "(+" not in message.text


@pytest.mark.parametrize(
    ("older_than", "shown"),
    [
        (timedelta(hours=24), "24h"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=7), "7d"),
        (timedelta(minutes=90), "1h 30m"),
    ],
)
def test_render_backlog_summary_threshold_wording(older_than: timedelta, shown: str) -> None:
    message = render_backlog_summary(make_view([make_item(1)], older_than=older_than), now=NOW)

    assert by_id(message.blocks, SlaBlocks.BACKLOG_HEADER)["text"]["text"].endswith(f"more than {shown} ago")


def test_render_backlog_summary_hostile_input(
    assert_valid_blocks: Checker, assert_safe_text: Checker
) -> None:
    items = [
        make_item(
            n,
            ref=TicketRef(Source.INTERCOM, str(10**19 + n)),
            subject=("<!channel> &<>*_🎉\n" * 2000)[:10_000],
            metric="<!here>" * 100,
            url=["javascript:alert(1)", "https://x.test/" + "a" * 5000, "https://x.test/a|b>c"][n % 3],
        )
        for n in range(50)
    ]
    view = make_view(items, total=10**6, scope_label="<!channel> & " * 200)

    message = render_backlog_summary(view, now=NOW)

    assert_slack_accepts(message, assert_valid_blocks)
    assert len(message.blocks) == 3 + BACKLOG_SHOWN
    assert len(message.text) <= 1000
    assert_safe_text(message.text)
    assert all("<!channel>" not in r and "javascript" not in r for r in rows(message.blocks))
    assert any("https://x.test/a%7Cb&gt;c|" in r for r in rows(message.blocks))


def test_render_backlog_summary_missing_subject() -> None:
    message = render_backlog_summary(make_view([make_item(1, subject="")], scope_label=""), now=NOW)

    assert rows(message.blocks)[0].endswith("\n_(no subject)_")
    assert "this channel" in by_id(message.blocks, SlaBlocks.BACKLOG_INTRO)["elements"][0]["text"]
    assert message.text.startswith("SLA backlog: 1 ticket")


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"items": ()}, "at least one"),
        ({"total": 0}, "less than"),
        ({"items": (make_item(1, due_at=datetime(2026, 11, 20, 8, 0)),)}, "naive"),
    ],
)
def test_render_backlog_summary_rejects_bad_views(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        render_backlog_summary(make_view([make_item(1)], **changes), now=NOW)
