"""ZendeskHelpdesk runs the real zenpy client over HTTP against the Zendesk emulator."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.model import MetricStage, SlaMetric, Source, TicketRef
from integrations.base import Helpdesk, HelpdeskAuthError, HelpdeskError, HelpdeskNotFound, SyncPage
from integrations.emulators.zendesk import ZendeskEmulator
from integrations.zendesk import ZendeskHelpdesk
from tests.helpers.clock import FakeClock

BREACH = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def metric(name: str, stage: str, breach_at: datetime | None) -> dict:
    return {
        "metric": name,
        "stage": stage,
        "breach_at": breach_at.strftime("%Y-%m-%dT%H:%M:%SZ") if breach_at else None,
    }


def make_adapter(emu: ZendeskEmulator, *, token: str | None = None, max_retries: int = 4) -> ZendeskHelpdesk:
    return ZendeskHelpdesk(
        subdomain=None,
        email=emu.email,
        token=token or emu.token,
        base_url=emu.url,
        max_retries=max_retries,
        timeout=5.0,
        backoff_factor=0,
    )


def ids(pages: list[SyncPage]) -> list[str]:
    return [item.ref.external_id for page in pages for item in page.items]


@pytest.fixture
def emu(zendesk_emu: ZendeskEmulator) -> ZendeskEmulator:
    zendesk_emu.add_user(501, "Ana Ruiz", "ana@example.com")
    zendesk_emu.add_user(601, "Customer", "customer@example.com", role="end-user")
    zendesk_emu.add_group(7, "Billing")
    return zendesk_emu


@pytest.fixture
def zd(emu: ZendeskEmulator) -> ZendeskHelpdesk:
    return make_adapter(emu)


@pytest.fixture
def synced(emu: ZendeskEmulator, zd: ZendeskHelpdesk, clock: FakeClock) -> Iterator[str]:
    """Three open tickets, a first sync five minutes later; yields the stored cursor."""
    for tid in (1, 2, 3):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", status="open")
    clock.advance(minutes=5)
    pages = list(zd.sync(None, now=clock()))
    clock.advance(minutes=5)
    emu.reset_log()
    yield pages[-1].cursor


def test_adapter_satisfies_helpdesk_protocol(zd: ZendeskHelpdesk) -> None:
    assert isinstance(zd, Helpdesk)
    assert zd.source is Source.ZENDESK


def test_check_auth_returns_token_owner_email(zd: ZendeskHelpdesk, emu: ZendeskEmulator) -> None:
    assert zd.check_auth() == emu.email
    assert [c.path for c in emu.calls()] == ["/api/v2/users/me.json"]


def test_check_auth_with_bad_token_raises_auth_error_without_secret(emu: ZendeskEmulator) -> None:
    zd = make_adapter(emu, token="wrong-secret-token-123")

    with pytest.raises(HelpdeskAuthError) as caught:
        zd.check_auth()

    assert "401" in str(caught.value)
    assert "wrong-secret-token-123" not in str(caught.value)
    assert "wrong-secret-token-123" not in str(caught.value.__cause__)


def test_first_sync_returns_every_open_ticket_including_very_old_ones(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(
        id=1, subject="ancient", created_at="2019-03-01T10:00:00Z", updated_at="2019-03-02T10:00:00Z"
    )
    for tid, status in ((2, "new"), (3, "pending"), (4, "hold"), (5, "solved"), (6, "closed")):
        emu.upsert_ticket(id=tid, subject=status, status=status)
    emu.upsert_ticket(id=7, subject="gone")
    emu.delete_ticket(7)
    emu.reset_log()

    pages = list(zd.sync(None, now=clock()))

    assert sorted(ids(pages)) == ["1", "2", "3", "4"]
    ancient = next(item for page in pages for item in page.items if item.ref.external_id == "1")
    assert ancient.created_at == datetime(2019, 3, 1, 10, 0, tzinfo=UTC)
    assert [page.cursor for page in pages] == [f"time:{int(clock().timestamp()) - 61}"]
    assert [c.path for c in emu.calls()] == ["/api/v2/search/export.json", "/api/v2/tickets/show_many.json"]
    export = emu.calls("/api/v2/search/export.json")[0].query
    # The type only in filter[type]: "Searches with type in the query string will result in an error".
    assert (export["query"], export["filter[type]"], export["page[size]"]) == (
        ["status<solved"],
        ["ticket"],
        ["1000"],
    )
    assert emu.calls("/api/v2/tickets/show_many.json")[0].query["include"] == [
        "slas,metric_sets,users,groups"
    ]
    assert sum(page.api_calls for page in pages) == len(emu.calls()) == 2


def test_first_sync_fetches_slas_in_show_many_chunks_of_100(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock
) -> None:
    for tid in range(1, 251):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")
    emu.reset_log()

    pages = list(zd.sync(None, now=clock()))

    assert [len(p.items) for p in pages] == [100, 100, 50]
    assert [p.api_calls for p in pages] == [2, 1, 1]
    assert [p.cursor for p in pages] == [None, None, f"time:{int(clock().timestamp()) - 61}"]
    assert [len(c.query["ids"][0].split(",")) for c in emu.calls("/api/v2/tickets/show_many.json")] == [
        100,
        100,
        50,
    ]


def test_first_sync_enumerates_past_search_cap_with_search_export(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock
) -> None:
    for tid in range(1, 1501):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")
    emu.reset_log()

    pages = list(zd.sync(None, now=clock()))

    assert sorted(int(i) for i in ids(pages)) == list(range(1, 1501))
    assert len(emu.calls("/api/v2/search/export.json")) == 2
    assert emu.calls("/api/v2/search.json") == []
    assert len(emu.calls("/api/v2/tickets/show_many.json")) == 15
    assert sum(p.api_calls for p in pages) == len(emu.calls()) == 17


# -- first sync: a checkpoint after each export page, resumed after a crash --------------------------
def seed_open(emu: ZendeskEmulator, count: int) -> None:
    for tid in range(1, count + 1):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", status="open")
    emu.reset_log()


def test_first_sync_stores_a_checkpoint_after_each_export_page_of_1000(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock
) -> None:
    seed_open(emu, 2150)
    t0 = int(clock().timestamp()) - 61

    pages = list(zd.sync(None, now=clock()))

    exports = emu.calls("/api/v2/search/export.json")
    afters = [call.query["page[after]"][0] for call in exports[1:]]  # decoded once by the server
    assert [len(p.items) for p in pages] == [100] * 21 + [50]  # one SyncPage per show_many call
    assert [p.cursor for p in pages] == (
        [None] * 9
        + [f"first:{t0}:{afters[0]}"]
        + [None] * 9
        + [f"first:{t0}:{afters[1]}", None, f"time:{t0}"]
    )
    assert all(base64.b64encode(base64.b64decode(a, validate=True)).decode() == a for a in afters)
    assert [p.api_calls for p in pages[:11]] == [2] + [1] * 9 + [2]  # the export call on its first chunk
    assert sorted(int(i) for i in ids(pages)) == list(range(1, 2151))


def test_first_sync_resumed_from_a_checkpoint_reads_only_the_export_pages_after_it(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    seed_open(emu, 2150)
    whole = list(make_adapter(emu).sync(None, now=clock()))
    emu.reset_log()
    clock.advance(minutes=20)  # restarted a while after the crash

    resumed = list(make_adapter(emu).sync(whole[9].cursor, now=clock()))

    assert ids(resumed) == ids(whole[10:])
    assert [p.cursor for p in resumed] == [p.cursor for p in whole[10:]]  # t0 of the original start
    (first, second) = emu.calls("/api/v2/search/export.json")
    assert first.query["page[after]"] == [whole[9].cursor.split(":", 2)[2]]
    assert len(emu.calls("/api/v2/tickets/show_many.json")) == 12


def test_expired_checkpoint_restarts_the_enumeration_keeping_t0(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    seed_open(emu, 1200)
    checkpoint = list(make_adapter(emu).sync(None, now=clock()))[9].cursor
    emu.reset_log()
    clock.advance(minutes=61)  # "The cursor ... expires after one hour."

    pages = list(make_adapter(emu).sync(checkpoint, now=clock()))

    assert sorted(int(i) for i in ids(pages)) == list(range(1, 1201))
    assert pages[-1].cursor == f"time:{checkpoint.split(':')[1]}"
    from_top = [call.query.get("page[after]") is None for call in emu.calls("/api/v2/search/export.json")]
    assert from_top == [False, True, False]  # refused, from the top, then page 2


def test_export_cursor_refused_after_the_first_page_of_a_run_raises_instead_of_starting_over(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    seed_open(emu, 3000)
    checkpoint = list(make_adapter(emu).sync(None, now=clock()))[9].cursor
    pages = make_adapter(emu).sync(checkpoint, now=clock())
    for _ in range(10):
        next(pages)  # the whole second export page
    emu.fail_next("/api/v2/search/export.json", status=400)

    with pytest.raises(HelpdeskError, match="HTTP 400"):
        next(pages)


def test_1000_open_tickets_cost_11_calls_on_first_sync_and_1_on_quiet_resync(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock
) -> None:
    for tid in range(1, 1001):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", status="open")
    for tid in range(1001, 1201):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", status="solved")
    clock.advance(minutes=5)
    emu.reset_log()

    first = list(zd.sync(None, now=clock()))
    first_calls = len(emu.calls())
    clock.advance(minutes=5)
    emu.reset_log()
    quiet = list(zd.sync(first[-1].cursor, now=clock()))

    assert len(ids(first)) == 1000
    assert first_calls == sum(p.api_calls for p in first) == 11
    assert ids(quiet) == []
    assert len(emu.calls()) == sum(p.api_calls for p in quiet) == 1


def test_incremental_sync_returns_only_changed_tickets_at_cost_of_changes(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    for tid in range(100, 400):  # a backlog the incremental sync must not pay for
        emu.upsert_ticket(id=tid, subject=f"backlog {tid}", updated_at=clock() - timedelta(days=30))
    cursor = list(zd.sync(synced, now=clock()))[-1].cursor
    clock.advance(minutes=5)
    emu.upsert_ticket(id=2, status="pending")
    emu.upsert_ticket(id=3, priority="urgent")
    clock.advance(minutes=2)
    emu.reset_log()

    pages = list(zd.sync(cursor, now=clock()))

    assert ids(pages) == ["2", "3"]
    assert [(i.status, i.priority) for i in pages[0].items] == [("pending", None), ("open", "urgent")]
    assert len(emu.calls()) == sum(p.api_calls for p in pages) == 1
    assert pages[-1].cursor is not None and pages[-1].cursor.startswith("cursor:")
    assert emu.calls()[0].query["include"] == ["slas,metric_sets,users,groups"]


def test_time_cursor_sync_uses_start_time_and_stores_export_cursor(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.upsert_ticket(id=1, status="hold")
    clock.advance(minutes=2)

    pages = list(zd.sync(synced, now=clock()))

    assert ids(pages) == ["1"]
    (call,) = emu.calls()
    assert call.query["start_time"] == [synced.removeprefix("time:")]
    assert pages[-1].cursor.startswith("cursor:")


def test_quiet_resync_costs_exactly_one_call(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.upsert_ticket(id=1, status="pending")
    clock.advance(minutes=2)
    cursor = list(zd.sync(synced, now=clock()))[-1].cursor
    clock.advance(minutes=5)
    emu.reset_log()

    pages = list(zd.sync(cursor, now=clock()))

    assert pages == [SyncPage((), cursor, api_calls=1)]
    assert len(emu.calls()) == 1


def test_quiet_resync_from_time_cursor_keeps_the_time_cursor(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    pages = list(zd.sync(synced, now=clock()))

    assert pages == [SyncPage((), synced, api_calls=1)]
    assert len(emu.calls()) == 1


def test_incremental_sync_pages_with_lowered_export_page_size(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.export_page_size = 2
    for tid in (1, 2, 3, 10, 11):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", status="pending")
    clock.advance(minutes=2)

    pages = list(zd.sync(synced, now=clock()))

    assert [[i.ref.external_id for i in p.items] for p in pages] == [["1", "2"], ["3", "10"], ["11"]]
    assert [p.api_calls for p in pages] == [1, 1, 1]
    assert len({p.cursor for p in pages}) == 3
    assert all(p.cursor.startswith("cursor:") for p in pages)
    # resuming from a middle page's cursor continues after it
    assert ids(list(zd.sync(pages[0].cursor, now=clock()))) == ["3", "10", "11"]


def test_incremental_sync_reports_deleted_ticket_as_closed(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.delete_ticket(2)
    clock.advance(minutes=2)

    (page,) = list(zd.sync(synced, now=clock()))

    (item,) = page.items
    assert (item.ref.external_id, item.status, item.is_closed) == ("2", "deleted", True)
    assert (item.reopens, item.agent_replies) == (0, 0)  # Zendesk serves no metric set for it


def test_sync_with_unparseable_cursor_raises_value_error(zd: ZendeskHelpdesk, clock: FakeClock) -> None:
    bad_checkpoints = (
        "first:",
        "first:12",
        "first:12:",
        "first:x:eyJ9",
        "first:12:not base64!",
        "first:-1:eyJ9",
    )
    for bad in ("", "time:soon", "cursor:", "page:3", "1234", *bad_checkpoints):
        with pytest.raises(ValueError, match="Zendesk sync cursor"):
            zd.sync(bad, now=clock())


def test_get_item_maps_slas_assignee_and_group(zd: ZendeskHelpdesk, emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(
        id=42,
        subject="Card declined",
        status="open",
        priority="high",
        group_id=7,
        assignee_id=501,
        requester_id=601,
        tags=["cards", "vip"],
        created_at="2026-11-23T13:00:00Z",
        updated_at="2026-11-23T14:30:00Z",
        slas={
            "policy_metrics": [
                metric("first_reply_time", "active", BREACH),
                metric("next_reply_time", "paused", None),
                metric("periodic_update_time", "achieved", None),
            ]
        },
    )

    item = zd.get_item("42")

    assert item.ref == TicketRef(Source.ZENDESK, "42")
    assert (item.subject, item.status, item.priority) == ("Card declined", "open", "high")
    assert (item.group_id, item.group_name) == ("7", "Billing")
    assert (item.assignee_id, item.assignee_name) == ("501", "Ana Ruiz")
    assert item.url == f"{emu.url}/agent/tickets/42"
    assert item.created_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert item.updated_at == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    assert item.tags == ("cards", "vip")
    assert item.sla_metrics == (
        SlaMetric("first_reply_time", MetricStage.ACTIVE, BREACH),
        SlaMetric("next_reply_time", MetricStage.PAUSED, None),
        SlaMetric("periodic_update_time", MetricStage.ACHIEVED, None),
    )
    assert emu.calls("/api/v2/tickets/42.json")[0].query["include"] == ["slas,metric_sets,users,groups"]


def test_get_item_skips_sla_stage_it_does_not_know(zd: ZendeskHelpdesk, emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(
        id=9, subject="x", slas={"policy_metrics": [metric("first_reply_time", "active", BREACH)]}
    )
    vendor_json = emu.ticket_json(9)
    vendor_json["slas"]["policy_metrics"].append(
        {"metric": "agent_work_time", "stage": "frozen", "breach_at": None}
    )
    # a 200 "fault" replays JSON the emulator itself refuses to hold: a stage added upstream later
    emu.fail_next(
        "/api/v2/tickets/9.json", status=200, body={"ticket": vendor_json, "users": [], "groups": []}
    )

    item = zd.get_item("9")

    assert item.sla_metrics == (SlaMetric("first_reply_time", MetricStage.ACTIVE, BREACH),)


def test_get_item_without_subject_falls_back_to_description(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator
) -> None:
    emu.upsert_ticket(id=1, subject="", description="\n  Phone call from Dana\nmore text")
    emu.upsert_ticket(id=2, subject="", description="")

    assert zd.get_item("1").subject == "Phone call from Dana"
    assert zd.get_item("2").subject == "(no subject)"
    assert zd.get_item("2").assignee_name is None and zd.get_item("2").group_name is None


def test_get_item_unknown_ticket_raises_not_found(zd: ZendeskHelpdesk) -> None:
    with pytest.raises(HelpdeskNotFound):
        zd.get_item("404404")


def test_priority_change_after_breach_moves_breach_at_but_keeps_replies_and_reopens(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    breached = clock() - timedelta(minutes=5)
    emu.upsert_ticket(
        id=1,
        priority="normal",
        reopens=1,
        replies=2,
        slas={"policy_metrics": [metric("next_reply_time", "active", breached)]},
    )
    before = zd.get_item("1")
    later = clock() + timedelta(hours=3)
    clock.advance(minutes=1)
    emu.set_priority(1, "low", breach_at=later)
    clock.advance(minutes=2)

    (page,) = list(zd.sync(synced, now=clock()))

    (item,) = page.items
    assert before.sla_metrics == (SlaMetric("next_reply_time", MetricStage.ACTIVE, breached),)
    assert item.priority == "low"
    assert item.sla_metrics == (SlaMetric("next_reply_time", MetricStage.ACTIVE, later),)
    assert (item.reopens, item.agent_replies) == (before.reopens, before.agent_replies) == (1, 2)
    assert zd.get_item("1").sla_metrics[0].breach_at == later


def test_429_with_retry_after_is_waited_out_then_succeeds(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("zenpy.lib.api.sleep", waits.append)  # zenpy's wait, recorded instead of slept
    emu.upsert_ticket(id=1, status="pending")
    clock.advance(minutes=2)
    emu.fail_next("/api/v2/incremental/", status=429, retry_after=1)

    (page,) = list(zd.sync(synced, now=clock()))

    assert ids([page]) == ["1"]
    assert waits == [1]
    assert [c.path for c in emu.calls()] == ["/api/v2/incremental/tickets/cursor.json"] * 2
    assert page.api_calls == 2


def test_500_then_success_is_retried(zd: ZendeskHelpdesk, emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")
    emu.fail_next("/api/v2/tickets/1.json", status=500)

    assert zd.get_item("1").subject == "Card declined"
    assert len(emu.calls("/api/v2/tickets/1.json")) == 2


def test_sync_page_counts_retried_5xx_calls(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.fail_next("/api/v2/incremental/", status=503, count=2)

    pages = list(zd.sync(synced, now=clock()))

    assert sum(p.api_calls for p in pages) == len(emu.calls()) == 3


def test_500_forever_raises_helpdesk_error_after_retries(emu: ZendeskEmulator) -> None:
    zd = make_adapter(emu, token=emu.token, max_retries=2)
    emu.upsert_ticket(id=1, subject="Card declined")
    emu.fail_next("/api/v2/tickets/1.json", status=500, count=50)

    with pytest.raises(HelpdeskError) as caught:
        zd.get_item("1")

    assert not isinstance(caught.value, HelpdeskNotFound | HelpdeskAuthError)
    assert "HTTP 500" in str(caught.value)
    assert emu.token not in str(caught.value)
    assert len(emu.calls("/api/v2/tickets/1.json")) == 3


def test_item_url_uses_subdomain_without_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", "127.0.0.1:9")
    zd = ZendeskHelpdesk(subdomain="acme", email="bot@acme.example", token="t")

    assert zd.item_url("101") == "https://acme.zendesk.com/agent/tickets/101"
    assert "ZENPY_FORCE_NETLOC" not in os.environ  # a real account is never diverted


def test_constructor_needs_subdomain_or_plain_base_url() -> None:
    with pytest.raises(ValueError, match="subdomain or a base_url"):
        ZendeskHelpdesk(subdomain=None, email="bot@acme.example", token="t")
    with pytest.raises(ValueError, match="no path"):
        ZendeskHelpdesk(subdomain=None, email="bot@acme.example", token="t", base_url="http://h:1/api/v2")


# -- metric sets, padded cursors, get_items ------------------------------------------------------


def test_every_ticket_read_maps_metric_sets_to_reopens_and_agent_replies(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(id=1, subject="counted", reopens=2, replies=5)
    emu.upsert_ticket(id=2, subject="fresh")
    clock.advance(minutes=5)

    first = list(zd.sync(None, now=clock()))
    clock.advance(minutes=1)
    emu.agent_reply(2)
    clock.advance(minutes=2)
    later = list(zd.sync(first[-1].cursor, now=clock()))

    counts = {i.ref.external_id: (i.reopens, i.agent_replies) for p in first for i in p.items}
    assert counts == {"1": (2, 5), "2": (0, 0)}
    assert [(i.ref.external_id, i.reopens, i.agent_replies) for p in later for i in p.items] == [("2", 0, 1)]
    assert (zd.get_item("1").reopens, zd.get_item("1").agent_replies) == (2, 5)
    assert all(c.query["include"] == ["slas,metric_sets,users,groups"] for c in emu.calls("/api/v2/tickets/"))


def test_ticket_without_metric_set_entry_maps_to_zero_counts(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator
) -> None:
    emu.upsert_ticket(id=3, subject="x", replies=4)
    body = {"ticket": emu.ticket_json(3), "metric_sets": [emu.metric_set(3) | {"ticket_id": 999}]}
    emu.fail_next("/api/v2/tickets/3.json", status=200, body=body)

    item = zd.get_item("3")

    assert (item.reopens, item.agent_replies) == (0, 0)


def test_metric_set_count_of_the_wrong_type_raises_helpdesk_error(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator
) -> None:
    emu.upsert_ticket(id=3, subject="x")
    body = {"ticket": emu.ticket_json(3), "metric_sets": [emu.metric_set(3) | {"replies": "3"}]}
    emu.fail_next("/api/v2/tickets/3.json", status=200, body=body)

    with pytest.raises(HelpdeskError, match="metric replies"):
        zd.get_item("3")


def test_reopen_by_requester_comment_increments_reopens(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.agent_reply(1)
    emu.upsert_ticket(id=1, status="solved")
    clock.advance(minutes=2)
    cursor = list(zd.sync(synced, now=clock()))[-1].cursor
    clock.advance(minutes=1)
    emu.requester_comment(1)
    clock.advance(minutes=2)

    (page,) = list(zd.sync(cursor, now=clock()))

    (item,) = page.items
    assert (item.status, item.reopens, item.agent_replies) == ("open", 1, 1)


def test_padded_cursor_survives_sync_store_and_next_sync(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.upsert_ticket(id=1, status="pending")
    clock.advance(minutes=2)
    stored = list(zd.sync(synced, now=clock()))[-1].cursor
    clock.advance(minutes=1)
    emu.upsert_ticket(id=2, status="hold")
    clock.advance(minutes=2)
    emu.reset_log()

    pages = list(zd.sync(stored, now=clock()))

    assert stored.startswith("cursor:") and stored.endswith("=")  # the raw after_cursor, padding kept
    assert ids(pages) == ["2"]
    (call,) = emu.calls()
    assert call.query["cursor"] == [stored.removeprefix("cursor:")]  # decoded once on the server
    assert pages[-1].cursor.endswith("=") and pages[-1].cursor != stored


def test_cursor_with_plus_slash_and_padding_is_sent_encoded_once(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    # Zendesk's own cursors are base64 of digits and "|", so "+" and "/" are rare but legal base64.
    odd = "MTU3Ni+/MzUzOS4wfHw0Njd8fA=="
    page = {"tickets": [], "after_url": None, "before_cursor": None, "before_url": None}
    emu.fail_next(
        "/api/v2/incremental/", status=200, body={**page, "after_cursor": odd, "end_of_stream": True}
    )
    emu.fail_next(
        "/api/v2/incremental/", status=200, body={**page, "after_cursor": odd, "end_of_stream": True}
    )

    first = list(zd.sync(synced, now=clock()))
    second = list(zd.sync(first[-1].cursor, now=clock()))

    assert first[-1].cursor == second[-1].cursor == f"cursor:{odd}"
    assert emu.calls()[1].query["cursor"] == [odd]  # not "MTU3Ni /..." and not "%2B"


def test_time_cursor_sync_handles_first_export_page_with_null_before_cursor(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock, synced: str
) -> None:
    emu.export_page_size = 1
    emu.upsert_ticket(id=1, status="pending")
    emu.upsert_ticket(id=2, status="pending")
    clock.advance(minutes=2)

    pages = list(zd.sync(synced, now=clock()))

    first, second = emu.calls()
    assert "start_time" in first.query and "cursor" in second.query
    assert ids(pages) == ["1", "2"]
    assert [p.cursor.endswith("=") for p in pages] == [True, True]


def test_get_items_of_150_ids_costs_two_calls_and_leaves_out_deleted_and_unknown(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator
) -> None:
    for tid in range(1, 151):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")
    emu.delete_ticket(42)
    emu.reset_log()
    wanted = [str(tid) for tid in range(150, 0, -1)] + ["150", "999999"]

    items = zd.get_items(wanted)

    assert [i.ref.external_id for i in items] == [str(tid) for tid in range(150, 0, -1) if tid != 42]
    calls = emu.calls()
    assert [c.path for c in calls] == ["/api/v2/tickets/show_many.json"] * 2
    assert [len(c.query["ids"][0].split(",")) for c in calls] == [100, 51]
    assert all(c.query["include"] == ["slas,metric_sets,users,groups"] for c in calls)


def test_get_items_of_nothing_makes_no_call_and_refuses_non_numeric_ids(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator
) -> None:
    assert zd.get_items([]) == []
    assert emu.calls() == []
    with pytest.raises(ValueError, match="numeric"):
        zd.get_items(["12", "abc"])


def test_get_items_sees_a_ticket_answered_just_now_before_its_breach(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator, clock: FakeClock
) -> None:
    breach = clock() + timedelta(seconds=20)
    emu.upsert_ticket(
        id=7,
        subject="about to breach",
        slas={"policy_metrics": [metric("first_reply_time", "active", breach)]},
    )
    stored = zd.get_item("7")
    clock.advance(seconds=10)
    emu.agent_reply(7)

    (fresh,) = zd.get_items(["7"])

    assert stored.sla_metrics == (SlaMetric("first_reply_time", MetricStage.ACTIVE, breach),)
    assert fresh.sla_metrics == (SlaMetric("first_reply_time", MetricStage.ACHIEVED, breach),)
    assert (stored.agent_replies, fresh.agent_replies) == (0, 1)


def test_policy_metrics_with_one_signed_unit_or_missing_keys_are_tolerated(
    zd: ZendeskHelpdesk, emu: ZendeskEmulator
) -> None:
    emu.upsert_ticket(id=9, subject="x")
    vendor_json = emu.ticket_json(9)
    vendor_json["slas"] = {
        "policy_metrics": [
            {
                "breach_at": "2026-05-08T14:29:34Z",
                "stage": "active",
                "metric": "next_reply_time",
                "hours": 21,
            },
            {
                "breach_at": "2025-12-18T03:07:32Z",
                "stage": "achieved",
                "metric": "first_reply_time",
                "days": -141,
            },
            {"stage": "paused", "metric": "periodic_update_time"},
            {"breach_at": "2026-05-14T09:03:29Z", "metric": "agent_work_time", "days": 7},
            "not-an-object",
        ]
    }
    emu.fail_next("/api/v2/tickets/9.json", status=200, body={"ticket": vendor_json})

    item = zd.get_item("9")

    assert item.sla_metrics == (
        SlaMetric("next_reply_time", MetricStage.ACTIVE, datetime(2026, 5, 8, 14, 29, 34, tzinfo=UTC)),
        SlaMetric("first_reply_time", MetricStage.ACHIEVED, datetime(2025, 12, 18, 3, 7, 32, tzinfo=UTC)),
        SlaMetric("periodic_update_time", MetricStage.PAUSED, None),
    )
    assert (item.reopens, item.agent_replies) == (0, 0)
