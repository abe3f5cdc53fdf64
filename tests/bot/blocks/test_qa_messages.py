"""QA messages (bot.blocks.qa_messages), reports and calibration (bot.blocks.qa_reports) and their shared
text helpers (bot.blocks.qa_text)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.alerts import RenderedMessage
from bot.blocks.ids import QaActions, QaBlocks
from bot.blocks.metadata import QaButtonValue
from bot.blocks.qa_messages import (
    QUEUE_ITEMS_MAX,
    SCORE_ACTION_RE,
    DisputeState,
    DisputeView,
    QueueItem,
    ScorecardAudience,
    ScorecardView,
    render_dispute_for_reviewer,
    render_dispute_outcome_for_agent,
    render_qa_help,
    render_queue,
    render_scorecard,
)
from bot.blocks.qa_reports import (
    CalibrationAlpha,
    CalibrationSessionView,
    alpha_phrase,
    render_agent_report,
    render_calibration_report,
    render_calibration_result,
    render_calibration_session,
    render_team_report,
    sparkline,
)
from bot.blocks.qa_text import MESSAGE_TEXT_BUDGET, format_percent, joined, line_sections
from bot.domain.model import Source, TicketRef
from bot.domain.qa_types import (
    AgentReport,
    CalibrationResult,
    Category,
    CategorySpread,
    Rubric,
    Scorecard,
    ScoreResult,
    WeekPoint,
)
from integrations.emulators.blockkit import validate_blocks

NOW = datetime(2026, 11, 23, 13, 10, tzinfo=UTC)  # Monday 14:10 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
REF = TicketRef(Source.ZENDESK, "101")
URL = "https://acme.zendesk.com/agent/tickets/101"
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
CARD = Scorecard(
    agent="U0AGENT",
    ref=REF,
    scores={"accuracy": 4, "empathy": 5, "process": 3, "compliance": 5},
    comment="Good <refund> & tone\nsecond line",
    coaching="Offer the callback",
)
PASS_86 = ScoreResult(percent=86.0, passed=True, rated=4)
HOSTILE = "<!channel> & <@U999> *bold* 🎉 Ünïcødé\n" * 200  # escapes to far more than 3000 chars
Checker = Callable[[str, list[dict[str, Any]]], None]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e["text"] for e in b.get("elements", []) if e["type"] in ("mrkdwn", "plain_text")]
        out += [e["text"]["text"] for e in b.get("elements", []) if e["type"] == "button"]
    return out


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text object (plain_text, such as a header, shows markup literally)."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


def block(message: RenderedMessage, block_id: str) -> dict[str, Any]:
    matches = [b for b in message.blocks if b.get("block_id") == block_id]
    assert len(matches) == 1, [b.get("block_id") for b in message.blocks]
    return matches[0]


def all_text(message: RenderedMessage) -> str:
    return "\n".join(texts(message.blocks))


def buttons(message: RenderedMessage) -> list[dict[str, Any]]:
    found = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    found += [b["accessory"] for b in message.blocks if b.get("accessory", {}).get("type") == "button"]
    return found


def assert_valid(message: RenderedMessage, check: Checker) -> None:
    """Slack's strict checks, our escaping checks, the message budget, and ids-only buttons."""
    assert validate_blocks(message.blocks, surface="message") == []
    check(message.text, message.blocks)
    assert len(message.text) <= 300
    assert sum(len(t) for t in texts(message.blocks)) <= MESSAGE_TEXT_BUDGET
    assert "<!channel>" not in " ".join(mrkdwn_texts(message.blocks)) and "<!channel>" not in message.text
    for element in buttons(message):
        QaButtonValue.decode(element["value"])  # strict: ids only, no extra fields


def make_card(**changes: Any) -> ScorecardView:
    view = ScorecardView(
        review_id=7,
        card=CARD,
        reviewer="U0REVIEWER",
        rubric=RUBRIC,
        result=PASS_86,
        created_at=NOW - timedelta(hours=1),
        tz=BERLIN,
        url=URL,
        subject="Refund not received",
        audience=ScorecardAudience.REVIEWER,
        edit_until=NOW + timedelta(hours=23),
        dispute_until=NOW + timedelta(days=7),
    )
    return dataclasses.replace(view, **changes)


# --- scorecard ----------------------------------------------------------------------------------------


