"""Outbox rows of QA: the one place that names their keys (stable per review version / dispute /
calibration, so a retried transaction enqueues nothing twice)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.store.outbox import Effect, OutboxKind

DM_PURPOSE = "qa_dm"  # a new DM (scorecard to the agent, dispute to the reviewer, outcome, sample)
UPDATE_PURPOSE = "qa_update"  # chat.update of a message an earlier row posted (found by that row's key)
CHANNEL_PURPOSE = "qa_channel"  # calibration session message and its result in the thread
METADATA_EVENT = "deskwatch_qa"


def card_key(review_id: int) -> str:
    return f"qa:review:{review_id}:dm"


def dispute_key(dispute_id: int) -> str:
    return f"qa:dispute:{dispute_id}:dm"


def calibration_key(calibration_id: int) -> str:
    return f"qa:cal:{calibration_id}:post"


def _dm(key: str, user: str, kind: str, **ids: Any) -> Effect:
    return Effect(
        key=key,
        kind=OutboxKind.SLACK_POST,
        purpose=DM_PURPOSE,
        channel=user,
        payload={"kind": kind, "user": user, **ids},
    )


def _update(key: str, of: str, kind: str, channel: str | None = None, **ids: Any) -> Effect:
    return Effect(
        key=key,
        kind=OutboxKind.SLACK_UPDATE,
        purpose=UPDATE_PURPOSE,
        channel=channel,
        payload={"kind": kind, "of": of, **ids},
    )


def card_effects(review_id: int, agent: str, *, dm: bool, version: int = 1) -> list[Effect]:
    """The agent's scorecard DM, or its update after an edit or rescore (when DMs are on)."""
    if not dm:
        return []
    if version == 1:
        return [_dm(card_key(review_id), agent, "card", review_id=review_id)]
    return [_update(f"{card_key(review_id)}:v{version}", card_key(review_id), "card", review_id=review_id)]


def dispute_opened_effects(
    dispute_id: int, review_id: int, reviewer: str, disputed: dict[str, Any]
) -> list[Effect]:
    """`disputed` is the score the agent disputed (kept on the rows: a rescore changes the review)."""
    return [
        _dm(dispute_key(dispute_id), reviewer, "dispute", dispute_id=dispute_id, disputed=disputed),
        _update(
            f"{card_key(review_id)}:disputed:{dispute_id}", card_key(review_id), "card", review_id=review_id
        ),
    ]


def dispute_decided_effects(
    dispute_id: int, review_id: int, agent: str, disputed: dict[str, Any]
) -> list[Effect]:
    """The reviewer's dispute message shows the decision, the agent hears it, their scorecard follows."""
    return [
        _update(
            f"{dispute_key(dispute_id)}:decided",
            dispute_key(dispute_id),
            "dispute",
            dispute_id=dispute_id,
            disputed=disputed,
        ),
        _dm(f"qa:dispute:{dispute_id}:outcome", agent, "outcome", dispute_id=dispute_id, disputed=disputed),
        _update(
            f"{card_key(review_id)}:decided:{dispute_id}", card_key(review_id), "card", review_id=review_id
        ),
    ]


def sample_effect(reviewer: str, week: date) -> Effect:
    return _dm(f"qa:samples:{reviewer}:{week.isoformat()}", reviewer, "samples", week=week.isoformat())


def calibration_post(calibration_id: int, channel: str) -> Effect:
    return Effect(
        key=calibration_key(calibration_id),
        kind=OutboxKind.SLACK_POST,
        purpose=CHANNEL_PURPOSE,
        channel=channel,
        payload={"kind": "calibration", "calibration_id": calibration_id},
    )


def calibration_update(calibration_id: int, channel: str, tag: str) -> Effect:
    return _update(
        f"{calibration_key(calibration_id)}:{tag}",
        calibration_key(calibration_id),
        "calibration",
        channel=channel,
        calibration_id=calibration_id,
    )


def calibration_result_post(calibration_id: int, channel: str) -> Effect:
    return Effect(
        key=f"qa:cal:{calibration_id}:result",
        kind=OutboxKind.SLACK_POST,
        purpose=CHANNEL_PURPOSE,
        channel=channel,
        payload={
            "kind": "calibration_result",
            "calibration_id": calibration_id,
            "thread_of": calibration_key(calibration_id),
        },
    )
