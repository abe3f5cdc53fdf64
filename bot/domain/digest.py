"""Pure digest maths: trends against last week, medians and p90, rates, age buckets, top tags.

No I/O and no SQL: the store layer aggregates history rows into plain numbers and fills `DigestFigures`;
everything here is deterministic arithmetic over those numbers.

Percentiles use linear interpolation between closest ranks (Hyndman & Fan type 7: the definition of
PostgreSQL's `percentile_cont`, numpy's default and Excel's PERCENTILE.INC). Its median is the middle value
of an odd-length list and the mean of the two middle values of an even-length one, which is how Zendesk
Explore's MED aggregator and Intercom's reports state a median; p90 is `percentile(values, 90)`. An empty
list has no percentile (None), never 0.

Rounding for display is half away from zero (18.5 % shows as 19 %), never banker's rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from bot.domain.calendar import BusinessHours
from bot.domain.durations import format_duration

Value = int | float | timedelta

ARROW_UP = "↑"
ARROW_DOWN = "↓"
ARROW_FLAT = "→"

# Backlog age buckets: under one day, one to three days inclusive, over three days.
AGE_UNDER_1D = "<1d"
AGE_1_TO_3D = "1–3d"
AGE_OVER_3D = ">3d"
_ONE_DAY = timedelta(days=1)
_THREE_DAYS = timedelta(days=3)
_ZERO = timedelta(0)


# ---------------------------------------------------------------------------------------------- trends


@dataclass(frozen=True)
class Trend:
    """A figure for this window beside the same window one week earlier.

    `current`/`previous` are None when that window has no data (no rated tickets, no SLA outcomes...).
    `delta` is current - previous (None unless both are known); `pct` is the change relative to previous
    in percent (None when previous is 0 or unknown: there is nothing to be a percentage of).
    """

    current: Value | None
    previous: Value | None = None

    @property
    def delta(self) -> Value | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous  # type: ignore[operator]

    @property
    def pct(self) -> float | None:
        delta = self.delta
        if delta is None or _is_zero(self.previous):
            return None
        return _ratio(delta, self.previous) * 100  # type: ignore[arg-type]

    @property
    def arrow(self) -> str:
        delta = self.delta
        if delta is None or _is_zero(delta):
            return ARROW_FLAT
        return ARROW_UP if _ratio(delta, _unit_like(delta)) > 0 else ARROW_DOWN


def trend(current: Value | None, previous: Value | None = None) -> Trend:
    """The `Trend` of `current` against `previous` (None: no previous window to compare with)."""
    return Trend(current, previous)


def _is_zero(value: Value | None) -> bool:
    return value is not None and (value == _ZERO if isinstance(value, timedelta) else value == 0)


def _unit_like(value: Value) -> Value:
    return timedelta(microseconds=1) if isinstance(value, timedelta) else 1


def _ratio(a: Value, b: Value) -> float:
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return a / b
    return float(a) / float(b)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ formatting


def _round_half_up(value: float, decimals: int) -> Decimal:
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(value: int | float) -> str:
    """Integers as they are (with thousands separators); other floats to 1 decimal below 100, else whole.

    `93.46` → "93.5", `142.0` → "142", `1234.6` → "1,235".
    """
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    decimals = 1 if abs(value) < 100 else 0
    rounded = _round_half_up(value, decimals)
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}"
    return f"{rounded:,.{decimals}f}"


def format_pct(pct: float | None, signed: bool = False) -> str:
    """A percentage as whole percent ("18 %"), one decimal below 1 % ("0.4 %"); "n/a" for None."""
    if pct is None:
        return "n/a"
    decimals = 1 if 0 < abs(pct) < 0.95 else 0
    rounded = _round_half_up(pct, decimals)
    if rounded == 0:
        return "0 %"
    text = f"{abs(rounded):.{decimals}f}"
    sign = ("+" if rounded > 0 else "-") if signed else ("-" if rounded < 0 else "")
    return f"{sign}{text} %"


def format_value(value: Value | None, unit: str = "") -> str:
    """One figure: durations like "2h 5m", numbers via `format_number` plus `unit`; "n/a" for None."""
    if value is None:
        return "n/a"
    if isinstance(value, timedelta):
        return format_duration(value)
    if unit == "%":
        return f"{format_number(value)} %"
    return f"{format_number(value)}{unit}"


def format_trend(t: Trend, unit: str = "") -> str:
    """`142 ↑ 22 (+18 %)`: the current value, the arrow, the absolute change and the relative change.

    - no current data: "n/a"; no previous window: "142 → n/a"; previous 0: "5 ↑ 5" (no relative change);
      no change: "142 → ±0" ("142 → 0 (0 %)" reads as "fell to 0");
    - `unit="%"` marks a figure that is itself a percentage: the change is in percentage points and
      shows no relative change, "93.5 % ↑ 2.1 pp";
    - durations format like `format_duration`: "2h 5m ↓ 15m (-11 %)".
    """
    if t.current is None:
        return "n/a"
    shown = format_value(t.current, unit)
    delta = t.delta
    if delta is None:
        return f"{shown} {t.arrow} n/a"
    if unit == "%" and format_number(abs(delta)) == "0" or _is_zero(delta):
        return f"{shown} {ARROW_FLAT} ±0{' pp' if unit == '%' else ''}"  # "0 (0 %)" read as "went to 0"
    if isinstance(delta, timedelta):
        change = format_duration(abs(delta))
    elif unit == "%":
        return f"{shown} {t.arrow} {format_number(abs(delta))} pp"
    else:
        change = format_value(abs(delta), unit)
    if t.pct is None:
        return f"{shown} {t.arrow} {change}"
    return f"{shown} {t.arrow} {change} ({format_pct(t.pct, signed=True)})"


# ----------------------------------------------------------------------------------------- percentiles


def percentile(values: Iterable[Value], p: float) -> Value | None:
    """The p-th percentile (0..100) by linear interpolation (type 7, `percentile_cont`); None if empty.

    Numbers give a float; timedeltas give a timedelta (exact to the microsecond, rounded half up).
    """
    if not 0 <= p <= 100 or math.isnan(p):
        raise ValueError(f"percentile must be between 0 and 100, got {p}")
    ordered = sorted(values)
    if not ordered:
        return None
    kinds = {isinstance(v, timedelta) for v in ordered}
    if len(kinds) > 1:
        raise TypeError("percentile of a mix of durations and numbers")
    rank = Fraction(p) / 100 * (len(ordered) - 1)
    lower = math.floor(rank)
    frac = rank - lower
    low = ordered[lower]
    if frac == 0:
        return low if isinstance(low, timedelta) else float(low)
    high = ordered[lower + 1]
    if isinstance(low, timedelta):
        micros = _micros(low) + (_micros(high) - _micros(low)) * frac  # type: ignore[arg-type]
        return timedelta(microseconds=math.floor(micros + Fraction(1, 2)))
    result = float(low) + (float(high) - float(low)) * float(frac)
    return min(max(result, float(low)), float(high))  # float rounding must not leave [low, high]


def median(values: Iterable[Value]) -> Value | None:
    """The middle value (mean of the two middle values for an even count); None when empty."""
    return percentile(values, 50)


def p90(values: Iterable[Value]) -> Value | None:
    return percentile(values, 90)


def _micros(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


# -------------------------------------------------------------------------------------------- durations


def elapsed(start: datetime, end: datetime, calendar: BusinessHours | None = None) -> timedelta:
    """Time from `start` to `end`: wall-clock without a calendar, business hours only with one."""
    if calendar is None:
        return end - start
    return calendar.business_time_between(start, end)


@dataclass(frozen=True)
class DurationStats:
    """Median and p90 of a set of durations (first reply time, full resolution time...)."""

    count: int
    median: timedelta | None
    p90: timedelta | None


def duration_stats(
    spans: Iterable[tuple[datetime, datetime]], calendar: BusinessHours | None = None
) -> DurationStats:
    """Median and p90 of (start, end) spans, in business hours when `calendar` is given."""
    durations = [elapsed(start, end, calendar) for start, end in spans]
    return DurationStats(len(durations), median(durations), p90(durations))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ rates


def _rate(part: int, whole: int, what: str) -> float | None:
    if part < 0 or whole < 0:
        raise ValueError(f"{what}: counts must not be negative, got {part} of {whole}")
    if part > whole:
        raise ValueError(f"{what}: {part} is more than the total {whole}")
    return None if whole == 0 else part / whole * 100


def attainment(achieved: int, breached: int) -> float | None:
    """SLA attainment %: achieved / (achieved + breached) × 100; None when there are no outcomes."""
    if achieved < 0 or breached < 0:
        raise ValueError(f"attainment: counts must not be negative, got {achieved} and {breached}")
    return _rate(achieved, achieved + breached, "attainment")


def csat(good: int, rated: int) -> float | None:
    """CSAT %: good ratings / all ratings × 100 (Intercom: 4–5 of 5 count as good); None if nothing rated."""
    return _rate(good, rated, "csat")


def one_touch(one_touch: int, solved: int) -> float | None:
    """One-touch resolution %: solved with a single agent reply / solved × 100; None if none solved."""
    return _rate(one_touch, solved, "one_touch")


def age_buckets(ages: Sequence[timedelta]) -> dict[str, int]:
    """Backlog counts by age: `<1d` (under 24 h), `1–3d` (24 h to 72 h inclusive), `>3d` (over 72 h).

    A negative age (clock skew between helpdesk and bot) counts as under a day. Keys are always present.
    """
    buckets = {AGE_UNDER_1D: 0, AGE_1_TO_3D: 0, AGE_OVER_3D: 0}
    for age in ages:
        if age < _ONE_DAY:
            buckets[AGE_UNDER_1D] += 1
        elif age <= _THREE_DAYS:
            buckets[AGE_1_TO_3D] += 1
        else:
            buckets[AGE_OVER_3D] += 1
    return buckets


# ------------------------------------------------------------------------------------------------- tags


@dataclass(frozen=True)
class TagTrend:
    tag: str
    trend: Trend


@dataclass(frozen=True)
class TagMovers:
    """The top tags of the window by count, and the tag whose count changed most (None: nothing moved)."""

    top: tuple[TagTrend, ...] = ()
    biggest_mover: TagTrend | None = None


def top_movers(current: Mapping[str, int], previous: Mapping[str, int] | None, n: int = 5) -> TagMovers:
    """Top `n` tags by current count (ties by name) with their trends, and the biggest mover.

    A tag missing from one window counted 0 there. `previous=None` means there is no previous window:
    trends have no previous value and there is no mover. The biggest mover has the largest absolute change
    (rises and falls alike), ties by name; None when no count changed.
    """
    if n < 0:
        raise ValueError(f"top_movers: n must not be negative, got {n}")

    def tag_trend(tag: str) -> TagTrend:
        before = None if previous is None else previous.get(tag, 0)
        return TagTrend(tag, Trend(current.get(tag, 0), before))

    ranked = sorted((tag for tag, count in current.items() if count > 0), key=lambda t: (-current[t], t))
    top = tuple(tag_trend(tag) for tag in ranked[:n])
    if previous is None:
        return TagMovers(top, None)
    moves = [tag_trend(tag) for tag in sorted(set(current) | set(previous))]
    moves = [m for m in moves if m.trend.delta]
    if not moves:
        return TagMovers(top, None)
    mover = min(moves, key=lambda m: (-abs(m.trend.delta), m.tag))  # type: ignore[arg-type]
    return TagMovers(top, mover)


# ---------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class SpeedFigures:
    """Median and p90 of one duration metric, this window against last week (values are timedeltas)."""

    median: Trend
    p90: Trend
    count: int = 0
    business_hours: bool = False


@dataclass(frozen=True)
class TierFigures:
    """One escalation tier's window: handoffs that reached it, accepted there, still open at the end."""

    tier: str
    opened: int = 0
    accepted: int = 0
    still_open: int = 0
    median_time_to_accept: timedelta | None = None


