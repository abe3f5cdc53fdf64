"""The `deskwatch` command line, run in-process with typer's CliRunner against the emulators."""

from __future__ import annotations

import io
import sys

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import cli
from bot.config import config_from_dict
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


def test_config_check_names_each_channel_the_bot_cannot_read_and_what_to_do(live):
    env, slack, _, _ = live
    slack.add_channel("C0BILLING", private=True, member=False)  # private, bot not invited
    slack.add_channel("C0PAYMENTS", member=False)  # public, reached through chat:write.public
    slack.scopes = tuple(s for s in slack.scopes if s != "channels:join")

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2, result.output
    assert "ok  C0ALERTS (default alerts channel): can post and read history" in result.output
    assert "C0BILLING (team billing)" in result.output and "/invite @Deskwatch" in result.output
    payments = next(line for line in result.output.splitlines() if "C0PAYMENTS" in line)
    assert "FIX" in payments and "channels:join" in payments


def test_config_check_accepts_a_public_channel_it_can_join(live):
    env, slack, _, _ = live
    slack.add_channel("C0PAYMENTS", member=False)

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 0, result.output
    assert "ok  C0PAYMENTS (team payments): can post; not a member yet, joins on first use" in result.output


# The issue's escalation matrix, character for character (comments included): it must pass as written.
ISSUE_ESCALATION_BLOCK = """\
escalation:
  tiers:
    - name: T1
    - name: T2
      channel: C0T2
      responders: [U0T2A, U0T2B]     # or a Slack user group id S...
      ack_within: 15m
    - name: Compliance
      channel: C0COMPLIANCE
      responders: [U0LEGAL]
      ack_within: 1h
      due: 24h                        # e.g. regulatory response deadline
      zendesk: {group_id: 900, tags: [compliance_review]}
      intercom: {team_id: "900"}
  reasons: [billing_dispute, fraud_suspected, bug, legal_request, vip, other]
"""


def write_config(env: dict[str, str], escalation_yaml: str) -> None:
    """The demo desk's YAML followed by an escalation block given as text."""
    with open(env["DESKWATCH_CONFIG"], "w", encoding="utf-8") as handle:
        handle.write(yaml.safe_dump(DEMO_CONFIG) + escalation_yaml)


def with_responders(responders: str) -> str:
    return ISSUE_ESCALATION_BLOCK.replace("[U0T2A, U0T2B]", responders)


def test_config_check_passes_the_issues_exact_escalation_block(live):
    env, slack, _, _ = live
    slack.add_channel("C0T2")
    write_config(env, ISSUE_ESCALATION_BLOCK)

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 0, result.output
    assert "ok  C0T2 (escalation tier T2): can post and read history" in result.output
    assert (
        "ok  C0COMPLIANCE (team compliance, escalation tier Compliance): can post and read history"
        in result.output
    )
    assert "Slack user groups:" not in result.output  # user ids only: nothing to resolve
    assert "Escalation OK: tiers T1 -> T2 -> Compliance; 6 reasons" in result.output
    assert "Configuration OK" in result.output


def test_config_check_names_a_tier_channel_the_bot_cannot_read(live):
    env, slack, _, _ = live
    slack.add_channel("C0T2", private=True, member=False)
    write_config(env, ISSUE_ESCALATION_BLOCK)

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2, result.output
    line = next(line for line in result.output.splitlines() if "FIX C0T2" in line)
    assert "(escalation tier T2)" in line and "/invite @Deskwatch" in line
    assert "channel C0T2 (escalation tier T2): " in result.output  # also in the problem list
    assert "Escalation OK" not in result.output


def test_config_check_reports_a_tier_channel_that_does_not_exist(live):
    env, _, _, _ = live  # C0T2 was never created
    write_config(env, ISSUE_ESCALATION_BLOCK)

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2, result.output
    line = next(line for line in result.output.splitlines() if "FIX C0T2" in line)
    assert "not found" in line and "/invite @Deskwatch" in line


