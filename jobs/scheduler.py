"""APScheduler factory: fixed job ids, coalescing, one instance at a time, bounded misfire grace.

Exactly-once does not come from here (see bot.store.repository); the scheduler only sets the pace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs.digests import digest_job, history_job
from jobs.escalations import escalation_timer_job
from jobs.home import home_job
from jobs.qa import qa_job
from jobs.sla import decide_job, deliver_job, retention_job, sync_job

if TYPE_CHECKING:
    from bot.app import Deps
    from bot.services.leadership import Leadership

log = structlog.get_logger(__name__)

SYNC_JOB_ID = "helpdesk-sync"
SWEEP_JOB_ID = "sla-sweep"
DELIVER_JOB_ID = "outbox-deliver"
RETENTION_JOB_ID = "retention"
ESCALATION_JOB_ID = "escalation-timers"
ESCALATION_INTERVAL_SECONDS = 10.0
QA_JOB_ID = "qa-calibration-and-samples"
QA_INTERVAL_SECONDS = 60.0
RETENTION_INTERVAL_SECONDS = 3600.0
HISTORY_JOB_ID = "digest-history"
DIGEST_CATCHUP_JOB_ID = "digest-catch-up"
DIGEST_CATCHUP_INTERVAL_SECONDS = 900.0
DIGEST_JOB_PREFIX = "digest:"
_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DELIVER_INTERVAL_SECONDS = 1.0
HOME_JOB_ID = "home-refresh"
HOME_INTERVAL_SECONDS = 30.0


def _run_sync(deps: Deps) -> None:
    sync_job(deps, deps.clock())


SWEEP_BUDGET_SECONDS = 5.0  # a sweep is bounded in time, not rows; what is left waits for the next one


def _run_sweep(deps: Deps) -> None:
    decided = decide_job(deps, deps.clock(), budget_seconds=SWEEP_BUDGET_SECONDS)
    if decided:
        log.info("sla_sweep", decided=len(decided))


def _run_deliver(deps: Deps) -> None:
    report = deliver_job(deps, deps.clock())
    if report.worked:
        log.info(
            "outbox_pass",
            posted=len(report.posted),
            recovered=len(report.recovered),
            failed=len(report.failed),
            unknown=len(report.unknown),
            dead=len(report.dead),
            cancelled=len(report.cancelled),
        )


def _run_escalation_timers(deps: Deps) -> None:
    acted = escalation_timer_job(deps, deps.clock())
    if acted:
        log.info("escalation_timers", acted=acted)


def _run_qa(deps: Deps) -> None:
    closed, sampled = qa_job(deps, deps.clock())
    if closed or sampled:
        log.info("qa_job", calibrations_closed=closed, samples_assigned=sampled)


def _run_home(deps: Deps) -> None:
    published = home_job(deps, deps.clock())
    if published:
        log.info("home_refreshed", published=published)


def _run_history(deps: Deps) -> None:
    for result in history_job(deps, deps.clock()):
        if result.error:
            log.warning("digest_history_failed", source=result.source.value, error=result.error)


def _run_digests(deps: Deps) -> None:
    for queued in digest_job(deps, deps.clock()):
        log.info("digest_queued", team=queued.team, schedule=queued.schedule, late=queued.late)


def digest_trigger(digest, tz) -> CronTrigger:
    """Fires at the schedule's local `at` on its weekdays, in the team's timezone (DST-correct: the
    trigger computes each date's UTC instant). Holidays are skipped by the job, not the trigger."""
    days = ",".join(_CRON_DAYS[day] for day in sorted(digest.days))
    return CronTrigger(day_of_week=days, hour=digest.at.hour, minute=digest.at.minute, timezone=tz)


def _add_digest_jobs(scheduler: BackgroundScheduler, deps: Deps, common: dict) -> None:
    """One cron job per configured digest, plus a catch-up pass (at start, then every 15 minutes) that
    sends a digest missed while Deskwatch was down, late and once."""
    for digest in deps.config.digests:
        scheduler.add_job(
            _run_digests,
            digest_trigger(digest, deps.config.team_tz(digest.team)),
            args=[deps],
            id=f"{DIGEST_JOB_PREFIX}{digest.team}:{digest.schedule_name}",
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            misfire_grace_time=1800,
        )
    if deps.config.digests:
        scheduler.add_job(
            _run_digests,
            "interval",
            args=[deps],
            id=DIGEST_CATCHUP_JOB_ID,
            seconds=DIGEST_CATCHUP_INTERVAL_SECONDS,
            misfire_grace_time=900,
            **common,
        )


def _run_retention(deps: Deps) -> None:
    outbox_rows, alerts = retention_job(deps, deps.clock())
    if outbox_rows or alerts:
        log.info("retention_pruned", outbox_rows=outbox_rows, alerts=alerts)


def build_scheduler(
    deps: Deps, *, scheduler: BackgroundScheduler | None = None, leadership: Leadership | None = None
) -> BackgroundScheduler:
    """Every job, with fixed ids. With `leadership` (`deskwatch serve`), every job runs only in the
    replica that leads it (bot.services.leadership): every replica ticks, one at a time works."""
    scheduler = scheduler or BackgroundScheduler(timezone="UTC")
    schedule = deps.config.schedule
    # First runs happen at start, not one interval later: a restart must not delay alerts by a minute.
    common = {"coalesce": True, "max_instances": 1, "replace_existing": True, "next_run_time": deps.clock()}
    scheduler.add_job(
        _run_sync,
        "interval",
        args=[deps],
        id=SYNC_JOB_ID,
        seconds=schedule.sync_interval.total_seconds(),
        misfire_grace_time=int(schedule.sync_interval.total_seconds()),
        **common,
    )
    scheduler.add_job(
        _run_sweep,
        "interval",
        args=[deps],
        id=SWEEP_JOB_ID,
        seconds=schedule.sweep_interval.total_seconds(),
        misfire_grace_time=int(max(schedule.sweep_interval.total_seconds(), 5)),
        **common,
    )
    # Delivery is its own job: deciding never waits for Slack, and each pass serves every channel for
    # a bounded time, so one channel's queue neither delays decisions nor starves other channels.
    scheduler.add_job(
        _run_deliver,
        "interval",
        args=[deps],
        id=DELIVER_JOB_ID,
        seconds=DELIVER_INTERVAL_SECONDS,
        misfire_grace_time=5,
        **common,
    )
    if deps.escalations.enabled:
        scheduler.add_job(
            _run_escalation_timers,
            "interval",
            args=[deps],
            id=ESCALATION_JOB_ID,
            seconds=ESCALATION_INTERVAL_SECONDS,
            misfire_grace_time=60,
            **common,
        )
    if deps.qa.enabled:
        scheduler.add_job(
            _run_qa,
            "interval",
            args=[deps],
            id=QA_JOB_ID,
            seconds=QA_INTERVAL_SECONDS,
            misfire_grace_time=300,
            **common,
        )
    scheduler.add_job(
        _run_history,
        "interval",
        args=[deps],
        id=HISTORY_JOB_ID,
        seconds=schedule.history_interval.total_seconds(),
        misfire_grace_time=int(schedule.history_interval.total_seconds()),
        **common,
    )
    scheduler.add_job(
        _run_home,
        "interval",
        args=[deps],
        id=HOME_JOB_ID,
        seconds=HOME_INTERVAL_SECONDS,
        misfire_grace_time=60,
        **common,
    )
    _add_digest_jobs(scheduler, deps, common)
    scheduler.add_job(
        _run_retention,
        "interval",
        args=[deps],
        id=RETENTION_JOB_ID,
        seconds=RETENTION_INTERVAL_SECONDS,
        misfire_grace_time=600,
        **common,
    )
    if leadership is not None:
        leadership.wrap_scheduler(scheduler)
    return scheduler
