"""The digest history store: append-only inserts (a record seen twice is ignored), feed state, backlog
snapshots and retention. Aggregates over it live in `bot.store.digest_queries`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.backlog_replay import HourlyBacklog as Snapshot  # a backlog count at a moment
from bot.domain.model import Source
from bot.store.history_tables import (
    BacklogSnapshotRow,
    HistoryEventRow,
    HistoryOutcomeRow,
    HistoryRatingRow,
    HistoryStateRow,
    HistoryTagRow,
)

E = HistoryEventRow.__table__
T = HistoryTagRow.__table__
O = HistoryOutcomeRow.__table__  # noqa: E741
R = HistoryRatingRow.__table__
B = BacklogSnapshotRow.__table__
S = HistoryStateRow.__table__

# Each statement inserts at most this many rows: SQLite allows 32,766 bound parameters per statement.
_CHUNK = 500
_CONFLICT_KEYS = {
    "history_events": ("ref", "event_id"),
    "history_tags": ("ref", "tag"),
    "history_sla_outcomes": ("ref", "metric", "cycle"),
    "history_ratings": ("ref", "rating_id"),
    "history_backlog": ("team", "at"),
}


@dataclass(frozen=True)
class HistoryRows:
    """Prepared rows for one page: the service stamps the team and the durations, the store inserts."""

    events: Sequence[Mapping[str, Any]] = ()
    tags: Sequence[Mapping[str, Any]] = ()
    outcomes: Sequence[Mapping[str, Any]] = ()
    ratings: Sequence[Mapping[str, Any]] = ()

    def __len__(self) -> int:
        return len(self.events) + len(self.outcomes) + len(self.ratings)


@dataclass(frozen=True)
class HistoryState:
    source: Source
    cursor: str | None
    since: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    records: int


class HistoryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self):
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    # -- records ---------------------------------------------------------------------------------
    def add(self, rows: HistoryRows, *, source: Source, cursor: str | None, now: datetime) -> int:
        """Insert the page's rows (ignoring ones already stored) and, in the same transaction, the cursor
        after them: a crash between the two can neither skip a page nor store it twice. Returns how many
        events, outcomes and ratings were new."""
        added = 0
        with self.engine.begin() as conn:
            for table, values in ((E, rows.events), (O, rows.outcomes), (R, rows.ratings), (T, rows.tags)):
                count = self._insert_ignoring(conn, table, values)
                added += 0 if table is T else count
            self._save_state(conn, source, now=now, cursor=cursor, added=added)
        return added

    def _insert_ignoring(self, conn, table, values: Sequence[Mapping[str, Any]]) -> int:
        inserted = 0
        for start in range(0, len(values), _CHUNK):
            chunk = [dict(value) for value in values[start : start + _CHUNK]]
            stmt = self._insert()(table).values(chunk)
            stmt = stmt.on_conflict_do_nothing(index_elements=list(_CONFLICT_KEYS[table.name]))
            # RETURNING counts what was new on both databases (a batched rowcount is -1 on psycopg)
            inserted += len(conn.execute(stmt.returning(table.c.id)).all())
        return inserted

    # -- feed state ------------------------------------------------------------------------------
    def state(self, source: Source) -> HistoryState:
        with self.engine.connect() as conn:
            row = conn.execute(select(S).where(S.c.source == source.value)).mappings().first()
        if row is None:
            return HistoryState(source, None, None, None, None, 0)
        return HistoryState(
            source, row["cursor"], row["since"], row["last_success_at"], row["last_error"], row["records"]
        )

    def states(self) -> dict[Source, HistoryState]:
        return {source: self.state(source) for source in Source}

    def start_backfill(self, source: Source, *, since: datetime, now: datetime) -> None:
        """Forget the cursor so the next read starts at `since` (records already stored stay: ids dedupe)."""
        with self.engine.begin() as conn:
            self._save_state(conn, source, now=None, cursor=None, added=0, since=since, reset_cursor=True)

    def finish(self, source: Source, *, now: datetime, error: str | None) -> None:
        with self.engine.begin() as conn:
            self._ensure_state(conn, source)
            values: dict[str, Any] = {"last_error": error}
            if error is None:
                values["last_success_at"] = now
            conn.execute(S.update().where(S.c.source == source.value).values(**values))

    def _ensure_state(self, conn, source: Source) -> None:
        stmt = self._insert()(S).values(source=source.value, records=0)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["source"]))

    def _save_state(
        self,
        conn,
        source: Source,
        *,
        now: datetime | None,
        cursor: str | None,
        added: int,
        since: datetime | None = None,
        reset_cursor: bool = False,
    ) -> None:
        self._ensure_state(conn, source)
        values: dict[str, Any] = {"records": S.c.records + added}
        if cursor is not None or reset_cursor:
            values["cursor"] = cursor
        if since is not None:
            values["since"] = since
        conn.execute(S.update().where(S.c.source == source.value).values(**values))

    # -- backlog snapshots ----------------------------------------------------------------------
    def add_snapshots(self, snapshots: Iterable[Snapshot]) -> int:
        rows = [vars(snapshot) for snapshot in snapshots]
        with self.engine.begin() as conn:
            return self._insert_ignoring(conn, B, rows)

    def snapshot_at(self, team: str, at: datetime, *, not_before: datetime) -> Snapshot | None:
        """The latest snapshot of `team` taken at or before `at`, if it is not older than `not_before`."""
        stmt = (
            select(B)
            .where(B.c.team == team, B.c.at <= at, B.c.at >= not_before)
            .order_by(B.c.at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        if row is None:
            return None
        return Snapshot(
            row["team"], row["at"], row["open"], row["under_1d"], row["from_1d_to_3d"], row["over_3d"]
        )

    def latest_snapshot_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(select(B.c.at).order_by(B.c.at.desc()).limit(1)).scalar()

    # -- retention -------------------------------------------------------------------------------
    def prune(self, *, before: datetime) -> int:
        """Delete history older than `before` (retention.history); returns the rows deleted."""
        deleted = 0
        with self.engine.begin() as conn:
            for table in (E, T, O, R, B):
                deleted += conn.execute(delete(table).where(table.c.at < before)).rowcount or 0
        return deleted
