"""Escalation handoffs: the pure state machine (bot.domain.escalation) wired to the store and the outbox.

One rule everywhere: a change to a handoff and the outbox rows it causes commit in one transaction
(optimistic on the row's version), and rows are delivered right after. Two people pressing Accept
at once: one save wins, the other re-reads, and the state machine tells them who accepted. A crash
between commit and delivery loses nothing; the outbox job picks the rows up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from bot.blocks.escalation import TicketSummary
from bot.blocks.escalation_modal import EscalationRequest, TierChoice
from bot.config import AppConfig
from bot.domain.escalation import apply, open_escalation
from bot.domain.escalation_types import (
    CLOSED,
    AckTimeout,
    Escalation,
    EscalationPolicy,
    Event,
    Refusal,
    ResolvedUpstream,
    Transition,
)
from bot.domain.model import DomainError, HelpdeskItem, TicketRef
from bot.metrics import Metrics
from bot.services.escalation_effects import POST_PURPOSE, transition_effects
from bot.services.escalation_views import EscalationViews, summary_to_context
from bot.services.outbox import Outbox
from bot.services.slack_directory import SlackDirectory
from bot.store.escalations import EscalationStore, StoredEscalation

log = structlog.get_logger(__name__)

MAX_RACES = 8


class EscalationsNotConfigured(DomainError):
    """`/escalate` without an `escalation:` block in the config."""


@dataclass(frozen=True)
class Outcome:
    """What an action did: the handoff as it is now, and the refusal when it was turned away."""

    escalation: StoredEscalation
    refusal: Refusal | None = None
    outbox_ids: tuple[int, ...] = ()


class EscalationService:
    def __init__(
        self,
        *,
        store: EscalationStore,
        outbox: Outbox,
        config: AppConfig,
        directory: SlackDirectory,
        metrics: Metrics,
        clock: Callable[[], datetime],
        live_ticket: Callable[[TicketRef, datetime], dict[str, Any] | None] | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.config = config
        self.directory = directory
        self.metrics = metrics
        self.clock = clock
        self.views = EscalationViews(config=config, store=store, policy=self.policy, live_ticket=live_ticket)

    # -- policy ----------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.config.escalation is not None

    def _config(self):
        if self.config.escalation is None:
            raise EscalationsNotConfigured(
                "escalations are not configured: add an `escalation:` block with tiers and reasons to "
                "the Deskwatch config (see deskwatch.example.yaml), then `deskwatch config check`"
            )
        return self.config.escalation

    def policy(self) -> EscalationPolicy:
        """Tiers, reasons, every team's managers, and the members of user groups named as responders."""
        config = self._config()
        managers = sorted({m for team in self.config.teams for m in team.managers})
        groups = {r for tier in config.tiers for r in tier.responders if r.startswith("S")}
        members = self.directory.group_members(groups) if groups else {}
        return config.policy(self.config.tz, managers=managers, group_members=members)

    def tier_choices(self) -> tuple[TierChoice, ...]:
        return tuple(TierChoice(i, t.name) for i, t in enumerate(self._config().tiers) if i > 0)

    def may_act(self, esc: StoredEscalation, user: str) -> bool:
        policy = self.policy()
        return user == esc.state.owner or policy.may_act(policy.tiers[esc.state.tier], user)

    # -- opening ---------------------------------------------------------------------------------
    def open(
        self,
        request: EscalationRequest,
        *,
        chain: str | None,
        by: str,
        ticket: TicketSummary,
        origin: dict[str, str | None] | None = None,
        now: datetime | None = None,
    ) -> Outcome:
        """Open the handoff, post it and write it back. `chain` (e.g. from the modal's view id) makes a
        repeated submission a no-op that returns the existing handoff."""
        now = now or self.clock()
        policy = self.policy()
        chain = chain or uuid.uuid4().hex
        transition = open_escalation(
            policy,
            chain=chain,
            ref=request.ref,
            reason=request.reason,
            note=request.note,
            by=by,
            at=now,
            tier=request.tier,
        )
        context = {
            "needs": request.needs,
            "tried": request.tried,
            "urgency": request.urgency.value,
            "ticket": summary_to_context(ticket),
            "origin": origin or {},
        }
        existing = self.store.get_by_chain_tier(chain, request.tier)
        if existing is not None:
            return Outcome(existing)
        channel_of = self._channels(policy)
        with self.store.engine.begin() as conn:
            esc_id = self.store.create(
                transition.state,
                now=now,
                events=transition.audit,
                channel=channel_of.get(request.tier),
                context=context,
                conn=conn,
            )
            effects = transition_effects(
                transition, ids={request.tier: esc_id}, version=1, policy=policy, channel_of=channel_of
            )
            ids = self.outbox.enqueue(effects, now=now, conn=conn)
        self.metrics.escalations.labels("opened").inc()
        log.info("escalation_opened", escalation_id=esc_id, ref=str(request.ref), tier=request.tier)
        self._deliver(ids, now)
        stored = self.store.get(esc_id)
        assert stored is not None
        return Outcome(stored, outbox_ids=tuple(ids))

    # -- events ----------------------------------------------------------------------------------
    def act(self, escalation_id: int, event: Event, *, deliver: bool = True) -> Outcome:
        """Apply one event with optimistic concurrency; refusals are audited and returned."""
        now = event.at
        for _ in range(MAX_RACES):
            stored = self.store.get(escalation_id)
            if stored is None:
                raise DomainError(f"escalation {escalation_id} does not exist (it may have been removed)")
            policy = self.policy()
            transition = apply(stored.state, event, policy)
            if transition.refusal is not None:
                self.store.append_events(escalation_id, transition.audit, now=now)
                return Outcome(stored, transition.refusal)
            saved = self._save(stored, transition, policy, now)
            if saved is None:
                continue  # someone saved first: re-read and apply again
            if deliver:
                self._deliver(saved, now)
            current = self.store.get(escalation_id)
            assert current is not None
            return Outcome(current, outbox_ids=tuple(saved))
        raise DomainError("this handoff is changing too fast; try again in a moment")

    def _save(
        self, stored: StoredEscalation, transition: Transition, policy: EscalationPolicy, now: datetime
    ) -> list[int] | None:
        if (
            not transition.effects
            and not transition.audit
            and transition.state == stored.state
            and stored.next_timer_at is None
        ):
            return []
        channel_of = self._channels(policy)
        state = transition.state
        ids = {state.tier: stored.id}
        with self.store.engine.begin() as conn:
            if not self.store.save(
                stored.id, state, expected_version=stored.version, events=transition.audit, now=now, conn=conn
            ):
                return None
            successor = transition.successor
            if successor is not None:
                context = dict(stored.context)
                context["handoff_note"] = _handoff_note(transition, policy)
                successor_id = self.store.create(
                    successor,
                    now=now,
                    events=(),
                    channel=channel_of.get(successor.tier),
                    context=context,
                    conn=conn,
                )
                ids[successor.tier] = successor_id
                self.metrics.escalations.labels("escalated").inc()
            effects = transition_effects(
                transition, ids=ids, version=stored.version + 1, policy=policy, channel_of=channel_of
            )
            return self.outbox.enqueue(effects, now=now, conn=conn)

    def _deliver(self, ids: list[int], now: datetime) -> None:
        """Handoff posts first: thread notes, the DM and the note (it links the thread) need them."""
        posts = [
            i for i in ids if (item := self.outbox.store.get(i)) is not None and item.purpose == POST_PURPOSE
        ]
        if posts:
            self.outbox.deliver_ids(posts, now=now)
        rest = [i for i in ids if i not in posts]
        if rest:
            self.outbox.deliver_ids(rest, now=now)

    @staticmethod
    def _channels(policy: EscalationPolicy) -> dict[int, str | None]:
        return {i: tier.channel for i, tier in enumerate(policy.tiers)}

    # -- the clock and the helpdesk --------------------------------------------------------------
    def run_timers(self, now: datetime, *, limit: int = 500) -> int:
        """Every handoff whose timer is due: re-ping, auto-escalate, due warning/alert. Idempotent with
        injected time: the state machine does nothing for an early or repeated wake-up."""
        if not self.enabled:
            return 0
        handled = 0
        caused: list[int] = []
        for stored in self.store.due_timers(now, limit=limit):
            try:
                outcome = self.act(stored.id, AckTimeout(at=now), deliver=False)
            except Exception:
                log.exception("escalation_timer_failed", escalation_id=stored.id)
                continue
            if outcome.outbox_ids:
                handled += 1
                caused.extend(outcome.outbox_ids)
        if caused:
            self._deliver(caused, now)
        return handled

    def on_items(self, items: Iterable[HelpdeskItem], *, now: datetime) -> int:
        """Tickets a sync stored: a solved or closed one resolves its open handoff. Reads only the
        handoffs of the changed tickets (the ref index)."""
        if not self.enabled:
            return 0
        closed = {str(item.ref): item for item in items if item.is_closed}
        if not closed:
            return 0
        resolved = 0
        for stored in self.store.open_for_refs(list(closed)):
            item = closed[str(stored.state.ref)]
            at = min(max(item.updated_at, stored.state.opened_at), now)
            outcome = self.act(stored.id, ResolvedUpstream(at=at), deliver=False)
            resolved += outcome.refusal is None
            self.metrics.escalations.labels("resolved").inc()
        return resolved

    # -- reading ---------------------------------------------------------------------------------
    def get(self, escalation_id: int) -> StoredEscalation | None:
        return self.store.get(escalation_id)

    def by_thread(self, channel: str, thread_ts: str) -> StoredEscalation | None:
        return self.store.by_message(channel, thread_ts)


def _handoff_note(transition: Transition, policy: EscalationPolicy) -> str:
    """Shown on the next tier's handoff (escaped text: the "Escalated by" field carries the mention)."""
    closed: Escalation = transition.state
    audit = next((a for a in transition.audit if a.kind in ("escalated_further", "auto_escalated")), None)
    why = str(audit.details.get("why") or "") if audit is not None else ""
    how = "auto-escalated" if audit is not None and audit.actor is None else "escalated"
    return f"{how.capitalize()} from {policy.tiers[closed.tier].name}: {why or 'no reason given'}"


def is_open(state: Escalation) -> bool:
    return state.status not in CLOSED
