"""IntercomHelpdesk over the real python-intercom client, against the Intercom emulator."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from intercom import ContactReplyIntercomUserIdRequest, Intercom
from intercom.core.api_error import ApiError

from bot.domain.model import HelpdeskItem, Source, TicketRef
from integrations.base import Helpdesk, HelpdeskAuthError, HelpdeskError, HelpdeskNotFound, SyncPage
from integrations.emulators.base import Response
from integrations.emulators.intercom import IntercomEmulator
from integrations.intercom import IntercomHelpdesk

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKEN = "ic-secret-token-123"


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Sleeps(list):
    """Records requested back-off delays instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def emulator(clock: Clock) -> Iterator[IntercomEmulator]:
    with IntercomEmulator(token=TOKEN, app_id="wsp123", now=clock) as em:
        em.add_admin(1, "Ann Agent", "ann@example.com")
        em.add_admin(2, "Bob Agent")
        em.add_team(77, "Billing", admin_ids=[1])
        yield em


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def adapter(emulator: IntercomEmulator, sleeps: Sleeps) -> IntercomHelpdesk:
    return IntercomHelpdesk(token=TOKEN, base_url=emulator.url, sleep=sleeps)


def seed_open(emulator: IntercomEmulator, count: int, *, start: int = 1, **fields: Any) -> None:
    for n in range(start, start + count):
        emulator.upsert_conversation(
            id=str(n),
            title=f"Conversation {n}",
            admin_assignee_id=1,
            team_assignee_id=77,
            updated_at=T0 - timedelta(days=30) + timedelta(seconds=n),
            **fields,
        )


def run(adapter: IntercomHelpdesk, cursor: str | None, now: datetime = T0) -> list[SyncPage]:
    return list(adapter.sync(cursor, now=now))


def items_of(pages: list[SyncPage]) -> list[HelpdeskItem]:
    return [item for page in pages for item in page.items]


def test_adapter_implements_helpdesk_protocol(adapter: IntercomHelpdesk) -> None:
    assert isinstance(adapter, Helpdesk)
    assert adapter.source is Source.INTERCOM


