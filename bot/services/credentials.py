"""`deskwatch config check`: one identity call per configured credential (auth.test, users/me, me)."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.domain.model import Source
from integrations.base import Helpdesk, HelpdeskAuthError, HelpdeskError

_ENV_FOR = {Source.ZENDESK: "ZENDESK_API_TOKEN", Source.INTERCOM: "INTERCOM_ACCESS_TOKEN"}


def check_credentials(
    settings: Settings, *, slack: WebClient, helpdesks: Mapping[Source, Helpdesk]
) -> list[str]:
    """Every credential problem as one actionable line; empty when all answered."""
    problems: list[str] = []
    if settings.slack_bot_token is None:
        problems.append("SLACK_BOT_TOKEN: not set (a bot token, xoxb-…, from your Slack app's OAuth page)")
    else:
        try:
            slack.auth_test()
        except SlackApiError as exc:
            code = exc.response.get("error") if exc.response is not None else "error"
            problems.append(f"SLACK_BOT_TOKEN: Slack refused it ({code}); check the token and SLACK_API_URL")
        except OSError as exc:
            problems.append(f"SLACK_API_URL: {settings.slack_api_url} is unreachable ({type(exc).__name__})")
    if settings.slack_signing_secret is None:
        problems.append(
            "SLACK_SIGNING_SECRET: not set (Basic Information > App Credentials in your Slack app)"
        )
    if not helpdesks:
        problems.append(
            "no helpdesk configured: set ZENDESK_SUBDOMAIN/ZENDESK_EMAIL/ZENDESK_API_TOKEN "
            "and/or INTERCOM_ACCESS_TOKEN"
        )
    for source, helpdesk in helpdesks.items():
        try:
            helpdesk.check_auth()
        except HelpdeskAuthError as exc:
            problems.append(f"{_ENV_FOR[source]}: {source.label} refused the credentials ({exc})")
        except HelpdeskError as exc:
            problems.append(f"{source.label}: unreachable or failing ({exc})")
    return problems
