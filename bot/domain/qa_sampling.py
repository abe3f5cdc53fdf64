"""Weekly QA sampling: which of each agent's solved tickets a reviewer scores this week, and when to pick.

The sample is a pure function of (seed, candidates): each ticket is ranked by a hash of the seed, the
agent and the ref, so a job that runs twice (a retry, a second replica) assigns the same tickets, whatever
order the helpdesk listed them in, and no process-wide random state is involved.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.domain.model import TicketRef

DEFAULT_SAMPLING_TIME = time(9, 0)  # Monday morning, local: reviewers find their queue when they start


def sample_seed(reviewer: str, week: date) -> str:
    """A seed per reviewer and ISO week, so two reviewers get different samples of the same agents."""
    year, number, _ = week.isocalendar()
    return f"{reviewer}:{year}-W{number:02d}"


def sample_tickets(
    candidates: Sequence[tuple[str, TicketRef]], per_agent: int, *, seed: str
) -> dict[str, list[TicketRef]]:
    """Up to `per_agent` distinct refs per agent (fewer when fewer were solved), agents and refs sorted."""
    if per_agent < 1:
        raise ValueError(f"per_agent must be at least 1, not {per_agent}")
    by_agent: dict[str, set[TicketRef]] = defaultdict(set)
    for agent, ref in candidates:
        by_agent[agent].add(ref)
    return {
        agent: sorted(sorted(refs, key=lambda ref, agent=agent: _rank(seed, agent, ref))[:per_agent])
        for agent, refs in sorted(by_agent.items())
    }


def _rank(seed: str, agent: str, ref: TicketRef) -> bytes:
    return hashlib.sha256(f"{seed}\x1f{agent}\x1f{ref}".encode()).digest()


def week_start(now: datetime, tz: tzinfo) -> date:
    """The Monday of `now`'s week in the team's timezone."""
    if now.tzinfo is None:
        raise ValueError("week_start takes a timezone-aware datetime")
    local = now.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def sample_window(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The past week, Monday 00:00 to Monday 00:00 local, in UTC (so a DST week is 167 or 169 hours long,
    and a store query compares instants, not wall clocks)."""
    monday = week_start(now, tz)
    start = datetime.combine(monday - timedelta(days=7), time(0), tzinfo=tz)
    end = datetime.combine(monday, time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def is_sampling_time(
    now: datetime, tz: tzinfo, last_run_week: date | None, *, at: time = DEFAULT_SAMPLING_TIME
) -> bool:
    """True once per local week, from Monday `at` on; a bot that was down on Monday catches up later that
    week. `last_run_week` is the `week_start` of the last run that completed, None before the first."""
    monday = week_start(now, tz)
    if monday == last_run_week:
        return False
    local = now.astimezone(tz)
    return local.weekday() > 0 or local.time() >= at