def test_every_request_sends_intercom_version_2_14(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    seed_open(emulator, 3)

    adapter.check_auth()
    run(adapter, None)
    adapter.get_item("2")

    assert len(emulator.requests) >= 5
    assert [r.header("Intercom-Version") for r in emulator.requests] == ["2.14"] * len(emulator.requests)
    assert emulator.versions_seen == ["2.14"] * len(emulator.requests)


def test_first_sync_pages_through_all_open_conversations_and_skips_closed(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    seed_open(emulator, 380)
    seed_open(emulator, 20, start=381, state="snoozed")
    seed_open(emulator, 50, start=401, state="closed")

    pages = run(adapter, None)

    searches = emulator.calls("/conversations/search")
    assert len(searches) == 3
    assert [r.json()["pagination"]["per_page"] for r in searches] == [150, 150, 150]
    assert "starting_after" not in searches[0].json()["pagination"]
    assert all(r.json()["pagination"]["starting_after"] for r in searches[1:])
    assert searches[0].json()["query"] == {"field": "open", "operator": "=", "value": True}
    assert [len(p.items) for p in pages] == [150, 150, 100]
    # A checkpoint after each page (t0 first, Intercom's next-page cursor last); the incremental cursor last.
    assert [p.cursor for p in pages] == [
        f"first:{ts(T0) - 1}:{searches[1].json()['pagination']['starting_after']}",
        f"first:{ts(T0) - 1}:{searches[2].json()['pagination']['starting_after']}",
        f"updated_at:{ts(T0) - 1}",
    ]
    ids = [item.ref.external_id for item in items_of(pages)]
    assert sorted(ids, key=int) == [str(n) for n in range(1, 401)]
    assert {item.status for item in items_of(pages)} == {"open", "snoozed"}
    # 3 searches + admins + teams + /me (for the workspace id in URLs), counted on the page that needed them
    assert [p.api_calls for p in pages] == [4, 1, 1]
    assert len(emulator.requests) == 6


def test_first_sync_maps_conversation_fields(adapter: IntercomHelpdesk, emulator: IntercomEmulator) -> None:
    emulator.upsert_conversation(
        id="9001",
        title="Cannot log in",
        priority="priority",
        admin_assignee_id=1,
        team_assignee_id=77,
        created_at=T0 - timedelta(hours=3),
        updated_at=T0 - timedelta(hours=1),
        waiting_since=T0 - timedelta(hours=2),
        statistics={
            "first_admin_reply_at": T0 - timedelta(hours=2, minutes=30),
            "last_contact_reply_at": T0 - timedelta(hours=2),
        },
        tags=["vip", "billing"],
        sla_applied={"sla_name": "VIP", "sla_status": "active"},
    )

    (item,) = items_of(run(adapter, None))

    assert item == HelpdeskItem(
        ref=TicketRef(Source.INTERCOM, "9001"),
        subject="Cannot log in",
        status="open",
        priority="priority",
        group_id="77",
        group_name="Billing",
        assignee_id="1",
        assignee_name="Ann Agent",
        url="https://app.intercom.com/a/inbox/wsp123/inbox/conversation/9001",
        created_at=T0 - timedelta(hours=3),
        updated_at=T0 - timedelta(hours=1),
        first_admin_reply_at=T0 - timedelta(hours=2, minutes=30),
        last_contact_reply_at=T0 - timedelta(hours=2),
        waiting_since=T0 - timedelta(hours=2),
        tags=("vip", "billing"),
        first_contact_at=T0 - timedelta(hours=3),
    )
    assert item.created_at.tzinfo is UTC


def test_integer_team_id_maps_to_string(adapter: IntercomHelpdesk, emulator: IntercomEmulator) -> None:
    emulator.upsert_conversation(id="1", team_assignee_id=77)

    (item,) = items_of(run(adapter, None))

    assert emulator.conversation("1")["team_assignee_id"] == 77
    assert item.group_id == "77"
    assert item.group_name == "Billing"
    assert item.assignee_id is None and item.assignee_name is None


@pytest.mark.parametrize(
    ("fields", "subject"),
    [
        ({"title": "Title wins", "subject": "Subject"}, "Title wins"),
        ({"title": None, "subject": "Re: <b>invoice</b>"}, "Re: invoice"),
        (
            {"body": "<p>Hello&nbsp;there,</p><p>my card " + "x" * 100 + "</p>"},
            ("Hello there, my card " + "x" * 100)[:80],
        ),
        ({"body": "<p>  </p>"}, "(no subject)"),
        ({}, "(no subject)"),
    ],
)
def test_subject_falls_back_from_title_to_source(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, fields: dict[str, Any], subject: str
) -> None:
    emulator.upsert_conversation(id="1", **fields)

    assert adapter.get_item("1").subject == subject


def test_incremental_sync_returns_only_changed_conversations_including_closed(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, clock: Clock
) -> None:
    seed_open(emulator, 10)
    cursor = run(adapter, None)[-1].cursor
    emulator.reset_log()
    clock.now = T0 + timedelta(minutes=5)
    emulator.upsert_conversation(id="3", priority="priority")
    clock.now = T0 + timedelta(minutes=6)
    emulator.upsert_conversation(id="7", state="closed")

    pages = run(adapter, cursor, now=clock.now)

    assert [(i.ref.external_id, i.status, i.priority) for i in items_of(pages)] == [
        ("3", "open", "priority"),
        ("7", "closed", "not_priority"),
    ]
    assert pages[-1].cursor == f"updated_at:{ts(T0 + timedelta(minutes=6)) - 1}"
    (search,) = emulator.calls("/conversations/search")
    assert search.json()["query"] == {"field": "updated_at", "operator": ">", "value": ts(T0) - 1}
    assert sum(p.api_calls for p in pages) == len(emulator.requests) == 1


def test_quiet_resync_costs_exactly_one_call(adapter: IntercomHelpdesk, emulator: IntercomEmulator) -> None:
    seed_open(emulator, 200)
    cursor = run(adapter, None)[-1].cursor
    emulator.reset_log()

    pages = run(adapter, cursor)

    assert len(emulator.requests) == 1
    assert sum(p.api_calls for p in pages) == 1
    assert pages[-1].cursor == cursor
    assert items_of(pages) == []


def test_incremental_sync_spanning_pages_carries_cursor_on_last_page_only(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, clock: Clock
) -> None:
    seed_open(emulator, 200)
    clock.now = T0 + timedelta(hours=1)
    for n in range(1, 161):
        emulator.upsert_conversation(id=str(n), updated_at=T0 + timedelta(seconds=n))

    pages = run(adapter, f"updated_at:{ts(T0) - 1}", now=clock.now)

    assert [len(p.items) for p in pages] == [150, 10]
    assert [p.cursor for p in pages] == [None, f"updated_at:{ts(T0) + 160 - 1}"]


# -- first sync: checkpoints, resume, no page cap ----------------------------------------------------
def fresh_adapter(emulator: IntercomEmulator, sleeps: Sleeps) -> IntercomHelpdesk:
    """A new process's adapter: nothing cached from the run that stopped."""
    return IntercomHelpdesk(token=TOKEN, base_url=emulator.url, app_id="wsp123", sleep=sleeps)


def test_first_sync_resumed_from_a_checkpoint_reads_only_the_pages_after_it(
    emulator: IntercomEmulator, sleeps: Sleeps, clock: Clock
) -> None:
    seed_open(emulator, 400)
    whole = run(fresh_adapter(emulator, sleeps), None)
    emulator.reset_log()
    clock.now = T0 + timedelta(minutes=10)  # restarted after a crash that followed the first page

    resumed = run(fresh_adapter(emulator, sleeps), whole[0].cursor, now=clock.now)

    assert items_of(resumed) == items_of(whole[1:])
    assert [p.cursor for p in resumed] == [p.cursor for p in whole[1:]]  # t0 of the original start
    searches = emulator.calls("/conversations/search")
    assert len(searches) == 2
    assert f"first:{ts(T0) - 1}:{searches[0].json()['pagination']['starting_after']}" == whole[0].cursor


def test_conversation_closed_while_a_first_sync_was_down_comes_with_the_next_sync(
    emulator: IntercomEmulator, sleeps: Sleeps, clock: Clock
) -> None:
    seed_open(emulator, 300)
    first_page = next(fresh_adapter(emulator, sleeps).sync(None, now=T0))
    unread = next(n for n in range(1, 301) if str(n) not in {i.ref.external_id for i in first_page.items})
    clock.now = T0 + timedelta(minutes=5)
    emulator.upsert_conversation(id=str(unread), state="closed")

    adapter = fresh_adapter(emulator, sleeps)
    rest = run(adapter, first_page.cursor, now=clock.now)
    following = run(adapter, rest[-1].cursor, now=clock.now + timedelta(minutes=1))

    assert str(unread) not in {i.ref.external_id for i in items_of(rest)}  # no longer open
    assert [(i.ref.external_id, i.status) for i in items_of(following)] == [(str(unread), "closed")]


def test_checkpoint_whose_cursor_intercom_refuses_restarts_the_first_sync_keeping_t0(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    seed_open(emulator, 200)
    stale = "bm90LWEtY3Vyc29y"  # base64 of "not-a-cursor": the emulator answers 400 parameter_invalid

    pages = run(adapter, f"first:{ts(T0) - 600}:{stale}")

    assert sorted(int(i.ref.external_id) for i in items_of(pages)) == list(range(1, 201))
    assert pages[-1].cursor == f"updated_at:{ts(T0) - 600}"
    sent = [r.json()["pagination"].get("starting_after") for r in emulator.calls("/conversations/search")]
    assert sent[:2] == [stale, None] and len(sent) == 3


def test_cursor_refused_after_the_first_page_of_a_run_raises_instead_of_starting_over(
    emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    seed_open(emulator, 500)
    checkpoint = run(fresh_adapter(emulator, sleeps), None)[0].cursor
    pages = fresh_adapter(emulator, sleeps).sync(checkpoint, now=T0)
    next(pages)
    emulator.fail_next("/conversations/search", status=400)

    with pytest.raises(HelpdeskError, match="rejected"):
        next(pages)


def test_search_results_map_exactly_like_the_sdk_parsed_conversation(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    """Search pages are read as JSON (the SDK's parsing costs 1.6 ms a conversation); `find` goes
    through the SDK's models. Both must give the same item for every shape."""
    emulator.upsert_conversation(
        id="1",
        title="Card declined",
        admin_assignee_id=1,
        team_assignee_id=77,
        tags=["vip"],
        waiting_since=T0 - timedelta(hours=1),
        statistics={"first_admin_reply_at": T0 - timedelta(hours=2), "last_contact_reply_at": T0},
    )
    emulator.upsert_conversation(id="2", delivered_as="automated", statistics=None, body="<p>Hi</p>")
    emulator.upsert_conversation(id="3", delivered_as="admin_initiated", subject="Your <b>card</b>")
    emulator.customer_reply("3", at=T0 - timedelta(minutes=5))
    emulator.upsert_conversation(id="4", state="snoozed", priority="priority")

    synced = items_of(run(adapter, None))

    assert len(synced) == 4
    assert synced == adapter.get_items([item.ref.external_id for item in synced])


def test_first_sync_pages_75150_open_conversations_to_the_end(
    emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    """Past the old 500-page cap (75,000): seeded in bulk, read over HTTP through the real client."""
    base = ts(T0 - timedelta(days=90))
    emulator.upsert_conversations(
        {"id": str(n), "title": f"Conversation {n}", "updated_at": base + n} for n in range(1, 75_151)
    )
    adapter = fresh_adapter(emulator, sleeps)
    started = time.perf_counter()

    seen: set[str] = set()
    cursors = []
    for page in adapter.sync(None, now=T0):
        seen.update(item.ref.external_id for item in page.items)
        cursors.append(page.cursor)
    elapsed = time.perf_counter() - started

    assert len(seen) == 75_150
    assert len(cursors) == len(emulator.calls("/conversations/search")) == 501
    assert all(c.startswith(f"first:{ts(T0) - 1}:") for c in cursors[:-1])
    assert cursors[-1] == f"updated_at:{ts(T0) - 1}"
    assert elapsed < 60, f"paging 75,150 conversations took {elapsed:.1f} s"


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "updated_at:",
        "updated_at:abc",
        "created_at:5",
        "updated_at:-5",
        "first:",
        "first:123",
        "first:123:",
        "first:abc:WzE3XQ==",
        "first:123:has space",
        "first:-5:WzE3XQ==",
    ],
)
def test_invalid_cursor_raises_value_error_before_any_call(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, cursor: str
) -> None:
    with pytest.raises(ValueError, match="cursor"):
        adapter.sync(cursor, now=T0)

    assert emulator.requests == []


def test_naive_now_raises_value_error(adapter: IntercomHelpdesk) -> None:
    with pytest.raises(ValueError, match="aware"):
        adapter.sync(None, now=datetime(2026, 3, 2, 9, 0))


def test_admin_and_team_lists_are_fetched_once_per_adapter(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, clock: Clock
) -> None:
    seed_open(emulator, 5)
    cursor = run(adapter, None)[-1].cursor
    clock.now = T0 + timedelta(minutes=1)
    emulator.upsert_conversation(id="6", admin_assignee_id=2, team_assignee_id=77)

    run(adapter, cursor, now=clock.now)
    adapter.get_item("6")

    assert len(emulator.calls("/admins")) == 1
    assert len(emulator.calls("/teams")) == 1
    assert adapter.get_item("6").assignee_name == "Bob Agent"


def test_unknown_teammate_is_looked_up_again_after_the_refresh_interval(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, clock: Clock
) -> None:
    seed_open(emulator, 2)
    cursor = run(adapter, None)[-1].cursor
    emulator.add_admin(3, "Carol New")
    clock.now = T0 + timedelta(minutes=5)
    emulator.upsert_conversation(id="7", admin_assignee_id=3, team_assignee_id=77)
    pages = run(adapter, cursor, now=clock.now)
    assert [i.assignee_name for p in pages for i in p.items if i.ref.external_id == "7"] == [None]

    clock.now = T0 + timedelta(hours=1, minutes=10)
    emulator.upsert_conversation(id="7", title="again", admin_assignee_id=3, team_assignee_id=77)
    pages = run(adapter, pages[-1].cursor, now=clock.now)

    assert [i.assignee_name for p in pages for i in p.items if i.ref.external_id == "7"] == ["Carol New"]
    assert len(emulator.calls("/admins")) == 2
    assert len(emulator.calls("/teams")) == 1  # team 77 was known: no refetch


def test_unassigned_conversations_need_no_name_lookups(emulator: IntercomEmulator, sleeps: Sleeps) -> None:
    adapter = IntercomHelpdesk(token=TOKEN, base_url=emulator.url, app_id="given-app", sleep=sleeps)
    emulator.upsert_conversation(id="1")

    (item,) = items_of(run(adapter, None))

    assert [r.path for r in emulator.requests] == ["/conversations/search"]
    assert item.url == "https://app.intercom.com/a/inbox/given-app/inbox/conversation/1"


def test_item_url_fetches_workspace_id_once(adapter: IntercomHelpdesk, emulator: IntercomEmulator) -> None:
    first = adapter.item_url("1")
    second = adapter.item_url("2")

    assert first == "https://app.intercom.com/a/inbox/wsp123/inbox/conversation/1"
    assert second.endswith("/conversation/2")
    assert len(emulator.calls("/me")) == 1


def test_check_auth_describes_admin_and_remembers_workspace(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    description = adapter.check_auth()
    adapter.item_url("1")

    assert "Ann Agent" in description and "ann@example.com" in description
    assert len(emulator.calls("/me")) == 1


def test_get_item_fetches_fresh_conversation(adapter: IntercomHelpdesk, emulator: IntercomEmulator) -> None:
    emulator.upsert_conversation(id="42", title="Refund", team_assignee_id=77, state="snoozed")

    item = adapter.get_item("42")

    assert (item.ref, item.subject, item.status, item.group_id) == (
        TicketRef(Source.INTERCOM, "42"),
        "Refund",
        "snoozed",
        "77",
    )
    assert emulator.calls("/conversations/42", method="GET")


def test_get_item_unknown_raises_not_found(adapter: IntercomHelpdesk) -> None:
    with pytest.raises(HelpdeskNotFound, match="404404"):
        adapter.get_item("404404")


def test_rate_limit_then_success_honours_retry_after(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    seed_open(emulator, 2)
    adapter.check_auth()
    emulator.fail_next("/conversations/search", status=429, retry_after=7)

    pages = run(adapter, None)

    assert sleeps == [7.0]
    assert len(items_of(pages)) == 2
    assert len(emulator.calls("/conversations/search")) == 2
    assert pages[0].api_calls == 4  # 429 + search retry + admins + teams


def test_rate_limit_without_retry_after_waits_for_rate_limit_reset(sleeps: Sleeps) -> None:
    with IntercomEmulator(token=TOKEN) as emulator:  # real clock: X-RateLimit-Reset vs the Date header
        adapter = IntercomHelpdesk(token=TOKEN, base_url=emulator.url, sleep=sleeps)
        emulator.fail_next("/me", status=429)

        adapter.check_auth()

    assert len(sleeps) == 1
    assert 9.0 <= sleeps[0] <= 11.0  # the emulator's 10-second window, to the second


def test_server_error_then_success_retries(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    emulator.upsert_conversation(id="1")
    emulator.fail_next("/conversations/1", status=500)

    assert adapter.get_item("1").ref.external_id == "1"
    assert sleeps == [1.0]


def test_server_error_forever_raises_helpdesk_error_after_retries(
    emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    adapter = IntercomHelpdesk(token=TOKEN, base_url=emulator.url, max_retries=4, sleep=sleeps)
    emulator.fail_next("/conversations/search", status=503, count=100)

    with pytest.raises(HelpdeskError) as info:
        run(adapter, None)

    assert type(info.value) is HelpdeskError
    assert "5 attempts" in str(info.value) and "503" in str(info.value)
    assert TOKEN not in str(info.value)
    assert len(emulator.calls("/conversations/search")) == 5
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def test_bad_token_raises_auth_error_without_retrying(emulator: IntercomEmulator, sleeps: Sleeps) -> None:
    adapter = IntercomHelpdesk(token="wrong-token-456", base_url=emulator.url, sleep=sleeps)

    with pytest.raises(HelpdeskAuthError) as on_auth:
        adapter.check_auth()
    with pytest.raises(HelpdeskAuthError):
        run(adapter, None)

    assert "wrong-token-456" not in str(on_auth.value)
    assert "401" in str(on_auth.value)
    assert len(emulator.requests) == 2
    assert sleeps == []


def test_unreachable_server_raises_helpdesk_error(sleeps: Sleeps) -> None:
    with IntercomEmulator(token=TOKEN) as emulator:
        url = emulator.url
    adapter = IntercomHelpdesk(token=TOKEN, base_url=url, max_retries=2, sleep=sleeps)

    with pytest.raises(HelpdeskError, match="unreachable"):
        adapter.check_auth()

    assert sleeps == [1.0, 2.0]


class _EndlessPagesEmulator(IntercomEmulator):
    """A misbehaving server: every search page claims there is a next page (and `total_pages: 1`)."""

    def __init__(self, *, repeat_cursor: bool) -> None:
        super().__init__(token=TOKEN, app_id="wsp123")
        self._repeat = repeat_cursor
        self._cursors = itertools.count(1)

    def _page(self, results: Any, per_page: int, starting_after: Any) -> Response:
        body = json.loads(super()._page(results, per_page, None).body)
        cursor = "same-cursor" if self._repeat else f"cursor-{next(self._cursors)}"
        body["pages"]["next"] = {"per_page": per_page, "starting_after": cursor}
        return Response(200, body)


def test_server_repeating_its_cursor_stops_instead_of_looping(sleeps: Sleeps) -> None:
    with _EndlessPagesEmulator(repeat_cursor=True) as emulator:
        emulator.upsert_conversation(id="1")
        adapter = IntercomHelpdesk(token=TOKEN, base_url=emulator.url, sleep=sleeps)

        with pytest.raises(HelpdeskError, match="same page cursor"):
            run(adapter, None)

        assert len(emulator.calls("/conversations/search")) == 2


def test_server_with_endless_pages_stops_far_past_the_total_pages_it_reported(sleeps: Sleeps) -> None:
    with _EndlessPagesEmulator(repeat_cursor=False) as emulator:
        emulator.upsert_conversation(id="1")
        adapter = IntercomHelpdesk(token=TOKEN, base_url=emulator.url, app_id="wsp123", sleep=sleeps)

        with pytest.raises(HelpdeskError, match="far more than the total_pages"):
            run(adapter, None)

        assert len(emulator.calls("/conversations/search")) == 2 * 1 + 10


def test_sdk_max_retries_is_off_by_two_so_adapter_retries_itself(emulator: IntercomEmulator) -> None:
    """python-intercom 5.0.1 starts its retry counter at 2: max_retries=2 makes no retry at all."""
    client = Intercom(token=TOKEN, base_url=emulator.url, headers={"Intercom-Version": "2.14"})
    emulator.fail_next("/teams", status=500)

    with pytest.raises(ApiError):
        client.teams.list(request_options={"max_retries": 2})

    assert len(emulator.calls("/teams")) == 1


def test_api_cost_of_1000_open_conversations(adapter: IntercomHelpdesk, emulator: IntercomEmulator) -> None:
    seed_open(emulator, 1000)

    first = run(adapter, None)
    quiet = run(adapter, first[-1].cursor)

    assert len(items_of(first)) == 1000
    assert sum(p.api_calls for p in first) == 10  # 7 searches (150/page) + admins + teams + /me
    assert sum(p.api_calls for p in quiet) == 1
    assert len(emulator.requests) == 11


# -- who started the conversation: when the first-reply clock may start -----------------------------
TEAM_STARTED = ["admin_initiated", "automated", "campaigns_initiated", "operator_initiated"]


@pytest.mark.parametrize("delivered_as", TEAM_STARTED)
def test_team_started_conversation_has_no_first_contact_until_the_customer_writes(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, delivered_as: str
) -> None:
    emulator.upsert_conversation(
        id="7", delivered_as=delivered_as, team_assignee_id=77, created_at=T0 - timedelta(days=2)
    )
    assert emulator.conversation("7")["statistics"] is None

    (item,) = items_of(run(adapter, None))

    assert item.first_contact_at is None
    assert (item.first_admin_reply_at, item.waiting_since, item.last_contact_reply_at) == (None, None, None)
    assert item.created_at == T0 - timedelta(days=2)


def test_customer_reply_to_outbound_message_starts_first_contact_at_the_reply(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, clock: Clock
) -> None:
    """Intercom's recorded reply keeps `statistics: null`: the time comes from `first_contact_reply`."""
    emulator.upsert_conversation(id="7", delivered_as="automated", created_at=T0 - timedelta(days=2))
    cursor = run(adapter, None)[-1].cursor
    clock.now = T0 + timedelta(minutes=30)
    Intercom(token=TOKEN, base_url=emulator.url, headers={"Intercom-Version": "2.14"}).conversations.reply(
        "7", request=ContactReplyIntercomUserIdRequest(intercom_user_id="contact-7", body="Wait, what?")
    )

    (item,) = items_of(run(adapter, cursor, now=clock.now))

    assert emulator.conversation("7")["statistics"] is None
    assert item.first_contact_at == clock.now
    assert item.waiting_since == clock.now
    assert item.first_admin_reply_at is None
    assert item.updated_at == clock.now


def test_customer_started_conversation_first_contact_is_its_creation(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    emulator.upsert_conversation(id="7", created_at=T0 - timedelta(hours=5))

    item = adapter.get_item("7")

    assert item.first_contact_at == T0 - timedelta(hours=5)


def test_customer_started_conversation_with_null_statistics_maps_without_them(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    emulator.upsert_conversation(
        id="7", created_at=T0 - timedelta(hours=5), waiting_since=T0 - timedelta(hours=5)
    )
    emulator.upsert_conversation(id="7", statistics=None)

    (item,) = items_of(run(adapter, None))

    assert item.first_contact_at == T0 - timedelta(hours=5)
    assert (item.first_admin_reply_at, item.last_contact_reply_at) == (None, None)
    assert item.waiting_since == T0 - timedelta(hours=5)


def test_first_admin_reply_of_team_started_conversation_waits_for_a_reply_to_the_customer(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    emulator.upsert_conversation(id="7", delivered_as="admin_initiated", created_at=T0, statistics={})
    emulator.admin_reply("7", 1, at=T0 + timedelta(minutes=5))  # a nudge before the customer wrote
    before = adapter.get_item("7")
    emulator.customer_reply("7", at=T0 + timedelta(hours=1))
    asked = adapter.get_item("7")
    emulator.admin_reply("7", 2, at=T0 + timedelta(hours=1, minutes=15))
    answered = adapter.get_item("7")

    assert (before.first_contact_at, before.first_admin_reply_at) == (None, None)
    assert (asked.first_contact_at, asked.first_admin_reply_at) == (T0 + timedelta(hours=1), None)
    assert asked.waiting_since == asked.last_contact_reply_at == T0 + timedelta(hours=1)
    assert answered.first_admin_reply_at == T0 + timedelta(hours=1, minutes=15)
    assert answered.waiting_since is None


def test_first_contact_falls_back_to_statistics_when_first_contact_reply_is_missing(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    emulator.upsert_conversation(
        id="7", delivered_as="automated", statistics={"first_contact_reply_at": T0 - timedelta(minutes=9)}
    )

    assert adapter.get_item("7").first_contact_at == T0 - timedelta(minutes=9)


def test_admin_reply_before_the_customer_wrote_is_never_a_first_reply(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator
) -> None:
    """Defensive: statistics that count the team's own opening message would hide the owed reply."""
    emulator.upsert_conversation(
        id="7",
        delivered_as="admin_initiated",
        created_at=T0 - timedelta(hours=2),
        statistics={"first_admin_reply_at": T0 - timedelta(hours=2)},
    )
    emulator.customer_reply("7", at=T0 - timedelta(hours=1))

    item = adapter.get_item("7")

    assert item.first_contact_at == T0 - timedelta(hours=1)
    assert item.first_admin_reply_at is None


# -- get_items -------------------------------------------------------------------------------------
def test_get_items_reads_each_id_once_and_skips_missing_ones(
    emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    adapter = IntercomHelpdesk(token=TOKEN, base_url=emulator.url, app_id="wsp123", sleep=sleeps)
    for n in (1, 2, 3):
        emulator.upsert_conversation(id=str(n), title=f"Conversation {n}", team_assignee_id=77)

    items = adapter.get_items(["3", "404404", "1", "3"])

    assert [(i.ref.external_id, i.subject, i.group_name) for i in items] == [
        ("3", "Conversation 3", "Billing"),
        ("1", "Conversation 1", "Billing"),
    ]
    reads = emulator.calls("/conversations/", method="GET")
    assert [r.path for r in reads] == ["/conversations/3", "/conversations/404404", "/conversations/1"]
    assert [r.path for r in emulator.requests if not r.path.startswith("/conversations/")] == ["/teams"]
    assert sleeps == []


def test_get_items_of_nothing_makes_no_call(adapter: IntercomHelpdesk, emulator: IntercomEmulator) -> None:
    assert adapter.get_items([]) == []
    assert emulator.requests == []


def test_get_items_retries_a_server_error_through_the_adapters_retry_path(
    adapter: IntercomHelpdesk, emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    emulator.upsert_conversation(id="1")
    emulator.upsert_conversation(id="2")
    emulator.fail_next("/conversations/2", status=503)

    items = adapter.get_items(["1", "2"])

    assert [i.ref.external_id for i in items] == ["1", "2"]
    assert sleeps == [1.0]
    assert len(emulator.calls("/conversations/2")) == 2


def test_get_items_raises_on_failures_other_than_not_found(
    emulator: IntercomEmulator, sleeps: Sleeps
) -> None:
    adapter = IntercomHelpdesk(token="wrong-token-456", base_url=emulator.url, sleep=sleeps)
    emulator.upsert_conversation(id="1")

    with pytest.raises(HelpdeskAuthError):
        adapter.get_items(["1"])
