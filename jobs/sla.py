"""SLA jobs as plain functions `(deps, now)`: idempotent, time injected, safe to run twice."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.services.outbox import DeliveryReport
from bot.services.sync import SyncProgress, SyncResult
from bot.store.outbox import prune_finished
from bot.store.repository import RoutedDecision

if TYPE_CHECKING:
    from bot.app import Deps


@dataclass
class SweepReport:
    decided: list[int] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


@dataclass
class ScanReport:
    syncs: list[SyncResult]
    sweep: SweepReport | None = None
    would_post: list[RoutedDecision] = field(default_factory=list)

    @property
    def sync_failed(self) -> bool:
        return any(s.error for s in self.syncs)


def sync_job(deps: Deps, now: datetime, progress: SyncProgress | None = None) -> list[SyncResult]:
    """Pull what changed upstream into the store and the deadlines table (the only job that calls the
    helpdesks, apart from the re-read right before a breach)."""
    deps.keeper.ensure_current(now=now)
    base = deps.config.schedule.sync_interval
    results = []
    for source in deps.helpdesks:
        # While verified webhooks of a helpdesk keep arriving, its poll is only the safety net and runs
        # less often (bot.services.realtime: up to 5 x the interval, at most 5 min); back to base at once
        # when they stop or a webhook re-read fails.
        interval = deps.realtime.poll_interval(source, base, now=now)
        if interval > base:
            last = deps.store.sync_state(source).last_success_at
            if last is not None and now - last < interval - base / 2:
                continue
        results.append(deps.sync.sync_source(source, now=now, progress=progress))
    return results


def decide_job(deps: Deps, now: datetime, *, budget_seconds: float | None = None) -> list[int]:
    """Decide the alerts whose moment has come, from the due deadlines only, and record them with their
    outbox rows. Costs no helpdesk call and never waits for Slack, so a channel draining a queue cannot
    delay a decision. `budget_seconds` bounds it in time (the rest waits for the next sweep)."""
    started = time.perf_counter()
    result = deps.sweep.run(now=now, budget_seconds=budget_seconds)
    deps.metrics.sweep_seconds.observe(time.perf_counter() - started)
    return result.decided


def deliver_job(deps: Deps, now: datetime) -> DeliveryReport:
    """One outbox pass: every channel served in parallel for a bounded time."""
    return deps.outbox.deliver_due(now=now)


def retention_job(deps: Deps, now: datetime) -> tuple[int, int]:
    """Prune finished outbox rows and finished alerts older than `retention.alerts` (default 30 days);
    returns (outbox rows, alerts) deleted. Alerts of deadlines still open are never pruned."""
    cutoff = now - deps.config.retention.alerts
    outbox_rows = prune_finished(deps.store.engine, before=cutoff)
    alerts = deps.store.prune_alerts(before=cutoff)
    deps.history.prune(now=now)  # digest history past `retention.history` (default 56 days)
    return outbox_rows, alerts


def sweep_job(deps: Deps, now: datetime) -> SweepReport:
    """Decide, then deliver everything that is due now (one-shot runs: `sla scan`, tests)."""
    decided = decide_job(deps, now)
    return SweepReport(decided, deps.outbox.drain(now=now))


def scan(
    deps: Deps, now: datetime, *, dry_run: bool = False, progress: SyncProgress | None = None
) -> ScanReport:
    """`deskwatch sla scan`: one sync + one sweep. Dry run syncs state but records and posts nothing."""
    syncs = sync_job(deps, now, progress)
    if dry_run:
        return ScanReport(syncs, would_post=deps.sweep.pending(now=now))
    return ScanReport(syncs, sweep=sweep_job(deps, now))
