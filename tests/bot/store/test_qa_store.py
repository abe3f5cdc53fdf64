"""The QA store on SQLite and PostgreSQL: rubric versions kept, optimistic edits, blind calibration scores
one per reviewer, one dispute per review decided once, idempotent samples, an audit log that only grows."""

from __future__ import annotations

import inspect as pyinspect
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlmodel import SQLModel

import bot.store.qa as qa_module
import bot.store.qa_rows as qa_rows_module
import bot.store.qa_workflow as qa_workflow_module
from bot.domain.model import TicketRef
from bot.domain.qa_types import Category, Rubric, ScoreResult
from bot.store.db import alembic_config, current_revision, make_engine, upgrade
from bot.store.qa import QaStore
from bot.store.tables import QaEventRow

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
REF = TicketRef.parse("zd:101")
RUBRIC = Rubric(
    scale=5,
    pass_mark=80,
    categories=(
        Category("accuracy", "Correct resolution", 3),
        Category("empathy", "Empathy and tone", 2),
        Category("process", "Followed process", 2),
        Category("compliance", "Compliance (KYC/PCI)", 3, critical=True),
    ),
)
SCORES = {"accuracy": 4, "empathy": 5, "process": 3, "compliance": 5}
RESULT = ScoreResult(percent=86.0, passed=True, critical_failed=(), rated=4)
FAILED = ScoreResult(percent=0.0, passed=False, critical_failed=("compliance",), rated=3)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine):
    return QaStore(engine)


@pytest.fixture
def rubric_id(store):
    return store.ensure_rubric(RUBRIC, now=NOW)


def review(store, rubric_id, *, agent="U0AGENT", at=NOW, ref=REF, scores=SCORES, result=RESULT, **kw):
    return store.add_review(
        reviewer=kw.pop("reviewer", "U0MGR"),
        agent=agent,
        agent_email=kw.pop("agent_email", "agent@example.com"),
        ref=ref,
        rubric_id=rubric_id,
        scores=scores,
        result=result,
        comment=kw.pop("comment", "good"),
        coaching=kw.pop("coaching", "keep going"),
        now=at,
        **kw,
    )


def all_events(engine) -> list[dict]:
    table = QaEventRow.__table__
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(table).order_by(table.c.id)).mappings()]


def kinds(engine) -> list[str]:
    return [e["kind"] for e in all_events(engine)]


# -- schema --------------------------------------------------------------------------------------------
def test_migration_matches_the_tables_and_downgrades_cleanly(engine):
    assert current_revision(engine) == "0008_app_home"
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == []
    qa_tables = {"qa_rubrics", "qa_reviews", "qa_events", "qa_calibrations", "qa_disputes", "qa_samples"}
    assert qa_tables <= set(inspect(engine).get_table_names())

    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005_escalation_context")
    names = set(inspect(engine).get_table_names())
    assert not qa_tables & names and {"escalations", "escalation_events"} <= names
    upgrade(engine)
    assert current_revision(engine) == "0008_app_home"


# -- rubrics ---------------------------------------------------------------------------------------------
def test_ensure_rubric_is_idempotent_by_version_and_a_change_makes_a_new_row(store, engine):
    first = store.ensure_rubric(RUBRIC, now=NOW)
    heavier = Rubric(5, 80, (Category("accuracy", "Correct resolution", 4), *RUBRIC.categories[1:]))

    assert store.ensure_rubric(RUBRIC, now=NOW + HOUR) == first
    second = store.ensure_rubric(heavier, now=NOW + HOUR)
    assert second != first
    fresh = QaStore(engine)  # nothing cached: decoded from the rows
    assert fresh.rubric(first) == RUBRIC and fresh.rubric(first).version == RUBRIC.version
    assert fresh.rubric(second) == heavier
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM qa_rubrics")).scalar() == 2


def test_old_reviews_keep_the_rubric_version_they_were_scored_with(store, rubric_id):
    old = review(store, rubric_id)
    lighter = Rubric(5, 70, RUBRIC.categories[:3])
    new = review(
        store, store.ensure_rubric(lighter, now=NOW), scores={"accuracy": 5, "empathy": 5, "process": 5}
    )

    assert store.get_review(old).rubric == RUBRIC
    assert store.get_review(new).rubric == lighter
    assert store.rubrics_used() == [RUBRIC, lighter]
    assert store.rubrics_used(since=NOW + HOUR) == []


