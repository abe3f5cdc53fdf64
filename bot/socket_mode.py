"""`deskwatch serve --socket-mode`: the Bolt app over Slack's Socket Mode, no public URL needed.

Bolt's `SocketModeHandler` with slack_sdk's built-in client (no extra dependency). Requests arrive over
one WebSocket opened with the app-level token (`SLACK_APP_TOKEN`, `xapp-...`) from
`apps.connections.open` at `SLACK_API_URL`; the client re-opens one when Slack sends `disconnect` or the
socket drops. `process_before_response=True` and lazy listeners work as over HTTP: the handler runs
the ack listener on its worker thread, sends the ack, and the lazy work runs on Bolt's listener executor.

Redaction: what Deskwatch answers in an ack (an ephemeral reply to a slash command, view errors) goes
back to Slack inside the ack envelope, not through a Web API call, so it is redacted here the same way
`redacting_wsgi` redacts the HTTP ack bodies.
"""

from __future__ import annotations

import threading
import time

import structlog
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.config import ConfigError, Settings
from bot.domain.redact import RedactionPolicy
from integrations.slack_client import redact_body

APP_TOKEN_PREFIX = "xapp-"


class RedactingSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler with every ack payload redacted before it is sent."""

    def __init__(self, app: App, *, redaction: RedactionPolicy, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self.redaction = redaction

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        bolt_resp = run_bolt_app(self.app, req)
        if bolt_resp.body:
            content_type = (bolt_resp.headers.get("content-type") or [""])[0]
            body = redact_body(bolt_resp.body.encode("utf-8"), content_type, self.redaction)
            bolt_resp.body = body.decode("utf-8")
        send_response(client, req, bolt_resp, start)


def app_token(settings: Settings) -> str:
    """SLACK_APP_TOKEN, checked: ConfigError when it is missing or not an app-level token."""
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    if token is None:
        raise ConfigError(
            [
                "SLACK_APP_TOKEN: required by `deskwatch serve --socket-mode` (an app-level token, "
                "xapp-..., with the connections:write scope; set it in the environment)"
            ]
        )
    if not token.startswith(APP_TOKEN_PREFIX):
        raise ConfigError(
            ["SLACK_APP_TOKEN: must be an app-level token (xapp-...), not a bot or user token (xox...)"]
        )
    return token


def socket_web_client(settings: Settings) -> WebClient:
    """The client that calls `apps.connections.open` at SLACK_API_URL. A plain WebClient: the app
    token goes in its request, and the redacting client must never touch a credential."""
    from bot.app import interactive_retry_handlers

    return WebClient(
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=interactive_retry_handlers(),
    )


def start_socket_mode(
    bolt_app: App, settings: Settings, *, redaction: RedactionPolicy | None = None, ping_interval: float = 10
) -> RedactingSocketModeHandler:
    """Open the Socket Mode connection and return the handler (`close()` it to stop). Non-blocking:
    requests are served on the client's threads. Raises ConfigError for a missing/wrong SLACK_APP_TOKEN
    and SlackApiError when Slack refuses it (`invalid_auth`, `not_allowed_token_type`)."""
    handler = RedactingSocketModeHandler(
        bolt_app,
        app_token=app_token(settings),
        web_client=socket_web_client(settings),
        redaction=redaction if redaction is not None else RedactionPolicy(),
        ping_interval=ping_interval,
    )
    try:
        handler.connect()
    except BaseException:
        handler.close()
        raise
    return handler


def run_socket_mode(deps, bolt_app: App, stop: threading.Event) -> None:
    """`deskwatch serve --socket-mode`: connect, serve until `stop` is set, then close the connection
    (waiting for the requests being handled). The scheduler is the caller's, as over HTTP."""
    from bot.app import redaction_policy

    log = structlog.get_logger("deskwatch.serve")
    handler = start_socket_mode(bolt_app, deps.settings, redaction=redaction_policy(deps.config))
    log.info("serving", mode="socket", api_url=deps.settings.slack_api_url)
    try:
        stop.wait()
    finally:
        handler.close()
        log.info("socket mode closed")
