"""deskwatch.example.yaml's `escalation:` block: the issue's exact matrix, live (not commented out), and
its commented optional keys load when uncommented."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.config import config_from_dict, load_config
from bot.domain.escalation import Notify
from tests.scenarios.escalation_fixtures import ESCALATION_BLOCK

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "deskwatch.example.yaml"
_OPTIONAL = re.compile(r"^(\s+)# ((?:repeat|notify|due_warn_before|timezone|business_hours): .*)$")


def test_example_escalation_block_is_the_issues_matrix() -> None:
    example = load_config(EXAMPLE)
    issue = config_from_dict({"alerts": {"channel": "C0ALERTS"}, "escalation": ESCALATION_BLOCK})

    assert example.escalation is not None
    assert example.escalation == issue.escalation
    assert example.escalation.policy(example.tz) == issue.escalation.policy(issue.tz)


def test_example_escalation_optional_keys_load_when_uncommented(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("escalation:")
    uncommented = [
        _OPTIONAL.sub(r"\1\2", line) if index > start else line for index, line in enumerate(lines)
    ]
    assert sum(a != b for a, b in zip(lines, uncommented, strict=True)) == 5
    path = tmp_path / "deskwatch.yaml"
    path.write_text("\n".join(uncommented) + "\n", encoding="utf-8")

    config = load_config(path)

    assert config.escalation is not None
    t2, compliance = config.escalation.policy(config.tz).tiers[1:]
    assert (t2.repeat, t2.notify) == (2, Notify.ALL)  # the documented defaults
    assert compliance.due_warn_before == timedelta(hours=2)
    assert compliance.calendar is not None
    assert config.escalation.tiers[2].timezone == "Europe/London"
