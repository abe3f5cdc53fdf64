"""App Home renderer: limits (100 blocks, 3000-character sections), empty states, a huge board."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.alerts import RenderedMessage
from bot.blocks.home import (
    NO_AGENT_TEXT,
    HomeEscalation,
    HomeQa,
    HomeTeam,
    HomeView,
    render_home,
    render_sla_modal,
)
from bot.blocks.ids import HomeActions, HomeBlocks, HomeViews
from bot.blocks.sla_list import SlaListRow
from bot.domain.model import TicketRef
from integrations.emulators.blockkit import validate_view

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TZ = ZoneInfo("UTC")


def _row(n: int, *, due: timedelta, subject: str = "Card declined", url: str | None = None) -> SlaListRow:
    return SlaListRow(
        ref=TicketRef.parse(f"zd:{100 + n}"),
        subject=subject,
        url=url or f"https://deskwatch-demo.zendesk.com/agent/tickets/{100 + n}",
        metric="first_reply_time",
        due_at=NOW + due,
        breached=due <= timedelta(0),
        team_name="billing",
        assignee_name="Ana Ruiz",
        priority="urgent",
    )


def _text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _ids(view: dict) -> list[str]:
    return [block.get("block_id", "") for block in view["blocks"]]


def test_a_board_lists_my_tickets_teams_escalations_and_qa_with_both_buttons():
    view = render_home(
        HomeView(
            user="U0ANA",
            now=NOW,
            tz=TZ,
            agent_matched=True,
            my_tickets=[_row(1, due=-timedelta(minutes=12)), _row(2, due=timedelta(minutes=20))],
            teams=[HomeTeam("billing", breached=1, at_risk=2, ok=5, escalations=1)],
            next_deadlines=[_row(4, due=timedelta(hours=6))],
            escalations=[
                HomeEscalation(7, "zd:101", "Tier 2", "open", None, NOW + timedelta(minutes=10), None),
                HomeEscalation(8, "zd:102", "Tier 2", "waiting_info", None, None, timedelta(minutes=4)),
            ],
            qa=HomeQa(days=30, reviews=3, average=86.0, my_open_disputes=1, to_decide=0),
        )
    )

    assert validate_view(view) == []
    assert view["type"] == "home" and view["callback_id"] == HomeViews.HOME
    actions = next(b for b in view["blocks"] if b.get("block_id") == HomeBlocks.ACTIONS)
    assert [e["action_id"] for e in actions["elements"]] == [HomeActions.REFRESH, HomeActions.OPEN_SLA]
    text = _text(view)
    assert "zd:101" in text and "zd:102" in text and "breached 09:48 UTC" in text and "due 10:20 UTC" in text
    assert "1 breached" in text and "1 at risk" in text
    assert "billing" in text and "5 ok" in text and "1 open escalation" in text and "zd:104" in text
    assert "ack by 10:10 UTC" in text and "ack clock paused (4m left)" in text
    assert "86.0 %" in text and "Open disputes of mine: *1*" in text


def test_a_user_matching_no_agent_is_told_how_tickets_are_matched():
    view = render_home(HomeView(user="U0NOBODY", now=NOW, tz=TZ, agent_matched=False))

    assert validate_view(view) == []
    assert NO_AGENT_TEXT in _text(view)
    # no teams managed, handoffs and QA not configured: those sections are left out, not left empty
    assert HomeBlocks.TEAMS_HEADER not in _ids(view)
    assert HomeBlocks.ESC_HEADER not in _ids(view) and HomeBlocks.QA_HEADER not in _ids(view)


def test_empty_states_of_a_matched_agent():
    view = render_home(
        HomeView(
            user="U0ANA",
            now=NOW,
            tz=TZ,
            agent_matched=True,
            teams=[HomeTeam("billing", 0, 0, 0, 0)],
            escalations=[],
            qa=HomeQa(days=30, reviews=0, average=None, my_open_disputes=0, to_decide=0),
        )
    )

    assert validate_view(view) == []
    text = _text(view)
    assert "None of your tickets is breached or at risk" in text
    assert "No upcoming deadlines" in text and "No open escalations for you" in text
    assert "No QA reviews of your tickets in the last 30 days" in text


def test_a_huge_board_stays_within_slacks_limits_and_says_how_much_is_hidden():
    long = "x" * 5000
    url = "https://example.com/" + "a" * 2000
    view = render_home(
        HomeView(
            user="U0ANA",
            now=NOW,
            tz=TZ,
            agent_matched=True,
            my_tickets=[_row(n, due=timedelta(minutes=n - 500), subject=long, url=url) for n in range(1000)],
            teams=[HomeTeam(f"team{n}" + "y" * 200, 10**6, 10**6, 10**6, 10**6) for n in range(40)],
            next_deadlines=[_row(n, due=timedelta(hours=n + 1), subject=long) for n in range(50)],
            escalations=[
                HomeEscalation(n, f"zd:{n}", "T" * 500, "open", "U0OTHER", NOW - timedelta(hours=n), None)
                for n in range(1, 500)
            ],
            qa=HomeQa(days=30, reviews=10**6, average=99.99, my_open_disputes=10**4, to_decide=10**4),
        )
    )

    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    ids = _ids(view)
    assert len(ids) == len(set(ids))
    text = _text(view)
    assert "…and 980 more" in text and "…and 30 more" in text and "…and 484 more" in text
    assert "ack overdue since" in text


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        render_home(HomeView(user="U0ANA", now=NOW.replace(tzinfo=None), tz=TZ, agent_matched=False))


def test_the_sla_modal_wraps_the_sla_list():
    blocks = [{"type": "section", "block_id": "b", "text": {"type": "mrkdwn", "text": "zd:101"}}]
    view = render_sla_modal(RenderedMessage(text="SLA", blocks=blocks))

    assert validate_view(view) == []
    assert view["type"] == "modal" and view["callback_id"] == HomeViews.SLA_MODAL
