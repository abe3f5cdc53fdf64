"""QA scoring and calibration maths: weights, n/a, critical categories, rounding, input errors, alpha."""

from __future__ import annotations

import math

import krippendorff
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.qa import alpha_over_sessions, calibration_result, rubric_help, score, validate_scores
from bot.domain.qa_types import Category, QaInputError, Rubric

RUBRIC = Rubric(
    scale=5,
    pass_mark=80,
    categories=(
        Category("accuracy", "Correct resolution", 3),
        Category("empathy", "Empathy and tone", 2),
        Category("process", "Followed process", 2),
        Category("compliance", "Compliance (KYC/PCI)", 3, critical=True),
    ),
)
HELP = "categories: accuracy, empathy, process, compliance; scores 1-5 or n/a"


def scores(accuracy=4, empathy=5, process=3, compliance=5):  # noqa: ANN001, ANN201 - test builder
    return {"accuracy": accuracy, "empathy": empathy, "process": process, "compliance": compliance}


# --- scoring -------------------------------------------------------------------------------------------


def test_issue_example_is_86_percent() -> None:
    result = score(RUBRIC, scores())

    # (3*4 + 2*5 + 2*3 + 3*5) / (3*5 + 2*5 + 2*5 + 3*5) = 43 / 50
    assert (result.percent, result.passed, result.critical_failed, result.rated) == (86.0, True, (), 4)


def test_na_drops_out_of_both_sums() -> None:
    result = score(RUBRIC, scores(empathy=None))

    # (12 + 6 + 15) / (15 + 10 + 15) = 33 / 40
    assert (result.percent, result.rated) == (82.5, 3)


def test_below_pass_mark_fails() -> None:
    result = score(RUBRIC, scores(accuracy=3, process=2))  # (9 + 10 + 4 + 15) / 50 = 76 %

    assert (result.percent, result.passed) == (76.0, False)


def test_pass_mark_itself_passes() -> None:
    result = score(RUBRIC, scores(accuracy=4, empathy=4, process=4, compliance=4))  # 40 / 50

    assert (result.percent, result.passed) == (80.0, True)


def test_critical_category_at_lowest_score_zeroes_the_review() -> None:
    result = score(RUBRIC, scores(accuracy=5, empathy=5, process=5, compliance=1))

    assert (result.percent, result.passed, result.critical_failed) == (0.0, False, ("compliance",))


def test_non_critical_category_at_lowest_score_only_lowers_it() -> None:
    result = score(RUBRIC, scores(accuracy=1))  # (3 + 10 + 6 + 15) / 50

    assert (result.percent, result.critical_failed) == (68.0, ())


def test_critical_category_na_does_not_fail() -> None:
    result = score(RUBRIC, scores(compliance=None))  # (12 + 10 + 6) / 35

    assert (result.percent, result.passed, result.critical_failed) == (80.0, True, ())


def test_all_na_is_refused() -> None:
    with pytest.raises(QaInputError, match="rate at least one category") as info:
        score(RUBRIC, scores(None, None, None, None))

    assert HELP in str(info.value)


def test_percent_rounds_half_up_not_to_even() -> None:
    rubric = Rubric(
        scale=4,
        pass_mark=81,
        categories=(Category("a", "A", 1), Category("b", "B", 1), Category("c", "C", 2)),
    )

    result = score(rubric, {"a": 2, "b": 3, "c": 4})  # (2 + 3 + 8) / 16 = 81.25 %

    assert round(81.25, 1) == 81.2  # what float rounding would have said
    assert (result.percent, result.passed) == (81.3, True)


def test_repeating_decimal_is_rounded_to_one_place() -> None:
    rubric = Rubric(scale=3, pass_mark=50, categories=(Category("a", "A", 1),))

    assert score(rubric, {"a": 2}).percent == 66.7


