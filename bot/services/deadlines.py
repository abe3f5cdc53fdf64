"""Deadlines kept at sync time: every synced item's deadlines are written to the deadlines table, with
their route and the next moment an alert becomes due, so the sweep never recomputes every open item.

When the configuration that shapes deadlines changes (teams, routes, business hours, Intercom targets,
`warn_before`; detected by a hash of those sections), every open item's deadlines are rebuilt once.
A due time the helpdesk moved inside a cycle updates the alerts already decided for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import structlog

from bot.config import AppConfig
from bot.domain.model import Deadline, HelpdeskItem
from bot.metrics import Metrics
from bot.services.sla import SlaService
from bot.store.alerts import AlertStatus
from bot.store.deadlines import DeadlineRecord, DeadlineStore
from bot.store.repository import Store

log = structlog.get_logger(__name__)

CONFIG_HASH_KEY = "deadline_config_hash"
# A due time that moves by less than this is the helpdesk's rounding, not a moved deadline.
MOVE_TOLERANCE = timedelta(minutes=1)


def deadline_config_hash(config: AppConfig) -> str:
    """Hash of every configuration section that shapes deadlines or their routes."""
    shaping = config.model_dump(mode="json", include={"timezone", "business_hours", "teams", "sla"})
    shaping["alerts"] = {
        "channel": config.alerts.channel,
        "warn_before": [str(t) for t in config.alerts.warn_before],
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()


def alert_moments(due_at: datetime, warn_before: Sequence[timedelta]) -> list[datetime]:
    """Every moment an alert of this deadline can become due: each warning threshold, then the breach."""
    return sorted({due_at - t for t in warn_before} | {due_at})


class DeadlineKeeper:
    def __init__(
        self, *, store: Store, deadlines: DeadlineStore, sla: SlaService, config: AppConfig, metrics: Metrics
    ) -> None:
        self.store = store
        self.deadlines = deadlines
        self.sla = sla
        self.config = config
        self.metrics = metrics
        self._current = False

    def records_for(self, item: HelpdeskItem) -> list[DeadlineRecord]:
        if item.is_closed:
            return []
        team, deadlines = self.sla.deadlines(item)
        channel = team.channel if team else self.config.alerts.channel
        return [self._record(d, team.name if team else None, channel) for d in deadlines]

    def _record(self, d: Deadline, team: str | None, channel: str) -> DeadlineRecord:
        first = alert_moments(d.due_at, self.config.alerts.warn_before)[0]
        return DeadlineRecord(str(d.ref), d.metric, d.cycle, d.due_at, team, channel, next_at=first)

    def refresh(self, items: Iterable[HelpdeskItem], *, now: datetime) -> int:
        """Write the deadlines of these freshly stored items (bulk); returns how many deadlines moved."""
        items = list(items)
        records = [record for item in items for record in self.records_for(item)]
        moved = self.deadlines.replace_for_items([str(item.ref) for item in items], records, now=now)
        if not moved:
            return 0
        alerts = self.store.alerts_for_cycles([m.key for m in moved])
        count = 0
        for m in moved:
            for alert in alerts.get(m.key, ()):
                live = alert.status in (AlertStatus.PENDING, AlertStatus.POSTED)
                far = abs(alert.due_at - m.new_due) >= MOVE_TOLERANCE
                if live and far and self.store.move_deadline(alert, m.new_due, now=now):
                    self.metrics.deadlines_moved.inc()
                    count += 1
        return count

    def ensure_current(self, *, now: datetime) -> bool:
        """Rebuild every open item's deadlines once when the shaping configuration changed (or was never
        recorded). Returns True when it rebuilt. Cheap after the first call in a process."""
        if self._current:
            return False
        wanted = deadline_config_hash(self.config)
        if self.deadlines.meta(CONFIG_HASH_KEY) == wanted:
            self._current = True
            return False
        rebuilt = 0
        for batch in self.store.iter_open_items():
            self.refresh(batch, now=now)
            rebuilt += len(batch)
        self.deadlines.set_meta(CONFIG_HASH_KEY, wanted)
        self._current = True
        log.info("deadlines_rebuilt", items=rebuilt, reason="configuration that shapes deadlines changed")
        return True
