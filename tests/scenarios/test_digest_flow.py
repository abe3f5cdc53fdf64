"""End to end: tickets and conversations in the emulators, read by the real history feeds through the real
clients, `deskwatch digest send --dry-run` printing the right numbers, then posting once to Slack.

Everything sits yesterday (UTC) and a week before it, so the test holds whatever time of day it runs:
billing's digest goes out at 00:00 every day and covers the day before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from integrations.emulators.seed import DEMO_CONFIG
from tests.helpers.live import live_stack

runner = CliRunner()
DIGESTS = [{"team": "billing", "at": "00:00", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}]


def _sla(created: datetime, target: timedelta) -> dict:
    due = (created + target).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"policy_metrics": [{"metric": "first_reply_time", "stage": "active", "breach_at": due}]}


def seed_yesterday(zd, ic, midnight: datetime) -> None:
    zd.add_group(7, "Billing")
    zd.add_user(501, "Ana Ruiz", email="user501@example.com")
    zd.add_user(601, "Customer", email="customer@customer.example", role="end-user")

    def ticket(tid, created, tags, target):
        zd.upsert_ticket(
            id=tid,
            subject=f"Ticket {tid}",
            description="Help",
            status="open",
            priority="normal",
            group_id=7,
            assignee_id=501,
            requester_id=601,
            tags=tags,
            created_at=created,
            updated_at=created,
            slas=_sla(created, target),
        )

    h = timedelta(hours=1)
    ticket(5001, midnight - 20 * h, ["card_declined"], 2 * h)  # replied in 1 h (on time), one touch
    zd.agent_reply(5001, at=midnight - 19 * h)
    zd.upsert_ticket(id=5001, status="solved", updated_at=midnight - 15 * h)
    zd.add_satisfaction_rating(5001, "good", at=midnight - 14 * h)
    ticket(5002, midnight - 18 * h, ["refund_request"], h)  # replied in 2 h (late), two replies
    zd.agent_reply(5002, at=midnight - 16 * h)
    zd.agent_reply(5002, at=midnight - 12 * h)
    zd.upsert_ticket(id=5002, status="solved", updated_at=midnight - 10 * h)
    zd.add_satisfaction_rating(5002, "bad", at=midnight - 9 * h)
    ticket(5003, midnight - 6 * h, ["refund_request"], 24 * h)  # not answered yet: backlog
    week = timedelta(days=7)
    ticket(5011, midnight - week - 20 * h, ["card_declined"], 2 * h)  # last week: 30 min, solved
    zd.agent_reply(5011, at=midnight - week - 19.5 * h)
    zd.upsert_ticket(id=5011, status="solved", updated_at=midnight - week - 18 * h)

    ic.add_admin(901, "Dana Smith", email="dana@example.com")
    ic.add_team(77, "Billing", admin_ids=[901])
    ic.add_contact("contact-1", "Maya", "maya@customer.example")
    ic.upsert_conversation(
        id=95101,
        title="Bill question",
        state="open",
        priority="not_priority",
        team_assignee_id=77,
        admin_assignee_id=901,
        created_at=midnight - 10 * h,
        updated_at=midnight - 10 * h,
        body="<p>Why this fee?</p>",
        tags=["statement"],
        contact_id="contact-1",
    )
    ic.admin_reply(95101, 901, at=midnight - 9 * h)  # 1 h, inside Intercom's 2 h not-priority target
    ic.close(95101, 901, at=midnight - 8 * h)
    ic.rate(95101, 5, at=midnight - 7 * h)


@pytest.fixture
def stack(tmp_path, database_url):
    config = {**DEMO_CONFIG, "digests": DIGESTS}
    with live_stack(tmp_path, database_url, config=config, slack_token="xoxb-digest", seed=False) as live:
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        seed_yesterday(live.zendesk, live.intercom, midnight)
        yield live


def test_digest_send_dry_run_prints_the_numbers_then_a_send_posts_once(stack):
    result = runner.invoke(cli, ["digest", "send", "--team", "billing", "--dry-run"], env=stack.env)

    assert result.exit_code == 0, result.output
    out = result.output
    assert "Billing · Daily standup" in out
    assert "New: 4 ↑ 3 (+300 %)" in out, out  # 3 tickets + 1 conversation; 1 a week earlier
    assert "Solved: 3 ↑ 2 (+200 %)" in out
    # first replies 1 h, 2 h, 1 h: median 1 h, p90 1 h + 0.8 h; last week's only one took 30 min
    assert "First reply: median 1h ↑ 30m (+100 %); p90 1h 48m ↑ 1h 18m (+260 %); 3 tickets" in out
    assert "First reply: 66.7 % ↓ 33.3 pp" in out  # 5001 and the conversation on time, 5002 late
    assert "CSAT: 66.7 % → n/a; 3 responses" in out  # good, bad, and 5 stars; nothing rated last week
    assert "One-touch: 66.7 % ↓ 33.3 pp" in out  # 5001 and the conversation, not 5002
    assert "refund_request 2 ↑ 2" in out
    assert "/agent/tickets/5002) First reply · Normal · 1h late" in out  # the breach, linked
    assert stack.slack.messages() == []

    sent = runner.invoke(cli, ["digest", "send", "--team", "billing"], env=stack.env)
    again = runner.invoke(cli, ["digest", "send", "--team", "billing"], env=stack.env)

    assert sent.exit_code == 0 and "posted" in sent.output, sent.output
    assert again.exit_code == 0 and "already sent" in again.output, again.output
    [post] = stack.slack.messages("C0BILLING")
    assert "New: 4 ↑ 3 (+300 %)" in post["text"]
    assert post["metadata"]["event_type"] == "deskwatch_digest"


def test_sync_backfill_reads_the_history_and_reports_it(stack):
    result = runner.invoke(cli, ["sync", "--backfill", "14d"], env=stack.env)

    assert result.exit_code == 0, result.output
    assert "Zendesk history:" in result.output and "Intercom history:" in result.output
    again = runner.invoke(cli, ["sync"], env=stack.env)
    assert "Zendesk history: 0 new records" in again.output, again.output


def test_digest_send_names_unknown_teams_and_bad_dates(stack):
    unknown = runner.invoke(cli, ["digest", "send", "--team", "nosuch", "--dry-run"], env=stack.env)
    bad = runner.invoke(
        cli, ["digest", "send", "--team", "billing", "--date", "30/11", "--dry-run"], env=stack.env
    )
    assert unknown.exit_code == 2 and "not a configured team" in unknown.output
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_config_check_lists_each_digest_and_checks_its_channel(stack):
    result = runner.invoke(cli, ["config", "check"], env=stack.env)

    assert result.exit_code == 0, result.output
    assert (
        "Digest OK: billing daily at 00:00 UTC mon,tue,wed,thu,fri,sat,sun (previous_business_day)"
        in result.output
    )
    assert "-> C0BILLING; next " in result.output
    assert "billing daily digest" in result.output  # C0BILLING is checked as the digest's channel too
