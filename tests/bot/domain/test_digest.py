from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import BusinessHours
from bot.domain.digest import (
    DigestFigures,
    EscalationFigures,
    TagMovers,
    Trend,
    age_buckets,
    attainment,
    csat,
    duration_stats,
    elapsed,
    format_number,
    format_pct,
    format_trend,
    median,
    narrative,
    one_touch,
    p90,
    percentile,
    top_movers,
    trend,
)

NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def office(holidays: frozenset[date] = frozenset()) -> BusinessHours:
    return BusinessHours(NEW_YORK, frozenset(range(5)), time(9), time(17), holidays)


# ---------------------------------------------------------------------------------------------- trends


def test_trend_up_with_absolute_and_percent() -> None:
    t = trend(142, 120)
    assert (t.delta, t.arrow) == (22, "↑")
    assert t.pct == pytest.approx(18.333, abs=1e-3)
    assert format_trend(t) == "142 ↑ 22 (+18 %)"


def test_trend_down() -> None:
    t = trend(80, 100)
    assert (t.delta, t.pct, t.arrow) == (-20, -20.0, "↓")
    assert format_trend(t) == "80 ↓ 20 (-20 %)"


def test_trend_unchanged_is_flat() -> None:
    t = trend(50, 50)
    assert (t.delta, t.pct, t.arrow) == (0, 0.0, "→")
    assert format_trend(t) == "50 → ±0"


def test_trend_from_zero_has_no_percent() -> None:
    t = trend(5, 0)
    assert (t.delta, t.pct, t.arrow) == (5, None, "↑")
    assert format_trend(t) == "5 ↑ 5"


def test_trend_without_previous_window() -> None:
    t = trend(142)
    assert (t.delta, t.pct, t.arrow) == (None, None, "→")
    assert format_trend(t) == "142 → n/a"


def test_trend_of_empty_current_window() -> None:
    t = trend(None, 10)
    assert (t.delta, t.pct, t.arrow) == (None, None, "→")
    assert format_trend(t) == "n/a"
    assert format_trend(trend(0, 0)) == "0 → ±0"


def test_trend_of_percentage_is_in_points() -> None:
    assert format_trend(trend(93.46, 91.4), unit="%") == "93.5 % ↑ 2.1 pp"
    assert format_trend(trend(80.0, 85.0), unit="%") == "80 % ↓ 5 pp"


def test_trend_of_durations() -> None:
    t = trend(2 * H + 5 * M, 2 * H + 20 * M)
    assert t.arrow == "↓"
    assert t.pct == pytest.approx(-100 * 15 / 140)
    assert format_trend(t) == "2h 5m ↓ 15m (-11 %)"
    assert format_trend(trend(H, H)) == "1h → ±0"
    assert trend(H, timedelta(0)).pct is None


def test_rounding_is_half_up() -> None:
    assert format_pct(18.5) == "19 %"
    assert format_pct(-18.5, signed=True) == "-19 %"
    assert format_pct(0.44, signed=True) == "+0.4 %"
    assert format_pct(None) == "n/a"
    assert format_number(0.25) == "0.3"
    assert format_number(142.0) == "142"
    assert format_number(1234.6) == "1,235"
    assert format_number(12345) == "12,345"


# ----------------------------------------------------------------------------------------- percentiles


def test_median_odd_and_even() -> None:
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([7]) == 7
    assert median([]) is None


def test_p90_linear_interpolation() -> None:
    # rank = 0.9 * (n - 1): n=10 -> 8.1 -> 9 + 0.1 * (10 - 9)
    assert p90(range(1, 11)) == pytest.approx(9.1)
    # n=5 -> rank 3.6 -> 40 + 0.6 * (50 - 40)
    assert p90([10, 20, 30, 40, 50]) == pytest.approx(46.0)
    assert p90([]) is None
    assert percentile([5, 1], 0) == 1
    assert percentile([5, 1], 100) == 5


