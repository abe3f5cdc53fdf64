"""API calls of one escalation handoff, step by step, on Zendesk and on Intercom.

Runs the real service (store, outbox, Slack WebClient, zenpy, python-intercom) against the bundled
emulators on 127.0.0.1, with the issue's escalation matrix (T1 -> T2 -> Compliance) and an injected
clock: the form's ticket read, the submit (handoff post + internal note + routing), two re-pings in
T2, the auto-escalation to Compliance, Accept (the responder becomes the assignee) and the close when
the ticket is solved upstream. Every request each emulator records is counted per step and method.
The open is also driven as a person does it, through the Bolt app with signed Slack requests
(`/escalate <ref>`, then the form's submit), to show what the modal adds.
Rows the outbox puts back to wait (a thread note whose handoff is not posted yet) are delivered
within their step: the clock moves on by a few seconds and the outbox is drained again, as `serve`'s
one-second delivery job would.

Usage: python benchmarks/escalation_cost.py [--intercom-ref ic:9001] [--zendesk-ref zd:102]
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

from bot.app import build_bolt_app, build_deps
from bot.blocks.escalation import Urgency
from bot.blocks.escalation_modal import EscalationRequest
from bot.blocks.ids import EscalationBlocks, EscalationModalActions, EscalationViews
from bot.config import config_from_dict, load_settings
from bot.demo_escalation import DEMO_ESCALATION, DEMO_PEOPLE
from bot.domain.escalation_types import Accept
from bot.domain.model import Source, TicketRef
from bot.logs import configure_logging
from bot.store.outbox import OutboxState
from bot.web import build_wsgi_app, make_http_server
from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.seed import DEMO_CHANNELS, DEMO_CONFIG, seed_intercom, seed_zendesk
from integrations.emulators.slack import SlackEmulator
from integrations.emulators.zendesk import ZendeskEmulator
from jobs.sla import sync_job

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday morning
SETTLE = timedelta(seconds=6)  # past the outbox's 5 s wait for a handoff message
_ID = re.compile(r"/\d+(?=/|\.json|$)")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Step:
    name: str
    slack: Counter = field(default_factory=Counter)
    helpdesk: Counter = field(default_factory=Counter)
    sync_calls: int = 0  # helpdesk calls of the regular upstream sync, included in `helpdesk`


def slack_method(path: str) -> str:
    return path.removeprefix("/api/")


def helpdesk_method(method: str, path: str) -> str:
    return f"{method} {_ID.sub('/{id}', path.removeprefix('/api/v2/'))}"


class Meter:
    """Requests recorded by the emulators since the last mark."""

    def __init__(self, slack: SlackEmulator, helpdesk, prefix: str) -> None:
        self.slack, self.helpdesk, self.prefix = slack, helpdesk, prefix
        self.mark()

    def mark(self) -> None:
        self._slack = len(self.slack.calls("/api/"))
        self._helpdesk = len(self.helpdesk.calls(self.prefix))

    def take(self, name: str) -> Step:
        step = Step(name)
        step.slack.update(slack_method(r.path) for r in self.slack.calls("/api/")[self._slack :])
        step.helpdesk.update(
            helpdesk_method(r.method, r.path) for r in self.helpdesk.calls(self.prefix)[self._helpdesk :]
        )
        self.mark()
        return step


def prepare(slack: SlackEmulator, zendesk: ZendeskEmulator, intercom: IntercomEmulator) -> None:
    """What the demo's escalation block names: channel C0T2, the responders (with emails), the
    Compliance group/team 900, and Lena (U0LEGAL) as a Zendesk agent and an Intercom admin."""
    slack.add_channel("C0T2")
    for user, name in DEMO_PEOPLE:
        slack.add_user(user, name, email=f"{name}@deskwatch.example")
    zendesk.add_group(900, "Compliance review")
    zendesk.add_user(5901, "Lena Legal", email="lena@deskwatch.example")
    intercom.add_team(900, "Compliance review")
    intercom.add_admin(903, "Lena Legal", email="lena@deskwatch.example")


def settle(deps, clock: Clock) -> None:
    """Deliver what is due now, then what waited for a handoff message to exist."""
    deps.outbox.drain(now=clock())
    for _ in range(5):
        if not _pending(deps):
            return
        clock.advance(SETTLE)
        deps.outbox.drain(now=clock())


def _pending(deps) -> bool:
    counts = deps.outbox.store.counts_by_state()
    return bool(counts.get(OutboxState.PENDING) or counts.get(OutboxState.UNKNOWN))


@dataclass
class Stack:
    clock: Clock
    deps: object
    slack: SlackEmulator
    zendesk: ZendeskEmulator
    intercom: IntercomEmulator
    signing_secret: str

    def helpdesk(self, source: Source):
        return self.zendesk if source is Source.ZENDESK else self.intercom

    def meter(self, source: Source) -> Meter:
        # Zendesk's API lives under /api/v2; every Intercom path is API.
        return Meter(self.slack, self.helpdesk(source), "/api/" if source is Source.ZENDESK else "/")


@contextmanager
def stack() -> Iterator[Stack]:
    """Emulators seeded with the demo desk, the demo's escalation block, a fresh SQLite store, and
    one first sync done (as `serve` would have long before the escalation: not counted)."""
    clock = Clock()
    slack_token = "xoxb-bench-" + secrets.token_hex(8)
    slack = SlackEmulator(
        token=slack_token,
        channels=DEMO_CHANNELS,
        users=("U0MANAGER", "U0PAYLEAD", "U0COMPLY"),
        wall_clock=lambda: clock().timestamp(),
    )
    zendesk, intercom = ZendeskEmulator(now=clock), IntercomEmulator(now=clock)
    tmp = Path(tempfile.mkdtemp(prefix="deskwatch-esc-bench-"))
    signing_secret = secrets.token_hex(16)
    for emulator in (slack, zendesk, intercom):
        emulator.start()
    try:
        seed_zendesk(zendesk, clock())
        seed_intercom(intercom, clock())
        prepare(slack, zendesk, intercom)
        settings = load_settings(
            database_url=f"sqlite:///{tmp / 'bench.db'}",
            slack_bot_token=slack_token,
            slack_signing_secret=signing_secret,
            slack_api_url=slack.api_url,
            zendesk_subdomain="deskwatch-bench",
            zendesk_email=zendesk.email,
            zendesk_api_token=zendesk.token,
            zendesk_url=zendesk.url,
            intercom_access_token=intercom.token,
            intercom_url=intercom.url,
        )
        config = config_from_dict({**DEMO_CONFIG, "escalation": DEMO_ESCALATION}, source="benchmark")
        deps = build_deps(settings, config, clock=clock, post_interval=0)
        sync_job(deps, clock())
        try:
            yield Stack(clock, deps, slack, zendesk, intercom, signing_secret)
        finally:
            deps.store.engine.dispose()
    finally:
        for emulator in (slack, zendesk, intercom):
            emulator.stop()


def run_flow(source: Source, ref_text: str) -> tuple[list[Step], dict[str, object]]:
    """The whole handoff through the service, step by step."""
    with stack() as st:
        deps, clock = st.deps, st.clock
        meter = st.meter(source)
        ref = TicketRef.parse(ref_text)
        steps: list[Step] = []

        ticket = deps.tickets.summary(ref, now=clock())
        steps.append(meter.take("open: the form (ticket read)"))

        request = EscalationRequest(
            ref=ref,
            tier=1,
            reason="fraud_suspected",
            needs="Confirm whether the two card payments were authorised",
            tried="Checked the ledger and 3-D Secure logs",
            urgency=Urgency.HIGH,
        )
        opened = deps.escalations.open(request, chain=None, by="U0AGENT", ticket=ticket)
        settle(deps, clock)
        steps.append(meter.take("open: submit (post + note + route)"))

        for attempt in (1, 2):
            clock.advance(timedelta(minutes=15, seconds=1))
            deps.escalations.run_timers(clock())
            settle(deps, clock)
            steps.append(meter.take(f"re-ping {attempt} (T2)"))

        clock.advance(timedelta(minutes=15, seconds=1))
        deps.escalations.run_timers(clock())
        settle(deps, clock)
        steps.append(meter.take("auto-escalate to Compliance"))

        [compliance] = deps.escalations.store.open_for_refs([str(ref)])
        clock.advance(timedelta(minutes=4))
        deps.escalations.act(compliance.id, Accept(user="U0LEGAL", at=clock()))
        settle(deps, clock)
        steps.append(meter.take("accept (Compliance)"))

        clock.advance(timedelta(hours=2))
        if source is Source.ZENDESK:
            st.zendesk.upsert_ticket(id=int(ref.external_id), status="solved")
        else:
            st.intercom.upsert_conversation(id=ref.external_id, state="closed")
        results = sync_job(deps, clock())
        settle(deps, clock)
        step = meter.take("resolved upstream (next sync)")
        step.sync_calls = sum(r.api_calls for r in results if r.source is source)
        steps.append(step)

        facts = _facts(deps, source, st.zendesk, st.intercom, ref, opened.escalation.id, compliance.id)
        return steps, facts


def run_slack_open(source: Source, ref_text: str) -> list[Step]:
    """The open as a person does it: `/escalate <ref>` and the form's submit, as signed requests to the
    Bolt app (`deskwatch serve`'s HTTP surface, lazy listeners included)."""
    with stack() as st:
        app = build_bolt_app(st.deps, token_verification=False)
        server = make_http_server(build_wsgi_app(st.deps, app), "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        try:
            # Bolt's authorization calls auth.test once per process, on the first request: not per handoff.
            warm_up = {"type": "block_actions", "team": {"id": st.slack.team_id}, "user": {"id": "U0AGENT"}}
            _signed(url, urlencode({"payload": json.dumps(warm_up)}), st.signing_secret, check=False)
            meter = st.meter(source)
            command = {
                "team_id": st.slack.team_id,
                "channel_id": "C0BILLING",
                "user_id": "U0AGENT",
                "command": "/escalate",
                "text": ref_text,
                "response_url": st.slack.response_url("escalate"),
                "trigger_id": st.slack.issue_trigger_id(),
            }
            _signed(url, urlencode(command), st.signing_secret)
            form = _wait(lambda: _view(st.slack, EscalationViews.FORM.value), "the form (views.update)")
            steps = [meter.take("`/escalate` -> the form (views.open, ticket read, views.update)")]
            payload = {
                "type": "view_submission",
                "team": {"id": st.slack.team_id},
                "user": {"id": "U0AGENT"},
                "view": {**form, "state": {"values": _form_values()}},
            }
            _signed(url, urlencode({"payload": json.dumps(payload)}), st.signing_secret)
            _wait(lambda: _titled(st.slack, "Escalated"), "the result view")
            settle(st.deps, st.clock)
            steps.append(meter.take("submit -> handoff (ticket re-read, post, note, result view)"))
            return steps
        finally:
            server.shutdown()
            server.server_close()


def _form_values() -> dict[str, object]:
    def select(value: str) -> dict[str, object]:
        return {"type": "static_select", "selected_option": {"value": value}}

    def text(value: str) -> dict[str, object]:
        return {"type": "plain_text_input", "value": value}

    return {
        EscalationBlocks.MODAL_TIER: {EscalationModalActions.TIER: select("1")},
        EscalationBlocks.MODAL_REASON: {EscalationModalActions.REASON: select("fraud_suspected")},
        EscalationBlocks.MODAL_NEEDS: {EscalationModalActions.NEEDS: text("Confirm the two card payments")},
        EscalationBlocks.MODAL_TRIED: {EscalationModalActions.TRIED: text("Checked the ledger")},
        EscalationBlocks.MODAL_URGENCY: {EscalationModalActions.URGENCY: select("high")},
    }


def _signed(url: str, body: str, secret: str, *, check: bool = True) -> None:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    response = requests.post(url, data=body.encode(), headers=headers, timeout=10)
    if check:
        response.raise_for_status()


def _view(slack: SlackEmulator, callback_id: str) -> dict | None:
    return next((v for v in slack.views() if v.get("callback_id") == callback_id), None)


def _titled(slack: SlackEmulator, title: str) -> dict | None:
    return next((v for v in slack.views() if title in json.dumps(v.get("title"))), None)


def _wait(probe, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            time.sleep(0.2)  # let the lazy listener finish what it does after this
            return found
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {what}")


def _facts(deps, source, zendesk, intercom, ref, t2_id, compliance_id) -> dict[str, object]:
    """What the helpdesk holds after the flow, and outbox rows that needed more than one attempt."""
    if source is Source.ZENDESK:
        notes = [c for c in zendesk.comments(int(ref.external_id)) if c.get("public") is False]
        ticket = zendesk.ticket_json(int(ref.external_id))
        where = f"group {ticket.get('group_id')}, assignee {ticket.get('assignee_id')}"
    else:
        conv = intercom.conversation(ref.external_id)
        parts = conv["conversation_parts"]["conversation_parts"]
        notes = [p for p in parts if p["part_type"] == "note"]
        where = f"team {conv.get('team_assignee_id')}, admin {conv.get('admin_assignee_id')}"
    retried = [
        f"{row.purpose} {row.key} ({row.attempts} attempts: {row.last_error or 'ok'})"
        for esc_id in (t2_id, compliance_id)
        for row in deps.outbox.store.list(limit=500)
        if row.subject_id == esc_id and row.attempts > 1
    ]
    states = Counter(row.state for row in deps.outbox.store.list(limit=500))
    return {"notes": len(notes), "where": where, "retried": retried, "outbox": dict(states)}


def _methods(counter: Counter) -> str:
    return ", ".join(f"`{m}`" + (f" ×{n}" if n > 1 else "") for m, n in sorted(counter.items())) or "-"


def print_table(label: str, steps: list[Step], facts: dict[str, object]) -> None:
    print(f"\n### {label}\n")
    print(f"| Step | Slack calls | {label} calls | Slack methods | {label} methods |")
    print("|---|---|---|---|---|")
    for step in steps:
        helpdesk = str(sum(step.helpdesk.values()))
        if step.sync_calls:
            helpdesk += f" ({step.sync_calls} of them the regular sync)"
        print(
            f"| {step.name} | {sum(step.slack.values())} | {helpdesk} | {_methods(step.slack)} | "
            f"{_methods(step.helpdesk)} |"
        )
    slack_total = sum(sum(s.slack.values()) for s in steps)
    helpdesk_total = sum(sum(s.helpdesk.values()) for s in steps)
    sync_total = sum(s.sync_calls for s in steps)
    print(
        f"| **whole handoff** | **{slack_total}** | **{helpdesk_total}** "
        f"(**{helpdesk_total - sync_total}** without the sync) | | |"
    )
    print(f"\nAfterwards: {facts['notes']} internal note(s); {facts['where']}; outbox {facts['outbox']}.")
    for line in facts["retried"]:  # type: ignore[union-attr]
        print(f"Needed more than one attempt: {line}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zendesk-ref", default="zd:102")
    parser.add_argument("--intercom-ref", default="ic:9001")
    args = parser.parse_args()
    configure_logging(json_logs=False, level="WARNING")
    runs = [
        ("Zendesk", *run_flow(Source.ZENDESK, args.zendesk_ref)),
        ("Intercom", *run_flow(Source.INTERCOM, args.intercom_ref)),
    ]
    via_slack = [
        ("Zendesk", run_slack_open(Source.ZENDESK, args.zendesk_ref)),
        ("Intercom", run_slack_open(Source.INTERCOM, args.intercom_ref)),
    ]
    print(
        "## Escalation handoff cost (T1 -> T2, 2 re-pings, auto-escalation to Compliance, Accept, resolved)"
    )
    for label, steps, facts in runs:
        print_table(label, steps, facts)
    print("\n### Summary\n")
    print("| Step | Slack (Zendesk run) | Zendesk | Slack (Intercom run) | Intercom |")
    print("|---|---|---|---|---|")
    (_, zd_steps, _), (_, ic_steps, _) = runs
    for zd, ic in zip(zd_steps, ic_steps, strict=True):
        print(
            f"| {zd.name} | {sum(zd.slack.values())} | {sum(zd.helpdesk.values())} | "
            f"{sum(ic.slack.values())} | {sum(ic.helpdesk.values())} |"
        )
    print("\n### Opening through Slack (signed `/escalate` and form submit to the Bolt app)\n")
    print("| Helpdesk | Step | Slack calls | Helpdesk calls | Slack methods | Helpdesk methods |")
    print("|---|---|---|---|---|---|")
    for label, steps in via_slack:
        for step in steps:
            print(
                f"| {label} | {step.name} | {sum(step.slack.values())} | {sum(step.helpdesk.values())} | "
                f"{_methods(step.slack)} | {_methods(step.helpdesk)} |"
            )


if __name__ == "__main__":
    main()