def test_config_check_resolves_each_responder_user_group_and_names_the_one_slack_refuses(live):
    env, slack, _, _ = live
    slack.add_channel("C0T2")
    slack.add_usergroup("S0T2", ["U0MANAGER", "U0PAYLEAD"])
    slack.add_usergroup("S0OLD", ["U0MANAGER"], disabled=True)
    write_config(env, with_responders("[S0T2, S0GONE, U0T2A, S0OLD]"))

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2, result.output
    assert "Slack user groups:" in result.output
    assert "ok  S0T2 (escalation tier T2): resolves to 2 members" in result.output
    gone = next(line for line in result.output.splitlines() if "FIX S0GONE" in line)
    assert "(escalation tier T2)" in gone and "usergroups.users.list refused (no_such_subteam)" in gone
    assert "FIX S0OLD (escalation tier T2)" in result.output  # disabled: Slack lists it only when asked
    assert "user group S0GONE (escalation tier T2): usergroups.users.list refused" in result.output
    assert [r.form()["usergroup"] for r in slack.calls("/api/usergroups.users.list")] == [
        "S0T2",
        "S0GONE",
        "S0OLD",
    ]


def test_config_check_says_which_scope_a_user_group_lookup_needs(live):
    env, slack, _, _ = live
    slack.add_channel("C0T2")
    slack.add_usergroup("S0T2", ["U0MANAGER"])
    slack.scopes = tuple(s for s in slack.scopes if s != "usergroups:read")
    write_config(env, with_responders("[S0T2]"))

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2, result.output
    line = next(line for line in result.output.splitlines() if "FIX S0T2" in line)
    assert "(missing_scope)" in line and "add the usergroups:read scope" in line


def test_config_check_refuses_an_empty_responder_user_group(live):
    env, slack, _, _ = live
    slack.add_channel("C0T2")
    slack.add_usergroup("S0T2", [])
    write_config(env, with_responders("[S0T2]"))

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2, result.output
    assert "FIX S0T2 (escalation tier T2): the user group has no members" in result.output


def test_config_check_names_the_yaml_path_of_a_bad_escalation_block(live):
    env, _, _, _ = live
    write_config(env, ISSUE_ESCALATION_BLOCK.replace("ack_within: 15m", "ack_within: 15"))

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2
    assert "escalation.tiers[1].ack_within" in result.output
    assert "Traceback" not in result.output


# The issue's QA block, character for character (comments included): it must pass as written.
ISSUE_QA_BLOCK = """\
qa:
  scale: 5                      # scores 1..scale, or n/a
  pass_mark: 80                 # percent
  reviewers: [U0MANAGER]        # plus every team's managers
  rubric:
    - {key: accuracy,  label: "Correct resolution", weight: 3}
    - {key: empathy,   label: "Empathy and tone",   weight: 2}
    - {key: process,   label: "Followed process",   weight: 2}
    - {key: compliance, label: "Compliance (KYC/PCI)", weight: 3, critical: true}
"""


def test_config_check_passes_the_issues_exact_qa_block(live):
    env, _, _, _ = live
    write_config(env, ISSUE_QA_BLOCK)
    version = config_from_dict({**DEMO_CONFIG, **yaml.safe_load(ISSUE_QA_BLOCK)}).qa.rubric().version

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 0, result.output
    # U0MANAGER is listed and manages billing; U0PAYLEAD and U0COMPLY manage the other two teams
    assert (
        f"QA OK: rubric {version} (4 categories, scale 1-5, pass 80%), 1 reviewer "
        "(plus team managers: 3 in all)" in result.output
    )
    assert "Configuration OK" in result.output and "Escalation OK" not in result.output


def test_config_check_shows_the_weekly_qa_sample(live):
    env, _, _, _ = live
    write_config(env, ISSUE_QA_BLOCK + "  sample: {per_agent_per_week: 3, from: closed}\n")

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 0, result.output
    assert "; weekly sample: 3 per agent from closed tickets" in result.output


def test_config_check_says_nothing_about_qa_without_a_qa_block(live):
    env, _, _, _ = live

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 0, result.output
    assert "QA OK" not in result.output