@dataclass(frozen=True)
class EscalationFigures:
    opened: Trend
    accepted: Trend
    still_open: int = 0
    median_time_to_accept: Trend = field(default_factory=lambda: Trend(None))
    tiers: tuple[TierFigures, ...] = ()


@dataclass(frozen=True)
class DigestFigures:
    """Every number a digest shows; the SQL layer fills it, `narrative` and the renderer read it.

    Optional sections are None when the team has no such data (no QA reviews, no escalation tiers);
    trend values are None when a window has no data for that figure.
    """

    new: Trend
    solved: Trend
    reopened: Trend
    backlog: Trend
    backlog_ages: Mapping[str, int] = field(default_factory=dict)
    by_channel: Mapping[str, int] = field(default_factory=dict)
    sla_attainment: Mapping[str, Trend] = field(default_factory=dict)  # metric -> attainment % trend
    breaches: Trend = field(default_factory=lambda: Trend(None))
    breaches_by_priority: Mapping[str, int] = field(default_factory=dict)
    at_risk: int | None = 0  # None: the window ended a while ago, "at risk now" is not its figure
    first_reply: SpeedFigures | None = None
    resolution: SpeedFigures | None = None
    csat: Trend = field(default_factory=lambda: Trend(None))
    csat_responses: int = 0
    one_touch: Trend = field(default_factory=lambda: Trend(None))
    qa_average: Trend | None = None  # mean review score, % of the rubric's maximum
    qa_pass_rate: Trend | None = None
    qa_reviews: int = 0
    escalations: EscalationFigures | None = None
    tags: TagMovers | None = None


def narrative(figures: DigestFigures) -> tuple[str, str, str]:
    """Three deterministic sentences from `figures`: see `bot.domain.digest_narrative` for the rules."""
    from bot.domain.digest_narrative import narrative as _narrative  # imported late: it imports this module

    return _narrative(figures)


__all__ = [
    "AGE_1_TO_3D",
    "AGE_OVER_3D",
    "AGE_UNDER_1D",
    "DigestFigures",
    "DurationStats",
    "EscalationFigures",
    "SpeedFigures",
    "TagMovers",
    "TagTrend",
    "TierFigures",
    "Trend",
    "age_buckets",
    "attainment",
    "csat",
    "duration_stats",
    "elapsed",
    "format_number",
    "format_pct",
    "format_trend",
    "format_value",
    "median",
    "narrative",
    "one_touch",
    "p90",
    "percentile",
    "top_movers",
    "trend",
]