def test_percentile_of_durations() -> None:
    assert median([10 * M, 30 * M]) == 20 * M
    assert median([H, 3 * H, 2 * H]) == 2 * H
    # [1h, 2h, 3h, 4h]: rank 2.7 -> 3h + 0.7h = 3h42m
    assert p90([H, 2 * H, 3 * H, 4 * H]) == 3 * H + 42 * M
    assert median([timedelta(microseconds=1), timedelta(microseconds=2)]) == timedelta(microseconds=2)


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        percentile([1], 101)
    with pytest.raises(TypeError):
        median([1, H])


@given(st.lists(st.floats(-1e9, 1e9), min_size=1), st.floats(0, 100), st.floats(0, 100))
def test_percentile_monotonic_in_p(values: list[float], p: float, q: float) -> None:
    low, high = sorted((p, q))
    assert percentile(values, low) <= percentile(values, high)  # type: ignore[operator]


@given(st.lists(st.integers(-(10**6), 10**6), min_size=1))
def test_median_between_min_and_max(values: list[int]) -> None:
    assert min(values) <= median(values) <= max(values)  # type: ignore[operator]


@given(
    st.lists(st.integers(0, 10**12).map(lambda us: timedelta(microseconds=us)), min_size=1), st.floats(0, 100)
)
def test_duration_percentile_within_range(values: list[timedelta], p: float) -> None:
    assert min(values) <= percentile(values, p) <= max(values)  # type: ignore[operator]


# -------------------------------------------------------------------------------------------- durations


def test_business_hours_across_a_weekend() -> None:
    # Friday 2024-03-01 16:00 -> Monday 2024-03-04 10:00: 1h Friday + 1h Monday
    start, end = ny(2024, 3, 1, 16), ny(2024, 3, 4, 10)
    assert elapsed(start, end) == 66 * H
    assert elapsed(start, end, office()) == 2 * H


def test_week_with_a_holiday() -> None:
    # Thursday 2024-07-04 is Independence Day: Wednesday 16:00 -> Friday 10:00 is 1h + 1h
    start, end = ny(2024, 7, 3, 16), ny(2024, 7, 5, 10)
    assert elapsed(start, end, office()) == 10 * H
    assert elapsed(start, end, office(frozenset({date(2024, 7, 4)}))) == 2 * H


def test_duration_stats_in_business_hours() -> None:
    cal = office(frozenset({date(2024, 7, 4)}))
    spans = [
        (ny(2024, 7, 1, 9), ny(2024, 7, 1, 10)),  # 1h
        (ny(2024, 7, 3, 16), ny(2024, 7, 5, 10)),  # 2h across the holiday
        (ny(2024, 7, 5, 16), ny(2024, 7, 8, 12)),  # 1h Friday + 3h Monday = 4h across the weekend
    ]
    stats = duration_stats(spans, cal)
    assert (stats.count, stats.median) == (3, 2 * H)
    assert stats.p90 == 2 * H + timedelta(hours=1.6)  # rank 1.8: 2h + 0.8 * 2h
    assert duration_stats([]).median is None
    assert (
        duration_stats([(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))]).p90 == 24 * H
    )


# ------------------------------------------------------------------------------------------------ rates


def test_rates_and_division_by_zero() -> None:
    assert attainment(9, 1) == 90.0
    assert attainment(0, 0) is None
    assert attainment(0, 4) == 0.0
    assert csat(45, 50) == 90.0
    assert csat(0, 0) is None
    assert one_touch(3, 12) == 25.0
    assert one_touch(0, 0) is None
    with pytest.raises(ValueError):
        csat(5, 4)
    with pytest.raises(ValueError):
        attainment(-1, 2)


def test_age_buckets_boundaries() -> None:
    ages = [timedelta(0), 23 * H, 24 * H, 72 * H, 72 * H + M, 10 * 24 * H, -M]
    assert age_buckets(ages) == {"<1d": 3, "1–3d": 2, ">3d": 2}
    assert age_buckets([]) == {"<1d": 0, "1–3d": 0, ">3d": 0}


# ------------------------------------------------------------------------------------------------- tags