def test_reviewer_scorecard_shows_each_category_total_and_edit_button(assert_valid_blocks: Checker) -> None:
    message = render_scorecard(make_card(), now=NOW)
    assert_valid(message, assert_valid_blocks)
    assert [b["block_id"] for b in message.blocks] == [
        QaBlocks.HEADER,
        QaBlocks.SUMMARY,
        f"{QaBlocks.SCORES}_1",
        QaBlocks.TOTAL,
        QaBlocks.COMMENT_TEXT,
        QaBlocks.COACHING_TEXT,
        QaBlocks.STATUS,
        QaBlocks.ACTIONS,
    ]
    assert message.text == "QA review of zd:101: 86% PASS"
    assert block(message, QaBlocks.HEADER)["text"]["text"] == "📋 QA review saved · zd:101"
    summary = block(message, QaBlocks.SUMMARY)
    assert summary["text"]["text"] == f"*<{URL}|zd:101>* · Zendesk\nRefund not received"
    assert [f["text"] for f in summary["fields"]] == ["*Agent*\n<@U0AGENT>", "*Reviewer*\n<@U0REVIEWER>"]
    assert block(message, f"{QaBlocks.SCORES}_1")["text"]["text"].split("\n") == [
        "• *Correct resolution* (×3): *4*/5",
        "• *Empathy and tone* (×2): *5*/5",
        "• *Followed process* (×2): *3*/5",
        "• *Compliance (KYC/PCI)* (×3, critical): *5*/5",
    ]
    assert block(message, QaBlocks.TOTAL)["text"]["text"] == "*Score: 86%* · ✅ PASS (pass mark 80%)"
    comment = block(message, QaBlocks.COMMENT_TEXT)["text"]["text"]
    assert comment == "*Comment*\nGood &lt;refund&gt; &amp; tone\nsecond line"
    assert block(message, QaBlocks.COACHING_TEXT)["text"]["text"] == "*Coaching note*\nOffer the callback"
    status = block(message, QaBlocks.STATUS)["elements"][0]["text"]
    assert "Scored by <@U0REVIEWER> on Mon 23 Nov 13:10 CET" in status
    assert f"rubric {RUBRIC.version}" in status and "you can edit it until Tue 24 Nov 13:10 CET" in status
    [edit] = buttons(message)
    assert edit["action_id"] == QaActions.EDIT and edit["text"]["text"] == "Edit"
    assert QaButtonValue.decode(edit["value"]) == QaButtonValue(review_id=7, ref="zd:101")


def test_edit_button_only_inside_the_edit_window(assert_valid_blocks: Checker) -> None:
    for edit_until in (NOW, NOW - timedelta(minutes=1), None):
        message = render_scorecard(make_card(edit_until=edit_until), now=NOW)
        assert_valid(message, assert_valid_blocks)
        assert buttons(message) == []
        assert "you can edit" not in all_text(message)


def test_agent_scorecard_offers_dispute_until_the_window_closes(assert_valid_blocks: Checker) -> None:
    message = render_scorecard(make_card(audience=ScorecardAudience.AGENT), now=NOW)
    assert_valid(message, assert_valid_blocks)
    assert message.text == "Your QA review of zd:101: 86% PASS"
    assert block(message, QaBlocks.HEADER)["text"]["text"] == "📋 Your QA review · zd:101"
    [dispute] = buttons(message)
    assert dispute["action_id"] == QaActions.DISPUTE
    assert QaButtonValue.decode(dispute["value"]) == QaButtonValue(review_id=7)
    status = block(message, QaBlocks.STATUS)["elements"][0]["text"]
    assert "you can dispute it until Mon 30 Nov 14:10 CET" in status and "edit" not in status
    for changes in (
        {"dispute_until": NOW},
        {"dispute_until": None},
        {"dispute_state": DisputeState.OPEN},
        {"dispute_state": DisputeState.REJECTED},
    ):
        late = render_scorecard(make_card(audience=ScorecardAudience.AGENT, **changes), now=NOW)
        assert_valid(late, assert_valid_blocks)
        assert buttons(late) == [], changes
    disputed = render_scorecard(
        make_card(audience=ScorecardAudience.AGENT, dispute_state=DisputeState.OPEN), now=NOW
    )
    assert "disputed: waiting for the reviewer" in block(disputed, QaBlocks.STATUS)["elements"][0]["text"]


