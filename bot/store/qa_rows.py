"""QA store values and plumbing: the frozen rows callers get back, the rubric codec, and the base the
QA store is built on (engine, own-or-caller transaction, audit insert, decoded-rubric cache)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.model import TicketRef
from bot.domain.qa_types import Category, ReviewRecord, Rubric, ScoreResult, Scores
from bot.store.escalations import _details
from bot.store.tables import (
    QaCalibrationRow,
    QaDisputeRow,
    QaEventRow,
    QaReviewRow,
    QaRubricRow,
    QaSampleRow,
)

RB = QaRubricRow.__table__
R = QaReviewRow.__table__
C = QaCalibrationRow.__table__
D = QaDisputeRow.__table__
S = QaSampleRow.__table__
V = QaEventRow.__table__

KINDS = ("review", "calibration")
DISPUTE_STATES = ("open", "accepted", "rejected", "rescored")
OUTCOMES = ("accepted", "rejected", "rescored")


# -- values ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredReview:
    id: int
    kind: str  # review | calibration
    calibration_id: int | None
    reviewer: str
    agent: str
    agent_email: str | None
    ref: TicketRef
    rubric_id: int
    rubric: Rubric
    scores: dict[str, int | None]
    result: ScoreResult
    comment: str
    coaching: str
    dispute_state: str | None
    version: int
    created_at: datetime
    edited_at: datetime | None

    @property
    def record(self) -> ReviewRecord:
        """The review as the scoring maths and reports take it."""
        return ReviewRecord(
            self.id,
            self.reviewer,
            self.agent,
            self.ref,
            self.rubric,
            self.scores,
            self.result,
            self.created_at,
        )


@dataclass(frozen=True)
class StoredCalibration:
    id: int
    ref: TicketRef
    owner: str
    channel: str | None
    message_ts: str | None
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    status: str  # open | closed


@dataclass(frozen=True)
class StoredDispute:
    id: int
    review_id: int
    agent: str
    reason: str
    state: str  # open | accepted | rejected | rescored
    decided_by: str | None
    decided_at: datetime | None
    note: str
    created_at: datetime


@dataclass(frozen=True)
class StoredSample:
    id: int
    reviewer: str
    agent: str
    ref: TicketRef
    week_start: date
    assigned_at: datetime
    review_id: int | None


@dataclass(frozen=True)
class StoredQaEvent:
    id: int
    review_id: int | None
    calibration_id: int | None
    dispute_id: int | None
    kind: str
    actor: str | None
    at: datetime
    details: dict[str, Any]
    created_at: datetime


def encode_rubric(rubric: Rubric) -> dict[str, Any]:
    return {
        "scale": rubric.scale,
        "pass_mark": rubric.pass_mark,
        "categories": [
            {"key": c.key, "label": c.label, "weight": c.weight, "critical": c.critical}
            for c in rubric.categories
        ],
    }


def decode_rubric(data: Mapping[str, Any]) -> Rubric:
    categories = tuple(
        Category(c["key"], c["label"], int(c["weight"]), bool(c.get("critical", False)))
        for c in data["categories"]
    )
    return Rubric(int(data["scale"]), int(data["pass_mark"]), categories)


# -- base ------------------------------------------------------------------------------------------------
class QaBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._rubrics: dict[int, Rubric] = {}  # rubric rows never change, so decoded ones are kept

    def _insert(self):
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        """The caller's transaction when given one, else a short transaction of our own."""
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as own:
            yield own

    @staticmethod
    def _audit(conn: Connection, kind: str, *, now: datetime, actor: str | None = None, **ids: Any) -> None:
        details = ids.pop("details", {})
        conn.execute(
            V.insert().values(
                kind=kind, actor=actor, at=now, details=_details(details), created_at=now, **ids
            )
        )

    def rubric(self, rubric_id: int) -> Rubric:
        with self.engine.connect() as conn:
            return self._load_rubrics(conn, [rubric_id])[rubric_id]

    def _load_rubrics(self, conn: Connection, ids: Iterable[int]) -> dict[int, Rubric]:
        missing = sorted({i for i in ids if i not in self._rubrics})
        if missing:
            for row in conn.execute(select(RB.c.id, RB.c.rubric).where(RB.c.id.in_(missing))):
                self._rubrics[int(row.id)] = decode_rubric(row.rubric)
        return self._rubrics

    def _reviews(self, conn: Connection, stmt) -> list[StoredReview]:
        rows = list(conn.execute(stmt).mappings())
        rubrics = self._load_rubrics(conn, (int(row["rubric_id"]) for row in rows))
        return [review_from_row(row, rubrics[int(row["rubric_id"])]) for row in rows]


# -- rows -----------------------------------------------------------------------------------------------
def score_values(scores: Scores, result: ScoreResult, comment: str, coaching: str) -> dict[str, Any]:
    return {
        "scores": {str(k): (None if v is None else int(v)) for k, v in scores.items()},
        "percent": float(result.percent),
        "passed": bool(result.passed),
        "critical_failed": list(result.critical_failed),
        "comment": comment,
        "coaching": coaching,
    }


def score_summary(values: Mapping[str, Any]) -> dict[str, Any]:
    """What an audit event says about a score (before or after a change)."""
    keys = ("scores", "percent", "passed", "critical_failed", "comment", "coaching")
    return {key: values[key] for key in keys}


def review_filter(agent: str | None, since: datetime | None, until: datetime | None, kind: str) -> list[Any]:
    where = [R.c.kind == kind]
    if agent is not None:
        where.append(R.c.agent == agent)
    if since is not None:
        where.append(R.c.created_at >= since)
    if until is not None:
        where.append(R.c.created_at < until)
    return where


def review_from_row(row: Any, rubric: Rubric) -> StoredReview:
    scores = dict(row["scores"])
    result = ScoreResult(
        percent=float(row["percent"]),
        passed=bool(row["passed"]),
        critical_failed=tuple(row["critical_failed"]),
        rated=sum(1 for v in scores.values() if v is not None),
    )
    return StoredReview(
        id=int(row["id"]),
        kind=row["kind"],
        calibration_id=row["calibration_id"],
        reviewer=row["reviewer"],
        agent=row["agent"],
        agent_email=row["agent_email"],
        ref=TicketRef.parse(row["ref"]),
        rubric_id=int(row["rubric_id"]),
        rubric=rubric,
        scores=scores,
        result=result,
        comment=row["comment"],
        coaching=row["coaching"],
        dispute_state=row["dispute_state"],
        version=int(row["version"]),
        created_at=row["created_at"],
        edited_at=row["edited_at"],
    )


def calibration_from_row(row: Any) -> StoredCalibration:
    return StoredCalibration(**{**row, "ref": TicketRef.parse(row["ref"])})


def sample_from_row(row: Any) -> StoredSample:
    return StoredSample(**{**row, "ref": TicketRef.parse(row["ref"])})


def event_from_row(row: Any) -> StoredQaEvent:
    return StoredQaEvent(**{**row, "details": dict(row["details"] or {})})
