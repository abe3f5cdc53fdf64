from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.escalation import (
    MESSAGE_TEXT_BUDGET,
    HandoffView,
    ThreadStep,
    TicketSummary,
    Urgency,
    escalation_id_from_block_id,
    mention,
    reason_label,
    render_handoff,
    render_thread_step,
)
from bot.blocks.ids import EscalationActions, EscalationBlocks
from bot.blocks.metadata import EscalationButtonValue, InvalidButtonValue
from bot.domain.escalation_types import Status
from bot.domain.model import Source, TicketRef
from integrations.emulators.blockkit import validate_blocks

NOW = datetime(2026, 11, 23, 13, 10, tzinfo=UTC)  # Monday 14:10 in Berlin
OPENED = NOW - timedelta(minutes=10)
BERLIN = ZoneInfo("Europe/Berlin")
TICKET = TicketSummary(
    ref=TicketRef(Source.ZENDESK, "101"),
    url="https://acme.zendesk.com/agent/tickets/101",
    subject="Refund not received",
    requester="Carla Customer",
    priority="urgent",
    assignee="Alice Agent",
    sla_state="first reply breached 12m ago",
)
HOSTILE = "<!channel> & <@U999> *bold* 🎉 Ünïcødé\n" * 200  # escapes to far more than 3000 chars
_MARKUP = re.compile(r"<https?://[^\s<>|]+\|[^<>]*>|<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>")
_ENTITY = re.compile(r"&(amp|lt|gt);")


def make_view(**changes: Any) -> HandoffView:
    view = HandoffView(
        escalation_id=42,
        ticket=TICKET,
        tier_name="T2",
        reason="billing_dispute",
        urgency=Urgency.HIGH,
        needs="A refund of the double charge",
        tried="Checked Stripe: two charges",
        escalated_by="UESC1",
        responders=("URESP2", "S0ABC"),
        status=Status.OPEN,
        opened_at=OPENED,
        tz=BERLIN,
        ack_deadline=OPENED + timedelta(minutes=15),
        due_at=OPENED + timedelta(hours=4),
    )
    return dataclasses.replace(view, **changes)


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e["text"] for e in b.get("elements", []) if e["type"] == "mrkdwn"]
    return out


def assert_valid(message: Any) -> None:
    assert validate_blocks(message.blocks, surface="message") == []
    assert message.text.strip() and len(message.text) <= 300
    for text in [message.text, *texts(message.blocks)]:
        rest = _ENTITY.sub("", _MARKUP.sub("", text))
        assert "<" not in rest and ">" not in rest and "&" not in rest, text[:200]
    assert sum(len(t) for t in texts(message.blocks)) <= MESSAGE_TEXT_BUDGET


