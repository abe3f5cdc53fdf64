"""Deadline sweep cost over a large stored backlog: evaluate + decide, no helpdesk call, no post.

Usage: python benchmarks/sweep.py [--items 10000] [--database-url sqlite:///...]
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

from bot.config import config_from_dict
from bot.domain.model import HelpdeskItem, MetricStage, SlaMetric, Source, TicketRef
from bot.metrics import Metrics
from bot.services.sla import SlaService
from bot.store.db import make_engine, upgrade
from bot.store.repository import Store
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
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'sweep.db'}"
    schema = None
    if url.startswith("postgresql"):  # a throw-away schema, never the database's public one
        schema = f"dw_bench_{uuid.uuid4().hex[:8]}"
        with create_engine(url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")
    engine = make_engine(url)
    upgrade(engine)
    store = Store(engine)
    store.upsert_items(items(args.items), now=NOW)
    sla = SlaService(store=store, config=config_from_dict(DEMO_CONFIG, source="bench"), metrics=Metrics())
    first = time.perf_counter()
    decided = sla.decide(now=NOW)
    first_secs = time.perf_counter() - first
    quiet = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        again = sla.decide(now=NOW)
        quiet.append(time.perf_counter() - started)
        assert again == []
    backend = url.split(":")[0]
    engine.dispose()
    if schema:
        with create_engine(args.database_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    print("| Backend | Open items | Sweep deciding | Decisions | Quiet sweep (median) |")
    print("|---|---|---|---|---|")
    print(
        f"| {backend} | {args.items:,} | {first_secs * 1000:.0f} ms | {len(decided):,} | "
        f"{statistics.median(quiet) * 1000:.0f} ms |"
    )


if __name__ == "__main__":
    main()
