from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.alerts import AlertView, render_alert
from bot.blocks.ids import SlaActions, SlaBlocks
from bot.blocks.metadata import AlertButtonValue
from bot.domain.model import AlertKind, Source, TicketRef

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday, 14:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
URL = "https://acme.zendesk.com/agent/tickets/101"


def make_view(**changes: Any) -> AlertView:
    view = AlertView(
        alert_id=7,
        ref=TicketRef(Source.ZENDESK, "101"),
        kind=AlertKind.BREACH,
        metric="first_reply_time",
        threshold=None,
        subject="Refund not received",
        priority="urgent",
        assignee_name="Alice Agent",
        team_name="billing",
        group_name="Billing L2",
        url=URL,
        due_at=NOW - timedelta(minutes=12),
        tz=BERLIN,
    )
    return dataclasses.replace(view, **changes)


def block(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    matches = [b for b in blocks if b.get("block_id") == block_id]
    assert len(matches) == 1, f"{block_id} not found once in {[b.get('block_id') for b in blocks]}"
    return matches[0]


def all_text(blocks: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for b in blocks:
        if "text" in b:
            parts.append(b["text"]["text"])
        parts += [f["text"] for f in b.get("fields", [])]
        parts += [e["text"]["text"] if e["type"] == "button" else e["text"] for e in b.get("elements", [])]
    return "\n".join(parts)


Checker = Callable[..., None]


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for e in block(blocks, SlaBlocks.ACTIONS)["elements"]}


def test_render_alert_breach_has_header_ref_link_and_fields(assert_valid_blocks: Checker) -> None:
    message = render_alert(make_view(), now=NOW)

    assert_valid_blocks(message.text, message.blocks)
    header = block(message.blocks, SlaBlocks.HEADER)
    assert header["type"] == "header"
    assert header["text"]["text"] == ":rotating_light: SLA breached · First reply"
    summary = block(message.blocks, SlaBlocks.SUMMARY)["text"]["text"]
    assert f"<{URL}|zd:101>" in summary
    assert "Zendesk" in summary
    assert "Refund not received" in summary
    fields = [f["text"] for f in block(message.blocks, SlaBlocks.DETAILS)["fields"]]
    assert fields == [
        "*Due*\nMon 23 Nov 13:48 CET\nbreached 12m ago",
        "*Metric*\nFirst reply",
        "*Priority*\nUrgent",
        "*Assignee*\nAlice Agent",
        "*Team*\nbilling (Billing L2)",
    ]


def test_render_alert_warning_shows_due_in_and_threshold(assert_valid_blocks: Checker) -> None:
    view = make_view(
        kind=AlertKind.WARNING, threshold=timedelta(minutes=30), due_at=NOW + timedelta(minutes=25)
    )

    message = render_alert(view, now=NOW)

    assert_valid_blocks(message.text, message.blocks)
    assert block(message.blocks, SlaBlocks.HEADER)["text"]["text"] == ":warning: SLA at risk · First reply"
    text = all_text(message.blocks)
    assert "Mon 23 Nov 14:25 CET\ndue in 25m" in text
    assert "warning 30m before due" in text
    assert message.text == "SLA at risk: zd:101 First reply - Refund not received"


def test_render_alert_due_time_uses_team_timezone() -> None:
    message = render_alert(make_view(tz=ZoneInfo("America/New_York")), now=NOW)

    assert "Mon 23 Nov 07:48 EST" in all_text(message.blocks)


def test_render_alert_intercom_ref_and_label() -> None:
    view = make_view(ref=TicketRef(Source.INTERCOM, "9001"), url="https://app.intercom.com/a/inbox/x/9001")

    summary = block(render_alert(view, now=NOW).blocks, SlaBlocks.SUMMARY)["text"]["text"]

    assert summary.startswith("*<https://app.intercom.com/a/inbox/x/9001|ic:9001>* · Intercom\n")


def test_render_alert_buttons_ids_value_and_url() -> None:
    message = render_alert(make_view(), now=NOW)

    by_id = buttons(message.blocks)
    assert list(by_id) == [SlaActions.ACKNOWLEDGE, SlaActions.OPEN_TICKET]
    ack = by_id[SlaActions.ACKNOWLEDGE]
    assert ack["text"]["text"] == "Acknowledge"
    assert ack["style"] == "primary"
    assert AlertButtonValue.decode(ack["value"]).alert_id == 7
    open_ticket = by_id[SlaActions.OPEN_TICKET]
    assert open_ticket["text"]["text"] == "Open ticket"
    assert open_ticket["url"] == URL
    assert "value" not in open_ticket


def test_render_alert_button_value_carries_no_ticket_text() -> None:
    message = render_alert(make_view(subject="Card 4111 for jane@example.com"), now=NOW)

    value = buttons(message.blocks)[SlaActions.ACKNOWLEDGE]["value"]
    assert "jane" not in value and "Refund" not in value and "zd" not in value


def test_render_alert_fallback_text_for_breach() -> None:
    message = render_alert(make_view(), now=NOW)

    assert message.text == "SLA breached: zd:101 First reply - Refund not received"


def test_render_alert_acked_replaces_button_with_context(assert_valid_blocks: Checker) -> None:
    view = make_view(acked_by="U123", acked_at=NOW + timedelta(minutes=7))

    message = render_alert(view, now=NOW + timedelta(minutes=8))

    assert_valid_blocks(message.text, message.blocks)
    assert list(buttons(message.blocks)) == [SlaActions.OPEN_TICKET]
    ack = block(message.blocks, SlaBlocks.ACKNOWLEDGED)
    assert ack["type"] == "context"
    assert ack["elements"][0]["text"] == ":white_check_mark: Acknowledged by <@U123> at 14:07 CET"
    assert all("value" not in e for b in message.blocks for e in b.get("elements", []))


def test_render_alert_acked_on_earlier_day_shows_date() -> None:
    view = make_view(acked_by="U123", acked_at=NOW - timedelta(days=1))

    ack = block(render_alert(view, now=NOW).blocks, SlaBlocks.ACKNOWLEDGED)

    assert ack["elements"][0]["text"].endswith("at Sun 22 Nov 14:00 CET")


def test_render_alert_acked_without_usable_url_has_no_actions_block(assert_valid_blocks: Checker) -> None:
    view = make_view(acked_by="U123", acked_at=NOW, url="not a url")

    message = render_alert(view, now=NOW)

    assert_valid_blocks(message.text, message.blocks)
    assert all(b["type"] != "actions" for b in message.blocks)
    assert "<not a url" not in all_text(message.blocks)


def test_render_alert_acked_by_non_user_id_is_escaped() -> None:
    view = make_view(acked_by="<!channel>", acked_at=NOW)

    text = block(render_alert(view, now=NOW).blocks, SlaBlocks.ACKNOWLEDGED)["elements"][0]["text"]

    assert "&lt;!channel&gt;" in text


def test_render_alert_missing_optional_fields() -> None:
    view = make_view(priority=None, assignee_name=None, team_name=None, group_name=None)

    fields = [f["text"] for f in block(render_alert(view, now=NOW).blocks, SlaBlocks.DETAILS)["fields"]]

    assert "*Priority*\n—" in fields
    assert "*Assignee*\nUnassigned" in fields
    assert "*Team*\n—" in fields


def test_render_alert_escapes_subject_and_names(
    assert_valid_blocks: Checker, assert_safe_text: Checker
) -> None:
    view = make_view(
        subject="<!channel> pay <https://evil.test|here> & win",
        assignee_name="<@U999>",
        team_name="a&b",
        priority="<x>",
    )

    message = render_alert(view, now=NOW)

    assert_valid_blocks(message.text, message.blocks)
    text = all_text(message.blocks)
    assert "&lt;!channel&gt; pay &lt;https://evil.test|here&gt; &amp; win" in text
    assert "&lt;@U999&gt;" in text
    assert "a&amp;b" in text
    assert "<!channel>" not in message.text
    assert_safe_text(message.text)


def test_render_alert_subject_newlines_collapsed() -> None:
    summary = block(render_alert(make_view(subject="line1\n\nline2"), now=NOW).blocks, SlaBlocks.SUMMARY)

    assert summary["text"]["text"].endswith("\nline1 line2")


@pytest.mark.parametrize("url_length", [2999, 3000, 3001, 10_000])
def test_render_alert_worst_case_inputs_stay_within_limits(
    url_length: int, assert_valid_blocks: Checker
) -> None:
    url = "https://acme.zendesk.com/" + "a&<|" * (url_length // 4)
    url = url[:url_length]
    view = make_view(
        kind=AlertKind.WARNING,
        threshold=timedelta(days=3, hours=4),
        metric="custom_" + "x" * 500,
        subject=("<>&*_~`" * 1500)[:10_000],
        priority="p" * 5000,
        assignee_name="Assignee " * 1000,
        team_name="&" * 3000,
        group_name="<" * 3000,
        url=url,
        acked_by="U" + "A" * 5000,
        acked_at=NOW,
    )

    message = render_alert(view, now=NOW)

    assert_valid_blocks(message.text, message.blocks)
    assert len(message.text) <= 300
    open_buttons = [b for b in message.blocks if b["type"] == "actions"]
    if url_length <= 3000:
        assert buttons(message.blocks)[SlaActions.OPEN_TICKET]["url"] == url
    else:
        assert open_buttons == []


def test_render_alert_worst_case_unacked_keeps_acknowledge_button(assert_valid_blocks: Checker) -> None:
    view = make_view(subject="&" * 10_000, assignee_name="<" * 10_000, url="https://x.test/" + "a" * 2985)

    message = render_alert(view, now=NOW)

    assert_valid_blocks(message.text, message.blocks)
    assert list(buttons(message.blocks)) == [SlaActions.ACKNOWLEDGE, SlaActions.OPEN_TICKET]
    summary = block(message.blocks, SlaBlocks.SUMMARY)["text"]["text"]
    assert summary.endswith("…")
    assert "zd:101" in summary


@pytest.mark.parametrize(
    "changes",
    [
        {"due_at": datetime(2026, 11, 23, 13, 0)},
        {"acked_by": "U1", "acked_at": datetime(2026, 11, 23, 13, 0)},
    ],
)
def test_render_alert_naive_datetimes_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="naive"):
        render_alert(make_view(**changes), now=NOW)


def test_render_alert_naive_now_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        render_alert(make_view(), now=datetime(2026, 11, 23, 13, 0))
