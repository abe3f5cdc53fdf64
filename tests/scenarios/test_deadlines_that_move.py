"""Deadlines mean what the helpdesk means: a moved breach time updates the message it already has, a
reopen starts new cycles, and a breach is never posted for a ticket answered since the last sync.
Real Zenpy/WebClient against the emulators; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.store.alerts import AlertStatus
from jobs.sla import scan, sweep_job


def alerts(deps, ref: str):
    return [a for a in deps.store.all_alerts() if str(a.ref) == ref]


def posts_for(slack_emu, ref: str) -> list[dict]:
    return [m for m in slack_emu.messages() if f"{ref} " in m["text"]]


def test_priority_change_after_a_breach_updates_the_message_instead_of_posting_again(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, _ = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())
    [breach] = alerts(deps, "zd:101")
    assert breach.kind.value == "breach" and breach.status == AlertStatus.POSTED

    # Urgent -> normal: Zendesk's policy gives the ticket until 15:30, so the breach is "undone"...
    clock.advance(minutes=2)
    zendesk_emu.set_priority(101, "normal", breach_at=clock() + timedelta(minutes=28), at=clock())
    slack_emu.reset_log()
    scan(deps, clock())

    [moved] = alerts(deps, "zd:101")
    assert moved.id == breach.id and moved.due_at == clock() + timedelta(minutes=28)
    assert moved.previous_due_at == breach.due_at
    [update] = slack_emu.calls("/api/chat.update")
    body = update.json()
    assert body["ts"] == breach.ts and "Deadline moved from 14:48 UTC to 15:30 UTC" in str(body["blocks"])
    assert not [c for c in slack_emu.calls("/api/chat.postMessage") if "zd:101" in c.json()["text"]]

    # ...and when the moved deadline passes too, it is the same cycle: no second breach post.
    clock.advance(minutes=30)
    scan(deps, clock())
    assert len(alerts(deps, "zd:101")) == 1
    assert len(posts_for(slack_emu, "zd:101")) == 1


def test_a_reopened_ticket_starts_new_cycles_with_alerts_of_their_own(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, _ = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())
    [warning] = alerts(deps, "zd:102")
    assert warning.cycle == "reply:0:1"

    clock.advance(minutes=5)
    zendesk_emu.agent_reply(102, at=clock(), status="solved")
    scan(deps, clock())
    clock.advance(minutes=5)
    next_reply = {"metric": "next_reply_time", "stage": "active", "breach_at": clock() - timedelta(seconds=5)}
    zendesk_emu.requester_comment(102, at=clock(), slas={"policy_metrics": [next_reply]})
    scan(deps, clock())

    cycles = {(a.cycle, a.key) for a in alerts(deps, "zd:102")}
    assert cycles == {("reply:0:1", "warn:1800"), ("reply:1:2", "breach")}
    assert len(posts_for(slack_emu, "zd:102")) == 2


def test_answered_since_the_last_sync_is_re_read_and_gets_no_breach(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, _ = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())  # zd:103 warned: first reply due in 45 s
    clock.advance(seconds=40)
    zendesk_emu.agent_reply(103, at=clock())  # the agent answers; Deskwatch has not synced since

    clock.advance(seconds=20)  # the stored state says breached
    zendesk_emu.reset_log()
    report = sweep_job(deps, clock())

    [breach] = [a for a in alerts(deps, "zd:103") if a.kind.value == "breach"]
    assert breach.status == AlertStatus.CANCELLED
    assert report.delivery.cancelled and not report.delivery.posted
    assert [c.path for c in zendesk_emu.calls()] == ["/api/v2/tickets/show_many.json"]  # one batch re-read
    assert len(posts_for(slack_emu, "zd:103")) == 1  # the warning only


def test_a_ticket_reassigned_since_the_last_sync_breaches_in_its_new_teams_channel(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, _ = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())
    clock.advance(seconds=40)
    zendesk_emu.upsert_ticket(id=103, group_id=7, updated_at=clock())  # payments -> billing

    clock.advance(seconds=20)
    sweep_job(deps, clock())

    [breach] = [a for a in alerts(deps, "zd:103") if a.kind.value == "breach"]
    assert breach.status == AlertStatus.POSTED and breach.channel == "C0BILLING" and breach.team == "billing"
    [message] = [m for m in slack_emu.messages("C0BILLING") if m["ts"] == breach.ts]
    assert message.get("thread_ts") is None  # its warning lives in another channel: top-level post
