"""A first sync stopped half-way (server errors, or `deskwatch sla scan` killed with SIGKILL) resumes
from the checkpoint stored with its last page: every item ends up stored, and no page is fetched
twice except the one in flight. Real zenpy / python-intercom against the emulators, a real Store;
SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.domain.model import Source
from bot.store.db import make_engine
from bot.store.repository import Store
from integrations.emulators.base import EmulatorServer, ResponseHold
from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.zendesk import ZendeskEmulator
from integrations.intercom import IntercomHelpdesk
from integrations.zendesk import ZendeskHelpdesk
from tests.helpers.live import live_stack

EXPORT = "/api/v2/search/export.json"
SHOW_MANY = "/api/v2/tickets/show_many.json"
SEARCH = "/conversations/search"


def seed_tickets(emu: ZendeskEmulator, count: int, now: datetime) -> None:
    """Open tickets created long before the demo desk's, so they fill the first export pages."""
    for tid in range(1, count + 1):
        emu.upsert_ticket(
            id=tid,
            subject=f"Backlog {tid}",
            status="open",
            created_at=now - timedelta(days=400, minutes=-tid),
        )


def seed_conversations(emu: IntercomEmulator, count: int, now: datetime) -> None:
    """Open conversations last updated long before the demo desk's: the first search pages."""
    emu.upsert_conversations(
        {"id": str(n), "title": f"Backlog {n}", "updated_at": now - timedelta(days=90, seconds=-n)}
        for n in range(1, count + 1)
    )


def failing_after(emu: EmulatorServer, pages: int, path: str, attempts: int):
    """A SyncService progress callback: once `pages` pages are stored, `path` answers 500 as often as
    the adapter tries, so the sync stops there."""
    stored = []

    def progress(*args: object) -> None:
        stored.append(args)
        if len(stored) == pages:
            emu.fail_next(path, status=500, count=attempts)

    return progress


def test_zendesk_first_sync_stopped_by_server_errors_resumes_from_its_checkpoint(
    zendesk_emu, make_deps, demo_config, clock
):
    seed_tickets(zendesk_emu, 2500, clock())
    adapter = ZendeskHelpdesk(
        subdomain=None,
        email=zendesk_emu.email,
        token=zendesk_emu.token,
        base_url=zendesk_emu.url,
        max_retries=1,
        backoff_factor=0,
    )
    deps = make_deps(demo_config, helpdesks={Source.ZENDESK: adapter})
    t0 = int(clock().timestamp()) - 61

    # 10 show_many pages per export page; the 13th (third of the second export page) fails.
    stopped = deps.sync.sync_source(
        Source.ZENDESK, now=clock(), progress=failing_after(zendesk_emu, 12, SHOW_MANY, 2)
    )

    assert "HTTP 500" in (stopped.error or "")
    checkpoint = deps.store.sync_state(Source.ZENDESK).cursor
    assert checkpoint is not None and checkpoint.startswith(f"first:{t0}:")
    assert deps.store.count_open(Source.ZENDESK) == 1200  # stored pages are kept, past the checkpoint too

    clock.advance(minutes=1)
    resumed = deps.sync.sync_source(Source.ZENDESK, now=clock())

    assert resumed.error is None and resumed.items == 1500  # export pages 2 and 3
    assert deps.store.count_open(Source.ZENDESK) == 2500
    assert deps.store.sync_state(Source.ZENDESK).cursor == f"time:{t0}"
    exports = zendesk_emu.calls(EXPORT)
    assert len(exports) == 4  # page 1, page 2 (in flight) | page 2 again, page 3
    assert exports[2].query["page[after]"] == [checkpoint.split(":", 2)[2]]
    reads = Counter(int(i) for call in zendesk_emu.calls(SHOW_MANY) for i in call.query["ids"][0].split(","))
    assert set(reads) == set(range(1, 2501))
    assert {tid for tid, n in reads.items() if n > 1} <= set(range(1001, 2001))  # the page in flight


def test_intercom_first_sync_stopped_by_server_errors_resumes_from_its_checkpoint(
    intercom_emu, make_deps, demo_config, clock
):
    seed_conversations(intercom_emu, 1000, clock())
    adapter = IntercomHelpdesk(
        token=intercom_emu.token, base_url=intercom_emu.url, app_id="wsp", max_retries=1, sleep=lambda s: None
    )
    deps = make_deps(demo_config, helpdesks={Source.INTERCOM: adapter})
    t0 = int(clock().timestamp()) - 1

    stopped = deps.sync.sync_source(
        Source.INTERCOM, now=clock(), progress=failing_after(intercom_emu, 3, SEARCH, 2)
    )

    assert "HTTP 500" in (stopped.error or "")
    checkpoint = deps.store.sync_state(Source.INTERCOM).cursor
    assert checkpoint is not None and checkpoint.startswith(f"first:{t0}:")
    assert deps.store.count_open(Source.INTERCOM) == 450

    clock.advance(minutes=1)
    resumed = deps.sync.sync_source(Source.INTERCOM, now=clock())

    assert resumed.error is None and resumed.items == 550
    assert deps.store.count_open(Source.INTERCOM) == 1000
    assert deps.store.sync_state(Source.INTERCOM).cursor == f"updated_at:{t0}"
    sent = Counter(call.json()["pagination"].get("starting_after") for call in intercom_emu.calls(SEARCH))
    # 7 pages; the 4th was asked for three times (two 500s, then after the restart), the others once.
    assert sorted(sent.values()) == [1] * 6 + [3]
    assert sent[checkpoint.split(":", 2)[2]] == 3