def test_critical_failure_scores_zero_and_says_why(assert_valid_blocks: Checker) -> None:
    card = dataclasses.replace(CARD, scores={**CARD.scores, "compliance": 1})
    failed = ScoreResult(percent=0.0, passed=False, critical_failed=("compliance",), rated=4)
    message = render_scorecard(make_card(card=card, result=failed), now=NOW)
    assert_valid(message, assert_valid_blocks)
    assert block(message, QaBlocks.TOTAL)["text"]["text"] == "*Score: 0%* · ❌ FAIL (pass mark 80%)"
    critical = block(message, QaBlocks.CRITICAL)["text"]["text"]
    assert critical == "🚫 *Critical:* Compliance (KYC/PCI) scored 1 → review scored 0"
    assert "• *Compliance (KYC/PCI)* (×3, critical): *1*/5 🚫" in all_text(message)
    assert message.text.endswith("0% FAIL")


def test_na_categories_and_no_comment(assert_valid_blocks: Checker) -> None:
    card = dataclasses.replace(CARD, scores={**CARD.scores, "empathy": None}, comment=" ", coaching="")
    message = render_scorecard(make_card(card=card, result=ScoreResult(85.0, True, (), 3)), now=NOW)
    assert_valid(message, assert_valid_blocks)
    assert "• *Empathy and tone* (×2): n/a" in all_text(message)
    ids = [b["block_id"] for b in message.blocks]
    assert QaBlocks.COMMENT_TEXT not in ids and QaBlocks.COACHING_TEXT not in ids


def test_edited_scorecard_says_so() -> None:
    message = render_scorecard(make_card(edited_at=NOW), now=NOW)
    assert "edited Mon 23 Nov 14:10 CET" in block(message, QaBlocks.STATUS)["elements"][0]["text"]


def test_worst_case_scorecard_stays_within_limits(assert_valid_blocks: Checker) -> None:
    categories = tuple(Category(f"c{n}", HOSTILE[:300], 10, critical=True) for n in range(100))
    rubric = Rubric(scale=99, pass_mark=80, categories=categories)
    card = Scorecard(
        agent="<!channel>",
        ref=TicketRef(Source.INTERCOM, "9" * 20),
        scores={c.key: 1 for c in categories},
        comment=HOSTILE,
        coaching=HOSTILE,
    )
    result = ScoreResult(0.0, False, tuple(c.key for c in categories), 100)
    for audience in ScorecardAudience:
        view = make_card(
            card=card,
            rubric=rubric,
            result=result,
            reviewer="<!here>",
            url="https://x/" + "a" * 5000,
            subject=HOSTILE,
            audience=audience,
            edited_at=NOW,
        )
        message = render_scorecard(view, now=NOW)
        assert_valid(message, assert_valid_blocks)
        assert "more categories" in all_text(message)
        assert "<!here>" not in json.dumps(mrkdwn_texts(message.blocks))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        render_scorecard(make_card(created_at=datetime(2026, 11, 23)), now=NOW)
    with pytest.raises(ValueError, match="aware"):
        render_scorecard(make_card(), now=datetime(2026, 11, 23))


# --- disputes -----------------------------------------------------------------------------------------


def make_dispute(**changes: Any) -> DisputeView:
    view = DisputeView(
        dispute_id=3,
        review_id=7,
        agent="U0AGENT",
        reviewer="U0REVIEWER",
        ref=REF,
        reason="The customer <asked> for it & I followed the macro",
        result=ScoreResult(62.0, False, (), 4),
        opened_at=NOW,
        tz=BERLIN,
        url=URL,
        subject="Refund not received",
    )
    return dataclasses.replace(view, **changes)


def test_open_dispute_asks_the_reviewer_to_decide(assert_valid_blocks: Checker) -> None:
    message = render_dispute_for_reviewer(make_dispute())
    assert_valid(message, assert_valid_blocks)
    assert message.text == "QA review of zd:101 disputed (62% FAIL)"
    summary = block(message, QaBlocks.SUMMARY)["text"]["text"]
    assert summary.startswith("<@U0AGENT> disputes your review (62% FAIL) of *<")
    reason = block(message, QaBlocks.REASON_TEXT)["text"]["text"]
    assert reason == "*Their reason*\nThe customer &lt;asked&gt; for it &amp; I followed the macro"
    assert [(b["action_id"], b["text"]["text"], b.get("style")) for b in buttons(message)] == [
        (QaActions.DISPUTE_ACCEPT, "Accept", "primary"),
        (QaActions.DISPUTE_REJECT, "Reject", "danger"),
        (QaActions.DISPUTE_RESCORE, "Rescore", None),
    ]
    for element in buttons(message):
        assert QaButtonValue.decode(element["value"]) == QaButtonValue(dispute_id=3, review_id=7)


