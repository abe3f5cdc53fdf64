"""The real-time part of `deskwatch demo`: `serve`'s HTTP surface on 127.0.0.1, a forged Zendesk webhook
refused, then a new ticket whose signed webhook gets its warning posted without waiting for the
poll (one ticket read, no sync)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import requests

from bot.webhooks import zendesk_signature
from integrations.emulators.seed import open_ticket
from jobs.sla import sweep_job

DEMO_WEBHOOK_SECRET = "demo-zendesk-webhook-secret"  # the demo's settings carry it as ZENDESK_WEBHOOK_SECRET
DEMO_TICKET = 130


def _signed(body: bytes, secret: str, now: datetime) -> dict[str, str]:
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Signature": zendesk_signature(secret, stamp, body),
    }


def _posted(slack, ref: str) -> bool:
    return any(ref in message.get("text", "") for message in slack.messages())


def play_realtime(deps, zendesk, slack, show: Callable[[], None], out) -> None:
    from bot.app import build_bolt_app
    from bot.web import build_wsgi_app, make_http_server

    out("\n=== Real time: a helpdesk webhook instead of the next poll ===")
    server = make_http_server(build_wsgi_app(deps, build_bolt_app(deps)), "127.0.0.1", 0, threads=4)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    deps.realtime.start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks/zendesk"
    try:
        body = json.dumps({"ticket_id": str(DEMO_TICKET)}).encode()
        forged_headers = _signed(body, "not-the-secret", deps.clock())
        forged = requests.post(url, data=body, headers=forged_headers, timeout=5)
        out(f"A webhook signed with the wrong secret: HTTP {forged.status_code}, nothing changes.")
        out("The sweep first posts what came due while the demo moved its clock forward:")
        sweep_job(deps, deps.clock())
        show()
        now = deps.clock()
        open_ticket(zendesk, DEMO_TICKET, created=now, breach_at=now + timedelta(minutes=20))
        zendesk.reset_log()
        started = time.monotonic()
        headers = _signed(body, DEMO_WEBHOOK_SECRET, deps.clock())
        answer = requests.post(url, data=body, headers=headers, timeout=5)
        deadline = time.monotonic() + 10
        while not _posted(slack, f"zd:{DEMO_TICKET}") and time.monotonic() < deadline:
            time.sleep(0.02)
        took = time.monotonic() - started
        calls = [c.path for c in zendesk.calls("/api/v2")]
        out(
            f"zd:{DEMO_TICKET} (first reply due in 20 min, inside the 30 min warning) is created; "
            f"Zendesk's signed webhook is answered {answer.status_code} at once and its warning is in "
            f"Slack {took:.2f} s later, after {len(calls)} Zendesk call{'' if len(calls) == 1 else 's'} "
            f"({', '.join(calls)}), without waiting for the poll:"
        )
        show()
    finally:
        deps.realtime.stop()
        server.shutdown()
        server.server_close()
