"""The `qa:` section: the issue's exact block, every optional knob, and one line per problem at its path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, config_from_dict, load_config
from bot.domain.qa_types import Category, Rubric

BLOCK = """\
alerts: {channel: C0ALERTS}
qa:
  scale: 5                      # scores 1..scale, or n/a
  pass_mark: 80                 # percent
  reviewers: [U0MANAGER]        # plus every team's managers
  rubric:
    - {key: accuracy,  label: "Correct resolution", weight: 3}
    - {key: empathy,   label: "Empathy and tone",   weight: 2}
    - {key: process,   label: "Followed process",   weight: 2}
    - {key: compliance, label: "Compliance (KYC/PCI)", weight: 3, critical: true}
"""

RUBRIC = [{"key": "accuracy", "label": "Correct resolution", "weight": 3}]


def with_qa(**section: Any) -> dict[str, Any]:
    return {"alerts": {"channel": "C0ALERTS"}, "qa": {"pass_mark": 80, "rubric": RUBRIC, **section}}


def problems_of(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    return info.value.problems


def test_issue_block_loads(tmp_path: Path) -> None:
    path = tmp_path / "deskwatch.yaml"
    path.write_text(BLOCK, encoding="utf-8")

    qa = load_config(path).qa

    assert qa is not None
    assert qa.rubric() == Rubric(
        scale=5,
        pass_mark=80,
        categories=(
            Category("accuracy", "Correct resolution", 3),
            Category("empathy", "Empathy and tone", 2),
            Category("process", "Followed process", 2),
            Category("compliance", "Compliance (KYC/PCI)", 3, critical=True),
        ),
    )
    assert qa.reviewers == ["U0MANAGER"]
    assert (qa.calibration_window, qa.calibration_threshold, qa.calibration_history) == (
        timedelta(hours=48),
        2,
        10,
    )
    assert (qa.dispute_window, qa.edit_window, qa.dm_agent, qa.sample) == (
        timedelta(days=7),
        timedelta(hours=24),
        True,
        None,
    )


def test_section_absent_means_not_configured() -> None:
    assert config_from_dict({"alerts": {"channel": "C0ALERTS"}}).qa is None


def test_every_optional_knob() -> None:
    config = config_from_dict(
        with_qa(
            scale="4",
            pass_mark="75%",
            reviewers=["U0A", "U0A", "W0B"],
            calibration_window="2d",
            calibration_threshold=3,
            calibration_history=5,
            dispute_window="3d",
            edit_window="2h",
            dm_agent=False,
            sample={"per_agent_per_week": 3, "from": "closed"},
        )
    )

    qa = config.qa
    assert qa is not None
    assert (qa.scale, qa.pass_mark, qa.reviewers) == (4, 75, ["U0A", "W0B"])
    assert (qa.calibration_window, qa.calibration_threshold, qa.calibration_history) == (
        timedelta(days=2),
        3,
        5,
    )
    assert (qa.dispute_window, qa.edit_window, qa.dm_agent) == (timedelta(days=3), timedelta(hours=2), False)
    assert qa.sample is not None and (qa.sample.per_agent_per_week, qa.sample.from_) == (3, "closed")


def test_sample_defaults_to_solved_tickets() -> None:
    qa = config_from_dict(with_qa(sample={"per_agent_per_week": 2})).qa

    assert qa is not None and qa.sample is not None and qa.sample.from_ == "solved"


def test_rubric_change_is_a_new_version() -> None:
    before = config_from_dict(with_qa()).qa
    after = config_from_dict(with_qa(rubric=[{**RUBRIC[0], "weight": 4}])).qa
    knobs_only = config_from_dict(with_qa(dispute_window="1d")).qa

    assert before is not None and after is not None and knobs_only is not None
    assert before.rubric().version != after.rubric().version
    assert before.rubric().version == knobs_only.rubric().version  # knobs do not change scores


def test_reviewers_are_the_list_plus_team_managers() -> None:
    qa = config_from_dict(with_qa(reviewers=["U0LEAD"])).qa

    assert qa is not None
    assert qa.is_reviewer("U0LEAD", managers=[])
    assert qa.is_reviewer("U0BOSS", managers=["U0BOSS"])
    assert not qa.is_reviewer("U0AGENT", managers=["U0BOSS"])
    assert qa.all_reviewers(["U0BOSS", "U0LEAD"]) == ("U0LEAD", "U0BOSS")


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"scale": 1}, 'qa.scale: "1" is not a scale (a whole number from 2 to 10, e.g. 5 for scores 1-5)'),
        ({"scale": 11}, 'qa.scale: "11" is not a scale (a whole number from 2 to 10, e.g. 5 for scores 1-5)'),
        (
            {"scale": True},
            'qa.scale: "true" is not a scale (a whole number from 2 to 10, e.g. 5 for scores 1-5)',
        ),
        (
            {"pass_mark": 101},
            'qa.pass_mark: "101" is not a pass mark (a whole percent from 0 to 100, e.g. 80)',
        ),
        (
            {"pass_mark": 82.5},
            'qa.pass_mark: "82.5" is not a pass mark (a whole percent from 0 to 100, e.g. 80)',
        ),
        (
            {"reviewers": ["@manager"]},
            'qa.reviewers[0]: "@manager" is a display name, not a Slack user id: use the member ID '
            '(like U0123ABCD, from "Copy member ID" in the profile)',
        ),
        (
            {"rubric": []},
            "qa.rubric: is empty: list at least one category, "
            'e.g. {key: accuracy, label: "Correct resolution", weight: 3}',
        ),
        (
            {"rubric": [{**RUBRIC[0], "key": "Accuracy"}]},
            'qa.rubric[0].key: "Accuracy" is not a category key (lowercase letters, digits and _, '
            "starting with a letter, at most 31 characters, e.g. accuracy): "
            "reviewers type it in /qa accuracy=4",
        ),
        (
            {"rubric": [{**RUBRIC[0], "key": "a" * 32}]},
            f'qa.rubric[0].key: "{"a" * 32}" is not a category key (lowercase letters, digits and _, '
            "starting with a letter, at most 31 characters, e.g. accuracy): "
            "reviewers type it in /qa accuracy=4",
        ),
        (
            {"rubric": [RUBRIC[0], {**RUBRIC[0], "label": "Again"}]},
            'qa.rubric[1].key: "accuracy" is already the key of rubric[0]',
        ),
        (
            {"rubric": [{**RUBRIC[0], "label": "  "}]},
            'qa.rubric[0].label: "  " is not a label (the text reviewers see, e.g. "Correct resolution")',
        ),
        (
            {"rubric": [{**RUBRIC[0], "label": "x" * 76}]},
            f'qa.rubric[0].label: "{"x" * 57}..." is 76 characters long; Slack shows at most 75 in a select',
        ),
        (
            {"rubric": [{**RUBRIC[0], "weight": 0}]},
            'qa.rubric[0].weight: "0" is not a weight (a whole number of at least 1, e.g. 3)',
        ),
        (
            {"rubric": [{**RUBRIC[0], "weight": 1.5}]},
            'qa.rubric[0].weight: "1.5" is not a weight (a whole number of at least 1, e.g. 3)',
        ),
        (
            {"rubric": [{**RUBRIC[0], "critical": "maybe"}]},
            'qa.rubric[0].critical: "maybe" is not true or false',
        ),
        (
            {"rubric": [{**RUBRIC[0], "wieght": 3}]},
            'qa.rubric[0].wieght: unknown key (did you mean "weight"?)',
        ),
        ({"rubrik": RUBRIC}, 'qa.rubrik: unknown key (did you mean "rubric"?)'),
        (
            {"scale": 3, "calibration_threshold": 3},
            "qa.calibration_threshold: 3 can never be reached on a 1-3 scale (the widest spread is 2)",
        ),
        (
            {"calibration_threshold": 0},
            'qa.calibration_threshold: "0" is not a spread in score points '
            "(a whole number from 1 to 9, e.g. 2)",
        ),
        (
            {"calibration_window": "soon"},
            'qa.calibration_window: "soon" is not a duration: use e.g. 30m, 2h, 1h30m, 1d',
        ),
        (
            {"dispute_window": 7},
            'qa.dispute_window: "7" is not a duration: add a unit, like 30m, 2h, 1h30m, 90s or 1d',
        ),
        (
            {"sample": {"per_agent_per_week": 0}},
            'qa.sample.per_agent_per_week: "0" is not a number of tickets per agent '
            "(a whole number from 1 to 100, e.g. 3)",
        ),
        (
            {"sample": {"per_agent_per_week": 3, "from": "open"}},
            'qa.sample.from: "open" is not a ticket status to sample from: use solved or closed',
        ),
        (
            {"sample": {"per_agent_per_week": 3, "form": "solved"}},
            'qa.sample.form: unknown key (did you mean "from"?)',
        ),
    ],
)
def test_each_problem_is_reported_at_its_path(section: dict[str, Any], expected: str) -> None:
    assert problems_of(with_qa(**section)) == [expected]


def test_required_fields() -> None:
    data = {"alerts": {"channel": "C0ALERTS"}, "qa": {"scale": 5}}

    assert problems_of(data) == ["qa.pass_mark: is required", "qa.rubric: is required"]


def test_several_problems_reported_at_once() -> None:
    data = with_qa(
        scale=12,
        reviewers=["U0OK", "#qa"],
        rubric=[
            {"key": "accuracy", "label": "Correct", "weight": -1},
            {"key": "accuracy", "label": "", "weight": 2, "critical": True},
        ],
        sample={"per_agent_per_week": "many"},
    )

    assert problems_of(data) == [
        'qa.scale: "12" is not a scale (a whole number from 2 to 10, e.g. 5 for scores 1-5)',
        'qa.reviewers[1]: "#qa" is not a Slack user id (like U0123ABCD or W0123ABCD)',
        'qa.rubric[0].weight: "-1" is not a weight (a whole number of at least 1, e.g. 3)',
        'qa.rubric[1].label: "" is not a label (the text reviewers see, e.g. "Correct resolution")',
        'qa.sample.per_agent_per_week: "many" is not a number of tickets per agent (a whole number from 1 to '
        "100, e.g. 3)",
        'qa.rubric[1].key: "accuracy" is already the key of rubric[0]',
    ]


def test_qa_problems_reported_with_other_sections() -> None:
    data = {**with_qa(pass_mark=-5), "timezone": "Mars/Olympus"}

    problems = problems_of(data)

    assert 'qa.pass_mark: "-5" is not a pass mark (a whole percent from 0 to 100, e.g. 80)' in problems
    assert any(problem.startswith("timezone:") for problem in problems)


def test_section_must_be_a_mapping() -> None:
    data = {"alerts": {"channel": "C0ALERTS"}, "qa": ["accuracy"]}

    assert problems_of(data) == ['qa: expected a mapping (key: value), got a list "[accuracy]"']
