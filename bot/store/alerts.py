"""SLA alert rows: decisions (unique per ticket, metric, cycle and threshold), their outbox rows, acks.

A decision and the outbox row that will post it are written in one transaction, so a decided alert
is always on its way out and never posted twice; the outbox tells the alert row when it was posted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, delete, exists, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.domain.model import AlertDecision, AlertKind, TicketRef
from bot.store.outbox import Effect, OutboxKind, OutboxStore
from bot.store.tables import AlertRow, DeadlineRow

ALERT_PURPOSE = "sla_alert"
ALERT_UPDATE_PURPOSE = "sla_alert_update"
A = AlertRow.__table__
D = DeadlineRow.__table__


class AlertStatus:
    PENDING = "pending"  # decided; its outbox row is on its way
    POSTED = "posted"
    CANCELLED = "cancelled"  # no longer applied when its turn came
    DEAD = "dead"  # Slack refused it for good (see the outbox row's reason)


@dataclass(frozen=True)
class StoredAlert:
    """An alert as the delivery and acknowledge paths need it."""

    id: int
    ref: TicketRef
    metric: str
    cycle: str
    key: str
    kind: AlertKind
    threshold: timedelta | None
    team: str | None
    channel: str
    due_at: datetime
    decided_at: datetime
    status: str
    attempts: int
    ts: str | None
    thread_ts: str | None
    posted_at: datetime | None
    acked_by: str | None
    acked_at: datetime | None
    claimed_at: datetime | None
    last_error: str | None
    previous_due_at: datetime | None = None
    group_key: str | None = None


@dataclass(frozen=True)
class RoutedDecision:
    """A decision plus where it goes (team name and Slack channel), ready to be recorded."""

    decision: AlertDecision
    team: str | None
    channel: str


def alert_post_effect(alert_id: int, channel: str, kind: AlertKind) -> Effect:
    return Effect(
        key=f"{ALERT_PURPOSE}:{alert_id}",
        kind=OutboxKind.SLACK_POST,
        purpose=ALERT_PURPOSE,
        channel=channel,
        payload={"alert_id": alert_id, "kind": kind.value},
        subject_id=alert_id,
    )


def alert_update_effect(alert_id: int, channel: str, reason: str) -> Effect:
    """An update of a posted alert message, re-rendered from current state when it is sent; `reason`
    makes the key (one update per acknowledgement, per moved deadline...)."""
    return Effect(
        key=f"{ALERT_UPDATE_PURPOSE}:{alert_id}:{reason}",
        kind=OutboxKind.SLACK_UPDATE,
        purpose=ALERT_UPDATE_PURPOSE,
        channel=channel,
        payload={"alert_id": alert_id, "reason": reason},
        subject_id=alert_id,
    )


class AlertQueries:
    """Alert methods of the Store (mixed in; uses the Store's engine and sessions)."""

    engine: Engine
    session: Callable[[], Session]  # provided by Store

    @property
    def outbox(self) -> OutboxStore:
        return OutboxStore(self.engine)

    # -- deciding --------------------------------------------------------------------------------
    def alerts_for_cycles(
        self, cycles: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], list[StoredAlert]]:
        """Alerts decided for these (ref, metric, cycle) deadlines: one indexed query per chunk."""
        out: dict[tuple[str, str, str], list[StoredAlert]] = {}
        with self.session() as session:
            for start in range(0, len(cycles), 400):
                part = list(cycles[start : start + 400])
                stmt = select(AlertRow).where(tuple_(AlertRow.ref, AlertRow.metric, AlertRow.cycle).in_(part))
                for row in session.scalars(stmt):
                    out.setdefault((row.ref, row.metric, row.cycle), []).append(_alert(row))
        return out

    def alerts_in_group(self, group_key: str) -> list[StoredAlert]:
        stmt = select(AlertRow).where(AlertRow.group_key == group_key).order_by(AlertRow.due_at, AlertRow.id)
        with self.session() as session:
            return [_alert(row) for row in session.scalars(stmt)]

    def record_decisions(
        self,
        routed: Sequence[RoutedDecision],
        *,
        now: datetime,
        plan: Callable[[list[tuple[int, RoutedDecision]]], Sequence[Effect]] | None = None,
    ) -> list[tuple[int, RoutedDecision]]:
        """Insert each decision unless its key exists, with the outbox rows that deliver them in the same
        transaction (one post each, or what `plan` makes of them: grouped messages, a backlog summary).
        Returns (id, decision) for rows actually inserted."""
        if not routed:
            return []
        insert_fn = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        inserted: list[tuple[int, RoutedDecision]] = []
        with self.engine.begin() as conn:
            for item in routed:
                d = item.decision
                stmt = (
                    insert_fn(A)
                    .values(
                        ref=str(d.deadline.ref),
                        metric=d.deadline.metric,
                        cycle=d.deadline.cycle,
                        key=d.key,
                        kind=d.kind.value,
                        threshold_seconds=int(d.threshold.total_seconds()) if d.threshold else None,
                        team=item.team,
                        channel=item.channel,
                        due_at=d.deadline.due_at,
                        decided_at=now,
                        status=AlertStatus.PENDING,
                        attempts=0,
                        next_attempt_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["ref", "metric", "cycle", "key"])
                    .returning(A.c.id)
                )
                new_id = conn.execute(stmt).scalar()
                if new_id is not None:
                    inserted.append((int(new_id), item))
            if plan is None:
                effects = [alert_post_effect(i, item.channel, item.decision.kind) for i, item in inserted]
            else:
                effects = list(plan(inserted))
            self.outbox.enqueue(effects, now=now, conn=conn)
            for effect in effects:
                grouped = effect.payload.get("alert_ids")
                if grouped:  # alerts delivered inside a grouped message or summary know which one
                    conn.execute(update(A).where(A.c.id.in_(grouped)).values(group_key=effect.key))
        return inserted

    def set_status(self, alert_ids: Sequence[int], status: str, *, reason: str | None = None) -> None:
        if not alert_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(A).where(A.c.id.in_(list(alert_ids))).values(status=status, last_error=reason)
            )

    def move_deadline(self, alert: StoredAlert, due_at: datetime, *, now: datetime) -> bool:
        """The helpdesk moved this alert's deadline inside its cycle: remember the old one and queue an
        update of the posted message (never a second post)."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(A)
                .where(A.c.id == alert.id, A.c.due_at == alert.due_at)
                .values(previous_due_at=alert.due_at, due_at=due_at)
            ).rowcount
            if changed != 1:
                return False
            if alert.status == AlertStatus.POSTED and alert.ts:
                reason = f"due:{int(due_at.timestamp())}"
                self.outbox.enqueue(
                    [alert_update_effect(alert.id, alert.channel, reason)], now=now, conn=conn
                )
            return True

    def reroute(self, alert_id: int, *, team: str | None, channel: str) -> None:
        """A not-yet-posted alert whose item moved to another team goes to that team's channel."""
        with self.engine.begin() as conn:
            conn.execute(update(A).where(A.c.id == alert_id).values(team=team, channel=channel))

    # -- outbox hooks (run inside the outbox's transaction) --------------------------------------
    @staticmethod
    def alert_posted(
        conn: Connection, alert_id: int, *, channel: str, ts: str, thread_ts: str | None, now: datetime
    ) -> None:
        conn.execute(
            update(A)
            .where(A.c.id == alert_id)
            .values(
                status=AlertStatus.POSTED,
                channel=channel,
                ts=ts,
                thread_ts=thread_ts,
                posted_at=now,
                last_error=None,
            )
        )

    @staticmethod
    def alert_finished(conn: Connection, alert_id: int, *, status: str, reason: str) -> None:
        conn.execute(update(A).where(A.c.id == alert_id).values(status=status, last_error=reason[:500]))

    @staticmethod
    def group_posted(
        conn: Connection, alert_ids: Sequence[int], *, channel: str, ts: str, now: datetime
    ) -> None:
        """Every alert of a grouped message (or backlog summary) shares its message ts."""
        conn.execute(
            update(A)
            .where(A.c.id.in_(list(alert_ids)))
            .values(status=AlertStatus.POSTED, channel=channel, ts=ts, posted_at=now, last_error=None)
        )

    # -- reading and acknowledging ---------------------------------------------------------------
    def get_alert(self, alert_id: int) -> StoredAlert | None:
        with self.session() as session:
            row = session.get(AlertRow, alert_id)
            return _alert(row) if row else None

    def posted_warning(self, ref: TicketRef, metric: str, cycle: str) -> StoredAlert | None:
        """The latest posted warning for this deadline cycle, to thread the breach alert under it."""
        stmt = (
            select(AlertRow)
            .where(
                AlertRow.ref == str(ref),
                AlertRow.metric == metric,
                AlertRow.cycle == cycle,
                AlertRow.kind == AlertKind.WARNING.value,
                AlertRow.status == AlertStatus.POSTED,
            )
            .order_by(AlertRow.posted_at.desc(), AlertRow.id.desc())
            .limit(1)
        )
        with self.session() as session:
            row = session.scalars(stmt).first()
            return _alert(row) if row else None

    def acknowledge(self, alert_id: int, *, user_id: str, now: datetime) -> StoredAlert | None:
        """Record who acknowledged first; later clicks keep the first acknowledgement."""
        with self.session() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.acked_by.is_(None))
                .values(acked_by=user_id, acked_at=now)
            )
            session.commit()
            row = session.get(AlertRow, alert_id)
            return _alert(row) if row else None

    def prune_alerts(self, *, before: datetime) -> int:
        """Delete finished alerts decided before `before` whose deadline is gone (its item was solved or
        the cycle ended). Alerts of live deadlines are kept whatever their age: they are what stops a
        cycle from being alerted twice."""
        live = exists().where(and_(D.c.ref == A.c.ref, D.c.metric == A.c.metric, D.c.cycle == A.c.cycle))
        finished = [AlertStatus.POSTED, AlertStatus.CANCELLED, AlertStatus.DEAD]
        stmt = delete(A).where(A.c.decided_at < before, A.c.status.in_(finished), ~live)
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    def all_alerts(self) -> list[StoredAlert]:
        with self.session() as session:
            return [_alert(row) for row in session.scalars(select(AlertRow).order_by(AlertRow.id))]


def _alert(row: AlertRow) -> StoredAlert:
    return StoredAlert(
        id=int(row.id or 0),
        ref=TicketRef.parse(row.ref),
        metric=row.metric,
        cycle=row.cycle,
        key=row.key,
        kind=AlertKind(row.kind),
        threshold=timedelta(seconds=row.threshold_seconds) if row.threshold_seconds else None,
        team=row.team,
        channel=row.channel,
        due_at=row.due_at,
        decided_at=row.decided_at,
        status=row.status,
        attempts=row.attempts,
        ts=row.ts,
        thread_ts=row.thread_ts,
        posted_at=row.posted_at,
        acked_by=row.acked_by,
        acked_at=row.acked_at,
        claimed_at=row.claimed_at,
        last_error=row.last_error,
        previous_due_at=row.previous_due_at,
        group_key=row.group_key,
    )