@pytest.mark.parametrize(
    ("state", "line"),
    [
        (DisputeState.ACCEPTED, "✅ Accepted by <@U0REVIEWER> on Mon 23 Nov 15:10 CET"),
        (DisputeState.REJECTED, "❌ Rejected by <@U0REVIEWER> on Mon 23 Nov 15:10 CET: the score stands"),
        (
            DisputeState.RESCORED,
            "🔁 Rescored by <@U0REVIEWER> on Mon 23 Nov 15:10 CET: 62% FAIL → *85.5% PASS*",
        ),
    ],
)
def test_decided_dispute_shows_outcome_without_buttons(
    state: DisputeState, line: str, assert_valid_blocks: Checker
) -> None:
    view = make_dispute(
        state=state,
        decided_by="U0REVIEWER",
        decided_at=NOW + timedelta(hours=1),
        note="Checked the <macro>",
        new_result=ScoreResult(85.5, True, (), 4) if state is DisputeState.RESCORED else None,
    )
    for message in (render_dispute_for_reviewer(view), render_dispute_outcome_for_agent(view)):
        assert_valid(message, assert_valid_blocks)
        assert buttons(message) == []
        assert block(message, QaBlocks.STATUS)["text"]["text"] == line
        assert (
            block(message, QaBlocks.NOTE_TEXT)["text"]["text"]
            == "*Reviewer's note*\nChecked the &lt;macro&gt;"
        )
    agent = render_dispute_outcome_for_agent(view)
    assert agent.text == f"Your dispute of the QA review of zd:101 was {state.value}"
    assert block(agent, QaBlocks.HEADER)["text"]["text"] == f"⚖️ Your dispute was {state.value} · zd:101"


def test_open_dispute_has_no_outcome_for_the_agent() -> None:
    with pytest.raises(ValueError, match="open dispute"):
        render_dispute_outcome_for_agent(make_dispute())


def test_worst_case_dispute_stays_within_limits(assert_valid_blocks: Checker) -> None:
    for state in DisputeState:
        view = make_dispute(
            agent=HOSTILE,
            reason=HOSTILE,
            note=HOSTILE,
            subject=HOSTILE,
            url="https://x/" + "a" * 5000,
            state=state,
            decided_by="<!channel>",
            decided_at=NOW,
            new_result=ScoreResult(100.0, True),
        )
        assert_valid(render_dispute_for_reviewer(view), assert_valid_blocks)
        if state is not DisputeState.OPEN:
            assert_valid(render_dispute_outcome_for_agent(view), assert_valid_blocks)


# --- queue --------------------------------------------------------------------------------------------


def test_queue_lists_tickets_each_with_a_score_button(assert_valid_blocks: Checker) -> None:
    items = [
        QueueItem(REF, "U0AGENT", URL, "Refund <not> received"),
        QueueItem(TicketRef(Source.INTERCOM, "9001"), "U0OTHER"),
    ]
    message = render_queue(items)
    assert_valid(message, assert_valid_blocks)
    assert message.text == "QA queue: 2 tickets to score"
    first = block(message, f"{QaBlocks.ROWS}_1")
    assert first["text"]["text"] == f"*<{URL}|zd:101>* · <@U0AGENT>\nRefund &lt;not&gt; received"
    assert block(message, f"{QaBlocks.ROWS}_2")["text"]["text"] == "*ic:9001* · <@U0OTHER>"
    score = buttons(message)
    assert [b["action_id"] for b in score] == [f"{QaActions.SCORE}_1", f"{QaActions.SCORE}_2"]
    assert all(SCORE_ACTION_RE.match(b["action_id"]) for b in score)
    assert [QaButtonValue.decode(b["value"]).ref for b in score] == ["zd:101", "ic:9001"]


def test_sample_dm_names_the_week_and_empty_queue_says_so(assert_valid_blocks: Checker) -> None:
    sample = render_queue([QueueItem(REF, "U0AGENT")], sampled_week=date(2026, 11, 16))
    assert block(sample, QaBlocks.HEADER)["text"]["text"] == "🗂️ Your QA sample for the week of Mon 16 Nov"
    assert sample.text == "QA queue: 1 ticket to score"
    empty = render_queue([])
    assert_valid(empty, assert_valid_blocks)
    assert buttons(empty) == [] and "Nothing left to score" in all_text(empty)


