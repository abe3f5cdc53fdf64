"""SlackDirectory.user_by_email and AgentDirectory.slack_user_for_agent against the emulators, through the
real slack_sdk WebClient and the real helpdesk adapters: a ticket's assignee -> their email -> Slack user."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from structlog.testing import capture_logs

from bot.domain.model import Source
from bot.services.slack_directory import AgentDirectory, SlackDirectory
from integrations.intercom import IntercomHelpdesk
from integrations.zendesk import ZendeskHelpdesk
from tests.conftest import SLACK_TOKEN

DANA_EMAIL = "dana.smith@example.com"


@pytest.fixture
def directory(slack_emu, clock) -> SlackDirectory:
    slack_emu.add_user("U0DANA", "dana", email="Dana.Smith@Example.com")
    slack = WebClient(token=SLACK_TOKEN, base_url=slack_emu.api_url, retry_handlers=[])
    return SlackDirectory(slack=slack, clock=clock)


@pytest.fixture
def agents(directory, clock) -> AgentDirectory:
    return AgentDirectory(slack=directory, clock=clock)


def zendesk(zendesk_emu, token: str | None = None) -> ZendeskHelpdesk:
    return ZendeskHelpdesk(
        subdomain=None,
        email=zendesk_emu.email,
        token=token or zendesk_emu.token,
        base_url=zendesk_emu.url,
        max_retries=0,
    )


def intercom(intercom_emu) -> IntercomHelpdesk:
    return IntercomHelpdesk(token=intercom_emu.token, base_url=intercom_emu.url, sleep=lambda s: None)


# -- SlackDirectory.user_by_email -------------------------------------------------------------------
def test_user_by_email_finds_the_slack_user_case_insensitively_and_caches(directory, slack_emu) -> None:
    assert directory.user_by_email(" DANA.smith@example.com ") == "U0DANA"
    assert directory.user_by_email(DANA_EMAIL) == "U0DANA"

    assert len(slack_emu.calls("/api/users.lookupByEmail")) == 1


def test_user_by_email_of_an_unknown_email_is_none_and_cached_without_a_warning(directory, slack_emu) -> None:
    with capture_logs() as logs:
        assert directory.user_by_email("nobody@example.com") is None
        assert directory.user_by_email("nobody@example.com") is None
        assert directory.user_by_email("  ") is None

    assert logs == []
    assert len(slack_emu.calls("/api/users.lookupByEmail")) == 1


def test_user_by_email_lookup_expires_after_an_hour(directory, slack_emu, clock) -> None:
    directory.user_by_email(DANA_EMAIL)
    clock.advance(minutes=59)
    directory.user_by_email(DANA_EMAIL)
    assert len(slack_emu.calls("/api/users.lookupByEmail")) == 1

    clock.advance(minutes=2)
    directory.user_by_email(DANA_EMAIL)
    assert len(slack_emu.calls("/api/users.lookupByEmail")) == 2


def test_user_by_email_refused_by_slack_is_none_with_a_warning(directory, slack_emu) -> None:
    slack_emu.scopes = ("users:read",)

    with capture_logs() as logs:
        assert directory.user_by_email(DANA_EMAIL) is None

    assert [(e["event"], e["log_level"], e["error"]) for e in logs] == [
        ("user_by_email_lookup_failed", "warning", "missing_scope")
    ]
    assert DANA_EMAIL not in str(logs)


def test_user_by_email_keeps_the_last_good_answer_when_slack_fails(directory, slack_emu, clock) -> None:
    assert directory.user_by_email(DANA_EMAIL) == "U0DANA"
    slack_emu.scopes = ("users:read",)
    clock.advance(hours=2)

    assert directory.user_by_email(DANA_EMAIL) == "U0DANA"


# -- AgentDirectory.slack_user_for_agent ------------------------------------------------------------
def test_zendesk_assignee_maps_to_the_slack_user_with_their_email(agents, zendesk_emu, slack_emu) -> None:
    zendesk_emu.add_user(501, "Dana Smith", "Dana.Smith@example.com", role="agent")
    writer = zendesk(zendesk_emu).writer()

    assert agents.slack_user_for_agent(writer, Source.ZENDESK, "501") == "U0DANA"
    assert [c.path for c in zendesk_emu.calls()] == ["/api/v2/users/501.json"]
    (lookup,) = slack_emu.calls("/api/users.lookupByEmail")
    assert parse_qs(lookup.body.decode())["email"] == [DANA_EMAIL]  # the helpdesk's email, lower-cased


def test_intercom_assignee_maps_to_the_slack_user_with_their_email(agents, intercom_emu) -> None:
    intercom_emu.add_admin(902, "Dana Smith", DANA_EMAIL)

    assert agents.slack_user_for_agent(intercom(intercom_emu).writer(), Source.INTERCOM, "902") == "U0DANA"


def test_deps_helpdesk_writer_maps_an_assignee(make_deps, demo_config, zendesk_emu, slack_emu, clock) -> None:
    """The composed bot's writer and WebClient (retry handlers, redaction) answer the same."""
    deps = make_deps(demo_config)
    slack_emu.add_user("U0DANA", "dana", email=DANA_EMAIL)
    zendesk_emu.add_user(501, "Dana Smith", DANA_EMAIL, role="agent")
    agents = AgentDirectory(slack=SlackDirectory(slack=deps.slack, clock=clock), clock=clock)

    assert (
        agents.slack_user_for_agent(deps.helpdesks[Source.ZENDESK].writer(), Source.ZENDESK, "501")
        == "U0DANA"
    )


