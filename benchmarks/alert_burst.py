"""Posting a burst of alerts spread over many channels, with Slack's 1 message/s/channel pacing.

Bounded: N alerts (default 60) over C channels (default 12) to the local Slack emulator only, delivered
by R replicas (default 1) sharing one database: the emulator answers 429 to a second post in a channel
within a second, so "429s" shows whether the shared pacing holds across replicas.
Usage: python benchmarks/alert_burst.py [--alerts 60] [--channels 12] [--replicas 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import build_deps
from bot.config import config_from_dict, load_settings
from bot.domain.model import HelpdeskItem, MetricStage, SlaMetric, Source, TicketRef
from bot.logs import configure_logging
from integrations.emulators.slack import SlackEmulator

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=60)
    parser.add_argument("--channels", type=int, default=12)
    parser.add_argument("--replicas", type=int, default=1)
    args = parser.parse_args()
    configure_logging(json_logs=False, level="WARNING")
    channels = [f"C0BURST{i:02d}" for i in range(args.channels)]
    config = config_from_dict(
        {
            "alerts": {"channel": "C0ALERTS", "warn_before": ["30m"]},
            "teams": [
                {"name": f"team{i}", "channel": ch, "zendesk_group_ids": [100 + i]}
                for i, ch in enumerate(channels)
            ],
        },
        source="bench",
    )
    with SlackEmulator(
        token="xoxb-bench", channels=[*channels, "C0ALERTS"], enforce_channel_rate=True
    ) as slack:
        settings = load_settings(
            database_url=f"sqlite:///{Path(tempfile.mkdtemp()) / 'burst.db'}",
            slack_bot_token="xoxb-bench",
            slack_signing_secret="bench-secret",
            slack_api_url=slack.api_url,
        )
        replicas = [
            build_deps(settings, config, clock=lambda: NOW, helpdesks={}) for _ in range(args.replicas)
        ]
        deps = replicas[0]
        deps.store.upsert_items(
            (
                HelpdeskItem(
                    ref=TicketRef(Source.ZENDESK, str(i)),
                    subject=f"Ticket {i}",
                    status="open",
                    priority="high",
                    group_id=str(100 + i % args.channels),
                    assignee_id=None,
                    assignee_name=None,
                    url="",
                    created_at=NOW,
                    updated_at=NOW,
                    sla_metrics=(
                        SlaMetric("first_reply_time", MetricStage.ACTIVE, NOW - timedelta(minutes=1)),
                    ),
                )
                for i in range(args.alerts)
            ),
            now=NOW,
        )
        started = time.perf_counter()
        deps.sweep.run(now=NOW)
        with ThreadPoolExecutor(max_workers=args.replicas) as pool:
            reports = list(pool.map(lambda d: d.outbox.drain(now=NOW), replicas))
        secs = time.perf_counter() - started
        posted = sum(len(r.posted) for r in reports)
        rate_limited = len(slack.calls("/api/chat.postMessage")) - posted
        duplicates = posted - len({m["ts"] for m in slack.messages()})
    per_channel = args.alerts / args.channels
    print(
        "| Alerts | Channels | Replicas | Posted | Duplicates | 429s from the emulator | Wall time "
        "| Serialised would be |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.alerts} | {args.channels} | {args.replicas} | {posted} | {duplicates} | {rate_limited} | "
        f"{secs:.1f} s | ≥ {args.alerts - 1:.0f} s (per-channel floor {per_channel - 1:.0f} s) |"
    )


if __name__ == "__main__":
    main()
