"""Calibration sessions: reviewers score one ticket blind, then see the spread and their agreement.

Scores stay hidden until the session closes (by its owner, or `qa.calibration_window` after it opened:
the QA job closes it); only then is the result posted in the session's thread. Calibration scores are
their own kind of review and never count in agents' averages.
"""

from __future__ import annotations

from datetime import datetime

from bot.blocks.alerts import RenderedMessage
from bot.blocks.qa_reports import CalibrationAlpha, render_calibration_report
from bot.domain.model import DomainError, TicketRef
from bot.domain.qa import alpha_over_sessions, calibration_result, score
from bot.domain.qa_types import QaInputError, Scores
from bot.services.qa import QaForbidden, QaService
from bot.services.qa_effects import calibration_post, calibration_result_post, calibration_update
from bot.store.qa import StoredCalibration


class CalibrationService:
    def __init__(self, qa: QaService) -> None:
        self.qa = qa
        self.store = qa.store

    def open(
        self, ref: TicketRef, *, owner: str, channel: str, now: datetime | None = None
    ) -> StoredCalibration:
        now = now or self.qa.clock()
        self.qa.require_reviewer(owner, "run calibration sessions")
        self.qa.tickets.item(ref)
        closes_at = now + self.qa.qa.calibration_window
        with self.store.engine.begin() as conn:
            cal_id = self.store.open_calibration(
                ref=ref, owner=owner, closes_at=closes_at, now=now, conn=conn
            )
            ids = self.qa.outbox.enqueue([calibration_post(cal_id, channel)], now=now, conn=conn)
        self.qa.outbox.deliver_ids(ids, now=now)
        return self._get(cal_id)

    def score(
        self, calibration_id: int, *, reviewer: str, scores: Scores, now: datetime | None = None
    ) -> None:
        """A blind score (a second one replaces the first); the session message only says who scored."""
        now = now or self.qa.clock()
        self.qa.require_reviewer(reviewer, "score calibration sessions")
        cal = self._get(calibration_id)
        rubric = self.qa.rubric()
        result = score(rubric, scores)
        with self.store.engine.begin() as conn:
            rubric_id = self.store.ensure_rubric(rubric, now=now, conn=conn)
            added = self.store.add_calibration_score(
                calibration_id,
                reviewer=reviewer,
                agent="",
                rubric_id=rubric_id,
                scores=dict(scores),
                result=result,
                now=now,
                conn=conn,
            )
            if added is None:
                raise QaInputError("this calibration session is closed: scores are no longer taken")
            tag = f"scored:{reviewer}:{now.timestamp():.6f}"
            ids = self.qa.outbox.enqueue(
                [calibration_update(cal.id, cal.channel or "", tag)], now=now, conn=conn
            )
        self.qa.outbox.deliver_ids(ids, now=now)

    def close(self, calibration_id: int, *, by: str | None, now: datetime | None = None) -> bool:
        """The owner (or a manager) closes it early; `by=None` is the window running out."""
        now = now or self.qa.clock()
        cal = self._get(calibration_id)
        if by is not None and by != cal.owner and by not in self.qa.managers():
            raise QaForbidden("only the session's owner or a team manager can close it early")
        with self.store.engine.begin() as conn:
            if not self.store.close_calibration(calibration_id, by=by, now=now, conn=conn):
                return False
            channel = cal.channel or ""
            effects = [
                calibration_update(cal.id, channel, "closed"),
                calibration_result_post(cal.id, channel),
            ]
            ids = self.qa.outbox.enqueue(effects, now=now, conn=conn)
        self.qa.outbox.deliver_ids(ids, now=now)
        return True

    def close_due(self, now: datetime) -> int:
        return sum(self.close(cal.id, by=None, now=now) for cal in self.store.due_calibrations(now))

    def report(self, caller: str) -> RenderedMessage:
        """Alpha per recent closed session and pooled over the last `qa.calibration_history` sessions."""
        self.qa.require_reviewer(caller, "see calibration reports")
        qa = self.qa.qa
        sessions, pooled = [], []
        for cal in self.store.closed_calibrations(limit=qa.calibration_history):
            scores = self.store.calibration_scores(cal.id)
            if not scores:
                continue
            rubric = scores[0].rubric
            by_reviewer = {s.reviewer: s.scores for s in scores if s.rubric.version == rubric.version}
            result = calibration_result(rubric, by_reviewer, qa.calibration_threshold)
            flagged = sum(spread.flagged for spread in result.spreads)
            sessions.append(
                CalibrationAlpha(
                    calibration_id=cal.id,
                    ref=cal.ref,
                    closed_at=cal.closed_at or cal.closes_at,
                    reviewers=len(by_reviewer),
                    alpha=result.alpha,
                    flagged=flagged,
                )
            )
            pooled.append((rubric, by_reviewer))
        return render_calibration_report(sessions, alpha_over_sessions(pooled), tz=self.qa.config.tz)

    def _get(self, calibration_id: int) -> StoredCalibration:
        cal = self.store.calibration(calibration_id)
        if cal is None:
            raise DomainError(f"calibration session {calibration_id} does not exist")
        return cal
