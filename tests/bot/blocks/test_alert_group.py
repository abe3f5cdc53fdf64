from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.alert_group import (
    FALLBACK_TEXT_MAX,
    GROUP_ACK_ACTION_RE,
    GROUP_SIZE,
    MESSAGE_TEXT_BUDGET,
    AlertGroupView,
    chunk,
    group_ack_action_id,
    group_views,
    render_alert_group,
)
from bot.blocks.alerts import AlertView
from bot.blocks.ids import SlaActions, SlaBlocks
from bot.blocks.metadata import AlertButtonValue
from bot.domain.model import AlertKind, Source, TicketRef
from integrations.emulators.blockkit import validate_blocks

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday, 14:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
Checker = Callable[..., None]


def make_line(n: int = 101, **changes: Any) -> AlertView:
    line = AlertView(
        alert_id=n,
        ref=TicketRef(Source.ZENDESK, str(n)),
        kind=AlertKind.BREACH,
        metric="first_reply_time",
        threshold=None,
        subject=f"Refund {n} not received",
        priority="urgent",
        assignee_name="Alice Agent",
        team_name="billing",
        group_name=None,
        url=f"https://acme.zendesk.com/agent/tickets/{n}",
        due_at=NOW - timedelta(minutes=12),
        tz=BERLIN,
    )
    return dataclasses.replace(line, **changes)


def make_group(lines: list[AlertView] | None = None, **changes: Any) -> AlertGroupView:
    view = AlertGroupView(
        kind=AlertKind.BREACH,
        scope_label="billing",
        lines=tuple([make_line(101), make_line(102)] if lines is None else lines),
    )
    return dataclasses.replace(view, **changes)


