"""`deskwatch webhooks install` over HTTP against the Zendesk emulator's Webhooks and Triggers APIs:
created once, updated (never duplicated) on the next run, and what it installs actually reaches and
passes `POST /webhooks/zendesk`."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.cli import cli
from integrations.zendesk import ZendeskHelpdesk
from integrations.zendesk_webhooks import TRIGGER_BODY, TRIGGER_TITLE, WEBHOOK_NAME, ZendeskWebhookInstaller
from tests.helpers.live import live_stack

runner = CliRunner()


@pytest.fixture
def live(tmp_path, database_url):
    with live_stack(tmp_path, database_url, slack_token="xoxb-cli-test") as stack:
        yield stack.env, stack.zendesk


def test_install_creates_the_webhook_and_trigger_then_a_second_run_updates_and_creates_nothing(live):
    env, zendesk = live

    first = runner.invoke(cli, ["webhooks", "install", "--url", "https://dw.example.com"], env=env)
    assert first.exit_code == 0, first.output
    assert "webhook" in first.output and "created" in first.output
    assert "conversation.admin.replied" in first.output  # the Intercom topics to subscribe to
    [hook] = zendesk.webhooks()
    assert hook["name"] == WEBHOOK_NAME and hook["endpoint"] == "https://dw.example.com/webhooks/zendesk"
    assert (hook["status"], hook["http_method"], hook["request_format"]) == ("active", "POST", "json")
    assert hook["subscriptions"] == ["conditional_ticket_events"]
    [trigger] = zendesk.triggers()
    assert isinstance(trigger["id"], int) and trigger["title"] == TRIGGER_TITLE and trigger["active"]
    assert trigger["actions"] == [{"field": "notification_webhook", "value": [hook["id"], TRIGGER_BODY]}]
    secret = zendesk.webhook_signing_secret(hook["id"])
    assert secret not in first.output  # printed only with --show-secret

    zendesk.reset_log()
    second = runner.invoke(
        cli, ["webhooks", "install", "--url", "https://dw2.example.com/", "--show-secret"], env=env
    )
    assert second.exit_code == 0, second.output
    zendesk_line = next(
        line for line in second.output.splitlines() if "webhook" in line and "trigger" in line
    )
    assert "created" not in zendesk_line and zendesk_line.count("updated") == 2
    assert f"ZENDESK_WEBHOOK_SECRET={secret}" in second.output
    assert [h["id"] for h in zendesk.webhooks()] == [hook["id"]]
    assert zendesk.webhooks()[0]["endpoint"] == "https://dw2.example.com/webhooks/zendesk"
    assert [t["id"] for t in zendesk.triggers()] == [trigger["id"]]
    assert zendesk.calls("/api/v2/webhooks", method="POST") == []
    assert zendesk.calls("/api/v2/triggers", method="POST") == []
    assert [c.method for c in zendesk.calls("/api/v2/webhooks/", method="PUT")] == ["PUT"]
    assert [c.method for c in zendesk.calls("/api/v2/triggers/", method="PUT")] == ["PUT"]

    third = runner.invoke(
        cli,
        ["webhooks", "install", "--url", "https://dw2.example.com"],
        env={**env, "ZENDESK_WEBHOOK_SECRET": secret},
    )
    assert "matches" in third.output


def test_install_refuses_a_plain_http_url(live):
    env, zendesk = live
    result = runner.invoke(cli, ["webhooks", "install", "--url", "http://dw.example.com"], env=env)
    assert result.exit_code == 2
    assert zendesk.webhooks() == []


def test_the_emulator_refuses_what_zendesk_refuses(zendesk_emu):
    helpdesk = ZendeskHelpdesk(
        subdomain="deskwatch-demo", email=zendesk_emu.email, token=zendesk_emu.token, base_url=zendesk_emu.url
    )
    bad_hook = {"webhook": {"name": "x", "endpoint": "https://a.example", "http_method": "POST"}}
    response = helpdesk._session.post(f"{zendesk_emu.url}/api/v2/webhooks", json=bad_hook, timeout=5)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "MissingField"
    trigger = {
        "trigger": {
            "title": "t",
            "conditions": {"all": [{"field": "status", "operator": "less_than", "value": "closed"}]},
            "actions": [{"field": "notification_webhook", "value": ["01NOPE", "{}"]}],
        }
    }
    response = helpdesk._session.post(f"{zendesk_emu.url}/api/v2/triggers.json", json=trigger, timeout=5)
    assert response.status_code == 422 and response.json()["error"] == "RecordInvalid"
    trigger["trigger"]["conditions"] = {"all": []}
    response = helpdesk._session.post(f"{zendesk_emu.url}/api/v2/triggers.json", json=trigger, timeout=5)
    assert response.status_code == 422


def test_what_install_configures_is_accepted_by_the_bot(
    zendesk_emu, seeded, make_deps, demo_config, settings
):
    """The trigger's body and Zendesk's signature, rendered by the emulator, pass `/webhooks/zendesk`."""
    import requests

    from tests.helpers.bolt_server import start_bot

    helpdesk = ZendeskHelpdesk(
        subdomain="deskwatch-demo", email=zendesk_emu.email, token=zendesk_emu.token, base_url=zendesk_emu.url
    )
    result = ZendeskWebhookInstaller(helpdesk).install("https://dw.example.com/webhooks/zendesk")
    assert result.webhook_created and result.trigger_created and result.signing_secret
    deps = make_deps(demo_config)
    deps.settings = deps.settings.model_copy(
        update={"zendesk_webhook_secret": SecretStr(result.signing_secret)}
    )
    server, stop = start_bot(deps)
    try:
        [(endpoint, headers, body)] = zendesk_emu.trigger_webhook_requests(103)
        assert endpoint == "https://dw.example.com/webhooks/zendesk"
        assert json.loads(body) == {"ticket_id": "103"}
        local = f"http://127.0.0.1:{server.server_port}/webhooks/zendesk"
        response = requests.post(local, data=body, headers=headers, timeout=5)
        assert response.status_code == 200 and response.json()["queued"] is True
        tampered = requests.post(local, data=body.replace(b"103", b"101"), headers=headers, timeout=5)
        assert tampered.status_code == 401
    finally:
        stop()
