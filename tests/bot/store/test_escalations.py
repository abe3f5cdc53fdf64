"""The escalation store on SQLite and PostgreSQL: lossless state, one winner per version, an audit trail
that only grows, timers read by index."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text
from sqlmodel import SQLModel

from bot.domain.escalation import (
    Accept,
    AckTimeout,
    EscalateFurther,
    Escalation,
    EscalationPolicy,
    InfoAdded,
    Reassign,
    RefusalCode,
    RequestInfo,
    ResolvedUpstream,
    Status,
    Tier,
    apply,
    open_escalation,
)
from bot.domain.model import Source, TicketRef
from bot.store.db import alembic_config, current_revision, make_engine, upgrade
from bot.store.escalations import EscalationStore, decode_state, encode_state
from bot.store.tables import EscalationEventRow

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
REF = TicketRef(Source.ZENDESK, "101")
POLICY = EscalationPolicy(
    tiers=(
        Tier("frontline"),
        Tier("payments", "C0PAY", ("U0A", "U0B"), ack_within=15 * MIN, repeat=1),
        Tier("compliance", "C0COMP", ("U0C",), ack_within=30 * MIN, due=4 * 60 * MIN),
    ),
    reasons=("chargeback", "kyc"),
    managers=frozenset({"U0MGR"}),
)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine):
    return EscalationStore(engine)


def opened(chain: str = "ch1", at: datetime = NOW, tier: int = 1):
    return open_escalation(
        POLICY, chain=chain, ref=REF, reason="chargeback", note="card stolen", by="U0AGENT", at=at, tier=tier
    )


def all_events(engine) -> list[dict]:
    table = EscalationEventRow.__table__
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(table).order_by(table.c.id)).mappings()]


# -- schema --------------------------------------------------------------------------------------------
def test_migrations_match_the_tables_and_downgrade_cleanly(engine):
    assert current_revision(engine) == "0008_app_home"
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == []

    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003_deadlines")
    assert not {"escalations", "escalation_events"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == "0008_app_home"


# -- serialisation -------------------------------------------------------------------------------------
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))])
WHEN = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=ZONES)
SPAN = st.timedeltas(timedelta(0), timedelta(days=400))
REFS = st.builds(TicketRef, st.sampled_from(list(Source)), st.from_regex(r"[1-9][0-9]{0,11}", fullmatch=True))
# Ids stored in plain columns: PostgreSQL text cannot hold NUL, no UTF-8 column a lone surrogate, and
# chains, Slack ids and refs never do (free text such as the note lives in the JSON state).
IDS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
ESCALATIONS = st.builds(
    Escalation,
    chain=st.text(IDS, min_size=1, max_size=64),
    ref=REFS,
    reason=st.text(),
    note=st.text(),
    opened_by=st.text(IDS, max_size=32),
    tier=st.integers(0, 10),
    opened_at=WHEN,
    status=st.sampled_from(list(Status)),
    owner=st.none() | st.text(IDS, max_size=32),
    accepted_at=st.none() | WHEN,
    resolved_at=st.none() | WHEN,
    pings=st.integers(0, 1000),
    rr_next=st.integers(0, 1000),
    ack_deadline=st.none() | WHEN,
    ack_left=st.none() | SPAN,
    question=st.none() | st.text(),
    due_at=st.none() | WHEN,
    due_warn_at=st.none() | WHEN,
    due_warned=st.booleans(),
    due_alerted=st.booleans(),
)


@given(ESCALATIONS)
def test_state_survives_json_exactly(state):
    decoded = decode_state(json.loads(json.dumps(encode_state(state))))

    assert decoded == state
    assert decoded.opened_at.utcoffset() == timedelta(0)
    assert type(decoded.status) is Status and type(decoded.ref) is TicketRef


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=ESCALATIONS, n=st.integers())
def test_state_survives_the_database_exactly(store, state, n):
    state = replace(state, chain=f"{n}-{state.chain}"[:64])
    if store.get_by_chain_tier(state.chain, state.tier) is not None:
        return
    row_id = store.create(state, now=NOW)

    assert store.get(row_id).state == state
    assert store.get_by_chain_tier(state.chain, state.tier).state == state


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        encode_state(replace(opened().state, opened_at=datetime(2026, 1, 1)))


# -- create, save, concurrency -------------------------------------------------------------------------
def test_create_writes_version_1_timer_and_opening_event_once(store, engine):
    t = opened()
    row_id = store.create(t.state, now=NOW, events=t.audit, channel="C0PAY")
    again = store.create(t.state, now=NOW, events=t.audit)

    row = store.get(row_id)
    assert again == row_id and row.version == 1 and row.channel == "C0PAY"
    assert row.next_timer_at == NOW + 15 * MIN
    assert [e["kind"] for e in all_events(engine)] == ["opened"]


def test_of_two_saves_from_the_same_version_one_wins_and_the_loser_writes_nothing(store, engine):
    row_id = store.create(opened().state, now=NOW)
    loaded = store.get(row_id)
    first = apply(loaded.state, Accept("U0A", NOW + MIN), POLICY)
    second = apply(loaded.state, Accept("U0B", NOW + MIN), POLICY)

    assert store.save(row_id, first.state, expected_version=1, events=first.audit, now=NOW + MIN)
    assert not store.save(row_id, second.state, expected_version=1, events=second.audit, now=NOW + MIN)

    row = store.get(row_id)
    assert row.version == 2 and row.state.owner == "U0A" and row.next_timer_at is None
    assert [(e["kind"], e["actor"]) for e in all_events(engine)] == [("accepted", "U0A")]


def test_two_concurrent_accepts_give_one_owner(store, engine):
    row_id = store.create(opened().state, now=NOW)
    loaded = store.get(row_id)
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def press(user: str) -> None:
        t = apply(loaded.state, Accept(user, NOW + MIN), POLICY)
        barrier.wait()
        results[user] = store.save(
            row_id, t.state, expected_version=loaded.version, events=t.audit, now=NOW + MIN
        )

    threads = [threading.Thread(target=press, args=(user,)) for user in ("U0A", "U0B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results.values()) == [False, True]
    winner = next(user for user, won in results.items() if won)
    loser = next(user for user, won in results.items() if not won)
    reloaded = store.get(row_id)
    assert reloaded.state.owner == winner
    retry = apply(reloaded.state, Accept(loser, NOW + MIN), POLICY)
    assert retry.refusal.code is RefusalCode.ALREADY_ACCEPTED and winner in retry.refusal.message
    store.append_events(row_id, retry.audit, now=NOW + MIN)
    assert [(e["kind"], e["actor"]) for e in all_events(engine)] == [("accepted", winner), ("refused", loser)]


def test_a_failed_save_inside_the_callers_transaction_leaves_nothing(store, engine):
    row_id = store.create(opened().state, now=NOW)
    t = apply(store.get(row_id).state, Accept("U0A", NOW), POLICY)
    with engine.begin() as conn:
        assert not store.save(row_id, t.state, expected_version=7, events=t.audit, now=NOW, conn=conn)
    assert store.get(row_id).version == 1 and all_events(engine) == []


def test_record_message_keeps_the_first_post_and_the_version(store):
    row_id = store.create(opened().state, now=NOW)

    assert store.record_message(row_id, channel="C0PAY", ts="1.1", now=NOW)
    assert not store.record_message(row_id, channel="C0PAY", ts="2.2", now=NOW)
    row = store.get(row_id)
    assert (row.message_ts, row.version) == ("1.1", 1)


# -- the audit trail -----------------------------------------------------------------------------------
def test_the_audit_trail_only_grows_through_a_whole_chain(store, engine):
    """Every step of a chain through the store: after each, the earlier rows are unchanged (no update or
    delete path exists) and exactly that step's events were added, in time order."""
    t = opened()
    ids = {1: store.create(t.state, now=NOW, events=t.audit)}
    expected = list(t.audit)
    snapshot = all_events(engine)
    steps = [
        (1, RequestInfo("U0A", "which card?", NOW + MIN)),
        (1, InfoAdded("U0AGENT", "the visa", NOW + 2 * MIN)),
        (1, Accept("U0X", NOW + 3 * MIN)),  # refused: not a responder
        (1, AckTimeout(NOW + 30 * MIN)),  # re-ping
        (1, AckTimeout(NOW + 60 * MIN)),  # auto-escalate to compliance
        (2, Accept("U0C", NOW + 61 * MIN)),
        (2, Reassign("U0MGR", "U0C", NOW + 62 * MIN)),  # refused: already the owner
        (2, EscalateFurther("U0C", "more", NOW + 63 * MIN)),  # refused: last tier
        (2, ResolvedUpstream(NOW + 90 * MIN)),
        (1, ResolvedUpstream(NOW + 91 * MIN)),  # closed: nothing happens
    ]
    for tier, event in steps:
        row = store.get(ids[tier])
        t = apply(row.state, event, POLICY)
        if t.refusal is not None:
            store.append_events(row.id, t.audit, now=event.at)
        else:
            assert store.save(row.id, t.state, expected_version=row.version, events=t.audit, now=event.at)
        if t.successor is not None:
            ids[t.successor.tier] = store.create(t.successor, now=event.at)
        expected += t.audit
        now_rows = all_events(engine)
        assert now_rows[: len(snapshot)] == snapshot
        assert len(now_rows) == len(expected)
        snapshot = now_rows

    exported = list(store.events(chunk=3))
    assert [(e.tier, e.kind, e.actor, e.at) for e in exported] == [
        (a.tier, a.kind, a.actor, a.at) for a in expected
    ]
    assert [e.kind for e in exported] == [
        "opened",
        "info_requested",
        "info_added",
        "refused",
        "re_pinged",
        "auto_escalated",
        "accepted",
        "refused",
        "refused",
        "resolved",
    ]
    assert {e.ref for e in exported} == {"zd:101"}
    assert store.get(ids[1]).state.status is Status.ESCALATED
    assert [e.kind for e in store.events_of(ids[2])][-1] == "resolved"


