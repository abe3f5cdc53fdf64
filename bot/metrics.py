"""Prometheus metrics, on a registry owned by the app instance (no import-time globals)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.sync_runs = Counter(
            "deskwatch_sync_runs_total", "Helpdesk syncs by outcome", ["source", "outcome"], registry=r
        )
        self.sync_items = Counter(
            "deskwatch_sync_items_total", "Items fetched from helpdesks", ["source"], registry=r
        )
        self.helpdesk_calls = Counter(
            "deskwatch_helpdesk_api_calls_total", "HTTP calls made to helpdesk APIs", ["source"], registry=r
        )
        self.sync_seconds = Histogram(
            "deskwatch_sync_duration_seconds", "Duration of one helpdesk sync", ["source"], registry=r
        )
        self.alerts_decided = Counter(
            "deskwatch_alerts_decided_total", "SLA alerts decided", ["kind"], registry=r
        )
        self.alerts_posted = Counter(
            "deskwatch_alerts_posted_total", "SLA alerts posted to Slack", ["kind"], registry=r
        )
        self.outbox_done = Counter(
            "deskwatch_outbox_finished_total",
            "Outbox rows finished, by purpose and how (posted, recovered, dead, cancelled)",
            ["purpose", "outcome"],
            registry=r,
        )
        self.outbox_failures = Counter(
            "deskwatch_outbox_failures_total",
            "Failed Slack calls of the outbox, by what happens next (retry, unknown, dead) and error",
            ["purpose", "outcome", "error"],
            registry=r,
        )
        self.escalations = Counter(
            "deskwatch_escalations_total",
            "Escalation handoffs by step (opened, escalated, resolved)",
            ["step"],
            registry=r,
        )
        self.qa_reviews = Counter(
            "deskwatch_qa_reviews_total",
            "QA scorecards recorded, by outcome (pass, fail)",
            ["outcome"],
            registry=r,
        )
        self.outbox_lookups = Counter(
            "deskwatch_outbox_lookups_total",
            "History/thread reads made to resolve an unseen outcome before any re-send",
            registry=r,
        )
        self.outbox_lookup_blocked = Counter(
            "deskwatch_outbox_lookup_blocked_total",
            "Unseen outcomes that could not be looked up (the bot cannot read the channel)",
            ["channel"],
            registry=r,
        )
        self.rereads = Counter(
            "deskwatch_reread_before_breach_total",
            "Items re-read from the helpdesk right before a breach alert was posted",
            ["source"],
            registry=r,
        )
        self.deadlines_moved = Counter(
            "deskwatch_deadlines_moved_total",
            "Alerted deadlines the helpdesk moved inside their cycle (message updated, not re-posted)",
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "deskwatch_sweep_duration_seconds",
            "Wall time of one deadline sweep (deciding only, not posting)",
            registry=r,
        )
        self.sweep_rows_read = Gauge(
            "deskwatch_sweep_deadline_rows_read",
            "Deadline rows the last sweep read (only the due ones)",
            registry=r,
        )
        self.webhooks = Counter(
            "deskwatch_webhooks_total",
            "Helpdesk webhooks by outcome (accepted, forged, stale, unsigned, ignored, processed, ...)",
            ["source", "outcome"],
            registry=r,
        )
        self.open_items = Gauge(
            "deskwatch_open_items", "Open items in the local store", ["source"], registry=r
        )
        self.at_risk = Gauge("deskwatch_sla_at_risk", "Deadlines at risk at the last sweep", registry=r)
        self.breached = Gauge("deskwatch_sla_breached", "Deadlines breached at the last sweep", registry=r)

    def watch_outbox(self, counts: Callable[[], dict[str, int]]) -> None:
        """`deskwatch_outbox_rows{state}`: read from the database at each scrape, so every replica
        reports the same shared backlog (unknown and dead rows need a human's eye)."""

        class _OutboxCollector(Collector):
            def collect(self):
                family = GaugeMetricFamily("deskwatch_outbox_rows", "Outbox rows by state", labels=["state"])
                try:
                    for state, count in sorted(counts().items()):
                        family.add_metric([state], count)
                except Exception:  # a scrape must not fail because the database blinked
                    return
                yield family

        self.registry.register(_OutboxCollector())
