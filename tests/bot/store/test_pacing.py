"""Shared per-channel pacing: one post per interval per channel across every replica on one database."""

from __future__ import annotations

import threading

import pytest

from bot.store.db import make_engine, upgrade
from bot.store.pacing import GUARD_SECONDS, SharedPacer


class FakeTime:
    """Wall time that only moves when someone sleeps (thread-safe: replicas share it)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def wall(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def pacer(engine, t: FakeTime, interval: float = 1.0 - GUARD_SECONDS) -> SharedPacer:
    """A pacer whose effective interval (with the latency guard) is exactly one second."""
    return SharedPacer(engine, interval, wall=t.wall, sleep=t.sleep)


def test_posts_to_one_channel_are_spaced_by_the_interval(engine):
    t = FakeTime()
    p = pacer(engine, t)

    assert [p.reserve("C1") for _ in range(3)] == [0.0, 1.0, 2.0]


def test_other_channels_are_not_held_back(engine):
    t = FakeTime()
    p = pacer(engine, t)
    p.reserve("C1")
    p.reserve("C1")

    assert p.reserve("C2") == 0.0


def test_two_replicas_share_the_pace_of_a_channel(engine, database_url):
    """Two processes each with its own pacer (and engine) on the same table: together one per second."""
    t = FakeTime()
    other_engine = make_engine(database_url)
    try:
        a, b = pacer(engine, t), pacer(other_engine, t)
        slots = sorted([a.reserve("C1"), b.reserve("C1"), a.reserve("C1"), b.reserve("C1")])
    finally:
        other_engine.dispose()

    assert slots == [0.0, 1.0, 2.0, 3.0]


def test_concurrent_reservations_never_share_a_slot(engine):
    t = FakeTime()
    pacers = [pacer(engine, t) for _ in range(4)]
    results: list[float] = []
    lock = threading.Lock()

    def take(p: SharedPacer) -> None:
        for _ in range(5):
            delay = p.reserve("C1")
            with lock:
                results.append(delay)

    threads = [threading.Thread(target=take, args=(p,)) for p in pacers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [float(i) for i in range(20)]


def test_interval_counts_from_slacks_answer(engine):
    t = FakeTime()
    p = pacer(engine, t)
    p.reserve("C1")
    t.now += 0.6  # the post took 0.6 s to answer
    p.answered("C1")

    assert p.reserve("C1") == pytest.approx(1.0)  # 1 s after the answer, not after the start


def test_an_idle_channel_posts_at_once(engine):
    t = FakeTime()
    p = pacer(engine, t)
    p.reserve("C1")
    t.now += 30

    assert p.wait("C1") == 0.0 and t.slept == []


def test_every_interval_carries_the_latency_guard(engine):
    assert SharedPacer(engine, 1.0).interval == 1.0 + GUARD_SECONDS


def test_zero_interval_touches_no_database():
    t = FakeTime()
    p = SharedPacer(None, 0, wall=t.wall, sleep=t.sleep)

    assert p.reserve("C1") == 0.0 and not p.enabled
