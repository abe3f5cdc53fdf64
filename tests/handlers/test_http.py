"""The HTTP surface on the production server: request verification, health, metrics, concurrency,
the body size limit and a graceful stop."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from bot.web import MAX_BODY_BYTES, make_http_server
from jobs.sla import scan
from tests.helpers.slack_requests import signed_post, slash_command
from tests.helpers.waiting import wait_for


def test_bad_signature_is_rejected_with_401(running_bot):
    resp = signed_post(
        running_bot.events_url,
        "command=%2Fsla&text=all",
        secret="wrong-secret",
        content_type="application/x-www-form-urlencoded",
    )

    assert resp.status_code == 401


def test_stale_timestamp_is_rejected_with_401(running_bot):
    resp = signed_post(
        running_bot.events_url,
        "command=%2Fsla&text=all",
        secret=running_bot.secret,
        content_type="application/x-www-form-urlencoded",
        timestamp=int(time.time()) - 3600,
    )

    assert resp.status_code == 401


def test_url_verification_challenge_is_answered(running_bot):
    resp = signed_post(
        running_bot.events_url,
        '{"type": "url_verification", "challenge": "abc123"}',
        secret=running_bot.secret,
        content_type="application/json",
    )

    assert resp.status_code == 200 and resp.json()["challenge"] == "abc123"


def test_healthz_reports_helpdesk_sync_state(running_bot):
    resp = requests.get(f"{running_bot.url}/healthz", timeout=5)

    assert resp.status_code == 200
    assert set(resp.json()["helpdesks"]) == {"zendesk", "intercom"}


def test_metrics_are_exposed_in_prometheus_format(running_bot):
    resp = requests.get(f"{running_bot.url}/metrics", timeout=5)

    assert resp.status_code == 200
    assert "deskwatch_alerts_posted_total" in resp.text


def test_unknown_path_is_404(running_bot):
    assert requests.get(f"{running_bot.url}/nope", timeout=5).status_code == 404


def test_fifty_concurrent_signed_commands_are_all_answered(seeded, running_bot, slack_emu, clock):
    scan(running_bot.deps, clock())

    def sla(i: int) -> int:
        return slash_command(
            running_bot.events_url,
            secret=running_bot.secret,
            command="/sla",
            text="all",
            user_id="U0MANAGER",
            channel_id="C0RANDOM",
            response_url=slack_emu.response_url(f"burst-{i}"),
        ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(sla, range(50)))

    assert statuses == [200] * 50
    wait_for(
        lambda: {r["_name"] for r in slack_emu.responses()} >= {f"burst-{i}" for i in range(50)},
        timeout=30,
        what="every lazy /sla reply",
    )


def test_body_over_the_limit_is_refused_with_413(running_bot):
    # Announced, not sent: the server decides on Content-Length before reading a byte of the body.
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(running_bot.url).port, timeout=5)
    try:
        conn.putrequest("POST", "/slack/events")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        conn.endheaders()
        status = conn.getresponse().status
    finally:
        conn.close()

    assert status == 413


DRAIN = 30.0


@pytest.fixture
def gated_server():
    """The real server around an app that holds each request until the test opens the gate."""
    entered, gate = threading.Event(), threading.Event()

    def app(environ, start_response):
        entered.set()
        gate.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"done"]

    server = make_http_server(app, "127.0.0.1", 0, threads=2, drain_seconds=DRAIN)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    yield server, entered, gate
    gate.set()
    server.shutdown()
    server.server_close()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except (ConnectionRefusedError, ConnectionResetError):
        # Refused once the listener is gone; reset when it closes while this probe waits in its backlog.
        return True
    return False


def test_shutdown_refuses_new_connections_and_finishes_the_request_in_flight(gated_server):
    server, entered, gate = gated_server
    url = f"http://127.0.0.1:{server.server_port}/"
    with ThreadPoolExecutor(max_workers=2) as pool:
        in_flight = pool.submit(requests.get, url, timeout=10)
        assert entered.wait(5)
        stopping = pool.submit(server.shutdown)

        wait_for(lambda: _refused(server.server_port), what="listening socket closed")
        assert not stopping.done()
        gate.set()

        assert in_flight.result().text == "done"
        stopping.result(timeout=DRAIN / 3)


def test_shutdown_does_not_wait_for_idle_keep_alive_connections(gated_server):
    server, _, gate = gated_server
    gate.set()
    with requests.Session() as session:
        assert session.get(f"http://127.0.0.1:{server.server_port}/", timeout=5).text == "done"
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(server.shutdown).result(timeout=DRAIN / 3)  # long before the drain deadline