def test_worst_case_queue_stays_within_limits(assert_valid_blocks: Checker) -> None:
    items = [
        QueueItem(TicketRef(Source.ZENDESK, str(10**19 + n)), "<!channel>", "https://x/" + "a" * 290, HOSTILE)
        for n in range(500)
    ]
    message = render_queue(items)
    assert_valid(message, assert_valid_blocks)
    assert len(buttons(message)) == QUEUE_ITEMS_MAX
    assert "…and 480 more" in block(message, QaBlocks.MORE)["elements"][0]["text"]


# --- help ---------------------------------------------------------------------------------------------


def test_help_lists_commands_categories_and_scale(assert_valid_blocks: Checker) -> None:
    message = render_qa_help(RUBRIC)
    assert_valid(message, assert_valid_blocks)
    text = all_text(message)
    assert "/qa @agent zd:123 accuracy=4 empathy=4 process=4 compliance=4" in text
    for command in ("/qa report @agent [30d]", "/qa report team", "/qa calibrate", "/qa queue"):
        assert command in text
    assert "• `compliance`: Compliance (KYC/PCI) (×3, critical)" in text
    assert "Scores are 1–5 or `n/a`" in text and "passes at 80%" in text
    assert QaBlocks.ERROR not in [b["block_id"] for b in message.blocks]


def test_help_with_an_error_puts_the_problem_first(assert_valid_blocks: Checker) -> None:
    message = render_qa_help(RUBRIC, error="unknown category 'empaty' <@U1>")
    assert_valid(message, assert_valid_blocks)
    assert message.blocks[0]["block_id"] == QaBlocks.ERROR
    assert message.blocks[0]["text"]["text"] == "⚠️ unknown category 'empaty' &lt;@U1&gt;"
    assert message.text.startswith("QA: unknown category")
    worst = Rubric(99, 80, tuple(Category(HOSTILE[:60] + str(n), HOSTILE, 9, True) for n in range(200)))
    assert_valid(render_qa_help(worst, error=HOSTILE), assert_valid_blocks)


# --- reports ------------------------------------------------------------------------------------------


def make_report(**changes: Any) -> AgentReport:
    report = AgentReport(
        agent="U0AGENT",
        reviews=12,
        average=84.2,
        pass_rate=75.0,
        per_category={"empathy": 3.2, "accuracy": 4.5, "process": None, "legacy": 2.0},
        weakest="empathy",
        weekly=(
            WeekPoint(date(2026, 11, 2), 80.0, 3),
            WeekPoint(date(2026, 11, 9), 86.0, 1),
            WeekPoint(date(2026, 11, 16), 100.0, 4),
        ),
        previous_average=81.1,
    )
    return dataclasses.replace(report, **changes)


def test_agent_report_shows_average_change_trend_and_categories(assert_valid_blocks: Checker) -> None:
    message = render_agent_report(make_report(), rubric=RUBRIC, days=30)
    assert_valid(message, assert_valid_blocks)
    assert block(message, QaBlocks.HEADER)["text"]["text"] == "📊 QA report · last 30 days"
    assert message.text == "QA report, last 30 days: average 84.2%, 12 reviews"
    summary = block(message, QaBlocks.SUMMARY)
    assert summary["text"]["text"] == "*<@U0AGENT>*"
    assert [f["text"] for f in summary["fields"]] == [
        "*Average*\n84.2%",
        "*Change*\n▲ 3.1 pts vs the previous 30 days",
        "*Pass rate*\n75%",
        "*Reviews*\n12",
        "*Weakest category*\nEmpathy and tone: 3.2/5",
    ]
    assert block(message, f"{QaBlocks.TREND}_1")["text"]["text"].split("\n") == [
        "*Trend by week* `▇▇█`",
        "• week of Mon 2 Nov: 80% (3 reviews)",
        "• week of Mon 9 Nov: 86% (1 review)",
        "• week of Mon 16 Nov: 100% (4 reviews)",
    ]
    assert block(message, f"{QaBlocks.CATEGORIES}_1")["text"]["text"].split("\n") == [
        "*By category*",
        "• Correct resolution: 4.5/5",
        "• Empathy and tone: 3.2/5",
        "• Followed process: n/a",
        "• legacy: 2.0/5",
    ]


