"""The HTTP surface of `deskwatch serve`: POST /slack/events (Bolt), GET /healthz (liveness), GET /readyz
(readiness: database, migrations, sync ages, outbox backlog, leadership), GET /metrics."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from prometheus_client import make_wsgi_app
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

from integrations.slack_client import redacting_wsgi

if TYPE_CHECKING:
    from bot.app import Deps

EVENTS_PATH = "/slack/events"
DEFAULT_THREADS = 8
# Slack's largest payloads (a view_submission carrying a 100-block modal's state) are tens of KiB;
# 1 MiB leaves room and answers 413 long before a stray upload could use memory.
MAX_BODY_BYTES = 1024 * 1024
# Time given to requests already received when asked to stop; Slack gives up on an ack after 3 s.
DRAIN_SECONDS = 5.0


def build_wsgi_app(deps: Deps, bolt_app: App, *, leadership=None):
    from bot.app import redaction_policy

    # What Slack shows from our answers to its requests (ack bodies) is redacted like every API call.
    slack_handler = redacting_wsgi(
        SlackRequestHandler(bolt_app, path=EVENTS_PATH), redaction_policy(deps.config), path=EVENTS_PATH
    )
    metrics_app = make_wsgi_app(deps.metrics.registry)
    from bot.webhooks import PREFIX as WEBHOOKS_PREFIX
    from bot.webhooks import build_webhook_app

    webhooks_app = build_webhook_app(deps)

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

    migration_head = _migration_head(deps)

    def readyz(environ, start_response):
        """Ready only when the database answers and its schema is at this code's head revision."""
        body: dict = {"ready": False, "migrations": {"current": None, "head": migration_head}}
        try:
            from bot.store.db import current_revision

            body["migrations"]["current"] = current = current_revision(deps.store.engine)
            now = deps.clock()
            helpdesks = {}
            for source in deps.helpdesks:
                last = deps.store.sync_state(source).last_success_at
                age = (now - last).total_seconds() if last else None
                helpdesks[source.value] = {
                    "last_success_at": last.isoformat() if last else None,
                    "age_seconds": round(age, 3) if age is not None else None,
                }
            body["helpdesks"] = helpdesks
            body["outbox"] = deps.outbox.store.counts_by_state()
            body["database"] = "ok"
            body["ready"] = current == migration_head
            if not body["ready"]:
                body["reason"] = f"database schema at {current}, this code needs {migration_head}"
        except Exception as exc:  # noqa: BLE001 (not ready; the class name only, never a URL)
            body["database"] = f"error: {type(exc).__name__}"
            body["reason"] = "the database does not answer"
        leading = leadership.leading() if leadership is not None else {}
        body["leadership"] = {
            "backend": getattr(leadership, "backend", None),
            "pid": os.getpid(),
            "jobs": leading,
            "leads": sorted(job for job, held in leading.items() if held),
        }
        payload = json.dumps(body).encode()
        status = "200 OK" if body["ready"] else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(WEBHOOKS_PREFIX):
            return webhooks_app(environ, start_response)
        if path == EVENTS_PATH:
            return slack_handler(environ, start_response)
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            return health(environ, start_response)
        if path == "/readyz" and environ.get("REQUEST_METHOD") == "GET":
            return readyz(environ, start_response)
        if path == "/metrics" and environ.get("REQUEST_METHOD") == "GET":
            return metrics_app(environ, start_response)
        payload = b'{"error": "not found"}'
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "22")])
        return [payload]

    return app


def _migration_head(deps: Deps) -> str | None:
    from alembic.script import ScriptDirectory

    from bot.store.db import alembic_config

    return ScriptDirectory.from_config(alembic_config(deps.store.engine)).get_current_head()


class HttpServer:
    """waitress behind the `socketserver` calls (`serve_forever`, `shutdown`, `server_close`, `server_port`).

    One process, `threads` workers: the scheduler and metrics registry exist once per replica, and a slow
    listener never holds up another request's ack. Stopping closes the listening socket first (new
    connections are refused, so a load balancer moves on), finishes requests already received for up
    to `drain_seconds`, then closes every connection.
    """

    def __init__(self, wsgi_app, host: str, port: int, *, threads: int, drain_seconds: float) -> None:
        self._map: dict = {}
        self._server = create_server(
            wsgi_app,
            map=self._map,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=MAX_BODY_BYTES,
            asyncore_use_poll=True,  # select() stops at fd 1024
            ident="deskwatch",
            expose_tracebacks=False,
        )
        # waitress warns once per request queued behind busy threads: hundreds of lines in one Slack burst.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._drain_seconds = drain_seconds
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    @property
    def server_port(self) -> int:
        return self._server.effective_port

    def serve_forever(self) -> None:
        """Serve until `shutdown()`; every socket is touched only from this thread."""
        self._stopped.clear()
        try:
            timeout = self._server.adj.asyncore_loop_timeout
            while not self._stop.is_set():
                wasyncore.loop(timeout=timeout, map=self._map, use_poll=True, count=1)
            self._drain()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Ask `serve_forever` to stop and wait until it has; call it from another thread."""
        self._stop.set()
        self._server.pull_trigger()
        self._stopped.wait()

    def server_close(self) -> None:
        self._server.task_dispatcher.shutdown(timeout=2)
        wasyncore.close_all(self._map)

    def _drain(self) -> None:
        wasyncore.dispatcher.close(self._server)  # the listening socket only: the trigger stays
        deadline = time.monotonic() + self._drain_seconds
        while time.monotonic() < deadline:
            channels = list(self._server.active_channels.values())
            for channel in channels:
                if not (channel.requests or channel.request or channel.total_outbufs_len):
                    channel.will_close = True  # idle keep-alive connections
            if not channels:
                return
            wasyncore.loop(timeout=0.05, map=self._map, use_poll=True, count=1)


def make_http_server(
    wsgi_app, host: str, port: int, *, threads: int = DEFAULT_THREADS, drain_seconds: float = DRAIN_SECONDS
) -> HttpServer:
    return HttpServer(wsgi_app, host, port, threads=threads, drain_seconds=drain_seconds)
