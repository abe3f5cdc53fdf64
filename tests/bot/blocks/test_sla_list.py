from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.ids import SlaBlocks
from bot.blocks.sla_list import SlaListRow, render_sla_list
from bot.domain.model import Source, TicketRef

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday, 14:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
Checker = Callable[..., None]


def make_row(n: int = 101, **changes: Any) -> SlaListRow:
    row = SlaListRow(
        ref=TicketRef(Source.ZENDESK, str(n)),
        subject=f"Subject {n}",
        url=f"https://acme.zendesk.com/agent/tickets/{n}",
        metric="first_reply_time",
        due_at=NOW + timedelta(minutes=25),
        breached=False,
        team_name="billing",
        assignee_name="Alice",
        priority="high",
    )
    return dataclasses.replace(row, **changes)


def row_sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b.get("block_id", "").startswith(f"{SlaBlocks.LIST_ROWS}_")]


def by_id(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == block_id)


def test_render_sla_list_title_counts_and_lines(assert_valid_blocks: Checker) -> None:
    rows = [
        make_row(101, breached=True, due_at=NOW - timedelta(minutes=12), metric="next_reply_time"),
        make_row(102),
        make_row(
            9001,
            ref=TicketRef(Source.INTERCOM, "9001"),
            url="https://app.intercom.com/c/9001",
            assignee_name=None,
        ),
    ]

    message = render_sla_list(rows, now=NOW, tz=BERLIN, scope_label="billing")

    assert_valid_blocks(message.text, message.blocks)
    assert message.text == "SLA status for billing: 1 breached, 2 at risk"
    assert by_id(message.blocks, SlaBlocks.LIST_HEADER)["text"]["text"] == "SLA status · billing"
    counts = by_id(message.blocks, SlaBlocks.LIST_COUNTS)["elements"][0]["text"]
    assert "*1 breached*" in counts and "*2 at risk*" in counts
    lines = "\n".join(row_sections(message.blocks)).split("\n")
    assert lines == [
        ":rotating_light: *<https://acme.zendesk.com/agent/tickets/101|zd:101>* Next reply · breached 12m ago"
        " (13:48 CET) · Alice · billing · High · Subject 101",
        ":warning: *<https://acme.zendesk.com/agent/tickets/102|zd:102>* First reply · due in 25m (14:25 CET)"
        " · Alice · billing · High · Subject 102",
        ":warning: *<https://app.intercom.com/c/9001|ic:9001>* First reply · due in 25m (14:25 CET)"
        " · Unassigned · billing · High · Subject 9001",
    ]
    assert all(b.get("block_id") != SlaBlocks.LIST_MORE for b in message.blocks)


def test_render_sla_list_keeps_given_order() -> None:
    rows = [make_row(3, due_at=NOW + timedelta(hours=3)), make_row(1, due_at=NOW + timedelta(hours=1))]

    text = row_sections(render_sla_list(rows, now=NOW, tz=BERLIN, scope_label="all teams").blocks)[0]

    assert text.index("zd:3") < text.index("zd:1")


def test_render_sla_list_other_day_shows_date() -> None:
    rows = [make_row(due_at=NOW + timedelta(days=1, hours=2))]

    text = row_sections(render_sla_list(rows, now=NOW, tz=BERLIN, scope_label="billing").blocks)[0]

    assert "due in 1d 2h (Tue 24 Nov 16:00 CET)" in text


def test_render_sla_list_empty_is_friendly(assert_valid_blocks: Checker) -> None:
    message = render_sla_list([], now=NOW, tz=BERLIN, scope_label="all teams")

    assert_valid_blocks(message.text, message.blocks)
    assert message.text == "No breached or at-risk tickets for all teams"
    assert [b["block_id"] for b in message.blocks] == [SlaBlocks.LIST_EMPTY]
    assert "No breached or at-risk tickets for *all teams*" in message.blocks[0]["text"]["text"]


def test_render_sla_list_beyond_limit_says_how_many_more(assert_valid_blocks: Checker) -> None:
    rows = [make_row(n, breached=n % 2 == 0) for n in range(1, 46)]

    message = render_sla_list(rows, now=NOW, tz=BERLIN, scope_label="billing", limit=40)

    assert_valid_blocks(message.text, message.blocks)
    text = "\n".join(row_sections(message.blocks))
    assert text.count("\n") + 1 == 40
    assert "zd:40>" in text and "zd:41>" not in text
    assert by_id(message.blocks, SlaBlocks.LIST_MORE)["elements"][0]["text"] == "…and 5 more"
    assert message.text == "SLA status for billing: 22 breached, 23 at risk"


def test_render_sla_list_packs_lines_into_sections_within_limit(assert_valid_blocks: Checker) -> None:
    rows = [make_row(n, subject="s" * 500, assignee_name="a" * 500) for n in range(40)]

    message = render_sla_list(rows, now=NOW, tz=BERLIN, scope_label="billing")

    assert_valid_blocks(message.text, message.blocks)
    sections = row_sections(message.blocks)
    assert 1 < len(sections) < 40
    assert sum(s.count("\n") + 1 for s in sections) == 40
    assert all(len(s) <= 3000 for s in sections)


def test_render_sla_list_worst_case_caps_blocks_and_counts_hidden(assert_valid_blocks: Checker) -> None:
    rows = [
        make_row(
            n,
            subject="<>&*_~`" * 2000,
            url="https://acme.zendesk.com/" + "&" * 980,
            assignee_name="<" * 3000,
            team_name="&" * 3000,
            priority="p" * 3000,
            metric="m" * 3000,
        )
        for n in range(1000)
    ]

    message = render_sla_list(rows, now=NOW, tz=BERLIN, scope_label="x" * 10_000, limit=1000)

    assert_valid_blocks(message.text, message.blocks)
    assert len(message.blocks) <= 50
    shown = sum(s.count("\n") + 1 for s in row_sections(message.blocks))
    more = by_id(message.blocks, SlaBlocks.LIST_MORE)["elements"][0]["text"]
    assert more == f"…and {1000 - shown} more"


def test_render_sla_list_escapes_text(assert_valid_blocks: Checker) -> None:
    rows = [make_row(subject="<!here> & <https://evil.test|x>", assignee_name="<@U1>")]

    message = render_sla_list(rows, now=NOW, tz=BERLIN, scope_label="<!channel>")

    assert_valid_blocks(message.text, message.blocks)
    text = row_sections(message.blocks)[0]
    assert "&lt;!here&gt; &amp; &lt;https://evil.test|x&gt;" in text
    assert "&lt;@U1&gt;" in text
    assert "<!channel>" not in message.text


def test_render_sla_list_naive_now_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        render_sla_list([make_row()], now=datetime(2026, 11, 23, 13, 0), tz=BERLIN, scope_label="billing")


def test_render_sla_list_naive_due_at_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        render_sla_list(
            [make_row(due_at=datetime(2026, 11, 23, 14, 0))], now=NOW, tz=BERLIN, scope_label="billing"
        )


def test_render_sla_list_rejects_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        render_sla_list([make_row()], now=NOW, tz=BERLIN, scope_label="billing", limit=0)


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51,
        [{"type": "section", "text": {"type": "mrkdwn", "text": "a <!channel>"}}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
    ],
)
def test_checker_rejects_invalid_messages(assert_valid_blocks: Checker, blocks: list[dict[str, Any]]) -> None:
    with pytest.raises(AssertionError):
        assert_valid_blocks("fallback", blocks)