def block(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    matches = [b for b in blocks if b.get("block_id") == block_id]
    assert len(matches) == 1, [b.get("block_id") for b in blocks]
    return matches[0]


def actions(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = [b for b in blocks if b["type"] == "actions"]
    if not found:
        return {}
    assert found[0]["block_id"] == f"{EscalationBlocks.ACTIONS}_42"
    return {e["action_id"]: e for e in found[0]["elements"]}


def test_open_handoff_has_header_facts_words_and_all_buttons() -> None:
    message = render_handoff(make_view(), now=NOW)
    assert_valid(message)
    assert block(message.blocks, EscalationBlocks.HEADER)["text"]["text"] == "🆘 Escalated to T2 · zd:101"
    facts = "\n".join(texts([block(message.blocks, EscalationBlocks.FACTS)]))
    for expected in (
        "Carla Customer",
        "Urgent",
        "Alice Agent",
        "breached 12m ago",
        "Billing dispute",
        "High",
    ):
        assert expected in facts
    assert "14:15 CET" in facts and "in 5m" in facts  # accept-by deadline
    assert "<@UESC1> at 14:00 CET" in facts
    responders = block(message.blocks, EscalationBlocks.RESPONDERS)["text"]["text"]
    assert "<@URESP2>" in responders and "<!subteam^S0ABC>" in responders
    buttons = actions(message.blocks)
    assert list(buttons) == [
        EscalationActions.ACCEPT,
        EscalationActions.REASSIGN,
        EscalationActions.NEED_INFO,
        EscalationActions.ESCALATE_FURTHER,
    ]
    assert buttons[EscalationActions.REASSIGN]["type"] == "users_select"
    value = buttons[EscalationActions.ACCEPT]["value"]
    assert EscalationButtonValue.decode(value) == EscalationButtonValue(escalation_id=42)
    assert message.text.startswith("Escalated to T2: zd:101 - Refund not received")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"status": Status.WAITING_INFO, "question": "Which card?"},
            ["INFO_ADDED", "ACCEPT", "REASSIGN", "ESCALATE_FURTHER"],
        ),
        (
            {"status": Status.WAITING_INFO, "question": "Which card?", "owner": "URESP2", "accepted_at": NOW},
            ["INFO_ADDED", "REASSIGN", "ESCALATE_FURTHER"],
        ),
        (
            {"status": Status.ACCEPTED, "owner": "URESP2", "accepted_at": NOW},
            ["REASSIGN", "NEED_INFO", "ESCALATE_FURTHER"],
        ),
        ({"status": Status.ESCALATED, "escalated_to": "Compliance"}, []),
        ({"status": Status.RESOLVED, "resolved_at": NOW}, []),
    ],
)
def test_buttons_per_state(changes: dict[str, Any], expected: list[str]) -> None:
    message = render_handoff(make_view(**changes), now=NOW)
    assert_valid(message)
    assert list(actions(message.blocks)) == [EscalationActions[name] for name in expected]


def test_accepted_status_line_names_owner_and_time() -> None:
    view = make_view(status=Status.ACCEPTED, owner="URESP2", accepted_at=OPENED + timedelta(minutes=7))
    status = block(render_handoff(view, now=NOW).blocks, EscalationBlocks.STATUS)["elements"][0]["text"]
    assert status == "✅ Accepted by <@URESP2> · accepted at 14:07 CET (after 7m)"
    reassigned = render_handoff(dataclasses.replace(view, owner="URESP3", reassigned=True), now=NOW)
    assert (
        "Reassigned to <@URESP3>" in block(reassigned.blocks, EscalationBlocks.STATUS)["elements"][0]["text"]
    )


def test_waiting_for_info_shows_question_and_escalator() -> None:
    view = make_view(status=Status.WAITING_INFO, question="Which <card>?", owner="URESP2", accepted_at=NOW)
    message = render_handoff(view, now=NOW)
    question = block(message.blocks, EscalationBlocks.QUESTION)["text"]["text"]
    assert question == "*❓ <@URESP2> needs info*\nWhich &lt;card&gt;?"
    status = block(message.blocks, EscalationBlocks.STATUS)["elements"][0]["text"]
    assert status.startswith("❓ Waiting for info from <@UESC1>")


def test_resolved_shows_times_to_accept_and_resolve() -> None:
    view = make_view(
        status=Status.RESOLVED,
        owner="URESP2",
        accepted_at=OPENED + timedelta(minutes=12),
        resolved_at=OPENED + timedelta(hours=3, minutes=10),
    )
    message = render_handoff(view, now=OPENED + timedelta(hours=3, minutes=10))
    assert_valid(message)
    status = block(message.blocks, EscalationBlocks.STATUS)["elements"][0]["text"]
    assert "Resolved upstream at 17:10 CET" in status
    assert "time to accept 12m, time to resolve 3h 10m" in status
    facts = "\n".join(texts([block(message.blocks, EscalationBlocks.FACTS)]))
    assert "Accept by" not in facts and "*Due*" not in facts
    never = render_handoff(make_view(status=Status.RESOLVED, resolved_at=NOW), now=NOW)
    assert "never accepted, time to resolve 10m" in texts(never.blocks)[-1]


