"""QA as a plain `(deps, now)` job: close calibration sessions whose window ran out (their results are
posted), and on Mondays (each reviewer's timezone) assign the weekly sample. Idempotent: a session closes
once, a reviewer's week is sampled once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Deps


def qa_job(deps: Deps, now: datetime) -> tuple[int, int]:
    """(sessions closed, sampled tickets assigned)."""
    if not deps.qa.enabled:
        return 0, 0
    return deps.calibration.close_due(now), deps.qa.assign_samples(now)