def test_events_page_in_time_then_insertion_order_and_filter_by_since(store):
    t = opened()
    row_id = store.create(t.state, now=NOW)
    base = t.audit[0]
    times = [NOW + 2 * MIN, NOW, NOW + MIN, NOW, NOW + 2 * MIN, NOW + MIN, NOW]
    store.append_events(
        row_id, [replace(base, at=at, details={"n": i}) for i, at in enumerate(times)], now=NOW
    )

    listed = [(e.at, e.details["n"]) for e in store.events(chunk=2)]
    assert listed == sorted(listed) and len(listed) == len(times)
    assert [e.details["n"] for e in store.events(since=NOW + MIN, chunk=2)] == [2, 5, 0, 4]
    assert list(store.events(since=NOW + 3 * MIN)) == []


# -- timers --------------------------------------------------------------------------------------------
def test_due_timers_selects_only_due_rows_earliest_first(store, engine):
    ids = {}
    for i, chain in enumerate(["a", "b", "c", "d"]):
        t = opened(chain, at=NOW + i * 10 * MIN)  # timers at +15, +25, +35, +45 minutes
        ids[chain] = store.create(t.state, now=t.state.opened_at)
    accepted = apply(store.get(ids["a"]).state, Accept("U0A", NOW + MIN), POLICY)
    store.save(ids["a"], accepted.state, expected_version=1, events=accepted.audit, now=NOW + MIN)

    due = store.due_timers(NOW + 35 * MIN)
    assert [row.state.chain for row in due] == ["b", "c"]
    assert [row.next_timer_at for row in due] == [NOW + 25 * MIN, NOW + 35 * MIN]
    assert [row.state.chain for row in store.due_timers(NOW + 60 * MIN, limit=1)] == ["b"]
    assert store.due_timers(NOW + 20 * MIN) == []

    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            plan = conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM escalations WHERE next_timer_at IS NOT NULL "
                    "AND next_timer_at <= :now ORDER BY next_timer_at, id LIMIT 10"
                ),
                {"now": "2026-11-23 16:00:00"},
            ).all()
        assert any("ix_escalations_next_timer_at" in str(row) for row in plan)


def test_a_timer_handled_twice_changes_the_state_once(store, engine):
    """Two scheduler passes (or replicas) picking up the same due row: the second save loses."""
    row_id = store.create(opened().state, now=NOW)
    at = NOW + 15 * MIN
    picked = [store.due_timers(at)[0], store.due_timers(at)[0]]
    outcomes = []
    for row in picked:
        t = apply(row.state, AckTimeout(at), POLICY)
        outcomes.append(store.save(row.id, t.state, expected_version=row.version, events=t.audit, now=at))

    assert outcomes == [True, False]
    assert store.get(row_id).state.pings == 1
    assert [e["kind"] for e in all_events(engine)] == ["re_pinged"]
