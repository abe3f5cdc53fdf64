"""The `deskwatch` command line, run in-process with typer's CliRunner against the emulators."""

from __future__ import annotations

import io
import sys

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import cli
from integrations.emulators.seed import DEMO_CONFIG
from tests.helpers.live import live_stack

runner = CliRunner()


@pytest.fixture
def live(tmp_path, database_url):
    """Emulators seeded at the real current time (the CLI reads the wall clock) and a config file."""
    with live_stack(tmp_path, database_url, slack_token="xoxb-cli-test") as stack:
        yield stack.env, stack.slack, stack.zendesk, stack.intercom


def test_sla_scan_posts_alerts_then_a_rescan_posts_nothing(live):
    env, slack, _, _ = live

    first = runner.invoke(cli, ["sla", "scan"], env=env)
    second = runner.invoke(cli, ["sla", "scan"], env=env)

    assert first.exit_code == 0, first.output
    assert "Zendesk: 7 items synced" in first.output and "(first sync)" in first.output
    assert "7 posted" in first.output
    assert second.exit_code == 0, second.output
    assert "0 decided, 0 posted" in second.output
    assert len(slack.messages()) == 7
    assert {m["channel"] for m in slack.messages()} == {"C0ALERTS", "C0BILLING", "C0PAYMENTS"}


def test_sla_scan_dry_run_lists_alerts_and_posts_nothing(live):
    env, slack, _, _ = live

    result = runner.invoke(cli, ["sla", "scan", "--dry-run"], env=env)

    assert result.exit_code == 0, result.output
    assert "Dry run: 7 alert(s) would be posted" in result.output
    assert "zd:101" in result.output and "-> C0BILLING" in result.output
    assert slack.messages() == []


def test_sla_scan_reports_a_helpdesk_outage_and_exits_1(live):
    env, slack, zendesk, _ = live
    zendesk.fail_next("/api/v2", status=503, count=100)

    result = runner.invoke(cli, ["sla", "scan"], env=env)

    assert result.exit_code == 1
    assert "Zendesk: 0 items synced" in result.output and "FAILED" in result.output
    assert len(slack.messages()) == 3  # Intercom's alerts still went out
    assert env["ZENDESK_API_TOKEN"] not in result.output


def test_config_check_passes_against_reachable_services(live):
    env, *_ = live

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 0, result.output
    assert "Configuration OK" in result.output and "Zendesk, Intercom" in result.output


def test_config_check_reports_refused_credentials_without_echoing_them(live):
    env, *_ = live
    env = {**env, "SLACK_BOT_TOKEN": "xoxb-wrong-token", "INTERCOM_ACCESS_TOKEN": "ic-wrong-token"}

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN: Slack refused it (invalid_auth)" in result.output
    assert "INTERCOM_ACCESS_TOKEN: Intercom refused the credentials" in result.output
    assert "xoxb-wrong-token" not in result.output and "ic-wrong-token" not in result.output


@pytest.mark.parametrize("command", [["config", "check"], ["sla", "scan"], ["db", "upgrade"], ["serve"]])
def test_every_command_exits_2_with_the_yaml_path_on_bad_config(tmp_path, command):
    bad = tmp_path / "deskwatch.yaml"
    data = yaml.safe_load(yaml.safe_dump(DEMO_CONFIG))
    data["teams"][0]["business_hours"] = {"days": ["mon"], "start": "9am", "end": "17:00"}
    bad.write_text(yaml.safe_dump(data))

    result = runner.invoke(cli, command, env={"DESKWATCH_CONFIG": str(bad)})

    assert result.exit_code == 2
    assert 'teams[0].business_hours.start: "9am" is not HH:MM' in result.output
    assert "Traceback" not in result.output


def test_missing_config_file_names_the_path_and_the_variable(tmp_path):
    result = runner.invoke(cli, ["sla", "scan"], env={"DESKWATCH_CONFIG": str(tmp_path / "nope.yaml")})

    assert result.exit_code == 2
    assert "nope.yaml" in result.output and "DESKWATCH_CONFIG" in result.output


def test_db_upgrade_creates_the_schema(tmp_path, database_url):
    config = tmp_path / "deskwatch.yaml"
    config.write_text(yaml.safe_dump(DEMO_CONFIG))

    result = runner.invoke(
        cli, ["db", "upgrade"], env={"DESKWATCH_CONFIG": str(config), "DATABASE_URL": database_url}
    )

    assert result.exit_code == 0, result.output
    assert "0002_outbox" in result.output


def test_serve_without_slack_credentials_explains_what_is_missing(tmp_path):
    config = tmp_path / "deskwatch.yaml"
    config.write_text(yaml.safe_dump(DEMO_CONFIG))

    result = runner.invoke(cli, ["serve"], env={"DESKWATCH_CONFIG": str(config)})

    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN: required by `deskwatch serve`" in result.output


def test_demo_once_prints_the_posted_alerts(database_url):
    result = runner.invoke(cli, ["demo", "--once", "--database", database_url])

    assert result.exit_code == 0, result.output
    assert "7 alert(s) posted on the first pass." in result.output
    assert "#C0BILLING" in result.output and "zd:101" in result.output
    assert "4111 1111 1111 1111" not in result.output and "[card •••• 1111]" in result.output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_first_sync_progress_is_shown_on_a_terminal_and_not_when_piped(monkeypatch):
    from bot.cli import _progress_printer
    from bot.domain.model import Source

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert _progress_printer() is None

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    show = _progress_printer()
    show(Source.ZENDESK, 1000, True)
    show(Source.ZENDESK, 2000, True)
    show(Source.ZENDESK, 3, False)  # later syncs are quick: no progress line

    assert terminal.getvalue() == "\rZendesk: 1,000 items synced…\rZendesk: 2,000 items synced…"