def test_config_check_names_the_yaml_path_of_each_problem_in_a_bad_qa_block(live):
    env, _, _, _ = live
    bad = (
        ISSUE_QA_BLOCK.replace("pass_mark: 80 ", "pass_mark: 180")
        .replace('"Empathy and tone",   weight: 2', '"Empathy and tone",   wieght: 2')
        .replace("{key: process,  ", "{key: accuracy, ")
        .replace("critical: true", "critical: maybe")
        + "  dispute_window: 7\n"
    )
    write_config(env, bad)

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2, result.output
    problems = [line.strip() for line in result.output.splitlines() if line.strip().startswith("- qa.")]
    assert problems == [
        '- qa.pass_mark: "180" is not a pass mark (a whole percent from 0 to 100, e.g. 80)',
        "- qa.rubric[1].weight: is required",
        '- qa.rubric[1].wieght: unknown key (did you mean "weight"?)',
        '- qa.rubric[3].critical: "maybe" is not true or false',
        '- qa.dispute_window: "7" is not a duration: add a unit, like 30m, 2h, 1h30m, 90s or 1d',
        '- qa.rubric[2].key: "accuracy" is already the key of rubric[0]',
    ]
    assert "QA OK" not in result.output and "Configuration OK" not in result.output
    assert "Traceback" not in result.output


def test_config_check_reports_a_qa_block_that_is_not_a_mapping(live):
    env, _, _, _ = live
    write_config(env, "qa: [accuracy, empathy]\n")

    result = runner.invoke(cli, ["config", "check"], env=env)

    assert result.exit_code == 2
    assert 'qa: expected a mapping (key: value), got a list "[accuracy, empathy]"' in result.output


def outbox_rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip() and line.split()[0].isdigit()]


def test_outbox_list_shows_dead_rows_with_their_reason_and_retry_requeues_them(live):
    env, slack, _, _ = live
    slack.fail_next_with_error("chat.postMessage", "is_archived")
    runner.invoke(cli, ["sla", "scan"], env=env)

    listed = runner.invoke(cli, ["outbox", "list", "--state", "dead"], env=env)

    assert listed.exit_code == 0, listed.output
    assert "1 dead" in listed.output and "6 posted" in listed.output
    [row] = [line for line in outbox_rows(listed.output) if "reason: is_archived" in line]
    row_id = int(row.split()[0])
    assert runner.invoke(cli, ["outbox", "retry", str(row_id + 1000)], env=env).exit_code == 1
    posted_rows = outbox_rows(runner.invoke(cli, ["outbox", "list", "--state", "posted"], env=env).output)
    refused = runner.invoke(cli, ["outbox", "retry", posted_rows[0].split()[0]], env=env)
    assert refused.exit_code == 1 and "not dead" in refused.output, (posted_rows, refused.output)

    retried = runner.invoke(cli, ["outbox", "retry", str(row_id)], env=env)
    rescan = runner.invoke(cli, ["sla", "scan"], env=env)

    assert retried.exit_code == 0 and "re-queued" in retried.output
    assert "1 posted" in rescan.output
    assert len(slack.messages()) == 7
    assert "Outbox: 7 posted" in runner.invoke(cli, ["outbox", "list"], env=env).output


def test_outbox_list_refuses_an_unknown_state(live):
    env, _, _, _ = live
    result = runner.invoke(cli, ["outbox", "list", "--state", "stuck"], env=env)
    assert result.exit_code == 2 and "pending, sending, unknown, posted, dead, cancelled" in result.output


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
    assert "0008_app_home" in result.output


def test_serve_without_slack_credentials_explains_what_is_missing(tmp_path):
    config = tmp_path / "deskwatch.yaml"
    config.write_text(yaml.safe_dump(DEMO_CONFIG))

    result = runner.invoke(cli, ["serve"], env={"DESKWATCH_CONFIG": str(config)})

    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN: required by `deskwatch serve`" in result.output


def test_demo_once_prints_the_posted_alerts(database_url):
    result = runner.invoke(cli, ["demo", "--once", "--database", database_url])

    assert result.exit_code == 0, result.output
    assert "6 alert(s) posted on the first pass; ic:9007" in result.output  # the 7th lost its answer
    assert (
        "Lookup: 1 found in the channel history and recorded, 0 posted; 7 messages in Slack" in result.output
    )
    assert "Deadline moved from" in result.output and "(updated)" in result.output
    assert "12 SLA breaches · payments" in result.output and "(1 post(s) for 12 breaches.)" in result.output
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
    show(Source.ZENDESK, 1000, 1, True)
    show(Source.ZENDESK, 2000, 2, True)
    show(Source.ZENDESK, 3, 1, False)  # later syncs are quick: no progress line

    assert terminal.getvalue() == (
        "\rZendesk: 1,000 items synced (1 page)…\rZendesk: 2,000 items synced (2 pages)…"
    )
