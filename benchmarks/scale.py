"""Deskwatch at scale: 80,000 Zendesk tickets and 20,000 Intercom conversations open (by default).

Everything runs against the local emulators on 127.0.0.1 through the real clients (zenpy, the Intercom
SDK, slack_sdk), on a temp SQLite file or, with --database-url, in a throw-away PostgreSQL schema
(created and dropped here, never the database's public one). Each part runs on its own, bounded in
count and time (each well under five minutes on 2 cores), and prints markdown table rows:

  sync   first sync of every open item (wall time, API calls per helpdesk), then a quiet re-sync
  sweep  the sweep that decides ~5,000 due alerts, then 50 quiet sweeps (p50/p99, rows read, SQL)
  sla    `/sla` on the full store: SlaService.list_rows p50/p99, and signed HTTP requests to the Bolt
         app (ack, and until the list reaches the response_url)
  storm  500 breaches in one channel, Slack emulator enforcing 1 message/s/channel, post_interval 1 s
  scan   the done-when: a first `sla scan` of 20,000 + 5,000 open with 1,250 due, then a quiet rescan
  rss    peak RSS (VmHWM) of a real `deskwatch serve` subprocess on the full store

The store for `sweep`, `sla` and `rss` is filled from the emulators through the real adapters and
written with bulk inserts of exactly the rows a sync writes (`--load sync` runs the real sync instead:
slower, same rows); `sync` and `scan` always run the real sync.

Usage: python benchmarks/scale.py --only sync|sweep|sla|storm|scan|rss
         [--zendesk 80000] [--intercom 20000] [--due 5000] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests
import yaml
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, event, text

from bot.app import Deps, build_bolt_app, build_deps
from bot.config import config_from_dict, load_settings
from bot.domain.model import Source
from bot.logs import configure_logging
from bot.store.repository import _item_values
from bot.store.tables import DeadlineRow, SyncStateRow, TicketRow
from bot.web import build_wsgi_app, make_http_server
from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.seed import DEMO_CHANNELS, DEMO_CONFIG, open_conversation, open_ticket
from integrations.emulators.slack import SlackEmulator
from integrations.emulators.zendesk import ZendeskEmulator
from jobs.sla import scan

HOST = "127.0.0.1"
TOKEN = "xoxb-bench"
SECRET = "bench-signing-secret"
PART_DEADLINE_S = 280  # every bounded wait in a part gives up before five minutes
CONFIG = config_from_dict(DEMO_CONFIG, source="benchmarks/scale.py")
ZD_GROUPS = (7, 8, 9)  # billing, payments, compliance (DEMO_CONFIG)
IC_TEAMS = (77, 78)  # billing, payments
IC_FIRST_REPLY = timedelta(hours=2)  # DEMO_CONFIG: not_priority first reply
REF_RE = re.compile(r"\b(?:zd|ic):\d+\b")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon, for every part but `rss`


class Clock:
    """The injected clock: fixed at `now` until `run_from(start)`, then running with the wall clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._base: tuple[datetime, float] | None = None

    def run_from(self, start: datetime) -> None:
        self._base = (start, time.monotonic())

    def __call__(self) -> datetime:
        if self._base is None:
            return self.now
        start, at = self._base
        return start + timedelta(seconds=time.monotonic() - at)


# -- the desk --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Desk:
    """N open items per helpdesk, `due` of them with an alert due at `now` (half breaches from the last
    23 hours, half warnings due in 5-29 minutes). Every other deadline's first alert moment is at least
    10 minutes away, so after the deciding sweep nothing is due for a while."""

    zendesk: int
    intercom: int
    due: int

    @property
    def due_zendesk(self) -> int:
        total = self.zendesk + self.intercom
        return min(self.zendesk, round(self.due * self.zendesk / total)) if total else 0

    @property
    def due_intercom(self) -> int:
        return min(self.intercom, self.due - self.due_zendesk)


def _due_at(k: int, now: datetime) -> datetime:
    """The k-th due item's deadline: even k breached (1 min to 23 h ago), odd k at risk (in 5-29 min)."""
    if k % 2 == 0:
        return now - timedelta(minutes=1 + (k * 7) % (23 * 60 - 1))
    return now + timedelta(minutes=5, seconds=(k * 13) % (24 * 60))


