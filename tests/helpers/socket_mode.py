"""`deskwatch serve --socket-mode` for tests: the real Bolt app over the Slack emulator's WebSocket, and
Slack's deliveries sent as envelopes with the same payloads the HTTP tests sign and post."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr

from tests.helpers.slack_requests import (
    block_action_payload,
    event_callback_payload,
    slash_command_payload,
    view_submission_payload,
)

APP_TOKEN = "xapp-1-A0DESKWATCH-1-test-app-token"


def socket_settings(settings, app_token: str = APP_TOKEN):
    """The test settings plus SLACK_APP_TOKEN (the emulator's app-level token)."""
    return settings.model_copy(update={"slack_app_token": SecretStr(app_token)})


@contextmanager
def socket_bot(deps, slack_emu, *, app_token: str = APP_TOKEN) -> Iterator[Any]:
    """Bolt over Socket Mode against `slack_emu`; yields the handler once the socket is open. On exit it
    closes the connection and waits for the lazy listeners (none outlives the emulators)."""
    from bot.app import build_bolt_app, redaction_policy
    from bot.socket_mode import start_socket_mode

    slack_emu.socket.app_token = app_token
    lazies = ThreadPoolExecutor(max_workers=10, thread_name_prefix="bolt-lazy")
    app = build_bolt_app(deps, listener_executor=lazies)
    handler = start_socket_mode(
        app, socket_settings(deps.settings, app_token), redaction=redaction_policy(deps.config)
    )
    try:
        slack_emu.socket.wait_connections(1, open_=1)
        yield handler
    finally:
        handler.close()
        lazies.shutdown(wait=True, cancel_futures=True)


def send_slash_command(slack_emu, **fields: Any) -> str:
    """`slash_command_payload(**fields)` as a `slash_commands` envelope; returns its envelope_id."""
    return slack_emu.socket.slash_command(slash_command_payload(**fields))


def send_block_action(slack_emu, **fields: Any) -> str:
    return slack_emu.socket.interactive(block_action_payload(**fields))


def send_view_submission(slack_emu, **fields: Any) -> str:
    return slack_emu.socket.interactive(view_submission_payload(**fields))


def send_event(slack_emu, **fields: Any) -> str:
    return slack_emu.socket.event(event_callback_payload(**fields))
