"""QA modals (bot.blocks.qa_modal, bot.blocks.qa_dispute_modal), their payloads and ids."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.escalation import TicketSummary
from bot.blocks.ids import QaActions, QaBlocks, QaModalActions, QaViews
from bot.blocks.metadata import (
    InvalidButtonValue,
    QaButtonValue,
    QaDecisionMetadata,
    QaModalMetadata,
)
from bot.blocks.qa_dispute_modal import (
    DisputeDecision,
    DisputeDecisionModalView,
    DisputeReasonModalView,
    dispute_decision_modal,
    dispute_reason_modal,
    parse_dispute_decision,
    parse_dispute_reason,
)
from bot.blocks.qa_modal import (
    QaModalView,
    category_action_id,
    category_block_id,
    parse_qa_submission,
    qa_loading_modal,
    qa_modal,
    qa_result_modal,
)
from bot.domain.model import Source, TicketRef
from bot.domain.qa_types import Category, Rubric, Scorecard, ScoreResult
from integrations.emulators.blockkit import validate_view

REF = TicketRef(Source.ZENDESK, "101")
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
KEYS = RUBRIC.keys
TICKET = TicketSummary(
    ref=REF,
    url="https://acme.zendesk.com/agent/tickets/101",
    subject="Refund not received",
    requester="Carla Customer",
    priority="high",
    assignee="Alice Agent",
    sla_state="solved",
    last_customer_message="Where is my <money>?",
)
HOSTILE = "<!channel> & <@U999> 🎉 Ünïcødé\n" * 200


def meta(mode: str = "review", **changes: Any) -> QaModalMetadata:
    defaults: dict[str, Any] = {"channel_id": "C0TEAM", "rubric_version": RUBRIC.version}
    if mode == "calibration":
        defaults |= {"calibration_id": 5, "ref": "zd:101"}
    if mode == "edit":
        defaults |= {"review_id": 7, "ref": "zd:101"}
    return QaModalMetadata(mode=mode, **(defaults | changes))  # type: ignore[arg-type]


def make_view(**changes: Any) -> QaModalView:
    view = QaModalView(metadata=meta(ref="zd:101"), rubric=RUBRIC, ticket=TICKET, agent="U0AGENT")
    return dataclasses.replace(view, **changes)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    matches = [b for b in view["blocks"] if b.get("block_id") == block_id]
    assert len(matches) == 1, [b.get("block_id") for b in view["blocks"]]
    return matches[0]


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"]]


def mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


CATEGORY_IDS = [category_block_id(k) for k in KEYS]


# --- score form ---------------------------------------------------------------------------------------


def test_review_form_without_ref_asks_for_ticket_agent_and_every_category() -> None:
    view = qa_modal(make_view(metadata=meta(), ticket=None))
    assert validate_view(view) == []
    assert view["callback_id"] == QaViews.SCORE
    assert view["title"]["text"] == "QA review" and view["submit"]["text"] == "Save review"
    assert QaModalMetadata.decode(view["private_metadata"]) == meta()
    assert block_ids(view) == [
        QaBlocks.MODAL_TICKET,
        QaBlocks.REF,
        QaBlocks.AGENT,
        *CATEGORY_IDS,
        QaBlocks.COMMENT,
        QaBlocks.COACHING,
    ]
    assert "zd:101" in block(view, QaBlocks.MODAL_TICKET)["elements"][0]["text"]
    ref = block(view, QaBlocks.REF)["element"]
    assert ref["action_id"] == QaModalActions.REF and ref["multiline"] is False
    agent = block(view, QaBlocks.AGENT)["element"]
    assert agent["type"] == "users_select" and agent["action_id"] == QaModalActions.AGENT
    assert agent["initial_user"] == "U0AGENT"
    labels = [block(view, b)["label"]["text"] for b in CATEGORY_IDS]
    assert labels == [
        "Correct resolution (×3)",
        "Empathy and tone (×2)",
        "Followed process (×2)",
        "Compliance (KYC/PCI) (×3) (critical)",
    ]
    compliance = block(view, category_block_id("compliance"))
    assert compliance["hint"]["text"] == "Critical: scoring 1 makes the whole review 0"
    assert "hint" not in block(view, category_block_id("accuracy"))
    select = compliance["element"]
    assert select["type"] == "static_select" and select["action_id"] == category_action_id("compliance")
    assert [o["value"] for o in select["options"]] == ["1", "2", "3", "4", "5", "na"]
    assert [o["text"]["text"] for o in select["options"]][-1] == "n/a"
    assert "initial_option" not in select
    comment, coaching = block(view, QaBlocks.COMMENT), block(view, QaBlocks.COACHING)
    assert comment["element"]["multiline"] is True and comment.get("optional") is not True
    assert coaching["optional"] is True and coaching["element"]["action_id"] == QaModalActions.COACHING


def test_form_with_ref_shows_the_ticket_and_last_messages_not_a_ref_input() -> None:
    messages = ("Hi", "  ", "Where is my <refund>?", "Still waiting & angry", "Hello??")
    view = qa_modal(make_view(last_messages=messages))
    assert validate_view(view) == []
    assert QaBlocks.REF not in block_ids(view)
    assert block_ids(view)[:5] == [
        QaBlocks.MODAL_TICKET,
        QaBlocks.MODAL_TICKET_FACTS,
        f"{QaBlocks.MODAL_MESSAGES}_1",
        f"{QaBlocks.MODAL_MESSAGES}_2",
        f"{QaBlocks.MODAL_MESSAGES}_3",
    ]
    assert block(view, QaBlocks.MODAL_TICKET)["text"]["text"] == (
        "*<https://acme.zendesk.com/agent/tickets/101|zd:101>* · Zendesk\nRefund not received"
    )
    facts = " ".join(f["text"] for f in block(view, QaBlocks.MODAL_TICKET_FACTS)["fields"])
    assert "Carla Customer" in facts and "Alice Agent" in facts
    shown = [block(view, f"{QaBlocks.MODAL_MESSAGES}_{n}")["text"]["text"] for n in (1, 2, 3)]
    assert shown == [
        "*Message 2 of 4*\nWhere is my &lt;refund&gt;?",
        "*Message 3 of 4*\nStill waiting &amp; angry",
        "*Message 4 of 4*\nHello??",
    ]
    only = qa_modal(make_view())  # no last_messages: the ticket's last customer message
    assert block(only, f"{QaBlocks.MODAL_MESSAGES}_1")["text"]["text"] == (
        "*Last message*\nWhere is my &lt;money&gt;?"
    )
    fixed = qa_modal(make_view(ticket=None))
    assert block(fixed, QaBlocks.MODAL_TICKET)["elements"][0]["text"] == "*Ticket:* zd:101"


def test_unknown_or_forged_assignee_is_not_prefilled() -> None:
    for agent in (None, "", "alice@example.com", "<!channel>"):
        view = qa_modal(make_view(agent=agent))
        assert validate_view(view) == []
        assert "initial_user" not in block(view, QaBlocks.AGENT)["element"]


def test_calibration_form_is_blind_without_agent_or_coaching() -> None:
    view = qa_modal(make_view(metadata=meta("calibration")))
    assert validate_view(view) == []
    assert view["callback_id"] == QaViews.CALIBRATION_SCORE and view["submit"]["text"] == "Submit blind"
    ids_ = block_ids(view)
    assert QaBlocks.AGENT not in ids_ and QaBlocks.COACHING not in ids_ and QaBlocks.REF not in ids_
    note = block(view, QaBlocks.MODAL_NOTE)["elements"][0]["text"]
    assert "your scores stay hidden until the session closes" in note
    assert block(view, QaBlocks.COMMENT)["optional"] is True
    assert QaModalMetadata.decode(view["private_metadata"]).calibration_id == 5


def test_edit_form_starts_from_the_existing_scorecard() -> None:
    existing = Scorecard(
        agent="U0OTHER",
        ref=REF,
        scores={"accuracy": 4, "empathy": None, "process": 3, "compliance": 5},
        comment="Good <tone>",
        coaching="Offer the callback",
    )
    view = qa_modal(make_view(metadata=meta("edit"), existing=existing))
    assert validate_view(view) == []
    assert view["callback_id"] == QaViews.SCORE and view["title"]["text"] == "Edit QA review"
    assert block(view, QaBlocks.AGENT)["element"]["initial_user"] == "U0OTHER"
    initial = [block(view, b)["element"]["initial_option"]["value"] for b in CATEGORY_IDS]
    assert initial == ["4", "na", "3", "5"]
    assert block(view, QaBlocks.COMMENT)["element"]["initial_value"] == "Good <tone>"
    assert block(view, QaBlocks.COACHING)["element"]["initial_value"] == "Offer the callback"
    with pytest.raises(ValueError, match="existing scorecard"):
        qa_modal(make_view(metadata=meta("edit")))


def test_form_refuses_a_rubric_it_cannot_draw() -> None:
    with pytest.raises(ValueError, match="rubric"):
        qa_modal(make_view(metadata=meta(rubric_version="0" * 12)))
    too_many = Rubric(5, 80, tuple(Category(f"c{n}", "C", 1) for n in range(81)))
    with pytest.raises(ValueError, match="at most 80"):
        qa_modal(make_view(rubric=too_many, metadata=meta(ref="zd:101", rubric_version=too_many.version)))
    huge_scale = Rubric(100, 80, RUBRIC.categories)
    with pytest.raises(ValueError, match="scale"):
        qa_modal(make_view(rubric=huge_scale, metadata=meta(ref="zd:101", rubric_version=huge_scale.version)))


def test_worst_case_form_stays_within_limits() -> None:
    categories = tuple(Category("k" * 200 + str(n), HOSTILE, 99, critical=True) for n in range(80))
    rubric = Rubric(99, 80, categories)
    ticket = dataclasses.replace(
        TICKET,
        subject=HOSTILE,
        requester=HOSTILE,
        priority=HOSTILE,
        assignee=HOSTILE,
        sla_state=HOSTILE,
        last_customer_message=HOSTILE,
        url="https://x/" + "a" * 5000,
    )
    existing = Scorecard("U0AGENT", REF, {c.key: 99 for c in categories}, HOSTILE * 3, HOSTILE * 3)
    for mode in ("review", "edit", "calibration"):
        view = qa_modal(
            QaModalView(
                metadata=meta(mode, rubric_version=rubric.version)
                if mode != "review"
                else meta(rubric_version=rubric.version),
                rubric=rubric,
                ticket=ticket,
                last_messages=(HOSTILE,) * 10,
                existing=existing,
            )
        )
        assert validate_view(view) == []
        assert len(view["blocks"]) <= 100 and len(view["private_metadata"]) <= 3000
        assert "<!channel>" not in " ".join(mrkdwn_texts(view["blocks"]))


def test_loading_and_result_modals() -> None:
    loading = qa_loading_modal("zd:101")
    assert validate_view(loading) == [] and loading["callback_id"] == QaViews.LOADING
    assert "*zd:101*" in loading["blocks"][0]["text"]["text"]
    assert "Preparing" in qa_loading_modal(" ")["blocks"][0]["text"]["text"]
    hostile = qa_loading_modal(HOSTILE)
    assert validate_view(hostile) == [] and "<!channel>" not in json.dumps(hostile)
    result = qa_result_modal("Ticket not found in Zendesk", "zd:999 <does not> exist")
    assert validate_view(result) == [] and result["callback_id"] == QaViews.RESULT
    assert result["title"]["text"] == "Ticket not found in Zen…"
    assert result["blocks"][0]["text"]["text"] == "zd:999 &lt;does not&gt; exist"
    assert validate_view(qa_result_modal(HOSTILE, HOSTILE * 3)) == []


# --- submission ---------------------------------------------------------------------------------------


def state(**overrides: Any) -> dict[str, Any]:
    """A submitted score form; `accuracy="6"` sets a category's chosen value, `agent=None` drops a block."""
    values: dict[str, Any] = {
        QaBlocks.REF: {QaModalActions.REF: {"type": "plain_text_input", "value": " zd:101 "}},
        QaBlocks.AGENT: {QaModalActions.AGENT: {"type": "users_select", "selected_user": "U0AGENT"}},
        QaBlocks.COMMENT: {QaModalActions.COMMENT: {"type": "plain_text_input", "value": " Good <tone>\n "}},
        QaBlocks.COACHING: {QaModalActions.COACHING: {"type": "plain_text_input", "value": None}},
    }
    chosen = {"accuracy": "4", "empathy": "5", "process": "na", "compliance": "5"}
    for key, value in chosen.items():
        values[category_block_id(key)] = {
            category_action_id(key): {"type": "static_select", "selected_option": {"value": value}}
        }
    for name, value in overrides.items():
        if name in KEYS:
            block_id, action_id = category_block_id(name), category_action_id(name)
            state_value = {
                "type": "static_select",
                "selected_option": None if value is None else {"value": value},
            }
        else:
            block_id = getattr(QaBlocks, name.upper())
            action_id = getattr(QaModalActions, name.upper())
            key = "selected_user" if name == "agent" else "value"
            state_value = {key: value}
        if value is None and name not in KEYS:
            values.pop(block_id, None)
        else:
            values[block_id] = {action_id: state_value}
    return values


