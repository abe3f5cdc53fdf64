"""The HTTP surface: request verification, health and metrics."""

from __future__ import annotations

import time

import requests

from tests.helpers.slack_requests import signed_post


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