@pytest.mark.parametrize(
    ("average", "previous", "change"),
    [
        (80.0, 85.5, "▼ 5.5 pts vs the previous 7 days"),
        (80.0, 80.04, "= no change vs the previous 7 days"),
        (80.0, None, "no reviews in the previous 7 days"),
    ],
)
def test_agent_report_change_vs_previous_period(average: float, previous: float | None, change: str) -> None:
    message = render_agent_report(
        make_report(average=average, previous_average=previous), rubric=RUBRIC, days=7
    )
    assert f"*Change*\n{change}" in [f["text"] for f in block(message, QaBlocks.SUMMARY)["fields"]]


def test_agent_report_without_reviews(assert_valid_blocks: Checker) -> None:
    report = AgentReport(agent="U0AGENT", reviews=0, average=None, pass_rate=None)
    message = render_agent_report(report, rubric=RUBRIC, days=1)
    assert_valid(message, assert_valid_blocks)
    assert block(message, QaBlocks.EMPTY)["text"]["text"] == "No reviews of <@U0AGENT> in the last day."
    with pytest.raises(ValueError, match="at least one day"):
        render_agent_report(report, rubric=RUBRIC, days=0)


def test_worst_case_agent_report_stays_within_limits(assert_valid_blocks: Checker) -> None:
    keys = [HOSTILE[:100] + str(n) for n in range(300)]
    rubric = Rubric(99, 80, tuple(Category(k, HOSTILE, 9) for k in keys[:150]))
    report = make_report(
        agent="<!channel>",
        reviews=10**6,
        per_category={k: 98.76 for k in keys},
        weakest=keys[-1],
        weekly=tuple(WeekPoint(date(2026, 1, 5) + timedelta(weeks=n), 99.95, 10**6) for n in range(200)),
    )
    message = render_agent_report(report, rubric=rubric, days=3650)
    assert_valid(message, assert_valid_blocks)
    assert "more" in all_text(message)


def test_team_report_one_line_per_agent_best_first(assert_valid_blocks: Checker) -> None:
    reports = [
        make_report(agent="U0B", average=70.0, pass_rate=20.0, reviews=5, previous_average=None),
        make_report(agent="U0C", reviews=0, average=None, pass_rate=None, weakest=None),
        make_report(agent="U0A", average=92.5, pass_rate=100.0, reviews=1, weakest="legacy"),
    ]
    message = render_team_report(reports, rubric=RUBRIC, days=30, team_name="Billing <team>")
    assert_valid(message, assert_valid_blocks)
    assert (
        block(message, QaBlocks.HEADER)["text"]["text"] == "📊 QA team report · Billing <team> · last 30 days"
    )
    assert block(message, QaBlocks.SUMMARY)["text"]["text"] == "*3 agents* · 6 reviews"
    assert block(message, f"{QaBlocks.ROWS}_1")["text"]["text"].split("\n") == [
        "1. <@U0A>: *92.5%* · pass 100% · 1 review · weakest legacy · ▲ 11.4 pts",
        "2. <@U0B>: *70%* · pass 20% · 5 reviews · weakest Empathy and tone",
        "3. <@U0C>: no reviews",
    ]
    assert message.text == "QA team report, last 30 days: 3 agents, 6 reviews"
    empty = render_team_report([], rubric=RUBRIC, days=30)
    assert_valid(empty, assert_valid_blocks)
    assert "No agents reviewed" in all_text(empty)


def test_worst_case_team_report_stays_within_limits(assert_valid_blocks: Checker) -> None:
    reports = [make_report(agent=f"U{n:010d}", average=n / 10, weakest=HOSTILE) for n in range(1000)]
    message = render_team_report(reports, rubric=RUBRIC, days=30, team_name=HOSTILE)
    assert_valid(message, assert_valid_blocks)
    assert "more agents" in all_text(message)
    assert block(message, f"{QaBlocks.ROWS}_1")["text"]["text"].startswith("1. <@U0000000999>: *99.9%*")


# --- calibration --------------------------------------------------------------------------------------


def make_session(**changes: Any) -> CalibrationSessionView:
    view = CalibrationSessionView(
        calibration_id=5,
        ref=REF,
        owner="U0MANAGER",
        closes_at=NOW + timedelta(hours=48),
        tz=BERLIN,
        scored_by=("U0R1", "U0R2"),
        url=URL,
        subject="Refund not received",
    )
    return dataclasses.replace(view, **changes)