def parse(values: dict[str, Any], *, ref: TicketRef | None = None, mode: str = "review") -> Any:
    return parse_qa_submission(values, rubric=RUBRIC, ref=ref, mode=mode)  # type: ignore[arg-type]


def test_parse_happy_path() -> None:
    card = parse(state())
    assert card == Scorecard(
        agent="U0AGENT",
        ref=REF,
        scores={"accuracy": 4, "empathy": 5, "process": None, "compliance": 5},
        comment="Good <tone>",
        coaching="",
    )
    linked = parse(state(ref="<https://acme.zendesk.com/agent/tickets/101|zd:101>", coaching="Slow down"))
    assert linked.ref == REF and linked.coaching == "Slow down"
    fixed = parse(state(ref=None), ref=TicketRef(Source.INTERCOM, "9001"))
    assert fixed.ref == TicketRef(Source.INTERCOM, "9001")


@pytest.mark.parametrize(
    ("overrides", "block_id", "message"),
    [
        ({"ref": None}, QaBlocks.REF, "Paste the ticket link"),
        ({"ref": "  "}, QaBlocks.REF, "Paste the ticket link"),
        ({"ref": "jira:12"}, QaBlocks.REF, "unknown helpdesk prefix"),
        ({"agent": None}, QaBlocks.AGENT, "Choose the agent"),
        ({"agent": "<!channel>"}, QaBlocks.AGENT, "Choose the agent"),
        ({"accuracy": None}, category_block_id("accuracy"), "Choose a score from 1 to 5, or n/a"),
        ({"empathy": "6"}, category_block_id("empathy"), "Choose a score from 1 to 5, or n/a"),
        ({"process": "0"}, category_block_id("process"), "Choose a score from 1 to 5, or n/a"),
        ({"compliance": "²"}, category_block_id("compliance"), "Choose a score from 1 to 5, or n/a"),
        (
            {"accuracy": "na", "empathy": "na", "compliance": "na"},
            category_block_id("accuracy"),
            "Rate at least one category",
        ),
        ({"comment": None}, QaBlocks.COMMENT, "Required"),
        ({"comment": " \n "}, QaBlocks.COMMENT, "Required"),
        ({"comment": "x" * 2001}, QaBlocks.COMMENT, "under 2000 characters (this is 2001)"),
        ({"coaching": "x" * 2001}, QaBlocks.COACHING, "under 2000 characters"),
    ],
)
def test_parse_inline_errors(overrides: dict[str, Any], block_id: str, message: str) -> None:
    errors = parse(state(**overrides))
    assert isinstance(errors, dict) and list(errors) == [block_id]
    assert message in errors[block_id] and len(errors[block_id]) <= 150


