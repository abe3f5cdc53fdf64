"""App Home reads and the `home_views` bookkeeping.

Board queries go through existing indexes (deadlines by due time, tickets by ref, escalations by status,
QA reviews by agent) and aggregate in SQL, so a board costs a handful of small queries however large
the desk. `home_views` remembers who opened Home and what they were last shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.deadlines import ListedDeadline, deadline_record
from bot.store.home_tables import HomeViewRow
from bot.store.tables import DeadlineRow, EscalationRow, QaDisputeRow, QaReviewRow, TicketRow

D = DeadlineRow.__table__
T = TicketRow.__table__
E = EscalationRow.__table__
R = QaReviewRow.__table__
Q = QaDisputeRow.__table__
H = HomeViewRow.__table__
_CLOSED_ESCALATION = ("escalated", "resolved")


@dataclass(frozen=True)
class HomeViewState:
    user: str
    opened_at: datetime
    published_at: datetime | None
    hash: str | None


@dataclass(frozen=True)
class RefState:
    """One open item's worst deadline, per team (what the team counts are made of)."""

    team: str | None
    ref: str
    first_due: datetime


@dataclass(frozen=True)
class QaFigures:
    reviews: int
    average: float | None
    my_open_disputes: int
    to_decide: int


class HomeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self):
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    # -- home_views ------------------------------------------------------------------------------------
    def record_open(self, user: str, *, now: datetime) -> None:
        stmt = self._insert()(H).values(user_id=user, opened_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=[H.c.user_id], set_={"opened_at": now})
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def get(self, user: str) -> HomeViewState | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(H).where(H.c.user_id == user)).mappings().first()
        return _state(row) if row else None

    def opened_since(self, since: datetime, *, limit: int = 1000) -> list[HomeViewState]:
        """Who opened Home at or after `since`, most recent first (through the opened_at index)."""
        stmt = select(H).where(H.c.opened_at >= since).order_by(H.c.opened_at.desc(), H.c.user_id)
        with self.engine.connect() as conn:
            return [_state(row) for row in conn.execute(stmt.limit(limit)).mappings()]

    def mark_published(self, user: str, *, view_hash: str, now: datetime) -> None:
        stmt = self._insert()(H).values(user_id=user, opened_at=now, published_at=now, hash=view_hash)
        stmt = stmt.on_conflict_do_update(
            index_elements=[H.c.user_id], set_={"published_at": now, "hash": view_hash}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def forget_hash(self, user: str) -> None:
        """Make the next refresh publish whatever it renders (e.g. after a failed publish)."""
        with self.engine.begin() as conn:
            conn.execute(update(H).where(H.c.user_id == user).values(hash=None))

    # -- the board ---------------------------------------------------------------------------------------
    def assigned_deadlines(
        self, agents: Mapping[str, str], *, due_before: datetime, limit: int = 200
    ) -> list[ListedDeadline]:
        """Deadlines due before `due_before` of open items assigned to these agents ({source: agent id}),
        by due time."""
        if not agents:
            return []
        mine = or_(
            *(and_(T.c.source == source, T.c.assignee_id == agent) for source, agent in agents.items())
        )
        stmt = (
            select(D, T.c.subject, T.c.url, T.c.priority, T.c.assignee_name)
            .join(T, T.c.ref == D.c.ref)
            .where(D.c.due_at <= due_before, mine, T.c.is_open.is_(True))
            .order_by(D.c.due_at, D.c.ref, D.c.metric)
            .limit(limit)
        )
        return self._listed(stmt)

    def upcoming(self, teams: Iterable[str], *, after: datetime, limit: int = 5) -> list[ListedDeadline]:
        """The next `limit` deadlines of these teams not yet breached, earliest first."""
        names = sorted(set(teams))
        if not names:
            return []
        stmt = (
            select(D, T.c.subject, T.c.url, T.c.priority, T.c.assignee_name)
            .join(T, T.c.ref == D.c.ref)
            .where(D.c.due_at > after, D.c.team.in_(names))
            .order_by(D.c.due_at, D.c.ref, D.c.metric)
            .limit(limit)
        )
        return self._listed(stmt)

    def first_due_by_ref(self, teams: Iterable[str], *, due_before: datetime) -> list[RefState]:
        """Each item's earliest deadline due before `due_before`, for these teams (counts by state)."""
        names = sorted(set(teams))
        if not names:
            return []
        stmt = (
            select(D.c.team, D.c.ref, func.min(D.c.due_at).label("first_due"))
            .where(D.c.team.in_(names), D.c.due_at <= due_before)
            .group_by(D.c.team, D.c.ref)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [RefState(row["team"], row["ref"], _aware(row["first_due"])) for row in rows]

    def open_by_group(self) -> dict[tuple[str, str | None], int]:
        """Open items per (source, group id): mapped to teams by the caller's routes."""
        stmt = (
            select(T.c.source, T.c.group_id, func.count())
            .where(T.c.is_open.is_(True))
            .group_by(T.c.source, T.c.group_id)
        )
        with self.engine.connect() as conn:
            return {(source, group): int(n) for source, group, n in conn.execute(stmt)}

    def groups_of(self, refs: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """(source, group id) of these tickets."""
        unique = sorted(set(refs))
        out: dict[str, tuple[str, str | None]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(unique), 500):
                stmt = select(T.c.ref, T.c.source, T.c.group_id).where(
                    T.c.ref.in_(unique[start : start + 500])
                )
                out.update({ref: (source, group) for ref, source, group in conn.execute(stmt)})
        return out

    def ticket_urls(self, refs: Sequence[str]) -> dict[str, str]:
        unique = sorted(set(refs))
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(unique), 500):
                stmt = select(T.c.ref, T.c.url).where(T.c.ref.in_(unique[start : start + 500]))
                out.update({ref: url for ref, url in conn.execute(stmt) if url})
        return out

    def open_escalation_ids(self, *, limit: int = 1000) -> list[int]:
        """Open handoffs (not escalated or resolved), oldest first."""
        stmt = select(E.c.id).where(E.c.status.not_in(_CLOSED_ESCALATION)).order_by(E.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(stmt).scalars()]

    def qa_figures(self, user: str, *, since: datetime) -> QaFigures:
        """The user's reviews since `since` (count, average percent), their open disputes, and the open
        disputes of reviews they wrote (theirs to decide)."""
        reviews = select(func.count(), func.avg(R.c.percent)).where(
            R.c.agent == user, R.c.kind == "review", R.c.created_at >= since
        )
        mine = select(func.count()).select_from(Q).where(Q.c.agent == user, Q.c.state == "open")
        to_decide = (
            select(func.count())
            .select_from(Q.join(R, R.c.id == Q.c.review_id))
            .where(R.c.reviewer == user, Q.c.state == "open")
        )
        with self.engine.connect() as conn:
            count, average = conn.execute(reviews).one()
            open_mine = int(conn.execute(mine).scalar() or 0)
            deciding = int(conn.execute(to_decide).scalar() or 0)
        return QaFigures(
            reviews=int(count or 0),
            average=None if not count else float(average),
            my_open_disputes=open_mine,
            to_decide=deciding,
        )

    def _listed(self, stmt) -> list[ListedDeadline]:
        with self.engine.connect() as conn:
            return [
                ListedDeadline(
                    deadline_record(row),
                    row["subject"],
                    row["url"],
                    row["priority"],
                    row["assignee_name"],
                )
                for row in conn.execute(stmt).mappings()
            ]


def _state(row) -> HomeViewState:
    return HomeViewState(row["user_id"], row["opened_at"], row["published_at"], row["hash"])


def _aware(value: datetime) -> datetime:
    """`min()` keeps the column's UtcDateTime type; this guards a driver handing back a naive value."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
