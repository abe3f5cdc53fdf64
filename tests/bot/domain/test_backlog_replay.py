"""Hourly backlog replayed from backfilled events: spans, ages, the assumptions at the backfill's edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.backlog_replay import TicketTimeline, open_spans, replay
from bot.domain.digest import age_buckets
from bot.domain.history import EventKind

T0 = datetime(2026, 11, 1, tzinfo=UTC)
H = timedelta(hours=1)


def test_created_solved_reopened_solved_gives_two_spans():
    t = TicketTimeline(
        "zd:1",
        T0 + 2 * H,
        "billing",
        [(T0 + 5 * H, EventKind.SOLVED), (T0 + 8 * H, EventKind.REOPENED), (T0 + 9 * H, EventKind.SOLVED)],
    )
    assert open_spans(t, T0, T0 + 24 * H) == [(T0 + 2 * H, T0 + 5 * H), (T0 + 8 * H, T0 + 9 * H)]
    counts = {b.at: b.open for b in replay([t], T0, T0 + 24 * H)}
    assert [counts[T0 + n * H] for n in range(11)] == [0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0]


def test_what_a_replay_assumes_at_the_backfills_start():
    since, now = T0, T0 + 10 * H
    solved_first = TicketTimeline("zd:2", T0 - 48 * H, "billing", [(T0 + 3 * H, EventKind.SOLVED)])
    quiet_open = TicketTimeline("zd:3", T0 - 100 * H, "billing", [], open_now=True)
    quiet_closed = TicketTimeline("zd:4", T0 - 100 * H, "billing", [], open_now=False)
    reopened_first = TicketTimeline("zd:5", T0 - 100 * H, "billing", [(T0 + 6 * H, EventKind.REOPENED)])
    assert open_spans(solved_first, since, now) == [(since, T0 + 3 * H)]
    assert open_spans(quiet_open, since, now) == [(since, now)]
    assert open_spans(quiet_closed, since, now) == []
    assert open_spans(reopened_first, since, now) == [(T0 + 6 * H, now)]


def test_age_buckets_move_as_the_ticket_ages():
    t = TicketTimeline("zd:6", T0, "billing", [], open_now=True)
    rows = {b.at: b for b in replay([t], T0, T0 + 100 * H)}
    assert (rows[T0 + 23 * H].under_1d, rows[T0 + 24 * H].from_1d_to_3d) == (1, 1)
    assert (rows[T0 + 72 * H].from_1d_to_3d, rows[T0 + 73 * H].over_3d) == (1, 1)  # 72 h is still 1–3d


@given(
    st.lists(
        st.tuples(
            st.integers(0, 200),
            st.lists(st.tuples(st.integers(0, 240), st.sampled_from([EventKind.SOLVED, EventKind.REOPENED]))),
        ),
        max_size=20,
    )
)
def test_replay_agrees_with_counting_each_hour_directly(tickets):
    since, now = T0, T0 + 240 * H
    timelines = [
        TicketTimeline(f"zd:{n}", T0 + c * H + timedelta(minutes=7), "t", [(T0 + a * H, k) for a, k in ch])
        for n, (c, ch) in enumerate(tickets)
    ]
    rows = {b.at: b for b in replay(timelines, since, now)}
    for hour in range(0, 240, 7):
        point = T0 + hour * H
        ages = [
            point - t.created_at
            for t in timelines
            if any(a <= point < b for a, b in open_spans(t, since, now))
        ]
        expected = age_buckets(ages)
        row = rows.get(point)
        got = (0, 0, 0) if row is None else (row.under_1d, row.from_1d_to_3d, row.over_3d)
        assert got == (expected["<1d"], expected["1–3d"], expected[">3d"])
