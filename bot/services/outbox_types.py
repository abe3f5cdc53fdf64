"""The values an outbox purpose and a delivery pass exchange: what to send (a Slack call or a helpdesk
write), what not to send (Cancel) or not yet (Defer), and what a pass did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection

from bot.store.outbox import OutboxItem


@dataclass(frozen=True)
class Prepared:
    """The final Slack call for a row. `metadata` (posts) gets the row's idempotency key added."""

    method: str  # "chat.postMessage" | "chat.update"
    args: dict[str, Any]
    metadata: dict[str, Any] | None = None

    @property
    def channel(self) -> str:
        return self.args["channel"]


@dataclass(frozen=True)
class Cancel:
    reason: str


@dataclass(frozen=True)
class Defer:
    """Not yet (the parent message of a thread reply is not posted): try again after `delay`."""

    reason: str
    delay: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class HelpdeskCall:
    """A helpdesk write for a row. `run()` performs it and returns the row's result; it must look
    before it re-sends (the write may have gone through on an earlier attempt whose answer was lost)."""

    target: str  # e.g. "zd:101", for logs and the row's recorded target
    run: Callable[[], dict[str, Any]]


class Purpose(Protocol):
    """What prepares and finishes rows of one purpose (SLA alert, alert update, digest...)."""

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None: ...

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | HelpdeskCall | Cancel | Defer: ...

    def on_posted(
        self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime
    ) -> None: ...

    def on_final(
        self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime
    ) -> None: ...


@dataclass
class DeliveryReport:
    posted: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # will retry
    unknown: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    def merge(self, other: DeliveryReport) -> None:
        for name in ("posted", "recovered", "failed", "unknown", "dead", "cancelled"):
            getattr(self, name).extend(getattr(other, name))

    @property
    def worked(self) -> int:
        return sum(
            len(getattr(self, n)) for n in ("posted", "recovered", "failed", "unknown", "dead", "cancelled")
        )
