"""SQL aggregates for one team's digest window: counts grouped in the database, never ticket fetches.

Every query is a range scan on a (team, ..., at) index, so its cost follows the window's activity, not
the size of the history. Medians and p90 need the values themselves: the window's first-reply and
resolution durations are read as one integer column each and reduced in `bot.domain.digest`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, case, func, literal_column, select

from bot.domain.history import EventKind
from bot.store.history_tables import HistoryEventRow, HistoryOutcomeRow, HistoryRatingRow, HistoryTagRow

E = HistoryEventRow.__table__
T = HistoryTagRow.__table__
O = HistoryOutcomeRow.__table__  # noqa: E741
R = HistoryRatingRow.__table__

WORST_BREACHES = 5  # the message lists five; the Details modal asks for DETAIL_BREACHES
DETAIL_BREACHES = 50
_SEVERITY = {"urgent": 0, "high": 1, "priority": 1, "normal": 2, "not_priority": 2, "low": 3}


@dataclass(frozen=True)
class BreachRecord:
    ref: str
    metric: str
    due_at: datetime | None
    at: datetime
    priority: str | None


@dataclass
class WindowData:
    """Raw figures of one window: counts and durations, before trends and formatting."""

    new: int = 0
    solved: int = 0
    reopened: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    first_reply_seconds: list[int] = field(default_factory=list)
    resolution_seconds: list[int] = field(default_factory=list)
    one_touch: int = 0
    solved_counted: int = 0  # solves whose agent replies are known (the one-touch denominator)
    outcomes: dict[str, tuple[int, int]] = field(default_factory=dict)  # metric -> (achieved, breached)
    breaches_by_priority: dict[str, int] = field(default_factory=dict)
    worst_breaches: list[BreachRecord] = field(default_factory=list)
    rated: int = 0
    rated_good: int = 0
    tags: dict[str, int] = field(default_factory=dict)

    @property
    def breaches(self) -> int:
        return sum(breached for _, breached in self.outcomes.values())

    @property
    def has_sla(self) -> bool:
        return bool(self.outcomes)


def window_data(
    engine: Engine,
    team: str,
    start: datetime,
    end: datetime,
    *,
    business_hours: bool,
    worst: int = WORST_BREACHES,
) -> WindowData:
    """Everything the digest needs from the history tables for `team` in [start, end); `worst`: how many
    of the worst breaches to list (0: none)."""
    data = WindowData()
    in_window = and_(E.c.team == team, E.c.at >= start, E.c.at < end)
    seconds = E.c.business_seconds if business_hours else E.c.seconds
    with engine.connect() as conn:
        # Naming the kinds lets SQLite range-scan (team, kind, at) per kind instead of all of the team's rows.
        counted = [EventKind.CREATED, EventKind.SOLVED, EventKind.REOPENED]
        kinds = conn.execute(
            select(E.c.kind, func.count()).where(in_window, E.c.kind.in_(counted)).group_by(E.c.kind)
        ).all()
        counts = {kind: int(count) for kind, count in kinds}
        data.new = counts.get(EventKind.CREATED, 0)
        data.solved = counts.get(EventKind.SOLVED, 0)
        data.reopened = counts.get(EventKind.REOPENED, 0)
        channel = func.coalesce(E.c.channel, literal_column("'other'"))  # one literal: PG's GROUP BY matches
        channels = conn.execute(
            select(channel, func.count()).where(in_window, E.c.kind == EventKind.CREATED).group_by(channel)
        ).all()
        data.by_channel = {str(channel): int(count) for channel, count in channels}
        data.first_reply_seconds = _values(
            conn, select(seconds).where(in_window, E.c.kind == EventKind.FIRST_REPLY, seconds.is_not(None))
        )
        data.resolution_seconds = _values(
            conn, select(seconds).where(in_window, E.c.kind == EventKind.SOLVED, seconds.is_not(None))
        )
        # one-touch: of the solves whose agent replies are known, those with exactly one
        touch = conn.execute(
            select(func.count(E.c.agent_replies), func.sum(case((E.c.agent_replies == 1, 1), else_=0))).where(
                in_window, E.c.kind == EventKind.SOLVED
            )
        ).one()
        data.solved_counted, data.one_touch = int(touch[0] or 0), int(touch[1] or 0)
        _outcomes(conn, data, team, start, end, worst=worst)
        rated = conn.execute(
            select(func.count(), func.sum(case((R.c.good, 1), else_=0))).where(
                R.c.team == team, R.c.at >= start, R.c.at < end
            )
        ).one()
        data.rated, data.rated_good = int(rated[0] or 0), int(rated[1] or 0)
        tags = conn.execute(
            select(T.c.tag, func.count())
            .where(T.c.team == team, T.c.at >= start, T.c.at < end)
            .group_by(T.c.tag)
        ).all()
        data.tags = {str(tag): int(count) for tag, count in tags}
    return data


def _values(conn, stmt) -> list[int]:
    return [int(value) for (value,) in conn.execute(stmt)]


def _outcomes(conn, data: WindowData, team: str, start: datetime, end: datetime, *, worst: int) -> None:
    in_window = and_(O.c.team == team, O.c.at >= start, O.c.at < end)
    achieved = func.sum(case((O.c.achieved, 1), else_=0))
    breached = func.sum(case((O.c.achieved, 0), else_=1))
    for metric, ok, missed in conn.execute(
        select(O.c.metric, achieved, breached).where(in_window).group_by(O.c.metric)
    ):
        data.outcomes[str(metric)] = (int(ok or 0), int(missed or 0))
    by_priority = conn.execute(
        select(O.c.priority, func.count()).where(in_window, O.c.achieved.is_(False)).group_by(O.c.priority)
    ).all()
    data.breaches_by_priority = {str(p): int(n) for p, n in by_priority if p is not None}
    if not worst or not data.breaches:
        return
    severity = case(*((func.lower(O.c.priority) == name, rank) for name, rank in _SEVERITY.items()), else_=9)
    rows = conn.execute(
        select(O.c.ref, O.c.metric, O.c.due_at, O.c.at, O.c.priority)
        .where(in_window, O.c.achieved.is_(False))
        .order_by(severity, func.coalesce(O.c.due_at, O.c.at), O.c.ref)
        .limit(worst)
    ).all()
    data.worst_breaches = [BreachRecord(*row) for row in rows]


def teams_with_history(engine: Engine) -> list[str]:
    """Teams that have any history (for `digest send` hints)."""
    with engine.connect() as conn:
        return sorted(str(team) for (team,) in conn.execute(select(E.c.team).distinct()) if team is not None)


def first_replies(engine: Engine, refs: Iterable[str]) -> dict[str, datetime]:
    """When each ticket got its first agent reply (for how late a breached first reply was)."""
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    stmt = select(E.c.ref, func.min(E.c.at)).where(E.c.ref.in_(wanted), E.c.kind == EventKind.FIRST_REPLY)
    with engine.connect() as conn:
        return {ref: at for ref, at in conn.execute(stmt.group_by(E.c.ref)) if at is not None}