def test_an_end_user_an_unknown_id_or_an_agent_not_in_slack_gives_none(
    agents, zendesk_emu, slack_emu
) -> None:
    zendesk_emu.add_user(502, "A Customer", "customer@example.com", role="end-user")
    zendesk_emu.add_user(503, "Off Slack", "off.slack@example.com", role="agent")
    writer = zendesk(zendesk_emu).writer()

    assert agents.slack_user_for_agent(writer, Source.ZENDESK, "502") is None
    assert agents.slack_user_for_agent(writer, Source.ZENDESK, "999999") is None
    assert slack_emu.calls("/api/users.lookupByEmail") == []  # no email, no Slack lookup
    assert agents.slack_user_for_agent(writer, Source.ZENDESK, "503") is None
    assert len(slack_emu.calls("/api/users.lookupByEmail")) == 1


def test_agent_emails_are_cached_an_hour_per_helpdesk_and_agent(
    agents, zendesk_emu, intercom_emu, clock
) -> None:
    zendesk_emu.add_user(501, "Dana Smith", DANA_EMAIL, role="agent")
    intercom_emu.add_admin(501, "Someone Else", "someone.else@example.com")
    assert agents.slack_user_for_agent(zendesk(zendesk_emu).writer(), Source.ZENDESK, "501") == "U0DANA"
    assert agents.slack_user_for_agent(intercom(intercom_emu).writer(), Source.INTERCOM, "501") is None
    zendesk_emu.reset_log()

    clock.advance(minutes=59)  # a new writer has an empty cache of its own: only the directory's counts
    assert agents.slack_user_for_agent(zendesk(zendesk_emu).writer(), Source.ZENDESK, "501") == "U0DANA"
    assert zendesk_emu.calls() == []

    clock.advance(minutes=2)
    assert agents.slack_user_for_agent(zendesk(zendesk_emu).writer(), Source.ZENDESK, "501") == "U0DANA"
    assert [c.path for c in zendesk_emu.calls()] == ["/api/v2/users/501.json"]


def test_a_helpdesk_that_cannot_answer_gives_none_with_a_warning(agents, zendesk_emu, slack_emu) -> None:
    zendesk_emu.add_user(501, "Dana Smith", DANA_EMAIL, role="agent")
    writer = zendesk(zendesk_emu, token="definitely-wrong-token").writer()

    with capture_logs() as logs:
        assert agents.slack_user_for_agent(writer, Source.ZENDESK, "501") is None

    assert [(e["event"], e["source"], e["agent"]) for e in logs] == [
        ("agent_email_lookup_failed", "zendesk", "501")
    ]
    assert "definitely-wrong-token" not in str(logs)
    assert slack_emu.calls("/api/users.lookupByEmail") == []
    assert agents.slack_user_for_agent(zendesk(zendesk_emu).writer(), Source.ZENDESK, "501") == "U0DANA"
