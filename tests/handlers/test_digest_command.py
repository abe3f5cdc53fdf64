"""`/digest`, `/digest week`, `/digest <team>` and the Details button, through signed requests to the
running Bolt app; the history comes from an in-memory feed (the feeds have their own tests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.blocks.ids import DigestActions, DigestViews
from bot.domain.model import Source
from tests.bot.services.test_digest_figures import billing_week
from tests.helpers.history_feed import ListFeed
from tests.helpers.slack_requests import block_action, slash_command
from tests.helpers.waiting import wait_for


@pytest.fixture
def bot(running_bot, clock):
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday after billing's 09:00 default digest
    running_bot.deps.history.feeds = {Source.ZENDESK: ListFeed(Source.ZENDESK, billing_week())}
    running_bot.deps.history.pull(now=clock())
    return running_bot


def _digest(bot, slack_emu, *, text="", channel="C0BILLING", user="U0NOBODY", name="digest"):
    resp = slash_command(
        bot.events_url,
        secret=bot.secret,
        command="/digest",
        text=text,
        user_id=user,
        channel_id=channel,
        response_url=slack_emu.response_url(name),
    )
    assert resp.status_code == 200 and not resp.text  # acked at once, empty: the digest comes lazily
    return wait_for(lambda: [r for r in slack_emu.responses() if r["_name"] == name], what="/digest")[0]


def test_digest_in_a_team_channel_shows_that_teams_daily_digest_ephemerally(bot, slack_emu):
    response = _digest(bot, slack_emu)
    assert response["response_type"] == "ephemeral"
    header = response["blocks"][0]["text"]["text"]
    assert header == "Billing · Daily standup · Tue 24 Nov"
    assert "New: 3 ↑ 2 (+200 %)" in response["text"]


def test_digest_week_shows_the_weekly_report_and_a_team_can_be_named(bot, slack_emu):
    response = _digest(bot, slack_emu, text="week payments", channel="C0RANDOM")
    assert response["blocks"][0]["text"]["text"].startswith("Payments · Weekly report · 16–22 Nov")


def test_digest_outside_a_team_channel_says_how_to_choose(bot, slack_emu):
    response = _digest(bot, slack_emu, channel="C0RANDOM")
    assert "belongs to no single team" in response["text"] and "/digest <team>" in response["text"]
    response = _digest(bot, slack_emu, text="nosuch", channel="C0RANDOM", name="d2")
    assert "not a configured team" in response["text"] and "billing" in response["text"]


def test_details_opens_a_modal_with_the_full_tables(bot, slack_emu):
    response = _digest(bot, slack_emu)
    actions = next(b for b in response["blocks"] if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == DigestActions.DETAILS)
    resp = block_action(
        bot.events_url,
        secret=bot.secret,
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        message_ts="1.1",
        action_id=DigestActions.DETAILS,
        value=button["value"],
        response_url=slack_emu.response_url("details"),
        trigger_id=slack_emu.issue_trigger_id(),
    )
    assert resp.status_code == 200

    def details():
        return next(
            (
                v
                for v in slack_emu.views()
                if v.get("callback_id") == DigestViews.DETAILS and "refund_request" in json.dumps(v)
            ),
            None,
        )

    modal = wait_for(details, what="details modal")
    assert json.loads(modal["private_metadata"])["team"] == "billing"
