"""deskwatch.example.yaml carries the issue's exact `digests:` block, live, and it loads as documented."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from bot.config import load_config
from bot.domain.digest_schedule import Covers

EXAMPLE = Path(__file__).resolve().parents[2] / "deskwatch.example.yaml"
ISSUE_BLOCK = """\
digests:
  - team: billing
    channel: C0BILLING          # default: the team's channel
    at: "09:15"                 # team timezone
    days: [mon, tue, wed, thu, fri]
    skip_holidays: true         # holidays from the team's calendar (holidays package)
    covers: previous_business_day   # or last_24h; Monday covers Fri 09:15 .. Mon 09:15
"""


def test_the_example_holds_the_issue_block_verbatim_and_it_loads():
    assert ISSUE_BLOCK in EXAMPLE.read_text()
    daily, weekly = load_config(EXAMPLE).digests
    assert (daily.team, daily.channel, daily.at, daily.days, daily.covers) == (
        "billing",
        "C0BILLING",
        time(9, 15),
        [0, 1, 2, 3, 4],
        Covers.PREVIOUS_BUSINESS_DAY,
    )
    assert (weekly.schedule_name, weekly.days, weekly.covers) == ("weekly", [0], Covers.PREVIOUS_WEEK)