# -- reviews ---------------------------------------------------------------------------------------------
def test_add_review_round_trips_every_field_and_audits_it(store, rubric_id, engine):
    scores = {"accuracy": 1, "empathy": None, "process": 3, "compliance": 1}
    review_id = review(store, rubric_id, scores=scores, result=FAILED, comment='a "quote", ünïcode')

    got = store.get_review(review_id)
    assert (got.kind, got.calibration_id, got.reviewer, got.agent) == ("review", None, "U0MGR", "U0AGENT")
    assert (got.agent_email, got.ref, got.rubric_id, got.rubric) == (
        "agent@example.com",
        REF,
        rubric_id,
        RUBRIC,
    )
    assert got.scores == scores and list(got.scores) == list(scores)
    assert got.result == FAILED
    assert (got.comment, got.coaching) == ('a "quote", ünïcode', "keep going")
    assert (got.dispute_state, got.version, got.created_at, got.edited_at) == (None, 1, NOW, None)
    assert got.created_at.tzinfo is not None and got.record.result == FAILED
    assert store.get_review(review_id + 100) is None
    (event,) = all_events(engine)
    assert (event["kind"], event["actor"], event["review_id"], event["at"]) == (
        "review_created",
        "U0MGR",
        review_id,
        NOW,
    )
    assert event["details"]["scores"] == scores and event["details"]["critical_failed"] == ["compliance"]


def test_add_review_refuses_a_kind_that_does_not_match_the_calibration(store, rubric_id):
    with pytest.raises(ValueError):
        review(store, rubric_id, kind="calibration")
    with pytest.raises(ValueError):
        review(store, rubric_id, kind="peer")


def test_edit_review_is_conditional_on_the_version_and_audits_before_and_after(store, rubric_id, engine):
    review_id = review(store, rubric_id)
    changed = {**SCORES, "empathy": 3}
    lower = ScoreResult(78.0, False, (), 4)

    def edit(version, scores=changed, result=lower):
        return store.edit_review(
            review_id,
            by="U0MGR",
            scores=scores,
            result=result,
            comment="tone",
            coaching="",
            now=NOW + HOUR,
            expected_version=version,
        )

    assert edit(1)
    assert not edit(1, scores=SCORES, result=RESULT)  # stale: someone edited first
    got = store.get_review(review_id)
    assert (got.scores, got.result, got.comment, got.version) == (changed, lower, "tone", 2)
    assert (got.created_at, got.edited_at) == (NOW, NOW + HOUR)
    assert kinds(engine) == ["review_created", "review_edited"]
    details = all_events(engine)[1]["details"]
    assert details["before"]["scores"] == SCORES and details["after"]["scores"] == changed
    assert (details["before"]["percent"], details["after"]["percent"], details["version"]) == (86.0, 78.0, 2)
    assert not store.edit_review(
        review_id + 100,
        by="U0MGR",
        scores=SCORES,
        result=RESULT,
        comment="",
        coaching="",
        now=NOW,
        expected_version=1,
    )