def test_open_calibration_names_who_scored_never_scores(assert_valid_blocks: Checker) -> None:
    message = render_calibration_session(make_session())
    assert_valid(message, assert_valid_blocks)
    assert block(message, QaBlocks.HEADER)["text"]["text"] == "🎯 QA calibration · zd:101"
    fields = [f["text"] for f in block(message, QaBlocks.SUMMARY)["fields"]]
    assert fields == ["*Owner*\n<@U0MANAGER>", "*Closes*\nWed 25 Nov 14:10 CET"]
    assert block(message, QaBlocks.ROWS)["text"]["text"] == "*Scored so far (2):* <@U0R1> <@U0R2>"
    assert "stay hidden until the session closes" in all_text(message)
    assert [(b["action_id"], b["text"]["text"]) for b in buttons(message)] == [
        (QaActions.CALIBRATION_SCORE, "Score blind"),
        (QaActions.CALIBRATION_CLOSE, "Close session"),
    ]
    for element in buttons(message):
        assert QaButtonValue.decode(element["value"]) == QaButtonValue(calibration_id=5, ref="zd:101")
    nobody = render_calibration_session(make_session(scored_by=()))
    assert block(nobody, QaBlocks.ROWS)["text"]["text"] == "_Nobody has scored yet._"


def test_closed_calibration_has_no_buttons(assert_valid_blocks: Checker) -> None:
    closed = render_calibration_session(make_session(closed_at=NOW, closed_by="U0MANAGER"))
    assert_valid(closed, assert_valid_blocks)
    assert buttons(closed) == []
    assert "Closed by <@U0MANAGER>" in all_text(closed) and "*Closed*\nMon 23 Nov 14:10 CET" in all_text(
        closed
    )
    expired = render_calibration_session(make_session(closed_at=NOW))
    assert "when its window ran out" in all_text(expired)


def test_worst_case_calibration_session(assert_valid_blocks: Checker) -> None:
    view = make_session(
        owner="<!channel>", scored_by=tuple(f"U{n:010d}" for n in range(500)), subject=HOSTILE
    )
    message = render_calibration_session(view)
    assert_valid(message, assert_valid_blocks)
    assert "more" in block(message, QaBlocks.ROWS)["text"]["text"]
    with pytest.raises(ValueError, match="aware"):
        render_calibration_session(make_session(closes_at=datetime(2026, 11, 25)))


RESULT = CalibrationResult(
    reviewers=("U0R1", "U0R2", "U0R3"),
    spreads=(
        CategorySpread("accuracy", (4, 4, 5), 4, 5, False),
        CategorySpread("empathy", (2, 5, None), 2, 5, True),
        CategorySpread("process", (None, None, None), None, None, False),
    ),
    alpha=0.71,
    percents={"U0R1": 80.0, "U0R2": 92.5, "U0R3": 86.0},
)


def test_calibration_result_shows_spread_flags_and_alpha(assert_valid_blocks: Checker) -> None:
    message = render_calibration_result(RESULT, rubric=RUBRIC, ref=REF, url=URL, threshold=2)
    assert_valid(message, assert_valid_blocks)
    assert block(message, QaBlocks.ALPHA)["text"]["text"] == (
        "*Agreement:* Krippendorff's α (ordinal) = *0.710*: tentative agreement: usable, but worth a "
        "calibration talk"
    )
    assert block(message, f"{QaBlocks.SCORES}_1")["text"]["text"].split("\n") == [
        "• *Correct resolution* → 4–5: <@U0R1> 4 · <@U0R2> 4 · <@U0R3> 5",
        "• *Empathy and tone* 🚩 → 2–5: <@U0R1> 2 · <@U0R2> 5 · <@U0R3> n/a",
        "• *Followed process*: <@U0R1> n/a · <@U0R2> n/a · <@U0R3> n/a",
    ]
    flagged = block(message, QaBlocks.CRITICAL)["text"]["text"]
    assert flagged.startswith("🚩 *Flagged (threshold 2 points):* Empathy and tone.")
    assert (
        block(message, QaBlocks.TOTAL)["elements"][0]["text"]
        == "Totals: <@U0R1> 80% · <@U0R2> 92.5% · <@U0R3> 86%"
    )
    assert "never count in agents' averages" in block(message, QaBlocks.STATUS)["elements"][0]["text"]
    assert message.text == "Calibration results for zd:101: α 0.710 (tentative), 1 flagged"


@pytest.mark.parametrize(
    ("alpha", "words"),
    [
        (1.0, "good agreement"),
        (0.8, "good agreement"),
        (0.79999, "good agreement"),  # shown as 0.800: the words follow what is shown
        (0.79, "tentative agreement"),
        (0.667, "tentative agreement"),
        (0.666, "poor agreement"),
        (-0.5, "poor agreement"),
        (None, "α undefined"),
    ],
)
def test_alpha_in_plain_words(alpha: float | None, words: str) -> None:
    assert words in alpha_phrase(alpha)


