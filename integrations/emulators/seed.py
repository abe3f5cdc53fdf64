"""Realistic sample data for `deskwatch demo` (and scenario tests): a fintech support desk.

Times are relative to `now`, so every run shows the same mix: breached, at risk, breaching during
the demo, far off, achieved, paused, solved, closed, snoozed and waiting-on-customer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.slack import SlackEmulator
from integrations.emulators.zendesk import ZendeskEmulator

DEMO_CHANNELS = ("C0ALERTS", "C0BILLING", "C0PAYMENTS", "C0COMPLIANCE")

DEMO_CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "alerts": {"channel": "C0ALERTS", "warn_before": ["30m"]},
    "teams": [
        {
            "name": "billing",
            "channel": "C0BILLING",
            "timezone": "UTC",
            "zendesk_group_ids": [7],
            "intercom_team_ids": ["77"],
            "managers": ["U0MANAGER"],
            "business_hours": None,
        },
        {
            "name": "payments",
            "channel": "C0PAYMENTS",
            "timezone": "Europe/London",
            "zendesk_group_ids": [8],
            "intercom_team_ids": ["78"],
            "managers": ["U0PAYLEAD"],
            "business_hours": None,
        },
        {
            "name": "compliance",
            "channel": "C0COMPLIANCE",
            "timezone": "America/New_York",
            "zendesk_group_ids": [9],
            "intercom_team_ids": [],
            "managers": ["U0COMPLY"],
            "business_hours": {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "09:00",
                "end": "17:00",
                "holidays": "US",
            },
        },
    ],
    "sla": {
        "intercom": {
            "first_reply": {"priority": "30m", "not_priority": "2h"},
            "next_reply": {"priority": "1h", "not_priority": "4h"},
        }
    },
    "schedule": {"sync_interval": "15s", "sweep_interval": "5s"},
}


def _metric(metric: str, stage: str, breach_at: datetime | None) -> dict[str, Any]:
    return {
        "metric": metric,
        "stage": stage,
        "breach_at": breach_at.strftime("%Y-%m-%dT%H:%M:%SZ") if breach_at else None,
    }


def seed_zendesk(zd: ZendeskEmulator, now: datetime) -> None:
    for gid, name in ((7, "Billing"), (8, "Payments"), (9, "Compliance"), (99, "Unassigned queue")):
        zd.add_group(gid, name)
    for uid, name in ((501, "Ana Ruiz"), (502, "Ben Okafor"), (503, "Chen Wei"), (601, "Customer")):
        zd.add_user(uid, name, email=f"user{uid}@example.com")
    # Each ticket's requester (an end user) and what they wrote when opening it (its first comment).
    requesters = {
        101: (
            611,
            "Maya Lindqvist",
            "The card payment was declined twice at checkout, but my bank says fine.",
        ),
        102: (
            612,
            "Tom Becker",
            "I returned the order three weeks ago and the refund is still not on my card.",
        ),
        103: (
            613,
            "Priya Nair",
            "A chargeback was opened for order 88231 that I never asked for. Please stop it.",
        ),
        104: (614, "Lucas Moreau", "I moved house. How do I change the billing address on my account?"),
        105: (615, "Sara Haddad", "Could you send me a copy of the October invoice? I cannot find it."),
        106: (616, "Ken Watanabe", "My account was frozen after the KYC check and I cannot pay my rent."),
        107: (617, "Olga Petrova", "I was charged twice for the same purchase on my statement."),
        108: (618, "Diego Alvarez", "Exporting the statement for the 2025 tax year fails with an error."),
    }
    for uid, name, _ in requesters.values():
        zd.add_user(uid, name, email=f"{name.split()[0].lower()}@customer.example", role="end-user")

    def ticket(
        tid,
        subject,
        *,
        status="open",
        priority="normal",
        group=7,
        assignee=501,
        age=timedelta(hours=2),
        slas=(),
        tags=(),
        replies=0,
    ):
        requester_id, _, message = requesters[tid]
        zd.upsert_ticket(
            id=tid,
            subject=subject,
            description=message,
            status=status,
            priority=priority,
            group_id=group,
            assignee_id=assignee,
            requester_id=requester_id,
            tags=list(tags),
            created_at=now - age,
            updated_at=now - min(age, timedelta(minutes=5)),
            slas={"policy_metrics": list(slas)},
            replies=replies,
        )

    ticket(
        101,
        "Card payment declined twice at checkout",
        priority="urgent",
        age=timedelta(hours=1),
        slas=[_metric("first_reply_time", "active", now - timedelta(minutes=12))],
        tags=["cards"],
    )
    ticket(
        102,
        "Refund not received for card 4111 1111 1111 1111",
        priority="high",
        assignee=502,
        slas=[
            _metric("first_reply_time", "achieved", now - timedelta(hours=1)),
            _metric("next_reply_time", "active", now + timedelta(minutes=20)),
        ],
        tags=["refunds"],
        replies=1,  # the customer wrote again after the agent's first reply
    )
    ticket(
        103,
        "Chargeback dispute for order 88231",
        priority="high",
        group=8,
        assignee=503,
        slas=[_metric("first_reply_time", "active", now + timedelta(seconds=45))],
        tags=["chargeback"],
    )
    ticket(
        104,
        "Update billing address",
        priority="low",
        slas=[_metric("first_reply_time", "active", now + timedelta(hours=6))],
    )
    ticket(
        105,
        "Invoice copy for October",
        slas=[_metric("first_reply_time", "achieved", now - timedelta(minutes=30))],
        replies=1,
    )
    ticket(
        106,
        "Account frozen after KYC check",
        priority="high",
        group=9,
        assignee=None,
        slas=[_metric("next_reply_time", "paused", None)],
        tags=["kyc"],
    )
    ticket(
        107,
        "Duplicate charge on statement",
        status="solved",
        slas=[_metric("first_reply_time", "active", now - timedelta(hours=1))],
    )
    ticket(
        108,
        "Statement export fails for 2025 tax year",
        group=99,
        assignee=None,
        age=timedelta(days=40),
        slas=[_metric("first_reply_time", "active", now - timedelta(hours=3))],
    )


def seed_intercom(ic: IntercomEmulator, now: datetime) -> None:
    ic.add_admin(901, "Dana Smith", email="dana@example.com")
    ic.add_admin(902, "Eli Cohen", email="eli@example.com")
    ic.add_team(77, "Billing", admin_ids=[901])
    ic.add_team(78, "Payments", admin_ids=[902])
    # Each conversation's customer and (for the ones they started) their opening message, as HTML.
    customers = {
        9001: ("Amara Okeke", "<p>My transfer has been <b>pending</b> for two days. Where is my money?</p>"),
        9002: ("Jonas Weber", "<p>How do I change my IBAN? I switched banks last week.</p>"),
        9003: ("Lena Fischer", "<p>Where can I find the PIN for my new card?</p>"),
        9004: ("Noah Kim", "<p>My statement shows a fee I do not understand.</p>"),
        9005: ("Elif Yilmaz", "<p>The bank says the payment left; can you confirm you received it?</p>"),
        9006: ("Mateo Rossi", "<p>The second payout of the month never arrived.</p>"),
        9007: ("Hana Sato", None),  # the team wrote first and she never answered
    }
    for cid, (name, _) in customers.items():
        ic.add_contact(f"contact-{cid}", name, f"{name.split()[0].lower()}@customer.example")

    def ts(delta: timedelta) -> int:
        return int((now - delta).timestamp())

    def conversation(
        cid,
        title,
        *,
        priority="not_priority",
        team=77,
        admin=901,
        age,
        state="open",
        first_admin_reply=None,
        waiting=None,
        last_contact=None,
    ):
        ic.upsert_conversation(
            id=str(cid),
            title=title,
            state=state,
            open=state != "closed",
            priority=priority,
            admin_assignee_id=admin,
            team_assignee_id=team,
            created_at=ts(age),
            updated_at=ts(min(age, timedelta(minutes=3))),
            waiting_since=ts(waiting) if waiting is not None else None,
            snoozed_until=ts(-timedelta(hours=4)) if state == "snoozed" else None,
            statistics={
                "first_admin_reply_at": ts(first_admin_reply) if first_admin_reply is not None else None,
                "last_contact_reply_at": ts(last_contact) if last_contact is not None else None,
            },
            contact_id=f"contact-{cid}",
            body=customers[cid][1],
        )

    conversation(
        9001,
        "Transfer stuck in pending for two days",
        priority="priority",
        age=timedelta(minutes=40),
        waiting=timedelta(minutes=40),
        last_contact=timedelta(minutes=40),
    )
    conversation(
        9002,
        "How do I change my IBAN DE89 3704 0044 0532 0130 00?",
        team=78,
        admin=902,
        age=timedelta(minutes=105),
        waiting=timedelta(minutes=105),
        last_contact=timedelta(minutes=105),
    )
    conversation(
        9003,
        "Where can I find my card PIN?",
        age=timedelta(hours=3),
        first_admin_reply=timedelta(hours=2),
        last_contact=timedelta(hours=3),
    )
    conversation(
        9004,
        "Thanks, all sorted",
        age=timedelta(hours=5),
        state="closed",
        first_admin_reply=timedelta(hours=4),
    )
    conversation(
        9005,
        "Waiting for bank confirmation",
        age=timedelta(hours=6),
        state="snoozed",
        first_admin_reply=timedelta(hours=5),
        waiting=timedelta(hours=1),
    )
    conversation(
        9006,
        "Second payout missing",
        priority="priority",
        team=78,
        admin=902,
        age=timedelta(hours=4),
        first_admin_reply=timedelta(hours=3),
        waiting=timedelta(minutes=50),
        last_contact=timedelta(minutes=50),
    )
    # The team wrote first (a card-delivery notice, 3 days ago) and the customer never answered: Intercom
    # sends `statistics: null` and no first contact reply. No reply is owed, so no alert.
    ic.upsert_conversation(
        id="9007",
        title="Your new card is on its way",
        delivered_as="automated",
        state="open",
        open=True,
        priority="priority",
        team_assignee_id=77,
        created_at=ts(timedelta(days=3)),
        updated_at=ts(timedelta(days=3)),
        statistics=None,
        contact_id="contact-9007",
        body="<p>Good news: your new card is on its way and should arrive within 3 working days.</p>",
    )


def open_ticket(
    zd: ZendeskEmulator, ticket_id: int, *, created: datetime, breach_at: datetime, group_id: int = 7
) -> None:
    """One open, normal-priority Zendesk ticket with an active first-reply SLA (bulk data builder)."""
    zd.upsert_ticket(
        id=ticket_id,
        subject=f"Ticket {ticket_id}",
        status="open",
        priority="normal",
        group_id=group_id,
        created_at=created,
        updated_at=created,
        slas={"policy_metrics": [_metric("first_reply_time", "active", breach_at)]},
    )


def open_conversation(
    ic: IntercomEmulator,
    conversation_id: int,
    *,
    created: datetime,
    updated: datetime | None = None,
    team_id: int = 77,
    admin_id: int = 901,
    first_admin_reply: datetime | None = None,
) -> None:
    """One open Intercom conversation (bulk data builder). Without `first_admin_reply` the customer is
    waiting for a first reply; with it, the conversation is waiting on the customer."""
    ic.upsert_conversation(
        id=str(conversation_id),
        title=f"Conversation {conversation_id}",
        state="open",
        open=True,
        priority="not_priority",
        team_assignee_id=team_id,
        admin_assignee_id=admin_id,
        created_at=int(created.timestamp()),
        updated_at=int((updated or created).timestamp()),
        waiting_since=None if first_admin_reply else int(created.timestamp()),
        statistics={
            "first_admin_reply_at": int(first_admin_reply.timestamp()) if first_admin_reply else None
        },
    )


def make_slack(token: str) -> SlackEmulator:
    return SlackEmulator(token=token, channels=DEMO_CHANNELS, users=("U0MANAGER", "U0PAYLEAD", "U0COMPLY"))