def test_top_movers_ranks_and_ties() -> None:
    current = {"billing": 10, "refund": 10, "login": 7, "bug": 3, "api": 3, "ux": 1, "gone": 0}
    previous = {"billing": 4, "refund": 16, "login": 7, "old": 2}
    movers = top_movers(current, previous, n=5)
    assert [m.tag for m in movers.top] == ["billing", "refund", "login", "api", "bug"]
    assert movers.top[0].trend == Trend(10, 4)
    assert movers.top[3].trend == Trend(3, 0)
    # billing +6 and refund -6 tie on absolute change: the name decides
    assert movers.biggest_mover is not None
    assert (movers.biggest_mover.tag, movers.biggest_mover.trend.delta) == ("billing", 6)


def test_top_movers_without_movement_or_previous_window() -> None:
    assert top_movers({"a": 2}, {"a": 2}).biggest_mover is None
    movers = top_movers({"a": 2}, None)
    assert movers.biggest_mover is None
    assert movers.top[0].trend == Trend(2, None)
    assert top_movers({}, {}) == TagMovers((), None)
    # a tag that vanished can be the biggest mover
    assert top_movers({"a": 1}, {"b": 9}).biggest_mover.tag == "b"  # type: ignore[union-attr]


# -------------------------------------------------------------------------------------------- narrative


