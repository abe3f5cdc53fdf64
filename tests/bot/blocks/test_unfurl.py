"""The ticket link unfurl card: pure rendering, Slack's limits, ids and button values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.ids import SlaActions, UnfurlActions, UnfurlBlocks
from bot.blocks.metadata import AlertButtonValue, InvalidButtonValue
from bot.blocks.unfurl import (
    UnfurlButtonValue,
    UnfurlDeadline,
    UnfurlEscalation,
    UnfurlView,
    render_unfurl,
)
from bot.domain.model import TicketRef
from bot.domain.sla import SlaStatus
from integrations.emulators.blockkit import validate_blocks

NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
URL = "https://acme.zendesk.com/agent/tickets/101"


def _view(**overrides) -> UnfurlView:
    values = dict(
        ref=TicketRef.parse("zd:101"),
        url=URL,
        subject="Card payment declined twice at checkout",
        status="open",
        priority="urgent",
        assignee_name="Ana Ruiz",
        team_name="billing",
        group_name="Billing",
        tz=ZoneInfo("UTC"),
        deadline=UnfurlDeadline("first_reply_time", NOW - timedelta(minutes=12), SlaStatus.BREACHED),
        ack_alert_id=7,
        escalate=True,
    )
    values.update(overrides)
    return UnfurlView(**values)


def _text(unfurl: dict) -> str:
    return repr(unfurl["blocks"])


def _buttons(unfurl: dict) -> list[dict]:
    return [e for b in unfurl["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_card_shows_subject_status_priority_assignee_team_and_deadline(assert_valid_blocks) -> None:
    unfurl = render_unfurl(_view(), now=NOW)

    assert validate_blocks(unfurl["blocks"], surface="message") == []
    assert_valid_blocks("fallback", unfurl["blocks"])
    assert [b["block_id"] for b in unfurl["blocks"]] == [
        UnfurlBlocks.SUMMARY,
        UnfurlBlocks.FIELDS,
        UnfurlBlocks.ACTIONS,
    ]
    summary = unfurl["blocks"][0]["text"]["text"]
    assert f"<{URL}|zd:101>" in summary and "Zendesk" in summary
    assert "Card payment declined twice at checkout" in summary
    fields = [f["text"] for f in unfurl["blocks"][1]["fields"]]
    assert fields[:4] == [
        "*Status*\nOpen",
        "*Priority*\nUrgent",
        "*Assignee*\nAna Ruiz",
        "*Team*\nbilling (Billing)",
    ]
    assert fields[4].startswith("*Next SLA*\n:rotating_light: Breached · First reply")
    assert "14:48 UTC" in fields[4] and "breached 12m ago" in fields[4]


def test_buttons_reuse_the_alerts_acknowledge_and_carry_ids_only() -> None:
    buttons = _buttons(render_unfurl(_view(), now=NOW))

    ack, escalate, open_ticket = buttons
    assert ack["action_id"] == SlaActions.ACKNOWLEDGE
    assert AlertButtonValue.decode(ack["value"]) == AlertButtonValue(alert_id=7)
    assert escalate["action_id"] == UnfurlActions.ESCALATE
    assert UnfurlButtonValue.decode(escalate["value"]).ref == "zd:101"
    assert open_ticket["action_id"] == SlaActions.OPEN_TICKET and open_ticket["url"] == URL


def test_no_alert_no_escalations_no_acknowledge_or_escalate() -> None:
    buttons = _buttons(render_unfurl(_view(ack_alert_id=None, escalate=False), now=NOW))

    assert [b["action_id"] for b in buttons] == [SlaActions.OPEN_TICKET]


def test_unknown_team_no_deadline_unassigned() -> None:
    view = _view(team_name=None, group_name=None, deadline=None, assignee_name=None, priority=None)
    fields = [f["text"] for f in render_unfurl(view, now=NOW)["blocks"][1]["fields"]]

    assert fields == [
        "*Status*\nOpen",
        "*Priority*\n—",
        "*Assignee*\nUnassigned",
        "*Team*\n_no team_",
        "*Next SLA*\nNo SLA running",
    ]


@pytest.mark.parametrize(
    ("state", "shown"),
    [(SlaStatus.AT_RISK, ":warning: At risk"), (SlaStatus.OK, ":large_green_circle: On track")],
)
def test_deadline_state_and_team_timezone(state, shown) -> None:
    due = NOW + timedelta(minutes=20)
    view = _view(deadline=UnfurlDeadline("next_reply_time", due, state), tz=ZoneInfo("Europe/London"))
    field = render_unfurl(view, now=NOW)["blocks"][1]["fields"][4]["text"]

    assert shown in field and "due in 20m" in field and "15:20 GMT" in field


def test_open_escalation_is_shown_and_replaces_escalate() -> None:
    view = _view(escalation=UnfurlEscalation(tier="Tier 2", status="accepted", owner="U0T2A"))
    unfurl = render_unfurl(view, now=NOW)

    context = next(b for b in unfurl["blocks"] if b["block_id"] == UnfurlBlocks.ESCALATION)
    assert "Escalated to *Tier 2*: accepted by <@U0T2A>" in context["elements"][0]["text"]
    assert UnfurlActions.ESCALATE not in {b["action_id"] for b in _buttons(unfurl)}


def test_hostile_and_huge_subject_is_escaped_and_fits(assert_valid_blocks, assert_safe_text) -> None:
    subject = "<!channel> & <@U123> " + "x" * 5000
    unfurl = render_unfurl(_view(subject=subject, assignee_name="<b>" * 200, team_name="t" * 500), now=NOW)

    assert validate_blocks(unfurl["blocks"], surface="message") == []
    assert_valid_blocks("fallback", unfurl["blocks"])
    summary = unfurl["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in summary and "<!channel>" not in summary


def test_card_numbers_are_left_to_the_slack_boundary() -> None:
    """The renderer does not redact (the Slack client does), but never cuts a digit run in half."""
    subject = "Refund for card 4111 1111 1111 1111"

    assert "4111 1111 1111 1111" in _text(render_unfurl(_view(subject=subject), now=NOW))


def test_naive_now_and_forged_button_values_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_unfurl(_view(), now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidButtonValue):
        UnfurlButtonValue.decode('{"v":1,"ref":"Card 4111 1111 1111 1111"}')