def test_two_concurrent_edits_from_the_same_version_give_one_winner(store, rubric_id, engine):
    review_id = review(store, rubric_id)
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def edit(by: str, empathy: int) -> None:
        barrier.wait()
        results[by] = store.edit_review(
            review_id,
            by=by,
            scores={**SCORES, "empathy": empathy},
            result=RESULT,
            comment=by,
            coaching="",
            now=NOW + HOUR,
            expected_version=1,
        )

    threads = [threading.Thread(target=edit, args=args) for args in (("U0A", 1), ("U0B", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results.values()) == [False, True]
    winner = next(by for by, won in results.items() if won)
    got = store.get_review(review_id)
    assert (got.comment, got.version) == (winner, 2)
    assert [(e["kind"], e["actor"]) for e in all_events(engine)][1:] == [("review_edited", winner)]


def test_a_failed_caller_transaction_leaves_no_review_and_no_event(store, rubric_id, engine):
    with pytest.raises(RuntimeError), engine.begin() as conn:
        review(store, rubric_id, conn=conn)
        raise RuntimeError("boom")
    assert store.reviews() == [] and all_events(engine) == []


def test_reviews_filter_by_agent_time_and_kind_oldest_first(store, rubric_id):
    a1 = review(store, rubric_id, agent="U0A", at=NOW + 2 * HOUR)
    b1 = review(store, rubric_id, agent="U0B", at=NOW)
    a2 = review(store, rubric_id, agent="U0A", at=NOW + HOUR)
    a3 = review(store, rubric_id, agent="U0A", at=NOW + HOUR)  # same instant: insertion order
    cal = store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + 48 * HOUR, now=NOW)
    store.add_calibration_score(
        cal, reviewer="U0MGR", agent="U0A", rubric_id=rubric_id, scores=SCORES, result=RESULT, now=NOW + HOUR
    )

    assert [r.id for r in store.reviews()] == [b1, a2, a3, a1]
    assert [r.id for r in store.reviews(agent="U0A")] == [a2, a3, a1]
    assert [r.id for r in store.reviews(agent="U0A", since=NOW + HOUR, until=NOW + 2 * HOUR)] == [a2, a3]
    assert [r.id for r in store.reviews(kind="calibration")] == [store.calibration_scores(cal)[0].id]
    assert [r.id for r in store.iter_reviews(chunk=1)] == [b1, a2, a3, a1]
    assert [r.id for r in store.iter_reviews(since=NOW + HOUR, chunk=2)] == [a2, a3, a1]


def test_reviews_of_an_agent_are_read_through_the_agent_index(store, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite")
    with engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM qa_reviews WHERE kind = 'review' AND agent = 'U0A' "
                "AND created_at >= '2026-11-01' ORDER BY created_at, id"
            )
        ).all()
    assert any("ix_qa_reviews_agent_created" in str(row) for row in plan)


# -- calibrations ----------------------------------------------------------------------------------------
def score(store, cal, rubric_id, reviewer, scores=SCORES, at=NOW + HOUR):
    return store.add_calibration_score(
        cal, reviewer=reviewer, agent="U0AGENT", rubric_id=rubric_id, scores=scores, result=RESULT, now=at
    )


def test_a_calibration_keeps_one_score_per_reviewer_and_a_rescore_replaces_it(store, rubric_id, engine):
    cal = store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + 48 * HOUR, now=NOW)
    first = score(store, cal, rubric_id, "U0R1")
    other = score(store, cal, rubric_id, "U0R2", scores={**SCORES, "process": 1})
    again = score(store, cal, rubric_id, "U0R1", scores={**SCORES, "accuracy": 2}, at=NOW + 2 * HOUR)

    assert again == first and other != first
    scored = store.calibration_scores(cal)
    assert [(r.reviewer, r.scores["accuracy"], r.version) for r in scored] == [("U0R1", 2, 2), ("U0R2", 4, 1)]
    assert {(r.kind, r.calibration_id, r.ref) for r in scored} == {("calibration", cal, REF)}
    assert scored[0].edited_at == NOW + 2 * HOUR
    assert store.reviews() == []  # calibration scores never count as reviews
    assert kinds(engine) == [
        "calibration_opened",
        "calibration_scored",
        "calibration_scored",
        "calibration_rescored",
    ]
    rescored = all_events(engine)[-1]
    assert (rescored["review_id"], rescored["calibration_id"], rescored["actor"]) == (first, cal, "U0R1")
    assert rescored["details"]["before"]["scores"]["accuracy"] == 4
    assert rescored["details"]["after"]["scores"]["accuracy"] == 2


