"""QA scoring and calibration maths: the weighted score of one review, and the agreement between reviewers.

Pure functions over the values in bot.domain.qa_types. Input from a modal or the inline command is checked
by `validate_scores` first, so a typo is refused with a message that lists what is valid and nothing is
half-saved. Agreement is Krippendorff's alpha (ordinal): scores are ranks, and n/a is a missing value,
not a rank.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import krippendorff
import numpy as np

from bot.domain.qa_types import CalibrationResult, CategorySpread, QaInputError, Rubric, ScoreResult, Scores

NA_WORDS = ("n/a", "na")
LOWEST = 1  # scores run 1..scale; a critical category at this score fails the review


def rubric_help(rubric: Rubric) -> str:
    """What a valid scorecard looks like, appended to every input error."""
    return f"categories: {', '.join(rubric.keys)}; scores 1-{rubric.scale} or n/a"


def round_half_up(value: Decimal | int, places: int = 1) -> float:
    """Round like a person does (86.25 -> 86.3), not like float's banker's rounding. Takes a Decimal
    computed exactly, never a float: Decimal(0.15) is already 0.1499..."""
    exponent = Decimal(1).scaleb(-places)
    return float(Decimal(value).quantize(exponent, rounding=ROUND_HALF_UP))


def validate_scores(rubric: Rubric, scores: Mapping[str, Any]) -> dict[str, int | None]:
    """The scores in rubric order as ints or None (n/a); every problem reported in one QaInputError.

    Accepts what a modal or a command sends as well: "4" for 4, "n/a" or "na" for None. Keys are matched
    case-insensitively; a misspelt one is answered with the closest valid key.
    """
    cleaned, problems = check_scores(rubric, scores)
    if problems:
        raise QaInputError(f"{'; '.join(problems)} — {rubric_help(rubric)}")
    return cleaned


def check_scores(rubric: Rubric, scores: Mapping[str, Any]) -> tuple[dict[str, int | None], list[str]]:
    """`validate_scores` without raising, for callers that report other problems in the same message."""
    problems: list[str] = []
    given: dict[str, Any] = {}
    suggested: set[str] = set()
    for raw_key, value in scores.items():
        key = str(raw_key).strip().lower()
        if rubric.category(key) is None:
            close = difflib.get_close_matches(key, rubric.keys, n=1, cutoff=0.6)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            suggested.update(close)
            problems.append(f'unknown category "{raw_key}"{hint}')
        elif key in given:
            problems.append(f"{key} is scored twice")
        else:
            given[key] = value
    cleaned: dict[str, int | None] = {}
    for key in rubric.keys:
        if key in given:
            value, problem = _score_value(key, given[key], rubric.scale)
            if problem:
                problems.append(problem)
            cleaned[key] = value
    missing = [key for key in rubric.keys if key not in given and key not in suggested]
    if missing:
        problems.append(f"missing a score for {', '.join(missing)}")
    return cleaned, problems


def _score_value(key: str, value: Any, scale: int) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in NA_WORDS:
            return None, None
        if text.isascii() and text.isdigit():
            value = int(text)
    if isinstance(value, int) and not isinstance(value, bool):
        if LOWEST <= value <= scale:
            return value, None
        return None, f"{key}={value} is out of range"
    return None, f'{key}="{value}" is not a score (a whole number or n/a)'


def score(rubric: Rubric, scores: Scores) -> ScoreResult:
    """Σ(weight×score) / Σ(weight×scale) × 100 over rated categories, or 0 when a critical one is at 1."""
    cleaned = validate_scores(rubric, scores)
    rated = {key: value for key, value in cleaned.items() if value is not None}
    if not rated:
        raise QaInputError(f"every category is n/a: rate at least one category — {rubric_help(rubric)}")
    by_key = {category.key: category for category in rubric.categories}
    critical = tuple(key for key, value in rated.items() if value == LOWEST and by_key[key].critical)
    if critical:
        return ScoreResult(percent=0.0, passed=False, critical_failed=critical, rated=len(rated))
    earned = sum(by_key[key].weight * value for key, value in rated.items())
    possible = sum(by_key[key].weight * rubric.scale for key in rated)
    percent = round_half_up(Decimal(earned * 100) / Decimal(possible))
    return ScoreResult(percent=percent, passed=percent >= rubric.pass_mark, rated=len(rated))


def calibration_result(
    rubric: Rubric, by_reviewer: Mapping[str, Scores], threshold: int
) -> CalibrationResult:
    """The spread of a calibration session per category, flags, each reviewer's %, and alpha.

    A category is flagged when at least two reviewers rated it and high - low >= threshold.
    """
    reviewers = tuple(by_reviewer)
    cleaned = {reviewer: validate_scores(rubric, scores) for reviewer, scores in by_reviewer.items()}
    spreads = []
    for key in rubric.keys:
        column = tuple(cleaned[reviewer][key] for reviewer in reviewers)
        rated = [value for value in column if value is not None]
        flagged = len(rated) >= 2 and max(rated) - min(rated) >= threshold
        low, high = (min(rated), max(rated)) if rated else (None, None)
        spreads.append(CategorySpread(key=key, scores=column, low=low, high=high, flagged=flagged))
    percents = {
        reviewer: score(rubric, scores).percent
        for reviewer, scores in cleaned.items()
        if any(value is not None for value in scores.values())
    }
    return CalibrationResult(
        reviewers=reviewers,
        spreads=tuple(spreads),
        alpha=alpha_over_sessions([(rubric, by_reviewer)]),
        percents=percents,
    )


def alpha_over_sessions(sessions: Sequence[tuple[Rubric, Mapping[str, Scores]]]) -> float | None:
    """Krippendorff's alpha (ordinal) pooling every session's categories as units, reviewers as coders.

    None when alpha is undefined: fewer than two reviewers, no unit rated by two of them, or no variation
    among the values that can be paired (alpha would be 0/0). Sessions on different scales are pooled as
    ranks on the widest one; the ordinal distance only counts values that occur, so unused ranks are inert.
    """
    coders: dict[str, None] = {}
    units: list[dict[str, int]] = []
    top = LOWEST + 1
    for rubric, by_reviewer in sessions:
        cleaned = {reviewer: validate_scores(rubric, scores) for reviewer, scores in by_reviewer.items()}
        coders.update(dict.fromkeys(cleaned))
        top = max(top, rubric.scale)
        for key in rubric.keys:
            unit: dict[str, int] = {}
            for reviewer, values in cleaned.items():
                if (value := values[key]) is not None:
                    unit[reviewer] = value
            units.append(unit)
    pairable = [value for unit in units if len(unit) >= 2 for value in unit.values()]
    if len(coders) < 2 or len(set(pairable)) < 2:
        return None
    data = np.array([[unit.get(coder, np.nan) for unit in units] for coder in coders], dtype=float)
    alpha = float(
        krippendorff.alpha(
            reliability_data=data, level_of_measurement="ordinal", value_domain=range(LOWEST, top + 1)
        )
    )
    return None if math.isnan(alpha) else alpha