# -- `deskwatch sla scan` killed with SIGKILL in the middle of a first sync --------------------------------
def serve_pages_then_hold(emu: EmulatorServer, path: str, pages: int, timeout: float = 60) -> ResponseHold:
    """Let `pages` responses on `path` through, then hold the next one: returned once that request
    arrived, i.e. once the client stored every page before it."""
    hold = emu.hold_responses(path)
    for _ in range(pages):
        assert hold.wait_arrived(timeout), f"page request to {path} never arrived"
        following = emu.hold_responses(path)  # registered before the release: no request slips by
        hold.release()
        hold = following
    assert hold.wait_arrived(timeout), f"page request to {path} never arrived"
    return hold


def run_scan(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "sla", "scan"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def scan_killed_mid_first_sync_then_rerun(tmp_path, database_url, seed, emulator_of, path, pages):
    """Seed a backlog, kill the scan while page `pages + 1` is in flight, read the stored checkpoint,
    then let a new scan finish. Returns the checkpoint and the item count stored when it was killed,
    a Store on the database, the emulator (its log holds the new scan's requests) and its output."""
    with live_stack(tmp_path, database_url) as stack:
        emu = emulator_of(stack)
        seed(emu)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "INTERCOM_"))},
            **stack.env,
        }
        proc, hold = run_scan(env), None
        try:
            hold = serve_pages_then_hold(emu, path, pages)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            proc.kill()  # a no-op once it is dead; a failed wait above leaves no process behind
            if hold is not None:
                hold.release()
        store = Store(make_engine(database_url))
        source = Source.ZENDESK if isinstance(emu, ZendeskEmulator) else Source.INTERCOM
        checkpoint, killed_with = store.sync_state(source).cursor, store.count_open(source)
        assert hold.dropped == 1  # the killed process never saw the page it was waiting for
        emu.reset_log()

        rerun = run_scan(env)
        output = rerun.communicate(timeout=180)[0].decode()
        assert rerun.returncode == 0, output
        return checkpoint, killed_with, store, emu, output


def test_sla_scan_killed_mid_zendesk_first_sync_resumes_at_the_export_page_in_flight(tmp_path, database_url):
    checkpoint, killed_with, store, emu, output = scan_killed_mid_first_sync_then_rerun(
        tmp_path,
        database_url,
        lambda emu: seed_tickets(emu, 2500, datetime.now(UTC)),
        lambda stack: stack.zendesk,
        EXPORT,
        pages=1,
    )
    try:
        assert checkpoint is not None and checkpoint.startswith("first:")
        assert killed_with == 1000  # the first export page, all ten show_many pages of it
        exports = emu.calls(EXPORT)
        assert exports[0].query["page[after]"] == [checkpoint.split(":", 2)[2]]
        state = store.sync_state(Source.ZENDESK)
        assert state.cursor == f"time:{checkpoint.split(':')[1]}" and state.last_error is None
        stored = {item.ref.external_id for item in store.open_items(Source.ZENDESK)}
        assert {str(tid) for tid in range(1, 2501)} <= stored
        read_again = {i for call in emu.calls(SHOW_MANY) for i in call.query["ids"][0].split(",")}
        assert not read_again & {str(tid) for tid in range(1, 1001)}, "a stored page was fetched again"
        assert "Zendesk:" in output
    finally:
        store.engine.dispose()


def test_sla_scan_killed_mid_intercom_first_sync_resumes_at_the_page_in_flight(tmp_path, database_url):
    checkpoint, killed_with, store, emu, output = scan_killed_mid_first_sync_then_rerun(
        tmp_path,
        database_url,
        lambda emu: seed_conversations(emu, 1000, datetime.now(UTC)),
        lambda stack: stack.intercom,
        SEARCH,
        pages=3,
    )
    try:
        assert checkpoint is not None and checkpoint.startswith("first:")
        assert killed_with == 450
        searches = emu.calls(SEARCH)
        assert searches[0].json()["pagination"]["starting_after"] == checkpoint.split(":", 2)[2]
        state = store.sync_state(Source.INTERCOM)
        assert state.cursor == f"updated_at:{checkpoint.split(':')[1]}" and state.last_error is None
        stored = {item.ref.external_id for item in store.open_items(Source.INTERCOM)}
        assert {str(n) for n in range(1, 1001)} <= stored
        assert "Intercom:" in output
    finally:
        store.engine.dispose()