def test_calibration_fields_message_and_closing_once(store, rubric_id, engine):
    cal = store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + 48 * HOUR, now=NOW)
    assert store.record_calibration_message(cal, "C0QA", "1.1")
    assert not store.record_calibration_message(cal, "C0QA", "2.2")
    got = store.calibration(cal)
    assert (got.ref, got.owner, got.channel, got.message_ts, got.status) == (
        REF,
        "U0MGR",
        "C0QA",
        "1.1",
        "open",
    )
    assert (got.opened_at, got.closes_at, got.closed_at, got.closed_by) == (NOW, NOW + 48 * HOUR, None, None)

    assert store.close_calibration(cal, by="U0MGR", now=NOW + 3 * HOUR)
    assert not store.close_calibration(cal, by=None, now=NOW + 49 * HOUR)
    got = store.calibration(cal)
    assert (got.status, got.closed_at, got.closed_by) == ("closed", NOW + 3 * HOUR, "U0MGR")
    assert score(store, cal, rubric_id, "U0R1", at=NOW + 4 * HOUR) is None  # closed: nothing written
    assert store.calibration_scores(cal) == [] and store.calibration(cal + 100) is None
    assert kinds(engine) == ["calibration_opened", "calibration_closed"]


def test_no_score_after_the_window_or_on_an_unknown_session(store, rubric_id):
    cal = store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + 48 * HOUR, now=NOW)

    assert score(store, cal, rubric_id, "U0R1", at=NOW + 48 * HOUR) is None
    assert score(store, cal + 100, rubric_id, "U0R1") is None
    assert store.calibration_scores(cal) == []


def test_two_concurrent_first_scores_by_one_reviewer_leave_one_row(store, rubric_id, engine):
    """The session row is written first, so the second scorer waits and then sees the first score."""
    cal = store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + 48 * HOUR, now=NOW)
    barrier = threading.Barrier(2)
    results: list[int | None] = []

    def press(accuracy: int) -> None:
        barrier.wait()
        results.append(score(store, cal, rubric_id, "U0R1", scores={**SCORES, "accuracy": accuracy}))

    threads = [threading.Thread(target=press, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    (only,) = store.calibration_scores(cal)
    assert results == [only.id, only.id] and only.version == 2
    assert sorted(kinds(engine)[1:]) == ["calibration_rescored", "calibration_scored"]


def test_due_and_closed_calibrations(store):
    ids = [
        store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + n * HOUR, now=NOW)
        for n in (3, 1, 2, 9)
    ]
    assert [c.id for c in store.due_calibrations(NOW + 2 * HOUR)] == [ids[1], ids[2]]
    assert [c.id for c in store.due_calibrations(NOW + 5 * HOUR, limit=1)] == [ids[1]]

    for n, cal in enumerate(ids[:3]):
        assert store.close_calibration(cal, by=None, now=NOW + (5 - n) * HOUR)
    assert store.due_calibrations(NOW + 5 * HOUR) == []
    assert [c.id for c in store.closed_calibrations(limit=2)] == [ids[0], ids[1]]
    assert [c.id for c in store.closed_calibrations()] == [ids[0], ids[1], ids[2]]


# -- disputes ------------------------------------------------------------------------------------------
def test_one_dispute_per_review_decided_once(store, rubric_id, engine):
    review_id = review(store, rubric_id)
    dispute_id = store.open_dispute(review_id, agent="U0AGENT", reason="I followed the macro", now=NOW + HOUR)

    assert dispute_id is not None
    assert store.open_dispute(review_id, agent="U0AGENT", reason="again", now=NOW + 2 * HOUR) is None
    assert store.get_review(review_id).dispute_state == "open"
    opened = store.dispute(dispute_id)
    assert (opened.review_id, opened.agent, opened.reason, opened.state) == (
        review_id,
        "U0AGENT",
        "I followed the macro",
        "open",
    )
    assert (opened.decided_by, opened.decided_at, opened.note, opened.created_at) == (
        None,
        None,
        "",
        NOW + HOUR,
    )

    assert store.decide_dispute(
        dispute_id, by="U0MGR", outcome="rejected", note="see step 3", now=NOW + 3 * HOUR
    )
    assert not store.decide_dispute(dispute_id, by="U0MGR", outcome="accepted", note="", now=NOW + 4 * HOUR)
    decided = store.dispute_for_review(review_id)
    assert (decided.id, decided.state, decided.decided_by) == (dispute_id, "rejected", "U0MGR")
    assert (decided.decided_at, decided.note) == (NOW + 3 * HOUR, "see step 3")
    assert store.get_review(review_id).dispute_state == "rejected"
    assert store.get_review(review_id).version == 1  # a dispute is not a score change
    assert [(e["kind"], e["actor"], e["dispute_id"]) for e in all_events(engine)][1:] == [
        ("dispute_opened", "U0AGENT", dispute_id),
        ("dispute_rejected", "U0MGR", dispute_id),
    ]
    assert store.dispute(dispute_id + 100) is None and store.dispute_for_review(review_id + 100) is None


@pytest.mark.parametrize("outcome", ["accepted", "rescored"])
def test_every_outcome_marks_the_review(store, rubric_id, outcome):
    review_id = review(store, rubric_id)
    dispute_id = store.open_dispute(review_id, agent="U0AGENT", reason="why", now=NOW)

    assert store.decide_dispute(dispute_id, by="U0MGR", outcome=outcome, note="ok", now=NOW)
    assert store.get_review(review_id).dispute_state == outcome


def test_bad_outcomes_states_and_calibration_disputes_are_refused(store, rubric_id):
    review_id = review(store, rubric_id)
    dispute_id = store.open_dispute(review_id, agent="U0AGENT", reason="why", now=NOW)
    cal = store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + HOUR, now=NOW)
    cal_score = score(store, cal, rubric_id, "U0R1", at=NOW)

    with pytest.raises(ValueError, match="accepted, rejected, rescored"):
        store.decide_dispute(dispute_id, by="U0MGR", outcome="open", note="", now=NOW)
    with pytest.raises(ValueError):
        store.set_dispute_state(review_id, "lost")
    with pytest.raises(ValueError):
        store.open_dispute(cal_score, agent="U0AGENT", reason="", now=NOW)
    with pytest.raises(ValueError):
        store.open_dispute(review_id + 100, agent="U0AGENT", reason="", now=NOW)
    assert store.set_dispute_state(review_id, None) and store.get_review(review_id).dispute_state is None


