"""QA reports over stored reviews: averages, pass rate, weeks in the team's timezone, weakest, trend, team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from bot.domain.model import Source, TicketRef
from bot.domain.qa import score
from bot.domain.qa_report import agent_report, team_report
from bot.domain.qa_types import Category, ReviewRecord, Rubric, WeekPoint

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
# A later version: `process` dropped, `tone` added, on a 1-10 scale.
RUBRIC_V2 = Rubric(
    scale=10,
    pass_mark=70,
    categories=(Category("accuracy", "Correct resolution", 1), Category("tone", "Tone", 1)),
)
PARIS = ZoneInfo("Europe/Paris")
UNTIL = datetime(2025, 3, 31, 12, tzinfo=UTC)  # a Monday
SINCE = UNTIL - timedelta(days=30)
_ids = count(1)


def review(agent: str, at: datetime, rubric: Rubric = RUBRIC, **values: int | None) -> ReviewRecord:
    scores = {key: values.get(key, 4) for key in rubric.keys}
    return ReviewRecord(
        id=next(_ids),
        reviewer="U0LEAD",
        agent=agent,
        ref=TicketRef(Source.ZENDESK, str(next(_ids))),
        rubric=rubric,
        scores=scores,
        result=score(rubric, scores),
        created_at=at,
    )


def test_agent_report_average_pass_rate_and_categories() -> None:
    records = [
        review(
            "U0ANA", UNTIL - timedelta(days=1), accuracy=4, empathy=5, process=3, compliance=5
        ),  # 86.0 pass
        review(
            "U0ANA", UNTIL - timedelta(days=2), accuracy=3, empathy=4, process=None, compliance=4
        ),  # 72.5 fail
        review(
            "U0ANA", UNTIL - timedelta(days=3), accuracy=5, empathy=5, process=1, compliance=5
        ),  # 84.0 pass
        review("U0BOB", UNTIL - timedelta(days=1), accuracy=1),
    ]

    report = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC)

    assert (report.agent, report.reviews, report.average, report.pass_rate) == ("U0ANA", 3, 80.8, 66.7)
    assert dict(report.per_category) == {"accuracy": 4.0, "empathy": 4.67, "process": 2.0, "compliance": 4.67}
    assert report.weakest == "process"
    assert report.previous_average is None


def test_period_is_half_open_and_previous_period_gives_the_trend() -> None:
    records = [
        review("U0ANA", SINCE, accuracy=5, empathy=5, process=5, compliance=5),  # first instant: in
        review("U0ANA", UNTIL),  # the end is out
        review("U0ANA", SINCE - timedelta(seconds=1), accuracy=2, compliance=2),  # previous period
        review("U0ANA", SINCE - timedelta(days=30)),  # start of the previous period: in it
        review("U0ANA", SINCE - timedelta(days=31)),  # before both
    ]

    report = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC)

    assert (report.reviews, report.average) == (1, 100.0)
    # previous: (6 + 8 + 8 + 6) / 50 = 56 % and 80 %
    assert report.previous_average == 68.0


def test_agent_without_reviews_in_the_period() -> None:
    records = [review("U0ANA", SINCE - timedelta(days=3))]

    report = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC)

    assert (report.reviews, report.average, report.pass_rate, report.weekly, report.weakest) == (
        0,
        None,
        None,
        (),
        None,
    )
    assert report.previous_average == 80.0


def test_weeks_start_on_monday_in_the_team_timezone() -> None:
    sunday_late_utc = datetime(2025, 3, 23, 23, 30, tzinfo=UTC)  # already Monday 00:30 in Paris
    records = [
        review("U0ANA", datetime(2025, 3, 17, 9, tzinfo=UTC), accuracy=5, empathy=5, process=5, compliance=5),
        review("U0ANA", sunday_late_utc),
        review("U0ANA", datetime(2025, 3, 26, 9, tzinfo=UTC), accuracy=2, empathy=2, process=2, compliance=2),
    ]

    paris = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=PARIS).weekly
    utc = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC).weekly

    assert paris == (
        WeekPoint(week_start=date(2025, 3, 17), average=100.0, reviews=1),
        WeekPoint(week_start=date(2025, 3, 24), average=60.0, reviews=2),  # (80 + 40) / 2
    )
    assert utc == (
        WeekPoint(week_start=date(2025, 3, 17), average=90.0, reviews=2),
        WeekPoint(week_start=date(2025, 3, 24), average=40.0, reviews=1),
    )


def test_categories_matched_by_key_across_rubric_versions() -> None:
    records = [
        review("U0ANA", UNTIL - timedelta(days=5), accuracy=4, empathy=5, process=2, compliance=5),
        review("U0ANA", UNTIL - timedelta(days=1), RUBRIC_V2, accuracy=9, tone=6),
    ]

    report = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC)

    # newest rubric's keys first; raw scores averaged as given, so mixing scales is for display only
    assert list(report.per_category) == ["accuracy", "tone", "empathy", "process", "compliance"]
    assert report.per_category["accuracy"] == 6.5
    # weakest is relative to each review's scale: process 2/5 = 0.4 < tone 6/10 = 0.6 < accuracy (0.8+0.9)/2
    assert report.weakest == "process"


def test_na_everywhere_leaves_a_category_without_average() -> None:
    records = [review("U0ANA", UNTIL - timedelta(days=1), empathy=None)]

    report = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC)

    assert report.per_category["empathy"] is None
    assert report.weakest is None  # every rated category averages 4: nothing stands out


def test_weakest_tie_goes_to_rubric_order() -> None:
    records = [review("U0ANA", UNTIL - timedelta(days=1), accuracy=3, empathy=5, process=3, compliance=5)]

    assert agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC).weakest == "accuracy"


def test_critical_failure_counts_as_zero_in_the_average() -> None:
    records = [
        review("U0ANA", UNTIL - timedelta(days=1), accuracy=5, empathy=5, process=5, compliance=1),
        review("U0ANA", UNTIL - timedelta(days=2), accuracy=5, empathy=5, process=5, compliance=5),
    ]

    report = agent_report(records, agent="U0ANA", since=SINCE, until=UNTIL, tz=UTC)

    assert (report.average, report.pass_rate) == (50.0, 50.0)


def test_team_report_sorted_by_average_and_omits_unreviewed_agents() -> None:
    records = [
        review("U0BOB", UNTIL - timedelta(days=1), accuracy=2),  # 68 %
        review("U0ANA", UNTIL - timedelta(days=1), accuracy=5, empathy=5, process=5, compliance=5),
        review("U0CAT", UNTIL - timedelta(days=1), accuracy=2),  # ties with U0BOB: by id
        review("U0DAN", SINCE - timedelta(days=1)),  # only in the previous period
    ]

    reports = team_report(records, since=SINCE, until=UNTIL, tz=UTC)

    assert [(r.agent, r.average) for r in reports] == [("U0ANA", 100.0), ("U0BOB", 68.0), ("U0CAT", 68.0)]


def test_team_report_of_nobody_is_empty() -> None:
    assert team_report([], since=SINCE, until=UNTIL, tz=UTC) == []


def test_naive_or_empty_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        agent_report([], agent="U0ANA", since=datetime(2025, 3, 1), until=UNTIL, tz=UTC)
    with pytest.raises(ValueError, match="empty report period"):
        team_report([], since=UNTIL, until=UNTIL, tz=UTC)
