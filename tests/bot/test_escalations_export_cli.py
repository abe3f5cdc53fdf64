"""`deskwatch escalations export`: the audit trail as CSV or JSON, filtered by day, with clear errors."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import cli
from bot.domain.escalation import Accept, AuditEvent, apply
from bot.store.db import make_engine, upgrade
from bot.store.escalations import EscalationStore
from integrations.emulators.seed import DEMO_CONFIG
from tests.bot.store.test_escalations import POLICY, opened

runner = CliRunner()
DAY1 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def env(tmp_path, database_url):
    config = tmp_path / "deskwatch.yaml"
    config.write_text(yaml.safe_dump(DEMO_CONFIG))
    return {"DESKWATCH_CONFIG": str(config), "DATABASE_URL": database_url}


@pytest.fixture
def trail(database_url):
    """One handoff opened and accepted on day 1, a refusal with a comma and quotes on day 2."""
    engine = make_engine(database_url)
    upgrade(engine)
    store = EscalationStore(engine)
    t = opened(at=DAY1)
    row_id = store.create(t.state, now=DAY1, events=t.audit)
    accepted = apply(t.state, Accept("U0A", DAY1 + timedelta(minutes=3)), POLICY)
    store.save(row_id, accepted.state, expected_version=1, events=accepted.audit, now=DAY1)
    odd = AuditEvent("ch1", 1, "refused", "U0X", DAY2, {"message": 'only "payments", sorry'})
    store.append_events(row_id, [odd], now=DAY2)
    engine.dispose()
    return row_id


def export(env, *args):
    return runner.invoke(cli, ["escalations", "export", *args], env=env)


def test_csv_has_a_header_and_one_row_per_event_oldest_first(env, trail):
    result = export(env, "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["kind"], r["actor"], r["at"]) for r in rows] == [
        ("opened", "U0AGENT", "2026-11-23T15:00:00Z"),
        ("accepted", "U0A", "2026-11-23T15:03:00Z"),
        ("refused", "U0X", "2026-11-24T09:30:00Z"),
    ]
    assert {(r["escalation_id"], r["chain"], r["tier"], r["ref"]) for r in rows} == {
        (str(trail), "ch1", "1", "zd:101")
    }
    assert json.loads(rows[0]["details"]) == {"reason": "chargeback"}
    assert json.loads(rows[2]["details"]) == {"message": 'only "payments", sorry'}


def test_json_is_one_array_and_since_keeps_events_from_that_day(env, trail):
    everything = json.loads(export(env, "--format", "json").stdout)
    result = export(env, "--format", "json", "--since", "2026-11-24")

    assert result.exit_code == 0, result.output
    assert len(everything) == 3
    assert json.loads(result.stdout) == [
        {
            "escalation_id": trail,
            "chain": "ch1",
            "tier": 1,
            "ref": "zd:101",
            "kind": "refused",
            "actor": "U0X",
            "at": "2026-11-24T09:30:00Z",
            "details": {"message": 'only "payments", sorry'},
        }
    ]


def test_an_empty_export_is_just_the_header_or_an_empty_array(env, trail):
    assert export(env, "--since", "2027-01-01").stdout == (
        "escalation_id,chain,tier,ref,kind,actor,at,details\n"
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


def test_export_streams_many_events_in_order(env, database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    store = EscalationStore(engine)
    t = opened(at=DAY1)
    row_id = store.create(t.state, now=DAY1)
    events = [replace(t.audit[0], at=DAY1 + timedelta(seconds=i % 7), details={"n": i}) for i in range(1203)]
    store.append_events(row_id, events, now=DAY1)
    engine.dispose()

    rows = json.loads(export(env, "--format", "json").stdout)

    assert len(rows) == 1203
    assert [(r["at"], r["details"]["n"]) for r in rows] == sorted((r["at"], r["details"]["n"]) for r in rows)
