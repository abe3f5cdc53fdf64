"""The `escalation:` section: the documented block, every optional field, and one line per problem."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, config_from_dict, load_config
from bot.domain.escalation import Notify, WriteBackTarget

BLOCK = """\
alerts: {channel: C0ALERTS}
escalation:
  tiers:
    - name: T1
    - name: T2
      channel: C0T2
      responders: [U0T2A, U0T2B]     # or a Slack user group id S...
      ack_within: 15m
    - name: Compliance
      channel: C0COMPLIANCE
      responders: [U0LEGAL]
      ack_within: 1h
      due: 24h                        # e.g. regulatory response deadline
      zendesk: {group_id: 900, tags: [compliance_review]}
      intercom: {team_id: "900"}
  reasons: [billing_dispute, fraud_suspected, bug, legal_request, vip, other]
"""

T2 = {"name": "T2", "channel": "C0T2", "responders": ["U0T2A"], "ack_within": "15m"}


def with_escalation(**section: Any) -> dict[str, Any]:
    return {
        "alerts": {"channel": "C0ALERTS"},
        "escalation": {"tiers": [{"name": "T1"}, T2], "reasons": ["bug"], **section},
    }


def problems_of(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    return info.value.problems


def test_documented_block_loads(tmp_path: Path) -> None:
    path = tmp_path / "deskwatch.yaml"
    path.write_text(BLOCK, encoding="utf-8")

    config = load_config(path)

    assert config.escalation is not None
    policy = config.escalation.policy(config.tz)
    assert [tier.name for tier in policy.tiers] == ["T1", "T2", "Compliance"]
    t2, compliance = policy.tiers[1], policy.tiers[2]
    assert (t2.channel, t2.responders, t2.ack_within) == ("C0T2", ("U0T2A", "U0T2B"), timedelta(minutes=15))
    assert (t2.repeat, t2.notify, t2.due, t2.calendar, t2.write_back) == (2, Notify.ALL, None, None, None)
    assert compliance.due == timedelta(hours=24)
    assert compliance.due_warn_before == timedelta(hours=1)  # default: a quarter of `due`, at most 1h
    assert compliance.write_back == WriteBackTarget(
        zendesk_group_id=900, zendesk_tags=("compliance_review",), intercom_team_id="900"
    )
    assert policy.reasons == ("billing_dispute", "fraud_suspected", "bug", "legal_request", "vip", "other")


def test_section_absent_means_not_configured() -> None:
    assert config_from_dict({"alerts": {"channel": "C0ALERTS"}}).escalation is None


def test_every_optional_tier_field() -> None:
    tier = {
        **T2,
        "responders": ["S0ONCALL", "U0B", "U0B"],
        "repeat": 3,
        "notify": "round_robin",
        "due": "2h",
        "due_warn_before": "30m",
        "timezone": "Europe/Paris",
        "business_hours": {
            "days": ["mon", "tue"],
            "start": "09:00",
            "end": "17:00",
            "extra_holidays": ["2025-12-25"],
        },
        "zendesk": {"group_id": "900", "assignee_id": 42, "tags": ["Compliance_Review", "legal"]},
        "intercom": {"team_id": 900, "admin_id": 4108390},
    }
    config = config_from_dict(
        {
            **with_escalation(),
            "timezone": "UTC",
            "escalation": {"tiers": [{"name": "T1"}, tier], "reasons": ["bug"]},
        }
    )

    assert config.escalation is not None
    policy = config.escalation.policy(config.tz, managers=["U0BOSS"], group_members={"S0ONCALL": ["U0C"]})
    t2 = policy.tiers[1]
    assert t2.responders == ("S0ONCALL", "U0B")  # duplicates dropped, order kept
    assert (t2.repeat, t2.notify, t2.due, t2.due_warn_before) == (
        3,
        Notify.ROUND_ROBIN,
        timedelta(hours=2),
        timedelta(minutes=30),
    )
    assert t2.calendar is not None
    assert t2.calendar.tz == ZoneInfo("Europe/Paris")
    assert (t2.calendar.days, t2.calendar.start, t2.calendar.end) == (frozenset({0, 1}), time(9), time(17))
    assert t2.write_back == WriteBackTarget(
        zendesk_group_id=900,
        zendesk_assignee_id=42,
        zendesk_tags=("compliance_review", "legal"),
        intercom_team_id="900",
        intercom_admin_id="4108390",
    )
    assert policy.managers == frozenset({"U0BOSS"})
    assert policy.may_act(t2, "U0C") and policy.may_act(t2, "U0BOSS") and not policy.may_act(t2, "U0X")


def test_tier_calendar_uses_top_level_timezone_without_its_own() -> None:
    tier = {**T2, "business_hours": {"start": "09:00", "end": "17:00"}}
    data = with_escalation(tiers=[{"name": "T1"}, tier])
    config = config_from_dict({**data, "timezone": "America/New_York"})

    assert config.escalation is not None
    calendar = config.escalation.policy(config.tz).tiers[1].calendar
    assert calendar is not None and calendar.tz == ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {"tiers": [{"name": "T1"}, T2, {**T2, "name": "t2"}]},
            'escalation.tiers[2].name: "t2" is already the name of tiers[1]',
        ),
        (
            {"tiers": [{"name": "T1"}, {"name": "T2", "responders": ["U0A"], "ack_within": "15m"}]},
            'escalation.tiers[1].channel: is required: tier "T2" receives escalations, so it needs a channel '
            "to post handoffs in (like C0123ABCD)",
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "responders": []}]},
            'escalation.tiers[1].responders: is required: tier "T2" receives escalations, so it needs '
            "responders who may accept (user ids like U0123ABCD, or a user group id like S0123ABCD)",
        ),
        (
            {"tiers": [{"name": "T1"}, {k: v for k, v in T2.items() if k != "ack_within"}]},
            'escalation.tiers[1].ack_within: is required: tier "T2" receives escalations, so it needs an '
            "ack_within: how long responders have to accept before a re-ping (like 15m)",
        ),
        (
            {"tiers": [{"name": "T1"}]},
            "escalation.tiers: needs at least two tiers: the first is where escalations start (e.g. T1), "
            "the next ones receive them",
        ),
        (
            {"reasons": []},
            "escalation.reasons: is empty: list at least one reason, e.g. [billing_dispute, bug, other]",
        ),
        ({"reasons": ["bug", "bug"]}, 'escalation.reasons[1]: "bug" is already listed at reasons[0]'),
        (
            {"reasons": ["Bug Report"]},
            'escalation.reasons[0]: "Bug Report" is not a reason slug (lowercase letters, digits, - and _, '
            "e.g. billing_dispute)",
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "responders": ["@alice"]}]},
            'escalation.tiers[1].responders[0]: "@alice" is a handle, not a Slack id: use a member ID '
            "(like U0123ABCD) or a user group ID (like S0123ABCD)",
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "responders": ["C0CHANNEL"]}]},
            'escalation.tiers[1].responders[0]: "C0CHANNEL" is not a Slack user id (like U0123ABCD) or user '
            "group id (like S0123ABCD)",
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "zendesk": {"group_id": 0}}]},
            'escalation.tiers[1].zendesk.group_id: "0" is not a Zendesk id (a positive number like 900)',
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "zendesk": {"assignee_id": -5}}]},
            'escalation.tiers[1].zendesk.assignee_id: "-5" is not a Zendesk id (a positive number like 900)',
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "zendesk": {"tags": ["two words"]}}]},
            'escalation.tiers[1].zendesk.tags[0]: "two words" is not a Zendesk tag (one word without spaces '
            "or commas, e.g. compliance_review)",
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "intercom": {"team_id": "team-9"}}]},
            'escalation.tiers[1].intercom.team_id: "team-9" is not an Intercom team id '
            "(a number like 5017691)",
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "intercom": {"admin_id": "x"}}]},
            'escalation.tiers[1].intercom.admin_id: "x" is not an Intercom admin id (a number like 4108390)',
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "due": "0m"}]},
            'escalation.tiers[1].due: "0m" is not a duration: it must be longer than zero (use e.g. 30m, 2h, '
            "1h30m, 1d)",
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "due": "1h", "due_warn_before": "2h"}]},
            'escalation.tiers[1].due_warn_before: "2h" must be shorter than due "1h"',
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "repeat": 11}]},
            'escalation.tiers[1].repeat: "11" is not a re-ping count (a whole number from 0 to 10)',
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "notify": "everyone"}]},
            'escalation.tiers[1].notify: "everyone" is not a notify mode: use all or round_robin',
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "channel": "#t2"}]},
            'escalation.tiers[1].channel: "#t2" is a channel name, not a Slack channel id: use the '
            'channel\'s ID (like C0123ABCD, shown under "View channel details")',
        ),
        (
            {"tiers": [{"name": "T1"}, {**T2, "ack_witin": "5m"}]},
            'escalation.tiers[1].ack_witin: unknown key (did you mean "ack_within"?)',
        ),
        (
            {"tiers": [{"name": ""}, T2]},
            'escalation.tiers[0].name: "" is not a tier name (1 to 40 characters, e.g. T2 or Compliance)',
        ),
    ],
)
def test_each_problem_is_one_line_at_its_path(section: dict[str, Any], expected: str) -> None:
    assert problems_of(with_escalation(**section)) == [expected]


def test_field_and_structure_problems_reported_in_one_pass() -> None:
    tiers = [
        {"name": "T1"},
        {**T2, "channel": "#t2"},
        {"name": "t1", "channel": "C0X", "responders": ["U0A"]},
    ]

    problems = problems_of(with_escalation(tiers=tiers, reasons=["bug", "bug"]))

    assert problems == [
        'escalation.tiers[1].channel: "#t2" is a channel name, not a Slack channel id: use the channel\'s ID '
        '(like C0123ABCD, shown under "View channel details")',
        'escalation.tiers[2].name: "t1" is already the name of tiers[0]',
        'escalation.tiers[2].ack_within: is required: tier "t1" receives escalations, so it needs an '
        "ack_within: how long responders have to accept before a re-ping (like 15m)",
        'escalation.reasons[1]: "bug" is already listed at reasons[0]',
    ]


def test_section_must_be_a_mapping() -> None:
    assert problems_of({"alerts": {"channel": "C0ALERTS"}, "escalation": ["T1"]}) == [
        'escalation: expected a mapping (key: value), got a list "[T1]"'
    ]


def test_first_tier_needs_no_channel_or_responders() -> None:
    config = config_from_dict(with_escalation())
    assert config.escalation is not None and config.escalation.tiers[0].channel is None