def test_parse_reports_every_error_at_once() -> None:
    errors = parse({"junk": "x"})
    assert set(errors) == {QaBlocks.REF, QaBlocks.AGENT, *CATEGORY_IDS, QaBlocks.COMMENT}
    assert parse("not a mapping") == errors  # type: ignore[arg-type]


def test_parse_calibration_needs_no_agent_or_comment() -> None:
    values = state(agent=None, comment=None, coaching="ignored")
    card = parse(values, ref=REF, mode="calibration")
    assert card.agent == "" and card.comment == "" and card.coaching == ""
    with_agent = parse_qa_submission(values, rubric=RUBRIC, ref=REF, mode="calibration", agent="U0AGENT")
    assert isinstance(with_agent, Scorecard) and with_agent.agent == "U0AGENT"
    edit = parse(state(), ref=REF, mode="edit")
    assert isinstance(edit, Scorecard) and edit.ref == REF


# --- dispute modals -----------------------------------------------------------------------------------


def test_dispute_reason_modal_and_parse() -> None:
    view = dispute_reason_modal(
        DisputeReasonModalView(review_id=7, ref=REF, reviewer="U0REVIEWER", result=ScoreResult(62.0, False))
    )
    assert validate_view(view) == []
    assert view["callback_id"] == QaViews.DISPUTE_REASON
    assert QaButtonValue.decode(view["private_metadata"]) == QaButtonValue(review_id=7)
    assert (
        "<@U0REVIEWER>'s review of *zd:101* (62% FAIL)"
        in block(view, QaBlocks.MODAL_DISPUTE)["elements"][0]["text"]
    )
    reason = block(view, QaBlocks.DISPUTE_REASON)
    assert (
        reason["element"]["action_id"] == QaModalActions.DISPUTE_REASON and reason.get("optional") is not True
    )

    def values(text: str | None) -> dict[str, Any]:
        return {QaBlocks.DISPUTE_REASON: {QaModalActions.DISPUTE_REASON: {"value": text}}}

    assert parse_dispute_reason(values("  I followed the <macro>\n")) == "I followed the <macro>"
    assert list(parse_dispute_reason(values(None))) == [QaBlocks.DISPUTE_REASON]
    assert "Required" in parse_dispute_reason(values(" "))[QaBlocks.DISPUTE_REASON]  # type: ignore[index]
    assert "under 2000" in parse_dispute_reason(values("x" * 2001))[QaBlocks.DISPUTE_REASON]  # type: ignore[index]