def test_old_rubric_version_scores_with_its_own_weights() -> None:
    reweighted = Rubric(
        scale=5,
        pass_mark=80,
        categories=tuple(Category(c.key, c.label, 1, c.critical) for c in RUBRIC.categories),
    )

    assert reweighted.version != RUBRIC.version
    assert score(reweighted, scores()).percent == 85.0  # 17 / 20
    assert score(RUBRIC, scores()).percent == 86.0


# --- input errors --------------------------------------------------------------------------------------


def test_validate_returns_rubric_order_and_accepts_modal_strings() -> None:
    given = {"compliance": "5", "process": "n/a", "Empathy": "NA", "accuracy": 4}

    assert validate_scores(RUBRIC, given) == {
        "accuracy": 4,
        "empathy": None,
        "process": None,
        "compliance": 5,
    }


def test_unknown_category_suggests_the_closest_key() -> None:
    given = {"acuracy": 4, "empathy": 5, "process": 3, "compliance": 5}

    with pytest.raises(QaInputError) as info:
        validate_scores(RUBRIC, given)

    assert str(info.value) == f'unknown category "acuracy" (did you mean "accuracy"?) — {HELP}'


def test_unknown_category_without_a_close_key() -> None:
    with pytest.raises(QaInputError) as info:
        validate_scores(RUBRIC, {**scores(), "tone": 3})

    assert str(info.value) == f'unknown category "tone" — {HELP}'


def test_missing_categories_are_named() -> None:
    with pytest.raises(QaInputError) as info:
        validate_scores(RUBRIC, {"accuracy": 4, "empathy": 5})

    assert str(info.value) == f"missing a score for process, compliance — {HELP}"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0, "accuracy=0 is out of range"),
        (6, "accuracy=6 is out of range"),
        ("7", "accuracy=7 is out of range"),
        (4.5, 'accuracy="4.5" is not a score (a whole number or n/a)'),
        ("good", 'accuracy="good" is not a score (a whole number or n/a)'),
        (True, 'accuracy="True" is not a score (a whole number or n/a)'),
    ],
)
def test_bad_score_values(value: object, problem: str) -> None:
    with pytest.raises(QaInputError) as info:
        validate_scores(RUBRIC, scores(accuracy=value))

    assert str(info.value) == f"{problem} — {HELP}"


def test_every_problem_in_one_message() -> None:
    with pytest.raises(QaInputError) as info:
        validate_scores(RUBRIC, {"acuracy": 4, "empathy": 9, "process": "x"})

    assert str(info.value) == (
        'unknown category "acuracy" (did you mean "accuracy"?); empathy=9 is out of range; '
        f'process="x" is not a score (a whole number or n/a); missing a score for compliance — {HELP}'
    )


def test_help_names_the_scale() -> None:
    ten = Rubric(scale=10, pass_mark=70, categories=(Category("tone", "Tone", 1),))

    assert rubric_help(ten) == "categories: tone; scores 1-10 or n/a"


# --- properties ----------------------------------------------------------------------------------------


@st.composite
def rubric_and_scores(draw: st.DrawFn) -> tuple[Rubric, dict[str, int | None]]:
    scale = draw(st.integers(2, 10))
    size = draw(st.integers(1, 6))
    categories = tuple(
        Category(f"c{i}", f"C{i}", draw(st.integers(1, 20)), draw(st.booleans())) for i in range(size)
    )
    values = {c.key: draw(st.none() | st.integers(1, scale)) for c in categories}
    if all(value is None for value in values.values()):
        values[categories[0].key] = draw(st.integers(1, scale))
    return Rubric(scale=scale, pass_mark=draw(st.integers(0, 100)), categories=categories), values


@given(rubric_and_scores())
def test_percent_is_between_0_and_100(case: tuple[Rubric, dict[str, int | None]]) -> None:
    rubric, values = case

    result = score(rubric, values)

    assert 0.0 <= result.percent <= 100.0
    assert result.passed == (result.percent >= rubric.pass_mark and not result.critical_failed)
    assert result.percent == round(result.percent, 1)
    assert result.rated == sum(value is not None for value in values.values())


