"""`/sla` and the not-yet-enabled commands, driven through signed HTTP requests to the running Bolt app."""

from __future__ import annotations

import pytest

from jobs.sla import scan
from tests.helpers.slack_requests import slash_command
from tests.helpers.waiting import wait_for


@pytest.fixture
def scanned(seeded, running_bot, clock):
    scan(running_bot.deps, clock())
    return running_bot


def _sla(bot, slack_emu, *, text="", channel="C0BILLING", user="U0NOBODY", name="sla"):
    resp = slash_command(
        bot.events_url,
        secret=bot.secret,
        command="/sla",
        text=text,
        user_id=user,
        channel_id=channel,
        response_url=slack_emu.response_url(name),
    )
    assert resp.status_code == 200
    return wait_for(lambda: [r for r in slack_emu.responses() if r["_name"] == name], what="/sla response")[0]


def _all_text(response: dict) -> str:
    return response["text"] + repr(response.get("blocks"))


def test_sla_in_a_team_channel_lists_that_teams_breached_and_at_risk_tickets_by_due_time(scanned, slack_emu):
    response = _sla(scanned, slack_emu, channel="C0BILLING")

    assert response["response_type"] == "ephemeral"
    text = _all_text(response)
    for ref in ("zd:101", "zd:102", "ic:9001"):
        assert ref in text
    for ref in ("zd:103", "ic:9002", "zd:108", "zd:104"):
        assert ref not in text
    assert text.index("zd:101") < text.index("zd:102")  # breached 12m ago before due in 20m
    assert "4111 1111 1111 1111" not in text


def test_sla_all_lists_every_team_including_unrouted(scanned, slack_emu):
    text = _all_text(_sla(scanned, slack_emu, text="all", channel="C0RANDOM"))

    for ref in ("zd:101", "zd:102", "zd:103", "zd:108", "ic:9001", "ic:9002", "ic:9006"):
        assert ref in text


def test_sla_named_team(scanned, slack_emu):
    text = _all_text(_sla(scanned, slack_emu, text="payments", channel="C0RANDOM"))

    assert "zd:103" in text and "ic:9006" in text and "zd:101" not in text


def test_sla_for_a_manager_outside_team_channels_uses_the_team_they_manage(scanned, slack_emu):
    text = _all_text(_sla(scanned, slack_emu, channel="D0DIRECT", user="U0PAYLEAD"))

    assert "zd:103" in text and "zd:101" not in text


def test_sla_unknown_team_explains_the_choices(scanned, slack_emu):
    response = _sla(scanned, slack_emu, text="nosuchteam")

    assert "Unknown team" in response["text"] and "billing" in response["text"]


def test_escalate_without_an_escalation_block_says_how_to_configure_it(running_bot, slack_emu):
    resp = slash_command(
        running_bot.events_url,
        secret=running_bot.secret,
        command="/escalate",
        text="zd:101",
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        response_url=slack_emu.response_url("x"),
    )

    assert resp.status_code == 200
    body = resp.json()
    assert body["response_type"] == "ephemeral"
    assert "not configured" in body["text"] and "escalation:" in body["text"]
    assert slack_emu.calls("/api/views.open") == []


def test_qa_without_a_qa_block_says_how_to_configure_it(running_bot, slack_emu):
    resp = slash_command(
        running_bot.events_url,
        secret=running_bot.secret,
        command="/qa",
        text="report",
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        response_url=slack_emu.response_url("x"),
    )

    assert resp.status_code == 200
    body = resp.json()
    assert body["response_type"] == "ephemeral" and "`qa:` block" in body["text"]
