"""What the digest reads from Deskwatch's own records: escalation handoffs and QA reviews of a window.

Both are small tables (one row per handoff or scorecard), read by their time indexes; the team of each
is the team of its ticket, mapped by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select

from bot.store.tables import EscalationEventRow, EscalationRow, QaReviewRow, TicketRow

ESC = EscalationRow.__table__
EV = EscalationEventRow.__table__
QA = QaReviewRow.__table__
TK = TicketRow.__table__

_CLOSING = ("accepted", "escalated_further", "auto_escalated", "resolved")
_OPEN_STATUSES = ("open", "waiting_info", "accepted")
# A handoff still unaccepted this long after it was opened is old news for a daily digest's "still open".
_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class HandoffRecord:
    """One tier's handoff as of the window's end: when it was opened, accepted and closed there."""

    id: int
    ref: str
    tier: int
    opened_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class ReviewRecord:
    ref: str
    percent: float
    passed: bool


def handoffs(engine: Engine, start: datetime, end: datetime) -> list[HandoffRecord]:
    """Handoffs opened before `end` that were opened in the window or still open at its start."""
    stmt = select(ESC.c.id, ESC.c.ref, ESC.c.tier, ESC.c.created_at).where(
        ESC.c.created_at < end,
        ESC.c.created_at >= end - _LOOKBACK,
        or_(ESC.c.created_at >= start, ESC.c.updated_at >= start, ESC.c.status.in_(_OPEN_STATUSES)),
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        ids = [row.id for row in rows]
        firsts: dict[tuple[int, str], datetime] = {}
        for start_at in range(0, len(ids), 500):
            chunk = ids[start_at : start_at + 500]
            events = conn.execute(
                select(EV.c.escalation_id, EV.c.kind, EV.c.at).where(
                    EV.c.escalation_id.in_(chunk), EV.c.kind.in_(_CLOSING), EV.c.at < end
                )
            )
            for escalation_id, kind, at in events:
                key = (escalation_id, "accepted" if kind == "accepted" else "closed")
                if key not in firsts or at < firsts[key]:
                    firsts[key] = at
    records = []
    for row in rows:
        accepted = firsts.get((row.id, "accepted"))
        closed = min((t for t in (accepted, firsts.get((row.id, "closed"))) if t is not None), default=None)
        records.append(HandoffRecord(row.id, row.ref, row.tier, row.created_at, accepted, closed))
    return records


def reviews(engine: Engine, start: datetime, end: datetime) -> list[ReviewRecord]:
    """QA reviews (not calibration scores) recorded in the window, with their current score."""
    stmt = select(QA.c.ref, QA.c.percent, QA.c.passed).where(
        QA.c.kind == "review", QA.c.created_at >= start, QA.c.created_at < end
    )
    with engine.connect() as conn:
        return [
            ReviewRecord(ref, float(percent), bool(passed)) for ref, percent, passed in conn.execute(stmt)
        ]


def ticket_groups(engine: Engine, refs: set[str]) -> dict[str, tuple[str, str | None]]:
    """ref -> (source, group id) from the synced copy, for mapping handoffs and reviews to teams."""
    found: dict[str, tuple[str, str | None]] = {}
    ordered = sorted(refs)
    with engine.connect() as conn:
        for start in range(0, len(ordered), 500):
            stmt = select(TK.c.ref, TK.c.source, TK.c.group_id).where(
                TK.c.ref.in_(ordered[start : start + 500])
            )
            for ref, source, group in conn.execute(stmt):
                found[ref] = (source, group)
    return found
