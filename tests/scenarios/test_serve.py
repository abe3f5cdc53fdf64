"""`deskwatch serve` as a real process: HTTP surface up, scheduler syncing and sweeping at start,
alerts posted without anyone running `sla scan`, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime

import requests
import yaml

from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.seed import DEMO_CONFIG, make_slack, seed_intercom, seed_zendesk
from integrations.emulators.zendesk import ZendeskEmulator
from tests.helpers.waiting import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_posts_alerts_from_its_scheduler_and_stops_cleanly(tmp_path, database_url):
    now = datetime.now(UTC)
    slack, zendesk, intercom = make_slack("xoxb-serve-test"), ZendeskEmulator(), IntercomEmulator()
    for emu in (slack, zendesk, intercom):
        emu.start()
    seed_zendesk(zendesk, now)
    seed_intercom(intercom, now)
    config = tmp_path / "deskwatch.yaml"
    config.write_text(
        yaml.safe_dump({**DEMO_CONFIG, "schedule": {"sync_interval": "30s", "sweep_interval": "1s"}})
    )
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
        "DESKWATCH_CONFIG": str(config),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_SIGNING_SECRET": "serve-signing-secret",
        "SLACK_API_URL": slack.api_url,
        "ZENDESK_SUBDOMAIN": "deskwatch-demo",
        "ZENDESK_EMAIL": zendesk.email,
        "ZENDESK_API_TOKEN": zendesk.token,
        "ZENDESK_URL": zendesk.url,
        "INTERCOM_ACCESS_TOKEN": intercom.token,
        "INTERCOM_URL": intercom.url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
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
        output, _ = proc.communicate(timeout=30)
        for emu in (slack, zendesk, intercom):
            emu.stop()
    assert proc.returncode == 0, output
    assert len(slack.messages()) == 7
    assert "xoxb-serve-test" not in output and zendesk.token not in output and intercom.token not in output
    assert '"event": "stopped"' in output


def _get(url: str):
    try:
        response = requests.get(url, timeout=2)
    except requests.ConnectionError:
        return None
    return response if response.status_code == 200 else None
