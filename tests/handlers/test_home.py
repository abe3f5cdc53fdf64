"""App Home through signed Bolt requests: app_home_opened publishes the board, its buttons work."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.blocks.home import NO_AGENT_TEXT
from bot.blocks.ids import HomeActions, HomeBlocks, HomeViews
from integrations.emulators.blockkit import validate_view
from jobs.sla import scan
from tests.helpers.slack_requests import APP_ID, TEAM, event_callback, signed_post
from tests.helpers.waiting import wait_for


@pytest.fixture
def desk(seeded, running_bot, slack_emu, clock):
    # The demo desk's agents, as Slack users with their helpdesk emails (as bot/demo_qa.py does).
    slack_emu.add_user("U0ANA", "ana", email="user501@example.com")
    slack_emu.add_user("U0BEN", "ben", email="user502@example.com")
    scan(running_bot.deps, clock())
    return running_bot


def _open_home(bot, user: str, *, event_id: str = "EvHome1", tab: str = "home"):
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": "1.2"}
    resp = event_callback(bot.events_url, secret=bot.secret, event=event, event_id=event_id)
    assert resp.status_code == 200


def _home(slack_emu, user: str, *, after: str | None = None) -> dict:
    def probe():
        views = [v for v in slack_emu.views() if v.get("user_id") == user and v["type"] == "home"]
        return [v for v in views if v["hash"] != after]

    return wait_for(probe, what=f"{user}'s Home tab")[0]


def _click(bot, slack_emu, user: str, action_id: str, home: dict):
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM["id"]},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "team": TEAM,
        "trigger_id": slack_emu.issue_trigger_id(),
        "container": {"type": "view", "view_id": home["id"]},
        "view": home,
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": HomeBlocks.ACTIONS, "action_ts": "1.2"}
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    resp = signed_post(
        bot.events_url, body, secret=bot.secret, content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 200


def _text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_opening_home_publishes_my_breached_ticket(desk, slack_emu):
    _open_home(desk, "U0ANA")

    home = _home(slack_emu, "U0ANA")
    assert validate_view({**home, "blocks": home["blocks"]}) == []
    text = _text(home)
    assert "zd:101" in text and "1 breached" in text  # Ana's (Zendesk 501) ticket breached 12m ago
    assert "zd:102" not in text  # Ben's
    assert desk.deps.home.store.get("U0ANA").hash is not None


def test_opening_home_lists_an_agents_at_risk_ticket(desk, slack_emu):
    _open_home(desk, "U0BEN")

    text = _text(_home(slack_emu, "U0BEN"))
    assert "zd:102" in text and "1 at risk" in text and "zd:101" not in text


def test_a_manager_without_a_helpdesk_account_sees_the_team_board_and_how_matching_works(desk, slack_emu):
    _open_home(desk, "U0MANAGER")

    text = _text(_home(slack_emu, "U0MANAGER"))
    assert NO_AGENT_TEXT in text
    assert "billing" in text and "breached" in text and "Next deadlines" in text


def test_the_messages_tab_publishes_nothing(desk, slack_emu):
    _open_home(desk, "U0ANA", tab="messages", event_id="EvMsgTab")
    _open_home(desk, "U0BEN", event_id="EvHome2")

    _home(slack_emu, "U0BEN")
    assert not [v for v in slack_emu.views() if v.get("user_id") == "U0ANA"]


def test_refresh_republishes(desk, slack_emu):
    _open_home(desk, "U0ANA")
    first = _home(slack_emu, "U0ANA")

    _click(desk, slack_emu, "U0ANA", HomeActions.REFRESH, first)

    second = _home(slack_emu, "U0ANA", after=first["hash"])
    assert second["id"] == first["id"] and "zd:101" in _text(second)


def test_open_sla_shows_the_list_in_a_modal(desk, slack_emu):
    _open_home(desk, "U0MANAGER")
    home = _home(slack_emu, "U0MANAGER")

    _click(desk, slack_emu, "U0MANAGER", HomeActions.OPEN_SLA, home)

    modal = wait_for(
        lambda: [v for v in slack_emu.views() if v["callback_id"] == HomeViews.SLA_MODAL], what="/sla modal"
    )[0]
    text = _text(modal)
    assert "zd:101" in text and "zd:102" in text and "zd:103" not in text  # billing, U0MANAGER's team
