"""A fake clock in the spirit of Twisted's task.Clock: tests advance time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FIXED_NOW = datetime(2026, 11, 23, 15, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = FIXED_NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.now = self.now + (delta if delta is not None else timedelta(**kwargs))
        return self.now
