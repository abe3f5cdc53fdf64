"""Values of QA scorecards: the rubric (one version of it), a scored review, reports and calibration.

Pure data shared by the scoring maths (bot.domain.qa), the store, the renderers and the service. A score
of None means "n/a": the category drops out of both sums of the weighted score.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain.model import DomainError, TicketRef


class QaInputError(DomainError):
    """A scorecard cannot be recorded as given; the message lists what is valid (categories, scale)."""


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    weight: int
    critical: bool = False


@dataclass(frozen=True)
class Rubric:
    """One version of the rubric. `version` is a short hash of everything that changes a score, so a
    config change makes a new version and old reviews keep theirs."""

    scale: int
    pass_mark: int  # percent
    categories: tuple[Category, ...]

    @property
    def version(self) -> str:
        canonical = json.dumps(
            {
                "scale": self.scale,
                "pass_mark": self.pass_mark,
                "categories": [[c.key, c.label, c.weight, c.critical] for c in self.categories],
            },
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.categories)

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)


Scores = Mapping[str, int | None]  # category key -> 1..scale, or None for n/a


@dataclass(frozen=True)
class ScoreResult:
    """`percent` rounded half-up to one decimal; `critical_failed` names critical categories scored at
    the lowest score (the review is then 0 and fails, whatever the rest)."""

    percent: float
    passed: bool
    critical_failed: tuple[str, ...] = ()
    rated: int = 0  # categories that were not n/a


@dataclass(frozen=True)
class Scorecard:
    """What a reviewer submits (the modal or the inline command)."""

    agent: str  # Slack user id
    ref: TicketRef
    scores: Scores
    comment: str = ""
    coaching: str = ""


@dataclass(frozen=True)
class ReviewRecord:
    """A stored review as the maths and reports need it."""

    id: int
    reviewer: str
    agent: str
    ref: TicketRef
    rubric: Rubric
    scores: Scores
    result: ScoreResult
    created_at: datetime


@dataclass(frozen=True)
class WeekPoint:
    week_start: date  # Monday, in the team's timezone
    average: float
    reviews: int


@dataclass(frozen=True)
class AgentReport:
    agent: str
    reviews: int
    average: float | None
    pass_rate: float | None  # percent of reviews that passed
    per_category: Mapping[str, float | None] = field(default_factory=dict)  # average score, 1..scale
    weakest: str | None = None  # category key with the lowest average (relative to the scale)
    weekly: tuple[WeekPoint, ...] = ()
    previous_average: float | None = None  # same-length period before, for the trend


@dataclass(frozen=True)
class CategorySpread:
    key: str
    scores: tuple[int | None, ...]  # one per reviewer, in reviewer order
    low: int | None
    high: int | None
    flagged: bool  # high - low passes the calibration threshold


@dataclass(frozen=True)
class CalibrationResult:
    reviewers: tuple[str, ...]
    spreads: tuple[CategorySpread, ...]
    alpha: float | None  # Krippendorff's alpha (ordinal) over this session; None when undefined
    percents: Mapping[str, float] = field(default_factory=dict)  # reviewer -> their score %