def decision_view(outcome: str, **changes: Any) -> DisputeDecisionModalView:
    view = DisputeDecisionModalView(
        dispute_id=3,
        outcome=outcome,  # type: ignore[arg-type]
        agent="U0AGENT",
        ref=REF,
        reason="I followed the <macro>",
        rubric=RUBRIC,
        scores={"accuracy": 2, "empathy": None, "process": 3, "compliance": 5},
        result=ScoreResult(62.0, False),
    )
    return dataclasses.replace(view, **changes)


def test_reject_modal_needs_a_note() -> None:
    view = dispute_decision_modal(decision_view("reject"))
    assert validate_view(view) == []
    assert view["callback_id"] == QaViews.DISPUTE_DECISION and view["submit"]["text"] == "Reject"
    assert QaDecisionMetadata.decode(view["private_metadata"]) == QaDecisionMetadata(
        dispute_id=3, outcome="reject"
    )
    assert block_ids(view) == [QaBlocks.MODAL_DISPUTE, QaBlocks.RESCORE]
    intro = block(view, QaBlocks.MODAL_DISPUTE)["text"]["text"]
    assert intro == "<@U0AGENT> disputes your review of *zd:101* (62% FAIL):\nI followed the &lt;macro&gt;"
    assert block(view, QaBlocks.RESCORE).get("optional") is not True

    def values(text: str | None) -> dict[str, Any]:
        return {QaBlocks.RESCORE: {QaModalActions.RESCORE: {"value": text}}}

    assert parse_dispute_decision(values(" Macro was outdated "), outcome="reject", rubric=RUBRIC) == (
        DisputeDecision(note="Macro was outdated")
    )
    errors = parse_dispute_decision(values(""), outcome="reject", rubric=RUBRIC)
    assert isinstance(errors, dict) and "Required" in errors[QaBlocks.RESCORE]


