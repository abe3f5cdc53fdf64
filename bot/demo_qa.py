"""The QA part of `deskwatch demo`: a manager scores a ticket inline, the agent gets the scorecard by DM
and disputes it, the manager rescores; then the agent's report. Through the same service Slack drives."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.qa_parse import InlineScore, parse_qa

# The README's rubric (the exact block).
DEMO_QA = {
    "scale": 5,
    "pass_mark": 80,
    "reviewers": ["U0MANAGER"],
    "rubric": [
        {"key": "accuracy", "label": "Correct resolution", "weight": 3},
        {"key": "empathy", "label": "Empathy and tone", "weight": 2},
        {"key": "process", "label": "Followed process", "weight": 2},
        {"key": "compliance", "label": "Compliance (KYC/PCI)", "weight": 3, "critical": True},
    ],
}
DEMO_AGENTS = (("U0ANA", "ana", "user501@example.com"), ("U0BEN", "ben", "user502@example.com"))


def prepare_qa_emulators(slack) -> None:
    for user, name, email in DEMO_AGENTS:
        slack.add_user(user, name, email=email)


def play_qa(deps, show: Callable[[], None], out, as_text: Callable[[dict], str] = str) -> None:
    out("\n=== QA scorecards ===")
    command = (
        '<@U0ANA|ana> zd:101 accuracy=4 empathy=5 process=3 compliance=5 "Clear steps; tag the card type"'
    )
    out(f"The billing manager types `/qa {command}`:")
    parsed = parse_qa(command, deps.qa.rubric())
    assert isinstance(parsed, InlineScore)
    review = deps.qa.record(parsed.scorecard, reviewer="U0MANAGER")
    deps.outbox.drain(now=deps.clock())
    out("Ana gets her scorecard by DM (4·3 + 5·2 + 3·2 + 5·3 = 43 of 50 → 86 %, a pass at 80 %):")
    show()
    out('\nAna disputes it ("the card type was tagged in the internal note"); the manager rescores:')
    dispute = deps.qa.open_dispute(
        review.id, agent="U0ANA", reason="The card type was tagged in the internal note"
    )
    rescored = type(parsed.scorecard)(
        parsed.scorecard.agent,
        parsed.scorecard.ref,
        {**parsed.scorecard.scores, "process": 4},
        parsed.scorecard.comment,
        parsed.scorecard.coaching,
    )
    deps.qa.decide(
        dispute.id, by="U0MANAGER", outcome="rescored", note="Right, I missed the note", card=rescored
    )
    deps.outbox.drain(now=deps.clock())
    show()
    report = deps.qa.report("U0MANAGER", "U0ANA", 30)
    out(
        "\n`/qa report @ana 30d` (ephemeral):\n"
        + as_text({"channel": "(ephemeral)", "ts": "-", **report.__dict__})
    )
