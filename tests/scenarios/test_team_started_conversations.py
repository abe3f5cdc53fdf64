"""Intercom conversations the team started (outbound, automated, admin-initiated) owe the customer no
first reply until the customer writes; then the clock starts at the customer's reply. Real Intercom
client against the emulator (shapes from the 2.14 spec's recorded examples: `statistics: null`,
`first_contact_reply: null`); SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobs.sla import scan


def ic_alerts(deps, conv_id: str):
    return [a for a in deps.store.all_alerts() if str(a.ref) == f"ic:{conv_id}"]


@pytest.mark.parametrize("delivered_as", ["automated", "admin_initiated", "operator_initiated"])
def test_a_conversation_the_team_started_gets_no_alert_before_the_customer_writes(
    delivered_as, intercom_emu, zendesk_emu, slack_emu, make_deps, demo_config, clock
):
    from integrations.emulators.seed import seed_intercom

    seed_intercom(intercom_emu, clock())
    intercom_emu.upsert_conversation(
        id="7001",
        title="Your card is on its way",
        delivered_as=delivered_as,
        state="open",
        open=True,
        priority="priority",
        team_assignee_id=77,
        created_at=clock() - timedelta(days=3),  # far beyond any first-reply target
        statistics=None,
    )
    deps = make_deps(demo_config)

    scan(deps, clock())

    item = deps.store.get_item(next(i.ref for i in deps.store.open_items() if i.ref.external_id == "7001"))
    assert item.first_contact_at is None and item.first_admin_reply_at is None
    assert ic_alerts(deps, "7001") == []
    assert not [m for m in slack_emu.messages() if "ic:7001" in m["text"]]


def test_the_customers_reply_to_an_outbound_message_starts_the_first_reply_clock(
    intercom_emu, zendesk_emu, slack_emu, make_deps, demo_config, clock
):
    from integrations.emulators.seed import seed_intercom

    seed_intercom(intercom_emu, clock())
    intercom_emu.upsert_conversation(
        id="7002",
        title="Please confirm your new address",
        delivered_as="admin_initiated",
        state="open",
        open=True,
        priority="not_priority",  # first reply due 2 h after the customer writes
        team_assignee_id=77,
        created_at=clock() - timedelta(days=2),
        statistics=None,
    )
    deps = make_deps(demo_config)
    scan(deps, clock())
    assert ic_alerts(deps, "7002") == []

    clock.advance(minutes=5)
    replied_at = clock()
    intercom_emu.customer_reply(
        "7002", at=replied_at, body="<p>It is 4111 1111 1111 1111... sorry, I mean Elm St 5</p>"
    )
    clock.advance(seconds=10)
    scan(deps, clock())
    item = deps.store.get_item(next(i.ref for i in deps.store.open_items() if i.ref.external_id == "7002"))
    assert item.first_contact_at == replied_at
    assert ic_alerts(deps, "7002") == []  # 2 h from the reply, not from the creation 2 days ago

    clock.advance(minutes=95)  # 25 minutes left: inside the 30m warning
    scan(deps, clock())
    [warning] = ic_alerts(deps, "7002")
    assert warning.kind.value == "warning" and warning.due_at == replied_at + timedelta(hours=2)

    clock.advance(minutes=26)
    scan(deps, clock())
    assert {a.key for a in ic_alerts(deps, "7002")} == {"warn:1800", "breach"}


def test_an_admin_reply_answers_the_customer_after_an_outbound_start(
    intercom_emu, zendesk_emu, slack_emu, make_deps, demo_config, clock
):
    from integrations.emulators.seed import seed_intercom

    seed_intercom(intercom_emu, clock())
    intercom_emu.upsert_conversation(
        id="7003",
        title="Survey",
        delivered_as="automated",
        state="open",
        open=True,
        priority="priority",
        team_assignee_id=77,
        created_at=clock() - timedelta(hours=5),
        statistics=None,
    )
    intercom_emu.customer_reply("7003", at=clock() - timedelta(minutes=20))
    intercom_emu.admin_reply("7003", 901, at=clock() - timedelta(minutes=15))
    deps = make_deps(demo_config)

    scan(deps, clock())

    assert ic_alerts(deps, "7003") == []  # answered within 5 minutes of the customer's reply
