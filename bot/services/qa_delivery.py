"""Outbox purposes of QA: DMs (scorecard, dispute, outcome, sample), updates of them, and the calibration
session message with its result. Each is rendered when it goes out, from the stored rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection

from bot.blocks.alerts import RenderedMessage
from bot.blocks.qa_messages import (
    DisputeState,
    DisputeView,
    QueueItem,
    ScorecardAudience,
    ScorecardView,
    render_dispute_for_reviewer,
    render_dispute_outcome_for_agent,
    render_queue,
    render_scorecard,
)
from bot.blocks.qa_reports import (
    CalibrationSessionView,
    render_calibration_result,
    render_calibration_session,
)
from bot.config import AppConfig
from bot.domain.qa import calibration_result
from bot.domain.qa_types import Scorecard, ScoreResult
from bot.services.outbox import Cancel, Defer, Prepared
from bot.services.qa_effects import METADATA_EVENT
from bot.services.slack_directory import SlackDirectory
from bot.store.outbox import OutboxItem, OutboxState, OutboxStore
from bot.store.qa import QaStore, StoredReview


class QaRenderer:
    """Stored QA rows -> messages. `url_of(ref)` gives the ticket's link (the synced copy's URL)."""

    def __init__(self, *, store: QaStore, config: AppConfig, url_of: Callable[[Any], str | None]) -> None:
        self.store = store
        self.config = config
        self.url_of = url_of

    @property
    def tz(self) -> tzinfo:
        return self.config.tz

    def render(self, payload: dict[str, Any], now: datetime) -> RenderedMessage | Cancel:
        kind = payload["kind"]
        if kind == "card":
            review = self.store.get_review(int(payload["review_id"]))
            return Cancel("the scorecard no longer exists") if review is None else self.card(review, now)
        if kind in ("dispute", "outcome"):
            return self.dispute(
                int(payload["dispute_id"]), outcome=kind == "outcome", disputed_at=payload.get("disputed")
            )
        if kind == "samples":
            items = [
                QueueItem(ref=s.ref, agent=s.agent, url=self.url_of(s.ref))
                for s in self.store.open_samples(payload["user"])
            ]
            return render_queue(items, sampled_week=date.fromisoformat(payload["week"]))
        if kind == "calibration":
            return self.calibration(int(payload["calibration_id"]))
        if kind == "calibration_result":
            return self.calibration_result(int(payload["calibration_id"]))
        return Cancel(f"unknown QA message kind {kind!r}")

    def card(self, review: StoredReview, now: datetime, audience=ScorecardAudience.AGENT) -> RenderedMessage:
        qa = self.config.qa
        dispute_until = review.created_at + qa.dispute_window if qa else None
        edit_until = review.created_at + qa.edit_window if qa else None
        state = DisputeState(review.dispute_state) if review.dispute_state else None
        view = ScorecardView(
            review_id=review.id,
            card=Scorecard(review.agent, review.ref, review.scores, review.comment, review.coaching),
            reviewer=review.reviewer,
            rubric=review.rubric,
            result=review.result,
            created_at=review.created_at,
            tz=self.tz,
            url=self.url_of(review.ref),
            audience=audience,
            edited_at=review.edited_at,
            dispute_until=dispute_until if audience is ScorecardAudience.AGENT else None,
            edit_until=edit_until if audience is ScorecardAudience.REVIEWER else None,
            dispute_state=state,
        )
        return render_scorecard(view, now=now)

    def dispute(
        self, dispute_id: int, *, outcome: bool, disputed_at: dict[str, Any] | None = None
    ) -> RenderedMessage | Cancel:
        """`disputed_at`: the score the agent disputed, carried by the row (a rescore replaces it)."""
        dispute = self.store.dispute(dispute_id)
        review = self.store.get_review(dispute.review_id) if dispute else None
        if dispute is None or review is None:
            return Cancel("the dispute no longer exists")
        disputed = result_from_payload(disputed_at) if disputed_at else review.result
        view = DisputeView(
            dispute_id=dispute.id,
            review_id=review.id,
            agent=dispute.agent,
            reviewer=review.reviewer,
            ref=review.ref,
            reason=dispute.reason,
            result=disputed,
            opened_at=dispute.created_at,
            tz=self.tz,
            url=self.url_of(review.ref),
            state=DisputeState(dispute.state),
            decided_by=dispute.decided_by,
            decided_at=dispute.decided_at,
            note=dispute.note,
            new_result=review.result if dispute.state == "rescored" else None,
        )
        if outcome:
            if dispute.state == "open":
                return Cancel("the dispute is still open")
            return render_dispute_outcome_for_agent(view)
        return render_dispute_for_reviewer(view)

    def calibration(self, calibration_id: int) -> RenderedMessage | Cancel:
        cal = self.store.calibration(calibration_id)
        if cal is None:
            return Cancel("the calibration session no longer exists")
        scored = tuple(s.reviewer for s in self.store.calibration_scores(calibration_id))
        view = CalibrationSessionView(
            calibration_id=cal.id,
            ref=cal.ref,
            owner=cal.owner,
            closes_at=cal.closes_at,
            tz=self.tz,
            scored_by=scored,
            url=self.url_of(cal.ref),
            closed_at=cal.closed_at,
            closed_by=cal.closed_by,
        )
        return render_calibration_session(view)

    def calibration_result(self, calibration_id: int) -> RenderedMessage | Cancel:
        cal = self.store.calibration(calibration_id)
        if cal is None or cal.status != "closed":
            return Cancel("the calibration session is not closed")
        scores = self.store.calibration_scores(calibration_id)
        if not scores:
            return Cancel("nobody scored in this session")
        rubric = scores[0].rubric
        qa = self.config.qa
        threshold = qa.calibration_threshold if qa else 2
        same = [s for s in scores if s.rubric.version == rubric.version]
        result = calibration_result(rubric, {s.reviewer: s.scores for s in same}, threshold)
        return render_calibration_result(
            result, rubric=rubric, ref=cal.ref, url=self.url_of(cal.ref), threshold=threshold
        )


class _QaPurpose:
    def __init__(self, *, renderer: QaRenderer, outbox: OutboxStore, directory: SlackDirectory) -> None:
        self.renderer = renderer
        self.outbox = outbox
        self.directory = directory

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None:
        return None

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        if item.payload.get("kind") == "calibration":
            self.renderer.store.record_calibration_message(
                int(item.payload["calibration_id"]), result["channel"], result["ts"], conn=conn
            )

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        return None

    def _posted_message(self, key: str) -> tuple[str, str] | Cancel | Defer:
        row = self.outbox.get_by_key(key)
        if row is None or row.state in (OutboxState.DEAD, OutboxState.CANCELLED):
            return Cancel(f"the message to update was never posted ({key})")
        if row.state != OutboxState.POSTED or not row.result or not row.result.get("ts"):
            return Defer("waiting for the message to be posted")
        return row.result["channel"], row.result["ts"]


class QaDmPurpose(_QaPurpose):
    """A new message: a DM to `payload.user`, or a post in the row's channel (thread of `thread_of`)."""

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel | Defer:
        message = self.renderer.render(item.payload, now)
        if isinstance(message, Cancel):
            return message
        args: dict[str, Any] = {"text": message.text, "blocks": message.blocks}
        if item.payload.get("thread_of"):
            parent = self._posted_message(item.payload["thread_of"])
            if not isinstance(parent, tuple):
                return parent
            args["channel"], args["thread_ts"] = parent
        elif item.payload.get("user"):
            args["channel"] = self.directory.dm_channel(item.payload["user"])
        else:
            args["channel"] = item.channel
        return Prepared(
            method="chat.postMessage", args=args, metadata={"event_type": METADATA_EVENT, "event_payload": {}}
        )


class QaUpdatePurpose(_QaPurpose):
    """chat.update of the message the row `payload.of` posted, re-rendered from the rows as they are now."""

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel | Defer:
        target = self._posted_message(item.payload["of"])
        if not isinstance(target, tuple):
            return target
        message = self.renderer.render(item.payload, now)
        if isinstance(message, Cancel):
            return message
        channel, ts = target
        return Prepared(
            method="chat.update",
            args={"channel": channel, "ts": ts, "text": message.text, "blocks": message.blocks},
        )


def result_payload(result: ScoreResult) -> dict[str, Any]:
    return {
        "percent": result.percent,
        "passed": result.passed,
        "critical_failed": list(result.critical_failed),
    }


def result_from_payload(data: dict[str, Any]) -> ScoreResult:
    return ScoreResult(
        percent=float(data["percent"]),
        passed=bool(data["passed"]),
        critical_failed=tuple(data.get("critical_failed") or ()),
    )
