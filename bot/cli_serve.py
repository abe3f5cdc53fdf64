"""`deskwatch serve`: the Bolt app over HTTP (waitress) or Socket Mode, the scheduler (each job led by
one replica), the webhook worker, and a SIGTERM that stops taking work, finishes or releases what is in
flight and exits within 10 s. Registered on `cli` by `bot.cli` (imported at its end)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Annotated

import structlog
import typer

from bot.cli import EXIT_CONFIG, _fail_config, cli, load_all
from bot.config import ConfigError

# Time SIGTERM gives running jobs (sweep budget 5 s) before the process exits anyway; with the HTTP
# drain (5 s, in parallel) and closing, `serve` exits well within 10 s.
STOP_JOBS_SECONDS = 6.0


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "0.0.0.0",
    port: Annotated[
        int,
        typer.Option(help="HTTP port: /slack/events, /webhooks/*, /healthz, /readyz, /metrics."),
    ] = 3000,
    threads: Annotated[
        int, typer.Option(min=1, max=256, help="Request threads in this one process (waitress).")
    ] = 8,
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode",
            help="Receive Slack over Socket Mode (SLACK_APP_TOKEN, xapp-...): no public URL for Slack. "
            "The HTTP port still serves helpdesk webhooks, /healthz, /readyz and /metrics.",
        ),
    ] = False,
) -> None:
    """Run the Bolt app (over HTTP, or Socket Mode) with the scheduler and the webhook worker."""
    from bot.app import build_bolt_app, build_deps
    from bot.services.leadership import (
        SingleProcessError,
        build_leadership,
        migration_lock,
        sqlite_serve_lock,
    )
    from bot.web import build_wsgi_app, make_http_server
    from jobs.scheduler import build_scheduler

    settings, config = load_all(json_logs=True)
    # Over Socket Mode Slack authenticates the connection (app-level token), not each request.
    required = [("SLACK_BOT_TOKEN", settings.slack_bot_token)]
    if socket_mode:
        required.append(("SLACK_APP_TOKEN", settings.slack_app_token))
    else:
        required.append(("SLACK_SIGNING_SECRET", settings.slack_signing_secret))
    missing = [name for name, value in required if value is None]
    if missing:
        _fail_config(
            [f"{name}: required by `deskwatch serve` (set it in the environment)" for name in missing]
        )
    # SQLite is single-process: a second `serve` on one file is refused before it touches the file.
    file_lock = sqlite_serve_lock(settings.database_url)
    if file_lock is not None:
        try:
            file_lock.acquire()
        except SingleProcessError as exc:
            typer.echo(f"deskwatch: {exc}", err=True)
            raise typer.Exit(EXIT_CONFIG) from None
    with migration_lock(settings.database_url):  # replicas starting together migrate in turn
        deps = build_deps(settings, config)
    bolt_app = build_bolt_app(deps)
    leadership = build_leadership(deps.store.engine)
    server = make_http_server(
        build_wsgi_app(deps, bolt_app, leadership=leadership), host, port, threads=threads
    )
    scheduler = build_scheduler(deps, leadership=leadership)
    socket = _connect_socket_mode(bolt_app, settings, config) if socket_mode else None
    scheduler.start()
    deps.realtime.start()  # webhook re-reads (bot.services.realtime)
    log = structlog.get_logger("deskwatch.serve")
    log.info(
        "serving",
        host=host,
        port=server.server_port,
        slack="socket mode" if socket_mode else "http",
        threads=threads,
        helpdesks=[s.value for s in deps.helpdesks],
    )

    stop_deadline: list[float] = []

    def _stop_jobs() -> None:
        stop_deadline.append(time.monotonic() + STOP_JOBS_SECONDS)
        leadership.stop()  # no job run starts now; runs already going finish (their claims with them)
        if scheduler.running:
            scheduler.shutdown(wait=False)

    def _stop(*_args) -> None:
        # shutdown() waits for the serving loop, which runs on this (the signal-handling) thread.
        log.info("stopping", signal="SIGTERM")
        _stop_jobs()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if socket is not None:
            socket.close()  # waits for the requests being handled, like the HTTP drain
        deps.realtime.stop()
        if not stop_deadline:
            _stop_jobs()
        idle = leadership.wait_idle(max(0.0, stop_deadline[0] - time.monotonic()))
        if not idle:
            # A job still runs: exit now; the session drops with the process, so PostgreSQL frees the
            # locks, and the job's outbox claims expire (claimed_until) and are resolved by lookup.
            log.warning("stopped_with_jobs_running", leading=leadership.leading())
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        leadership.close()
        server.server_close()
        deps.store.engine.dispose()
        if file_lock is not None:
            file_lock.release()
        log.info("stopped")


def _connect_socket_mode(bolt_app, settings, config):
    """Open the Socket Mode connection before any job starts; a refused token exits 2, not a traceback."""
    from slack_sdk.errors import SlackApiError

    from bot.app import redaction_policy
    from bot.socket_mode import start_socket_mode

    try:
        return start_socket_mode(bolt_app, settings, redaction=redaction_policy(config))
    except ConfigError as exc:
        _fail_config(exc.problems)
    except SlackApiError as exc:
        error = exc.response.get("error")
        _fail_config(
            [f"SLACK_APP_TOKEN: Slack refused it for Socket Mode ({error}): use the app-level token"]
        )
