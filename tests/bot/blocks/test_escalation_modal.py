from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bot.blocks.escalation import TicketSummary, Urgency
from bot.blocks.escalation_modal import (
    TITLE,
    EscalationModalView,
    EscalationRequest,
    TierChoice,
    escalation_modal,
    loading_modal,
    parse_submission,
)
from bot.blocks.ids import EscalationBlocks, EscalationModalActions, EscalationViews
from bot.blocks.metadata import EscalationModalMetadata, InvalidButtonValue
from bot.domain.model import Source, TicketRef
from integrations.emulators.blockkit import validate_view

REF = TicketRef(Source.ZENDESK, "101")
META = EscalationModalMetadata(ref="zd:101", channel_id="C0TEAM", origin_ts="1732366800.000100")
TICKET = TicketSummary(
    ref=REF,
    url="https://acme.zendesk.com/agent/tickets/101",
    subject="Refund not received",
    requester="Carla Customer",
    priority="high",
    assignee="Alice Agent",
    sla_state="first reply due in 25m",
    last_customer_message="Where is my <money>?",
)
HOSTILE = "<!channel> & <@U999> 🎉 Ünïcødé\n" * 200


def make_view(**changes: Any) -> EscalationModalView:
    view = EscalationModalView(
        metadata=META,
        tiers=(TierChoice(1, "T2"), TierChoice(2, "Compliance")),
        default_tier=1,
        reasons=("billing_dispute", "bug", "legal-hold"),
        ticket=TICKET,
    )
    return dataclasses.replace(view, **changes)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    matches = [b for b in view["blocks"] if b.get("block_id") == block_id]
    assert len(matches) == 1, [b.get("block_id") for b in view["blocks"]]
    return matches[0]


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"]]


def test_loading_modal_validates_and_escapes_ref() -> None:
    view = loading_modal("zd:101")
    assert validate_view(view) == []
    assert view["callback_id"] == EscalationViews.LOADING and "submit" not in view
    assert "*zd:101*" in block(view, EscalationBlocks.MODAL_LOADING)["text"]["text"]
    hostile = loading_modal(HOSTILE)
    assert validate_view(hostile) == []
    assert "<!channel>" not in json.dumps(hostile)
    assert "Preparing" in loading_modal("  ")["blocks"][0]["text"]["text"]


def test_form_shows_ticket_and_inputs() -> None:
    view = escalation_modal(make_view())
    assert validate_view(view) == []
    assert len(TITLE) <= 24 and view["title"]["text"] == TITLE
    assert view["callback_id"] == EscalationViews.FORM
    assert EscalationModalMetadata.decode(view["private_metadata"]) == META
    assert block_ids(view) == [
        EscalationBlocks.MODAL_TICKET,
        EscalationBlocks.MODAL_TICKET_FACTS,
        EscalationBlocks.MODAL_LAST_MESSAGE,
        EscalationBlocks.MODAL_TIER,
        EscalationBlocks.MODAL_REASON,
        EscalationBlocks.MODAL_NEEDS,
        EscalationBlocks.MODAL_TRIED,
        EscalationBlocks.MODAL_URGENCY,
    ]
    facts = " ".join(f["text"] for f in block(view, EscalationBlocks.MODAL_TICKET_FACTS)["fields"])
    for expected in ("Carla Customer", "High", "Alice Agent", "first reply due in 25m"):
        assert expected in facts
    last = block(view, EscalationBlocks.MODAL_LAST_MESSAGE)["text"]["text"]
    assert last.endswith("Where is my &lt;money&gt;?")
    tier = block(view, EscalationBlocks.MODAL_TIER)["element"]
    assert tier["action_id"] == EscalationModalActions.TIER
    assert [o["value"] for o in tier["options"]] == ["1", "2"]
    assert tier["initial_option"]["value"] == "1"
    reasons = block(view, EscalationBlocks.MODAL_REASON)["element"]["options"]
    assert [o["text"]["text"] for o in reasons] == ["Billing dispute", "Bug", "Legal hold"]
    assert [o["value"] for o in reasons] == ["billing_dispute", "bug", "legal-hold"]
    needs = block(view, EscalationBlocks.MODAL_NEEDS)
    assert needs["label"]["text"] == "What does the customer need?"
    assert needs["element"]["multiline"] is True and needs["element"]["max_length"] == 3000
    urgency = block(view, EscalationBlocks.MODAL_URGENCY)["element"]
    assert [o["value"] for o in urgency["options"]] == ["low", "normal", "high", "urgent"]
    assert urgency["initial_option"]["value"] == "normal"


def test_default_tier_is_the_next_one() -> None:
    view = escalation_modal(make_view(default_tier=2))
    assert block(view, EscalationBlocks.MODAL_TIER)["element"]["initial_option"]["value"] == "2"
    with pytest.raises(ValueError, match="default tier"):
        escalation_modal(make_view(default_tier=5))
    with pytest.raises(ValueError, match="reason"):
        escalation_modal(make_view(reasons=()))


def test_form_without_ref_asks_for_it() -> None:
    view = escalation_modal(make_view(ticket=None, metadata=EscalationModalMetadata(channel_id="C0TEAM")))
    assert validate_view(view) == []
    assert block_ids(view)[:2] == [EscalationBlocks.MODAL_NO_TICKET, EscalationBlocks.MODAL_REF]
    assert block(view, EscalationBlocks.MODAL_REF)["element"]["multiline"] is False


