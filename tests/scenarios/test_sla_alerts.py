"""End to end: real WebClient, Zenpy and Intercom clients against the emulators, the real store,
`sla scan` semantics (sync + sweep), exactly-once delivery and routing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store.repository import AlertStatus
from jobs.sla import scan, sweep_job

EXPECTED = {
    # (ref, kind) -> channel, for the demo seed at the fixed test time
    ("zd:101", "breach"): "C0BILLING",  # urgent, first reply breached 12m ago, group 7
    ("zd:102", "warn:1800"): "C0BILLING",  # next reply due in 20m
    ("zd:103", "warn:1800"): "C0PAYMENTS",  # due in 45s, group 8
    ("zd:108", "breach"): "C0ALERTS",  # 40-day-old ticket in an unrouted group
    ("ic:9001", "breach"): "C0BILLING",  # priority, no admin reply after 40m (target 30m), team 77
    ("ic:9002", "warn:1800"): "C0PAYMENTS",  # not_priority, 105m old (target 2h), team 78
    ("ic:9006", "warn:1800"): "C0PAYMENTS",  # customer waiting 50m for a next reply (priority: 1h)
}


def alerts_by_key(deps) -> dict[tuple[str, str], object]:
    return {(str(a.ref), a.key): a for a in deps.store.all_alerts()}


def test_first_scan_posts_exactly_the_due_alerts_to_the_owning_channels(
    seeded, slack_emu, make_deps, demo_config, clock
):
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    assert not report.sync_failed
    alerts = alerts_by_key(deps)
    assert {k: a.channel for k, a in alerts.items()} == EXPECTED
    assert all(a.status == AlertStatus.POSTED for a in alerts.values())
    messages = slack_emu.messages()
    assert len(messages) == len(EXPECTED)
    by_id = {a.id: a for a in alerts.values()}
    for message in messages:
        alert = by_id[message["metadata"]["event_payload"]["alert_id"]]
        assert message["channel"] == alert.channel
        assert message["ts"] == alert.ts
        assert str(alert.ref) in message["text"]
    # achieved (105), paused (106), solved (107), far-off (104), waiting on customer (9003), closed (9004)
    # and snoozed (9005) produce nothing
    silent = {"zd:104", "zd:105", "zd:106", "zd:107", "ic:9003", "ic:9004", "ic:9005"}
    assert not silent & {ref for ref, _ in alerts}


def test_second_scan_without_changes_posts_nothing_and_costs_one_call_per_helpdesk(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, intercom_emu = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())
    before = len(slack_emu.calls("/api/chat.postMessage"))
    zendesk_emu.reset_log()
    intercom_emu.reset_log()

    clock.advance(seconds=10)
    report = scan(deps, clock())

    assert len(slack_emu.calls("/api/chat.postMessage")) == before
    assert report.sweep.decided == []
    assert [r.api_calls for r in report.syncs] == [1, 1]
    assert len(zendesk_emu.calls("/api/v2")) == 1
    assert len(intercom_emu.calls("/conversations")) == 1


def test_ticket_crossing_its_breach_between_scans_gets_exactly_one_new_alert_threaded_under_its_warning(
    seeded, slack_emu, make_deps, demo_config, clock
):
    deps = make_deps(demo_config)
    scan(deps, clock())
    warning = alerts_by_key(deps)[("zd:103", "warn:1800")]

    clock.advance(seconds=50)  # zd:103's first reply target passes
    report = scan(deps, clock())
    clock.advance(seconds=10)
    again = scan(deps, clock())

    assert len(report.sweep.delivery.posted) == 1
    assert again.sweep.delivery.posted == []
    breach = alerts_by_key(deps)[("zd:103", "breach")]
    assert breach.status == AlertStatus.POSTED
    assert breach.thread_ts == warning.ts
    reply = next(m for m in slack_emu.messages() if m["ts"] == breach.ts)
    assert reply["thread_ts"] == warning.ts and reply["reply_broadcast"] is True
    assert len(slack_emu.messages()) == len(EXPECTED) + 1


def test_sweep_alone_catches_a_breach_with_one_reread_and_no_sync(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, intercom_emu = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())
    zendesk_emu.reset_log()
    intercom_emu.reset_log()

    clock.advance(seconds=50)
    report = sweep_job(deps, clock())

    assert len(report.delivery.posted) == 1
    # The only helpdesk call: the breach re-reads its ticket (stored state is 50 s old) before posting.
    assert [c.path for c in zendesk_emu.calls()] == ["/api/v2/tickets/show_many.json"]
    assert intercom_emu.calls() == []


def test_slack_429_then_success_posts_every_alert_once(seeded, slack_emu, make_deps, demo_config, clock):
    slack_emu.fail_next("/api/chat.postMessage", status=429, retry_after=1)
    deps = make_deps(demo_config)

    scan(deps, clock())

    assert len(slack_emu.messages()) == len(EXPECTED)
    assert len(slack_emu.calls("/api/chat.postMessage")) == len(EXPECTED) + 1
    assert all(a.status == AlertStatus.POSTED for a in deps.store.all_alerts())


def test_zendesk_500_then_success_syncs_normally(seeded, slack_emu, make_deps, demo_config, clock):
    zendesk_emu, _ = seeded
    zendesk_emu.fail_next("/api/v2/search/export", status=500)
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    assert not report.sync_failed
    assert len(slack_emu.messages()) == len(EXPECTED)


def test_zendesk_outage_keeps_intercom_alerts_flowing_and_resumes_later(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, _ = seeded
    zendesk_emu.fail_next("/api/v2", status=503, count=50)
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    failed = [r for r in report.syncs if r.error]
    assert [r.source.value for r in failed] == ["zendesk"]
    assert "zd" not in {str(a.ref)[:2] for a in deps.store.all_alerts()}
    assert {str(a.ref) for a in deps.store.all_alerts()} == {"ic:9001", "ic:9002", "ic:9006"}
    assert deps.store.sync_state(failed[0].source).last_error

    zendesk_emu._faults.clear()
    clock.advance(seconds=5)
    recovered = scan(deps, clock())

    assert not recovered.sync_failed
    assert {k for k in alerts_by_key(deps)} == set(EXPECTED)


def test_crash_between_deciding_and_posting_loses_nothing(seeded, slack_emu, make_deps, demo_config, clock):
    deps = make_deps(demo_config)
    deps.sync.sync_all(now=clock())
    decided = deps.sweep.run(now=clock()).decided  # ...and the process dies before delivering

    restarted = make_deps(demo_config)
    report = sweep_job(restarted, clock())

    assert sorted(restarted.outbox.store.get(i).subject_id for i in report.delivery.posted) == sorted(decided)
    assert len(slack_emu.messages()) == len(EXPECTED)


def test_crash_after_posting_before_marking_is_recovered_from_channel_history_without_duplicate(
    seeded, slack_emu, make_deps, demo_config, clock, monkeypatch
):
    from bot.store.outbox import OutboxState, OutboxStore

    deps = make_deps(demo_config)
    deps.sync.sync_all(now=clock())
    original = OutboxStore.finish

    def crash(self, claim, *, state, **kwargs):
        if state == OutboxState.POSTED:
            raise KeyboardInterrupt("process killed after chat.postMessage")  # not caught per row
        return original(self, claim, state=state, **kwargs)

    monkeypatch.setattr(OutboxStore, "finish", crash)
    with pytest.raises(KeyboardInterrupt):
        sweep_job(deps, clock())
    monkeypatch.setattr(OutboxStore, "finish", original)
    # Each channel's first post went through (channels post in parallel); its row is stuck `sending`.
    stuck = deps.outbox.store.counts_by_state()[OutboxState.SENDING]
    assert len(slack_emu.messages()) == stuck >= 1

    clock.advance(minutes=4)  # the claim's lease runs out
    slack_emu.reset_log()
    report = sweep_job(deps, clock())

    assert len(report.delivery.recovered) == stuck
    assert len(slack_emu.calls("/api/conversations.history")) == stuck  # one lookup per unknown row
    posted_ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack_emu.messages()]
    assert len(posted_ids) == len(set(posted_ids))  # no alert posted twice
    alerts = alerts_by_key(deps)
    # everything expected, plus zd:103's breach (its 45 s target passed during the 4 minutes)
    assert set(alerts) == set(EXPECTED) | {("zd:103", "breach")}
    assert all(a.status == AlertStatus.POSTED for a in alerts.values())
    assert sorted(posted_ids) == sorted(a.id for a in alerts.values())


def test_unknown_channel_goes_dead_alone_and_is_posted_after_outbox_retry(
    seeded, slack_emu, make_deps, clock
):
    import copy

    from bot.config import config_from_dict
    from bot.store.outbox import OutboxState
    from integrations.emulators.seed import DEMO_CONFIG

    data = copy.deepcopy(DEMO_CONFIG)
    data["teams"][0]["channel"] = "C0NOTJOINED"  # billing's channel does not exist (yet)
    deps = make_deps(config_from_dict(data, source="tests"))
    billing = {k for k, ch in EXPECTED.items() if ch == "C0BILLING"}

    scan(deps, clock())

    alerts = alerts_by_key(deps)
    assert {k for k, a in alerts.items() if a.status == AlertStatus.DEAD} == billing
    assert all(a.last_error == "channel_not_found" for k, a in alerts.items() if k in billing)
    assert {k for k, a in alerts.items() if a.status == AlertStatus.POSTED} == set(EXPECTED) - billing
    dead = deps.outbox.store.list(state=OutboxState.DEAD)
    assert len(dead) == len(billing) and {d.last_error for d in dead} == {"channel_not_found"}

    def billing_posts() -> int:
        return sum(
            1 for c in slack_emu.calls("/api/chat.postMessage") if c.json()["channel"] == "C0NOTJOINED"
        )

    calls = billing_posts()
    clock.advance(minutes=10)
    sweep_job(deps, clock())
    assert billing_posts() == calls  # a permanent error is not retried

    slack_emu.add_channel("C0NOTJOINED")
    for row in dead:
        assert deps.outbox.store.requeue(row.id, now=clock()) is not None
    retried = sweep_job(deps, clock())

    assert len(retried.delivery.posted) == len(billing)
    assert {m["channel"] for m in slack_emu.messages()} >= {"C0NOTJOINED"}
    assert all(
        a.status == AlertStatus.POSTED for a in alerts_by_key(deps).values() if a.kind.value == "warning"
    )


def test_priority_change_upstream_moves_the_deadline(seeded, slack_emu, make_deps, demo_config, clock):
    _, intercom_emu = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())
    assert ("ic:9002", "breach") not in alerts_by_key(deps)

    clock.advance(seconds=30)
    intercom_emu.upsert_conversation(id="9002", priority="priority")  # target drops from 2h to 30m
    scan(deps, clock())

    breach = alerts_by_key(deps)[("ic:9002", "breach")]
    assert breach.status == AlertStatus.POSTED and breach.channel == "C0PAYMENTS"


def test_solved_before_delivery_cancels_the_alert(seeded, slack_emu, make_deps, demo_config, clock):
    zendesk_emu, _ = seeded
    deps = make_deps(demo_config)
    deps.sync.sync_all(now=clock())
    deps.sweep.run(now=clock())
    clock.advance(seconds=61)
    zendesk_emu.upsert_ticket(id=101, status="solved")
    deps.sync.sync_all(now=clock())

    report = sweep_job(deps, clock())

    cancelled = {
        str(deps.store.get_alert(deps.outbox.store.get(i).subject_id).ref) for i in report.delivery.cancelled
    }
    assert "zd:101" in cancelled
    assert all("zd:101" not in m["text"] for m in slack_emu.messages())


def test_card_numbers_and_ibans_never_reach_slack(seeded, slack_emu, make_deps, demo_config, clock):
    deps = make_deps(demo_config)
    scan(deps, clock())

    dump = repr(slack_emu.messages())
    assert "4111 1111 1111 1111" not in dump and "4111111111111111" not in dump
    assert "1111" in dump  # last four kept
    assert "DE89 3704 0044 0532 0130 00" not in dump and "DE89370400440532013000" not in dump


def test_every_posted_alert_has_text_fallback_and_buttons(seeded, slack_emu, make_deps, demo_config, clock):
    from bot.blocks.ids import SlaActions

    deps = make_deps(demo_config)
    scan(deps, clock())

    for message in slack_emu.messages():
        assert message["text"]
        action_ids = {
            e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
        }
        assert action_ids == {SlaActions.ACKNOWLEDGE.value, SlaActions.OPEN_TICKET.value}


def test_dry_run_records_and_posts_nothing(seeded, slack_emu, make_deps, demo_config, clock):
    deps = make_deps(demo_config)

    report = scan(deps, clock(), dry_run=True)

    assert {(str(r.decision.deadline.ref), r.decision.key) for r in report.would_post} == set(EXPECTED)
    assert slack_emu.messages() == []
    assert deps.store.all_alerts() == []


def test_first_sync_covers_old_tickets_and_many_pages(
    zendesk_emu, intercom_emu, slack_emu, make_deps, demo_config, clock
):
    from integrations.emulators.seed import open_conversation, seed_intercom, seed_zendesk

    seed_zendesk(zendesk_emu, clock())
    seed_intercom(intercom_emu, clock())
    for i in range(1, 321):  # 3 search pages of 150, answered long ago, quiet for 300 days
        open_conversation(
            intercom_emu,
            20000 + i,
            created=clock() - timedelta(days=400),
            updated=clock() - timedelta(days=300),
            first_admin_reply=clock() - timedelta(days=399),
        )
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    intercom = next(r for r in report.syncs if r.source.value == "intercom")
    assert intercom.items == 320 + 6  # the demo's 7 conversations minus the closed one
    assert len(deps.store.open_items()) == 320 + 6 + 7  # plus the 7 unsolved demo tickets


def test_two_replicas_sweeping_at_once_post_each_alert_once(seeded, slack_emu, make_deps, demo_config, clock):
    from concurrent.futures import ThreadPoolExecutor

    first, second = make_deps(demo_config), make_deps(demo_config)
    first.sync.sync_all(now=clock())

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda deps: sweep_job(deps, clock()), (first, second)))

    posted = [first.outbox.store.get(i).subject_id for report in reports for i in report.delivery.posted]
    assert sorted(posted) == sorted(a.id for a in first.store.all_alerts())
    ids_in_slack = [m["metadata"]["event_payload"]["alert_id"] for m in slack_emu.messages()]
    assert len(ids_in_slack) == len(set(ids_in_slack)) == len(EXPECTED)


def test_hostile_ticket_text_still_posts_valid_block_kit(seeded, slack_emu, make_deps, demo_config, clock):
    zendesk_emu, _ = seeded
    zendesk_emu.upsert_ticket(
        id=101, subject="<!channel> *refund* & <https://evil|click> " * 200, updated_at=clock()
    )
    deps = make_deps(demo_config)

    scan(deps, clock())

    message = next(m for m in slack_emu.messages() if "zd:101" in m["text"])
    assert "<!channel>" not in repr(message["blocks"]) + message["text"]  # escaped, never a live mention
    assert len(slack_emu.messages()) == len(EXPECTED)  # strict Block Kit validation accepted every alert
