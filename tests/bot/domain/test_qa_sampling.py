"""Weekly QA sampling with injected time: deterministic samples, Monday weeks per timezone, when to run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.model import Source, TicketRef
from bot.domain.qa_sampling import is_sampling_time, sample_seed, sample_tickets, sample_window, week_start

PARIS = ZoneInfo("Europe/Paris")
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def zd(number: int) -> TicketRef:
    return TicketRef(Source.ZENDESK, str(number))


CANDIDATES = [("U0ANA", zd(n)) for n in range(1, 11)] + [("U0BOB", zd(n)) for n in range(11, 13)]


def test_sample_per_agent_never_more_than_available() -> None:
    sample = sample_tickets(CANDIDATES, 3, seed="U0LEAD:2025-W14")

    assert list(sample) == ["U0ANA", "U0BOB"]
    assert len(sample["U0ANA"]) == 3 and set(sample["U0ANA"]) <= {zd(n) for n in range(1, 11)}
    assert sample["U0BOB"] == [zd(11), zd(12)]  # only two solved: both


def test_sample_is_deterministic_and_ignores_input_order() -> None:
    first = sample_tickets(CANDIDATES, 3, seed="U0LEAD:2025-W14")

    assert sample_tickets(list(reversed(CANDIDATES)), 3, seed="U0LEAD:2025-W14") == first
    assert sample_tickets(CANDIDATES + CANDIDATES[:4], 3, seed="U0LEAD:2025-W14") == first  # duplicates


def test_sample_changes_with_the_seed() -> None:
    samples = {
        tuple(sample_tickets(CANDIDATES, 3, seed=f"U0LEAD:2025-W{week:02d}")["U0ANA"])
        for week in range(1, 11)
    }

    assert len(samples) > 1


def test_empty_candidates_give_an_empty_sample() -> None:
    assert sample_tickets([], 3, seed="x") == {}


def test_per_agent_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        sample_tickets(CANDIDATES, 0, seed="x")


@given(
    st.lists(st.tuples(st.sampled_from(["U0A", "U0B", "U0C"]), st.integers(1, 40).map(zd)), max_size=60),
    st.integers(1, 8),
    st.text(max_size=10),
)
def test_sample_is_a_bounded_subset(
    candidates: list[tuple[str, TicketRef]], per_agent: int, seed: str
) -> None:
    sample = sample_tickets(candidates, per_agent, seed=seed)

    for agent, refs in sample.items():
        available = {ref for who, ref in candidates if who == agent}
        assert set(refs) <= available
        assert len(refs) == len(set(refs)) == min(per_agent, len(available))
    assert set(sample) == {agent for agent, _ in candidates}


def test_sample_seed_is_per_reviewer_and_iso_week() -> None:
    assert sample_seed("U0LEAD", date(2025, 3, 31)) == "U0LEAD:2025-W14"
    assert sample_seed("U0LEAD", date(2024, 12, 30)) == "U0LEAD:2025-W01"  # ISO week-year


def test_week_start_is_monday_in_the_timezone() -> None:
    sunday_evening_utc = datetime(2025, 3, 30, 20, tzinfo=UTC)  # already Monday in Tokyo

    assert week_start(sunday_evening_utc, UTC) == date(2025, 3, 24)
    assert week_start(sunday_evening_utc, TOKYO) == date(2025, 3, 31)
    assert week_start(datetime(2025, 3, 31, 0, tzinfo=PARIS), PARIS) == date(2025, 3, 31)


def test_week_start_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        week_start(datetime(2025, 3, 31), UTC)


def test_sample_window_is_last_local_week_across_dst() -> None:
    start, end = sample_window(datetime(2025, 3, 31, 9, tzinfo=PARIS), PARIS)

    assert (start, end) == (datetime(2025, 3, 24, tzinfo=PARIS), datetime(2025, 3, 31, tzinfo=PARIS))
    assert (start, end) == (datetime(2025, 3, 23, 23, tzinfo=UTC), datetime(2025, 3, 30, 22, tzinfo=UTC))
    assert end - start == timedelta(hours=167)  # clocks went forward on 30 March
    assert start.tzinfo is UTC and end.tzinfo is UTC


@pytest.mark.parametrize(
    ("now", "tz", "last_run_week", "expected"),
    [
        (datetime(2025, 3, 31, 8, 59, tzinfo=PARIS), PARIS, date(2025, 3, 24), False),  # before 09:00 Monday
        (datetime(2025, 3, 31, 9, 0, tzinfo=PARIS), PARIS, date(2025, 3, 24), True),
        (datetime(2025, 3, 31, 9, 0, tzinfo=PARIS), PARIS, date(2025, 3, 31), False),  # already ran this week
        (datetime(2025, 4, 2, 3, 0, tzinfo=PARIS), PARIS, date(2025, 3, 24), True),  # missed Monday: catch up
        (datetime(2025, 3, 31, 9, 0, tzinfo=PARIS), PARIS, None, True),  # never ran
        (datetime(2025, 3, 31, 9, 0, tzinfo=UTC), NEW_YORK, date(2025, 3, 24), False),  # 05:00 in New York
        (datetime(2025, 3, 31, 13, 0, tzinfo=UTC), NEW_YORK, date(2025, 3, 24), True),  # 09:00 in New York
        (datetime(2025, 3, 30, 9, 0, tzinfo=UTC), PARIS, date(2025, 3, 24), False),  # Sunday: same week
    ],
)
def test_is_sampling_time(now: datetime, tz: ZoneInfo, last_run_week: date | None, expected: bool) -> None:
    assert is_sampling_time(now, tz, last_run_week) is expected


def test_sampling_time_can_be_moved() -> None:
    monday_early = datetime(2025, 3, 31, 6, 0, tzinfo=PARIS)

    assert is_sampling_time(monday_early, PARIS, None, at=time(6, 0))
    assert not is_sampling_time(monday_early, PARIS, None, at=time(7, 0))
