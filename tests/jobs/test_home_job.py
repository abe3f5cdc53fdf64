"""The Home refresh job republishes a board only when it changed, at most once per debounce per user."""

from __future__ import annotations

import pytest

from jobs.home import home_job
from jobs.scheduler import HOME_INTERVAL_SECONDS, HOME_JOB_ID, build_scheduler
from jobs.sla import scan


@pytest.fixture
def deps(seeded, make_deps, demo_config, slack_emu, clock):
    slack_emu.add_user("U0ANA", "ana", email="user501@example.com")
    built = make_deps(demo_config)
    scan(built, clock())
    return built


def test_the_job_republishes_only_on_change_and_debounced(deps, clock):
    assert deps.home.opened("U0ANA").published
    first = deps.home.store.get("U0ANA")

    assert home_job(deps, clock()) == 0  # within the debounce: not even rendered
    clock.advance(seconds=61)
    assert home_job(deps, clock()) == 0  # rendered, unchanged ("Updated hh:mm" does not count)
    assert deps.home.store.get("U0ANA").hash == first.hash

    clock.advance(hours=5, minutes=40)  # zd:104 (due in 6h) is now within the 30-minute warning
    assert home_job(deps, clock()) == 1
    assert deps.home.store.get("U0ANA").hash != first.hash

    clock.advance(minutes=25)  # zd:104 breaches: a change, well past the debounce
    assert home_job(deps, clock()) == 1
    clock.advance(seconds=10)  # nothing changed since, and debounced anyway
    assert home_job(deps, clock()) == 0


def test_a_change_inside_the_debounce_waits_for_it(deps, clock):
    deps.home.opened("U0ANA")
    clock.advance(hours=5, minutes=40)
    deps.home.store.mark_published("U0ANA", view_hash="stale", now=clock())  # published just now

    assert home_job(deps, clock()) == 0
    clock.advance(seconds=61)
    assert home_job(deps, clock()) == 1


def test_only_people_who_opened_home_lately_are_refreshed(deps, clock):
    deps.home.opened("U0ANA")
    clock.advance(hours=25)

    assert home_job(deps, clock()) == 0


def test_the_scheduler_runs_the_home_job(deps):
    from apscheduler.schedulers.background import BackgroundScheduler

    jobs = {
        job.id: job for job in build_scheduler(deps, scheduler=BackgroundScheduler(timezone="UTC")).get_jobs()
    }
    assert jobs[HOME_JOB_ID].trigger.interval.total_seconds() == HOME_INTERVAL_SECONDS
