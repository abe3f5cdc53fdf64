"""IntercomHistory over HTTP: the real client (python-intercom's HTTP plumbing) against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.history import EventKind
from integrations.history import HistoryFeed
from integrations.intercom import IntercomHelpdesk
from integrations.intercom_history import IntercomHistory


@pytest.fixture
def feed(intercom_emu) -> IntercomHistory:
    intercom_emu.add_admin(901, "Dana Smith")
    intercom_emu.add_admin(902, "Lee Park")
    intercom_emu.add_team(77, "Billing", admin_ids=[901])
    helpdesk = IntercomHelpdesk(
        token=intercom_emu.token, base_url=intercom_emu.url, max_retries=2, sleep=lambda s: None
    )
    return IntercomHistory(helpdesk)


def seed(emu, clock):
    """Five conversations with hand-checked histories; `since` is the start of the backfill."""
    since = clock() - timedelta(days=10)
    h = timedelta(hours=1)
    # 101: customer-started email, team 77 / admin 901 from the start; two replies, solved,
    # reopened by the customer, replied, solved again, rated 5.
    emu.upsert_conversation(
        id=101, created_at=since, source={"type": "email"}, tags=["billing"], team_assignee_id=77,
        admin_assignee_id=901, priority="priority",
    )  # fmt: skip
    emu.admin_reply(101, 901, at=since + 0.5 * h)
    emu.customer_reply(101, at=since + 1 * h)
    emu.admin_reply(101, 901, at=since + 2 * h, message_type="note")  # a note is no reply
    emu.admin_reply(101, 901, at=since + 2.5 * h)
    emu.close(101, 901, at=since + 3 * h)
    emu.customer_reply(101, at=since + 24 * h)
    emu.admin_reply(101, 901, at=since + 25 * h)
    emu.close(101, 901, at=since + 26 * h)
    emu.rate(101, 5, at=since + 27 * h, remark="great")
    # 102: unassigned, routed to team 77 then admin 902, answered, rated 3.
    emu.upsert_conversation(id=102, created_at=since + 48 * h)
    emu.assign(102, 901, assignee_id=77, kind="team", at=since + 48.1 * h)
    emu.assign(102, 901, assignee_id=902, at=since + 48.2 * h)
    emu.admin_reply(102, 902, at=since + 48.5 * h)
    emu.rate(102, 3, at=since + 50 * h)
    # 103: the team wrote (outbound) and followed up; the customer never answered.
    emu.upsert_conversation(id=103, created_at=since + 72 * h, delivered_as="admin_initiated")
    emu.admin_reply(103, 901, at=since + 73 * h)
    # 104: the team wrote; the customer answered 2 h later, the reply came 1 h after that; rated 4.
    emu.upsert_conversation(id=104, created_at=since + 96 * h, delivered_as="admin_initiated")
    emu.customer_reply(104, at=since + 98 * h)
    emu.admin_reply(104, 902, at=since + 99 * h)
    emu.rate(104, 4, at=since + 100 * h)
    # 99: started before the backfill window; only its later reply falls inside it.
    emu.upsert_conversation(id=99, created_at=since - 5 * 24 * h)
    emu.admin_reply(99, 901, at=since - 5 * 24 * h + h)
    emu.admin_reply(99, 901, at=since + h)
    return since


def read(feed, cursor, *, since, now):
    pages = list(feed.history(cursor, since=since, now=now))
    events = [e for p in pages for e in p.events]
    ratings = [r for p in pages for r in p.ratings]
    return pages, events, ratings


def by_conv(events, conv_id):
    return [(e.kind, e.at, e.event_id) for e in events if e.ref.external_id == conv_id]


def test_intercom_history_is_a_history_feed(feed):
    assert isinstance(feed, HistoryFeed)


def test_backfill_gives_events_with_exact_part_times(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    h = timedelta(hours=1)
    pages, events, _ = read(feed, None, since=since, now=clock())
    parts = {
        cid: [p["id"] for p in intercom_emu.conversation(cid)["conversation_parts"]["conversation_parts"]]
        for cid in ("101", "102", "99")
    }
    p101 = parts["101"]  # reply, customer comment, note, reply, close, open (customer), reply, close
    assert by_conv(events, "101") == [
        (EventKind.CREATED, since, "created"),
        (EventKind.FIRST_REPLY, since + 0.5 * h, "first_reply"),
        (EventKind.REPLIED, since + 2.5 * h, f"part:{p101[3]}"),
        (EventKind.SOLVED, since + 3 * h, f"part:{p101[4]}"),
        (EventKind.REOPENED, since + 24 * h, f"part:{p101[5]}"),
        (EventKind.REPLIED, since + 25 * h, f"part:{p101[6]}"),
        (EventKind.SOLVED, since + 26 * h, f"part:{p101[7]}"),
    ]
    created = next(e for e in events if e.ref.external_id == "101" and e.kind is EventKind.CREATED)
    assert (created.tags, created.channel, created.priority) == (("billing",), "email", "priority")
    assert (created.group_id, created.assignee_id) == ("77", "901")
    solves = [e.agent_replies for e in events if e.ref.external_id == "101" and e.kind is EventKind.SOLVED]
    assert solves == [2, 3]
    first = next(e for e in events if e.ref.external_id == "101" and e.kind is EventKind.FIRST_REPLY)
    assert first.clock_started_at == since and first.created_at == since
    assert pages[-1].cursor is not None and pages[-1].reached == clock()


def test_reassignment_parts_carry_the_team_and_assignee_at_the_time(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    _, events, _ = read(feed, None, since=since, now=clock())
    got = [
        (e.kind, e.group_id, e.assignee_id) for e in events if e.ref.external_id == "102"
    ]  # fmt: skip
    assert got == [
        (EventKind.CREATED, None, None),
        (EventKind.REASSIGNED, "77", None),
        (EventKind.REASSIGNED, "77", "902"),
        (EventKind.FIRST_REPLY, "77", "902"),
    ]


def test_team_started_conversation_owes_no_reply_until_the_customer_writes(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    h = timedelta(hours=1)
    assert intercom_emu.conversation(103)["statistics"] is None
    assert intercom_emu.conversation(104)["statistics"] is None
    _, events, _ = read(feed, None, since=since, now=clock())
    assert by_conv(events, "103") == [(EventKind.CREATED, since + 72 * h, "created")]
    assert by_conv(events, "104") == [
        (EventKind.CREATED, since + 96 * h, "created"),
        (EventKind.FIRST_REPLY, since + 99 * h, "first_reply"),
    ]
    first = next(e for e in events if e.ref.external_id == "104" and e.kind is EventKind.FIRST_REPLY)
    assert first.clock_started_at == since + 98 * h


def test_backfill_keeps_only_what_happened_since(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    _, events, _ = read(feed, None, since=since, now=clock())
    reply_id = intercom_emu.conversation(99)["conversation_parts"]["conversation_parts"][1]["id"]
    assert by_conv(events, "99") == [(EventKind.REPLIED, since + timedelta(hours=1), f"part:{reply_id}")]
    assert all(e.at >= since for e in events)


def test_ratings_four_and_up_are_good_one_per_conversation(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    h = timedelta(hours=1)
    _, _, ratings = read(feed, None, since=since, now=clock())
    got = sorted((r.rating_id, r.score, r.good, r.at, r.group_id) for r in ratings)
    assert got == [
        ("101", "5", True, since + 27 * h, "77"),
        ("102", "3", False, since + 50 * h, "77"),
        ("104", "4", True, since + 100 * h, None),
    ]
    raw = intercom_emu.conversation(101)["conversation_rating"]
    assert (
        raw["rating"] == 5 and raw["remark"] == "great" and raw["teammate"] == {"type": "admin", "id": "901"}
    )


def test_re_reading_gives_the_same_ids(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    _, first, first_ratings = read(feed, None, since=since, now=clock())
    _, again, again_ratings = read(feed, None, since=since, now=clock())
    assert [(e.ref, e.kind, e.event_id) for e in first] == [(e.ref, e.kind, e.event_id) for e in again]
    assert first == again and first_ratings == again_ratings
    keys = [(e.ref, e.kind, e.event_id) for e in first]
    assert len(keys) == len(set(keys))


def test_resume_from_the_cursor_reads_only_changed_conversations(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    pages, _, _ = read(feed, None, since=since, now=clock())
    assert sum(p.api_calls for p in pages) == 1 + 5  # one search page, one read per conversation
    cursor = pages[-1].cursor
    clock.advance(hours=1)
    intercom_emu.admin_reply(104, 902)
    intercom_emu.reset_log()
    pages, events, _ = read(feed, cursor, since=since, now=clock())
    assert [r.path for r in intercom_emu.calls("/conversations/", method="GET")] == ["/conversations/104"]
    assert len(intercom_emu.calls("/conversations/search")) == 1 and pages[-1].api_calls == 2
    assert (EventKind.REPLIED, clock()) in [(e.kind, e.at) for e in events]
    assert {e.ref.external_id for e in events} == {"104"}
    search = intercom_emu.calls("/conversations/search")[0].json()
    assert search["sort"] == {"field": "updated_at", "order": "ascending"}
    assert search["pagination"] == {"per_page": 150}
    # Nothing changed since: one search, no reads, no records, the same position.
    intercom_emu.reset_log()
    again, events, ratings = read(feed, pages[-1].cursor, since=since, now=clock())
    assert (len(intercom_emu.requests), events, ratings) == (1, [], [])
    assert again[-1].cursor == pages[-1].cursor


def test_ties_on_updated_at_are_neither_lost_nor_read_twice(intercom_emu, clock, feed):
    stamp = clock() - timedelta(days=1)
    intercom_emu.upsert_conversations(
        {"id": 5000 + i, "created_at": stamp, "updated_at": stamp} for i in range(200)
    )
    pages = list(feed.history(None, since=stamp - timedelta(days=1), now=clock()))
    assert len(pages) == 2 and [p.api_calls for p in pages] == [151, 51]
    assert pages[0].reached == stamp and pages[-1].reached == clock()
    assert len({e.ref for p in pages for e in p.events}) == 200
    # A run stopped after its first page resumes with the 50 conversations it had not read.
    intercom_emu.reset_log()
    resumed = list(feed.history(pages[0].cursor, since=stamp, now=clock()))
    first_ids = {e.ref.external_id for e in pages[0].events}
    resumed_ids = {e.ref.external_id for p in resumed for e in p.events}
    assert len(resumed_ids) == 50 and not resumed_ids & first_ids
    assert len(intercom_emu.calls("/conversations/", method="GET")) == 50
    # From the last cursor: the 200 tied conversations are searched again but none is read.
    intercom_emu.reset_log()
    done = list(feed.history(pages[-1].cursor, since=stamp, now=clock()))
    assert sum(len(p.events) for p in done) == 0
    assert intercom_emu.calls("/conversations/", method="GET") == []


def test_reads_retry_a_rate_limit(intercom_emu, clock, feed):
    since = seed(intercom_emu, clock)
    intercom_emu.fail_next("/conversations/104", status=429, retry_after=2, method="GET")
    pages, events, _ = read(feed, None, since=since, now=clock())
    assert sum(p.api_calls for p in pages) == 1 + 5 + 1
    assert any(e.ref.external_id == "104" for e in events)


def test_the_emulator_refuses_a_sort_it_does_not_serve(intercom_emu, feed):
    body = {"query": {"field": "updated_at", "operator": ">", "value": 0}, "sort": {"field": "id"}}
    with pytest.raises(Exception, match="400"):
        feed._helpdesk._request_json("conversations/search", "POST", {"max_retries": 0}, json=body)


@pytest.mark.parametrize("cursor", ["", "updated_at:5", "u:x:1", "u:12:a,,b", "u:12:a;b"])
def test_malformed_cursor_raises_at_once(feed, clock, cursor):
    with pytest.raises(ValueError, match="invalid Intercom history cursor"):
        feed.history(cursor, since=clock(), now=clock())