def figures(**overrides: object) -> DigestFigures:
    base = DigestFigures(
        new=trend(100, 98),
        solved=trend(95, 97),
        reopened=trend(4, 3),
        backlog=trend(120, 118),
        sla_attainment={"first_reply_time": trend(95.0, 94.0), "total_resolution_time": trend(97.0, 97.0)},
        breaches=trend(2, 2),
        breaches_by_priority={"urgent": 1, "normal": 1},
        csat=trend(91.0, 90.0),
        csat_responses=40,
        one_touch=trend(40.0, 41.0),
        qa_average=trend(4.2, 4.1),
        qa_pass_rate=trend(88.0, 86.0),
        escalations=EscalationFigures(opened=trend(3, 2), accepted=trend(3, 2), still_open=0),
        tags=top_movers({"billing": 42, "login": 20}, {"billing": 40, "login": 19}),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_narrative_issue_example() -> None:
    f = figures(
        backlog=trend(142, 120),
        breaches=trend(12, 8),
        breaches_by_priority={"urgent": 9, "high": 3},
        tags=top_movers({"refund_request": 24, "billing": 30}, {"refund_request": 12, "billing": 29}),
    )
    assert narrative(f) == (
        "Backlog grew 18 % to 142.",
        "9 of 12 breaches were Urgent.",
        "refund_request doubled to 24.",
    )


def test_steady_week() -> None:
    assert narrative(figures()) == (
        "Volume steady: 100 new, 95 solved, backlog 120.",
        "2 SLA breaches.",
        "Top contact driver billing (42); CSAT 91 % from 40 responses.",
    )


def test_volume_largest_relative_move_wins_ties_by_priority() -> None:
    f = figures(backlog=trend(132, 120), new=trend(150, 100))  # +10 % vs +50 %
    assert narrative(f)[0] == "New tickets rose 50 % to 150."
    f = figures(backlog=trend(110, 100), new=trend(220, 200))  # both +10 %: backlog first
    assert narrative(f)[0] == "Backlog grew 10 % to 110."
    f = figures(solved=trend(60, 100))
    assert narrative(f)[0] == "Solved tickets fell 40 % to 60."
    f = figures(reopened=trend(8, 4))
    assert narrative(f)[0] == "Reopened tickets doubled to 8."
    f = figures(backlog=trend(50, 100))
    assert narrative(f)[0] == "Backlog halved to 50."
    f = figures(reopened=trend(5, 0), new=trend(300, 100))  # a rise from 0 beats any percentage
    assert narrative(f)[0] == "Reopened tickets rose from 0 to 5."


def test_volume_thresholds() -> None:
    assert narrative(figures(reopened=trend(2, 1)))[0].startswith("Volume steady")  # +100 % but only +1
    assert narrative(figures(backlog=trend(109, 100)))[0].startswith("Volume steady")  # +9 %
    assert (
        narrative(figures(backlog=trend(130, None)))[0] == "Volume steady: 100 new, 95 solved, backlog 130."
    )


def test_no_ticket_activity() -> None:
    f = figures(new=trend(0, 10), solved=trend(None), reopened=trend(0), backlog=trend(0, 0))
    assert narrative(f)[0] == "No ticket activity in this window."


def test_sla_rules_in_order() -> None:
    f = figures(breaches=trend(4, 1), breaches_by_priority={"high": 2, "urgent": 2})
    assert narrative(f)[1] == "2 of 4 breaches were Urgent."  # tie: the more severe priority
    f = figures(breaches=trend(5, 1), breaches_by_priority={"high": 2, "urgent": 2, "low": 1})
    assert narrative(f)[1] == "5 SLA breaches, up from 1."  # 40 % is not a concentration
    f = figures(
        breaches=trend(2, 2),
        sla_attainment={"first_reply_time": trend(82.0, 88.0), "next_reply_time": trend(85.0, None)},
    )
    assert narrative(f)[1] == "First reply SLA attainment was 82 %, down 6 pp."
    f = figures(sla_attainment={"next_reply_time": trend(85.0, None)})
    assert narrative(f)[1] == "Next reply SLA attainment was 85 %."
    assert narrative(figures(breaches=trend(1, 3)))[1] == "1 SLA breach, down from 3."
    assert narrative(figures(breaches=trend(0, 3)))[1] == "No SLA breaches in this window."


def test_no_sla_outcomes() -> None:
    f = figures(
        breaches=trend(None), breaches_by_priority={}, sla_attainment={"first_reply_time": trend(None, 90.0)}
    )
    assert narrative(f)[1] == "No SLA outcomes in this window."


def test_attention_rules_in_order() -> None:
    assert (
        narrative(figures(tags=top_movers({"refund": 30}, {"refund": 10})))[2]
        == "refund more than doubled to 30."
    )
    assert narrative(figures(tags=top_movers({"refund": 14}, {"refund": 20})))[2] == "refund fell 30 % to 14."
    assert narrative(figures(tags=top_movers({"outage": 9}, {})))[2] == "outage is new with 9 tickets."
    assert narrative(figures(tags=top_movers({"a": 1}, {"outage": 9})))[2] == "outage dropped from 9 to 0."
    # +4 is under TAG_MOVE_MIN_CHANGE, +5 at 20 % is under TAG_MOVE_PCT: both fall through to CSAT
    low = figures(csat=trend(84.0, 91.0))
    assert narrative(low)[2] == "CSAT fell 7 pp to 84 % from 40 responses."
    assert narrative(replace(low, tags=top_movers({"a": 30}, {"a": 25})))[2].startswith("CSAT fell")
    assert narrative(figures(csat=trend(75.0, 77.0)))[2] == "CSAT was 75 % from 40 responses."
    assert narrative(figures(qa_pass_rate=trend(70.0, 72.5)))[2] == "QA pass rate was 70 %, down 2.5 pp."
    esc = EscalationFigures(opened=trend(3), accepted=trend(1), still_open=2)
    assert narrative(figures(escalations=esc))[2] == "2 escalations still open."
    assert narrative(figures(one_touch=trend(30.0, 41.0)))[2] == "One-touch resolution fell 11 pp to 30 %."


def test_no_data_sections_are_named_not_invented() -> None:
    f = figures(qa_average=None, qa_pass_rate=None, escalations=None)
    assert narrative(f)[2] == "No QA reviews or escalations in this window."
    f = figures(qa_average=None, qa_pass_rate=None, escalations=None, tags=None, csat=trend(None, 90.0))
    assert narrative(f)[2] == "No contact tags, CSAT ratings, QA reviews or escalations in this window."
    f = figures(qa_average=trend(None, 4.0), qa_pass_rate=trend(None, 80.0))
    assert narrative(f)[2] == "No QA reviews in this window."


def test_empty_digest() -> None:
    empty = DigestFigures(new=trend(None), solved=trend(None), reopened=trend(None), backlog=trend(None))
    assert narrative(empty) == (
        "No ticket activity in this window.",
        "No SLA outcomes in this window.",
        "No contact tags, CSAT ratings, QA reviews or escalations in this window.",
    )


def test_narrative_module_imports_on_its_own() -> None:
    import subprocess
    import sys

    code = (
        "import bot.domain.digest_narrative as n, bot.domain.digest as d; assert d.narrative and n.narrative"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