def seed(zd: ZendeskEmulator, ic: IntercomEmulator, desk: Desk, now: datetime) -> int:
    """Fill the emulators; returns how many deadlines the store should hold after a first sync."""
    for gid, name in zip(ZD_GROUPS, ("Billing", "Payments", "Compliance"), strict=True):
        zd.add_group(gid, name)
    ic.add_admin(901, "Dana Smith")
    ic.add_team(77, "Billing", admin_ids=[901])
    ic.add_team(78, "Payments", admin_ids=[901])
    for k in range(desk.zendesk):
        if k < desk.due_zendesk:
            breach_at = _due_at(k, now)
        else:  # 40 minutes to 30 days out
            breach_at = now + timedelta(minutes=40 + (k * 37) % (30 * 24 * 60))
        created = min(breach_at, now) - timedelta(hours=1 + k % 48, seconds=k % 3600)
        open_ticket(zd, k + 1, created=created, breach_at=breach_at, group_id=ZD_GROUPS[k % 3])
    deadlines = desk.zendesk
    for k in range(desk.intercom):
        team = IC_TEAMS[k % 2]
        if k < desk.due_intercom:
            open_conversation(ic, k + 1, created=_due_at(k, now) - IC_FIRST_REPLY, team_id=team)
            deadlines += 1
        elif k % 2:  # waiting for a first reply, due in 40-119 minutes
            open_conversation(ic, k + 1, created=now - timedelta(minutes=1 + k % 79), team_id=team)
            deadlines += 1
        else:  # answered: waiting on the customer, no deadline
            created = now - timedelta(days=k % 30, hours=2, seconds=k % 3600)
            open_conversation(
                ic, k + 1, created=created, team_id=team, first_admin_reply=created + timedelta(minutes=20)
            )
    return deadlines


