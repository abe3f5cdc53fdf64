"""The digest part of `deskwatch demo`: two weeks of billing history in the emulators (tickets answered,
solved, reopened and rated; conversations closed and rated), backfilled through the real history feeds,
then the billing team's daily standup digest and weekly report posted through the outbox.

The history is generated from a fixed seed relative to now, so every run tells the same story: refund
requests surge in the last two days and first replies slow down, which the narrative says.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.domain.digest_schedule import previous_send_time

# The exact schedule, plus the weekly report.
DEMO_DIGESTS = [
    {
        "team": "billing",
        "channel": "C0BILLING",
        "at": "09:15",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "skip_holidays": True,
        "covers": "previous_business_day",
    },
    {"team": "billing", "at": "08:30", "covers": "previous_week"},
]
_TAGS = ("card_declined", "statement", "chargeback", "login", "kyc", "address_change")
FIRST_TICKET = 4001
FIRST_CONVERSATION = 95001
DAYS = 15


def seed_digest_history(zendesk, intercom, now: datetime, *, seed: int = 7) -> tuple[int, int]:
    """Billing's last DAYS days in both helpdesks; returns (tickets, conversations) created."""
    rng = random.Random(seed)
    tickets = conversations = 0
    for days_ago in range(DAYS - 1, -1, -1):
        surge = days_ago < 2  # refunds spike and replies slow in the last two days
        for n in range(7 + days_ago % 3 + (4 if surge else 0)):
            created = now - timedelta(days=days_ago, hours=rng.uniform(1.5, 23.5))
            tags = ["refund_request"] if surge and n % 2 == 0 else [rng.choice(_TAGS)]
            if rng.random() < 0.15:
                tags.append("refund_request")
            reply_after = timedelta(minutes=rng.uniform(60, 300) if surge else rng.uniform(5, 150))
            _zendesk_ticket(zendesk, FIRST_TICKET + tickets, created, tags, reply_after, rng, now)
            tickets += 1
        for _ in range(3):
            created = now - timedelta(days=days_ago, hours=rng.uniform(1.5, 23.5))
            _intercom_conversation(intercom, FIRST_CONVERSATION + conversations, created, rng, now)
            conversations += 1
    return tickets, conversations


def _zendesk_ticket(zd, tid: int, created: datetime, tags, reply_after: timedelta, rng, now) -> None:
    urgent = rng.random() < 0.2
    target = timedelta(hours=1 if urgent else 2)
    zd.upsert_ticket(
        id=tid,
        subject=f"{tags[0].replace('_', ' ').capitalize()} (#{tid})",
        description="Customer message",
        status="open",
        priority="urgent" if urgent else "normal",
        group_id=7,
        assignee_id=rng.choice((501, 502)),
        requester_id=601,
        tags=list(tags),
        created_at=created,
        updated_at=created,
        slas={
            "policy_metrics": [
                {
                    "metric": "first_reply_time",
                    "stage": "active",
                    "breach_at": (created + target).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ]
        },
    )
    replied = created + reply_after
    if replied >= now - timedelta(minutes=30):
        return  # still waiting: it is part of the backlog (its SLA will show up as at risk or breached)
    zd.agent_reply(tid, at=replied)
    solved = replied + timedelta(hours=rng.uniform(0.5, 30))
    if rng.random() < 0.12 or solved >= now - timedelta(minutes=10):
        return  # answered, not solved yet
    if rng.random() < 0.25:  # a second reply before the solve: not one-touch
        zd.agent_reply(tid, at=replied + (solved - replied) / 2)
    zd.upsert_ticket(id=tid, status="solved", updated_at=solved)
    if rng.random() < 0.08 and solved + timedelta(hours=3) < now - timedelta(minutes=10):
        zd.requester_comment(tid, at=solved + timedelta(hours=2))  # reopened
        zd.agent_reply(tid, at=solved + timedelta(hours=2, minutes=30))
        zd.upsert_ticket(id=tid, status="solved", updated_at=solved + timedelta(hours=3))
        solved += timedelta(hours=3)
    rated = solved + timedelta(hours=1)
    if rng.random() < 0.45 and rated < now - timedelta(minutes=5):
        zd.add_satisfaction_rating(tid, "good" if rng.random() < 0.82 else "bad", at=rated)


def _intercom_conversation(ic, cid: int, created: datetime, rng, now) -> None:
    ic.upsert_conversation(
        id=cid,
        title="Billing question",
        state="open",
        priority="priority" if rng.random() < 0.2 else "not_priority",
        team_assignee_id=77,
        admin_assignee_id=901,
        created_at=created,
        updated_at=created,
        body="<p>A question about my bill</p>",
        tags=[rng.choice(_TAGS)],
        contact_id="contact-9001",
    )
    replied = created + timedelta(minutes=rng.uniform(5, 200))
    if replied >= now - timedelta(minutes=30):
        return
    ic.admin_reply(cid, 901, at=replied)
    closed = replied + timedelta(hours=rng.uniform(0.5, 20))
    if closed >= now - timedelta(minutes=10):
        return
    ic.close(cid, 901, at=closed)
    if rng.random() < 0.5 and closed + timedelta(hours=1) < now:
        ic.rate(cid, rng.choice((5, 5, 4, 4, 3, 2)), at=closed + timedelta(hours=1))


def play_digest(deps, zendesk, intercom, show: Callable[[], None], out) -> None:
    out("\n=== Daily standup digest and weekly report ===")
    now = deps.clock()
    tickets, conversations = seed_digest_history(zendesk, intercom, now)
    deps.sync.sync_all(now=now)
    since = now - timedelta(days=DAYS + 1)
    results = deps.history.backfill(since, now=now)
    records = sum(r.records for r in results)
    calls = ", ".join(f"{r.source.label} {r.api_calls}" for r in results)
    out(
        f"Two weeks of billing history ({tickets} Zendesk tickets, {conversations} Intercom conversations) "
        f"backfilled like `deskwatch sync --backfill {DAYS + 1}d`: {records} records, API calls: {calls}."
    )
    for weekly in (False, True):
        digest = deps.digests.schedule("billing", weekly=weekly)
        tz, calendar = deps.config.team_tz("billing"), deps.config.calendar_for("billing")
        send_at = previous_send_time(digest.send_schedule(), tz, calendar, now)
        what = "weekly report" if weekly else "daily digest"
        out(f"\nThe billing {what} of {send_at.astimezone(tz):%a %d %b %H:%M} (sent late, once, on start):")
        deps.digests.enqueue(digest, send_at, now=now, late=True)
        deps.outbox.drain(now=now)
        show()