@given(rubric_and_scores(), st.integers(1, 20), st.booleans())
def test_an_na_category_changes_nothing(
    case: tuple[Rubric, dict[str, int | None]], weight: int, critical: bool
) -> None:
    rubric, values = case
    wider = Rubric(
        rubric.scale, rubric.pass_mark, (*rubric.categories, Category("extra", "Extra", weight, critical))
    )

    assert score(wider, {**values, "extra": None}) == score(rubric, values)


@given(rubric_and_scores(), st.integers(2, 5))
def test_scaling_every_weight_changes_nothing(
    case: tuple[Rubric, dict[str, int | None]], factor: int
) -> None:
    rubric, values = case
    heavier = Rubric(
        rubric.scale,
        rubric.pass_mark,
        tuple(Category(c.key, c.label, c.weight * factor, c.critical) for c in rubric.categories),
    )

    assert score(heavier, values) == score(rubric, values)


@given(rubric_and_scores(), st.data())
def test_raising_a_score_never_lowers_the_percent(
    case: tuple[Rubric, dict[str, int | None]], data: st.DataObject
) -> None:
    rubric, values = case
    rated = [key for key, value in values.items() if value is not None and value < rubric.scale]
    if not rated:
        return
    key = data.draw(st.sampled_from(rated))

    assert score(rubric, {**values, key: values[key] + 1}).percent >= score(rubric, values).percent  # type: ignore[operator]


@given(rubric_and_scores())
def test_top_scores_are_100_percent(case: tuple[Rubric, dict[str, int | None]]) -> None:
    rubric, values = case
    top = {key: None if value is None else rubric.scale for key, value in values.items()}

    assert score(rubric, top).percent == 100.0


# --- calibration ---------------------------------------------------------------------------------------

THREE = Rubric(
    scale=5, pass_mark=80, categories=(Category("a", "A", 1), Category("b", "B", 1), Category("c", "C", 1))
)


def test_alpha_small_case_by_hand() -> None:
    by_reviewer = {"R1": {"a": 1, "b": 2, "c": 3}, "R2": {"a": 1, "b": 3, "c": 3}}
    # Units a, b, c each have m_u = 2 values, so each ordered pair adds 1/(m_u - 1) = 1 to the coincidences:
    #   a: (1,1) twice -> o11 = 2;  b: (2,3) and (3,2) -> o23 = o32 = 1;  c: (3,3) twice -> o33 = 2.
    #   Marginals n1 = 2, n2 = 1, n3 = 3; n = 6. Values 4 and 5 are unused and change nothing.
    # Ordinal distance d(c,k) = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2:
    #   d12 = (3 - 1.5)^2 = 2.25,  d23 = (4 - 2)^2 = 4,  d13 = (6 - 2.5)^2 = 12.25.
    # Observed: sum o_ck d_ck over c != k = o23 d23 + o32 d32 = 8.
    # Expected: sum n_c n_k d_ck over c != k = 2 (2*1*2.25 + 2*3*12.25 + 1*3*4) = 2 * 90 = 180.
    # alpha = 1 - (n - 1) * 8 / 180 = 1 - 40/180 = 7/9.
    result = calibration_result(THREE, by_reviewer, threshold=2)

    assert result.alpha == pytest.approx(7 / 9)


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 coders x 12 units example
# (None = missing); the paper gives ordinal alpha = 0.815.
PAPER = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
TWELVE = Rubric(scale=5, pass_mark=80, categories=tuple(Category(f"u{i}", f"U{i}", 1) for i in range(12)))


def test_alpha_matches_krippendorffs_published_example() -> None:
    by_reviewer = {coder: {f"u{i}": value for i, value in enumerate(row)} for coder, row in PAPER.items()}

    result = calibration_result(TWELVE, by_reviewer, threshold=2)

    assert result.alpha is not None and round(result.alpha, 3) == 0.815
    raw = [[math.nan if value is None else value for value in row] for row in PAPER.values()]
    assert result.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=raw, level_of_measurement="ordinal")
    )


