"""The central Bolt error handler: known errors get a friendly ephemeral text, unknown ones a reference id."""

from __future__ import annotations

import uuid

import structlog
from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.blocks.metadata import InvalidButtonValue
from bot.domain.model import DomainError

log = structlog.get_logger(__name__)


def user_message(error: Exception) -> tuple[str, bool]:
    """(text for the user, whether the error was expected)."""
    if isinstance(error, (DomainError, InvalidButtonValue)):
        return f":warning: {error}", True
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if error.response is not None else "unknown"
        return f":warning: Slack refused the request ({code}). Please try again.", False
    ref = uuid.uuid4().hex[:8]
    return f":warning: Something went wrong (reference `{ref}`). The team has been notified.", False


def register(app: App) -> None:
    @app.error
    def handle_error(error, body, respond, logger):
        text, expected = user_message(error)
        if expected:
            log.info("listener_error", error=str(error), error_type=type(error).__name__)
        else:
            log.error("listener_failed", error_type=type(error).__name__, exc_info=error)
        if respond is not None and isinstance(body, dict) and body.get("response_url"):
            respond(text=text, response_type="ephemeral", replace_original=False)
