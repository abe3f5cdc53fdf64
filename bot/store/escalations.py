"""Escalation store: each handoff's domain state as lossless JSON, changed only by a conditional update on
its version, with the audit events of the change appended in the same transaction.

Optimistic concurrency instead of locks: the state machine is pure, so a caller reads (state, version),
applies the event and saves naming the version it read. Of two people pressing Accept at once exactly one
save matches; the loser reloads, sees the owner and reports the refusal. Audit rows are only ever
inserted: no statement in this module updates or deletes `escalation_events`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from types import NoneType, UnionType
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.escalation import next_timer_at
from bot.domain.escalation_types import AuditEvent, Escalation
from bot.domain.model import TicketRef
from bot.store.tables import EscalationEventRow, EscalationRow

E = EscalationRow.__table__
V = EscalationEventRow.__table__

STATE_FORMAT = 1  # bump (and teach `decode_state` the old shape) when `Escalation` changes incompatibly
_MICROSECOND = timedelta(microseconds=1)
_HINTS = typing.get_type_hints(Escalation)


# -- serialisation -------------------------------------------------------------------------------------
def encode_state(state: Escalation) -> dict[str, Any]:
    """JSON-ready dict of every field: aware datetimes as ISO UTC with microseconds, timedeltas as whole
    microseconds (floats would round), enums by value, tuples as lists, the ticket ref as `zd:101`."""
    out: dict[str, Any] = {"_format": STATE_FORMAT}
    for f in dataclasses.fields(Escalation):
        out[f.name] = _encode(getattr(state, f.name), f.name)
    return out


def decode_state(data: Mapping[str, Any]) -> Escalation:
    """The exact `Escalation` `encode_state` was given; fields missing from older rows take defaults."""
    if data.get("_format") != STATE_FORMAT:
        raise ValueError(f"unknown escalation state format {data.get('_format')!r}")
    values = {
        f.name: _decode(data[f.name], _HINTS[f.name])
        for f in dataclasses.fields(Escalation)
        if f.name in data
    }
    return Escalation(**values)


def _encode(value: Any, name: str) -> Any:
    if isinstance(value, Enum):  # before str: a StrEnum is a str
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name}: naive datetime {value!r} refused: aware UTC datetimes only")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, timedelta):
        return value // _MICROSECOND
    if isinstance(value, TicketRef):
        return str(value)
    if isinstance(value, tuple | list):
        return [_encode(item, name) for item in value]
    raise TypeError(f"{name}: cannot store {type(value).__name__} in an escalation state")


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (UnionType, typing.Union):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not NoneType]
        origin = typing.get_origin(hint)
    if origin is tuple:
        (item, *_) = typing.get_args(hint)
        return tuple(_decode(v, item) for v in value)
    if hint is datetime:
        return datetime.fromisoformat(value).astimezone(UTC)
    if hint is timedelta:
        return timedelta(microseconds=value)
    if hint is TicketRef:
        return TicketRef.parse(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


def _details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Audit details as plain JSON (they are shown and exported, never decoded back)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list | set | frozenset):
            return [plain(v) for v in value]
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, timedelta):
            return value.total_seconds()
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)

    return plain(details)


# -- values ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredEscalation:
    id: int
    state: Escalation
    version: int
    channel: str | None
    message_ts: str | None
    next_timer_at: datetime | None
    created_at: datetime
    updated_at: datetime
    context: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class StoredEvent:
    id: int
    escalation_id: int
    chain: str
    tier: int
    ref: str
    kind: str
    actor: str | None
    at: datetime
    details: dict[str, Any]
    created_at: datetime


# -- the store ---------------------------------------------------------------------------------------------
class EscalationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self):
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    def create(
        self,
        state: Escalation,
        *,
        now: datetime,
        events: Sequence[AuditEvent] = (),
        channel: str | None = None,
        context: Mapping[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Insert the handoff (version 1) and its opening audit events; returns its id. Idempotent: when
        (chain, tier) exists already, nothing is written and the existing id is returned."""
        if conn is None:
            with self.engine.begin() as own:
                return self.create(state, now=now, events=events, channel=channel, context=context, conn=own)
        stmt = (
            self._insert()(E)
            .values(
                chain=state.chain,
                tier=state.tier,
                ref=str(state.ref),
                state=encode_state(state),
                status=state.status.value,
                owner=state.owner,
                channel=channel,
                context=_details(context or {}),
                next_timer_at=next_timer_at(state, now),
                version=1,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["chain", "tier"])
            .returning(E.c.id)
        )
        new_id = conn.execute(stmt).scalar()
        if new_id is None:
            existing = select(E.c.id).where(E.c.chain == state.chain, E.c.tier == state.tier)
            return int(conn.execute(existing).scalar_one())
        self._append(conn, int(new_id), events, now)
        return int(new_id)

    def save(
        self,
        escalation_id: int,
        new_state: Escalation,
        *,
        expected_version: int,
        events: Sequence[AuditEvent],
        now: datetime,
        conn: Connection | None = None,
    ) -> bool:
        """Replace the state if the row is still at `expected_version` (it moves to the next version) and
        append `events`; False when someone saved first: nothing is written, reload and re-apply."""
        if conn is None:
            with self.engine.begin() as own:
                return self.save(
                    escalation_id,
                    new_state,
                    expected_version=expected_version,
                    events=events,
                    now=now,
                    conn=own,
                )
        stmt = (
            update(E)
            .where(E.c.id == escalation_id, E.c.version == expected_version)
            .values(
                state=encode_state(new_state),
                status=new_state.status.value,
                owner=new_state.owner,
                next_timer_at=next_timer_at(new_state, now),
                version=E.c.version + 1,
                updated_at=now,
            )
        )
        if conn.execute(stmt).rowcount != 1:
            return False
        self._append(conn, escalation_id, events, now)
        return True

    def append_events(
        self,
        escalation_id: int,
        events: Sequence[AuditEvent],
        *,
        now: datetime,
        conn: Connection | None = None,
    ) -> int:
        """Audit events without a state change (refusals, write-back outcomes); returns how many."""
        if conn is None:
            with self.engine.begin() as own:
                return self.append_events(escalation_id, events, now=now, conn=own)
        return self._append(conn, escalation_id, events, now)

    def record_message(
        self, escalation_id: int, *, channel: str, ts: str, now: datetime, conn: Connection | None = None
    ) -> bool:
        """Remember where the handoff was posted (first post wins). Not a state change: no version bump,
        so a concurrent Accept is not turned away by the delivery worker."""
        stmt = (
            update(E)
            .where(E.c.id == escalation_id, E.c.message_ts.is_(None))
            .values(channel=channel, message_ts=ts, updated_at=now)
        )
        if conn is None:
            with self.engine.begin() as own:
                return own.execute(stmt).rowcount == 1
        return conn.execute(stmt).rowcount == 1

    @staticmethod
    def _append(conn: Connection, escalation_id: int, events: Sequence[AuditEvent], now: datetime) -> int:
        rows = [
            {
                "escalation_id": escalation_id,
                "chain": event.chain,
                "tier": event.tier,
                "kind": event.kind,
                "actor": event.actor,
                "at": event.at,
                "details": _details(event.details),
                "created_at": now,
            }
            for event in events
        ]
        if rows:
            conn.execute(V.insert(), rows)
        return len(rows)

    # -- reading -----------------------------------------------------------------------------------------
    def get(self, escalation_id: int) -> StoredEscalation | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(E).where(E.c.id == escalation_id)).mappings().first()
            return _stored(row) if row else None

    def get_by_chain_tier(self, chain: str, tier: int) -> StoredEscalation | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(E).where(E.c.chain == chain, E.c.tier == tier)).mappings().first()
            return _stored(row) if row else None

    def get_many(self, ids: Sequence[int]) -> list[StoredEscalation]:
        if not ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(E).where(E.c.id.in_(list(ids))).order_by(E.c.id)).mappings()
            return [_stored(row) for row in rows]

    def by_message(self, channel: str, ts: str) -> StoredEscalation | None:
        """The handoff posted as message `ts` in `channel` (a thread reply names its parent's ts)."""
        stmt = select(E).where(E.c.channel == channel, E.c.message_ts == ts)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
            return _stored(row) if row else None

    def chain(self, chain: str) -> list[StoredEscalation]:
        """Every tier's handoff of one chain, first tier first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(E).where(E.c.chain == chain).order_by(E.c.tier)).mappings()
            return [_stored(row) for row in rows]

    def open_for_refs(self, refs: Sequence[str]) -> list[StoredEscalation]:
        """Handoffs still open (not escalated or resolved) for these tickets, read through the ref index:
        what a sync checks when tickets change, so its cost follows the changed tickets."""
        if not refs:
            return []
        out: list[StoredEscalation] = []
        unique = sorted(set(refs))
        with self.engine.connect() as conn:
            for start in range(0, len(unique), 500):
                stmt = select(E).where(
                    E.c.ref.in_(unique[start : start + 500]), E.c.status.not_in(["escalated", "resolved"])
                )
                out.extend(_stored(row) for row in conn.execute(stmt.order_by(E.c.id)).mappings())
        return out

    def open_count(self) -> int:
        stmt = select(func.count()).select_from(E).where(E.c.status.not_in(["escalated", "resolved"]))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def due_timers(self, now: datetime, limit: int = 500) -> list[StoredEscalation]:
        """Handoffs whose timer is due by `now`, earliest first, read through the next_timer_at index."""
        stmt = (
            select(E)
            .where(E.c.next_timer_at.is_not(None), E.c.next_timer_at <= now)
            .order_by(E.c.next_timer_at, E.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(stmt).mappings()]

    def events_of(self, escalation_id: int) -> list[StoredEvent]:
        """One handoff's audit trail, oldest first (what its thread shows)."""
        stmt = _events_select().where(V.c.escalation_id == escalation_id).order_by(V.c.at, V.c.id)
        with self.engine.connect() as conn:
            return [_event(row) for row in conn.execute(stmt).mappings()]

    def events(self, since: datetime | None = None, *, chunk: int = 500) -> Iterator[StoredEvent]:
        """Every audit event at or after `since`, in time order (then insertion order). Read in keyset
        pages of `chunk` rows on short connections, so an export of years of events stays small."""
        last: tuple[datetime, int] | None = None
        while True:
            stmt = _events_select().order_by(V.c.at, V.c.id).limit(chunk)
            if since is not None:
                stmt = stmt.where(V.c.at >= since)
            if last is not None:
                stmt = stmt.where(or_(V.c.at > last[0], and_(V.c.at == last[0], V.c.id > last[1])))
            with self.engine.connect() as conn:
                page = [_event(row) for row in conn.execute(stmt).mappings()]
            yield from page
            if len(page) < chunk:
                return
            last = (page[-1].at, page[-1].id)


def _events_select():
    return select(V, E.c.ref).join(E, E.c.id == V.c.escalation_id)


def _stored(row: Any) -> StoredEscalation:
    return StoredEscalation(
        id=int(row["id"]),
        state=decode_state(row["state"]),
        version=int(row["version"]),
        channel=row["channel"],
        message_ts=row["message_ts"],
        next_timer_at=row["next_timer_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        context=dict(row["context"] or {}),
    )


def _event(row: Any) -> StoredEvent:
    return StoredEvent(
        id=int(row["id"]),
        escalation_id=int(row["escalation_id"]),
        chain=row["chain"],
        tier=int(row["tier"]),
        ref=row["ref"],
        kind=row["kind"],
        actor=row["actor"],
        at=row["at"],
        details=dict(row["details"] or {}),
        created_at=row["created_at"],
    )
