"""QA disputes (one per review, decided once) and weekly review samples, each change audited in the same
transaction as the change itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from bot.domain.model import TicketRef
from bot.store.qa_rows import (
    DISPUTE_STATES,
    OUTCOMES,
    D,
    QaBase,
    R,
    S,
    StoredDispute,
    StoredSample,
    sample_from_row,
)


class QaFollowUps(QaBase):
    """The dispute and sample half of `QaStore` (kept apart to keep each module short)."""

    # -- disputes ------------------------------------------------------------------------------------------
    def set_dispute_state(self, review_id: int, state: str | None, *, conn: Connection | None = None) -> bool:
        """Not a score change (no version bump); the dispute methods that call it write the audit."""
        if state is not None and state not in DISPUTE_STATES:
            raise ValueError(f"dispute state {state!r}")
        with self._tx(conn) as c:
            return c.execute(update(R).where(R.c.id == review_id).values(dispute_state=state)).rowcount == 1

    def open_dispute(
        self, review_id: int, *, agent: str, reason: str, now: datetime, conn: Connection | None = None
    ) -> int | None:
        """Open the review's one dispute; None when it already has one. Raises ValueError for an unknown
        review or a calibration score (those are never disputed)."""
        with self._tx(conn) as c:
            kind = c.execute(select(R.c.kind).where(R.c.id == review_id)).scalar()
            if kind != "review":
                raise ValueError(f"review {review_id} cannot be disputed (kind {kind!r})")
            values = {"review_id": review_id, "agent": agent, "reason": reason, "state": "open"}
            stmt = (
                self._insert()(D)
                .values(**values, note="", created_at=now)
                .on_conflict_do_nothing(index_elements=["review_id"])
                .returning(D.c.id)
            )
            dispute_id = c.execute(stmt).scalar()
            if dispute_id is None:
                return None
            self.set_dispute_state(review_id, "open", conn=c)
            ids = {"review_id": review_id, "dispute_id": int(dispute_id)}
            self._audit(c, "dispute_opened", now=now, actor=agent, **ids, details={"reason": reason})
            return int(dispute_id)

    def decide_dispute(
        self,
        dispute_id: int,
        *,
        by: str,
        outcome: str,
        note: str,
        now: datetime,
        conn: Connection | None = None,
    ) -> bool:
        """Decide an open dispute (accepted, rejected or rescored) and mark its review; False when it was
        decided already: nothing is written."""
        if outcome not in OUTCOMES:
            raise ValueError(f"dispute outcome {outcome!r}: use {', '.join(OUTCOMES)}")
        stmt = (
            update(D)
            .where(D.c.id == dispute_id, D.c.state == "open")
            .values(state=outcome, decided_by=by, decided_at=now, note=note)
            .returning(D.c.review_id)
        )
        with self._tx(conn) as c:
            review_id = c.execute(stmt).scalar()
            if review_id is None:
                return False
            self.set_dispute_state(int(review_id), outcome, conn=c)
            ids = {"review_id": int(review_id), "dispute_id": dispute_id}
            self._audit(c, f"dispute_{outcome}", now=now, actor=by, **ids, details={"note": note})
            return True

    def dispute(self, dispute_id: int) -> StoredDispute | None:
        return self._dispute(D.c.id == dispute_id)

    def dispute_for_review(self, review_id: int) -> StoredDispute | None:
        return self._dispute(D.c.review_id == review_id)

    def _dispute(self, where) -> StoredDispute | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(D).where(where)).mappings().first()
        return StoredDispute(**row) if row else None

    # -- samples -------------------------------------------------------------------------------------------
    def assign_samples(
        self,
        rows: Sequence[tuple[str, str, TicketRef, date]],
        *,
        now: datetime,
        conn: Connection | None = None,
    ) -> int:
        """Assign (reviewer, agent, ref, week_start) rows; ones already assigned are skipped, so a rerun of
        the weekly job adds nothing. Returns how many were new; audited per reviewer and week."""
        unique = {(r, str(ref), week): agent for r, agent, ref, week in rows}
        values = [
            {"reviewer": r, "agent": agent, "ref": ref, "week_start": week, "assigned_at": now}
            for (r, ref, week), agent in unique.items()
        ]
        added: dict[tuple[str, date], list[str]] = defaultdict(list)
        with self._tx(conn) as c:
            for start in range(0, len(values), 100):
                stmt = (
                    self._insert()(S)
                    .values(values[start : start + 100])
                    .on_conflict_do_nothing(index_elements=["reviewer", "ref", "week_start"])
                    .returning(S.c.reviewer, S.c.ref, S.c.week_start)
                )
                for row in c.execute(stmt):
                    added[(row.reviewer, row.week_start)].append(row.ref)
            for (reviewer, week), refs in sorted(added.items()):
                details = {"reviewer": reviewer, "week_start": week.isoformat(), "refs": sorted(refs)}
                self._audit(c, "samples_assigned", now=now, details=details)
        return sum(len(refs) for refs in added.values())

    def open_samples(self, reviewer: str) -> list[StoredSample]:
        """What is left in a reviewer's queue, oldest week first."""
        stmt = (
            select(S)
            .where(S.c.reviewer == reviewer, S.c.review_id.is_(None))
            .order_by(S.c.week_start, S.c.id)
        )
        with self.engine.connect() as conn:
            return [sample_from_row(row) for row in conn.execute(stmt).mappings()]

    def mark_sampled_done(
        self, reviewer: str, ref: TicketRef, review_id: int, *, conn: Connection | None = None
    ) -> int:
        """Link the reviewer's open samples of `ref` to the review that scored it; returns how many. Not
        audited separately: the review's own `review_created` event records the scoring."""
        stmt = (
            update(S)
            .where(S.c.reviewer == reviewer, S.c.ref == str(ref), S.c.review_id.is_(None))
            .values(review_id=review_id)
        )
        with self._tx(conn) as c:
            return c.execute(stmt).rowcount

    def sampled_weeks(self, reviewer: str | None = None) -> set[date]:
        """Weeks (their Monday) with samples assigned, to anyone or to `reviewer`."""
        stmt = select(S.c.week_start).distinct()
        if reviewer is not None:
            stmt = stmt.where(S.c.reviewer == reviewer)
        with self.engine.connect() as conn:
            return set(conn.execute(stmt).scalars())
