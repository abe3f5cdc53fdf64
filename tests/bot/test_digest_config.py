"""The `digests:` section: the issue's exact block, defaults, and one line per problem at its path."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, DigestSchedule, config_from_dict, digest_channel, digests_for, load_config
from bot.domain.digest_schedule import Covers, SendSchedule

BLOCK = """\
alerts: {channel: C0ALERTS}
teams:
  - {name: billing, channel: C0BILLTEAM, timezone: Europe/London}
digests:
  - team: billing
    channel: C0BILLING          # default: the team's channel
    at: "09:15"                 # team timezone
    days: [mon, tue, wed, thu, fri]
    skip_holidays: true         # holidays from the team's calendar (holidays package)
    covers: previous_business_day   # or last_24h; Monday covers Fri 09:15 .. Mon 09:15
"""

TEAMS = [{"name": "billing", "channel": "C0BILLTEAM"}, {"name": "tech"}]


def with_digests(*digests: dict[str, Any]) -> dict[str, Any]:
    return {"alerts": {"channel": "C0ALERTS"}, "teams": TEAMS, "digests": list(digests)}


def problems_of(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    return info.value.problems


def test_issue_block_loads(tmp_path: Path) -> None:
    path = tmp_path / "deskwatch.yaml"
    path.write_text(BLOCK, encoding="utf-8")

    config = load_config(path)

    (digest,) = config.digests
    assert digest == DigestSchedule(
        team="billing",
        channel="C0BILLING",
        at="09:15",
        days=["mon", "tue", "wed", "thu", "fri"],
        skip_holidays=True,
        covers="previous_business_day",
    )
    assert (digest.at, digest.days, digest.covers) == (
        time(9, 15),
        [0, 1, 2, 3, 4],
        Covers.PREVIOUS_BUSINESS_DAY,
    )
    assert digest.send_schedule() == SendSchedule(
        team="billing",
        name="daily",
        at=time(9, 15),
        days=frozenset({0, 1, 2, 3, 4}),
        skip_holidays=True,
        covers=Covers.PREVIOUS_BUSINESS_DAY,
    )
    assert digest_channel(config, digest) == "C0BILLING"
    assert digests_for(config, "Billing") == [digest]


def test_section_absent_means_no_digests() -> None:
    config = config_from_dict({"alerts": {"channel": "C0ALERTS"}})
    assert config.digests == []


def test_defaults_and_channel_fallback() -> None:
    config = config_from_dict(
        with_digests(
            {"team": "billing", "at": "9:15"},
            {"team": "tech", "at": "08:00", "covers": "previous_week"},
            {
                "team": "tech",
                "name": "overnight",
                "at": "07:00",
                "covers": "LAST_24H",
                "days": ["sun", "sat"],
            },
        )
    )
    daily, weekly, overnight = config.digests
    assert (daily.days, daily.skip_holidays, daily.covers, daily.schedule_name) == (
        [0, 1, 2, 3, 4],
        True,
        Covers.PREVIOUS_BUSINESS_DAY,
        "daily",
    )
    assert (weekly.days, weekly.covers, weekly.schedule_name) == ([0], Covers.PREVIOUS_WEEK, "weekly")
    assert (overnight.days, overnight.covers, overnight.schedule_name) == (
        [5, 6],
        Covers.LAST_24H,
        "overnight",
    )
    assert digest_channel(config, daily) == "C0BILLTEAM"  # the team's channel
    assert digest_channel(config, weekly) == "C0ALERTS"  # a team without one: the alerts channel


@pytest.mark.parametrize(
    ("digest", "expected"),
    [
        (
            {"team": "suport", "at": "09:15"},
            'digests[0].team: "suport" is not a configured team (configured teams: billing, tech)',
        ),
        (
            {"team": "biling", "at": "09:15"},
            'digests[0].team: "biling" is not a configured team (did you mean "billing"?) '
            "(configured teams: billing, tech)",
        ),
        ({"team": "billing", "at": "9.15"}, 'digests[0].at: "9.15" is not HH:MM'),
        ({"team": "billing", "at": "24:00"}, 'digests[0].at: "24:00" is only allowed as an end time'),
        (
            {"team": "billing", "at": "09:15", "days": ["mon", "fry"]},
            'digests[0].days[1]: "fry" is not a day (use mon, tue, wed, thu, fri, sat, sun)',
        ),
        ({"team": "billing", "at": "09:15", "days": []}, "digests[0].days: has no days"),
        (
            {"team": "billing", "at": "09:15", "covers": "yesterday"},
            'digests[0].covers: "yesterday" is not a digest window: '
            "use last_24h, previous_business_day, previous_week",
        ),
        (
            {"team": "billing", "at": "09:15", "channel": "#billing"},
            'digests[0].channel: "#billing" is a channel name, not a Slack channel id',
        ),
        ({"team": "billing", "at": "09:15", "skip_holidays": "sometimes"}, "digests[0].skip_holidays:"),
        ({"team": "billing"}, "digests[0].at: is required"),
        ({"team": "billing", "at": "09:15", "time": "x"}, "digests[0].time: unknown key"),
        ({"team": "billing", "at": "09:15", "name": "Stand Up"}, 'digests[0].name: "Stand Up" is not'),
    ],
)
def test_each_problem_is_reported_at_its_path(digest: dict[str, Any], expected: str) -> None:
    problems = problems_of(with_digests(digest))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_unknown_team_without_teams() -> None:
    problems = problems_of(
        {"alerts": {"channel": "C0ALERTS"}, "digests": [{"team": "billing", "at": "09:15"}]}
    )
    assert problems == ['digests[0].team: "billing" is not a configured team (no teams are configured)']


def test_two_schedules_with_one_name() -> None:
    problems = problems_of(
        with_digests({"team": "billing", "at": "09:15"}, {"team": "billing", "at": "17:00"})
    )
    assert problems == [
        'digests[1].name: team "billing" already has a digest named "daily" (digests[0]); '
        "give one of them a different `name`"
    ]


def test_several_problems_reported_at_once() -> None:
    data = with_digests(
        {"team": "billing", "at": "09:15"},
        {"team": "suport", "at": "25:00", "days": ["mon", "xyz"], "covers": "fortnight"},
        {"team": "tech", "at": "08:00", "channel": "#tech"},
    )
    data["alerts"] = {"channel": "#alerts"}

    problems = problems_of(data)

    assert sorted(problems) == sorted(
        [
            'alerts.channel: "#alerts" is a channel name, not a Slack channel id: use the channel\'s ID '
            '(like C0123ABCD, shown under "View channel details")',
            'digests[1].at: "25:00" is not HH:MM',
            'digests[1].days[1]: "xyz" is not a day (use mon, tue, wed, thu, fri, sat, sun)',
            'digests[1].covers: "fortnight" is not a digest window: '
            "use last_24h, previous_business_day, previous_week",
            'digests[1].team: "suport" is not a configured team (configured teams: billing, tech)',
            'digests[2].channel: "#tech" is a channel name, not a Slack channel id: use the channel\'s ID '
            '(like C0123ABCD, shown under "View channel details")',
        ]
    )


def test_section_must_be_a_list() -> None:
    problems = problems_of({"alerts": {"channel": "C0ALERTS"}, "digests": {"team": "billing"}})
    assert problems == ['digests: expected a list, got a mapping "{team: billing}"']
