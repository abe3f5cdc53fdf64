"""What a failed Slack call means for the outbox: dead at once, retry later, or outcome unknown.

`chat.postMessage` is not idempotent: any failure after the request may have reached Slack (a timeout,
a reset connection, a 5xx) is `unknown`, never a reason to send again blind. Only failures that prove
nothing was done (a refused connection, a 429, an `ok: false` answer) allow a plain retry.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
from dataclasses import dataclass
from typing import Literal

from slack_sdk.errors import SlackApiError

# Errors that no retry can fix: the row goes `dead` with Slack's reason (`deskwatch outbox retry` after
# fixing the cause). Sources: Slack's method docs for chat.postMessage / chat.update.
PERMANENT_ERRORS = frozenset(
    {
        "access_denied",
        "account_inactive",
        "as_user_not_supported",
        "cant_update_message",
        "channel_not_found",
        "channel_is_archived",
        "edit_window_closed",
        "ekm_access_denied",
        "invalid_arguments",
        "invalid_auth",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_json",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "is_archived",
        "json_not_object",
        "message_not_found",
        "metadata_too_large",
        "method_deprecated",
        "missing_scope",
        "msg_too_long",
        "no_permission",
        "no_text",
        "not_allowed_token_type",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "restricted_action_non_threadable_channel",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "team_access_not_granted",
        "token_expired",
        "token_revoked",
        "too_many_attachments",
        "two_factor_setup_required",
    }
)
# `ok: false` answers Slack gives when it failed internally: a post may or may not have happened.
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})

Outcome = Literal["dead", "retry", "unknown"]


@dataclass(frozen=True)
class SlackFailure:
    outcome: Outcome
    reason: str
    retry_after: float | None = None


def classify_failure(exc: BaseException, *, is_post: bool) -> SlackFailure:
    """Map an exception from a Slack call to what the outbox does next."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        error = str(response.get("error") or f"HTTP {response.status_code}")
        if error in PERMANENT_ERRORS:
            return SlackFailure("dead", error)
        if response.status_code == 429 or error == "ratelimited":
            retry_after = _retry_after(response.headers)
            return SlackFailure("retry", "ratelimited", retry_after)
        if response.status_code >= 500 or error in AMBIGUOUS_ERRORS:
            return SlackFailure("unknown" if is_post else "retry", error)
        return SlackFailure("retry", error)
    if is_not_sent(exc):
        return SlackFailure("retry", f"connection refused: {_describe(exc)}")
    # Timeout, reset, remote disconnect: the request may have been processed.
    return SlackFailure("unknown" if is_post else "retry", f"response lost: {_describe(exc)}")


def is_not_sent(exc: BaseException) -> bool:
    """Connection failures that prove the request never left (refused, DNS): safe to send again."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _describe(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, http.client.RemoteDisconnected):
        return "RemoteDisconnected"
    return type(reason).__name__


def _retry_after(headers) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value if isinstance(value, str) else value[0])
            except (TypeError, ValueError, IndexError):
                return None
    return None
