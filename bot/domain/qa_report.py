"""QA reports: an agent's average, pass rate, weekly trend and weakest category over a period, and the team.

Each review keeps the rubric version it was scored on, so averages use the percent it was given then, and
categories are matched by key across versions (a category renamed in config keeps its history). Callers
pass reviews only, never calibration scores: those must not count in an agent's averages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal

from bot.domain.qa import round_half_up
from bot.domain.qa_sampling import week_start
from bot.domain.qa_types import AgentReport, ReviewRecord, WeekPoint


def agent_report(
    records: Sequence[ReviewRecord], *, agent: str, since: datetime, until: datetime, tz: tzinfo
) -> AgentReport:
    """The agent's reviews created in [since, until); `previous_average` covers the same length before.

    `weakest` is the category with the lowest average relative to its rubric's scale, None when every
    rated category averages the same (nothing stands out to coach on).
    """
    _check_period(since, until)
    mine = [record for record in records if record.agent == agent]
    current = [record for record in mine if since <= record.created_at < until]
    previous = [record for record in mine if since - (until - since) <= record.created_at < since]
    if not current:
        return AgentReport(
            agent=agent, reviews=0, average=None, pass_rate=None, previous_average=_mean(previous)
        )
    per_category, weakest = _categories(current)
    return AgentReport(
        agent=agent,
        reviews=len(current),
        average=_mean(current),
        pass_rate=round_half_up(
            Decimal(100 * sum(record.result.passed for record in current)) / len(current)
        ),
        per_category=per_category,
        weakest=weakest,
        weekly=_weekly(current, tz),
        previous_average=_mean(previous),
    )


def team_report(
    records: Sequence[ReviewRecord], *, since: datetime, until: datetime, tz: tzinfo
) -> list[AgentReport]:
    """One report per agent reviewed in the period, best average first (ties by agent id, for stability)."""
    _check_period(since, until)
    agents = sorted({record.agent for record in records if since <= record.created_at < until})
    reports = [agent_report(records, agent=agent, since=since, until=until, tz=tz) for agent in agents]
    return sorted(reports, key=lambda report: -(report.average or 0.0))


def _check_period(since: datetime, until: datetime) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("report periods take timezone-aware datetimes")
    if until <= since:
        raise ValueError(f"empty report period: {since.isoformat()} to {until.isoformat()}")


def _mean(records: Sequence[ReviewRecord]) -> float | None:
    """Average of the stored percents, summed as decimals so 86.3 + 71.4 does not drift."""
    if not records:
        return None
    total = sum((Decimal(str(record.result.percent)) for record in records), Decimal(0))
    return round_half_up(total / len(records))


def _categories(records: Sequence[ReviewRecord]) -> tuple[dict[str, float | None], str | None]:
    """Average raw score per key (n/a excluded), keys in the newest rubric's order, older keys after."""
    newest_first = sorted(records, key=lambda record: record.created_at, reverse=True)
    keys: dict[str, None] = {}
    for record in newest_first:
        keys.update(dict.fromkeys(record.rubric.keys))
    raw: dict[str, list[int]] = defaultdict(list)
    relative: dict[str, list[Decimal]] = defaultdict(list)
    for record in records:
        for key, value in record.scores.items():
            if value is not None and key in keys:
                raw[key].append(value)
                relative[key].append(Decimal(value) / record.rubric.scale)
    averages = {
        key: round_half_up(Decimal(sum(raw[key])) / len(raw[key]), 2) if raw[key] else None for key in keys
    }
    ranked = {key: sum(values) / len(values) for key, values in relative.items()}
    if len(set(ranked.values())) < 2:
        return averages, None
    lowest = min(ranked.values())
    return averages, next(key for key in keys if ranked.get(key) == lowest)


def _weekly(records: Sequence[ReviewRecord], tz: tzinfo) -> tuple[WeekPoint, ...]:
    """Monday-start weeks in the team's timezone; weeks without reviews are left out."""
    weeks: dict[date, list[ReviewRecord]] = defaultdict(list)
    for record in records:
        weeks[week_start(record.created_at, tz)].append(record)
    return tuple(
        WeekPoint(week_start=monday, average=_mean(weeks[monday]) or 0.0, reviews=len(weeks[monday]))
        for monday in sorted(weeks)
    )
