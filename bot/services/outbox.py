"""The outbox: the one way out to Slack. Every post and update is a row delivered exactly once.

Per row: claim (fencing token) -> resolve an earlier unseen outcome by lookup -> prepare the final
payload (its purpose re-checks that it still applies) -> take a shared pacing slot -> record that the
request may go through -> send -> finish. The rules:
- A request whose outcome was not seen (timeout, reset, 5xx on a post) may have gone through: the row
  becomes `unknown`, and before anything is sent again its message is looked up by metadata (event
  type + idempotency key) in the channel history or thread. If the lookup cannot be done (the bot is
  not in a private channel) the row stays `unknown` and is looked up again later: a late alert beats
  a duplicate, so Deskwatch never posts blind.
- Permanent Slack errors make the row `dead` at once with Slack's reason; transient ones retry with
  backoff; an unexpected exception fails its own row only.
Updates (`chat.update`) are idempotent, so an unseen outcome is simply retried.

Helpdesk write-backs are rows too (kind `helpdesk.write`): their purpose prepares a `HelpdeskCall` that
looks before it writes (a note carries a marker and is searched for first), so a retry after a lost
answer never adds a second note. `Defer` puts a row back without counting it as a failure (a thread
reply whose parent message is not posted yet).
"""

from __future__ import annotations

import http.client
import time
import urllib.error
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Connection

from bot.metrics import Metrics
from bot.services.outbox_lookup import CannotLook, Found, UnseenOutcomeLookup
from bot.services.outbox_types import (  # noqa: F401 - re-exported: purposes import them from here
    Cancel,
    Defer,
    DeliveryReport,
    HelpdeskCall,
    Prepared,
    Purpose,
)
from bot.services.slack_errors import SlackFailure, classify_failure
from bot.store.outbox import Claim, Effect, OutboxItem, OutboxKind, OutboxState, OutboxStore
from bot.store.pacing import SharedPacer
from integrations.base import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskNotFound,
    HelpdeskWriteOutcomeUnknown,
)

log = structlog.get_logger(__name__)

OUTBOX_METADATA_EVENT_PREFIX = "deskwatch_"
LEASE = timedelta(minutes=3)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
MAX_LOOKUP_RETRY = timedelta(minutes=10)
MAX_ATTEMPTS = 12  # an unexpected error this often makes the row dead


