"""`deskwatch serve` as a real process on waitress: HTTP surface up, scheduler syncing and sweeping at
start, alerts posted without anyone running `sla scan`, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import requests

from integrations.emulators.seed import DEMO_CONFIG
from tests.helpers.live import live_stack
from tests.helpers.waiting import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_posts_alerts_from_its_scheduler_and_stops_cleanly(tmp_path, database_url):
    schedule = {"sync_interval": "30s", "sweep_interval": "1s"}
    with live_stack(tmp_path, database_url, config={**DEMO_CONFIG, "schedule": schedule}) as stack:
        _serve_until_alerts(stack)


def _serve_until_alerts(stack) -> None:
    slack, zendesk, intercom = stack.slack, stack.zendesk, stack.intercom
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
        **stack.env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz"), timeout=30, what="healthz")
        assert health.json()["status"] == "ok"
        wait_for(lambda: len(slack.messages()) >= 7, timeout=30, what="alerts posted by the scheduler")
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'deskwatch_alerts_posted_total{kind="breach"}' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)  # drain is 5 s; a hang fails here, not in CI's timeout
    assert proc.returncode == 0, output
    assert '"threads": 4' in output
    assert len(slack.messages()) == 7
    assert (
        stack.env["SLACK_BOT_TOKEN"] not in output
        and zendesk.token not in output
        and intercom.token not in output
    )
    assert '"event": "stopped"' in output


def _get(url: str):
    try:
        response = requests.get(url, timeout=2)
    except requests.ConnectionError:
        return None
    return response if response.status_code == 200 else None
