"""QA scorecards: who may score, recording and editing reviews, reports, disputes, the weekly sample.

The pure maths is in bot.domain.qa*, rows in bot.store.qa, renderers in bot.blocks.qa*. Every message
goes through the outbox (DMs to agents and reviewers, their updates); a review and the rows it causes
commit in one transaction, so a crash never leaves a scorecard without its DM or a DM without its row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from bot.blocks.alerts import RenderedMessage
from bot.blocks.qa_messages import QueueItem, render_queue
from bot.blocks.qa_reports import render_agent_report, render_team_report
from bot.config import AppConfig
from bot.domain.model import DomainError, TicketRef
from bot.domain.qa import score
from bot.domain.qa_report import agent_report, team_report
from bot.domain.qa_sampling import is_sampling_time, sample_seed, sample_tickets, sample_window, week_start
from bot.domain.qa_types import QaInputError, Rubric, Scorecard
from bot.metrics import Metrics
from bot.services.outbox import Outbox
from bot.services.qa_delivery import result_from_payload, result_payload
from bot.services.qa_effects import (
    card_effects,
    dispute_decided_effects,
    dispute_key,
    dispute_opened_effects,
    sample_effect,
)
from bot.services.slack_directory import SlackDirectory
from bot.services.ticket_summary import TicketLookup
from bot.store.qa import QaStore, StoredDispute, StoredReview

log = structlog.get_logger(__name__)


class QaNotConfigured(DomainError):
    """`/qa` without a `qa:` block in the config."""


class QaForbidden(DomainError):
    """Someone asked for what their role does not allow (scoring, others' reports, deciding disputes)."""


class QaService:
    def __init__(
        self,
        *,
        store: QaStore,
        outbox: Outbox,
        config: AppConfig,
        tickets: TicketLookup,
        directory: SlackDirectory,
        metrics: Metrics,
        clock: Callable[[], datetime],
        solved_items: Callable[[datetime, datetime, str], list[tuple[str, TicketRef]]] | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.config = config
        self.tickets = tickets
        self.directory = directory
        self.metrics = metrics
        self.clock = clock
        # (since, until, status) -> [(helpdesk assignee key, ref)]: the sample's candidates from the store
        self.solved_items = solved_items

    # -- configuration and roles ---------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.config.qa is not None

    @property
    def qa(self):
        if self.config.qa is None:
            raise QaNotConfigured(
                "QA scorecards are not configured: add a `qa:` block (scale, pass_mark, reviewers, rubric) "
                "to the Deskwatch config, then run `deskwatch config check`"
            )
        return self.config.qa

    def rubric(self) -> Rubric:
        return self.qa.rubric()

    def managers(self) -> set[str]:
        return {m for team in self.config.teams for m in team.managers}

    def is_reviewer(self, user: str) -> bool:
        return self.qa.is_reviewer(user, self.managers())

    def require_reviewer(self, user: str, what: str = "score tickets") -> None:
        if not self.is_reviewer(user):
            raise QaForbidden(f"only QA reviewers and team managers can {what}; ask your manager")

    # -- reviews ---------------------------------------------------------------------------------------
    def record(self, card: Scorecard, *, reviewer: str, now: datetime | None = None) -> StoredReview:
        """Validate (ticket exists, scores in range), score, store and DM the agent; all or nothing."""
        now = now or self.clock()
        self.require_reviewer(reviewer)
        if card.agent == reviewer:
            raise QaInputError("you cannot score your own ticket: ask another reviewer")
        rubric = self.rubric()
        result = score(rubric, card.scores)
        self.tickets.item(card.ref)  # raises UnknownTicket with a specific message
        email = self.directory.email(card.agent)
        with self.store.engine.begin() as conn:
            rubric_id = self.store.ensure_rubric(rubric, now=now, conn=conn)
            review_id = self.store.add_review(
                reviewer=reviewer,
                agent=card.agent,
                agent_email=email,
                ref=card.ref,
                rubric_id=rubric_id,
                scores=dict(card.scores),
                result=result,
                comment=card.comment,
                coaching=card.coaching,
                now=now,
                conn=conn,
            )
            self.store.mark_sampled_done(reviewer, card.ref, review_id, conn=conn)
            ids = self.outbox.enqueue(
                card_effects(review_id, card.agent, dm=self.qa.dm_agent), now=now, conn=conn
            )
        self.metrics.qa_reviews.labels("pass" if result.passed else "fail").inc()
        log.info("qa_review_recorded", review_id=review_id, ref=str(card.ref), percent=result.percent)
        self.outbox.deliver_ids(ids, now=now)
        stored = self.store.get_review(review_id)
        assert stored is not None
        return stored

    def edit(self, review_id: int, card: Scorecard, *, by: str, now: datetime | None = None) -> StoredReview:
        """The author may change scores and words within `qa.edit_window`; the agent's DM follows."""
        now = now or self.clock()
        review = self._review(review_id)
        if review.reviewer != by:
            raise QaForbidden("only the reviewer who wrote a scorecard can edit it")
        if now - review.created_at > self.qa.edit_window:
            raise QaForbidden(
                f"scorecards can be edited for {_words(self.qa.edit_window)} after they are written; "
                "this one is older. Score the ticket again instead."
            )
        return self._rewrite(review, card, by=by, now=now)

    def _rewrite(self, review: StoredReview, card: Scorecard, *, by: str, now: datetime) -> StoredReview:
        with self.store.engine.begin() as conn:
            ids = self._rewrite_in(conn, review, card, by=by, now=now)
        self.outbox.deliver_ids(ids, now=now)
        return self._review(review.id)

    def _rewrite_in(
        self, conn, review: StoredReview, card: Scorecard, *, by: str, now: datetime
    ) -> list[int]:
        """The edit and the agent's DM update, inside the caller's transaction."""
        result = score(review.rubric, card.scores)  # an edit keeps the rubric version it was given
        changed = self.store.edit_review(
            review.id,
            by=by,
            scores=dict(card.scores),
            result=result,
            comment=card.comment,
            coaching=card.coaching,
            now=now,
            expected_version=review.version,
            conn=conn,
        )
        if not changed:
            raise DomainError("this scorecard was changed meanwhile; open it again")
        effects = card_effects(review.id, review.agent, dm=self.qa.dm_agent, version=review.version + 1)
        return self.outbox.enqueue(effects, now=now, conn=conn)

    def _review(self, review_id: int) -> StoredReview:
        review = self.store.get_review(review_id)
        if review is None or review.kind != "review":
            raise DomainError(f"scorecard {review_id} does not exist")
        return review

    def get_review(self, review_id: int) -> StoredReview:
        return self._review(review_id)

    # -- reports ---------------------------------------------------------------------------------------
    def report(
        self, caller: str, agent: str | None, days: int, *, now: datetime | None = None
    ) -> RenderedMessage:
        """`agent` None: the team report. Agents see their own; reviewers and managers anyone's."""
        now = now or self.clock()
        if agent != caller:
            self.require_reviewer(caller, "see other people's QA reports")
        until = now + timedelta(microseconds=1)  # the period ends now, inclusive: a review just made counts
        since, tz = until - timedelta(days=days), self.config.tz
        records = [
            r.record for r in self.store.reviews(agent=agent, since=since - timedelta(days=days), until=until)
        ]
        if agent is None:
            reports = team_report(
                [r for r in records if r.created_at >= since], since=since, until=until, tz=tz
            )
            return render_team_report(reports, rubric=self.rubric(), days=days)
        report = agent_report(records, agent=agent, since=since, until=until, tz=tz)
        return render_agent_report(report, rubric=self.rubric(), days=days)

    # -- disputes --------------------------------------------------------------------------------------
    def open_dispute(
        self, review_id: int, *, agent: str, reason: str, now: datetime | None = None
    ) -> StoredDispute:
        now = now or self.clock()
        review = self._review(review_id)
        if review.agent != agent:
            raise QaForbidden("only the agent who was scored can dispute a scorecard")
        if not reason.strip():
            raise QaInputError("say why you dispute the scorecard: the reviewer reads this")
        if now - review.created_at > self.qa.dispute_window:
            raise QaForbidden(
                f"scorecards can be disputed for {_words(self.qa.dispute_window)}; this one is older"
            )
        with self.store.engine.begin() as conn:
            dispute_id = self.store.open_dispute(
                review_id, agent=agent, reason=reason.strip(), now=now, conn=conn
            )
            if dispute_id is None:
                earlier = self.store.dispute_for_review(review_id)
                state = earlier.state if earlier else "open"
                raise QaInputError(
                    "this scorecard is already disputed; the reviewer has your reason"
                    if state == "open"
                    else f"this scorecard was disputed once already (the dispute was {state})"
                )
            ids = self.outbox.enqueue(
                dispute_opened_effects(dispute_id, review.id, review.reviewer, result_payload(review.result)),
                now=now,
                conn=conn,
            )
        self.outbox.deliver_ids(ids, now=now)
        dispute = self.store.dispute(dispute_id)
        assert dispute is not None
        return dispute

    def may_decide(self, dispute: StoredDispute, user: str) -> bool:
        review = self._review(dispute.review_id)
        return user == review.reviewer or user in self.managers()

    def decide(
        self,
        dispute_id: int,
        *,
        by: str,
        outcome: str,
        note: str = "",
        card: Scorecard | None = None,
        now: datetime | None = None,
    ) -> StoredDispute:
        """accepted / rejected / rescored (with the new scores); told to the agent, recorded, audited."""
        now = now or self.clock()
        dispute = self.store.dispute(dispute_id)
        if dispute is None:
            raise DomainError(f"dispute {dispute_id} does not exist")
        if not self.may_decide(dispute, by):
            raise QaForbidden("only the reviewer of this scorecard or a team manager can decide its dispute")
        if dispute.state != "open":
            raise QaInputError(f"this dispute was already {dispute.state} by <@{dispute.decided_by}>")
        if outcome == "rejected" and not note.strip():
            raise QaInputError("say why the dispute is rejected: the agent reads this")
        review = self._review(dispute.review_id)
        disputed = review.result
        opened = self.outbox.store.get_by_key(dispute_key(dispute_id))
        if opened is not None and opened.payload.get("disputed"):
            disputed = result_from_payload(opened.payload["disputed"])
        if outcome == "rescored" and card is None:
            raise QaInputError("a rescore needs the new scores")
        with self.store.engine.begin() as conn:  # the decision and a rescore commit together, or neither
            if not self.store.decide_dispute(
                dispute_id, by=by, outcome=outcome, note=note.strip(), now=now, conn=conn
            ):
                raise QaInputError("this dispute was decided meanwhile")
            ids = self._rewrite_in(conn, review, card, by=by, now=now) if card is not None else []
            ids += self.outbox.enqueue(
                dispute_decided_effects(dispute_id, review.id, review.agent, result_payload(disputed)),
                now=now,
                conn=conn,
            )
        self.outbox.deliver_ids(ids, now=now)
        decided = self.store.dispute(dispute_id)
        assert decided is not None
        return decided

    # -- sampling --------------------------------------------------------------------------------------
    def queue(self, reviewer: str) -> RenderedMessage:
        self.require_reviewer(reviewer, "have a QA queue")
        items = [QueueItem(ref=s.ref, agent=s.agent) for s in self.store.open_samples(reviewer)]
        return render_queue(items)

    def assign_samples(self, now: datetime) -> int:
        """Mondays in each reviewer's timezone: a random sample of each agent's tickets solved last week."""
        qa = self.config.qa
        if qa is None or qa.sample is None or self.solved_items is None:
            return 0
        assigned = 0
        for reviewer in qa.all_reviewers(self.managers()):
            tz = self._tz_of(reviewer)
            weeks = self.store.sampled_weeks(reviewer)
            last = max(weeks) if weeks else None
            if not is_sampling_time(now, tz, last):
                continue
            week = week_start(now, tz)
            since, until = sample_window(now, tz)
            candidates = [
                (a, r) for a, r in self.solved_items(since, until, qa.sample.from_) if a != reviewer
            ]
            picked = sample_tickets(
                candidates, qa.sample.per_agent_per_week, seed=sample_seed(reviewer, week)
            )
            rows = [(reviewer, agent, ref, week) for agent, refs in picked.items() for ref in refs]
            with self.store.engine.begin() as conn:
                new = self.store.assign_samples(rows, now=now, conn=conn) if rows else 0
                if new:
                    self.outbox.enqueue([sample_effect(reviewer, week)], now=now, conn=conn)
            assigned += new
        return assigned

    def _tz_of(self, user: str):
        teams = self.config.teams_managed_by(user)
        return self.config.team_tz(teams[0].name) if teams else self.config.tz


def _words(delta: timedelta) -> str:
    from bot.domain.durations import format_duration

    return format_duration(delta)