class Outbox:
    def __init__(
        self,
        *,
        store: OutboxStore,
        slack: WebClient,
        pacer: SharedPacer,
        metrics: Metrics,
        clock: Callable[[], datetime],
        purposes: Mapping[str, Purpose] | None = None,
        max_parallel_channels: int = 16,
        channel_budget_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.slack = slack
        self.pacer = pacer
        self.metrics = metrics
        self.clock = clock
        self.purposes: dict[str, Purpose] = dict(purposes or {})
        self.max_parallel_channels = max_parallel_channels
        self.lookup = UnseenOutcomeLookup(slack=slack, metrics=metrics)
        self.channel_budget_seconds = channel_budget_seconds
        self._monotonic = monotonic

    def register(self, name: str, purpose: Purpose) -> None:
        self.purposes[name] = purpose

    def enqueue(self, effects: list[Effect], *, now: datetime, conn: Connection | None = None) -> list[int]:
        return self.store.enqueue(effects, now=now, conn=conn)

    # -- delivery passes -------------------------------------------------------------------------
    def deliver_due(self, *, now: datetime, budget_seconds: float | None = None) -> DeliveryReport:
        """One pass over due rows: channels in parallel, each served for at most its time budget, so a
        channel with a long queue never holds up the others; what is left waits for the next pass."""
        return self._deliver(self.store.due(now=now), now, budget_seconds)

    def deliver_ids(self, ids: list[int], *, now: datetime) -> DeliveryReport:
        """Deliver specific rows now (interactive updates such as Acknowledge), if they are due."""
        items = [item for item in (self.store.get(i) for i in ids) if item is not None]
        due = [
            i
            for i in items
            if (i.state in (OutboxState.PENDING, OutboxState.UNKNOWN) and i.next_attempt_at <= now)
            or (i.state == OutboxState.SENDING and i.claimed_until is not None and i.claimed_until < now)
        ]
        return self._deliver(due, now, None)

    def drain(self, *, now: datetime, max_seconds: float = 600.0) -> DeliveryReport:
        """Passes until nothing is due now (for `sla scan`): everything deliverable goes out."""
        report = DeliveryReport()
        deadline = self._monotonic() + max_seconds
        while self._monotonic() < deadline:
            part = self.deliver_due(now=now)
            report.merge(part)
            if part.worked == 0:
                break
            if not (part.posted or part.recovered or part.cancelled or part.dead):
                break  # only retries scheduled for later remain
        return report

    def _deliver(self, items: list[OutboxItem], now: datetime, budget: float | None) -> DeliveryReport:
        report = DeliveryReport()
        if not items:
            return report
        by_purpose: dict[str, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_purpose[item.purpose].append(item)
        for name, group in by_purpose.items():
            purpose = self.purposes.get(name)
            if purpose is not None:
                try:
                    purpose.before_batch(group, now)
                except Exception:  # a failed pre-step must not stop delivery; rows re-check themselves
                    log.exception("outbox_before_batch_failed", purpose=name)
        by_channel: dict[str, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_channel[item.channel or ""].append(item)
        budget = self.channel_budget_seconds if budget is None else budget
        if len(by_channel) == 1:
            report.merge(self._deliver_channel(next(iter(by_channel.values())), now, budget))
            return report
        workers = min(self.max_parallel_channels, len(by_channel))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
            for part in pool.map(lambda rows: self._deliver_channel(rows, now, budget), by_channel.values()):
                report.merge(part)
        return report

    def _deliver_channel(self, items: list[OutboxItem], now: datetime, budget: float) -> DeliveryReport:
        report = DeliveryReport()
        stop_at = self._monotonic() + budget
        for item in sorted(items, key=lambda i: i.id):
            if self._monotonic() >= stop_at and report.worked:
                break
            self._process(item, report)
        return report

    # -- one row ---------------------------------------------------------------------------------
    def _process(self, item: OutboxItem, report: DeliveryReport) -> None:
        now = self.clock()
        claim = self.store.claim(item, now=now, lease=LEASE)
        if claim is None:
            return  # another worker or replica has it
        try:
            self._process_claimed(item, claim, report)
        except Exception as exc:  # a poison row fails alone; the rest of the channel goes on
            log.exception("outbox_row_failed", outbox_id=item.id, purpose=item.purpose, key=item.key)
            error = f"unexpected error: {type(exc).__name__}: {str(exc)[:200]}"
            if claim.item.attempts >= MAX_ATTEMPTS:
                self._finish_final(claim, OutboxState.DEAD, error, report.dead)
            else:
                self._release(claim, OutboxState.PENDING, error, report.failed)

    def _process_claimed(self, seen: OutboxItem, claim: Claim, report: DeliveryReport) -> None:
        item = claim.item
        purpose = self.purposes.get(item.purpose)
        if purpose is None:
            self._finish_final(
                claim, OutboxState.DEAD, f"no handler for purpose {item.purpose!r}", report.dead
            )
            return
        if item.kind == OutboxKind.SLACK_POST and seen.may_have_been_sent:
            found = self.lookup.resolve(item)
            if isinstance(found, Found):
                self._finish_posted(claim, purpose, found.result, report.recovered, recovered=True)
                return
            if isinstance(found, CannotLook):
                if found.permanent:
                    self._finish_final(claim, OutboxState.DEAD, found.reason, report.dead, purpose)
                else:
                    self.metrics.outbox_lookup_blocked.labels(item.channel or "-").inc()
                    self._release(claim, OutboxState.UNKNOWN, found.reason, report.unknown, lookup=True)
                return
        prepared = purpose.prepare(item, self.clock())
        if isinstance(prepared, Cancel):
            self._finish_final(claim, OutboxState.CANCELLED, prepared.reason, report.cancelled, purpose)
            return
        if isinstance(prepared, Defer):
            state = OutboxState.UNKNOWN if seen.may_have_been_sent else OutboxState.PENDING
            self._release(
                claim,
                state,
                prepared.reason,
                report.failed,
                retry_after=prepared.delay.total_seconds(),
                uncount=True,
            )
            return
        if isinstance(prepared, HelpdeskCall):
            self._run_helpdesk(claim, purpose, prepared, report)
            return
        self._send(claim, purpose, prepared, report)

    def _run_helpdesk(
        self, claim: Claim, purpose: Purpose, call: HelpdeskCall, report: DeliveryReport
    ) -> None:
        """A write-back: definite failures retry (or go dead for auth / not found), a lost answer makes
        the row `unknown`, which the call resolves by looking first on its next attempt."""
        item = claim.item
        if not self.store.mark_sending(claim, now=self.clock(), target={"helpdesk": call.target}):
            log.warning("outbox_claim_lost", outbox_id=item.id, key=item.key)
            return
        try:
            result = call.run()
        except (HelpdeskAuthError, HelpdeskNotFound) as exc:
            self._attempt_failed(purpose, item, str(exc), final=True)
            self._finish_final(claim, OutboxState.DEAD, str(exc), report.dead, purpose)
            return
        except HelpdeskWriteOutcomeUnknown as exc:
            self._attempt_failed(purpose, item, str(exc), final=False)
            self._release(claim, OutboxState.UNKNOWN, str(exc), report.unknown, lookup=True)
            return
        except HelpdeskError as exc:
            self._attempt_failed(purpose, item, str(exc), final=False)
            self._release(claim, OutboxState.PENDING, str(exc), report.failed)
            return
        self._finish_posted(claim, purpose, result, report.posted)

    def _attempt_failed(self, purpose: Purpose, item: OutboxItem, reason: str, *, final: bool) -> None:
        """Tell the purpose (e.g. to show the failure in the escalation's thread); never fails the row."""
        self.metrics.outbox_failures.labels(item.purpose, "dead" if final else "retry", reason[:40]).inc()
        log.warning(
            "outbox_helpdesk_write_failed", outbox_id=item.id, key=item.key, error=reason, final=final
        )
        hook = getattr(purpose, "on_attempt_failed", None)
        if hook is None:
            return
        try:
            hook(item, reason, self.clock(), final=final)
        except Exception:
            log.exception("outbox_attempt_failed_hook_failed", outbox_id=item.id, purpose=item.purpose)

    def _send(self, claim: Claim, purpose: Purpose, prepared: Prepared, report: DeliveryReport) -> None:
        item = claim.item
        args = dict(prepared.args)
        if prepared.method == "chat.postMessage":
            metadata = dict(
                prepared.metadata or {"event_type": f"{OUTBOX_METADATA_EVENT_PREFIX}{item.purpose}"}
            )
            metadata["event_payload"] = {**(metadata.get("event_payload") or {}), "outbox_key": item.key}
            args["metadata"] = metadata
        target = {"channel": prepared.channel, "thread_ts": args.get("thread_ts"), "ts": args.get("ts")}
        if not self.store.mark_sending(claim, now=self.clock(), target=target):
            log.warning("outbox_claim_lost", outbox_id=item.id, key=item.key)
            return
        self.pacer.wait(prepared.channel)  # the slot is taken right before the request goes out
        try:
            response = self.slack.api_call(prepared.method, json=args)
        except (SlackApiError, OSError, http.client.HTTPException, urllib.error.URLError) as exc:
            failure = classify_failure(exc, is_post=prepared.method == "chat.postMessage")
            self._failed(claim, purpose, prepared, failure, report)
            return
        finally:
            self.pacer.answered(prepared.channel)
        result = {
            "channel": response.get("channel") or prepared.channel,
            "ts": response.get("ts") or args.get("ts"),
            "thread_ts": args.get("thread_ts"),
        }
        self._finish_posted(claim, purpose, result, report.posted)

    def _failed(
        self,
        claim: Claim,
        purpose: Purpose,
        prepared: Prepared,
        failure: SlackFailure,
        report: DeliveryReport,
    ) -> None:
        item = claim.item
        if failure.outcome == "dead":
            self._finish_final(claim, OutboxState.DEAD, failure.reason, report.dead, purpose)
        elif failure.outcome == "unknown":
            self._release(claim, OutboxState.UNKNOWN, failure.reason, report.unknown, lookup=True)
        else:
            self._release(
                claim, OutboxState.PENDING, failure.reason, report.failed, retry_after=failure.retry_after
            )
        self.metrics.outbox_failures.labels(item.purpose, failure.outcome, failure.reason[:40]).inc()
        log.warning(
            "outbox_send_failed",
            outbox_id=item.id,
            key=item.key,
            channel=prepared.channel,
            error=failure.reason,
            outcome=failure.outcome,
        )

    # -- finishing -------------------------------------------------------------------------------
    def _finish_posted(
        self,
        claim: Claim,
        purpose: Purpose,
        result: dict[str, Any],
        bucket: list[int],
        *,
        recovered: bool = False,
    ) -> None:
        item = claim.item
        now = self.clock()
        done = self.store.finish(
            claim,
            state=OutboxState.POSTED,
            now=now,
            result=result,
            hook=lambda conn: purpose.on_posted(conn, item, result, now),
        )
        if done:
            bucket.append(item.id)
            self.metrics.outbox_done.labels(item.purpose, "recovered" if recovered else "posted").inc()
            log.info(
                "outbox_recovered" if recovered else "outbox_posted",
                outbox_id=item.id,
                key=item.key,
                channel=result.get("channel"),
                ts=result.get("ts"),
            )

    def _finish_final(
        self, claim: Claim, state: str, reason: str, bucket: list[int], purpose: Purpose | None = None
    ) -> None:
        item = claim.item
        now = self.clock()
        hook = (
            (lambda conn: purpose.on_final(conn, item, state, reason, now)) if purpose is not None else None
        )
        if self.store.finish(claim, state=state, now=now, error=reason, hook=hook):
            bucket.append(item.id)
            self.metrics.outbox_done.labels(item.purpose, state).inc()
            log.log(
                30 if state == OutboxState.DEAD else 20,
                f"outbox_{state}",
                outbox_id=item.id,
                key=item.key,
                reason=reason,
            )

    def _release(
        self,
        claim: Claim,
        state: str,
        reason: str,
        bucket: list[int],
        *,
        lookup: bool = False,
        retry_after: float | None = None,
        uncount: bool = False,
    ) -> None:
        item = claim.item
        now = self.clock()
        cap = MAX_LOOKUP_RETRY if lookup else MAX_RETRY
        delay = min(FIRST_RETRY * (2 ** max(item.attempts - 1, 0)), cap)
        if retry_after is not None:
            delay = max(timedelta(seconds=retry_after), timedelta(seconds=1))
        if self.store.release(
            claim, state=state, retry_at=now + delay, now=now, error=reason, uncount=uncount
        ):
            bucket.append(item.id)
            if state == OutboxState.UNKNOWN:
                log.warning(
                    "outbox_outcome_unknown",
                    outbox_id=item.id,
                    key=item.key,
                    reason=reason,
                    lookup_in_seconds=int(delay.total_seconds()),
                )
