"""Keeps the digest history: reads each helpdesk's history feed from its stored cursor, stamps the records
(`history_rows`), stores them append-only, snapshots each team's backlog and prunes what is past retention.

Run every few minutes by `serve` and on demand by `deskwatch sync --backfill 56d`. A first run with no
cursor backfills `retention.history` (or less, when asked) so the first digest already has a last week.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, and_, case, func, select

from bot.config import AppConfig
from bot.domain.backlog_replay import TicketTimeline, replay
from bot.domain.digest import AGE_1_TO_3D, AGE_OVER_3D, AGE_UNDER_1D
from bot.domain.history import EventKind, SlaOutcome
from bot.domain.model import Metric, Source, TicketRef
from bot.services.history_rows import RowBuilder
from bot.store.history import HistoryStore, Snapshot
from bot.store.history_tables import HistoryEventRow
from bot.store.tables import DeadlineRow, TicketRow
from integrations.base import HelpdeskError
from integrations.history import HistoryFeed, HistoryPage

log = structlog.get_logger(__name__)

SNAPSHOT_EVERY = timedelta(hours=1)
# Backlog snapshots are looked up this far before a window's end; older ones are "no data".
SNAPSHOT_TOLERANCE = timedelta(hours=2)
SNAPSHOT_LATE = timedelta(minutes=15)
NO_TEAM = ""
_STATUS_KINDS = frozenset({EventKind.CREATED.value, EventKind.SOLVED.value, EventKind.REOPENED.value})

BackfillProgress = Callable[[Source, datetime | None, int], None]
"""Called after each stored page with (source, time reached, records stored so far)."""


@dataclass(frozen=True)
class HistoryResult:
    source: Source
    records: int
    api_calls: int
    pages: int
    error: str | None = None


class HistoryService:
    def __init__(
        self, *, engine: Engine, store: HistoryStore, feeds: Mapping[Source, HistoryFeed], config: AppConfig
    ) -> None:
        self.engine = engine
        self.store = store
        self.feeds = dict(feeds)
        self.config = config
        self._lock = threading.Lock()  # one reader per feed in this process (job, digest, CLI)

    @property
    def retention(self) -> timedelta:
        return self.config.retention.history

    # -- feeding -----------------------------------------------------------------------------------
    def pull(self, *, now: datetime, progress: BackfillProgress | None = None) -> list[HistoryResult]:
        """Read every feed from its cursor (a first run backfills `retention.history`), then record the
        Intercom deadlines that went overdue and, once an hour, a backlog snapshot."""
        with self._lock:
            first = [source for source in self.feeds if self.store.state(source).since is None]
            results = [
                self._pull(source, feed, now=now, progress=progress) for source, feed in self.feeds.items()
            ]
            self.record_overdue(now=now)
            if first:  # the first start backfilled `retention.history`: replay those weeks' backlog too
                self.replay_backlog(now - self.retention, now=now)
            self.snapshot_if_due(now=now)
        return results

    def backfill(
        self, since: datetime, *, now: datetime, progress: BackfillProgress | None = None
    ) -> list[HistoryResult]:
        """Read every feed again from `since` (what is already stored is skipped by id)."""
        with self._lock:
            for source in self.feeds:
                self.store.start_backfill(source, since=since, now=now)
        results = self.pull(now=now, progress=progress)
        with self._lock:
            self.replay_backlog(since, now=now)
        return results

    def replay_backlog(self, since: datetime, *, now: datetime) -> int:
        """Hourly backlog snapshots for [since, now] replayed from the stored events (see
        `bot.domain.backlog_replay`), so last week's backlog is known right after a backfill. Snapshots
        taken live are kept: a replayed hour never replaces one (they are at whole hours, live ones not)."""
        E = HistoryEventRow.__table__
        T = TicketRow.__table__
        team_of = RowBuilder(self.config, now=now).team_of
        timelines: dict[str, TicketTimeline] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(E.c.ref, E.c.kind, E.c.at, E.c.team, E.c.created_at)
                .where(E.c.at >= since, E.c.at <= now)
                .order_by(E.c.at, E.c.id)
            )
            for ref, kind, at, team, created in rows:
                t = timelines.get(ref)
                if t is None:
                    t = timelines[ref] = TicketTimeline(ref, created, team or NO_TEAM)
                t.team = team or NO_TEAM  # the team of its latest event
                if kind in _STATUS_KINDS:
                    t.changes.append((at, EventKind(kind)))
            for ref, source, group, created, is_open in conn.execute(
                select(T.c.ref, T.c.source, T.c.group_id, T.c.created_at, T.c.is_open)
            ):
                t = timelines.get(ref)
                if t is None and is_open and created < now:
                    team = team_of(Source(source), group) or NO_TEAM
                    timelines[ref] = TicketTimeline(ref, created, team, open_now=True)
                elif t is not None:
                    t.open_now = bool(is_open)
        hourly = replay(timelines.values(), since, now)
        return self.store.add_snapshots(hourly)

    def _pull(
        self, source: Source, feed: HistoryFeed, *, now: datetime, progress: BackfillProgress | None
    ) -> HistoryResult:
        state = self.store.state(source)
        since = state.since or now - self.retention
        if state.since is None:
            self.store.start_backfill(source, since=since, now=now)
        builder = RowBuilder(self.config, now=now)
        records = calls = pages = 0
        page: HistoryPage
        try:
            for page in feed.history(state.cursor, since=since, now=now):
                records += self.store.add(builder.rows(page), source=source, cursor=page.cursor, now=now)
                calls += page.api_calls
                pages += 1
                if progress is not None:
                    progress(source, page.reached, records)
        except HelpdeskError as exc:
            self.store.finish(source, now=now, error=str(exc))
            log.warning("history_feed_failed", source=source.value, error=str(exc), records=records)
            return HistoryResult(source, records, calls, pages, error=str(exc))
        self.store.finish(source, now=now, error=None)
        log.info("history_fed", source=source.value, records=records, api_calls=calls, pages=pages)
        return HistoryResult(source, records, calls, pages)

    def record_overdue(self, *, now: datetime) -> int:
        """Intercom first-reply deadlines past due become breached outcomes now, without waiting for the
        reply (whose own outcome then has the same key and is ignored). Zendesk's come from its metric
        events. Reads only the deadlines that fell due since the last run (due-time index)."""
        D = DeadlineRow.__table__
        since = now - max(self.retention, timedelta(days=1))
        stmt = select(D.c.ref, D.c.cycle, D.c.due_at, D.c.team).where(
            D.c.metric == Metric.FIRST_REPLY.value,
            D.c.ref.like(f"{Source.INTERCOM.prefix}:%"),
            D.c.due_at <= now,
            D.c.due_at >= since,
        )
        T = TicketRow.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            refs = sorted({row.ref for row in rows})
            facts = (
                {
                    ref: (group, priority)
                    for ref, group, priority in conn.execute(
                        select(T.c.ref, T.c.group_id, T.c.priority).where(T.c.ref.in_(refs))
                    )
                }
                if refs
                else {}
            )
        builder = RowBuilder(self.config, now=now)
        outcomes = []
        for row in rows:
            group, priority = facts.get(row.ref, (None, None))
            outcome = SlaOutcome(
                ref=TicketRef.parse(row.ref),
                metric=Metric.FIRST_REPLY.value,
                cycle=row.cycle,
                achieved=False,
                at=row.due_at,
                due_at=row.due_at,
                group_id=group,
                priority=priority,
            )
            outcomes.append(outcome)
        if not outcomes:
            return 0
        rows_ = builder.rows(HistoryPage(outcomes=tuple(outcomes)))
        return self.store.add(rows_, source=Source.INTERCOM, cursor=None, now=now)

    # -- backlog -------------------------------------------------------------------------------------
    def snapshot_if_due(self, *, now: datetime) -> bool:
        latest = self.store.latest_snapshot_at()
        if latest is not None and now - latest < SNAPSHOT_EVERY:
            return False
        self.snapshot(now=now)
        return True

    def snapshot(self, *, now: datetime) -> list[Snapshot]:
        """Record every team's backlog now (see `live_backlog`)."""
        snapshots = self.live_backlog(now=now)
        self.store.add_snapshots(snapshots)
        return snapshots

    def live_backlog(self, *, now: datetime) -> list[Snapshot]:
        """Every team's open items now, by age: one grouped query over the open-items index."""
        T = TicketRow.__table__
        day, three = now - timedelta(days=1), now - timedelta(days=3)
        stmt = (
            select(
                T.c.source,
                T.c.group_id,
                func.count(),
                func.sum(case((T.c.created_at > day, 1), else_=0)),
                func.sum(case((and_(T.c.created_at <= day, T.c.created_at >= three), 1), else_=0)),
                func.sum(case((T.c.created_at < three, 1), else_=0)),
            )
            .where(T.c.is_open.is_(True))
            .group_by(T.c.source, T.c.group_id)
        )
        team_of = RowBuilder(self.config, now=now).team_of
        totals: dict[str, list[int]] = {route.name: [0, 0, 0, 0] for route in self.config.routes()}
        totals.setdefault(NO_TEAM, [0, 0, 0, 0])
        with self.engine.connect() as conn:
            for source, group, count, under, middle, over in conn.execute(stmt):
                team = team_of(Source(source), group) or NO_TEAM
                sums = totals.setdefault(team, [0, 0, 0, 0])
                for index, value in enumerate((count, under, middle, over)):
                    sums[index] += int(value or 0)
        return [Snapshot(team, now, *sums) for team, sums in totals.items()]

    def backlog_at(self, team: str, at: datetime) -> Snapshot | None:
        """The team's backlog at `at`: the latest snapshot up to SNAPSHOT_LATE after it (the one taken as a
        digest went out, seconds after its send time) and no older than SNAPSHOT_TOLERANCE."""
        return self.store.snapshot_at(team, at + SNAPSHOT_LATE, not_before=at - SNAPSHOT_TOLERANCE)

    def prune(self, *, now: datetime) -> int:
        return self.store.prune(before=now - self.retention)

    def synced_at(self) -> datetime | None:
        """The oldest last successful read among the configured feeds (None: one never succeeded)."""
        stamps = [self.store.state(source).last_success_at for source in self.feeds]
        if not stamps or any(stamp is None for stamp in stamps):
            return None
        return min(stamps)  # type: ignore[type-var]


def age_buckets_of(snapshot: Snapshot) -> dict[str, int]:
    return {
        AGE_UNDER_1D: snapshot.under_1d,
        AGE_1_TO_3D: snapshot.from_1d_to_3d,
        AGE_OVER_3D: snapshot.over_3d,
    }
