"""Helpdesk webhooks over the real HTTP server: signatures (Zendesk, Intercom), stale timestamps, and a
webhook as the only trigger that cancels a pending warning, routes nothing when forged, and gets a new
urgent ticket its warning without waiting for the poll."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.domain.model import Source, TicketRef
from bot.store.repository import AlertStatus
from integrations.emulators.seed import _metric
from jobs.sla import decide_job, scan, sync_job
from tests.conftest import SLACK_TOKEN
from tests.helpers.webhooks import (
    INTERCOM_SECRET,
    ZENDESK_SECRET,
    encode,
    intercom_headers,
    intercom_notification,
    post,
    zendesk_event,
    zendesk_headers,
)

LATENCY_BUDGET = 5.0


@pytest.fixture
def settings(database_url, slack_emu, zendesk_emu, intercom_emu):
    """The suite's settings plus both webhook secrets."""
    from bot.config import load_settings

    return load_settings(
        database_url=database_url,
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret="test-signing-secret-0123456789abcdef",
        slack_api_url=slack_emu.api_url,
        zendesk_subdomain="deskwatch-demo",
        zendesk_email=zendesk_emu.email,
        zendesk_api_token=zendesk_emu.token,
        zendesk_url=zendesk_emu.url,
        zendesk_webhook_secret=ZENDESK_SECRET,
        intercom_access_token=intercom_emu.token,
        intercom_url=intercom_emu.url,
        intercom_client_secret=INTERCOM_SECRET,
    )


@pytest.fixture
def bot(seeded, make_deps, demo_config):
    """`serve`'s HTTP surface and the webhook worker (no scheduler: nothing polls unless a test does)."""
    from tests.helpers.bolt_server import start_bot

    deps = make_deps(demo_config)
    deps.realtime.start()
    server, stop = start_bot(deps)
    yield deps, f"http://127.0.0.1:{server.server_port}"
    stop()
    deps.realtime.stop()


def _alert(deps, ref: str, key: str):
    return next(a for a in deps.store.all_alerts() if str(a.ref) == ref and a.key == key)


