"""The central Bolt error handler: known errors get a friendly ephemeral text, unknown ones a reference id."""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable

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


def report(error: Exception, body: dict | None, respond) -> None:
    """Log the error and tell the user, ephemerally, on the surface they used."""
    text, expected = user_message(error)
    if expected:
        log.info("listener_error", error=str(error), error_type=type(error).__name__)
    else:
        log.error("listener_failed", error_type=type(error).__name__, exc_info=error)
    if respond is not None and isinstance(body, dict) and body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)


def lazy(fn: Callable) -> Callable:
    """Bolt runs lazy listeners outside its error handling (it only logs their exceptions), so route them
    through the same `report` as the central handler. Bolt injects arguments by the wrapped function's
    parameter names, so the listener must declare `body` and `respond`."""
    names = inspect.signature(fn).parameters
    if "body" not in names or "respond" not in names:
        raise TypeError(f"lazy listener {fn.__name__} must take `body` and `respond` arguments")

    @functools.wraps(fn)
    def wrapper(**kwargs):
        try:
            return fn(**kwargs)
        except Exception as error:
            report(error, kwargs.get("body"), kwargs.get("respond"))
            return None

    return wrapper


def register(app: App) -> None:
    @app.error
    def handle_error(error, body, respond):
        report(error, body, respond)
