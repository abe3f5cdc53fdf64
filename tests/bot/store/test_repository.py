"""The store on SQLite and PostgreSQL (DESKWATCH_TEST_DATABASE_URL): migrations, aware timestamps,
idempotent decisions, exclusive claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.model import (
    AlertDecision,
    AlertKind,
    Deadline,
    HelpdeskItem,
    MetricStage,
    SlaMetric,
    Source,
    TicketRef,
)
from bot.store.db import current_revision, make_engine, upgrade
from bot.store.outbox import OutboxState, OutboxStore
from bot.store.repository import RoutedDecision, Store

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


def item(ref: str = "zd:101", **overrides) -> HelpdeskItem:
    values = dict(
        ref=TicketRef.parse(ref),
        subject="Card declined",
        status="open",
        priority="high",
        group_id="7",
        assignee_id="501",
        assignee_name="Ana Ruiz",
        url="https://example.zendesk.com/agent/tickets/101",
        created_at=NOW - timedelta(hours=2),
        updated_at=NOW - timedelta(minutes=5),
        sla_metrics=(SlaMetric("first_reply_time", MetricStage.ACTIVE, NOW + timedelta(minutes=20)),),
        tags=("cards",),
        group_name="Billing",
    )
    values.update(overrides)
    return HelpdeskItem(**values)


def decision(ref: str = "zd:101", kind: AlertKind = AlertKind.BREACH, cycle: str = "c1") -> RoutedDecision:
    deadline = Deadline(TicketRef.parse(ref), "first_reply_time", NOW, cycle)
    threshold = timedelta(minutes=30) if kind is AlertKind.WARNING else None
    return RoutedDecision(AlertDecision(deadline, kind, threshold), "billing", "C0BILLING")


def test_upgrade_is_idempotent_and_reaches_head(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)

    assert current_revision(engine) == "0008_app_home"
    engine.dispose()


def test_items_round_trip_with_aware_utc_timestamps(store):
    original = item()
    store.upsert_items([original], now=NOW)

    loaded = store.get_item(original.ref)

    assert loaded == original
    assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(store):
    with pytest.raises(Exception, match="naive"):
        store.upsert_items([item(created_at=datetime(2026, 1, 1))], now=NOW)


def test_closing_an_item_removes_it_from_open_items(store):
    store.upsert_items([item(), item("ic:9001")], now=NOW)
    store.upsert_items([item(status="solved")], now=NOW)

    assert [str(i.ref) for i in store.open_items()] == ["ic:9001"]
    assert store.count_open(Source.ZENDESK) == 0


def test_recording_the_same_decision_twice_inserts_once(store):
    store.upsert_items([item()], now=NOW)

    first = store.record_decisions([decision()], now=NOW)
    second = store.record_decisions([decision()], now=NOW)

    assert len(first) == 1 and second == []
    decided = store.alerts_for_cycles([("zd:101", "first_reply_time", "c1")])
    assert [a.key for a in decided[("zd:101", "first_reply_time", "c1")]] == ["breach"]


def test_a_new_cycle_is_a_new_decision(store):
    store.upsert_items([item()], now=NOW)
    store.record_decisions([decision(cycle="c1")], now=NOW)

    assert len(store.record_decisions([decision(cycle="c2")], now=NOW)) == 1


def test_a_decision_and_its_outbox_row_are_written_together(store):
    store.upsert_items([item()], now=NOW)
    ((alert_id, _),) = store.record_decisions([decision()], now=NOW)
    store.record_decisions([decision()], now=NOW)  # deciding again adds nothing

    (row,) = OutboxStore(store.engine).due(now=NOW)
    assert (row.key, row.subject_id, row.channel, row.state) == (
        f"sla_alert:{alert_id}",
        alert_id,
        "C0BILLING",
        OutboxState.PENDING,
    )


def test_claim_is_exclusive_and_fenced_by_its_token(store):
    outbox = OutboxStore(store.engine)
    store.upsert_items([item()], now=NOW)
    store.record_decisions([decision()], now=NOW)
    lease = timedelta(minutes=3)

    (due,) = outbox.due(now=NOW)
    won, lost = outbox.claim(due, now=NOW, lease=lease), outbox.claim(due, now=NOW, lease=lease)
    assert won is not None and lost is None  # two workers saw the same row: one wins
    assert outbox.due(now=NOW + timedelta(minutes=1)) == []  # held while the lease runs

    (expired,) = outbox.due(now=NOW + timedelta(minutes=4))  # the holder died or hung
    taken_over = outbox.claim(expired, now=NOW + timedelta(minutes=4), lease=lease)
    assert taken_over is not None and taken_over.item.attempts == 2

    # The first holder wakes up: every write it tries is refused.
    assert not outbox.mark_sending(won, now=NOW, target={"channel": "C0BILLING"})
    assert not outbox.finish(won, state=OutboxState.POSTED, now=NOW, result={"ts": "1.000100"})
    assert not outbox.release(won, state=OutboxState.PENDING, retry_at=NOW, now=NOW, error="x")
    assert outbox.finish(taken_over, state=OutboxState.POSTED, now=NOW, result={"ts": "1.000200"})
    assert outbox.get(due.id).result == {"ts": "1.000200"}


def test_released_row_waits_for_its_retry_time(store):
    outbox = OutboxStore(store.engine)
    store.upsert_items([item()], now=NOW)
    store.record_decisions([decision()], now=NOW)
    (due,) = outbox.due(now=NOW)
    claim = outbox.claim(due, now=NOW, lease=timedelta(minutes=3))
    outbox.release(
        claim, state=OutboxState.PENDING, retry_at=NOW + timedelta(minutes=1), now=NOW, error="boom"
    )

    assert outbox.due(now=NOW + timedelta(seconds=59)) == []
    (again,) = outbox.due(now=NOW + timedelta(minutes=1))
    assert again.last_error == "boom" and not again.may_have_been_sent


def test_a_row_that_started_sending_may_have_been_sent(store):
    outbox = OutboxStore(store.engine)
    store.upsert_items([item()], now=NOW)
    store.record_decisions([decision()], now=NOW)
    (due,) = outbox.due(now=NOW)
    claim = outbox.claim(due, now=NOW, lease=timedelta(minutes=3))
    outbox.mark_sending(claim, now=NOW, target={"channel": "C0BILLING", "thread_ts": None})

    (stale,) = outbox.due(now=NOW + timedelta(minutes=4))
    assert stale.state == OutboxState.SENDING and stale.may_have_been_sent
    assert stale.first_sent_at == NOW and stale.result == {
        "target": {"channel": "C0BILLING", "thread_ts": None}
    }


def test_only_dead_rows_are_requeued(store):
    outbox = OutboxStore(store.engine)
    store.upsert_items([item()], now=NOW)
    store.record_decisions([decision()], now=NOW)
    (due,) = outbox.due(now=NOW)
    assert outbox.requeue(due.id, now=NOW) is None
    claim = outbox.claim(due, now=NOW, lease=timedelta(minutes=3))
    outbox.finish(claim, state=OutboxState.DEAD, now=NOW, error="channel_not_found")

    requeued = outbox.requeue(due.id, now=NOW + timedelta(hours=1))
    assert requeued.state == OutboxState.PENDING and requeued.attempts == 0 and requeued.last_error is None
    assert outbox.counts_by_state()[OutboxState.PENDING] == 1


def test_acknowledge_keeps_the_first_user(store):
    store.upsert_items([item()], now=NOW)
    ((alert_id, _),) = store.record_decisions([decision()], now=NOW)

    store.acknowledge(alert_id, user_id="U1", now=NOW)
    later = store.acknowledge(alert_id, user_id="U2", now=NOW + timedelta(minutes=1))

    assert later.acked_by == "U1" and later.acked_at == NOW


def test_posted_warning_is_found_for_threading(store):
    store.upsert_items([item()], now=NOW)
    ((warn_id, _),) = store.record_decisions([decision(kind=AlertKind.WARNING)], now=NOW)
    with store.engine.begin() as conn:
        store.alert_posted(
            conn, warn_id, channel="C0BILLING", ts="1700000000.000100", thread_ts=None, now=NOW
        )

    found = store.posted_warning(TicketRef.parse("zd:101"), "first_reply_time", "c1")

    assert found is not None and found.ts == "1700000000.000100"


def test_sync_page_and_cursor_are_saved_together(store):
    store.save_page(Source.ZENDESK, [item()], "cursor:abc", now=NOW)
    store.save_page(Source.ZENDESK, [], None, now=NOW)

    state = store.sync_state(Source.ZENDESK)
    assert state.cursor == "cursor:abc" and state.items_synced == 1
