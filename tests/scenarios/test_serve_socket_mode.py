"""`deskwatch serve --socket-mode` as a real process: no Slack request URL, commands over the emulator's
WebSocket, the HTTP port still answering /readyz, a clear exit for a missing or refused app token, and
SIGTERM closing the socket and exiting 0."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

from integrations.emulators.seed import DEMO_CHANNELS, DEMO_CONFIG
from integrations.emulators.slack import SlackEmulator
from tests.helpers.live import live_stack
from tests.helpers.socket_mode import APP_TOKEN, send_slash_command
from tests.helpers.waiting import wait_for
from tests.scenarios.test_serve_replicas import free_port


@pytest.fixture
def stack(tmp_path, database_url):
    slack = SlackEmulator(
        token="xoxb-socket", channels=DEMO_CHANNELS, users=("U0MANAGER",), app_token=APP_TOKEN
    )
    with live_stack(tmp_path, database_url, config=DEMO_CONFIG, slack=slack) as live:
        yield live


def _serve(env: dict[str, str], port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--socket-mode", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_serve_over_socket_mode_answers_slash_commands_without_a_request_url(stack, tmp_path):
    env = {**stack.env, "SLACK_APP_TOKEN": APP_TOKEN, "PATH": "/usr/bin:/bin"}
    env.pop("SLACK_SIGNING_SECRET")  # not needed: Slack authenticates the socket, not each request
    port = free_port()
    with open(tmp_path / "serve.log", "w") as log:
        proc = _serve(env, port, log)
        try:
            stack.slack.socket.wait_connections(1, open_=1, timeout=30)

            def synced():  # the first sync has stored the demo desk (the scheduler's own pass)
                try:
                    body = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
                except (requests.ConnectionError, ValueError):
                    return None
                return (body.get("helpdesks", {}).get("zendesk") or {}).get("last_success_at")

            wait_for(synced, timeout=30, what="first sync")
            envelope = send_slash_command(
                stack.slack,
                command="/sla",
                text="",
                user_id="U0MANAGER",
                channel_id="C0BILLING",
                response_url=stack.slack.response_url("socket-sla"),
            )
            assert stack.slack.socket.wait_ack(envelope, timeout=10) is not None
            reply = wait_for(
                lambda: [r for r in stack.slack.responses() if r["_name"] == "socket-sla"], what="/sla reply"
            )[0]
            assert reply["response_type"] == "ephemeral" and "zd:101" in repr(reply)
            ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert ready.status_code == 200 and ready.json()["ready"] is True
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=15)
    assert code == 0, (tmp_path / "serve.log").read_text()[-2000:]
    assert stack.slack.socket.open_connections == 0


def test_serve_socket_mode_without_or_with_a_refused_app_token_exits_2(stack, tmp_path):
    env = {**stack.env, "PATH": "/usr/bin:/bin"}
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--socket-mode", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "SLACK_APP_TOKEN" in missing.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--socket-mode", "--port", "0"],
        env={**env, "SLACK_APP_TOKEN": "xapp-1-wrong"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "Slack refused it" in refused.stderr, refused.stderr[-1500:]
