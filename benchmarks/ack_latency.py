"""Slack request ack latency of `deskwatch serve`: N concurrent signed requests, p50/p99/max.

Bounded: starts `deskwatch serve` as a subprocess on 127.0.0.1 against local Slack/Zendesk/Intercom
emulators seeded with the demo desk, waits for its scheduler to post the alerts, then sends R rounds
(default 3) of N requests (default 200) all at once: half `/sla` slash commands, half Acknowledge
clicks on the posted alerts' buttons, each signed as Slack signs it and on its own connection. Latency
runs from opening the connection to the last byte of the answer. Every request has a 10 s timeout and
the whole run a 4-minute deadline. `--server wsgiref` runs the same `serve` on the stdlib server it
replaced, for comparison.
Usage: python benchmarks/ack_latency.py [--requests 200] [--rounds 3] [--threads 8] [--server wsgiref]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import requests
import yaml
from slack_sdk.signature import SignatureVerifier

from bot.blocks.ids import SlaActions
from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.seed import DEMO_CONFIG, make_slack, seed_intercom, seed_zendesk
from integrations.emulators.zendesk import ZendeskEmulator

HOST = "127.0.0.1"
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
DEADLINE_S = 240
REQUEST_TIMEOUT_S = 10
USERS = ("U0MANAGER", "U0PAYLEAD", "U0COMPLY")
SLA_SCOPES = ("", "all", "billing", "payments", "compliance")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="concurrent requests per round (max 500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (max 10)")
    parser.add_argument("--threads", type=int, default=8, help="`serve --threads` (waitress only)")
    parser.add_argument("--server", choices=("waitress", "wsgiref"), default="waitress")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--serve-with-wsgiref", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_with_wsgiref is not None:
        _serve_with_wsgiref(args.serve_with_wsgiref)
        return
    requests_per_round, rounds = min(args.requests, 500), min(args.rounds, 10)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="dw-ack-"))
    slack, zendesk, intercom = make_slack(TOKEN), ZendeskEmulator(), IntercomEmulator()
    for emu in (slack, zendesk, intercom):
        emu.start()
    proc = None
    try:
        now = datetime.now(UTC)
        seed_zendesk(zendesk, now)
        seed_intercom(intercom, now)
        config_path = workdir / "deskwatch.yaml"
        schedule = {"sync_interval": "30s", "sweep_interval": "1s"}
        config_path.write_text(yaml.safe_dump({**DEMO_CONFIG, "schedule": schedule}))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
            "DESKWATCH_CONFIG": str(config_path),
            "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "ZENDESK_SUBDOMAIN": "deskwatch-demo",
            "ZENDESK_EMAIL": zendesk.email,
            "ZENDESK_API_TOKEN": zendesk.token,
            "ZENDESK_URL": zendesk.url,
            "INTERCOM_ACCESS_TOKEN": intercom.token,
            "INTERCOM_URL": intercom.url,
        }
        port = _free_port()
        serve_args = ["serve", "--host", HOST, "--port", str(port), "--threads", str(args.threads)]
        if args.server == "wsgiref":
            command = [sys.executable, __file__, "--serve-with-wsgiref", *serve_args]
        else:
            command = [sys.executable, "-m", "bot", *serve_args]
        log_path = workdir / "serve.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://{HOST}:{port}"
        _wait(lambda: _healthy(base), 30, "healthz")
        _wait(lambda: len(_ack_buttons(slack)) >= 7, 30, "the demo desk's 7 alerts")
        buttons = _ack_buttons(slack)
        bodies = _bodies(requests_per_round, buttons, slack)
        asyncio.run(_round(port, bodies[:10], concurrent=False))  # warm-up: first-request costs
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        for _ in range(rounds):
            if time.monotonic() - started > DEADLINE_S:
                break
            results = asyncio.run(_round(port, bodies, concurrent=True))
            latencies += [ms for outcome, ms in results if outcome == "200"]
            errors.update(outcome for outcome, _ in results if outcome != "200")
        stop_started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        stop_s = time.monotonic() - stop_started
    except BaseException:
        if proc is not None and proc.poll() is None:
            proc.kill()
        print((workdir / "serve.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        for emu in (slack, zendesk, intercom):
            emu.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    latencies.sort()
    worst = latencies[-1] if latencies else float("nan")
    threads = str(args.threads) if args.server == "waitress" else "1 per request"
    print("| Server | Threads | Concurrent | Requests | p50 | p99 | max | Errors | Stop after SIGTERM |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.server} | {threads} | {requests_per_round} | {len(latencies) + errors.total()} "
        f"| {_pct(latencies, 50):.0f} ms | {_pct(latencies, 99):.0f} ms | {worst:.0f} ms "
        f"| {errors.total()} | {stop_s:.1f} s (exit {code}) |"
    )
    kinds = ", ".join(f"{n} {kind}" for kind, n in errors.most_common()) or "none"
    took = time.monotonic() - started
    print(f"({len(buttons)} alerts; errors: {kinds}; {took:.0f} s in all on {os.cpu_count()} cores)")


def _bodies(count: int, buttons: list[dict], slack) -> list[str]:
    """Half `/sla` in several scopes, half Acknowledge clicks spread over the alerts and users."""
    bodies = []
    for i in range(count):
        user = USERS[i % len(USERS)]
        if i % 2 == 0:
            fields = {
                "token": "legacy",
                "team_id": "T0DESKWATCH",
                "channel_id": "C0RANDOM",
                "user_id": user,
                "command": "/sla",
                "text": SLA_SCOPES[(i // 2) % len(SLA_SCOPES)],
                "api_app_id": "A0DESKWATCH",
                "response_url": slack.response_url(f"sla-{i}"),
                "trigger_id": "T-trigger",
            }
        else:
            b = buttons[(i // 2) % len(buttons)]
            action = {"type": "button", "action_id": SlaActions.ACKNOWLEDGE.value, "block_id": "b"}
            payload = {
                "type": "block_actions",
                "team": {"id": "T0DESKWATCH"},
                "user": {"id": user, "team_id": "T0DESKWATCH"},
                "api_app_id": "A0DESKWATCH",
                "container": {"type": "message", "message_ts": b["ts"], "channel_id": b["channel"]},
                "channel": {"id": b["channel"]},
                "message": {"type": "message", "ts": b["ts"], "text": "alert"},
                "response_url": slack.response_url(f"ack-{i}"),
                "trigger_id": "T-trigger",
                "actions": [{**action, "value": b["value"], "action_ts": "1.2"}],
            }
            fields = {"payload": json.dumps(payload)}
        bodies.append(urlencode(fields))
    return bodies


async def _round(port: int, bodies: list[str], *, concurrent: bool) -> list[tuple[str, float]]:
    if not concurrent:
        return [await _post(port, body) for body in bodies]
    return list(await asyncio.gather(*(_post(port, body) for body in bodies)))


async def _post(port: int, body: str) -> tuple[str, float]:
    """One signed request on a fresh connection, as Slack sends it: ("200" or what went wrong, ms)."""
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    data = body.encode()
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {signature}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(head + data)
            await writer.drain()
            answer = await reader.read()  # Connection: close, so the server ends the stream
            writer.close()
    except TimeoutError:
        outcome = "timeout"
    except OSError as e:
        outcome = type(e).__name__
    else:
        status_line = answer.split(b"\r\n", 1)[0].split()
        outcome = status_line[1].decode() if len(status_line) > 1 else "no answer"
    return outcome, (time.perf_counter() - started) * 1000


def _ack_buttons(slack) -> list[dict]:
    found = []
    for message in slack.messages():
        for block in message.get("blocks") or []:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == SlaActions.ACKNOWLEDGE.value:
                    where = {"channel": message["channel"], "ts": message["ts"]}
                    found.append({**where, "value": element["value"]})
    return found


def _pct(sorted_values: list[float], pct: int) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))]


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _wait(probe, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _serve_with_wsgiref(argv: list[str]) -> None:
    """`deskwatch serve` with the thread-per-request wsgiref server it used before waitress."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    import bot.web
    from bot.cli import main as deskwatch

    class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            return

    def make_wsgiref_server(wsgi_app, host, port, **_ignored):
        return make_server(host, port, wsgi_app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)

    bot.web.make_http_server = make_wsgiref_server
    sys.argv = ["deskwatch", *argv]
    deskwatch()


if __name__ == "__main__":
    main()
