"""Deadline sweep cost over a large stored backlog: decide from the due deadlines, no helpdesk call, no post.

The items are stored and their deadlines written as a sync writes them (`Store.upsert_items`, then
`DeadlineKeeper.refresh`), then `DeadlineSweep.run` decides what is due and a few quiet sweeps follow.
For 100,000 items through the real helpdesk clients, see scale.py.
Usage: python benchmarks/sweep.py [--items 10000] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from bot.app import build_deps
from bot.config import config_from_dict, load_settings
from bot.domain.model import HelpdeskItem, MetricStage, SlaMetric, Source, TicketRef
from bot.logs import configure_logging
from integrations.emulators.seed import DEMO_CONFIG

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def items(n: int):
    for i in range(n):
        if i % 2:
            yield HelpdeskItem(
                ref=TicketRef(Source.ZENDESK, str(i)),
                subject=f"Ticket {i}",
                status="open",
                priority="normal",
                group_id=str(7 + i % 3),
                assignee_id=None,
                assignee_name=None,
                url="",
                created_at=NOW,
                updated_at=NOW,
                sla_metrics=(
                    SlaMetric(
                        "first_reply_time", MetricStage.ACTIVE, NOW + timedelta(minutes=(i % 600) - 60)
                    ),
                ),
            )
        else:
            created = NOW - timedelta(minutes=i % 300)
            yield HelpdeskItem(
                ref=TicketRef(Source.INTERCOM, str(i)),
                subject=f"Conversation {i}",
                status="open",
                priority="priority" if i % 4 == 0 else "not_priority",
                group_id=str(77 + i % 2),
                assignee_id=None,
                assignee_name=None,
                url="",
                created_at=created,
                updated_at=created,
                waiting_since=created,
                first_contact_at=created,  # the customer wrote first: a first reply is owed
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    configure_logging(json_logs=False, level="WARNING")
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'sweep.db'}"
    schema = None
    if url.startswith("postgresql"):  # a throw-away schema, never the database's public one
        schema = f"dw_bench_{uuid.uuid4().hex[:8]}"
        with create_engine(url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")
    settings = load_settings(
        database_url=url,
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench-secret",
        slack_api_url="http://127.0.0.1:9/api/",  # nothing is posted
    )
    deps = build_deps(
        settings, config_from_dict(DEMO_CONFIG, source="bench"), clock=lambda: NOW, helpdesks={}
    )
    try:
        started = time.perf_counter()
        deps.keeper.ensure_current(now=NOW)  # as the sync job does first
        batch = list(items(args.items))
        for start in range(0, len(batch), 1000):  # page by page, as a sync stores them
            page = batch[start : start + 1000]
            deps.store.upsert_items(page, now=NOW)
            deps.keeper.refresh(page, now=NOW)
        store_secs = time.perf_counter() - started
        started = time.perf_counter()
        first = deps.sweep.run(now=NOW)
        first_secs = time.perf_counter() - started
        quiet = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            again = deps.sweep.run(now=NOW)
            quiet.append(time.perf_counter() - started)
            assert again.decided == [], "a quiet sweep decided again"
    finally:
        deps.store.engine.dispose()
        if schema:
            with create_engine(args.database_url).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    backend = url.split(":")[0].split("+")[0]
    print(
        "| Backend | Open items | Stored with deadlines | Sweep deciding | Decisions | Rows read "
        "| Quiet sweep (median) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {backend} | {args.items:,} | {store_secs:.1f} s | {first_secs * 1000:.0f} ms | "
        f"{len(first.decided):,} | {first.rows_read:,} | {statistics.median(quiet) * 1000:.1f} ms |"
    )


if __name__ == "__main__":
    main()