def test_two_concurrent_disputes_of_one_review_open_one(store, rubric_id):
    review_id = review(store, rubric_id)
    barrier = threading.Barrier(2)
    results: list[int | None] = []

    def dispute(reason: str) -> None:
        barrier.wait()
        results.append(store.open_dispute(review_id, agent="U0AGENT", reason=reason, now=NOW))

    threads = [threading.Thread(target=dispute, args=(reason,)) for reason in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results, key=lambda r: r is None)[1] is None
    assert [r for r in results if r is not None] == [store.dispute_for_review(review_id).id]


# -- samples ---------------------------------------------------------------------------------------------
WEEK = date(2026, 11, 23)


def test_assign_samples_is_idempotent_and_the_queue_empties_as_reviews_arrive(store, rubric_id, engine):
    refs = [TicketRef.parse(f"zd:{n}") for n in (1, 2, 3)]
    rows = [("U0R1", "U0A", refs[0], WEEK), ("U0R1", "U0A", refs[1], WEEK), ("U0R2", "U0B", refs[2], WEEK)]

    assert store.assign_samples(rows + rows[:1], now=NOW) == 3
    assert store.assign_samples(rows, now=NOW + HOUR) == 0
    assert store.assign_samples([("U0R1", "U0A", refs[0], WEEK + timedelta(days=7))], now=NOW) == 1
    queue = store.open_samples("U0R1")
    assert [(s.ref, s.week_start, s.agent, s.review_id) for s in queue] == [
        (refs[0], WEEK, "U0A", None),
        (refs[1], WEEK, "U0A", None),
        (refs[0], WEEK + timedelta(days=7), "U0A", None),
    ]
    assert queue[0].assigned_at == NOW and store.sampled_weeks("U0R2") == {WEEK}
    assert store.sampled_weeks() == {WEEK, WEEK + timedelta(days=7)} and store.sampled_weeks("U0X") == set()

    review_id = review(store, rubric_id, ref=refs[0], reviewer="U0R1")
    assert store.mark_sampled_done("U0R1", refs[0], review_id) == 2
    assert store.mark_sampled_done("U0R1", refs[0], review_id) == 0
    assert [s.ref for s in store.open_samples("U0R1")] == [refs[1]]
    assigned = [e["details"] for e in all_events(engine) if e["kind"] == "samples_assigned"]
    assert assigned == [
        {"reviewer": "U0R1", "week_start": "2026-11-23", "refs": ["zd:1", "zd:2"]},
        {"reviewer": "U0R2", "week_start": "2026-11-23", "refs": ["zd:3"]},
        {"reviewer": "U0R1", "week_start": "2026-11-30", "refs": ["zd:1"]},
    ]


