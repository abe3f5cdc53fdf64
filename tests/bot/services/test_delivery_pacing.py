"""Per-channel pacing: one post per interval per channel, channels independent."""

from __future__ import annotations

from bot.services.delivery import ChannelPacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_second_post_to_the_same_channel_waits_the_interval():
    t = FakeTime()
    pacer = ChannelPacer(1.0, monotonic=t.monotonic, sleep=t.sleep)

    waits = [pacer.wait("C1"), pacer.wait("C1"), pacer.wait("C1")]

    assert waits == [0, 1.0, 1.0]


def test_other_channels_are_not_held_back():
    t = FakeTime()
    pacer = ChannelPacer(1.0, monotonic=t.monotonic, sleep=t.sleep)

    pacer.wait("C1")
    waits = [pacer.wait(c) for c in ("C2", "C3", "C4")]

    assert waits == [0, 0, 0] and t.slept == []


def test_time_already_passed_counts_towards_the_interval():
    t = FakeTime()
    pacer = ChannelPacer(1.0, monotonic=t.monotonic, sleep=t.sleep)
    pacer.wait("C1")
    t.now += 0.75

    assert pacer.wait("C1") == 0.25


def test_burst_over_many_channels_is_posted_in_parallel(seeded, slack_emu, make_deps, demo_config, clock):
    """With real pacing (1 s) the 7 demo alerts over 3 channels need at most 2 waits per channel."""
    from jobs.sla import scan

    waits: list[tuple[str, float]] = []
    t = FakeTime()

    class RecordingPacer(ChannelPacer):
        def wait(self, channel: str) -> float:
            delay = super().wait(channel)
            waits.append((channel, delay))
            return delay

    deps = make_deps(demo_config, pacer=RecordingPacer(1.0, monotonic=t.monotonic, sleep=lambda s: None))
    scan(deps, clock())

    assert len(slack_emu.messages()) == 7
    per_channel: dict[str, list[float]] = {}
    for channel, delay in waits:
        per_channel.setdefault(channel, []).append(delay)
    assert all(d[0] == 0 for d in per_channel.values())  # first post in every channel goes at once
    assert len(per_channel) == 3
