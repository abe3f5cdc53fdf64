"""When digests go out: on time at the team's local time, once per date, a missed run late and once,
holidays skipped, cron triggers in the team's timezone across DST; and what the channel receives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import config_from_dict
from bot.demo_digest import DEMO_DIGESTS
from bot.domain.model import Source
from integrations.emulators.seed import DEMO_CONFIG
from jobs.digests import digest_job
from jobs.scheduler import build_scheduler, digest_trigger
from tests.bot.services.test_digest_figures import billing_week
from tests.helpers.history_feed import ListFeed

DIGESTS = [
    DEMO_DIGESTS[0],  # the block: billing at 09:15 Mon-Fri, previous business day
    {"team": "payments", "at": "09:15", "covers": "previous_week"},
    {"team": "compliance", "at": "09:00", "covers": "last_24h"},
]


def digest_config():
    return config_from_dict({**DEMO_CONFIG, "digests": DIGESTS}, source="tests")


@pytest.fixture
def deps(make_deps, clock):
    deps = make_deps(digest_config())
    deps.history.feeds = {Source.ZENDESK: ListFeed(Source.ZENDESK, billing_week())}
    return deps


def _posts(slack_emu, channel):
    return [
        m
        for m in slack_emu.messages(channel)
        if m.get("metadata", {}).get("event_type") == "deskwatch_digest"
    ]


def test_the_digest_goes_out_at_the_local_send_time_once(deps, clock, slack_emu):
    clock.now = datetime(2026, 11, 24, 9, 14, tzinfo=UTC)  # Tuesday, a minute early (billing is UTC)
    assert digest_job(deps, clock()) == []
    clock.now = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
    queued = digest_job(deps, clock())
    assert [(q.key, q.late) for q in queued] == [("digest:billing:daily:2026-11-24", False)]
    assert digest_job(deps, clock() + timedelta(minutes=1)) == []  # the second firing finds it queued
    deps.outbox.drain(now=clock())
    [post] = _posts(slack_emu, "C0BILLING")
    assert "Billing · Daily standup · Tue 24 Nov" in post["blocks"][0]["text"]["text"]
    text = post["text"]
    assert "New: 3 ↑ 2 (+200 %)" in text, text  # Monday 09:15 .. Tuesday 09:15 against a week earlier
    assert "refund_request" in text


def test_a_run_missed_while_down_is_sent_late_once_and_only_the_latest(deps, clock, slack_emu):
    clock.now = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
    digest_job(deps, clock())
    clock.now = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # down through Wednesday's and Thursday's runs
    queued = digest_job(deps, clock())
    billing = [q for q in queued if q.team == "billing"]
    assert [(q.key, q.late) for q in billing] == [("digest:billing:daily:2026-11-26", True)]
    assert [q.team for q in digest_job(deps, clock() + timedelta(minutes=15))] == []  # never twice
    deps.outbox.drain(now=clock())
    assert len(_posts(slack_emu, "C0BILLING")) == 2


def test_a_fresh_install_does_not_send_yesterdays_digest(deps, clock):
    clock.now = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert [q for q in digest_job(deps, clock()) if q.team == "billing"] == []


def test_holidays_on_the_teams_calendar_get_no_digest(deps, clock):
    # compliance: New York, US holidays; Thanksgiving is Thursday 26 November 2026
    clock.now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 09:00 New York
    assert [q.key for q in digest_job(deps, clock()) if q.team == "compliance"] == [
        "digest:compliance:daily:2026-11-25"
    ]
    clock.now = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Thanksgiving 09:00 New York
    assert [q for q in digest_job(deps, clock()) if q.team == "compliance"] == []
    clock.now = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # Friday: covers the 24 h before it
    [friday] = [q for q in digest_job(deps, clock()) if q.team == "compliance"]
    assert friday.key == "digest:compliance:daily:2026-11-27" and not friday.late


def test_the_weekly_report_covers_monday_to_monday_in_the_teams_timezone(deps, clock):
    london = ZoneInfo("Europe/London")
    clock.now = datetime(2026, 11, 30, 9, 15, tzinfo=london).astimezone(UTC)
    [weekly] = [q for q in digest_job(deps, clock()) if q.team == "payments"]
    assert weekly.key == "digest:payments:weekly:2026-11-30"
    view = deps.digests.view(deps.digests.schedule("payments", weekly=True), weekly.send_at, now=clock())
    assert (view.start, view.end) == (
        datetime(2026, 11, 23, tzinfo=london).astimezone(UTC),
        datetime(2026, 11, 30, tzinfo=london).astimezone(UTC),
    )


def test_cron_triggers_fire_at_the_local_time_across_a_dst_change(deps):
    london = ZoneInfo("Europe/London")
    billing = deps.config.digests[0]
    trigger = digest_trigger(billing, london)
    friday = trigger.get_next_fire_time(None, datetime(2026, 3, 27, 8, 0, tzinfo=UTC))
    monday = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 8, 0, tzinfo=UTC))
    assert friday.astimezone(UTC) == datetime(2026, 3, 27, 9, 15, tzinfo=UTC)  # GMT
    assert monday.astimezone(UTC) == datetime(2026, 3, 30, 8, 15, tzinfo=UTC)  # BST: still 09:15 local


def test_serve_schedules_one_cron_job_per_digest_in_the_teams_timezone(deps):
    scheduler = build_scheduler(deps)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"digest:billing:daily", "digest:payments:weekly", "digest:compliance:daily"} <= set(jobs)
    assert str(jobs["digest:payments:weekly"].trigger.timezone) == "Europe/London"
    assert "digest-catch-up" in jobs and "digest-history" in jobs
