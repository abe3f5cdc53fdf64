"""deskwatch.example.yaml's `qa:` block: the issue's exact block, live (not commented out) and verbatim, and
its commented optional knobs load when uncommented, each at the default it documents."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import yaml

from bot.config import SampleConfig, config_from_dict, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "deskwatch.example.yaml"
KNOBS = (
    "calibration_window",
    "calibration_threshold",
    "calibration_history",
    "dispute_window",
    "edit_window",
    "dm_agent",
    "sample",
)
_OPTIONAL = re.compile(rf"^(\s+)# ((?:{'|'.join(KNOBS)}): .*)$")

# The issue's block, character for character (comments included).
ISSUE_QA_BLOCK = """\
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


def test_example_qa_block_is_the_issues_block_verbatim() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    example = load_config(EXAMPLE)
    issue = config_from_dict({"alerts": {"channel": "C0ALERTS"}, **yaml.safe_load(ISSUE_QA_BLOCK)})

    assert ISSUE_QA_BLOCK in text
    assert example.qa is not None
    assert example.qa == issue.qa
    assert example.qa.rubric() == issue.qa.rubric()
    assert example.qa.rubric().version == issue.qa.rubric().version


def _uncommented(lines: list[str]) -> list[str]:
    start = lines.index("qa:")
    return [_OPTIONAL.sub(r"\1\2", line) if index > start else line for index, line in enumerate(lines)]


def test_example_qa_optional_knobs_load_when_uncommented_at_their_documented_defaults(
    tmp_path: Path,
) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    uncommented = _uncommented(lines)
    changed = [new for old, new in zip(lines, uncommented, strict=True) if old != new]
    assert [line.split(":")[0].strip() for line in changed] == list(KNOBS)
    path = tmp_path / "deskwatch.yaml"
    path.write_text("\n".join(uncommented) + "\n", encoding="utf-8")

    qa = load_config(path).qa
    default = load_config(EXAMPLE).qa

    assert qa is not None and default is not None
    assert (qa.calibration_window, qa.calibration_threshold, qa.calibration_history) == (
        timedelta(hours=48),
        2,
        10,
    )
    assert (qa.dispute_window, qa.edit_window, qa.dm_agent) == (timedelta(days=7), timedelta(hours=24), True)
    assert qa.sample == SampleConfig(per_agent_per_week=3, **{"from": "solved"})
    # every knob but `sample` (absent: no weekly sample) shows the default it gets when left out
    assert qa.model_copy(update={"sample": None}) == default