# -- databases and composition ---------------------------------------------------------------------
@contextlib.contextmanager
def database(base_url: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a throw-away schema in the given PostgreSQL database (dropped after)."""
    if not base_url:
        yield f"sqlite:///{Path(tempfile.mkdtemp(prefix='dw-scale-')) / 'scale.db'}"
        return
    if not base_url.startswith("postgresql"):
        raise SystemExit("--database-url: a PostgreSQL URL (SQLite runs on a temp file by default)")
    schema = f"dw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base_url + ("&" if "?" in base_url else "?") + "options=" + quote(f"-csearch_path={schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def settings_for(url: str, *, slack: SlackEmulator | None, zd=None, ic=None):
    values: dict[str, Any] = {
        "database_url": url,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.api_url if slack else "http://127.0.0.1:9/api/",
    }
    if zd is not None:
        values.update(zendesk_email=zd.email, zendesk_api_token=zd.token, zendesk_url=zd.url)
    if ic is not None:
        values.update(intercom_access_token=ic.token, intercom_url=ic.url)
    return load_settings(**values)


def backend(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


class StatementCounter:
    def __init__(self, deps: Deps) -> None:
        self.count = 0
        event.listen(deps.store.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


def load_store(deps: Deps, now: datetime) -> tuple[int, int, float]:
    """Fill the store from the emulators through the real adapters, writing exactly the rows a first
    sync writes (tickets, deadlines, cursor) with plain bulk inserts: only the fixture is built faster.
    Returns (items, deadlines, seconds)."""
    started = time.perf_counter()
    deps.keeper.ensure_current(now=now)  # records the configuration hash, as `sync_job` does first
    items = deadlines = 0
    tickets, deadline_rows, sync_state = TicketRow.__table__, DeadlineRow.__table__, SyncStateRow.__table__
    for source, helpdesk in deps.helpdesks.items():
        cursor = None
        count = 0
        with deps.store.engine.begin() as conn:
            for page in helpdesk.sync(None, now=now):
                cursor = page.cursor or cursor
                if not page.items:
                    continue
                conn.execute(tickets.insert(), [_item_values(item, now) for item in page.items])
                records = [r for item in page.items for r in deps.keeper.records_for(item)]
                if records:
                    conn.execute(
                        deadline_rows.insert(),
                        [
                            {
                                "ref": r.ref,
                                "metric": r.metric,
                                "cycle": r.cycle,
                                "due_at": r.due_at,
                                "team": r.team,
                                "channel": r.channel,
                                "next_at": r.next_at,
                                "first_seen_at": now,
                                "updated_at": now,
                            }
                            for r in records
                        ],
                    )
                count += len(page.items)
                deadlines += len(records)
            conn.execute(
                sync_state.insert().values(
                    source=source.value,
                    cursor=cursor,
                    last_started_at=now,
                    last_success_at=now,
                    items_synced=count,
                )
            )
        items += count
    return items, deadlines, time.perf_counter() - started


def real_sync(deps: Deps, now: datetime) -> tuple[int, int, float]:
    started = time.perf_counter()
    deps.keeper.ensure_current(now=now)
    results = deps.sync.sync_all(now=now)
    for r in results:
        if r.error:
            raise SystemExit(f"{r.source.label} sync failed: {r.error}")
    return sum(r.items for r in results), deps.sla.deadline_store.count(), time.perf_counter() - started


def fill(deps: Deps, now: datetime, how: str) -> tuple[int, int, float]:
    return real_sync(deps, now) if how == "sync" else load_store(deps, now)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 0.1 else f"{seconds * 1000:,.0f} ms"


def table(header: list[str], rows: list[list[Any]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    sys.stdout.flush()


SEEDED_BEFORE = timedelta(minutes=10)


@contextlib.contextmanager
def helpdesk_emulators(
    desk: Desk, clock: Callable[[], datetime] | None
) -> Iterator[tuple[ZendeskEmulator, IntercomEmulator]]:
    """Both emulators on `clock` (the wall clock when None), seeded relative to its now. The emulators'
    clock reads 10 minutes earlier while seeding: Zendesk's incremental export stamps every change with
    its clock, and a backlog that "changed" inside the first sync's overlap would be exported again."""
    clock = clock or (lambda: datetime.now(UTC))
    shift = [SEEDED_BEFORE]
    zd = ZendeskEmulator(now=lambda: clock() - shift[0])
    ic = IntercomEmulator(now=lambda: clock() - shift[0])
    started = time.perf_counter()
    expected = seed(zd, ic, desk, clock())
    shift[0] = timedelta(0)
    note(
        f"seeded {desk.zendesk:,} tickets + {desk.intercom:,} conversations ({desk.due:,} due, "
        f"{expected:,} deadlines) in {time.perf_counter() - started:.1f} s"
    )
    with zd, ic:
        yield zd, ic


def note(line: str) -> None:
    print(f"({line})", flush=True)


def slack_emulator(*, enforce_channel_rate: bool = False) -> SlackEmulator:
    return SlackEmulator(
        token=TOKEN,
        channels=DEMO_CHANNELS,
        users=("U0MANAGER", "U0PAYLEAD", "U0COMPLY"),
        enforce_channel_rate=enforce_channel_rate,
    )


def refs_in(messages: list[dict[str, Any]]) -> set[str]:
    """Ticket refs a message names (a grouped message's fallback text lists every ref it holds)."""
    return {ref for m in messages for ref in REF_RE.findall(m.get("text") or "")}


def part_sync(args, url: str) -> None:
    """(1) First sync of every open item through the real adapters, then a quiet re-sync."""
    clock = Clock(NOW)
    desk = Desk(args.zendesk, args.intercom, args.due)
    rows = []
    with helpdesk_emulators(desk, clock) as (zd, ic):
        deps = build_deps(settings_for(url, slack=None, zd=zd, ic=ic), CONFIG, clock=clock)
        deps.keeper.ensure_current(now=clock())  # as `sync_job` does before syncing
        emulators = {Source.ZENDESK: zd, Source.INTERCOM: ic}
        for what, at in (("first sync", NOW), ("quiet re-sync", NOW + timedelta(minutes=2))):
            clock.now = at
            for source in deps.helpdesks:
                before = len(emulators[source].requests)
                started = time.perf_counter()
                result = deps.sync.sync_source(source, now=at)
                secs = time.perf_counter() - started
                if result.error:
                    raise SystemExit(f"{source.label} {what} failed: {result.error}")
                served = len(emulators[source].requests) - before
                rows.append(
                    [
                        backend(url),
                        source.label,
                        what,
                        f"{result.items:,}",
                        f"{result.api_calls:,} ({served:,} served)",
                        f"{secs:.1f} s" if secs >= 1 else ms(secs),
                        f"{result.items / secs:,.0f}/s" if result.items else "-",
                    ]
                )
        deadlines = deps.sla.deadline_store.count()
    table(["Backend", "Helpdesk", "Sync", "Items", "API calls", "Wall time", "Items/s"], rows)
    note(f"{deadlines:,} deadlines stored")


def part_sweep(args, url: str) -> None:
    """(2) the sweep that decides the due alerts, (3) quiet sweeps afterwards."""
    clock = Clock(NOW)
    desk = Desk(args.zendesk, args.intercom, args.due)
    with helpdesk_emulators(desk, clock) as (zd, ic):
        deps = build_deps(settings_for(url, slack=None, zd=zd, ic=ic), CONFIG, clock=clock)
        items, deadlines, secs = fill(deps, NOW, args.load)
        note(f"store filled ({args.load}): {items:,} items, {deadlines:,} deadlines in {secs:.0f} s")
    counter = StatementCounter(deps)
    started = time.perf_counter()
    first = deps.sweep.run(now=NOW)
    first_secs = time.perf_counter() - started
    first_statements = counter.count
    queued = deps.outbox.store.counts_by_state().get("pending", 0)
    quiet: list[float] = []
    rows_read = decided = statements = 0
    for i in range(args.repeat):
        at = NOW + timedelta(seconds=1 + i)
        clock.now = at
        counter.count = 0
        started = time.perf_counter()
        result = deps.sweep.run(now=at)
        quiet.append(time.perf_counter() - started)
        rows_read, decided = max(rows_read, result.rows_read), decided + len(result.decided)
        statements = max(statements, counter.count)
    table(
        ["Backend", "Open items", "Deadlines", "Sweep", "Decided", "Rows read", "Time", "SQL statements"],
        [
            [
                backend(url),
                f"{items:,}",
                f"{deadlines:,}",
                f"deciding ({queued:,} outbox rows)",
                f"{len(first.decided):,}",
                f"{first.rows_read:,}",
                ms(first_secs),
                f"{first_statements:,}",
            ],
            [
                backend(url),
                f"{items:,}",
                f"{deadlines:,}",
                f"quiet x{args.repeat}",
                f"{decided:,}",
                f"{rows_read:,} (max)",
                f"p50 {ms(pct(quiet, 50))}, p99 {ms(pct(quiet, 99))}, max {ms(max(quiet))}",
                f"{statements} (max)",
            ],
        ],
    )


def part_sla(args, url: str) -> None:
    """(4) `/sla`: list_rows on the full store, then signed HTTP requests through the Bolt app."""
    clock = Clock(NOW)
    desk = Desk(args.zendesk, args.intercom, args.due)
    slack = slack_emulator()
    with slack, helpdesk_emulators(desk, clock) as (zd, ic):
        deps = build_deps(settings_for(url, slack=slack, zd=zd, ic=ic), CONFIG, clock=clock)
        items, deadlines, secs = fill(deps, NOW, args.load)
        note(f"store filled ({args.load}): {items:,} items, {deadlines:,} deadlines in {secs:.0f} s")
        deps.sweep.run(now=NOW)  # the due alerts decided, as in production
        rows = []
        for label, teams in (("all teams", None), ("one team (billing)", {"billing"})):
            times, count = [], 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                count = len(deps.sla.list_rows(now=NOW, teams=teams))
                times.append(time.perf_counter() - started)
            rows.append(
                [backend(url), f"{items:,}", f"list_rows, {label}", count, args.repeat]
                + [ms(pct(times, 50)), ms(pct(times, 99))]
            )
        server = make_http_server(build_wsgi_app(deps, build_bolt_app(deps)), HOST, 0, threads=4)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            acks, answers = http_sla(server.server_port, slack, min(args.repeat, 30))
        finally:
            server.shutdown()
            server.server_close()
        rows.append(
            [backend(url), f"{items:,}", "`/sla all` over HTTP: ack", "-", len(acks)]
            + [ms(pct(acks, 50)), ms(pct(acks, 99))]
        )
        rows.append(
            [backend(url), f"{items:,}", "`/sla all` over HTTP: list at response_url", "-", len(answers)]
            + [ms(pct(answers, 50)), ms(pct(answers, 99))]
        )
    table(["Backend", "Open items", "Request", "Rows", "Runs", "p50", "p99"], rows)


def signed_post(port: int, fields: dict[str, str]) -> requests.Response:
    body = urlencode(fields)
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }
    return requests.post(f"http://{HOST}:{port}/slack/events", data=body, headers=headers, timeout=10)


