"""Per-channel post pacing shared by every replica through the database.

Slack allows about one message per second per channel. A row per channel holds the next moment a post
may start; taking a slot is one atomic upsert, so any number of `serve` processes together stay at the
pace (a per-process pacer lets two replicas post twice as fast). Wall-clock seconds, not the injected
domain clock: pacing is about real time on Slack's side.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, case, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.tables import ChannelPaceRow

T = ChannelPaceRow.__table__
# Added to every interval: two replicas' requests take different times to reach Slack (a loaded host
# adds ~100 ms of jitter), and a post landing early would meet a 429.
GUARD_SECONDS = 0.15


class SharedPacer:
    def __init__(
        self,
        engine: Engine | None,
        interval: float,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = engine
        self.interval = interval + GUARD_SECONDS if interval > 0 else 0.0
        self._wall = wall
        self._sleep = sleep

    @property
    def enabled(self) -> bool:
        return self.engine is not None and self.interval > 0

    def reserve(self, channel: str) -> float:
        """Reserve the next free slot for `channel`; returns seconds until it starts (0 = now)."""
        if not self.enabled:
            return 0.0
        now = self._wall()
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(T).values(channel=channel, next_at=now + self.interval)
        stmt = stmt.on_conflict_do_update(
            index_elements=["channel"],
            set_={
                "next_at": case((T.c.next_at > now, T.c.next_at + self.interval), else_=now + self.interval)
            },
        ).returning(T.c.next_at)
        with self.engine.begin() as conn:
            next_at = float(conn.execute(stmt).scalar_one())
        return max(0.0, next_at - self.interval - now)

    def wait(self, channel: str) -> float:
        """Block until `channel` may receive a post; returns the seconds waited."""
        delay = self.reserve(channel)
        if delay > 0:
            self._sleep(delay)
        return delay

    def answered(self, channel: str) -> None:
        """Count the interval from when Slack answered, so latency cannot squeeze two posts into one
        second on Slack's side."""
        if not self.enabled:
            return
        done = self._wall() + self.interval
        with self.engine.begin() as conn:
            conn.execute(update(T).where(T.c.channel == channel, T.c.next_at < done).values(next_at=done))
