"""Deadline rows: written in bulk when items are synced, read by the sweep only where an alert is due.

Writes are `INSERT … ON CONFLICT DO UPDATE` in chunks (one statement per chunk, no per-row SELECT);
the sweep reads `next_at <= now` through its index, so a quiet sweep over 100,000 open items reads
nothing but the rows whose moment has come.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, bindparam, case, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.tables import DeadlineRow, MetaRow, TicketRow

D = DeadlineRow.__table__
M = MetaRow.__table__
T = TicketRow.__table__
CHUNK = 400  # rows per statement: 9 columns each stays far below SQLite's bound-parameter limit

Key = tuple[str, str, str]  # (ref, metric, cycle)


@dataclass(frozen=True)
class DeadlineRecord:
    """A deadline as stored: where its alerts go and the next moment one becomes due."""

    ref: str
    metric: str
    cycle: str
    due_at: datetime
    team: str | None
    channel: str
    next_at: datetime | None
    first_seen_at: datetime | None = None

    @property
    def key(self) -> Key:
        return (self.ref, self.metric, self.cycle)


@dataclass(frozen=True)
class Moved:
    key: Key
    old_due: datetime
    new_due: datetime


@dataclass(frozen=True)
class ListedDeadline:
    """A deadline with the ticket fields `/sla` shows."""

    record: DeadlineRecord
    subject: str
    url: str
    priority: str | None
    assignee_name: str | None


class DeadlineStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self):
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    # -- writing (sync time) ---------------------------------------------------------------------
    def replace_for_items(
        self, refs: Sequence[str], records: Sequence[DeadlineRecord], *, now: datetime
    ) -> list[Moved]:
        """Make the stored deadlines of `refs` exactly `records`: insert new ones, update changed ones,
        delete the ones that ended (answered, solved, paused). Returns deadlines whose due time moved.

        A deadline whose due time or route changed gets the new `next_at` (its earliest alert moment;
        the sweep skips what was decided already); an unchanged one keeps the sweep's `next_at`."""
        if not refs:
            return []
        wanted = {r.key: r for r in records}
        existing: dict[Key, tuple[datetime, str, str | None]] = {}
        with self.engine.begin() as conn:
            for part in _chunks(list(refs), CHUNK):
                rows = conn.execute(
                    select(D.c.ref, D.c.metric, D.c.cycle, D.c.due_at, D.c.channel, D.c.team).where(
                        D.c.ref.in_(part)
                    )
                )
                existing.update({(r, m, c): (due, ch, team) for r, m, c, due, ch, team in rows})
            gone = [key for key in existing if key not in wanted]
            for part in _chunks(gone, CHUNK):
                conn.execute(delete(D).where(tuple_(D.c.ref, D.c.metric, D.c.cycle).in_(part)))
            changed = [r for r in records if existing.get(r.key) != (r.due_at, r.channel, r.team)]
            if changed:
                insert = self._insert()
                stmt = insert(D)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["ref", "metric", "cycle"],
                    set_={
                        "due_at": stmt.excluded.due_at,
                        "team": stmt.excluded.team,
                        "channel": stmt.excluded.channel,
                        "next_at": stmt.excluded.next_at,
                        # A deadline that moves to a channel sees that channel for the first time.
                        "first_seen_at": case(
                            (D.c.channel != stmt.excluded.channel, stmt.excluded.first_seen_at),
                            else_=D.c.first_seen_at,
                        ),
                        "updated_at": stmt.excluded.updated_at,
                    },
                )
                # executemany: compiled once, batched by SQLAlchemy (insertmanyvalues), not one
                # freshly compiled multi-row VALUES statement per chunk.
                conn.execute(
                    stmt,
                    [
                        {
                            "ref": r.ref,
                            "metric": r.metric,
                            "cycle": r.cycle,
                            "due_at": r.due_at,
                            "team": r.team,
                            "channel": r.channel,
                            "next_at": r.next_at,
                            "first_seen_at": now,
                            "updated_at": now,
                        }
                        for r in changed
                    ],
                )
        return [
            Moved(r.key, existing[r.key][0], r.due_at)
            for r in changed
            if r.key in existing and existing[r.key][0] != r.due_at
        ]

    def set_next(self, updates: Iterable[tuple[Key, datetime | None]]) -> None:
        """After a sweep decided a deadline: the next moment one of its alerts is due (None: done)."""
        params = [{"r": k[0], "m": k[1], "c": k[2], "n": n} for k, n in updates]
        if not params:
            return
        stmt = (
            update(D)
            .where(D.c.ref == bindparam("r"), D.c.metric == bindparam("m"), D.c.cycle == bindparam("c"))
            .values(next_at=bindparam("n"))
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, params)

    def due(
        self, *, now: datetime, limit: int, after: tuple[datetime, str, str, str] | None = None
    ) -> list[DeadlineRecord]:
        """Deadlines whose next alert moment has come, earliest first, keyset-paged with `after` =
        (next_at, ref, metric, cycle) of the last row read. Ordering by `next_at` first keeps the query
        on the `next_at` index: ordering by the primary key made SQLite walk every deadline."""
        stmt = select(D).where(D.c.next_at <= now)
        if after is not None:
            stmt = stmt.where(tuple_(D.c.next_at, D.c.ref, D.c.metric, D.c.cycle) > after)
        stmt = stmt.order_by(D.c.next_at, D.c.ref, D.c.metric, D.c.cycle).limit(limit)
        with self.engine.connect() as conn:
            return [deadline_record(row) for row in conn.execute(stmt).mappings()]

    def listed(
        self, *, due_before: datetime, teams: set[str] | None, limit: int = 500
    ) -> list[ListedDeadline]:
        """At-risk and breached deadlines (due before `due_before`) with their tickets, by due time,
        through the due_at index (`/sla`)."""
        stmt = (
            select(D, T.c.subject, T.c.url, T.c.priority, T.c.assignee_name)
            .join(T, T.c.ref == D.c.ref)
            .where(D.c.due_at <= due_before)
            .order_by(D.c.due_at, D.c.ref)
            .limit(limit)
        )
        if teams is not None:
            stmt = stmt.where(D.c.team.in_(sorted(teams)))
        with self.engine.connect() as conn:
            return [
                ListedDeadline(
                    deadline_record(row), row["subject"], row["url"], row["priority"], row["assignee_name"]
                )
                for row in conn.execute(stmt).mappings()
            ]

    def counts(self, *, now: datetime, widest: datetime) -> tuple[int, int]:
        """(at risk, breached) over every stored deadline: two range counts on the due-time index."""
        at_risk = select(func.count()).select_from(D).where(D.c.due_at > now, D.c.due_at <= widest)
        breached = select(func.count()).select_from(D).where(D.c.due_at <= now)
        with self.engine.connect() as conn:
            return int(conn.execute(at_risk).scalar() or 0), int(conn.execute(breached).scalar() or 0)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(D)).scalar() or 0)

    # -- meta ------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(M.c.value).where(M.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        stmt = self._insert()(M).values(key=key, value=value)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})
        with self.engine.begin() as conn:
            conn.execute(stmt)


def deadline_record(row) -> DeadlineRecord:
    """A deadline row (a mapping with the table's columns) as a DeadlineRecord."""
    return DeadlineRecord(
        ref=row["ref"],
        metric=row["metric"],
        cycle=row["cycle"],
        due_at=row["due_at"],
        team=row["team"],
        channel=row["channel"],
        next_at=row["next_at"],
        first_seen_at=row["first_seen_at"],
    )


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]
