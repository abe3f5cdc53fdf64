"""Prometheus metrics, on a registry owned by the app instance (no import-time globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        self.alerts_failed = Counter(
            "deskwatch_alert_post_failures_total",
            "Failed SLA alert posts (retried later)",
            ["error"],
            registry=r,
        )
        self.alerts_cancelled = Counter(
            "deskwatch_alerts_cancelled_total",
            "Decided alerts dropped because the SLA no longer applied",
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "deskwatch_sweep_duration_seconds", "Duration of one deadline sweep", registry=r
        )
        self.open_items = Gauge(
            "deskwatch_open_items", "Open items in the local store", ["source"], registry=r
        )
        self.at_risk = Gauge("deskwatch_sla_at_risk", "Deadlines at risk at the last sweep", registry=r)
        self.breached = Gauge("deskwatch_sla_breached", "Deadlines breached at the last sweep", registry=r)