def test_assign_samples_in_many_batches(store):
    rows = [("U0R1", "U0A", TicketRef.parse(f"ic:{n}"), WEEK) for n in range(1, 251)]

    assert store.assign_samples(rows, now=NOW) == 250
    assert store.assign_samples(rows, now=NOW) == 0
    assert len(store.open_samples("U0R1")) == 250


# -- the audit log ---------------------------------------------------------------------------------------
def test_the_audit_log_only_grows_through_every_kind_of_change(store, rubric_id, engine):
    """After each step the earlier audit rows are unchanged and exactly that step's event was added."""
    snapshot: list[dict] = []
    ids: dict[str, int] = {}

    def step(expected_kind: str, action) -> None:
        nonlocal snapshot
        action()
        rows = all_events(engine)
        assert rows[: len(snapshot)] == snapshot
        assert [r["kind"] for r in rows[len(snapshot) :]] == [expected_kind]
        snapshot = rows

    step("review_created", lambda: ids.update(review=review(store, rubric_id)))
    step(
        "review_edited",
        lambda: store.edit_review(
            ids["review"],
            by="U0MGR",
            scores=SCORES,
            result=RESULT,
            comment="x",
            coaching="",
            now=NOW,
            expected_version=1,
        ),
    )
    step(
        "dispute_opened",
        lambda: ids.update(d=store.open_dispute(ids["review"], agent="U0A", reason="r", now=NOW)),
    )
    step(
        "dispute_accepted",
        lambda: store.decide_dispute(ids["d"], by="U0MGR", outcome="accepted", note="", now=NOW),
    )
    step(
        "calibration_opened",
        lambda: ids.update(c=store.open_calibration(ref=REF, owner="U0MGR", closes_at=NOW + HOUR, now=NOW)),
    )
    step("calibration_scored", lambda: score(store, ids["c"], rubric_id, "U0R1", at=NOW))
    step("calibration_rescored", lambda: score(store, ids["c"], rubric_id, "U0R1", at=NOW))
    step("calibration_closed", lambda: store.close_calibration(ids["c"], by="U0MGR", now=NOW))
    step("samples_assigned", lambda: store.assign_samples([("U0R1", "U0A", REF, WEEK)], now=NOW))

    assert [e.kind for e in store.events(chunk=2)] == [r["kind"] for r in snapshot]


def test_no_statement_in_the_qa_store_changes_or_deletes_audit_rows():
    for module in (qa_module, qa_rows_module, qa_workflow_module):
        source = pyinspect.getsource(module)
        assert "update(V)" not in source and "delete(" not in source and "V.update" not in source


def test_events_page_in_time_then_insertion_order_and_filter_by_since(store, rubric_id):
    times = [NOW + 2 * HOUR, NOW, NOW + HOUR, NOW, NOW + 2 * HOUR, NOW + HOUR, NOW]
    ids = [review(store, rubric_id, at=at) for at in times]

    listed = [(e.at, e.review_id) for e in store.events(chunk=2)]
    assert listed == sorted(listed) and len(listed) == len(times)
    assert [e.review_id for e in store.events(since=NOW + HOUR, chunk=2)] == [ids[2], ids[5], ids[0], ids[4]]
    assert list(store.events(since=NOW + 3 * HOUR)) == []
    first = next(store.events())
    assert (first.kind, first.actor, first.calibration_id, first.dispute_id) == (
        "review_created",
        "U0MGR",
        None,
        None,
    )
    assert first.created_at == NOW and first.details["ref"] == "zd:101"
