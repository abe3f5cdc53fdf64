"""Durations as people type and read them: `30m`, `2h`, `1h30m`, `1d` in config, `2h 5m` in Slack.

Bare numbers are refused on purpose: "45" could mean minutes or seconds, and a wrong guess shifts every SLA.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION_RE = re.compile(
    r"^\s*(?=\d)(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$",
    re.IGNORECASE,
)
_HINT = "use e.g. 30m, 2h, 1h30m, 1d"


def parse_duration(text: str | int | float) -> timedelta:
    """Parse `30m`, `2h`, `1h30m`, `1h 30m`, `90s`, `1d`; raise ValueError with a usage hint otherwise.

    Numbers (and numeric strings) are rejected: config saying `warn_before: 30` must name its unit.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise ValueError(f'"{text}" is not a duration: {_HINT} (a bare number has no unit)')
    match = _DURATION_RE.match(text)
    if match is None or not any(match.groups()):
        shown = text.strip()[:40]
        reason = " (a bare number has no unit)" if shown.isdigit() else ""
        raise ValueError(f'"{shown}" is not a duration: {_HINT}{reason}')
    seconds = sum(
        int(value) * _UNIT_SECONDS[unit]
        for unit, value in zip("dhms", match.groups(), strict=True)
        if value is not None
    )
    if seconds <= 0:
        raise ValueError(f'"{text.strip()}" is not a duration: it must be longer than zero ({_HINT})')
    return timedelta(seconds=seconds)


def format_duration(td: timedelta) -> str:
    """Compact text with the two largest units, truncated to the minute: `3d 4h`, `2h 5m`, `45m`, `<1m`.

    Negative durations get a leading minus sign; callers wanting "ago" wording use `describe_due`.
    """
    if td < timedelta(0):
        return "-" + format_duration(-td)
    minutes_total = int(td.total_seconds()) // 60
    if minutes_total == 0:
        return "<1m"
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def describe_due(due_at: datetime, now: datetime) -> str:
    """Relative wording for a deadline: `in 25m`, `12m ago`, or `now` within a minute either way."""
    if due_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("describe_due needs timezone-aware datetimes")
    delta = due_at - now
    if abs(delta) < timedelta(minutes=1):
        return "now"
    if delta > timedelta(0):
        return f"in {format_duration(delta)}"
    return f"{format_duration(-delta)} ago"
