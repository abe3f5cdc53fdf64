"""Exactly once across processes: two replicas on one database with real pacing, and `sla scan`
killed with SIGKILL right after Slack received a post. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_deps, build_outbox_slack_client, build_slack_client
from bot.config import config_from_dict, load_settings
from integrations.emulators.seed import DEMO_CHANNELS, DEMO_CONFIG, open_ticket
from integrations.emulators.slack import SlackEmulator
from jobs.sla import scan, sweep_job
from tests.conftest import SLACK_TOKEN
from tests.helpers.live import live_stack
from tests.helpers.waiting import wait_for


def test_two_replicas_with_real_pacing_post_each_alert_once_at_slacks_pace(seeded, settings, clock):
    """Slack answers 429 to a second post in a channel within a second; the replicas never meet it."""
    zendesk_emu, _ = seeded
    for n in range(8):  # a burst of breaches in billing's channel
        open_ticket(
            zendesk_emu,
            500 + n,
            created=clock() - timedelta(hours=2),
            breach_at=clock() - timedelta(minutes=n + 1),
        )
    slack = SlackEmulator(token=SLACK_TOKEN, channels=DEMO_CHANNELS, enforce_channel_rate=True).start()
    try:
        paced = settings.model_copy(update={"slack_api_url": slack.api_url})
        one_by_one = config_from_dict(
            {**DEMO_CONFIG, "alerts": {**DEMO_CONFIG["alerts"], "group_above": 50}}, source="t"
        )
        replicas = [
            build_deps(
                paced,
                one_by_one,
                clock=clock,
                slack=build_slack_client(paced),
                outbox_slack=build_outbox_slack_client(paced),
                post_interval=1.0,
            )
            for _ in range(2)
        ]
        replicas[0].sync.sync_all(now=clock())
        barrier = threading.Barrier(2)

        def run(deps):
            barrier.wait()
            return sweep_job(deps, clock())

        threads = [threading.Thread(target=run, args=(d,)) for d in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages()]
        errors = [i.last_error for i in replicas[0].outbox.store.list() if i.state != "posted"]
        assert errors == []  # e.g. a 429 would show here: the pacing guard was too small for the jitter
        assert len(ids) == len(set(ids)) == len(replicas[0].store.all_alerts())
        billing = slack.messages("C0BILLING")
        assert len(billing) >= 9
        # Every post was accepted first time: no 429 met (the SDK would have retried it).
        assert len(slack.calls("/api/chat.postMessage")) == len(ids)
        assert replicas[1].outbox.store.counts_by_state()["posted"] == len(ids)
    finally:
        slack.stop()
        for deps in replicas:
            deps.store.engine.dispose()


def test_scan_killed_right_after_slack_received_a_post_then_rescan_posts_each_alert_once(
    tmp_path, database_url
):
    with live_stack(tmp_path, database_url) as stack:
        hold = stack.slack.hold_responses("/api/chat.postMessage")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
            **stack.env,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "sla", "scan"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert hold.wait_arrived(timeout=60), (
                proc.stdout.read().decode() if proc.poll() is not None else ""
            )
            time.sleep(0.3)  # let every channel's first post arrive (channels post in parallel)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            hold.release()
        received = len(stack.slack.messages())
        assert received >= 1  # Slack has these posts; the killed process never saw the answers

        # The rescan, a few minutes later (after the dead process's claims expired).
        settings = load_settings(
            database_url=database_url,
            slack_bot_token=stack.env["SLACK_BOT_TOKEN"],
            slack_signing_secret="x" * 16,
            slack_api_url=stack.slack.api_url,
            zendesk_subdomain="deskwatch-demo",
            zendesk_email=stack.zendesk.email,
            zendesk_api_token=stack.zendesk.token,
            zendesk_url=stack.zendesk.url,
            intercom_access_token=stack.intercom.token,
            intercom_url=stack.intercom.url,
        )
        later = datetime.now(UTC) + timedelta(minutes=4)
        deps = build_deps(
            settings, config_from_dict(DEMO_CONFIG, source="tests"), clock=lambda: later, post_interval=0
        )
        try:
            report = scan(deps, later)
            assert len(report.sweep.delivery.recovered) == received
            ids = [m["metadata"]["event_payload"]["alert_id"] for m in stack.slack.messages()]
            assert len(ids) == len(set(ids)), "an alert was posted twice"
            assert sorted(ids) == sorted(a.id for a in deps.store.all_alerts() if a.status == "posted")
            assert len(ids) >= 7
        finally:
            deps.store.engine.dispose()


def test_two_serve_processes_on_one_postgresql_post_each_alert_once_at_slacks_pace(tmp_path, database_url):
    """Two real `deskwatch serve` replicas (scheduler and all) on one database, Slack strict about
    one post per second per channel: every alert once, no 429 met."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several `serve` replicas share a PostgreSQL database; SQLite is single-process")
    slack = SlackEmulator(token="xoxb-replicas", channels=DEMO_CHANNELS, enforce_channel_rate=True)
    schedule = {"sync_interval": "30s", "sweep_interval": "1s"}
    alerts = {**DEMO_CONFIG["alerts"], "group_above": 50}  # one post per alert: pacing is what is tested
    config = {**DEMO_CONFIG, "schedule": schedule, "alerts": alerts}
    with live_stack(tmp_path, database_url, config=config, slack=slack) as stack:
        now = datetime.now(UTC)
        for n in range(8):  # a burst in billing's channel
            open_ticket(
                stack.zendesk,
                600 + n,
                created=now - timedelta(hours=2),
                breach_at=now - timedelta(minutes=n + 1),
            )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
            **stack.env,
        }
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        try:
            wait_for(
                lambda: len(slack.messages()) >= 15, timeout=90, what="every alert posted by the replicas"
            )
            time.sleep(3)  # a duplicate would show up in the next passes
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=30)
        ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages()]
        assert len(ids) == len(set(ids)) == 15
        assert len(slack.calls("/api/chat.postMessage")) == 15  # no post met a 429


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