def test_escalators_words_appear_verbatim_escaped() -> None:
    needs = "Refund <b>now</b> & apologise\n  - line two\n*keep*"
    message = render_handoff(make_view(needs=needs, tried="Tried A\nTried B", note="From T1: ok"), now=NOW)
    assert block(message.blocks, EscalationBlocks.NEEDS)["text"]["text"] == (
        "*What the customer needs*\nRefund &lt;b&gt;now&lt;/b&gt; &amp; apologise\n  - line two\n*keep*"
    )
    assert block(message.blocks, EscalationBlocks.TRIED)["text"]["text"].endswith("\nTried A\nTried B")
    assert block(message.blocks, EscalationBlocks.NOTE)["text"]["text"] == "*Note*\nFrom T1: ok"


def test_worst_case_input_stays_within_limits() -> None:
    responders = tuple(f"U{n:09d}" for n in range(20)) + tuple(f"S{n:09d}" for n in range(10))
    hostile_ticket = dataclasses.replace(
        TICKET,
        subject=HOSTILE,
        requester=HOSTILE,
        priority=HOSTILE,
        assignee=HOSTILE,
        sla_state=HOSTILE,
        url="https://x/" + "a" * 3000,
    )
    for status in Status:
        view = make_view(
            ticket=hostile_ticket,
            tier_name="T" * 40,
            reason="x" * 63,
            needs=HOSTILE[:3000],
            tried=HOSTILE[:3000],
            note=HOSTILE,
            question=HOSTILE,
            responders=responders,
            escalated_by="<!channel>",
            owner="URESP2",
            status=status,
            accepted_at=NOW,
            resolved_at=NOW,
            escalated_to=HOSTILE,
        )
        message = render_handoff(view, now=NOW)
        assert_valid(message)
        all_text = "\n".join(texts(message.blocks))
        assert "<!channel>" not in all_text and "&lt;!channel&gt;" in all_text
    mentions = block(message.blocks, EscalationBlocks.RESPONDERS)["text"]["text"]
    assert all(mention(r) in mentions for r in responders)


def test_many_responders_are_cut_with_a_count() -> None:
    responders = tuple(f"U{n:09d}" for n in range(200))
    message = render_handoff(make_view(responders=responders), now=NOW)
    assert_valid(message)
    text = block(message.blocks, EscalationBlocks.RESPONDERS)["text"]["text"]
    assert re.search(r"and \d+ more$", text) and len(text) <= 1500


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="opened_at"):
        render_handoff(make_view(opened_at=datetime(2026, 1, 1)), now=NOW)


def test_helpers() -> None:
    assert reason_label("billing_dispute") == "Billing dispute"
    assert reason_label("legal-hold") == "Legal hold"
    assert mention("S123") == "<!subteam^S123>" and mention("U123") == "<@U123>"
    assert mention("<!here>") == "&lt;!here&gt;"
    assert escalation_id_from_block_id(f"{EscalationBlocks.ACTIONS}_42") == 42
    for bad in ("esc_actions_0", "esc_actions_x", "esc_actions", "sla_alert_actions_1", None):
        with pytest.raises(InvalidButtonValue):
            escalation_id_from_block_id(bad)  # type: ignore[arg-type]


AT = OPENED + timedelta(minutes=7)