def by_id(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    matches = [b for b in blocks if b.get("block_id") == block_id]
    assert len(matches) == 1, f"{block_id} not found once in {[b.get('block_id') for b in blocks]}"
    return matches[0]


def texts(obj: Any) -> Iterator[str]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from texts(value)


def assert_slack_accepts(message: Any, assert_valid_blocks: Checker) -> None:
    assert validate_blocks(message.blocks, surface="message") == []
    assert_valid_blocks(message.text, message.blocks)
    assert sum(len(t) for t in texts(message.blocks)) <= MESSAGE_TEXT_BUDGET


def test_render_alert_group_header_lines_and_footer(assert_valid_blocks: Checker) -> None:
    lines = [make_line(101), make_line(102, metric="next_reply_time", due_at=NOW - timedelta(days=2))]
    view = make_group(lines, part=2, parts=25, total=500)

    message = render_alert_group(view, now=NOW)

    assert_slack_accepts(message, assert_valid_blocks)
    assert [b["block_id"] for b in message.blocks] == [
        SlaBlocks.GROUP_HEADER,
        f"{SlaBlocks.GROUP_LINE}_101",
        f"{SlaBlocks.GROUP_LINE}_102",
        SlaBlocks.GROUP_FOOTER,
    ]
    header = by_id(message.blocks, SlaBlocks.GROUP_HEADER)["text"]
    assert header == {
        "type": "plain_text",
        "text": ":rotating_light: 500 SLA breaches · billing",
        "emoji": True,
    }
    first = by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_101")["text"]["text"]
    assert first == (
        "*<https://acme.zendesk.com/agent/tickets/101|zd:101>* · Refund 101 not received\n"
        "First reply · Urgent · Alice Agent · 13:48 CET (breached 12m ago)"
    )
    second = by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_102")["text"]["text"]
    assert second.endswith("Next reply · Urgent · Alice Agent · Sat 21 Nov 14:00 CET (breached 2d ago)")
    footer = by_id(message.blocks, SlaBlocks.GROUP_FOOTER)["elements"][0]["text"]
    assert footer == "Part 2 of 25 · use `/sla` for the full list"


def test_render_alert_group_warning_header_and_single_part_footer() -> None:
    lines = [make_line(n, kind=AlertKind.WARNING, due_at=NOW + timedelta(minutes=25)) for n in (1, 2)]

    message = render_alert_group(make_group(lines, kind=AlertKind.WARNING), now=NOW)

    assert (
        by_id(message.blocks, SlaBlocks.GROUP_HEADER)["text"]["text"]
        == ":warning: 2 tickets at risk · billing"
    )
    assert "14:25 CET (due in 25m)" in by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_1")["text"]["text"]
    footer = by_id(message.blocks, SlaBlocks.GROUP_FOOTER)["elements"][0]["text"]
    assert footer == "Use `/sla` for the full list"
    assert message.text == "2 tickets at risk in billing: zd:1, zd:2"


def test_render_alert_group_singular_header() -> None:
    message = render_alert_group(make_group([make_line(7)]), now=NOW)

    assert (
        by_id(message.blocks, SlaBlocks.GROUP_HEADER)["text"]["text"]
        == ":rotating_light: 1 SLA breach · billing"
    )


def test_render_alert_group_each_line_has_its_own_acknowledge() -> None:
    message = render_alert_group(make_group(), now=NOW)

    for alert_id in (101, 102):
        button = by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_{alert_id}")["accessory"]
        assert button["type"] == "button"
        assert button["text"]["text"] == "Acknowledge"
        assert button["style"] == "primary"
        assert button["action_id"] == group_ack_action_id(alert_id) == f"sla_group_acknowledge_{alert_id}"
        assert GROUP_ACK_ACTION_RE.match(button["action_id"])
        assert AlertButtonValue.decode(button["value"]).alert_id == alert_id
        assert "Refund" not in button["value"]


def test_group_ack_action_re_does_not_match_single_alert_ids() -> None:
    assert not GROUP_ACK_ACTION_RE.match(SlaActions.ACKNOWLEDGE)
    assert not GROUP_ACK_ACTION_RE.match(SlaActions.ACKNOWLEDGE_IN_GROUP)
    assert not GROUP_ACK_ACTION_RE.match(f"{SlaActions.ACKNOWLEDGE_IN_GROUP}_7_x")


def test_render_alert_group_acked_line_shows_context_and_no_button(assert_valid_blocks: Checker) -> None:
    lines = [make_line(101, acked_by="U123", acked_at=NOW + timedelta(minutes=7)), make_line(102)]

    message = render_alert_group(make_group(lines), now=NOW + timedelta(minutes=8))

    assert_slack_accepts(message, assert_valid_blocks)
    assert "accessory" not in by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_101")
    acked = by_id(message.blocks, f"{SlaBlocks.GROUP_ACKNOWLEDGED}_101")
    assert acked["type"] == "context"
    assert acked["elements"][0]["text"] == ":white_check_mark: Acknowledged by <@U123> at 14:07 CET"
    ids = [b["block_id"] for b in message.blocks]
    assert ids.index(f"{SlaBlocks.GROUP_ACKNOWLEDGED}_101") == ids.index(f"{SlaBlocks.GROUP_LINE}_101") + 1
    assert "accessory" in by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_102")


def test_render_alert_group_ack_changes_only_that_line() -> None:
    lines = [make_line(n) for n in range(1, 21)]
    before = render_alert_group(make_group(lines), now=NOW).blocks
    lines[6] = dataclasses.replace(lines[6], acked_by="U123", acked_at=NOW)

    after = render_alert_group(make_group(lines), now=NOW).blocks

    changed = f"{SlaBlocks.GROUP_LINE}_7"
    acked = f"{SlaBlocks.GROUP_ACKNOWLEDGED}_7"
    assert [b for b in after if b["block_id"] not in (changed, acked)] == [
        b for b in before if b["block_id"] != changed
    ]
    old_line, new_line = by_id(before, changed), by_id(after, changed)
    assert {k: v for k, v in old_line.items() if k != "accessory"} == new_line
    assert [b["block_id"] for b in after].count(acked) == 1


def test_render_alert_group_acked_on_earlier_day_and_escaped_user() -> None:
    lines = [make_line(1, acked_by="<!channel>", acked_at=NOW - timedelta(days=1))]

    message = render_alert_group(make_group(lines), now=NOW)

    text = by_id(message.blocks, f"{SlaBlocks.GROUP_ACKNOWLEDGED}_1")["elements"][0]["text"]
    assert text == ":white_check_mark: Acknowledged by &lt;!channel&gt; at Sun 22 Nov 14:00 CET"


def test_render_alert_group_line_uses_its_own_team_timezone() -> None:
    lines = [make_line(1), make_line(2, tz=ZoneInfo("America/New_York"))]

    message = render_alert_group(make_group(lines), now=NOW)

    assert "07:48 EST" in by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_2")["text"]["text"]


def test_render_alert_group_missing_optional_fields() -> None:
    line = make_line(1, priority=None, assignee_name=None, subject="  ", url="javascript:alert(1)")

    text = by_id(render_alert_group(make_group([line]), now=NOW).blocks, f"{SlaBlocks.GROUP_LINE}_1")

    assert text["text"]["text"] == (
        "*zd:1* · _(no subject)_\nFirst reply · Unassigned · 13:48 CET (breached 12m ago)"
    )


def test_render_alert_group_escapes_hostile_text(assert_valid_blocks: Checker) -> None:
    line = make_line(
        1,
        subject="<!channel> pay <https://evil.test|here> & win 🎉\nnow",
        assignee_name="<@U999>",
        priority="<x>",
        metric="<!here>",
    )

    message = render_alert_group(make_group([line], scope_label="<!channel> & co"), now=NOW)

    assert_slack_accepts(message, assert_valid_blocks)
    text = by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_1")["text"]
    assert text["verbatim"] is True
    assert "&lt;!channel&gt; pay &lt;https://evil.test|here&gt; &amp; win 🎉 now" in text["text"]
    assert "&lt;@U999&gt;" in text["text"]
    assert "<!" not in message.text and "&lt;!channel&gt; &amp; co" in message.text


def test_render_alert_group_fallback_lists_refs() -> None:
    lines = [make_line(n) for n in range(101, 121)]

    message = render_alert_group(make_group(lines, part=3, parts=25, total=500), now=NOW)

    assert message.text.startswith("500 SLA breaches in billing (part 3 of 25): zd:101, zd:102, ")
    assert message.text.endswith("zd:120")


def test_render_alert_group_fallback_lists_every_ref_within_budget() -> None:
    lines = [make_line(n, ref=TicketRef(Source.INTERCOM, str(10**19 + n))) for n in range(1, 21)]

    message = render_alert_group(make_group(lines, scope_label="&" * 500, total=10**9), now=NOW)

    assert len(message.text) <= FALLBACK_TEXT_MAX
    assert all(str(line.ref) in message.text for line in lines)


def worst_line(n: int, *, acked: bool) -> AlertView:
    return make_line(
        10**12 + n,
        ref=TicketRef(Source.INTERCOM, str(10**19 + n)),
        metric="custom_" + "x" * 500,
        subject=("<>&*_~`🎉" * 2000)[:10_000],
        priority="&" * 5000,
        assignee_name="<" * 5000,
        url="https://acme.zendesk.com/" + "a&" * 20 + "a" * 5,  # 150 characters once escaped: still linked
        due_at=NOW - timedelta(days=9999, hours=23),
        tz=ZoneInfo("America/Argentina/Buenos_Aires"),
        acked_by=("U" + "A" * 30) if acked else None,
        acked_at=(NOW - timedelta(days=3)) if acked else None,
    )


@pytest.mark.parametrize("acked", [False, True])
def test_render_alert_group_worst_case_twenty_lines_stay_within_limits(
    acked: bool, assert_valid_blocks: Checker
) -> None:
    lines = [worst_line(n, acked=acked) for n in range(GROUP_SIZE)]
    view = make_group(lines, scope_label="<&>" * 1000, part=25, parts=25, total=10**6)

    message = render_alert_group(view, now=NOW)

    assert_slack_accepts(message, assert_valid_blocks)
    assert len(message.blocks) == (2 + 2 * GROUP_SIZE if acked else 2 + GROUP_SIZE) <= 50
    assert len(by_id(message.blocks, SlaBlocks.GROUP_HEADER)["text"]["text"]) <= 150
    assert len(message.text) <= FALLBACK_TEXT_MAX
    for line in lines:
        text = by_id(message.blocks, f"{SlaBlocks.GROUP_LINE}_{line.alert_id}")["text"]["text"]
        assert f"|{line.ref}>" in text  # the link survives the hostile URL and the long id


def test_render_alert_group_overlong_url_shows_ref_unlinked() -> None:
    line = make_line(1, url="https://acme.zendesk.com/" + "a" * 3000)

    text = by_id(render_alert_group(make_group([line]), now=NOW).blocks, f"{SlaBlocks.GROUP_LINE}_1")

    assert text["text"]["text"].startswith("*zd:1* · ")


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"lines": ()}, "1 to 20 lines"),
        ({"lines": tuple(make_line(n) for n in range(21))}, "1 to 20 lines"),
        ({"lines": (make_line(1), make_line(1))}, "repeat"),
        ({"lines": (make_line(1, kind=AlertKind.WARNING),)}, "not a breach"),
        ({"part": 3, "parts": 2}, "part 3 of 2"),
        ({"part": 0}, "part 0"),
        ({"total": 1}, "less than"),
        ({"lines": (make_line(1, due_at=datetime(2026, 11, 23, 13, 0)),)}, "naive"),
        ({"lines": (make_line(1, acked_at=datetime(2026, 11, 23, 13, 0)),)}, "naive"),
    ],
)
def test_render_alert_group_rejects_bad_views(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        render_alert_group(make_group(**changes), now=NOW)


def test_render_alert_group_naive_now_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        render_alert_group(make_group(), now=datetime(2026, 11, 23, 13, 0))


@pytest.mark.parametrize("n", [1, 5, 19, 20, 21, 40, 41, 499, 500, 501])
def test_chunk_makes_ceil_n_over_20_parts_of_at_most_20(n: int) -> None:
    items = list(range(n))

    parts = chunk(items)

    assert len(parts) == math.ceil(n / 20)
    assert all(1 <= len(p) <= 20 for p in parts)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert [x for p in parts for x in p] == items


def test_chunk_balances_instead_of_leaving_a_lone_ticket() -> None:
    assert [len(p) for p in chunk(list(range(21)))] == [11, 10]
    assert chunk([]) == []
    with pytest.raises(ValueError, match="at least 1"):
        chunk([1], size=0)


def test_group_views_500_breaches_make_25_valid_posts(assert_valid_blocks: Checker) -> None:
    alerts = [make_line(n) for n in range(1, 501)]

    views = group_views(alerts, kind=AlertKind.BREACH, scope_label="billing")

    assert len(views) == 25
    assert [(v.part, v.parts, v.count) for v in views[:2]] == [(1, 25, 500), (2, 25, 500)]
    seen = [line.alert_id for v in views for line in v.lines]
    assert seen == list(range(1, 501))
    for view in views:
        assert_slack_accepts(render_alert_group(view, now=NOW), assert_valid_blocks)


def test_group_views_refuses_parts_larger_than_a_message_holds() -> None:
    with pytest.raises(ValueError, match="at most 20"):
        group_views([make_line(1)], kind=AlertKind.BREACH, scope_label="x", size=21)
