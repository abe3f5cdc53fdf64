"""The HTTP surface of `deskwatch serve`: POST /slack/events (Bolt), GET /healthz, GET /metrics."""

from __future__ import annotations

import json
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from integrations.slack_client import redacting_wsgi

if TYPE_CHECKING:
    from bot.app import Deps

EVENTS_PATH = "/slack/events"


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request so a slow listener never blocks Slack's 3-second ack of another."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - access logs go through structlog, not stderr
        return


def build_wsgi_app(deps: Deps, bolt_app: App):
    from bot.app import redaction_policy

    # What Slack shows from our answers to its requests (ack bodies) is redacted like every API call.
    slack_handler = redacting_wsgi(
        SlackRequestHandler(bolt_app, path=EVENTS_PATH), redaction_policy(deps.config), path=EVENTS_PATH
    )
    metrics_app = make_wsgi_app(deps.metrics.registry)

    def health(environ, start_response):
        states = {s.value: deps.store.sync_state(s) for s in deps.helpdesks}
        body = {
            "status": "ok",
            "helpdesks": {
                name: {
                    "last_success_at": st.last_success_at.isoformat() if st.last_success_at else None,
                    "last_error": st.last_error,
                }
                for name, st in states.items()
            },
        }
        payload = json.dumps(body).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        )
        return [payload]

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return slack_handler(environ, start_response)
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            return health(environ, start_response)
        if path == "/metrics" and environ.get("REQUEST_METHOD") == "GET":
            return metrics_app(environ, start_response)
        payload = b'{"error": "not found"}'
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "22")])
        return [payload]

    return app


def make_http_server(wsgi_app, host: str, port: int) -> WSGIServer:
    return make_server(host, port, wsgi_app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
