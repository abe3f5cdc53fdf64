"""Escalation timers as a plain `(deps, now)` job: re-pings, auto-escalations and tier `due` alerts.

Timers live in the database (`escalations.next_timer_at`), so a restart resumes them; a wake-up that is
early or repeated changes nothing (the state machine decides from the stored state and `now`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.services.outbox import DeliveryReport

if TYPE_CHECKING:
    from bot.app import Deps


def escalation_timer_job(deps: Deps, now: datetime) -> int:
    """Handle every due timer, then deliver what they caused; returns how many handoffs acted."""
    acted = deps.escalations.run_timers(now)
    if acted:
        deps.outbox.deliver_due(now=now)
    return acted


def escalation_tick(deps: Deps, now: datetime) -> DeliveryReport:
    """Timers plus a delivery pass (what `deskwatch demo` and tests call to move time on)."""
    deps.escalations.run_timers(now)
    return deps.outbox.drain(now=now, max_seconds=30)
