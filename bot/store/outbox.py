"""Outbox repository: enqueue effects idempotently, claim them with a fencing token, finish them once.

Every write that moves a claimed row on names the token it was claimed with (`claim_token = :token`),
so a worker whose claim expired and was taken over can no longer overwrite the newer holder's state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.tables import OutboxRow

T = OutboxRow.__table__


class OutboxState:
    PENDING = "pending"
    SENDING = "sending"
    UNKNOWN = "unknown"
    POSTED = "posted"
    DEAD = "dead"
    CANCELLED = "cancelled"

    ALL = (PENDING, SENDING, UNKNOWN, POSTED, DEAD, CANCELLED)
    FINAL = frozenset({POSTED, DEAD, CANCELLED})


class OutboxKind:
    SLACK_POST = "slack.post"
    SLACK_UPDATE = "slack.update"
    HELPDESK_WRITE = "helpdesk.write"


@dataclass(frozen=True)
class Effect:
    """An outward effect to deliver once. `key` makes enqueueing idempotent."""

    key: str
    kind: str
    purpose: str
    channel: str | None
    payload: dict[str, Any]
    subject_id: int | None = None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    kind: str
    purpose: str
    subject_id: int | None
    channel: str | None
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    claim_token: str | None
    claimed_until: datetime | None
    first_sent_at: datetime | None
    last_error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None

    @property
    def may_have_been_sent(self) -> bool:
        """True when a request for this row may have reached the target: its outcome must be resolved
        (looked up) before anything is sent again."""
        return self.state == OutboxState.UNKNOWN or (
            self.state == OutboxState.SENDING and self.first_sent_at is not None
        )


@dataclass(frozen=True)
class Claim:
    item: OutboxItem
    token: str


SessionHook = Callable[[Connection], None]


class OutboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self):
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    # -- enqueue ---------------------------------------------------------------------------------
    def enqueue(
        self, effects: Sequence[Effect], *, now: datetime, conn: Connection | None = None
    ) -> list[int]:
        """Insert each effect unless its key exists; returns the ids of rows actually inserted.

        Pass `conn` to enqueue inside the caller's transaction (decision and effect commit together)."""
        if not effects:
            return []
        if conn is None:
            with self.engine.begin() as own:
                return self.enqueue(effects, now=now, conn=own)
        insert = self._insert()
        ids = []
        for effect in effects:
            stmt = (
                insert(T)
                .values(
                    key=effect.key,
                    kind=effect.kind,
                    purpose=effect.purpose,
                    subject_id=effect.subject_id,
                    channel=effect.channel,
                    payload=effect.payload,
                    state=OutboxState.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(T.c.id)
            )
            new_id = conn.execute(stmt).scalar()
            if new_id is not None:
                ids.append(int(new_id))
        return ids

    # -- reading ---------------------------------------------------------------------------------
    def due(self, *, now: datetime, limit: int = 2000) -> list[OutboxItem]:
        """Rows to work on now: pending or unknown rows whose time has come, and rows left `sending`
        whose claim expired (the worker died or hung). Nothing is claimed here."""
        condition = or_(
            and_(T.c.state.in_([OutboxState.PENDING, OutboxState.UNKNOWN]), T.c.next_attempt_at <= now),
            and_(T.c.state == OutboxState.SENDING, T.c.claimed_until < now),
        )
        stmt = select(T).where(condition).order_by(T.c.next_attempt_at, T.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_item(row) for row in conn.execute(stmt).mappings()]

    def get(self, row_id: int) -> OutboxItem | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(T).where(T.c.id == row_id)).mappings().first()
            return _item(row) if row else None

    def get_by_key(self, key: str) -> OutboxItem | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(T).where(T.c.key == key)).mappings().first()
            return _item(row) if row else None

    def list(self, *, state: str | None = None, limit: int = 100) -> list[OutboxItem]:
        stmt = select(T).order_by(T.c.id.desc()).limit(limit)
        if state is not None:
            stmt = stmt.where(T.c.state == state)
        with self.engine.connect() as conn:
            return [_item(row) for row in conn.execute(stmt).mappings()]

    def counts_by_state(self) -> dict[str, int]:
        stmt = select(T.c.state, func.count()).group_by(T.c.state)
        with self.engine.connect() as conn:
            counts = {state: 0 for state in OutboxState.ALL}
            counts.update({state: int(n) for state, n in conn.execute(stmt)})
            return counts

    # -- claiming and finishing (fenced) ---------------------------------------------------------
    def claim(self, item: OutboxItem, *, now: datetime, lease: timedelta) -> Claim | None:
        """Take the row for this worker: a conditional update on the state and token the caller saw, so
        of two workers exactly one wins. Returns the claim (with its fresh token) or None."""
        token = uuid.uuid4().hex
        same_token = (
            T.c.claim_token.is_(None) if item.claim_token is None else T.c.claim_token == item.claim_token
        )
        stmt = (
            update(T)
            .where(T.c.id == item.id, T.c.state == item.state, same_token)
            .values(
                state=OutboxState.SENDING,
                claim_token=token,
                claimed_until=now + lease,
                attempts=T.c.attempts + 1,
                updated_at=now,
            )
        )
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                return None
            row = conn.execute(select(T).where(T.c.id == item.id)).mappings().one()
        return Claim(_item(row), token)

    def mark_sending(self, claim: Claim, *, now: datetime, target: dict[str, Any]) -> bool:
        """Record, before the request goes out, that it may go through and where it goes (for the
        lookup that resolves a lost response). False when the claim was lost: do not send."""
        stmt = (
            update(T)
            .where(T.c.id == claim.item.id, T.c.claim_token == claim.token, T.c.state == OutboxState.SENDING)
            .values(
                first_sent_at=func.coalesce(T.c.first_sent_at, now),
                result={"target": target},
                updated_at=now,
            )
        )
        with self.engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def finish(
        self,
        claim: Claim,
        *,
        state: str,
        now: datetime,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        hook: SessionHook | None = None,
    ) -> bool:
        """Move a claimed row to a final state; `hook` runs in the same transaction (e.g. record the
        alert's ts) only when this worker still held the claim."""
        assert state in OutboxState.FINAL, state
        values: dict[str, Any] = {
            "state": state,
            "claim_token": None,
            "claimed_until": None,
            "last_error": error[:500] if error else None,
            "updated_at": now,
            "done_at": now,
        }
        if result is not None:
            values["result"] = result
        stmt = update(T).where(T.c.id == claim.item.id, T.c.claim_token == claim.token).values(**values)
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                return False
            if hook is not None:
                hook(conn)
            return True

    def release(
        self,
        claim: Claim,
        *,
        state: str,
        retry_at: datetime,
        now: datetime,
        error: str | None,
        uncount: bool = False,
    ) -> bool:
        """Give a claimed row back: `pending` (nothing went out; retry at `retry_at`) or `unknown`
        (something may have gone out; resolve by lookup at `retry_at`)."""
        assert state in (OutboxState.PENDING, OutboxState.UNKNOWN), state
        stmt = (
            update(T)
            .where(T.c.id == claim.item.id, T.c.claim_token == claim.token)
            .values(
                state=state,
                claim_token=None,
                claimed_until=None,
                next_attempt_at=retry_at,
                last_error=error[:500] if error else None,
                updated_at=now,
                # a deferred row did not really try: its claim's attempt is given back
                attempts=T.c.attempts - 1 if uncount else T.c.attempts,
            )
        )
        with self.engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def requeue(self, row_id: int, *, now: datetime) -> OutboxItem | None:
        """`deskwatch outbox retry`: put a dead row back to pending (attempts reset). None if not dead."""
        stmt = (
            update(T)
            .where(T.c.id == row_id, T.c.state == OutboxState.DEAD)
            .values(
                state=OutboxState.PENDING,
                attempts=0,
                next_attempt_at=now,
                last_error=None,
                done_at=None,
                updated_at=now,
            )
        )
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                return None
            return _item(conn.execute(select(T).where(T.c.id == row_id)).mappings().one())


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),
        key=row["key"],
        kind=row["kind"],
        purpose=row["purpose"],
        subject_id=row["subject_id"],
        channel=row["channel"],
        payload=dict(row["payload"] or {}),
        state=row["state"],
        attempts=int(row["attempts"] or 0),
        next_attempt_at=row["next_attempt_at"],
        claim_token=row["claim_token"],
        claimed_until=row["claimed_until"],
        first_sent_at=row["first_sent_at"],
        last_error=row["last_error"],
        result=dict(row["result"]) if row["result"] else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        done_at=row["done_at"],
    )


def prune_finished(engine: Engine, *, before: datetime) -> int:
    """Delete outbox rows that finished (posted, dead, cancelled) before `before`; returns how many."""
    stmt = delete(T).where(T.c.state.in_(sorted(OutboxState.FINAL)), T.c.done_at < before)
    with engine.begin() as conn:
        return int(conn.execute(stmt).rowcount or 0)
