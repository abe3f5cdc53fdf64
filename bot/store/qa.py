"""QA store: rubric versions, reviews (and blind calibration scores), calibration sessions, disputes and
weekly samples, with every change's audit event appended in the same transaction.

Scores are stored as computed, next to the rubric version they were computed with, so a rubric change
never rewrites history. Edits are optimistic (conditional on the review's version), like escalations.
Audit rows are only ever inserted: no statement in the QA store updates or deletes `qa_events`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select, update

from bot.domain.model import TicketRef
from bot.domain.qa_types import Rubric, ScoreResult, Scores
from bot.store.qa_rows import (
    KINDS,
    RB,
    C,
    R,
    StoredCalibration,
    StoredDispute,
    StoredQaEvent,
    StoredReview,
    StoredSample,
    V,
    calibration_from_row,
    decode_rubric,
    encode_rubric,
    event_from_row,
    review_filter,
    score_summary,
    score_values,
)
from bot.store.qa_workflow import QaFollowUps

__all__ = [
    "QaStore",
    "StoredCalibration",
    "StoredDispute",
    "StoredQaEvent",
    "StoredReview",
    "StoredSample",
    "decode_rubric",
    "encode_rubric",
]


class QaStore(QaFollowUps):
    """Reviews, calibrations and the audit log here; disputes and samples in `QaFollowUps`."""

    # -- rubrics -------------------------------------------------------------------------------------------
    def ensure_rubric(self, rubric: Rubric, *, now: datetime, conn: Connection | None = None) -> int:
        """The id of this rubric version, inserting it the first time it is seen (idempotent)."""
        with self._tx(conn) as c:
            stmt = (
                self._insert()(RB)
                .values(version=rubric.version, rubric=encode_rubric(rubric), created_at=now)
                .on_conflict_do_nothing(index_elements=["version"])
                .returning(RB.c.id)
            )
            new_id = c.execute(stmt).scalar()
            if new_id is None:
                new_id = c.execute(select(RB.c.id).where(RB.c.version == rubric.version)).scalar_one()
        self._rubrics.setdefault(int(new_id), rubric)
        return int(new_id)

    # -- reviews -------------------------------------------------------------------------------------------
    def add_review(
        self,
        *,
        reviewer: str,
        agent: str,
        agent_email: str | None,
        ref: TicketRef,
        rubric_id: int,
        scores: Scores,
        result: ScoreResult,
        comment: str,
        coaching: str,
        now: datetime,
        kind: str = "review",
        calibration_id: int | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Insert a scorecard (version 1) and its audit event; returns its id."""
        if kind not in KINDS or (kind == "calibration") != (calibration_id is not None):
            raise ValueError(f"kind {kind!r} with calibration_id {calibration_id!r}")
        with self._tx(conn) as c:
            values = {
                **score_values(scores, result, comment, coaching),
                "rubric_id": rubric_id,
                "kind": kind,
                "calibration_id": calibration_id,
                "reviewer": reviewer,
                "agent": agent,
                "agent_email": agent_email,
                "ref": str(ref),
                "version": 1,
                "created_at": now,
            }
            review_id = int(c.execute(R.insert().values(**values).returning(R.c.id)).scalar_one())
            self._audit(
                c,
                "review_created" if kind == "review" else "calibration_scored",
                now=now,
                actor=reviewer,
                review_id=review_id,
                calibration_id=calibration_id,
                details={"ref": str(ref), "agent": agent, "rubric_id": rubric_id, **score_summary(values)},
            )
            return review_id

    def edit_review(
        self,
        review_id: int,
        *,
        by: str,
        scores: Scores,
        result: ScoreResult,
        comment: str,
        coaching: str,
        now: datetime,
        expected_version: int,
        conn: Connection | None = None,
    ) -> bool:
        """Replace a review's scores if it is still at `expected_version` (it moves to the next); False when
        someone edited first or it is not a review: nothing is written. Audited with before and after."""
        values = score_values(scores, result, comment, coaching)
        with self._tx(conn) as c:
            where = (R.c.id == review_id, R.c.version == expected_version, R.c.kind == "review")
            before = c.execute(select(R).where(*where)).mappings().first()
            if before is None:
                return False
            stmt = update(R).where(*where).values(**values, version=R.c.version + 1, edited_at=now)
            if c.execute(stmt).rowcount != 1:
                return False
            details = {
                "before": score_summary(before),
                "after": score_summary(values),
                "version": expected_version + 1,
            }
            self._audit(c, "review_edited", now=now, actor=by, review_id=review_id, details=details)
            return True

    def get_review(self, review_id: int) -> StoredReview | None:
        with self.engine.connect() as conn:
            rows = self._reviews(conn, select(R).where(R.c.id == review_id))
        return rows[0] if rows else None

    def reviews(
        self,
        *,
        agent: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        kind: str = "review",
    ) -> list[StoredReview]:
        """Reviews created in [since, until), oldest first (what reports read)."""
        return list(self.iter_reviews(agent=agent, since=since, until=until, kind=kind))

    def iter_reviews(
        self,
        *,
        agent: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        kind: str = "review",
        chunk: int = 500,
    ) -> Iterator[StoredReview]:
        """`reviews` in keyset pages of (created_at, id) on short connections, so exports stay small."""
        last: tuple[datetime, int] | None = None
        while True:
            stmt = select(R).where(*review_filter(agent, since, until, kind)).order_by(R.c.created_at, R.c.id)
            if last is not None:
                stmt = stmt.where(
                    or_(R.c.created_at > last[0], and_(R.c.created_at == last[0], R.c.id > last[1]))
                )
            with self.engine.connect() as conn:
                page = self._reviews(conn, stmt.limit(chunk))
            yield from page
            if len(page) < chunk:
                return
            last = (page[-1].created_at, page[-1].id)

    def rubrics_used(
        self, *, since: datetime | None = None, until: datetime | None = None, kind: str = "review"
    ) -> list[Rubric]:
        """The rubric versions the reviews in [since, until) were scored with, oldest first."""
        stmt = select(R.c.rubric_id).where(*review_filter(None, since, until, kind)).distinct()
        with self.engine.connect() as conn:
            ids = sorted(int(i) for i in conn.execute(stmt).scalars())
            rubrics = self._load_rubrics(conn, ids)
        return [rubrics[i] for i in ids]

    # -- calibrations --------------------------------------------------------------------------------------
    def open_calibration(
        self,
        *,
        ref: TicketRef,
        owner: str,
        closes_at: datetime,
        now: datetime,
        conn: Connection | None = None,
    ) -> int:
        values = {"ref": str(ref), "owner": owner, "opened_at": now, "closes_at": closes_at, "status": "open"}
        with self._tx(conn) as c:
            cal_id = int(c.execute(C.insert().values(**values).returning(C.c.id)).scalar_one())
            details = {"ref": str(ref), "closes_at": closes_at}
            self._audit(c, "calibration_opened", now=now, actor=owner, calibration_id=cal_id, details=details)
            return cal_id

    def record_calibration_message(
        self, calibration_id: int, channel: str, ts: str, *, conn: Connection | None = None
    ) -> bool:
        """Where the session was announced (first post wins); a delivery detail, not audited. Pass the
        outbox's `conn` from its finish hook (SQLite allows one writer)."""
        stmt = (
            update(C)
            .where(C.c.id == calibration_id, C.c.message_ts.is_(None))
            .values(channel=channel, message_ts=ts)
        )
        with self._tx(conn) as c:
            return c.execute(stmt).rowcount == 1

    def calibration(self, calibration_id: int) -> StoredCalibration | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(C).where(C.c.id == calibration_id)).mappings().first()
        return calibration_from_row(row) if row else None

    def calibration_scores(self, calibration_id: int) -> list[StoredReview]:
        """One score per reviewer, first scorer first (a rescore keeps its place)."""
        stmt = select(R).where(R.c.calibration_id == calibration_id).order_by(R.c.id)
        with self.engine.connect() as conn:
            return self._reviews(conn, stmt)

    def add_calibration_score(
        self,
        calibration_id: int,
        *,
        reviewer: str,
        agent: str,
        rubric_id: int,
        scores: Scores,
        result: ScoreResult,
        now: datetime,
        agent_email: str | None = None,
        comment: str = "",
        coaching: str = "",
        conn: Connection | None = None,
    ) -> int | None:
        """A reviewer's blind score; their second score replaces the first (audited as a rescore). None
        when the session is closed, past its window or unknown: nothing is written."""
        with self._tx(conn) as c:
            # Writing the session row first holds it until commit, so a close cannot slip in between.
            touch = update(C).where(C.c.id == calibration_id, C.c.status == "open", C.c.closes_at > now)
            if c.execute(touch.values(status="open")).rowcount != 1:
                return None
            ref = TicketRef.parse(c.execute(select(C.c.ref).where(C.c.id == calibration_id)).scalar_one())
            mine = (R.c.calibration_id == calibration_id, R.c.reviewer == reviewer)
            before = c.execute(select(R).where(*mine)).mappings().first()
            if before is None:
                return self.add_review(
                    reviewer=reviewer,
                    agent=agent,
                    agent_email=agent_email,
                    ref=ref,
                    rubric_id=rubric_id,
                    scores=scores,
                    result=result,
                    comment=comment,
                    coaching=coaching,
                    now=now,
                    kind="calibration",
                    calibration_id=calibration_id,
                    conn=c,
                )
            values = score_values(scores, result, comment, coaching)
            values |= {"rubric_id": rubric_id, "agent": agent, "agent_email": agent_email}
            c.execute(update(R).where(*mine).values(**values, version=R.c.version + 1, edited_at=now))
            details = {"before": score_summary(before), "after": score_summary(values)}
            ids = {"review_id": int(before["id"]), "calibration_id": calibration_id}
            self._audit(c, "calibration_rescored", now=now, actor=reviewer, **ids, details=details)
            return int(before["id"])

    def close_calibration(
        self, calibration_id: int, *, by: str | None, now: datetime, conn: Connection | None = None
    ) -> bool:
        """Close an open session (its owner, or `by=None` when its window ran out); False if not open."""
        stmt = (
            update(C)
            .where(C.c.id == calibration_id, C.c.status == "open")
            .values(status="closed", closed_at=now, closed_by=by)
        )
        with self._tx(conn) as c:
            if c.execute(stmt).rowcount != 1:
                return False
            self._audit(c, "calibration_closed", now=now, actor=by, calibration_id=calibration_id)
            return True

    def due_calibrations(self, now: datetime, limit: int = 100) -> list[StoredCalibration]:
        """Open sessions whose window has ended, earliest first, through the (status, closes_at) index."""
        stmt = (
            select(C)
            .where(C.c.status == "open", C.c.closes_at <= now)
            .order_by(C.c.closes_at, C.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [calibration_from_row(row) for row in conn.execute(stmt).mappings()]

    def closed_calibrations(self, limit: int = 20) -> list[StoredCalibration]:
        """The last `limit` closed sessions, most recently closed first (agreement over the last N)."""
        stmt = select(C).where(C.c.status == "closed").order_by(C.c.closed_at.desc(), C.c.id.desc())
        with self.engine.connect() as conn:
            return [calibration_from_row(row) for row in conn.execute(stmt.limit(limit)).mappings()]

    # -- the audit log -------------------------------------------------------------------------------------
    def events(self, since: datetime | None = None, *, chunk: int = 500) -> Iterator[StoredQaEvent]:
        """Every QA audit event at or after `since`, in time then insertion order, in keyset pages."""
        last: tuple[datetime, int] | None = None
        while True:
            stmt = select(V).order_by(V.c.at, V.c.id).limit(chunk)
            if since is not None:
                stmt = stmt.where(V.c.at >= since)
            if last is not None:
                stmt = stmt.where(or_(V.c.at > last[0], and_(V.c.at == last[0], V.c.id > last[1])))
            with self.engine.connect() as conn:
                page = [event_from_row(row) for row in conn.execute(stmt).mappings()]
            yield from page
            if len(page) < chunk:
                return
            last = (page[-1].at, page[-1].id)