def test_worst_case_form_stays_within_limits() -> None:
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
    tiers = tuple(TierChoice(n, f"{HOSTILE[:100]}{n}") for n in range(1, 150))
    reasons = tuple(f"r{n}-" + "x" * 58 for n in range(150))
    view = escalation_modal(make_view(ticket=ticket, tiers=tiers, reasons=reasons))
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100 and len(view["private_metadata"]) <= 3000
    for b in view["blocks"]:
        if b["type"] == "section":
            assert "<!channel>" not in json.dumps(b)


def test_metadata_round_trips_and_rejects_forgeries() -> None:
    assert EscalationModalMetadata.decode(META.encode()) == META
    for bad in (
        "",
        "{}",
        '{"v":2,"channel_id":"C0TEAM"}',
        '{"v":1,"channel_id":"C0TEAM","subject":"Refund"}',
        '{"v":1,"channel_id":"not a channel"}',
        '{"v":1,"channel_id":"C0TEAM","ref":"zd:abc"}',
        '{"v":1,"channel_id":"C0TEAM","origin_ts":"now"}',
        "x" * 3001,
    ):
        with pytest.raises(InvalidButtonValue):
            EscalationModalMetadata.decode(bad)


def state(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        EscalationBlocks.MODAL_TIER: {
            EscalationModalActions.TIER: {"type": "static_select", "selected_option": {"value": "2"}}
        },
        EscalationBlocks.MODAL_REASON: {
            EscalationModalActions.REASON: {"type": "static_select", "selected_option": {"value": "bug"}}
        },
        EscalationBlocks.MODAL_NEEDS: {
            EscalationModalActions.NEEDS: {"type": "plain_text_input", "value": "  A <refund>\nsoon "}
        },
        EscalationBlocks.MODAL_TRIED: {
            EscalationModalActions.TRIED: {"type": "plain_text_input", "value": "Checked Stripe"}
        },
        EscalationBlocks.MODAL_URGENCY: {
            EscalationModalActions.URGENCY: {"type": "static_select", "selected_option": {"value": "urgent"}}
        },
    }
    for block_id, value in overrides.items():
        key = getattr(EscalationBlocks, block_id)
        action = getattr(EscalationModalActions, block_id.removeprefix("MODAL_"))
        if value is None:
            values.pop(key, None)
        else:
            values[key] = {action: value}
    return values


def parse(values: dict[str, Any], ref: TicketRef | None = REF) -> EscalationRequest | dict[str, str]:
    return parse_submission(values, ref=ref, tiers=(1, 2), reasons=("billing_dispute", "bug"))


def test_parse_submission_happy_path() -> None:
    request = parse(state())
    assert request == EscalationRequest(
        ref=REF,
        tier=2,
        reason="bug",
        needs="A <refund>\nsoon",
        tried="Checked Stripe",
        urgency=Urgency.URGENT,
    )
    assert isinstance(request, EscalationRequest)
    assert request.note == "What the customer needs:\nA <refund>\nsoon\n\nWhat was tried:\nChecked Stripe"


def test_parse_submission_reads_typed_ref() -> None:
    typed = {"type": "plain_text_input", "value": " <https://acme.zendesk.com/agent/tickets/77> "}
    request = parse(state(MODAL_REF=typed), ref=None)
    assert isinstance(request, EscalationRequest) and request.ref == TicketRef(Source.ZENDESK, "77")


@pytest.mark.parametrize(
    ("overrides", "ref", "block_id", "message"),
    [
        ({}, None, EscalationBlocks.MODAL_REF, "Paste the ticket link"),
        ({"MODAL_REF": {"value": "jira:12"}}, None, EscalationBlocks.MODAL_REF, "unknown helpdesk prefix"),
        ({"MODAL_TIER": {"selected_option": {"value": "7"}}}, REF, EscalationBlocks.MODAL_TIER, "tiers"),
        ({"MODAL_TIER": {"selected_option": {"value": "x"}}}, REF, EscalationBlocks.MODAL_TIER, "tiers"),
        ({"MODAL_TIER": None}, REF, EscalationBlocks.MODAL_TIER, "tiers"),
        (
            {"MODAL_REASON": {"selected_option": {"value": "legal-hold"}}},
            REF,
            EscalationBlocks.MODAL_REASON,
            "reasons",
        ),
        ({"MODAL_NEEDS": {"value": None}}, REF, EscalationBlocks.MODAL_NEEDS, "Required"),
        ({"MODAL_TRIED": {"value": "   "}}, REF, EscalationBlocks.MODAL_TRIED, "Required"),
        ({"MODAL_NEEDS": {"value": "x" * 3001}}, REF, EscalationBlocks.MODAL_NEEDS, "under 3000"),
        (
            {"MODAL_URGENCY": {"selected_option": {"value": "panic"}}},
            REF,
            EscalationBlocks.MODAL_URGENCY,
            "urgent",
        ),
    ],
)
def test_parse_submission_inline_errors(
    overrides: dict[str, Any], ref: TicketRef | None, block_id: str, message: str
) -> None:
    errors = parse(state(**overrides), ref=ref)
    assert isinstance(errors, dict)
    assert list(errors) == [block_id]
    assert message in errors[block_id]


def test_parse_submission_reports_every_problem_at_once() -> None:
    errors = parse({"junk": "not a dict"}, ref=None)
    assert isinstance(errors, dict)
    assert set(errors) == {
        EscalationBlocks.MODAL_REF,
        EscalationBlocks.MODAL_TIER,
        EscalationBlocks.MODAL_REASON,
        EscalationBlocks.MODAL_NEEDS,
        EscalationBlocks.MODAL_TRIED,
        EscalationBlocks.MODAL_URGENCY,
    }
