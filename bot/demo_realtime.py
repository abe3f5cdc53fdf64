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


def play_realtime(
    deps, zendesk, slack, show: Callable[[], None], out, as_text: Callable[[dict], str] = str
) -> None:
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
        _play_home_and_unfurl(deps, slack, server.server_port, out, as_text)
    finally:
        deps.realtime.stop()
        server.shutdown()
        server.server_close()


def _wait(probe, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    return None


def _play_home_and_unfurl(deps, slack, port: int, out, as_text) -> None:
    """The billing manager opens Deskwatch's Home tab, then pastes a ticket link: both as Slack sends
    them (signed `app_home_opened` and `link_shared` events) to the bot's HTTP endpoint."""
    from bot.demo_web.signing import SignedSlack

    secret = deps.settings.slack_signing_secret.get_secret_value()
    signed = SignedSlack(
        f"http://127.0.0.1:{port}/slack/events", secret, team_id=slack.team_id, app_id="A0DESKWATCH"
    )
    signed.event(
        {"type": "app_home_opened", "user": "U0MANAGER", "tab": "home"}, bot_user_id=slack.bot_user_id
    )
    home = _wait(lambda: next((v for v in slack.views() if v.get("type") == "home"), None))
    out("\nThe billing manager opens Deskwatch's Home tab (views.publish, refreshed when its data changes):")
    out(as_text({"blocks": home["blocks"]}) if home else "(no Home view published)")
    link = f"https://{deps.settings.zendesk_subdomain}.zendesk.com/agent/tickets/102"  # the agent's link
    ts = slack.unfurl.post_user_message("C0BILLING", "U0MANAGER", f"Anyone on this one? {link}")
    signed.event(slack.unfurl.link_shared_event("C0BILLING", ts), bot_user_id=slack.bot_user_id)
    message = _wait(
        lambda: next((m for m in slack.messages("C0BILLING") if m.get("ts") == ts and m.get("unfurls")), None)
    )
    out(f"\nSomeone pastes {link} in #C0BILLING; Deskwatch unfurls it into a live ticket card (chat.unfurl):")
    if message:
        for card in message["unfurls"].values():
            out(as_text({"blocks": card["blocks"]}))
    else:
        out("(no unfurl)")