def _wait(predicate, timeout: float = LATENCY_BUDGET) -> float | None:
    """Seconds until `predicate()` held, or None when it never did within `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.01)
    return None


def _counter(deps, source: str, outcome: str) -> float:
    value = deps.metrics.registry.get_sample_value(
        "deskwatch_webhooks_total", {"source": source, "outcome": outcome}
    )
    return value or 0.0


def _posted_refs(slack_emu) -> list[str]:
    return [m["text"] for m in slack_emu.messages()]


# -- signatures ----------------------------------------------------------------------------------
def test_signed_zendesk_webhooks_of_both_shapes_are_queued_and_answered_at_once(bot, clock):
    deps, url = bot
    deps.realtime.stop()  # keep what was queued in the queue, to look at it
    for body in (encode(zendesk_event(103, at=clock())), encode({"ticket_id": "103"})):
        started = time.monotonic()
        response = post(f"{url}/webhooks/zendesk", body, zendesk_headers(ZENDESK_SECRET, body, clock()))
        assert response.status_code == 200, response.text
        assert response.json() == {"ok": True, "queued": True}
        assert time.monotonic() - started < 1.0
    assert deps.realtime.queued == 1  # the same ticket twice: coalesced into one re-read
    assert _counter(deps, "zendesk", "accepted") == 2
    assert _counter(deps, "zendesk", "coalesced") == 1


@pytest.mark.parametrize(
    "headers",
    [
        lambda body, now: {},  # unsigned
        lambda body, now: zendesk_headers("not-the-secret", body, now),  # forged
        lambda body, now: {  # signature of another body
            **zendesk_headers(ZENDESK_SECRET, b"{}", now),
        },
        lambda body, now: zendesk_headers(ZENDESK_SECRET, body, now - timedelta(minutes=6)),  # stale
        lambda body, now: zendesk_headers(
            ZENDESK_SECRET, body, now + timedelta(minutes=6)
        ),  # from the future
    ],
    ids=["unsigned", "forged", "other-body", "stale", "future"],
)
def test_unsigned_forged_and_stale_zendesk_webhooks_get_401_and_change_nothing(
    bot, clock, zendesk_emu, headers
):
    deps, url = bot
    zendesk_emu.reset_log()
    body = encode(zendesk_event(103, at=clock()))
    response = post(f"{url}/webhooks/zendesk", body, headers(body, clock()))
    assert response.status_code == 401
    assert deps.realtime.queued == 0
    assert deps.realtime.wait_idle(1.0)
    assert zendesk_emu.calls("/api/v2") == []
    assert deps.store.get_item(TicketRef.parse("zd:103")) is None


def test_a_timestamp_four_minutes_old_is_still_accepted(bot, clock):
    deps, url = bot
    body = encode({"ticket_id": 103})
    response = post(
        f"{url}/webhooks/zendesk", body, zendesk_headers(ZENDESK_SECRET, body, clock() - timedelta(minutes=4))
    )
    assert response.status_code == 200


def test_signed_intercom_webhook_rereads_the_conversation_once(bot, intercom_emu):
    deps, url = bot
    intercom_emu.reset_log()
    body = encode(intercom_notification("9002"))
    response = post(f"{url}/webhooks/intercom", body, intercom_headers(INTERCOM_SECRET, body))
    assert response.status_code == 200 and response.json()["queued"] is True
    assert _wait(lambda: _counter(deps, "intercom", "processed") == 1) is not None
    reads = [c for c in intercom_emu.calls("/conversations") if c.method == "GET"]
    assert [c.path for c in reads] == ["/conversations/9002"]
    assert intercom_emu.calls("/conversations/search") == []


@pytest.mark.parametrize("forge", ["unsigned", "forged", "sha256"])
def test_unsigned_or_forged_intercom_webhooks_get_401(bot, intercom_emu, forge):
    import hashlib
    import hmac

    deps, url = bot
    intercom_emu.reset_log()
    body = encode(intercom_notification("9002"))
    headers = {
        "unsigned": {},
        "forged": intercom_headers("wrong-secret", body),
        "sha256": {
            "X-Hub-Signature": "sha256="
            + hmac.new(INTERCOM_SECRET.encode(), body, hashlib.sha256).hexdigest()
        },
    }[forge]
    response = post(f"{url}/webhooks/intercom", body, headers)
    assert response.status_code == 401
    assert deps.realtime.queued == 0
    assert intercom_emu.calls("/conversations") == []


def test_unknown_or_unconfigured_helpdesks_get_404(seeded, make_deps, demo_config, clock):
    from tests.helpers.bolt_server import start_bot

    deps = make_deps(demo_config)
    deps.helpdesks.pop(Source.INTERCOM)  # Intercom has no credentials in this deployment
    server, stop = start_bot(deps)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        body = encode(intercom_notification("9002"))
        assert (
            post(f"{url}/webhooks/intercom", body, intercom_headers(INTERCOM_SECRET, body)).status_code == 404
        )
        body = encode({"ticket_id": 1})
        assert post(f"{url}/webhooks/freshdesk", body, {}).status_code == 404
    finally:
        stop()


def test_ping_and_other_items_are_acknowledged_without_a_reread(bot, intercom_emu):
    deps, url = bot
    intercom_emu.reset_log()
    ping = {
        "type": "notification_event",
        "topic": "ping",
        "data": {"item": {"type": "ping", "message": "hi"}},
    }
    body = encode(ping)
    response = post(f"{url}/webhooks/intercom", body, intercom_headers(INTERCOM_SECRET, body))
    assert response.status_code == 200 and response.json()["queued"] is False
    assert intercom_emu.calls("/conversations") == []


# -- the webhook as the only trigger --------------------------------------------------------------
def test_a_reply_cancels_the_pending_warning_within_seconds_of_its_webhook(
    bot, zendesk_emu, slack_emu, clock
):
    """zd:103's first reply is due in 45 s: its warning is decided (outbox row pending). The agent
    answers in Zendesk; Zendesk's webhook is the only thing that tells Deskwatch. The warning is
    cancelled within 5 s, Slack never sees it, and it cost one ticket read."""
    deps, url = bot
    sync_job(deps, clock())
    decide_job(deps, clock())
    warning = _alert(deps, "zd:103", "warn:1800")
    assert warning.status == AlertStatus.PENDING

    zendesk_emu.agent_reply(103)
    zendesk_emu.reset_log()
    body = encode(zendesk_event(103, "comment_added", at=clock()))
    started = time.monotonic()
    response = post(f"{url}/webhooks/zendesk", body, zendesk_headers(ZENDESK_SECRET, body, clock()))
    assert response.status_code == 200

    latency = _wait(lambda: _alert(deps, "zd:103", "warn:1800").status == AlertStatus.CANCELLED)
    assert latency is not None, "the warning was not cancelled within 5 s of the webhook"
    print(f"webhook -> cancel: {time.monotonic() - started:.3f} s")
    assert deps.realtime.wait_idle()
    assert [c.path for c in zendesk_emu.calls("/api/v2")] == ["/api/v2/tickets/103.json"]  # no sync
    assert not any("zd:103" in text for text in _posted_refs(slack_emu))
    row = deps.outbox.store.get_by_key(f"sla_alert:{warning.id}")
    assert row.state == "cancelled"

    deps.outbox.drain(now=clock())  # later delivery passes post the others, never zd:103's warning
    assert not any("zd:103" in text for text in _posted_refs(slack_emu))
    assert any("zd:102" in text for text in _posted_refs(slack_emu))


def test_a_reassignment_reroutes_the_pending_warning_at_once(bot, zendesk_emu, slack_emu, clock):
    deps, url = bot
    sync_job(deps, clock())
    decide_job(deps, clock())
    assert _alert(deps, "zd:103", "warn:1800").channel == "C0PAYMENTS"

    zendesk_emu.upsert_ticket(id=103, group_id=7)  # Payments -> Billing
    body = encode({"ticket_id": "103"})
    post(f"{url}/webhooks/zendesk", body, zendesk_headers(ZENDESK_SECRET, body, clock()))

    assert _wait(lambda: _alert(deps, "zd:103", "warn:1800").status == AlertStatus.POSTED) is not None
    posted = [m for m in slack_emu.messages() if "zd:103" in m["text"]]
    assert [m["channel"] for m in posted] == ["C0BILLING"]


def test_an_intercom_reply_cancels_the_pending_warning(bot, intercom_emu, slack_emu, clock):
    deps, url = bot
    sync_job(deps, clock())
    decide_job(deps, clock())
    assert _alert(deps, "ic:9002", "warn:1800").status == AlertStatus.PENDING

    intercom_emu.admin_reply(9002, 902)
    body = encode(intercom_notification("9002", "conversation.admin.replied"))
    post(f"{url}/webhooks/intercom", body, intercom_headers(INTERCOM_SECRET, body))

    assert _wait(lambda: _alert(deps, "ic:9002", "warn:1800").status == AlertStatus.CANCELLED) is not None
    assert not any("ic:9002" in text for text in _posted_refs(slack_emu))


def test_a_new_urgent_ticket_gets_its_warning_without_waiting_for_the_poll(
    bot, zendesk_emu, slack_emu, clock
):
    deps, url = bot
    scan(deps, clock())  # everything due so far is posted
    before = len(slack_emu.messages())

    zendesk_emu.upsert_ticket(
        id=120,
        subject="Card blocked abroad",
        priority="urgent",
        group_id=7,
        assignee_id=501,
        requester_id=611,
        slas={"policy_metrics": [_metric("first_reply_time", "active", clock() + timedelta(minutes=10))]},
    )
    body = encode(zendesk_event(120, "created", at=clock()))
    post(f"{url}/webhooks/zendesk", body, zendesk_headers(ZENDESK_SECRET, body, clock()))

    assert _wait(lambda: len(slack_emu.messages()) > before) is not None
    new = slack_emu.messages()[before:]
    assert len(new) == 1 and "zd:120" in new[0]["text"] and new[0]["channel"] == "C0BILLING"


def test_the_poll_interval_stretches_while_webhooks_arrive(bot, clock):
    deps, url = bot
    base = timedelta(seconds=60)
    queue = deps.realtime
    assert queue.poll_interval(Source.ZENDESK, base, now=clock()) == base
    body = encode({"ticket_id": "999999"})  # a ticket that does not exist: the re-read answers 404
    post(f"{url}/webhooks/zendesk", body, zendesk_headers(ZENDESK_SECRET, body, clock()))
    assert queue.wait_idle()
    assert queue.poll_interval(Source.ZENDESK, base, now=clock()) == timedelta(minutes=5)
    assert queue.poll_interval(Source.INTERCOM, base, now=clock()) == base
    assert queue.poll_interval(Source.ZENDESK, base, now=clock() + timedelta(minutes=11)) == base
