"""`deskwatch escalations export`: the audit trail of every handoff, one row per event, for compliance
reviews. Streams from the store's keyset pages to the output, so an export never holds the whole trail.

CSV has a header row; JSON is one JSON array written element by element (valid JSON for `jq` and
spreadsheets' importers alike; an empty export is `[]`). Times are ISO 8601 UTC; `details` is a JSON
object (a JSON-encoded string inside CSV).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, TextIO

from bot.store.escalations import StoredEvent

FORMATS = ("csv", "json")
COLUMNS = ("escalation_id", "chain", "tier", "ref", "kind", "actor", "at", "details")


class ExportError(ValueError):
    """A bad export option, worded for the command line."""


def parse_since(text: str | None) -> datetime | None:
    """`YYYY-MM-DD` as midnight UTC of that day (events at or after it are exported)."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(f"--since: {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-01") from None
    if len(text.strip()) != 10:
        raise ExportError(f"--since: {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-01")
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def export_row(event: StoredEvent) -> dict[str, Any]:
    return {
        "escalation_id": event.escalation_id,
        "chain": event.chain,
        "tier": event.tier,
        "ref": event.ref,
        "kind": event.kind,
        "actor": event.actor,
        "at": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "details": event.details,
    }


def write_export(events: Iterable[StoredEvent], out: TextIO, *, fmt: str) -> int:
    """Write `events` to `out` in `fmt` (csv or json); returns how many rows were written."""
    if fmt not in FORMATS:
        raise ExportError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    return _write_csv(events, out) if fmt == "csv" else _write_json(events, out)


def _write_csv(events: Iterable[StoredEvent], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for event in events:
        row = export_row(event)
        row["details"] = json.dumps(row["details"], sort_keys=True, ensure_ascii=False)
        row["actor"] = row["actor"] or ""
        writer.writerow(row)
        count += 1
    return count


def _write_json(events: Iterable[StoredEvent], out: TextIO) -> int:
    count = 0
    out.write("[")
    for event in events:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps(export_row(event), sort_keys=False, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