@pytest.mark.parametrize(
    ("kind", "kwargs", "expected"),
    [
        (ThreadStep.ACCEPTED, {"actor": "UESC1"}, "✅ <@UESC1> accepted at 14:07 CET"),
        (
            ThreadStep.REASSIGNED,
            {"actor": "UESC1", "mentions": ("URESP2",)},
            "🔁 <@UESC1> reassigned this to <@URESP2> at 14:07 CET",
        ),
        (
            ThreadStep.INFO_REQUESTED,
            {"actor": "URESP2", "detail": "Which card?", "mentions": ("UESC1",)},
            "❓ <@URESP2> is waiting for info: Which card?\n<@UESC1>",
        ),
        (ThreadStep.INFO_ADDED, {"actor": "UESC1", "detail": "Visa"}, "📎 <@UESC1> added info: Visa"),
        (ThreadStep.REPINGED, {"mentions": ("URESP2", "S9AB")}, "🔔 re-pinged <@URESP2> <!subteam^S9AB>"),
        (
            ThreadStep.AUTO_ESCALATED,
            {"tier_name": "Compliance", "detail": "nobody accepted within 15m (2 re-pings)"},
            "⏫ auto-escalated to Compliance: nobody accepted within 15m (2 re-pings)",
        ),
        (
            ThreadStep.ESCALATED,
            {"actor": "URESP2", "tier_name": "T3", "detail": "legal"},
            "⏫ <@URESP2> escalated to T3: legal",
        ),
        (ThreadStep.WRITTEN_BACK, {"detail": "Zendesk"}, "📝 written back to Zendesk"),
        (ThreadStep.WRITE_BACK_FAILED, {"detail": "HTTP 503"}, "⚠️ write-back failed: HTTP 503 (retrying)"),
        (
            ThreadStep.RESOLVED,
            {"time_to_accept": timedelta(minutes=12), "time_to_resolve": timedelta(hours=3, minutes=10)},
            "✅ resolved upstream: time to accept 12m, time to resolve 3h 10m",
        ),
        (
            ThreadStep.RESOLVED,
            {"time_to_resolve": timedelta(hours=1)},
            "✅ resolved upstream: never accepted, time to resolve 1h",
        ),
    ],
)
def test_thread_steps(kind: ThreadStep, kwargs: dict[str, Any], expected: str) -> None:
    args = {"actor": None, "detail": None, **kwargs}
    message = render_thread_step(kind, args.pop("actor"), AT, args.pop("detail"), BERLIN, **args)
    assert_valid(message)
    assert message.blocks[0]["text"]["text"] == expected
    assert message.text == expected.split("\n")[0]


def test_thread_step_worst_case() -> None:
    mentions = tuple(f"U{n:09d}" for n in range(30))
    for kind in ThreadStep:
        message = render_thread_step(
            kind, "<!channel>", AT, HOSTILE, BERLIN, mentions=mentions, tier_name=HOSTILE
        )
        assert_valid(message)
        assert "<!channel>" not in message.blocks[0]["text"]["text"]
    with pytest.raises(ValueError, match="aware"):
        render_thread_step(ThreadStep.ACCEPTED, "UESC1", datetime(2026, 1, 1), None, BERLIN)


def test_button_value_round_trips() -> None:
    encoded = EscalationButtonValue(escalation_id=42).encode()
    assert encoded == '{"v":1,"escalation_id":42}'
    assert EscalationButtonValue.decode(encoded) == EscalationButtonValue(escalation_id=42)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "42",
        "[]",
        '{"v":1}',
        '{"v":2,"escalation_id":1}',
        '{"v":1,"escalation_id":"42"}',
        '{"v":1,"escalation_id":0}',
        '{"v":1,"escalation_id":1,"subject":"Refund"}',
        '{"v":1,"alert_id":1}',
        '{"v":1,"escalation_id":1' + " " * 2000 + "}",
    ],
)
def test_button_value_rejects_forged_or_oversized(value: str) -> None:
    with pytest.raises(InvalidButtonValue):
        EscalationButtonValue.decode(value)


def test_escalation_ids_unique_and_within_slack_limit() -> None:
    from bot.blocks.ids import EscalationModalActions, EscalationViews, SlaActions, SlaBlocks

    enums = (
        EscalationActions,
        EscalationBlocks,
        EscalationModalActions,
        EscalationViews,
        SlaActions,
        SlaBlocks,
    )
    values = [str(m) for enum in enums for m in enum]
    assert len(values) == len(set(values))
    assert all(0 < len(v) <= 255 for v in values)
