"""The one store: item state, sync cursors and SLA alerts, behind methods that return domain values.

Exactly-once comes from here, not from the scheduler: decisions are inserted under a unique key
(`insert ... on conflict do nothing`) and delivery claims rows with conditional updates, so two
sweeps, two replicas or a crash in the middle never post an alert twice or lose one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.domain.model import (
    AlertDecision,
    AlertKind,
    HelpdeskItem,
    MetricStage,
    SlaMetric,
    Source,
    TicketRef,
)
from bot.store.tables import AlertRow, SyncStateRow, TicketRow


class AlertStatus:
    PENDING = "pending"
    SENDING = "sending"
    POSTED = "posted"
    FAILED = "failed"
    CANCELLED = "cancelled"


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


@dataclass(frozen=True)
class RoutedDecision:
    """A decision plus where it goes (team name and Slack channel), ready to be recorded."""

    decision: AlertDecision
    team: str | None
    channel: str


@dataclass(frozen=True)
class SyncState:
    source: Source
    cursor: str | None
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    items_synced: int


class Store:
    """Repository over one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- items -----------------------------------------------------------------------------------
    def upsert_items(self, items: Iterable[HelpdeskItem], *, now: datetime) -> int:
        """Insert or replace the stored state of each item; returns how many were written."""
        count = 0
        with self.session() as session:
            for item in items:
                session.merge(_item_to_row(item, now))
                count += 1
            session.commit()
        return count

    def get_item(self, ref: TicketRef) -> HelpdeskItem | None:
        with self.session() as session:
            row = session.get(TicketRow, str(ref))
            return _row_to_item(row) if row else None

    def open_items(self, source: Source | None = None) -> list[HelpdeskItem]:
        stmt = select(TicketRow).where(TicketRow.is_open.is_(True)).order_by(TicketRow.ref)
        if source is not None:
            stmt = stmt.where(TicketRow.source == source.value)
        with self.session() as session:
            return [_row_to_item(row) for row in session.scalars(stmt)]

    def count_open(self, source: Source) -> int:
        from sqlalchemy import func

        stmt = (
            select(func.count())
            .select_from(TicketRow)
            .where(TicketRow.is_open.is_(True), TicketRow.source == source.value)
        )
        with self.session() as session:
            return int(session.scalar(stmt) or 0)

    # -- sync state ------------------------------------------------------------------------------
    def sync_state(self, source: Source) -> SyncState:
        with self.session() as session:
            row = session.get(SyncStateRow, source.value)
            if row is None:
                return SyncState(source, None, None, None, None, 0)
            return SyncState(
                source, row.cursor, row.last_started_at, row.last_success_at, row.last_error, row.items_synced
            )

    def _sync_row(self, session: Session, source: Source) -> SyncStateRow:
        row = session.get(SyncStateRow, source.value)
        if row is None:
            row = SyncStateRow(source=source.value, items_synced=0)
            session.add(row)
        return row

    def mark_sync_started(self, source: Source, *, now: datetime) -> None:
        with self.session() as session:
            self._sync_row(session, source).last_started_at = now
            session.commit()

    def save_page(
        self, source: Source, items: Sequence[HelpdeskItem], cursor: str | None, *, now: datetime
    ) -> None:
        """Persist one page of items and (if given) the cursor after it, in one transaction, so a crash
        mid-sync resumes from the last page that was fully stored."""
        with self.session() as session:
            for item in items:
                session.merge(_item_to_row(item, now))
            row = self._sync_row(session, source)
            if cursor is not None:
                row.cursor = cursor
            row.items_synced = (row.items_synced or 0) + len(items)
            session.commit()

    def mark_sync_finished(self, source: Source, *, now: datetime, error: str | None) -> None:
        with self.session() as session:
            row = self._sync_row(session, source)
            row.last_error = error
            if error is None:
                row.last_success_at = now
            session.commit()

    # -- alerts: deciding ------------------------------------------------------------------------
    def decided_keys(self) -> set[tuple[str, str, str, str]]:
        """Alert keys already decided for items that are still open (closed items need no suppression)."""
        open_refs = select(TicketRow.ref).where(TicketRow.is_open.is_(True))
        stmt = select(AlertRow.ref, AlertRow.metric, AlertRow.cycle, AlertRow.key).where(
            AlertRow.ref.in_(open_refs)
        )
        with self.session() as session:
            return {(r, m, c, k) for r, m, c, k in session.execute(stmt)}

    def record_decisions(
        self, routed: Sequence[RoutedDecision], *, now: datetime
    ) -> list[tuple[int, RoutedDecision]]:
        """Insert each decision unless its key exists; returns (id, decision) for rows actually inserted."""
        if not routed:
            return []
        dialect = self.engine.dialect.name
        insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
        inserted: list[tuple[int, RoutedDecision]] = []
        with self.session() as session:
            for item in routed:
                d = item.decision
                values = {
                    "ref": str(d.deadline.ref),
                    "metric": d.deadline.metric,
                    "cycle": d.deadline.cycle,
                    "key": d.key,
                    "kind": d.kind.value,
                    "threshold_seconds": int(d.threshold.total_seconds()) if d.threshold else None,
                    "team": item.team,
                    "channel": item.channel,
                    "due_at": d.deadline.due_at,
                    "decided_at": now,
                    "status": AlertStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                stmt = (
                    insert_fn(AlertRow)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["ref", "metric", "cycle", "key"])
                    .returning(AlertRow.id)
                )
                new_id = session.execute(stmt).scalar()
                if new_id is not None:
                    inserted.append((int(new_id), item))
            session.commit()
        return inserted

    # -- alerts: delivering ----------------------------------------------------------------------
    def due_for_delivery(
        self, *, now: datetime, stale_after: timedelta, limit: int = 1000
    ) -> list[StoredAlert]:
        """Alerts to post now: pending/failed ones whose retry time has come, and 'sending' ones whose
        claim went stale (the process died mid-post). Nothing is claimed here; see `claim`."""
        due = or_(
            and_(
                AlertRow.status.in_([AlertStatus.PENDING, AlertStatus.FAILED]),
                or_(AlertRow.next_attempt_at.is_(None), AlertRow.next_attempt_at <= now),
            ),
            and_(AlertRow.status == AlertStatus.SENDING, AlertRow.claimed_at <= now - stale_after),
        )
        stmt = select(AlertRow).where(due).order_by(AlertRow.due_at, AlertRow.id).limit(limit)
        with self.session() as session:
            return [_alert(row) for row in session.scalars(stmt)]

    def claim(self, alert: StoredAlert, *, now: datetime) -> bool:
        """Take one alert for posting, right before posting it. A conditional update on the state the
        caller saw, so of two sweeps (or replicas) exactly one wins; the loser skips the alert."""
        with self.session() as session:
            result = session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert.id, AlertRow.status == alert.status)
                .where(
                    AlertRow.claimed_at.is_(None)
                    if alert.claimed_at is None
                    else AlertRow.claimed_at == alert.claimed_at
                )
                .values(status=AlertStatus.SENDING, claimed_at=now, attempts=AlertRow.attempts + 1)
            )
            session.commit()
            return result.rowcount == 1

    def mark_posted(self, alert_id: int, *, ts: str, thread_ts: str | None, now: datetime) -> None:
        with self.session() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(status=AlertStatus.POSTED, ts=ts, thread_ts=thread_ts, posted_at=now, last_error=None)
            )
            session.commit()

    def mark_failed(self, alert_id: int, *, error: str, retry_at: datetime) -> None:
        with self.session() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(
                    status=AlertStatus.FAILED,
                    last_error=error[:500],
                    next_attempt_at=retry_at,
                    claimed_at=None,
                )
            )
            session.commit()

    def mark_cancelled(self, alert_id: int, *, reason: str) -> None:
        with self.session() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(status=AlertStatus.CANCELLED, last_error=reason[:500], claimed_at=None)
            )
            session.commit()

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

    def all_alerts(self) -> list[StoredAlert]:
        with self.session() as session:
            return [_alert(row) for row in session.scalars(select(AlertRow).order_by(AlertRow.id))]


