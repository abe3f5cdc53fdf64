"""At scale and in storms: the sweep reads only due deadlines, a burst in one channel goes out grouped
(one Acknowledge per line), old breaches first seen at sync become one backlog summary per channel,
one scan drains every due alert, and deadlines are rebuilt when the configuration that shapes them
changes. Real clients against the emulators; SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import timedelta

from bot.blocks.alert_group import GROUP_ACK_ACTION_RE
from bot.blocks.metadata import AlertButtonValue
from bot.config import config_from_dict
from bot.store.alerts import AlertStatus
from integrations.emulators.blockkit import validate_blocks
from integrations.emulators.seed import DEMO_CONFIG, open_ticket
from jobs.sla import retention_job, scan, sweep_job
from tests.helpers.slack_requests import block_action
from tests.helpers.waiting import wait_for


def burst(zendesk_emu, clock, count: int, *, first_id: int = 1000, minutes_ago: int = 15, group_id: int = 7):
    for n in range(count):
        open_ticket(
            zendesk_emu,
            first_id + n,
            created=clock() - timedelta(hours=2),
            breach_at=clock() - timedelta(minutes=minutes_ago) + timedelta(seconds=n),
            group_id=group_id,
        )


def test_500_breaches_in_one_channel_reach_slack_in_25_grouped_posts(
    zendesk_emu, intercom_emu, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu.add_group(7, "Billing")
    burst(zendesk_emu, clock, 500)
    deps = make_deps(demo_config)

    scan(deps, clock())

    posts = slack_emu.messages("C0BILLING")
    assert len(posts) == 25
    refs = [
        block["block_id"]
        for post in posts
        for block in post["blocks"]
        if block["block_id"].startswith("sla_group_line")
    ]
    assert len(refs) == 500 and len(set(refs)) == 500  # every ticket once, each on its own line
    for post in posts:
        assert validate_blocks(post["blocks"], surface="message") == []
        assert len(post["blocks"]) <= 50 and "zd:" in post["text"]  # a text fallback that lists them
    alerts = [a for a in deps.store.all_alerts() if a.channel == "C0BILLING"]
    assert all(a.status == AlertStatus.POSTED and a.group_key for a in alerts)
    assert len({a.ts for a in alerts}) == 25


def test_a_few_alerts_are_posted_one_by_one(seeded, slack_emu, make_deps, demo_config, clock):
    deps = make_deps(demo_config)
    scan(deps, clock())
    assert all(a.group_key is None for a in deps.store.all_alerts())  # at most 5 of a kind per channel


def test_acknowledge_on_one_line_updates_that_line_of_that_message_only(
    zendesk_emu, intercom_emu, slack_emu, running_bot, clock
):
    deps = running_bot.deps
    zendesk_emu.add_group(7, "Billing")
    burst(zendesk_emu, clock, 8)
    scan(deps, clock())
    [post] = slack_emu.messages("C0BILLING")
    before = post["blocks"]
    button = next(
        b["accessory"]
        for b in before
        if b.get("accessory") and GROUP_ACK_ACTION_RE.match(b["accessory"]["action_id"])
    )
    alert_id = AlertButtonValue.decode(button["value"]).alert_id

    resp = block_action(
        running_bot.events_url,
        secret=running_bot.secret,
        user_id="U0MANAGER",
        channel_id="C0BILLING",
        message_ts=post["ts"],
        action_id=button["action_id"],
        value=button["value"],
        response_url=slack_emu.response_url("group-ack"),
    )

    assert resp.status_code == 200
    after = wait_for(
        lambda: next((m["blocks"] for m in slack_emu.messages("C0BILLING") if m.get("edited")), None),
        what="the grouped message updated",
    )
    assert len(slack_emu.messages("C0BILLING")) == 1  # updated in place, nothing new posted
    changed = [b["block_id"] for b in after if b not in before] + [
        b["block_id"] for b in before if b not in after
    ]
    assert changed and all(str(alert_id) in block_id for block_id in changed)  # only that ticket's line
    assert "<@U0MANAGER>" in repr(after)
    assert deps.store.get_alert(alert_id).acked_by == "U0MANAGER"


def test_breaches_already_old_at_first_sync_become_one_backlog_summary_per_channel(
    zendesk_emu, intercom_emu, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu.add_group(7, "Billing")
    burst(zendesk_emu, clock, 30, minutes_ago=60 * 24 * 9)  # breached 9 days ago: a backlog, not news
    burst(zendesk_emu, clock, 2, first_id=2000)  # fresh breaches still alert as usual
    deps = make_deps(demo_config)

    scan(deps, clock())

    posts = slack_emu.messages("C0BILLING")
    summaries = [p for p in posts if "backlog" in p["text"].lower()]
    assert len(summaries) == 1 and len(posts) == 3
    assert "30" in summaries[0]["blocks"][0]["text"]["text"]
    assert "/sla" in repr(summaries[0]["blocks"])
    assert validate_blocks(summaries[0]["blocks"], surface="message") == []


def test_backlog_each_and_skip_policies(zendesk_emu, intercom_emu, slack_emu, make_deps, clock):
    zendesk_emu.add_group(7, "Billing")
    burst(zendesk_emu, clock, 3, minutes_ago=60 * 48)
    data = copy.deepcopy(DEMO_CONFIG)
    data["alerts"]["backlog"] = "skip"
    deps = make_deps(config_from_dict(data, source="tests"))

    scan(deps, clock())

    assert slack_emu.messages("C0BILLING") == []
    assert {a.status for a in deps.store.all_alerts()} == {AlertStatus.CANCELLED}


def test_one_scan_drains_1500_due_alerts(zendesk_emu, intercom_emu, slack_emu, make_deps, demo_config, clock):
    for gid, name in ((7, "Billing"), (8, "Payments"), (99, "Other")):
        zendesk_emu.add_group(gid, name)
    for n, gid in enumerate((7, 8, 99)):
        burst(zendesk_emu, clock, 500, first_id=10_000 * (n + 1), group_id=gid)
    deps = make_deps(demo_config)

    report = scan(deps, clock())

    assert len(report.sweep.decided) == 1500
    assert all(a.status == AlertStatus.POSTED for a in deps.store.all_alerts())
    assert len(slack_emu.messages()) == 75  # 3 channels x 25 grouped posts


def test_the_sweep_reads_only_the_deadlines_that_are_due(
    zendesk_emu, intercom_emu, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu.add_group(7, "Billing")
    for n in range(300):  # far from due: nothing to read for hours
        open_ticket(zendesk_emu, 5000 + n, created=clock(), breach_at=clock() + timedelta(hours=8))
    burst(zendesk_emu, clock, 3)
    deps = make_deps(demo_config)
    deps.sync.sync_all(now=clock())

    first = deps.sweep.run(now=clock())
    quiet = deps.sweep.run(now=clock() + timedelta(seconds=10))

    assert first.rows_read == 3 and len(first.decided) == 3
    assert quiet.rows_read == 0 and quiet.decided == []


def test_deadlines_are_rebuilt_when_the_configuration_that_shapes_them_changes(
    seeded, slack_emu, make_deps, demo_config, clock
):
    deps = make_deps(demo_config)
    scan(deps, clock())
    assert (
        next(
            d
            for d in deps.sla.deadline_store.listed(due_before=clock() + timedelta(days=1), teams=None)
            if d.record.ref == "zd:108"
        ).record.channel
        == "C0ALERTS"
    )

    data = copy.deepcopy(DEMO_CONFIG)
    data["teams"][0]["zendesk_group_ids"].append(99)  # billing now owns the unrouted queue
    rerouted = make_deps(config_from_dict(data, source="tests"))
    clock.advance(seconds=10)
    scan(rerouted, clock())

    [zd108] = [
        d
        for d in rerouted.sla.deadline_store.listed(due_before=clock() + timedelta(days=1), teams=None)
        if d.record.ref == "zd:108"
    ]
    assert zd108.record.channel == "C0BILLING" and zd108.record.team == "billing"
    assert not rerouted.keeper.ensure_current(now=clock())  # once per configuration


def test_retention_prunes_finished_rows_of_ended_deadlines_only(
    seeded, slack_emu, make_deps, demo_config, clock
):
    zendesk_emu, _ = seeded
    deps = make_deps(demo_config)
    scan(deps, clock())
    zendesk_emu.upsert_ticket(id=101, status="solved", updated_at=clock())  # its deadline ends
    clock.advance(days=31)
    deps.sync.sync_all(now=clock())

    outbox_rows, alerts = retention_job(deps, clock())

    remaining = {str(a.ref) for a in deps.store.all_alerts()}
    assert alerts >= 1 and "zd:101" not in remaining
    assert "zd:108" in remaining  # still breached and open: its alert stops a second one
    assert outbox_rows >= alerts
    clock.advance(seconds=10)
    decided = sweep_job(deps, clock()).decided
    assert "zd:108" not in {str(deps.store.get_alert(i).ref) for i in decided}  # never alerted twice
