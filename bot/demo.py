"""`deskwatch demo`: the real bot against the bundled emulators, on SQLite, printing what it posts.

Starts Slack/Zendesk/Intercom emulators on 127.0.0.1 (random ports) seeded with a fintech support
desk, runs one `sla scan` pass, prints every Slack message as readable text, then keeps the scheduler
running (upstream sync + deadline sweep) so the chargeback ticket visibly breaches ~45 s later.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.app import build_deps, utc_now
from bot.config import config_from_dict, load_settings
from bot.demo_digest import DEMO_DIGESTS, play_digest
from bot.demo_escalation import DEMO_ESCALATION, ShiftedClock, play_escalation, prepare_emulators
from bot.demo_qa import DEMO_QA, play_qa, prepare_qa_emulators
from bot.demo_realtime import DEMO_WEBHOOK_SECRET, play_realtime
from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.seed import DEMO_CONFIG, make_slack, open_ticket, seed_intercom, seed_zendesk
from integrations.emulators.zendesk import ZendeskEmulator
from jobs.scheduler import build_scheduler
from jobs.sla import scan

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER = re.compile(r"<@([A-Z0-9]+)>")
_BOLD = re.compile(r"\*([^*\n]+)\*")


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn -> terminal text: links keep their label, mentions become @U…."""
    text = _LINK.sub(lambda m: m.group(2), text)
    text = _USER.sub(lambda m: "@" + m.group(1), text)
    text = _BOLD.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def message_to_text(message: dict) -> str:
    """Readable rendering of one posted message (its blocks, else its text)."""
    where = f"#{message['channel']}" + (
        "  (thread reply, also sent to channel)"
        if message.get("reply_broadcast")
        else "  (thread reply)"
        if message.get("thread_ts")
        else ""
    )
    return "\n".join([f"── {where} ─ ts {message['ts']}", blocks_to_text(message)])


def blocks_to_text(message: dict) -> str:
    """Readable lines of a message's or a view's blocks (its text when it has none)."""
    lines: list[str] = []
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind in ("header", "section") and block.get("text"):
            text = mrkdwn_to_text(block["text"]["text"])
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                text += f"  [{accessory.get('text', {}).get('text', '')}]"
            lines.append(text)
        if kind == "section" and block.get("fields"):
            cells = [mrkdwn_to_text(f["text"]).replace("\n", " ") for f in block["fields"]]
            lines.append("  " + " | ".join(cells))
        elif kind == "context":
            lines.append(
                "  " + " ".join(mrkdwn_to_text(e.get("text", "")) for e in block.get("elements", []))
            )
        elif kind == "actions":
            buttons = []
            for element in block.get("elements", []):
                label = (element.get("text") or element.get("placeholder") or {}).get("text", "")
                buttons.append(f"[{label}]" + (f" {element['url']}" if element.get("url") else ""))
            lines.append("  " + "  ".join(buttons))
    if not lines:
        lines.append(mrkdwn_to_text(message.get("text", "")))
    return "\n".join(lines)