# -- mapping ---------------------------------------------------------------------------------------
def _item_to_row(item: HelpdeskItem, now: datetime) -> TicketRow:
    return TicketRow(
        ref=str(item.ref),
        source=item.ref.source.value,
        external_id=item.ref.external_id,
        subject=item.subject,
        status=item.status,
        is_open=not item.is_closed,
        priority=item.priority,
        group_id=item.group_id,
        group_name=item.group_name,
        assignee_id=item.assignee_id,
        assignee_name=item.assignee_name,
        url=item.url,
        created_at=item.created_at,
        updated_at=item.updated_at,
        first_admin_reply_at=item.first_admin_reply_at,
        waiting_since=item.waiting_since,
        last_contact_reply_at=item.last_contact_reply_at,
        sla_metrics=[
            {
                "metric": m.metric,
                "stage": m.stage.value,
                "breach_at": m.breach_at.isoformat() if m.breach_at else None,
            }
            for m in item.sla_metrics
        ],
        tags=list(item.tags),
        first_contact_at=item.first_contact_at,
        reopens=item.reopens,
        agent_replies=item.agent_replies,
        synced_at=now,
    )


def _row_to_item(row: TicketRow) -> HelpdeskItem:
    return HelpdeskItem(
        ref=TicketRef(Source(row.source), row.external_id),
        subject=row.subject,
        status=row.status,
        priority=row.priority,
        group_id=row.group_id,
        group_name=row.group_name,
        assignee_id=row.assignee_id,
        assignee_name=row.assignee_name,
        url=row.url,
        created_at=row.created_at,
        updated_at=row.updated_at,
        first_admin_reply_at=row.first_admin_reply_at,
        waiting_since=row.waiting_since,
        last_contact_reply_at=row.last_contact_reply_at,
        sla_metrics=tuple(
            SlaMetric(
                metric=m["metric"],
                stage=MetricStage(m["stage"]),
                breach_at=datetime.fromisoformat(m["breach_at"]) if m.get("breach_at") else None,
            )
            for m in row.sla_metrics or []
        ),
        tags=tuple(row.tags or ()),
        first_contact_at=row.first_contact_at,
        reopens=row.reopens or 0,
        agent_replies=row.agent_replies or 0,
    )


def _alert(row: AlertRow) -> StoredAlert:
    ref = TicketRef.parse(row.ref)
    return StoredAlert(
        id=int(row.id or 0),
        ref=ref,
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
    )