def test_rescore_modal_preselects_scores_and_parses_new_ones() -> None:
    view = dispute_decision_modal(decision_view("rescore"))
    assert validate_view(view) == []
    assert view["title"]["text"] == "Rescore review"
    assert block_ids(view) == [QaBlocks.MODAL_DISPUTE, *CATEGORY_IDS, QaBlocks.RESCORE]
    initial = [block(view, b)["element"]["initial_option"]["value"] for b in CATEGORY_IDS]
    assert initial == ["2", "na", "3", "5"]
    assert block(view, QaBlocks.RESCORE)["optional"] is True
    values = state(accuracy="5")
    decision = parse_dispute_decision(values, outcome="rescore", rubric=RUBRIC)
    assert decision == DisputeDecision(
        note="", scores={"accuracy": 5, "empathy": 5, "process": None, "compliance": 5}
    )
    errors = parse_dispute_decision(state(empathy="9"), outcome="rescore", rubric=RUBRIC)
    assert list(errors) == [category_block_id("empathy")]  # type: ignore[arg-type]


def test_worst_case_dispute_modals() -> None:
    categories = tuple(Category("k" * 200 + str(n), HOSTILE, 99, critical=True) for n in range(80))
    rubric = Rubric(99, 80, categories)
    for outcome in ("reject", "rescore"):
        view = dispute_decision_modal(
            decision_view(outcome, agent="<!channel>", reason=HOSTILE, rubric=rubric, scores={})
        )
        assert validate_view(view) == [] and len(view["blocks"]) <= 100
        assert "<!channel>" not in " ".join(mrkdwn_texts(view["blocks"]))
    reason = dispute_reason_modal(
        DisputeReasonModalView(
            review_id=2**62, ref=REF, reviewer="<!channel>", result=ScoreResult(0.0, False)
        )
    )
    assert validate_view(reason) == [] and "<!channel>" not in " ".join(mrkdwn_texts(reason["blocks"]))


