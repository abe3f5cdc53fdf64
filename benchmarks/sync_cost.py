"""API calls and wall time of helpdesk syncs for a backlog of N open items (default 1,000 each).

Runs the real adapters (zenpy, python-intercom) against the local emulators on 127.0.0.1 only.
Usage: python benchmarks/sync_cost.py [--items 1000] [--changes 50]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from integrations.emulators.intercom import IntercomEmulator
from integrations.emulators.seed import open_conversation, open_ticket
from integrations.emulators.zendesk import ZendeskEmulator
from integrations.intercom import IntercomHelpdesk
from integrations.zendesk import ZendeskHelpdesk


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def run_sync(helpdesk, cursor, now):
    calls = items = 0
    started = time.perf_counter()
    for page in helpdesk.sync(cursor, now=now):
        calls += page.api_calls
        items += len(page.items)
        cursor = page.cursor or cursor
    return cursor, calls, items, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    clock = Clock()
    rows = []
    with ZendeskEmulator(now=clock) as zd, IntercomEmulator(now=clock) as ic:
        zd.add_group(7, "Billing")
        ic.add_admin(901, "Dana")
        ic.add_team(77, "Billing")
        for i in range(1, args.items + 1):
            created = clock() - timedelta(days=i % 400, minutes=i)
            open_ticket(zd, i, created=created, breach_at=clock() + timedelta(hours=2))
            open_conversation(ic, i, created=created)
        clock.now += timedelta(minutes=5)
        adapters = {
            "Zendesk": ZendeskHelpdesk(subdomain=None, email=zd.email, token=zd.token, base_url=zd.url),
            "Intercom": IntercomHelpdesk(token=ic.token, base_url=ic.url),
        }
        cursors = {}
        for name, helpdesk in adapters.items():
            cursors[name], calls, items, secs = run_sync(helpdesk, None, clock())
            rows.append((name, f"first sync, {args.items} open", calls, items, secs))
        clock.now += timedelta(minutes=2)
        for name, helpdesk in adapters.items():
            cursors[name], *_ = run_sync(helpdesk, cursors[name], clock())  # settle the first-sync overlap
        clock.now += timedelta(minutes=2)
        for name, helpdesk in adapters.items():
            cursors[name], calls, items, secs = run_sync(helpdesk, cursors[name], clock())
            rows.append((name, "quiet re-sync", calls, items, secs))
        clock.now += timedelta(minutes=1)
        for i in range(1, args.changes + 1):
            zd.upsert_ticket(id=i, priority="high", updated_at=clock())
            ic.upsert_conversation(id=str(i), priority="priority", updated_at=int(clock().timestamp()))
        clock.now += timedelta(minutes=2)
        for name, helpdesk in adapters.items():
            cursors[name], calls, items, secs = run_sync(helpdesk, cursors[name], clock())
            rows.append((name, f"re-sync after {args.changes} changes", calls, items, secs))
    print("| Helpdesk | Sync | API calls | Items | Wall time |")
    print("|---|---|---|---|---|")
    for name, what, calls, items, secs in rows:
        print(f"| {name} | {what} | {calls} | {items} | {secs * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
