"""`deskwatch qa export`: one row per review as CSV or JSON, a column per category of every rubric version
used, filtered by day, with clear errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import cli
from bot.domain.model import TicketRef
from bot.domain.qa_types import Category, Rubric, ScoreResult
from bot.store.db import make_engine, upgrade
from bot.store.qa import QaStore
from integrations.emulators.seed import DEMO_CONFIG
from tests.bot.store.test_qa_store import RESULT, RUBRIC, SCORES

runner = CliRunner()
DAY1 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
LIGHTER = Rubric(5, 70, (Category("accuracy", "Correct resolution", 3), Category("tone", "Tone", 1)))
HEADER = [
    "reviewer",
    "agent",
    "agent_email",
    "ref",
    "rubric_version",
    "accuracy",
    "empathy",
    "process",
    "compliance",
    "tone",
    "score_percent",
    "passed",
    "critical_failed",
    "comment",
    "dispute_state",
    "created_at",
    "edited_at",
]


@pytest.fixture
def env(tmp_path, database_url):
    config = tmp_path / "deskwatch.yaml"
    config.write_text(yaml.safe_dump(DEMO_CONFIG))
    return {"DESKWATCH_CONFIG": str(config), "DATABASE_URL": database_url}


def add(store, rubric_id, *, at, agent="U0A", email="a@example.com", ref="zd:101", scores=SCORES, **kw):
    return store.add_review(
        reviewer="U0MGR",
        agent=agent,
        agent_email=email,
        ref=TicketRef.parse(ref),
        rubric_id=rubric_id,
        scores=scores,
        result=kw.pop("result", RESULT),
        comment=kw.pop("comment", ""),
        coaching="private coaching note",
        now=at,
        **kw,
    )


@pytest.fixture
def seeded(database_url):
    """Day 1: a passing review, and a critical fail with an n/a that was disputed, rejected and edited.
    Day 2: a review on a later rubric version. A calibration score on day 1 is not a review."""
    engine = make_engine(database_url)
    upgrade(engine)
    store = QaStore(engine)
    v1 = store.ensure_rubric(RUBRIC, now=DAY1)
    add(store, v1, at=DAY1, comment='clear, and "kind"')
    failed = {"accuracy": 4, "empathy": None, "process": 3, "compliance": 1}
    zero = ScoreResult(0.0, False, ("compliance",), 3)
    second = add(store, v1, at=DAY1 + timedelta(hours=1), ref="ic:77", scores=failed, result=zero)
    dispute = store.open_dispute(second, agent="U0A", reason="KYC was done", now=DAY2)
    store.decide_dispute(dispute, by="U0MGR", outcome="rejected", note="", now=DAY2)
    store.edit_review(
        second,
        by="U0MGR",
        scores=failed,
        result=zero,
        comment="ünïcode ✓",
        coaching="",
        now=DAY2 + timedelta(minutes=5),
        expected_version=1,
    )
    cal = store.open_calibration(ref=TicketRef.parse("zd:5"), owner="U0MGR", closes_at=DAY2, now=DAY1)
    store.add_calibration_score(
        cal, reviewer="U0R1", agent="U0A", rubric_id=v1, scores=SCORES, result=RESULT, now=DAY1
    )
    v2 = store.ensure_rubric(LIGHTER, now=DAY2)
    lighter = ScoreResult(93.8, True, (), 2)
    add(store, v2, at=DAY2, agent="U0B", email=None, scores={"accuracy": 5, "tone": 4}, result=lighter)
    engine.dispose()


def export(env, *args):
    return runner.invoke(cli, ["qa", "export", *args], env=env)


def test_csv_has_a_column_per_category_and_one_row_per_review_oldest_first(env, seeded):
    result = export(env, "--format", "csv")

    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    rows = list(reader)
    assert reader.fieldnames == HEADER
    assert rows == [
        {
            "reviewer": "U0MGR",
            "agent": "U0A",
            "agent_email": "a@example.com",
            "ref": "zd:101",
            "rubric_version": RUBRIC.version,
            "accuracy": "4",
            "empathy": "5",
            "process": "3",
            "compliance": "5",
            "tone": "",
            "score_percent": "86.0",
            "passed": "true",
            "critical_failed": "",
            "comment": 'clear, and "kind"',
            "dispute_state": "",
            "created_at": "2026-11-23T15:00:00Z",
            "edited_at": "",
        },
        {
            "reviewer": "U0MGR",
            "agent": "U0A",
            "agent_email": "a@example.com",
            "ref": "ic:77",
            "rubric_version": RUBRIC.version,
            "accuracy": "4",
            "empathy": "n/a",
            "process": "3",
            "compliance": "1",
            "tone": "",
            "score_percent": "0.0",
            "passed": "false",
            "critical_failed": "compliance",
            "comment": "ünïcode ✓",
            "dispute_state": "rejected",
            "created_at": "2026-11-23T16:00:00Z",
            "edited_at": "2026-11-24T09:35:00Z",
        },
        {
            "reviewer": "U0MGR",
            "agent": "U0B",
            "agent_email": "",
            "ref": "zd:101",
            "rubric_version": LIGHTER.version,
            "accuracy": "5",
            "empathy": "",
            "process": "",
            "compliance": "",
            "tone": "4",
            "score_percent": "93.8",
            "passed": "true",
            "critical_failed": "",
            "comment": "",
            "dispute_state": "",
            "created_at": "2026-11-24T09:30:00Z",
            "edited_at": "",
        },
    ]
    assert "private coaching note" not in result.stdout


def test_json_is_one_array_with_typed_values_and_since_keeps_reviews_from_that_day(env, seeded):
    everything = json.loads(export(env, "--format", "json").stdout)
    result = export(env, "--format", "json", "--since", "2026-11-24")

    assert result.exit_code == 0, result.output
    assert len(everything) == 3 and list(everything[0]) == HEADER
    assert everything[1]["empathy"] == "n/a" and everything[1]["critical_failed"] == ["compliance"]
    assert (everything[1]["passed"], everything[1]["score_percent"]) == (False, 0.0)
    assert json.loads(result.stdout) == [
        {
            "reviewer": "U0MGR",
            "agent": "U0B",
            "agent_email": None,
            "ref": "zd:101",
            "rubric_version": LIGHTER.version,
            "accuracy": 5,
            "tone": 4,
            "score_percent": 93.8,
            "passed": True,
            "critical_failed": [],
            "comment": "",
            "dispute_state": None,
            "created_at": "2026-11-24T09:30:00Z",
            "edited_at": None,
        }
    ]


def test_an_empty_export_is_just_the_fixed_header_or_an_empty_array(env, seeded):
    assert export(env, "--since", "2027-01-01").stdout == (
        "reviewer,agent,agent_email,ref,rubric_version,score_percent,passed,critical_failed,comment,"
        "dispute_state,created_at,edited_at\n"
    )
    assert json.loads(export(env, "--format", "json", "--since", "2027-01-01").stdout) == []


def test_an_empty_database_is_upgraded_on_open_and_exports_nothing(env):
    result = export(env, "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize("since", ["24/11/2026", "2026-13-01", "yesterday", "2026-11-24T10:00"])
def test_a_bad_since_date_exits_2_saying_what_to_use(env, since):
    result = export(env, "--since", since)

    assert result.exit_code == 2
    assert "--since" in result.output and "YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_format_exits_2_listing_the_formats(env):
    result = export(env, "--format", "xml")

    assert result.exit_code == 2 and "csv, json" in result.output


def test_a_category_named_like_a_fixed_column_gets_its_own_column(env, database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    store = QaStore(engine)
    odd = store.ensure_rubric(Rubric(5, 80, (Category("comment", "Comment quality", 1),)), now=DAY1)
    add(store, odd, at=DAY1, scores={"comment": 2}, comment="terse")
    engine.dispose()

    (row,) = csv.DictReader(io.StringIO(export(env).stdout))

    assert (row["score_comment"], row["comment"]) == ("2", "terse")


def test_export_streams_many_reviews_in_order(env, database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    store = QaStore(engine)
    v1 = store.ensure_rubric(RUBRIC, now=DAY1)
    for n in range(1203):
        add(store, v1, at=DAY1 + timedelta(seconds=n % 7), ref=f"zd:{n + 1}")
    engine.dispose()

    rows = json.loads(export(env, "--format", "json").stdout)

    assert len(rows) == 1203 and len({r["ref"] for r in rows}) == 1203
    keys = [(r["created_at"], int(r["ref"][3:])) for r in rows]
    assert keys == sorted(keys)