def test_alpha_pools_units_over_sessions() -> None:
    sessions = []
    for start in (0, 4, 8):
        rubric = Rubric(
            scale=5, pass_mark=80, categories=tuple(Category(f"u{i}", f"U{i}", 1) for i in range(4))
        )
        by_reviewer = {coder: {f"u{i}": row[start + i] for i in range(4)} for coder, row in PAPER.items()}
        sessions.append((rubric, by_reviewer))

    alpha = alpha_over_sessions(sessions)

    assert alpha is not None and round(alpha, 3) == 0.815


def test_alpha_over_sessions_with_different_reviewers() -> None:
    first = (THREE, {"R1": {"a": 1, "b": 2, "c": 3}, "R2": {"a": 1, "b": 3, "c": 3}})
    second = (THREE, {"R1": {"a": 5, "b": 5, "c": 4}, "R3": {"a": 5, "b": 4, "c": 4}})

    alpha = alpha_over_sessions([first, second])

    raw = [[1, 2, 3, 5, 5, 4], [1, 3, 3, math.nan, math.nan, math.nan], [math.nan] * 3 + [5, 4, 4]]
    assert alpha == pytest.approx(krippendorff.alpha(reliability_data=raw, level_of_measurement="ordinal"))


@pytest.mark.parametrize(
    "by_reviewer",
    [
        {"R1": {"a": 1, "b": 2, "c": 3}},  # one reviewer
        {"R1": {"a": 1, "b": None, "c": None}, "R2": {"a": None, "b": 2, "c": 3}},  # nothing pairable
        {"R1": {"a": 4, "b": 4, "c": 4}, "R2": {"a": 4, "b": 4, "c": None}},  # no variation
    ],
)
def test_alpha_undefined_is_none(by_reviewer: dict[str, dict[str, int | None]]) -> None:
    assert calibration_result(THREE, by_reviewer, threshold=2).alpha is None


def test_alpha_over_no_sessions_is_none() -> None:
    assert alpha_over_sessions([]) is None


def test_calibration_spread_flags_and_percents() -> None:
    by_reviewer = {
        "R1": scores(accuracy=5, empathy=4, process=3, compliance=5),
        "R2": scores(accuracy=3, empathy=4, process=None, compliance=4),
        "R3": scores(accuracy=4, empathy=3, process=None, compliance=5),
    }

    result = calibration_result(RUBRIC, by_reviewer, threshold=2)

    assert result.reviewers == ("R1", "R2", "R3")
    spreads = {spread.key: spread for spread in result.spreads}
    assert (spreads["accuracy"].scores, spreads["accuracy"].low, spreads["accuracy"].high) == (
        (5, 3, 4),
        3,
        5,
    )
    assert [spread.key for spread in result.spreads if spread.flagged] == ["accuracy"]
    assert (spreads["process"].low, spreads["process"].high, spreads["process"].flagged) == (3, 3, False)
    assert result.percents == {"R1": 88.0, "R2": 72.5, "R3": 82.5}
    assert result.alpha is not None


def test_calibration_threshold_is_inclusive() -> None:
    by_reviewer = {"R1": {"a": 2, "b": 3, "c": 3}, "R2": {"a": 5, "b": 3, "c": 3}}

    assert [s.flagged for s in calibration_result(THREE, by_reviewer, threshold=3).spreads] == [
        True,
        False,
        False,
    ]
    assert [s.flagged for s in calibration_result(THREE, by_reviewer, threshold=4).spreads] == [
        False,
        False,
        False,
    ]


def test_calibration_refuses_bad_scores() -> None:
    with pytest.raises(QaInputError, match="out of range"):
        calibration_result(THREE, {"R1": {"a": 6, "b": 3, "c": 3}}, threshold=2)
