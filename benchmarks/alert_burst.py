"""Posting a burst of alerts spread over many channels, with Slack's 1 message/s/channel pacing.

Bounded: N alerts (default 60) over C channels (default 12) to the local Slack emulator only.
Usage: python benchmarks/alert_burst.py [--alerts 60] [--channels 12]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import build_deps
from bot.config import config_from_dict, load_settings
from bot.domain.model import HelpdeskItem, MetricStage, SlaMetric, Source, TicketRef
from integrations.emulators.slack import SlackEmulator

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=60)
    parser.add_argument("--channels", type=int, default=12)
    args = parser.parse_args()
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
        deps = build_deps(settings, config, clock=lambda: NOW, helpdesks={})
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
        deps.sla.decide(now=NOW)
        report = deps.delivery.deliver_due(now=NOW)
        secs = time.perf_counter() - started
        rate_limited = len([r for r in slack.calls("/api/chat.postMessage")]) - len(report.posted)
    per_channel = args.alerts / args.channels
    print("| Alerts | Channels | Posted | 429s from the emulator | Wall time | Serialised would be |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.alerts} | {args.channels} | {len(report.posted)} | {rate_limited} | {secs:.1f} s | "
        f"≥ {args.alerts - 1:.0f} s (per-channel floor {per_channel - 1:.0f} s) |"
    )


if __name__ == "__main__":
    main()