def run_demo(
    *,
    once: bool,
    database_url: str | None,
    out: Callable[[str], None] = print,
    port: int | None = None,
    stop: threading.Event | None = None,
    scenes: bool = True,
) -> int:
    """Run the demo; returns how many Slack messages the bot posted. Unless `once`, `port` (0: any free
    one) also serves the workspace page on 127.0.0.1; `stop` ends the long-running mode (tests);
    `scenes=False` (tests) skips the scripted scenes after the first pass, so the page is live at once."""
    web = None
    if not once and port is not None:
        from bot.demo_web.server import DemoWeb

        web = DemoWeb(port)
        out(f"Demo workspace in your browser: {web.url}")
    signing_secret = secrets.token_hex(16)
    now = utc_now()
    tmpdir = None
    if database_url is None:
        tmpdir = tempfile.mkdtemp(prefix="deskwatch-demo-")
        database_url = f"sqlite:///{Path(tmpdir) / 'deskwatch-demo.db'}"
    slack_token = "xoxb-demo-" + secrets.token_hex(8)
    slack = make_slack(slack_token)
    clock = ShiftedClock(utc_now)
    zendesk = ZendeskEmulator(now=clock)
    intercom = IntercomEmulator(now=clock)
    for emulator in (slack, zendesk, intercom):
        emulator.start()
    try:
        seed_zendesk(zendesk, now)
        seed_intercom(intercom, now)
        prepare_emulators(slack, zendesk, intercom)
        prepare_qa_emulators(slack)
        settings = load_settings(
            database_url=database_url,
            slack_bot_token=slack_token,
            slack_signing_secret=signing_secret,
            slack_api_url=slack.api_url,
            zendesk_subdomain="deskwatch-demo",
            zendesk_email=zendesk.email,
            zendesk_api_token=zendesk.token,
            zendesk_url=zendesk.url,
            intercom_access_token=intercom.token,
            intercom_url=intercom.url,
            zendesk_webhook_secret=DEMO_WEBHOOK_SECRET,
        )
        config = config_from_dict(
            {**DEMO_CONFIG, "escalation": DEMO_ESCALATION, "qa": DEMO_QA, "digests": DEMO_DIGESTS},
            source="demo",
        )
        deps = build_deps(settings, config, clock=clock)
        out(f"Deskwatch demo: Slack {slack.url}, Zendesk {zendesk.url}, Intercom {intercom.url}")
        out(f"Database: {database_url}")
        if scenes:  # Real life, played on purpose: Slack stores the first post but its answer never arrives.
            slack.lose_response("/api/chat.postMessage", mode="reset")
        report = scan(deps, deps.clock())
        for result in report.syncs:
            out(f"{result.source.label}: {result.items} items synced with {result.api_calls} API calls")
        seen: dict[str, str] = {}
        _print_new(slack.messages(), seen, out)
        delivery = report.sweep.delivery if report.sweep else None
        posted = len(delivery.posted) if delivery else 0
        out(
            f"\n{posted} alert(s) posted on the first pass; "
            "ic:9007 (an outbound notice nobody answered) gets none."
        )
        if scenes:
            _play_faults(deps, zendesk, slack, seen, out, unknown=len(delivery.unknown) if delivery else 0)
            play_escalation(deps, slack, zendesk, clock, lambda: _print_new(slack.messages(), seen, out), out)
            play_qa(deps, lambda: _print_new(slack.messages(), seen, out), out, as_text=message_to_text)
            play_digest(deps, zendesk, intercom, lambda: _print_new(slack.messages(), seen, out), out)
            play_realtime(
                deps,
                zendesk,
                slack,
                lambda: _print_new(slack.messages(), seen, out),
                out,
                as_text=blocks_to_text,
            )
        if once:
            return len(slack.messages())
        out(
            "Running the scheduler (sync every 15 s, sweep every 5 s); zd:103 breaches in under a minute. "
            "Ctrl-C to stop."
        )
        scheduler = build_scheduler(deps)
        scheduler.start()
        if web is not None:
            web.attach(
                slack=slack,
                zendesk=zendesk,
                intercom=intercom,
                clock=clock,
                deps=deps,
                signing_secret=signing_secret,
            )
            out(f"The workspace page is live: {web.url}")
        finish_jobs = stop is not None  # stopped by a caller (tests): running jobs end before the emulators
        stop = stop or threading.Event()
        try:
            while not stop.wait(1.0):
                _print_new(slack.messages(), seen, out)
        except KeyboardInterrupt:
            out("\nStopping.")
        finally:
            scheduler.shutdown(wait=finish_jobs)
        return len(slack.messages())
    finally:
        if web is not None:
            web.stop()
        for emulator in (slack, zendesk, intercom):
            emulator.stop()


def _play_faults(deps, zendesk: ZendeskEmulator, slack, seen: dict[str, str], out, *, unknown: int) -> None:
    """Show the outbox keeping its promise: a post whose answer was lost is looked up, not re-sent,
    a deadline Zendesk moves after a breach updates the message it already has, and an alert storm in
    one channel becomes a grouped message."""
    if unknown:
        out(
            f"\nSlack stored {unknown} post(s) but the answer was lost (connection reset). Deskwatch never "
            "re-sends blind: it looks the message up by its metadata first."
        )
        later = deps.clock() + timedelta(seconds=31)  # the lookup's first retry time
        resolved = deps.outbox.drain(now=later)
        out(
            f"Lookup: {len(resolved.recovered)} found in the channel history and recorded, "
            f"{len(resolved.posted)} posted; {len(slack.messages())} messages in Slack, none twice."
        )
    now = deps.clock()
    zendesk.set_priority(101, "normal", breach_at=now + timedelta(minutes=30), at=now)
    out("\nzd:101 is lowered from urgent to normal in Zendesk after its breach: its SLA deadline moves.")
    scan(deps, now)
    _print_new(slack.messages(), seen, out)
    # An outage upstream: a dozen payment tickets breach at once in one channel.
    for n in range(12):
        open_ticket(
            zendesk,
            300 + n,
            created=now - timedelta(hours=3),
            breach_at=now - timedelta(minutes=20 - n),
            group_id=8,
        )
    before = len(slack.messages())
    out("\nAn outage: 12 payment tickets breach at once. One grouped message, one Acknowledge per ticket:")
    scan(deps, now)
    _print_new(slack.messages(), seen, out)
    out(f"({len(slack.messages()) - before} post(s) for 12 breaches.)")


def _print_new(messages: list[dict], seen: dict[str, str], out: Callable[[str], None]) -> None:
    for message in messages:
        rendered = message_to_text(message)
        key = f"{message['channel']}/{message['ts']}"
        if seen.get(key) != rendered:
            prefix = "(updated) " if key in seen else ""
            seen[key] = rendered
            out("\n" + prefix + rendered)