def test_calibration_result_undefined_alpha_and_nothing_flagged(assert_valid_blocks: Checker) -> None:
    result = dataclasses.replace(RESULT, alpha=None, spreads=RESULT.spreads[:1], percents={})
    message = render_calibration_result(result, rubric=RUBRIC, ref=REF)
    assert_valid(message, assert_valid_blocks)
    assert "α undefined" in block(message, QaBlocks.ALPHA)["text"]["text"]
    assert block(message, QaBlocks.CRITICAL)["text"]["text"].startswith("No category flagged")
    assert QaBlocks.TOTAL not in [b["block_id"] for b in message.blocks]


def test_worst_case_calibration_result(assert_valid_blocks: Checker) -> None:
    reviewers = tuple(f"U{n:010d}" for n in range(60)) + ("<!channel>",)
    spreads = tuple(CategorySpread(HOSTILE[:80] + str(n), (99,) * 61, 1, 99, True) for n in range(200))
    result = CalibrationResult(reviewers, spreads, 0.5, {r: 99.5 for r in reviewers})
    message = render_calibration_result(result, rubric=RUBRIC, ref=REF, url="https://x/" + "a" * 4000)
    assert_valid(message, assert_valid_blocks)
    assert "more categories" in all_text(message)


def test_calibration_report_per_session_and_pooled(assert_valid_blocks: Checker) -> None:
    sessions = [
        CalibrationAlpha(5, REF, NOW, 3, 0.82, flagged=1),
        CalibrationAlpha(4, TicketRef(Source.INTERCOM, "9001"), NOW - timedelta(days=8), 2, None),
    ]
    message = render_calibration_report(sessions, 0.74, tz=BERLIN)
    assert_valid(message, assert_valid_blocks)
    assert block(message, QaBlocks.HEADER)["text"]["text"] == "🎯 Calibration report · last 2 sessions"
    assert block(message, QaBlocks.ALPHA)["text"]["text"].startswith("*Pooled over 2 sessions:* Krippendorff")
    assert block(message, f"{QaBlocks.ROWS}_1")["text"]["text"].split("\n") == [
        "• *zd:101* · closed Mon 23 Nov 14:10 CET · 3 reviewers · α 0.820 (good) · 1 flagged",
        "• *ic:9001* · closed Sun 15 Nov 14:10 CET · 2 reviewers · α undefined",
    ]
    assert message.text == "Calibration report: pooled α 0.740 (tentative)"
    empty = render_calibration_report([], None, tz=BERLIN)
    assert_valid(empty, assert_valid_blocks)
    assert "No closed calibration sessions yet" in all_text(empty)
    many = [CalibrationAlpha(n, REF, NOW, 10**6, -0.123456, 10**6) for n in range(1, 2000)]
    worst = render_calibration_report(many, None, tz=BERLIN)
    assert_valid(worst, assert_valid_blocks)
    assert "more sessions" in all_text(worst)


# --- helpers ------------------------------------------------------------------------------------------


def test_format_percent_and_sparkline() -> None:
    assert [format_percent(v) for v in (86.0, 85.66, 0.0, 100.0, 99.96)] == [
        "86%",
        "85.7%",
        "0%",
        "100%",
        "100%",
    ]
    assert sparkline([0.0, 12.5, 50.0, 87.4, 100.0, 150.0, -3.0]) == "▁▂▅▇██▁"


def test_line_sections_pack_and_stop_at_the_budget() -> None:
    lines = [f"line {n} " + "x" * 990 for n in range(10)]
    sections = line_sections("b", lines, 4500)
    assert [s.block_id for s in sections] == ["b_1", "b_2"]
    text = "\n".join(s.text.text for s in sections)
    assert all(len(s.text.text) <= 3000 for s in sections)
    assert text.endswith("…and 6 more") and "line 3 " in text and "line 4 " not in text
    assert len(line_sections("b", ["a", "b"], 4)) == 1  # exactly fits: no "more" line
    assert line_sections("b", [], 100) == []


def test_joined_never_cuts_a_piece() -> None:
    assert joined(["<@U1>", "<@U2>", "<@U3>"], 100, " ") == "<@U1> <@U2> <@U3>"
    assert joined(["<@U1>", "<@U2>", "<@U3>"], 18, " ") == "<@U1> and 2 more"