def http_sla(port: int, slack: SlackEmulator, count: int) -> tuple[list[float], list[float]]:
    """Sequential signed `/sla all` commands: seconds to the ack, and to the list at the response_url."""
    acks, answers = [], []
    for i in range(count):
        name = f"sla-{uuid.uuid4().hex[:8]}"
        fields = {
            "token": "legacy",
            "team_id": "T0DESKWATCH",
            "channel_id": "C0RANDOM",
            "user_id": "U0MANAGER",
            "command": "/sla",
            "text": "all",
            "api_app_id": "A0DESKWATCH",
            "response_url": slack.response_url(name),
            "trigger_id": "T-trigger",
        }
        started = time.perf_counter()
        answer = signed_post(port, fields)
        acked = time.perf_counter()
        if answer.status_code != 200:
            raise SystemExit(f"/sla answered HTTP {answer.status_code}: {answer.text[:200]}")
        deadline = started + 10
        while not slack.calls(f"/response/{name}") and time.perf_counter() < deadline:
            time.sleep(0.001)
        if i == 0:
            continue  # the first request pays one-off costs (imports, connections)
        acks.append(acked - started)
        if slack.calls(f"/response/{name}"):
            answers.append(time.perf_counter() - started)
    return acks, answers


STORM_STALE = timedelta(seconds=60)


