"""The one store: item state, sync cursors and SLA alerts, behind methods that return domain values.

Exactly-once comes from here and from the outbox, not from the scheduler: decisions are inserted under
a unique key (`insert ... on conflict do nothing`) together with their outbox row, so two sweeps, two
replicas or a crash in the middle never decide an alert twice or lose one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.domain.model import (
    HelpdeskItem,
    MetricStage,
    SlaMetric,
    Source,
    TicketRef,
)
from bot.store.alerts import AlertQueries, AlertStatus, RoutedDecision, StoredAlert
from bot.store.tables import SyncStateRow, TicketRow

__all__ = ["AlertStatus", "RoutedDecision", "Store", "StoredAlert", "SyncState"]

_ITEM_COLUMNS = tuple(TicketRow.__table__.columns.keys())


@dataclass(frozen=True)
class SyncState:
    source: Source
    cursor: str | None
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    items_synced: int


class Store(AlertQueries):
    """Repository over one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- items -----------------------------------------------------------------------------------
    def upsert_items(self, items: Iterable[HelpdeskItem], *, now: datetime) -> int:
        """Insert or replace the stored state of each item in bulk; returns how many were written."""
        rows = [_item_values(item, now) for item in items]
        with self.engine.begin() as conn:
            self._bulk_upsert_items(conn, rows)
        return len(rows)

    def _bulk_upsert_items(self, conn, rows: list[dict]) -> None:
        """`INSERT … ON CONFLICT (ref) DO UPDATE` as one executemany: compiled once and batched by
        SQLAlchemy (insertmanyvalues), no per-row SELECT."""
        if not rows:
            return
        insert_fn = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        stmt = insert_fn(TicketRow.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["ref"],
            set_={name: stmt.excluded[name] for name in _ITEM_COLUMNS if name != "ref"},
        )
        conn.execute(stmt, rows)

    def iter_open_items(self, batch: int = 1000) -> Iterator[list[HelpdeskItem]]:
        """Every open item in batches, keyset-paged by ref (only for a full deadline rebuild)."""
        after = ""
        while True:
            stmt = (
                select(TicketRow)
                .where(TicketRow.is_open.is_(True), TicketRow.ref > after)
                .order_by(TicketRow.ref)
                .limit(batch)
            )
            with self.session() as session:
                rows = list(session.scalars(stmt))
            if not rows:
                return
            yield [_row_to_item(row) for row in rows]
            after = rows[-1].ref

    def get_item(self, ref: TicketRef) -> HelpdeskItem | None:
        with self.session() as session:
            row = session.get(TicketRow, str(ref))
            return _row_to_item(row) if row else None

    def closed_between(self, since: datetime, until: datetime) -> list[HelpdeskItem]:
        """Items no longer open whose last change falls in [since, until): the week's solved tickets."""
        stmt = (
            select(TicketRow)
            .where(TicketRow.is_open.is_(False), TicketRow.updated_at >= since, TicketRow.updated_at < until)
            .order_by(TicketRow.ref)
        )
        with self.session() as session:
            return [_row_to_item(row) for row in session.scalars(stmt)]

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
        with self.engine.begin() as conn:
            self._bulk_upsert_items(conn, [_item_values(item, now) for item in items])
            values: dict = {"items_synced": SyncStateRow.__table__.c.items_synced + len(items)}
            if cursor is not None:
                values["cursor"] = cursor
            updated = conn.execute(
                update(SyncStateRow.__table__)
                .where(SyncStateRow.__table__.c.source == source.value)
                .values(**values)
            ).rowcount
            if not updated:
                conn.execute(
                    SyncStateRow.__table__.insert().values(
                        source=source.value, cursor=cursor, items_synced=len(items)
                    )
                )

    def mark_sync_finished(self, source: Source, *, now: datetime, error: str | None) -> None:
        with self.session() as session:
            row = self._sync_row(session, source)
            row.last_error = error
            if error is None:
                row.last_success_at = now
            session.commit()

    # -- freshness -----------------------------------------------------------------------------------
    def synced_before(self, refs: Iterable[TicketRef], cutoff: datetime) -> list[TicketRef]:
        """Those of `refs` whose stored state was synced before `cutoff` (candidates for a re-read)."""
        wanted = [str(ref) for ref in refs]
        if not wanted:
            return []
        stmt = select(TicketRow.ref).where(TicketRow.ref.in_(wanted), TicketRow.synced_at < cutoff)
        with self.session() as session:
            return [TicketRef.parse(ref) for ref in session.scalars(stmt)]

    def mark_gone(self, refs: Iterable[TicketRef], *, now: datetime) -> None:
        """Items the helpdesk no longer returns (deleted): closed, so no alert is posted for them."""
        wanted = [str(ref) for ref in refs]
        if not wanted:
            return
        with self.session() as session:
            session.execute(
                update(TicketRow)
                .where(TicketRow.ref.in_(wanted))
                .values(status="deleted", is_open=False, synced_at=now)
            )
            session.commit()


# -- mapping ---------------------------------------------------------------------------------------
def _item_values(item: HelpdeskItem, now: datetime) -> dict:
    return _item_to_row(item, now).model_dump()


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
