"""How many tickets each team had open at each hour of a backfilled stretch, replayed from the history.

A backfill reads weeks of events, but the backlog snapshots start when Deskwatch starts taking them: the
first weekly report would have no "backlog a week ago". This replays each ticket's open spans (created or
reopened opens one, solved closes it) into hourly counts by age bucket, in one pass over the tickets plus
one over the hours, so its cost is tickets + hours, never tickets × hours. Pure: no I/O.

What a replay cannot know it assumes, and says so: a ticket created before the backfill whose first event
in it is a solve was open from the backfill's start; one still open now with no event at all was open
since its creation (or the backfill's start). Team = the team of the ticket's latest event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.history import EventKind

HOUR = timedelta(hours=1)
_ONE_DAY, _THREE_DAYS, _TICK = timedelta(days=1), timedelta(days=3), timedelta(microseconds=1)


@dataclass
class TicketTimeline:
    """One ticket's status changes in the backfilled stretch, in time order."""

    ref: str
    created_at: datetime
    team: str
    changes: list[tuple[datetime, EventKind]] = field(default_factory=list)
    open_now: bool | None = None  # from the synced copy: None when the ticket is not synced


@dataclass(frozen=True)
class HourlyBacklog:
    """A team's open tickets at `at`, by age (also what the store keeps as a backlog snapshot)."""

    team: str
    at: datetime
    open: int
    under_1d: int
    from_1d_to_3d: int
    over_3d: int


def open_spans(t: TicketTimeline, since: datetime, now: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) spans in which the ticket was open, clipped to [since, now)."""
    changes = sorted(t.changes)
    first = next((kind for _, kind in changes if kind in (EventKind.SOLVED, EventKind.REOPENED)), None)
    if t.created_at >= since:
        opened: datetime | None = t.created_at
    elif first is EventKind.SOLVED or (first is None and t.open_now):
        opened = since  # open when the backfill starts: it was solved (or is open) with no reopen before
    else:
        opened = None
    spans = []
    for at, kind in changes:
        if kind is EventKind.SOLVED and opened is not None:
            spans.append((opened, at))
            opened = None
        elif kind in (EventKind.REOPENED, EventKind.CREATED) and opened is None:
            opened = max(at, since)
    if opened is not None and t.open_now is not False:
        spans.append((opened, now))
    return [(max(a, since), min(b, now)) for a, b in spans if min(b, now) > max(a, since)]


def replay(timelines: Iterable[TicketTimeline], since: datetime, now: datetime) -> list[HourlyBacklog]:
    """Counts at every whole UTC hour in (since, now], per team that has a ticket in the replay."""
    first_hour = _ceil_hour(since)
    hours = max(int((now - first_hour) / HOUR) + 1, 0)
    diffs: dict[str, list[list[int]]] = {}
    for t in timelines:
        team_diff = diffs.setdefault(t.team, [[0] * (hours + 1) for _ in range(3)])
        # ages as `bot.domain.digest.age_buckets` counts them: <1d, 1d..3d inclusive, >3d
        e1, e2 = t.created_at + _ONE_DAY, t.created_at + _THREE_DAYS + _TICK
        for start, end in open_spans(t, since, now):
            for bucket, (low, high) in enumerate(((None, e1), (e1, e2), (e2, None))):
                a = start if low is None else max(start, low)
                b = end if high is None else min(end, high)
                i, j = _index(a, first_hour), _index(b, first_hour)
                if a < b and i < j:
                    team_diff[bucket][min(i, hours)] += 1
                    team_diff[bucket][min(j, hours)] -= 1
    result = []
    for team, buckets in sorted(diffs.items()):
        running = [0, 0, 0]
        for h in range(hours):
            for b in range(3):
                running[b] += buckets[b][h]
            at = first_hour + h * HOUR
            result.append(HourlyBacklog(team, at, sum(running), running[0], running[1], running[2]))
    return result


def _ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + HOUR


def _index(t: datetime, first_hour: datetime) -> int:
    """The first hour point at or after `t` (a span [a, b) covers the points a <= p < b)."""
    return max(math.ceil((t - first_hour) / HOUR), 0)