def part_storm(args, url: str) -> None:
    """(5) 500 breaches in one channel, Slack emulator enforcing 1 message/s/channel, post_interval 1 s.

    Three runs: Zendesk tickets delivered by `outbox.drain` at one `now` right after the sync (what
    `sla scan` does); then, as `serve` sees a storm, Zendesk tickets and Intercom conversations whose
    stored state is a minute old (so each breach is re-read from the helpdesk before it goes out) and
    delivery passes one after another on a running clock, like the deliver job."""
    rows = []
    for source, serve_like in ((Source.ZENDESK, False), (Source.ZENDESK, True), (Source.INTERCOM, True)):
        rows.append(storm(args, url if not rows else None, source, serve_like=serve_like))
    table(
        [
            "Backend",
            "Breaches",
            "Delivery",
            "Decided",
            "Posts",
            "Tickets in Slack",
            "429s",
            "Helpdesk reads while posting",
            "Decide",
            "Last ticket in Slack after",
            "Floor (posts - 1 s)",
        ],
        rows,
    )


def storm(args, url: str | None, source: Source, *, serve_like: bool) -> list[Any]:
    breaches = min(args.storm, 2000)
    clock = Clock(NOW - STORM_STALE if serve_like else NOW)
    zd, ic = ZendeskEmulator(now=clock), IntercomEmulator(now=clock)
    zd.add_group(7, "Billing")
    ic.add_admin(901, "Dana Smith")
    ic.add_team(77, "Billing", admin_ids=[901])
    for k in range(breaches):  # breached in the last 10 minutes, all routed to billing (C0BILLING)
        due = NOW - timedelta(seconds=1 + (k * 600) // breaches)
        if source is Source.ZENDESK:
            open_ticket(zd, k + 1, created=due - timedelta(hours=4), breach_at=due, group_id=7)
        else:
            open_conversation(ic, k + 1, created=due - IC_FIRST_REPLY, team_id=77)
    slack = slack_emulator(enforce_channel_rate=True)
    with contextlib.ExitStack() as stack:
        db = url or stack.enter_context(database(args.database_url))
        for emu in (zd, ic, slack):
            stack.enter_context(emu)
        desks = {"zd": zd} if source is Source.ZENDESK else {"ic": ic}
        deps = build_deps(settings_for(db, slack=slack, **desks), CONFIG, clock=clock, post_interval=1.0)
        real_sync(deps, clock())
        emulator = zd if source is Source.ZENDESK else ic
        reads_before = len(emulator.requests)
        if serve_like:
            clock.run_from(NOW)
        wall_start, started = time.time(), time.perf_counter()
        decided = deps.sweep.run(now=clock()).decided
        decide_secs = time.perf_counter() - started
        if serve_like:
            deliver_like_serve(deps, clock, PART_DEADLINE_S / 3)
        else:
            deps.outbox.drain(now=NOW, max_seconds=PART_DEADLINE_S / 3)
        reads = len(emulator.requests) - reads_before
        messages = slack.messages()
        attempts = len(slack.calls("/api/chat.postMessage"))
    first_seen: dict[str, float] = {}
    for m in messages:  # messages come in post order; ts is the emulator's wall clock
        for ref in REF_RE.findall(m.get("text") or ""):
            first_seen.setdefault(ref, float(m["ts"]))
    last = max(first_seen.values()) - wall_start if first_seen else float("nan")
    how = "serve-like passes, stored state 1 min old" if serve_like else "`drain` right after the sync"
    return [
        backend(db),
        f"{breaches} {source.label}",
        how,
        len(decided),
        len(messages),
        len(first_seen),
        attempts - len(messages),
        reads,
        ms(decide_secs),
        f"{last:.1f} s",
        f"{max(len(messages) - 1, 0)} s",
    ]


def deliver_like_serve(deps: Deps, clock: Clock, timeout: float) -> None:
    """The deliver job: a pass at most every second (back to back when one runs longer), each on the
    clock's time when it starts, until nothing is pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        deps.outbox.deliver_due(now=clock())
        counts = deps.outbox.store.counts_by_state()
        if not counts.get("pending") and not counts.get("sending"):
            return
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


SCAN_DESK = Desk(zendesk=20_000, intercom=5_000, due=1_250)


def part_scan(args, url: str) -> None:
    """(6) The done-when: a first `sla scan` posts every due item, grouped, in one run; a quiet rescan
    posts nothing and costs a few requests per helpdesk."""
    clock = Clock(NOW)
    desk = SCAN_DESK
    slack = slack_emulator(enforce_channel_rate=True)
    rows = []
    with slack, helpdesk_emulators(desk, clock) as (zd, ic):
        deps = build_deps(
            settings_for(url, slack=slack, zd=zd, ic=ic), CONFIG, clock=clock, post_interval=1.0
        )
        expected = {f"zd:{k + 1}" for k in range(desk.due_zendesk)} | {
            f"ic:{k + 1}" for k in range(desk.due_intercom)
        }
        stages = time_stages(deps)
        for what, at in (("first scan", NOW), ("quiet rescan", NOW + timedelta(minutes=2))):
            clock.now = at
            stages.clear()
            before = {"zd": len(zd.requests), "ic": len(ic.requests), "posts": len(slack.messages())}
            attempts_before = len(slack.calls("/api/chat.postMessage"))
            started = time.perf_counter()
            report = scan(deps, at)
            secs = time.perf_counter() - started
            if report.sync_failed or report.sweep is None:
                raise SystemExit(f"{what}: sync failed: {[s.error for s in report.syncs]}")
            new = slack.messages()[before["posts"] :]
            found = refs_in(new)
            calls = {s.source: s.api_calls for s in report.syncs}
            attempts = len(slack.calls("/api/chat.postMessage")) - attempts_before
            rows.append(
                [
                    backend(url),
                    what,
                    f"{desk.zendesk:,} + {desk.intercom:,}",
                    f"{len(report.sweep.decided):,}",
                    f"{len(new)} ({sum(1 for m in new if len(refs_in([m])) > 1)} grouped)",
                    f"{len(found & expected):,} of {len(expected):,}"
                    + (f" (+{len(found - expected)} other)" if found - expected else ""),
                    attempts - len(new),
                    f"{calls.get(Source.ZENDESK, 0)} / {calls.get(Source.INTERCOM, 0)}",
                    f"{len(zd.requests) - before['zd']} / {len(ic.requests) - before['ic']}",
                    f"{secs:.1f} s (sync {stages['sync']:.1f} s, posting {stages['drain']:.1f} s)",
                    f"{max(Counter(m['channel'] for m in new).values(), default=1) - 1} s",
                ]
            )
    table(
        [
            "Backend",
            "Run",
            "Open (ZD + IC)",
            "Decided",
            "Posts",
            "Due tickets in Slack",
            "429s",
            "API calls ZD / IC",
            "Requests served ZD / IC",
            "Wall time",
            "Pacing floor (busiest channel)",
        ],
        rows,
    )


def time_stages(deps: Deps) -> dict[str, float]:
    """Wall time of the sync and of the delivery inside one `scan` (wrapping the instances' methods)."""
    stages: dict[str, float] = {}
    for name, obj in (("sync", deps.sync), ("drain", deps.outbox)):
        method = getattr(obj, "sync_all" if name == "sync" else "drain")

        def timed(*a, _method=method, _name=name, **kw):
            started = time.perf_counter()
            try:
                return _method(*a, **kw)
            finally:
                stages[_name] = stages.get(_name, 0.0) + time.perf_counter() - started

        setattr(obj, method.__name__, timed)
    return stages


def part_rss(args, url: str) -> None:
    """(7) Peak RSS of a real `deskwatch serve` on the full store, through its startup sync and sweep
    and the delivery of what that sweep decided."""
    workdir = Path(tempfile.mkdtemp(prefix="dw-scale-rss-"))
    desk = Desk(args.zendesk, args.intercom, args.due)
    slack = slack_emulator()
    part_started = time.monotonic()
    with slack, helpdesk_emulators(desk, None) as (zd, ic):
        settings = settings_for(url, slack=slack, zd=zd, ic=ic)
        if args.serve_first_sync:
            items, deadlines = 0, 0
        else:
            deps = build_deps(settings, CONFIG)
            items, deadlines, secs = fill(deps, datetime.now(UTC), args.load)
            deps.store.engine.dispose()
            note(f"store filled ({args.load}): {items:,} items, {deadlines:,} deadlines in {secs:.0f} s")
        served_before = {"zd": len(zd.requests), "ic": len(ic.requests)}
        config_path = workdir / "deskwatch.yaml"
        config_path.write_text(yaml.safe_dump(DEMO_CONFIG))
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
            "DESKWATCH_CONFIG": str(config_path),
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "ZENDESK_EMAIL": zd.email,
            "ZENDESK_API_TOKEN": zd.token,
            "ZENDESK_URL": zd.url,
            "INTERCOM_ACCESS_TOKEN": ic.token,
            "INTERCOM_URL": ic.url,
        }
        command = [sys.executable, "-m", "bot", "serve", "--host", HOST, "--port", str(port)]
        log_path = workdir / "serve.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = RssSampler(proc.pid)
        sampler.start()
        base = f"http://{HOST}:{port}"
        marks: dict[str, tuple[float, int]] = {}
        started = time.monotonic()
        try:
            wait_for(lambda: healthy(base), 60, "healthz")
            marks["listening"] = (time.monotonic() - started, sampler.hwm)
            budget = PART_DEADLINE_S - (time.monotonic() - part_started) - 40
            wait_startup(base, max(budget, 30))
            marks["first sync + sweep done"] = (time.monotonic() - started, sampler.hwm)
            acks, answers = http_sla(port, slack, 11)
            marks["10 `/sla all` answered"] = (time.monotonic() - started, sampler.hwm)
            budget = PART_DEADLINE_S - (time.monotonic() - part_started) - 15
            drained = wait_drained(base, max(budget, 5))
            label = "outbox drained: every alert in Slack" if drained else "time up, outbox not drained"
            marks[label] = (time.monotonic() - started, sampler.hwm)
            decided = metric(base, "deskwatch_alerts_decided_total")
            posted = len(slack.messages())
            tickets = len(refs_in(slack.messages()))
            served = {
                "Zendesk": Counter(request_kind(r.path) for r in zd.requests[served_before["zd"] :]),
                "Intercom": Counter(request_kind(r.path) for r in ic.requests[served_before["ic"] :]),
            }
        finally:
            sampler.stop()
            stopping = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            stop_secs = time.monotonic() - stopping
            if code != 0:
                print(log_path.read_text()[-3000:], file=sys.stderr)
    store = "empty (serve runs the first sync)" if args.serve_first_sync else f"{items:,} items"
    rows = [
        [backend(url), store, what, f"{at:.1f} s", f"{hwm / 1024:.0f} MB"]
        for what, (at, hwm) in marks.items()
    ]
    table(["Backend", "Store at start", "serve milestone", "After", "VmHWM (peak RSS)"], rows)
    note(
        f"peak RSS {sampler.hwm / 1024:.0f} MB, RSS at the end {sampler.rss / 1024:.0f} MB; "
        f"{decided:,.0f} alerts decided, {posted} Slack posts naming {tickets:,} tickets; "
        f"/sla over HTTP p50 {ms(pct(answers, 50)) if answers else '-'}; "
        f"serve exited {code} {stop_secs:.1f} s after SIGTERM; log {log_path}"
    )
    note(
        "helpdesk requests made by serve: "
        + "; ".join(
            f"{name} {sum(kinds.values()):,} ({', '.join(f'{n:,} {k}' for k, n in kinds.most_common())})"
            for name, kinds in served.items()
        )
    )


def request_kind(path: str) -> str:
    """A request path without ids: `/conversations/{id}`, `/api/v2/tickets/show_many.json`."""
    return re.sub(r"/\d+(?=/|\.json|$)", "/{id}", path.split("?", 1)[0])


class RssSampler(threading.Thread):
    """Reads VmRSS and VmHWM (kB) of a process from /proc every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.rss, self.hwm = pid, 0, 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                self.rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                self.hwm = max(self.hwm, int(line.split()[1]))

    def run(self) -> None:
        while not self._stop_event.wait(0.2):
            self.sample()

    def stop(self) -> None:
        self.sample()
        self._stop_event.set()


def metrics_text(base: str) -> str:
    return requests.get(f"{base}/metrics", timeout=10).text


def metric(base: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample over the series matching `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(metrics_text(base)):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def wait_startup(base: str, timeout: float) -> None:
    """Until both helpdesks synced once and a sweep finished after that."""
    wait_for(
        lambda: all(
            metric(base, "deskwatch_sync_runs_total", source=s.value, outcome="ok") >= 1 for s in Source
        ),
        timeout,
        "the startup sync of both helpdesks",
    )
    sweeps = metric(base, "deskwatch_sweep_duration_seconds_count")
    wait_for(lambda: metric(base, "deskwatch_sweep_duration_seconds_count") > sweeps, 60, "a sweep")


def wait_drained(base: str, timeout: float) -> bool:
    """Until the outbox has no pending or sending row (everything decided is in Slack), or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = metric(base, "deskwatch_outbox_rows", state="pending") + metric(
            base, "deskwatch_outbox_rows", state="sending"
        )
        if waiting == 0:
            return True
        time.sleep(1)
    return False


def healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def wait_for(probe: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


PARTS: dict[str, Callable[[argparse.Namespace, str], None]] = {
    "sync": part_sync,
    "sweep": part_sweep,
    "sla": part_sla,
    "storm": part_storm,
    "scan": part_scan,
    "rss": part_rss,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", required=True, choices=("sync", "sweep", "sla", "storm", "scan", "rss"))
    parser.add_argument("--zendesk", type=int, default=80_000, help="open Zendesk tickets (max 100,000)")
    parser.add_argument(
        "--intercom", type=int, default=20_000, help="open Intercom conversations (max 50,000)"
    )
    parser.add_argument("--due", type=int, default=5_000, help="items with an alert due (sweep, sla, rss)")
    parser.add_argument("--database-url", help="PostgreSQL base URL (default: a temp SQLite file)")
    parser.add_argument(
        "--load", choices=("bulk", "sync"), default="bulk", help="how sweep/sla/rss fill the store"
    )
    parser.add_argument("--repeat", type=int, default=50, help="quiet sweeps / /sla reads (max 200)")
    parser.add_argument("--storm", type=int, default=500, help="breaches in the storm (max 2,000)")
    parser.add_argument(
        "--serve-first-sync", action="store_true", help="rss: start serve on an empty store (its first sync)"
    )
    args = parser.parse_args()
    args.zendesk, args.intercom = min(args.zendesk, 100_000), min(args.intercom, 50_000)
    args.repeat = max(1, min(args.repeat, 200))
    configure_logging(json_logs=False, level="WARNING")
    # SIGTERM unwinds like Ctrl-C: the throw-away schema is dropped and serve is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    with database(args.database_url) as url:
        PARTS[args.only](args, url)
    took = time.monotonic() - started
    note(f"{args.only} on {backend(url)}: {took:.0f} s in all on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
