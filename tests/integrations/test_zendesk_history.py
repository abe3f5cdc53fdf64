"""ZendeskHistory against the Zendesk emulator over HTTP, through ZendeskHelpdesk's real session."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.history import EventKind
from bot.domain.model import Source, TicketRef
from integrations.history import HistoryFeed
from integrations.zendesk import ZendeskHelpdesk
from integrations.zendesk_history import ZendeskHistory


class Waits:
    """The feed's injected sleep and monotonic clock; sleeping moves the emulator's clock too."""

    def __init__(self, clock) -> None:
        self.clock, self.t, self.slept = clock, 0.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        self.clock.advance(seconds=seconds)

    def monotonic(self) -> float:
        return self.t


@pytest.fixture
def waits(clock) -> Waits:
    return Waits(clock)


def make_feed(zendesk_emu, waits) -> ZendeskHistory:
    zendesk_emu.export_rate_limit = 10  # as strict as Zendesk
    helpdesk = ZendeskHelpdesk(
        subdomain="deskwatch-demo",
        email=zendesk_emu.email,
        token=zendesk_emu.token,
        base_url=zendesk_emu.url,
        backoff_factor=0,
    )
    return helpdesk.history_feed(sleep=waits.sleep, clock=waits.monotonic)


@pytest.fixture
def feed(zendesk_emu, waits) -> ZendeskHistory:
    return make_feed(zendesk_emu, waits)


def ref(n: int) -> TicketRef:
    return TicketRef(Source.ZENDESK, str(n))


def read(feed, cursor, *, since, now):
    pages = list(feed.history(cursor, since=since, now=now))
    events = [e for p in pages for e in p.events]
    outcomes = [o for p in pages for o in p.outcomes]
    ratings = [r for p in pages for r in p.ratings]
    return pages, events, outcomes, ratings


def story(zd, clock):
    """Ticket 1: SLA'd, first reply in time, next reply breached, solved. Ticket 2: no group, priority or
    reply. Ticket 3: breached then deleted. Ticket 4: created before the backfill, solved within it.
    Ticket 5: solved, reopened, reassigned."""
    t0 = clock()
    zd.add_group(7, "Billing")
    zd.upsert_ticket(
        id=1,
        subject="Refund",
        group_id=7,
        assignee_id=501,
        requester_id=9001,
        priority="urgent",
        tags=["refund", "vip"],
        slas={
            "policy_metrics": [
                {"metric": "first_reply_time", "stage": "active", "breach_at": t0 + timedelta(hours=1)},
                {"metric": "total_resolution_time", "stage": "active", "breach_at": t0 + timedelta(hours=8)},
            ]
        },
    )
    zd.upsert_ticket(id=2, subject="No facts", requester_id=9002, tags=[])
    zd.upsert_ticket(
        id=3,
        group_id=7,
        priority="high",
        slas={
            "policy_metrics": [
                {"metric": "first_reply_time", "stage": "active", "breach_at": t0 + timedelta(minutes=10)}
            ]
        },
    )
    zd.upsert_ticket(id=4, created_at=t0 - timedelta(days=3), group_id=7, assignee_id=501, priority="low")
    zd.upsert_ticket(id=5, group_id=7, assignee_id=501, priority="normal")
    clock.advance(minutes=10)
    zd.upsert_ticket(id=5, status="solved")
    clock.advance(minutes=10)
    zd.requester_comment(5)  # reopens it (t0+20m)
    clock.advance(minutes=5)
    zd.upsert_ticket(id=5, assignee_id=502)  # t0+25m
    clock.advance(minutes=5)
    zd.agent_reply(1)  # t0+30m: first reply within the hour
    clock.advance(minutes=30)
    zd.requester_comment(
        1,
        slas={
            "policy_metrics": [
                {"metric": "next_reply_time", "stage": "active", "breach_at": t0 + timedelta(minutes=90)},
                {"metric": "total_resolution_time", "stage": "active", "breach_at": t0 + timedelta(hours=8)},
            ]
        },
    )
    clock.advance(minutes=60)
    zd.agent_reply(1, status="solved")  # t0+2h: next reply late (due t0+90m), solve in time
    zd.upsert_ticket(id=4, status="solved")
    zd.delete_ticket(3)
    zd.add_satisfaction_rating(1, "offered", at=t0 + timedelta(hours=2, minutes=10))
    zd.add_satisfaction_rating(1, "good", at=t0 + timedelta(hours=2, minutes=20), comment="Quick!")
    zd.add_satisfaction_rating(4, "bad", at=t0 + timedelta(hours=2, minutes=30), reason="Too slow")
    zd.add_satisfaction_rating(2, "offered", at=t0 + timedelta(hours=2, minutes=30))
    clock.advance(hours=1)  # t0+3h: everything is older than the export's last minute
    return t0


def test_feed_implements_the_protocol(feed):
    assert isinstance(feed, HistoryFeed)
    assert feed.source is Source.ZENDESK


def test_backfill_emits_events_outcomes_and_ratings(feed, zendesk_emu, clock):
    t0 = story(zendesk_emu, clock)
    pages, events, outcomes, ratings = read(feed, None, since=t0 - timedelta(days=1), now=clock())

    by_id = {(e.ref.external_id, e.event_id): e for e in events}
    assert sorted(by_id) == sorted(
        [
            ("1", "created"),
            ("1", "first_reply"),
            ("1", "solved:0"),
            ("2", "created"),
            ("4", "solved:0"),  # created three days ago: before the backfill
            ("5", "created"),
            ("5", "solved:0"),  # the solve its reopen hid from the export: from its metric event
            ("5", "reopened:1"),
            ("5", f"reassigned:{int((t0 + timedelta(minutes=25)).timestamp() * 1_000_000)}"),
        ]
    )
    hidden = by_id[("5", "solved:0")]
    assert hidden.at == by_id[("5", "reopened:1")].at - timedelta(minutes=10)
    assert hidden.agent_replies is None  # unknown there: left out of the one-touch rate
    created = by_id["1", "created"]
    assert (created.kind, created.at, created.tags, created.channel) == (
        EventKind.CREATED,
        t0,
        ("refund", "vip"),
        "web",
    )
    assert (created.group_id, created.assignee_id, created.priority) == ("7", "501", "urgent")
    first = by_id["1", "first_reply"]
    assert (first.at, first.clock_started_at, first.created_at) == (t0 + timedelta(minutes=30), t0, t0)
    solved = by_id["1", "solved:0"]
    assert (solved.kind, solved.at, solved.agent_replies) == (EventKind.SOLVED, t0 + timedelta(hours=2), 2)
    assert by_id["4", "solved:0"].created_at == t0 - timedelta(days=3)
    assert by_id["5", "reopened:1"].at == t0 + timedelta(minutes=20)
    assert by_id["5", "reopened:1"].kind is EventKind.REOPENED
    nulls = by_id["2", "created"]
    assert (nulls.group_id, nulls.assignee_id, nulls.priority, nulls.tags) == (None, None, None, ())

    assert sorted((o.ref.external_id, o.metric, o.cycle, o.achieved, o.at, o.due_at) for o in outcomes) == [
        ("1", "first_reply_time", "1", True, t0 + timedelta(minutes=30), None),
        ("1", "next_reply_time", "2", False, t0 + timedelta(minutes=90), t0 + timedelta(minutes=90)),
        ("1", "total_resolution_time", "1", True, t0 + timedelta(hours=2), None),
    ]  # ticket 3's breach is left out: the ticket is deleted
    assert {(o.group_id, o.priority) for o in outcomes} == {("7", "urgent")}

    assert [(r.ref, r.good, r.score, r.at, r.group_id) for r in sorted(ratings, key=lambda r: r.at)] == [
        (ref(1), True, "good", t0 + timedelta(hours=2, minutes=20), "7"),
        (ref(4), False, "bad", t0 + timedelta(hours=2, minutes=30), "7"),
    ]  # ticket 2's offered survey is not a rating
    assert all(r.rating_id.isdigit() for r in ratings)
    assert pages[-1].cursor is not None
    assert sum(p.api_calls for p in pages) == 3  # one page per stream


def test_re_reading_yields_the_same_ids(feed, zendesk_emu, clock):
    t0 = story(zendesk_emu, clock)
    since = t0 - timedelta(days=1)
    first = read(feed, None, since=since, now=clock())
    clock.advance(minutes=1)
    again = read(feed, None, since=since, now=clock())
    assert {(e.ref, e.event_id, e.at) for e in first[1]} == {(e.ref, e.event_id, e.at) for e in again[1]}
    assert set(first[2]) == set(again[2])
    assert {r.rating_id for r in first[3]} == {r.rating_id for r in again[3]}


def test_resume_reads_only_what_changed(feed, zendesk_emu, clock):
    t0 = story(zendesk_emu, clock)
    pages, *_ = read(feed, None, since=t0 - timedelta(days=1), now=clock())
    cursor = pages[-1].cursor

    clock.advance(minutes=5)
    quiet, events, outcomes, _ = read(feed, cursor, since=t0, now=clock())
    assert (events, outcomes) == ([], [])
    assert sum(p.api_calls for p in quiet) == 3

    zendesk_emu.upsert_ticket(
        id=6,
        group_id=7,
        priority="high",
        slas={
            "policy_metrics": [
                {"metric": "first_reply_time", "stage": "active", "breach_at": clock() + timedelta(hours=1)}
            ]
        },
    )
    clock.advance(minutes=5)
    zendesk_emu.agent_reply(6)
    clock.advance(minutes=2)
    pages, events, outcomes, _ = read(feed, quiet[-1].cursor, since=t0, now=clock())
    assert sorted((e.ref.external_id, e.event_id) for e in events) == [("6", "created"), ("6", "first_reply")]
    assert [(o.ref, o.metric, o.achieved, o.priority) for o in outcomes] == [
        (ref(6), "first_reply_time", True, "high")
    ]
    assert sum(p.api_calls for p in pages) == 3


def test_fulfil_in_a_later_run_than_its_sla_is_achieved(feed, zendesk_emu, clock):
    t0 = clock()
    zendesk_emu.upsert_ticket(
        id=8,
        group_id=7,
        priority="urgent",
        slas={
            "policy_metrics": [
                {"metric": "first_reply_time", "stage": "active", "breach_at": t0 + timedelta(hours=4)}
            ]
        },
    )
    clock.advance(minutes=2)
    pages, *_ = read(feed, None, since=t0 - timedelta(hours=1), now=clock())
    assert pages[-1].cursor is not None
    clock.advance(hours=1)
    zendesk_emu.agent_reply(8)
    zendesk_emu.upsert_ticket(id=10, group_id=9, priority="low")
    clock.advance(minutes=2)
    zendesk_emu.add_metric_event(10, "resolution_time", "breach", clock() - timedelta(minutes=1, seconds=30))
    clock.advance(minutes=2)
    zendesk_emu.reset_log()
    _, _, outcomes, _ = read(feed, pages[-1].cursor, since=t0, now=clock())
    assert sorted((o.ref.external_id, o.metric, o.achieved, o.group_id) for o in outcomes) == [
        ("10", "total_resolution_time", False, "9"),
        ("8", "first_reply_time", True, "7"),
    ]
    assert zendesk_emu.calls("/api/v2/tickets/show_many") == []  # both tickets came with the export


def test_outcomes_of_tickets_not_in_the_export_get_facts_from_show_many(feed, zendesk_emu, clock):
    t0 = clock()
    zendesk_emu.upsert_ticket(id=11, group_id=7, priority="urgent")
    zendesk_emu.upsert_ticket(id=12, group_id=7, priority="urgent")
    zendesk_emu.delete_ticket(12)
    clock.advance(minutes=2)
    pages, *_ = read(feed, None, since=t0 - timedelta(hours=1), now=clock())
    for ticket_id in (11, 12):
        zendesk_emu.add_metric_event(ticket_id, "reply_time", "breach", clock(), instance_id=3)
    clock.advance(minutes=2)
    _, _, outcomes, _ = read(feed, pages[-1].cursor, since=t0, now=clock())
    assert [(o.ref, o.metric, o.cycle, o.group_id, o.priority) for o in outcomes] == [
        (ref(11), "next_reply_time", "3", "7", "urgent")
    ]
    (show_many,) = zendesk_emu.calls("/api/v2/tickets/show_many")
    assert show_many.query["ids"] == ["11,12"]


def test_429_retry_after_is_waited_with_the_injected_sleep(feed, zendesk_emu, clock, waits):
    t0 = story(zendesk_emu, clock)
    zendesk_emu.fail_next("/api/v2/incremental/ticket_metric_events", status=429, retry_after=7)
    _, _, outcomes, _ = read(feed, None, since=t0 - timedelta(days=1), now=clock())
    assert waits.slept == [7]
    assert len(outcomes) == 3


def test_the_eleventh_export_request_in_a_minute_waits(feed, zendesk_emu, clock, waits):
    zendesk_emu.export_page_size = 1
    zendesk_emu.metric_events_page_size = 1000
    for n in range(1, 13):  # twelve ticket export pages
        zendesk_emu.upsert_ticket(id=100 + n, group_id=7)
    clock.advance(minutes=2)
    pages, events, *_ = read(feed, None, since=clock() - timedelta(hours=1), now=clock())
    assert len({e.ref for e in events}) == 12
    assert waits.slept == [60]  # the 11th request waited for the first to leave the window
    calls = zendesk_emu.calls("/api/v2/incremental/")
    assert len(calls) == 13  # 12 ticket pages and the metric events page; never a 429


def test_a_second_feed_on_the_same_account_waits_out_the_emulators_429(zendesk_emu, clock, waits):
    zendesk_emu.export_page_size = 1
    for n in range(1, 11):
        zendesk_emu.upsert_ticket(id=200 + n)
    clock.advance(minutes=2)
    since = clock() - timedelta(hours=1)
    first = make_feed(zendesk_emu, waits)
    list(first.history(None, since=since, now=clock()))  # 10 ticket pages + 1 metric page, paced
    assert waits.slept == [60]
    second = make_feed(zendesk_emu, waits)  # knows nothing of the first one's requests
    list(second.history(None, since=since, now=clock()))
    # Its 10th request met the emulator's limit (the first feed's 11th is still in the window): a 429
    # whose Retry-After (60 s) was slept, then the request went through.
    assert waits.slept == [60, 60]
    assert len(zendesk_emu.calls("/api/v2/incremental/")) == 11 + 12


def test_emulator_answers_429_past_ten_export_requests_a_minute(zendesk_emu, clock):
    import requests

    zendesk_emu.export_rate_limit = 10
    auth = (f"{zendesk_emu.email}/token", zendesk_emu.token)
    url = f"{zendesk_emu.url}/api/v2/incremental/ticket_metric_events.json"
    start = int((clock() - timedelta(hours=1)).timestamp())
    statuses = [requests.get(url, params={"start_time": start}, auth=auth).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    last = requests.get(url, params={"start_time": start}, auth=auth)
    assert last.headers["Retry-After"] == "60"
    clock.advance(seconds=60)
    assert requests.get(url, params={"start_time": start}, auth=auth).status_code == 200
    too_recent = requests.get(url, params={"start_time": int(clock().timestamp()) - 30}, auth=auth)
    assert too_recent.status_code == 400 and "Too recent" in too_recent.json()["description"]


def test_a_deleted_breach_is_void_and_a_later_fulfil_is_achieved(feed, zendesk_emu, clock):
    t0 = clock()
    zendesk_emu.upsert_ticket(id=9, group_id=7, priority="low")
    sla = {"target": 60, "business_hours": False, "policy": {"id": 1, "title": "x", "description": ""}}
    zendesk_emu.add_metric_event(9, "reply_time", "apply_sla", t0, instance_id=1, sla=sla)
    zendesk_emu.add_metric_event(9, "reply_time", "breach", t0 + timedelta(hours=1), deleted=True)
    zendesk_emu.add_metric_event(9, "reply_time", "fulfill", t0 + timedelta(hours=2))
    zendesk_emu.add_metric_event(9, "agent_work_time", "fulfill", t0 + timedelta(hours=2))  # no SLA
    clock.advance(hours=3)
    _, _, outcomes, _ = read(feed, None, since=t0 - timedelta(hours=1), now=clock())
    assert [(o.metric, o.achieved, o.at) for o in outcomes] == [
        ("first_reply_time", True, t0 + timedelta(hours=2))
    ]


def test_a_bad_cursor_is_refused_up_front(feed, clock):
    with pytest.raises(ValueError, match="unparseable"):
        feed.history("garbage", since=clock(), now=clock())