# --- payloads and ids ---------------------------------------------------------------------------------


def test_modal_metadata_round_trips() -> None:
    for mode in ("review", "calibration", "edit"):
        value = meta(mode)
        assert QaModalMetadata.decode(value.encode()) == value
        assert len(value.encode()) <= 3000


@pytest.mark.parametrize(
    "value",
    [
        "",
        "{}",
        '{"v":2,"mode":"review","channel_id":"C0TEAM","rubric_version":"0123456789ab"}',
        '{"v":1,"mode":"grade","channel_id":"C0TEAM","rubric_version":"0123456789ab"}',
        '{"v":1,"mode":"review","channel_id":"C0TEAM","rubric_version":"v1"}',
        '{"v":1,"mode":"review","channel_id":"nope","rubric_version":"0123456789ab"}',
        '{"v":1,"mode":"review","channel_id":"C0TEAM","rubric_version":"0123456789ab","ref":"zd:x"}',
        '{"v":1,"mode":"review","channel_id":"C0TEAM","rubric_version":"0123456789ab","subject":"Refund"}',
        '{"v":1,"mode":"review","channel_id":"C0TEAM","rubric_version":"0123456789ab","review_id":7}',
        '{"v":1,"mode":"review","channel_id":"C0TEAM","rubric_version":"0123456789ab","calibration_id":5}',
        '{"v":1,"mode":"edit","channel_id":"C0TEAM","rubric_version":"0123456789ab","ref":"zd:1"}',
        '{"v":1,"mode":"calibration","channel_id":"C0TEAM","rubric_version":"0123456789ab","calibration_id":5}',
        '{"v":1,"mode":"calibration","channel_id":"C0TEAM","rubric_version":"0123456789ab","ref":"zd:1",'
        '"calibration_id":"5"}',
        "x" * 3001,
    ],
)
def test_modal_metadata_rejects_forgeries(value: str) -> None:
    with pytest.raises(InvalidButtonValue):
        QaModalMetadata.decode(value)


def test_button_value_round_trips_and_needs_an_id() -> None:
    for value in (
        QaButtonValue(review_id=7),
        QaButtonValue(dispute_id=3, review_id=7),
        QaButtonValue(calibration_id=5, ref="zd:101"),
        QaButtonValue(ref="ic:9001"),
    ):
        assert QaButtonValue.decode(value.encode()) == value
    for bad in (
        '{"v":1}',
        '{"v":1,"review_id":0}',
        '{"v":1,"ref":"zd:1","agent":"U1"}',
        '{"v":1,"ref":"101"}',
    ):
        with pytest.raises(InvalidButtonValue):
            QaButtonValue.decode(bad)


def test_decision_metadata_round_trips() -> None:
    value = QaDecisionMetadata(dispute_id=3, outcome="rescore")
    assert QaDecisionMetadata.decode(value.encode()) == value
    for bad in ('{"v":1,"dispute_id":3,"outcome":"accept"}', '{"v":1,"outcome":"reject"}'):
        with pytest.raises(InvalidButtonValue):
            QaDecisionMetadata.decode(bad)


def test_qa_ids_unique_across_all_enums_and_within_slack_limit() -> None:
    enums = [v for v in vars(ids).values() if isinstance(v, type) and issubclass(v, ids.DeskwatchEnum)]
    values = [str(m) for enum in enums if enum is not ids.DeskwatchEnum for m in enum]
    assert len(values) == len(set(values))
    assert all(0 < len(v) <= 255 for v in values)
    assert category_block_id("accuracy") == "qa_cat_accuracy"
    assert category_action_id("accuracy") == "qa_cat_select_accuracy"
    assert QaActions.SCORE == "qa_score" and QaViews.SCORE == "qa_score_modal"
