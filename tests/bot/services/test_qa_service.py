"""QaService rules that are about time and atomicity: edit window, dispute window, rescore + decision
together, calibration scores kept out of reports, sampling once a week."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.demo_qa import prepare_qa_emulators
from bot.domain.model import TicketRef
from bot.domain.qa_types import Scorecard
from bot.services.qa import QaForbidden
from tests.scenarios.test_qa_flow import qa_config

SCORES = {"accuracy": 4, "empathy": 5, "process": 3, "compliance": 5}


@pytest.fixture
def deps(seeded, slack_emu, make_deps):
    prepare_qa_emulators(slack_emu)
    return make_deps(qa_config())


def _card(**scores):
    return Scorecard("U0ANA", TicketRef.parse("zd:101"), {**SCORES, **scores}, "ok", "")


def test_the_author_may_edit_within_the_edit_window_only(deps, clock):
    review = deps.qa.record(_card(), reviewer="U0MANAGER")
    with pytest.raises(QaForbidden, match="only the reviewer who wrote"):
        deps.qa.edit(review.id, _card(process=5), by="U0PAYLEAD")
    edited = deps.qa.edit(review.id, _card(process=5), by="U0MANAGER", now=clock() + timedelta(hours=23))
    assert edited.result.percent == 94.0 and edited.rubric.version == review.rubric.version
    with pytest.raises(QaForbidden, match="can be edited for"):
        deps.qa.edit(review.id, _card(process=1), by="U0MANAGER", now=clock() + timedelta(hours=25))
    kinds = [e.kind for e in deps.qa.store.events() if e.review_id == review.id]
    assert kinds == ["review_created", "review_edited"]


def test_a_critical_category_at_the_lowest_score_fails_the_review(deps):
    review = deps.qa.record(_card(compliance=1), reviewer="U0MANAGER")
    assert review.result.percent == 0.0 and review.result.critical_failed == ("compliance",)


def test_a_refused_decision_leaves_the_scores_unchanged(deps, clock):
    review = deps.qa.record(_card(), reviewer="U0MANAGER")
    dispute = deps.qa.open_dispute(review.id, agent="U0ANA", reason="tagged it")
    deps.qa.decide(dispute.id, by="U0MANAGER", outcome="accepted")
    with pytest.raises(Exception, match="already accepted"):
        deps.qa.decide(dispute.id, by="U0MANAGER", outcome="rescored", card=_card(process=5))
    assert deps.qa.get_review(review.id).result.percent == 86.0  # the refused rescore wrote nothing


def test_only_the_reviewer_or_a_manager_decides_and_a_reject_needs_words(deps):
    review = deps.qa.record(_card(), reviewer="U0MANAGER")
    dispute = deps.qa.open_dispute(review.id, agent="U0ANA", reason="tagged it")
    with pytest.raises(QaForbidden):
        deps.qa.decide(dispute.id, by="U0ANA", outcome="accepted")
    with pytest.raises(Exception, match="say why"):
        deps.qa.decide(dispute.id, by="U0MANAGER", outcome="rejected", note=" ")


def test_calibration_scores_never_count_in_reports(deps, clock):
    cal = deps.calibration.open(TicketRef.parse("zd:101"), owner="U0MANAGER", channel="C0BILLING")
    deps.calibration.score(cal.id, reviewer="U0MANAGER", scores=SCORES)
    deps.calibration.score(cal.id, reviewer="U0PAYLEAD", scores={**SCORES, "accuracy": 2})
    assert "no reviews" in deps.qa.report("U0MANAGER", None, 30).text
    assert deps.calibration.close(cal.id, by=None, now=clock() + timedelta(hours=49))
    assert not deps.calibration.close(cal.id, by=None, now=clock() + timedelta(hours=50))
    with pytest.raises(Exception, match="closed"):
        deps.calibration.score(cal.id, reviewer="U0COMPLY", scores=SCORES)
