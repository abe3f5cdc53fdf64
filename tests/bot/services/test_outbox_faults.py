"""The outbox under Slack faults, driven through the real WebClient against the Slack emulator.

Each fault must end with exactly the right messages in Slack: a post whose answer was lost is looked
up (never re-sent blind), a channel the bot cannot read holds the post back instead of duplicating it,
permanent errors go dead at once, and one poison row never stops the others.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bot.app import build_outbox_slack_client
from bot.store.alerts import AlertStatus
from bot.store.outbox import OutboxState
from jobs.sla import scan, sweep_job

EXPECTED_MESSAGES = 7  # the demo desk at the fixed test time (see tests/scenarios/test_sla_alerts.py)


def alert_ids_in_slack(slack_emu, channel: str | None = None) -> list[int]:
    return [m["metadata"]["event_payload"]["alert_id"] for m in slack_emu.messages(channel)]


def assert_each_alert_once(deps, slack_emu) -> None:
    ids = alert_ids_in_slack(slack_emu)
    assert len(ids) == len(set(ids)), f"duplicates: {[i for i, n in Counter(ids).items() if n > 1]}"
    posted = [a for a in deps.store.all_alerts() if a.status == AlertStatus.POSTED]
    assert sorted(ids) == sorted(a.id for a in posted)
    for alert in posted:  # the stored ts is the message's
        assert any(m["ts"] == alert.ts for m in slack_emu.messages(alert.channel))


@pytest.mark.parametrize("mode", ["reset", "close", "timeout"])
def test_post_accepted_but_answer_lost_is_looked_up_not_reposted(
    mode, seeded, slack_emu, make_deps, demo_config, settings, clock
):
    slack_emu.lose_response("/api/chat.postMessage", mode=mode, delay=3)
    deps = make_deps(demo_config, outbox_slack=build_outbox_slack_client(settings, timeout=1))

    first = scan(deps, clock())

    assert len(first.sweep.delivery.unknown) == 1
    assert len(slack_emu.messages()) == EXPECTED_MESSAGES  # Slack stored the post whose answer was lost
    assert len(slack_emu.calls("/api/chat.postMessage")) == EXPECTED_MESSAGES  # and nothing re-sent it
    [unknown] = deps.outbox.store.list(state=OutboxState.UNKNOWN)
    assert unknown.last_error.startswith("response lost")

    clock.advance(seconds=31)
    slack_emu.reset_log()
    later = sweep_job(deps, clock())

    assert later.delivery.recovered == [unknown.id]
    assert len(slack_emu.calls("/api/conversations.history")) == 1  # one lookup for the one unknown row
    assert slack_emu.calls("/api/chat.postMessage") == []
    assert_each_alert_once(deps, slack_emu)


def test_lost_answer_whose_post_did_not_land_is_posted_after_the_lookup(
    seeded, slack_emu, make_deps, demo_config, clock, monkeypatch
):
    """A row left `sending` by a worker that died before Slack got the request: the lookup finds
    nothing, so the post goes out once."""
    deps = make_deps(demo_config)
    deps.sync.sync_all(now=clock())
    deps.sweep.run(now=clock())
    item = deps.outbox.store.due(now=clock())[0]
    claim = deps.outbox.store.claim(item, now=clock(), lease=deps_lease())
    assert deps.outbox.store.mark_sending(claim, now=clock(), target={"channel": item.channel})
    # ... the process dies here, before chat.postMessage.

    clock.advance(minutes=4)
    report = sweep_job(deps, clock())

    assert item.id in report.delivery.posted
    assert len(slack_emu.calls("/api/conversations.history")) == 1
    assert len(slack_emu.messages()) == EXPECTED_MESSAGES
    assert_each_alert_once(deps, slack_emu)


def deps_lease():
    from bot.services.outbox import LEASE

    return LEASE


def test_history_refused_in_a_public_channel_joins_it_then_looks(
    seeded, slack_emu, make_deps, demo_config, settings, clock
):
    slack_emu.add_channel("C0BILLING", member=False)  # reached only through chat:write.public
    slack_emu.lose_response("/api/chat.postMessage", mode="reset")
    deps = make_deps(demo_config)
    deps.sync.sync_all(now=clock())
    deps.sweep.run(now=clock())
    billing_first = [i for i in deps.outbox.store.due(now=clock()) if i.channel == "C0BILLING"][:1]
    deps.outbox.deliver_ids([i.id for i in billing_first], now=clock())  # its answer is the one lost
    scan(deps, clock())
    [unknown] = deps.outbox.store.list(state=OutboxState.UNKNOWN)

    clock.advance(seconds=31)
    slack_emu.reset_log()
    report = sweep_job(deps, clock())

    assert report.delivery.recovered == [unknown.id]
    assert unknown.result["target"]["channel"] == "C0BILLING"
    assert [c.form()["channel"] for c in slack_emu.calls("/api/conversations.join")] == ["C0BILLING"]
    assert slack_emu.calls("/api/chat.postMessage") == []
    assert_each_alert_once(deps, slack_emu)


def test_private_channel_the_bot_cannot_read_keeps_the_post_unknown_until_it_can(
    seeded, slack_emu, make_deps, demo_config, clock
):
    """A late alert beats a duplicate: nothing is re-sent until the lookup can be made."""
    slack_emu.add_channel("C0PAYMENTS", private=True, member=True)
    deps = make_deps(demo_config)
    deps.sync.sync_all(now=clock())
    deps.sweep.run(now=clock())
    payments = [i.id for i in deps.outbox.store.due(now=clock()) if i.channel == "C0PAYMENTS"]
    slack_emu.lose_response("/api/chat.postMessage", mode="reset", count=len(payments))
    deps.outbox.deliver_ids(payments, now=clock())  # Slack stores them; every answer is lost
    scan(deps, clock())
    unknown = deps.outbox.store.list(state=OutboxState.UNKNOWN)
    assert unknown
    payments_before = len(slack_emu.messages("C0PAYMENTS"))
    slack_emu.add_channel("C0PAYMENTS", private=True, member=False)  # the bot was removed meanwhile

    for _ in range(3):
        clock.advance(minutes=11)
        report = sweep_job(deps, clock())
        assert not report.delivery.recovered or all(
            deps.outbox.store.get(i).channel != "C0PAYMENTS" for i in report.delivery.recovered
        )

    stuck = [r for r in deps.outbox.store.list(state=OutboxState.UNKNOWN) if r.channel == "C0PAYMENTS"]
    assert stuck and all("cannot" in r.last_error or "lookup failed" in r.last_error for r in stuck)
    assert len(slack_emu.messages("C0PAYMENTS")) == payments_before  # never posted blind
    assert "deskwatch_outbox_rows" in _metrics_text(deps) and 'state="unknown"' in _metrics_text(deps)

    slack_emu.add_channel("C0PAYMENTS", private=True, member=True)  # /invite @Deskwatch
    clock.advance(minutes=11)
    sweep_job(deps, clock())

    assert deps.outbox.store.counts_by_state()[OutboxState.UNKNOWN] == 0
    assert_each_alert_once(deps, slack_emu)


def _metrics_text(deps) -> str:
    from prometheus_client import generate_latest

    return generate_latest(deps.metrics.registry).decode()


@pytest.mark.parametrize("error", ["invalid_blocks", "is_archived", "channel_not_found", "not_authed"])
def test_permanent_error_goes_dead_at_once_with_slacks_reason(
    error, seeded, slack_emu, make_deps, demo_config, clock
):
    slack_emu.fail_next_with_error("chat.postMessage", error)
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    assert len(report.sweep.delivery.dead) == 1
    [dead] = deps.outbox.store.list(state=OutboxState.DEAD)
    assert dead.last_error == error
    alert = deps.store.get_alert(dead.subject_id)
    assert alert.status == AlertStatus.DEAD and alert.last_error == error
    assert len(slack_emu.messages()) == EXPECTED_MESSAGES - 1  # the others went out
    clock.advance(hours=3)
    calls = len(slack_emu.calls("/api/chat.postMessage"))
    sweep_job(deps, clock())
    retried = [
        c
        for c in slack_emu.calls("/api/chat.postMessage")[calls:]
        if c.json()["metadata"]["event_payload"]["outbox_key"] == dead.key
    ]
    assert retried == []  # never retried on its own


def test_poison_row_fails_alone_and_leaves_nothing_sending(
    seeded, slack_emu, make_deps, demo_config, clock, monkeypatch
):
    import bot.services.alert_delivery as alert_delivery

    real_render = alert_delivery.render_alert

    def render(view, *, now):
        if str(view.ref) == "zd:102":
            raise ValueError("renderer bug on this one ticket")
        return real_render(view, now=now)

    monkeypatch.setattr(alert_delivery, "render_alert", render)
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    assert len(report.sweep.delivery.failed) == 1
    counts = deps.outbox.store.counts_by_state()
    assert counts[OutboxState.SENDING] == 0 and counts[OutboxState.PENDING] == 1
    [failed] = deps.outbox.store.list(state=OutboxState.PENDING)
    assert "renderer bug" in failed.last_error
    assert len(slack_emu.messages()) == EXPECTED_MESSAGES - 1  # zd:102's channel went on after it

    monkeypatch.setattr(alert_delivery, "render_alert", real_render)
    clock.advance(seconds=31)
    sweep_job(deps, clock())
    assert len(slack_emu.messages()) == EXPECTED_MESSAGES
    assert_each_alert_once(deps, slack_emu)


def test_transient_slack_errors_retry_with_backoff(seeded, slack_emu, make_deps, demo_config, clock):
    slack_emu.fail_next("/api/chat.postMessage", status=429, retry_after=1, count=3)  # beyond SDK retries
    deps = make_deps(demo_config)
    deps.outbox.max_parallel_channels = 1  # one channel after another: the first post meets all three 429s

    report = scan(deps, clock())

    assert len(report.sweep.delivery.failed) == 1
    [row] = deps.outbox.store.list(state=OutboxState.PENDING)
    assert row.last_error == "ratelimited"
    assert (row.next_attempt_at - clock()).total_seconds() == pytest.approx(1, abs=0.5)
    clock.advance(seconds=2)
    sweep_job(deps, clock())
    assert len(slack_emu.messages()) == EXPECTED_MESSAGES
    assert_each_alert_once(deps, slack_emu)


def test_a_5xx_on_a_post_is_an_unknown_outcome_not_a_retry(seeded, slack_emu, make_deps, demo_config, clock):
    slack_emu.fail_next("/api/chat.postMessage", status=500)
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    assert len(report.sweep.delivery.unknown) == 1
    assert len(slack_emu.calls("/api/chat.postMessage")) == EXPECTED_MESSAGES  # the SDK did not re-send it
    clock.advance(seconds=31)
    sweep_job(deps, clock())  # the lookup finds nothing (the 500 stored nothing): posted once now
    assert len(slack_emu.messages()) == EXPECTED_MESSAGES
    assert_each_alert_once(deps, slack_emu)
