"""The scheduler factory registers the two SLA jobs with fixed ids and safe settings; the job bodies
are plain functions that the tests call with an injected time."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from bot.config import config_from_dict
from integrations.emulators.seed import DEMO_CONFIG
from jobs.scheduler import (
    DELIVER_JOB_ID,
    HISTORY_JOB_ID,
    HOME_JOB_ID,
    RETENTION_JOB_ID,
    SWEEP_JOB_ID,
    SYNC_JOB_ID,
    _run_deliver,
    _run_sweep,
    _run_sync,
    build_scheduler,
)


def test_jobs_are_registered_with_configured_intervals_and_safe_settings(make_deps):
    data = {k: v for k, v in DEMO_CONFIG.items() if k != "schedule"}
    deps = make_deps(config_from_dict(data, source="tests"))

    scheduler = build_scheduler(deps, scheduler=BackgroundScheduler(timezone="UTC"))

    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        SYNC_JOB_ID,
        SWEEP_JOB_ID,
        DELIVER_JOB_ID,
        RETENTION_JOB_ID,
        HISTORY_JOB_ID,
        HOME_JOB_ID,
    }
    assert jobs[SYNC_JOB_ID].trigger.interval.total_seconds() == 60
    assert jobs[SWEEP_JOB_ID].trigger.interval.total_seconds() == 10
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time >= 5


def test_building_twice_replaces_rather_than_duplicates(make_deps, demo_config):
    deps = make_deps(demo_config)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)  # pending jobs are only de-duplicated by a running scheduler
    try:
        build_scheduler(deps, scheduler=scheduler)
        build_scheduler(deps, scheduler=scheduler)

        assert sorted(job.id for job in scheduler.get_jobs()) == sorted(
            [SYNC_JOB_ID, SWEEP_JOB_ID, DELIVER_JOB_ID, RETENTION_JOB_ID, HISTORY_JOB_ID, HOME_JOB_ID]
        )
    finally:
        scheduler.shutdown(wait=False)


def test_scheduled_bodies_use_the_injected_clock(seeded, slack_emu, make_deps, demo_config, clock):
    deps = make_deps(demo_config)

    _run_sync(deps)
    _run_sweep(deps)
    assert slack_emu.messages() == []  # deciding never waits for Slack: delivery is its own job
    _run_deliver(deps)

    assert len(slack_emu.messages()) == 7
    assert all(a.decided_at == clock() for a in deps.store.all_alerts())


def test_escalation_timers_run_from_the_scheduler_when_escalations_are_configured(
    esc_desk, slack_emu, make_deps, clock
):
    from bot.blocks.escalation import Urgency
    from bot.blocks.escalation_modal import EscalationRequest
    from bot.domain.model import TicketRef
    from jobs.scheduler import ESCALATION_JOB_ID, _run_escalation_timers
    from tests.scenarios.escalation_fixtures import escalation_config

    deps = make_deps(escalation_config())
    jobs = {
        job.id: job for job in build_scheduler(deps, scheduler=BackgroundScheduler(timezone="UTC")).get_jobs()
    }
    assert ESCALATION_JOB_ID in jobs and jobs[ESCALATION_JOB_ID].trigger.interval.total_seconds() == 10
    ref = TicketRef.parse("zd:101")
    request = EscalationRequest(ref, 1, "bug", "needs", "tried", Urgency.NORMAL)
    esc = deps.escalations.open(
        request, chain=None, by="U0MANAGER", ticket=deps.tickets.summary(ref, now=clock())
    )
    clock.advance(minutes=15, seconds=1)

    _run_escalation_timers(deps)  # the scheduled body reads the injected clock

    assert deps.escalations.get(esc.escalation.id).state.pings == 1
    assert any("re-pinged" in m["text"] for m in slack_emu.messages("C0T2") if m.get("thread_ts"))
