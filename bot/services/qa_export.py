"""`deskwatch qa export`: one row per review (calibration scores are not reviews and are left out), for
spreadsheets and BI. Streams from the store's keyset pages, so an export never holds every review.

Columns are fixed except the categories: one per category key of every rubric version the exported
reviews used (oldest version first), so a rubric change adds columns instead of breaking old rows. A
category holds the score, `n/a` when the reviewer marked it so, and is empty (JSON null) when the
review's rubric version has no such category. CSV and JSON share the column names and the array form of
`deskwatch escalations export`; times are ISO 8601 UTC.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.domain.qa_types import Rubric
from bot.services.escalation_export import FORMATS, ExportError
from bot.store.qa import StoredReview

HEAD = ("reviewer", "agent", "agent_email", "ref", "rubric_version")
TAIL = (
    "score_percent",
    "passed",
    "critical_failed",
    "comment",
    "dispute_state",
    "created_at",
    "edited_at",
)
NOT_APPLICABLE = "n/a"


def category_columns(rubrics: Sequence[Rubric], out: dict[str, str] | None = None) -> dict[str, str]:
    """Category key -> column name, first seen first (added to `out` when given). A key that is also a
    fixed column's name (a category called `comment`) becomes `score_<key>` so no value is overwritten."""
    out = {} if out is None else out
    for rubric in rubrics:
        for key in rubric.keys:
            if key not in out:
                out[key] = f"score_{key}" if key in HEAD + TAIL else key
    return out


def export_row(review: StoredReview, categories: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "reviewer": review.reviewer,
        "agent": review.agent,
        "agent_email": review.agent_email,
        "ref": str(review.ref),
        "rubric_version": review.rubric.version,
    }
    own = set(review.rubric.keys)
    category_columns([review.rubric], categories)  # a version first used after the export began
    for key, column in categories.items():
        score = review.scores.get(key)
        row[column] = (NOT_APPLICABLE if score is None else score) if key in own else None
    row |= {
        "score_percent": review.result.percent,
        "passed": review.result.passed,
        "critical_failed": list(review.result.critical_failed),
        "comment": review.comment,
        "dispute_state": review.dispute_state,
        "created_at": _iso(review.created_at),
        "edited_at": _iso(review.edited_at),
    }
    return row


def write_export(reviews: Iterable[StoredReview], out: TextIO, *, fmt: str, rubrics: Sequence[Rubric]) -> int:
    """Write `reviews` to `out` in `fmt` (csv or json) with a column per category of `rubrics` (the
    versions the reviews used: `QaStore.rubrics_used`); returns how many rows were written. A version
    first used while the export runs gets its new categories in JSON rows only (CSV's header is out)."""
    if fmt not in FORMATS:
        raise ExportError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    categories = category_columns(rubrics)
    rows = (export_row(review, categories) for review in reviews)
    if fmt == "json":
        return _write_json(rows, out)
    return _write_csv(rows, out, (*HEAD, *categories.values(), *TAIL))


def _write_csv(rows: Iterable[dict[str, Any]], out: TextIO, columns: Sequence[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        row["passed"] = "true" if row["passed"] else "false"
        row["critical_failed"] = ";".join(row["critical_failed"])
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        count += 1
    return count


def _write_json(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps(row, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z")
