"""From a state-machine transition to outbox rows: the one place that names escalation rows' keys.

Each saved transition has a version, so its rows' keys (`esc:<id>:…:v<version>:<n>`) are stable: the
transition and its rows commit together, and enqueueing them again changes nothing. Thread notes are
rendered from the audit events (one note per step, mentions by what the step needs), the handoff
message and its updates from the stored state at the moment they go out, so an update never shows an
older state than the database holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.blocks.escalation import ThreadStep
from bot.domain.escalation_types import (
    AuditEvent,
    EscalationPolicy,
    PostHandoff,
    Transition,
    UpdateMessage,
    WriteBack,
)
from bot.domain.model import Source
from bot.store.outbox import Effect, OutboxKind

POST_PURPOSE = "esc_post"
UPDATE_PURPOSE = "esc_update"
STEP_PURPOSE = "esc_step"
DM_PURPOSE = "esc_dm"
WRITE_PURPOSE = "esc_write"
POST_METADATA_EVENT = "deskwatch_escalation"

# audit kind -> the thread note that tells it (kinds not listed are not told: opened, refused, posted)
_STEPS = {
    "accepted": ThreadStep.ACCEPTED,
    "reassigned": ThreadStep.REASSIGNED,
    "info_requested": ThreadStep.INFO_REQUESTED,
    "info_added": ThreadStep.INFO_ADDED,
    "re_pinged": ThreadStep.REPINGED,
    "escalated_further": ThreadStep.ESCALATED,
    "auto_escalated": ThreadStep.AUTO_ESCALATED,
    "due_warning": ThreadStep.DUE_WARNING,
    "due_passed": ThreadStep.DUE_PASSED,
    "ack_exhausted": ThreadStep.ACK_EXHAUSTED,
    "resolved": ThreadStep.RESOLVED,
}


def post_key(escalation_id: int) -> str:
    return f"esc:{escalation_id}:post"


def step_effect(
    escalation_id: int, channel: str | None, key: str, step: ThreadStep, **payload: Any
) -> Effect:
    return Effect(
        key=key,
        kind=OutboxKind.SLACK_POST,
        purpose=STEP_PURPOSE,
        channel=channel,
        subject_id=escalation_id,
        payload={"step": step.value, **payload},
    )


def transition_effects(
    transition: Transition,
    *,
    ids: Mapping[int, int],
    version: int,
    policy: EscalationPolicy,
    channel_of: Mapping[int, str | None],
) -> list[Effect]:
    """Outbox rows for one saved transition. `ids` maps tier -> escalation row id (the successor's too),
    `version` is the version the save produced, `channel_of` maps tier -> its handoff channel."""
    effects: list[Effect] = []
    tag = f"v{version}"
    for n, effect in enumerate(transition.effects):
        esc_id = ids[effect.tier] if hasattr(effect, "tier") else None
        if isinstance(effect, PostHandoff):
            assert esc_id is not None
            effects.append(
                Effect(
                    key=post_key(esc_id),
                    kind=OutboxKind.SLACK_POST,
                    purpose=POST_PURPOSE,
                    channel=channel_of.get(effect.tier),
                    subject_id=esc_id,
                    payload={"mentions": list(effect.mentions)},
                )
            )
        elif isinstance(effect, UpdateMessage):
            assert esc_id is not None
            effects.append(
                Effect(
                    key=f"esc:{esc_id}:update:{tag}:{n}",
                    kind=OutboxKind.SLACK_UPDATE,
                    purpose=UPDATE_PURPOSE,
                    channel=channel_of.get(effect.tier),
                    subject_id=esc_id,
                    payload={},
                )
            )
        elif isinstance(effect, WriteBack):
            assert esc_id is not None
            effects.extend(write_back_effects(esc_id, effect))
    for n, audit in enumerate(transition.audit):
        step = _STEPS.get(audit.kind)
        if step is None:
            continue
        esc_id = ids[audit.tier]
        channel = channel_of.get(audit.tier)
        payload = _step_payload(audit, transition, policy)
        effects.append(step_effect(esc_id, channel, f"esc:{esc_id}:step:{tag}:{n}", step, **payload))
        if audit.kind == "info_requested":
            effects.append(
                Effect(
                    key=f"esc:{esc_id}:dm:{tag}:{n}",
                    kind=OutboxKind.SLACK_POST,
                    purpose=DM_PURPOSE,
                    channel=transition.state.opened_by,
                    subject_id=esc_id,
                    payload={"user": transition.state.opened_by, "asked_by": audit.actor},
                )
            )
        if audit.kind == "accepted" and audit.actor:
            effects.append(assign_effect(esc_id, transition.state.ref.source, audit.actor))
        if audit.kind == "reassigned" and audit.details.get("to"):
            effects.append(assign_effect(esc_id, transition.state.ref.source, str(audit.details["to"])))
    return effects


def write_back_effects(escalation_id: int, effect: WriteBack) -> list[Effect]:
    """The internal note, then the routing (group/team, assignee, tags) when the tier names any."""
    ref = str(effect.ref)
    target = effect.target
    rows = [_write(escalation_id, "note", {"ref": ref})]
    if effect.ref.source is Source.ZENDESK:
        group = target.zendesk_group_id
        assignee = target.zendesk_assignee_id
        route = {
            "group_id": None if group is None else str(group),
            "assignee_id": None if assignee is None else str(assignee),
            "tags": list(target.zendesk_tags),
        }
    else:
        route = {"group_id": target.intercom_team_id, "assignee_id": target.intercom_admin_id, "tags": []}
    if route["group_id"] or route["assignee_id"] or route["tags"]:
        rows.append(_write(escalation_id, "route", {"ref": ref, **route}))
    return rows


def assign_effect(escalation_id: int, source: Source, user: str) -> Effect:
    """Make the Slack user who owns the handoff the ticket's assignee (where they map to an agent)."""
    return _write(escalation_id, f"assign:{user}", {"user": user, "source": source.value}, op="assign")


def _write(escalation_id: int, name: str, payload: dict[str, Any], *, op: str | None = None) -> Effect:
    return Effect(
        key=f"esc:{escalation_id}:write:{name}",
        kind=OutboxKind.HELPDESK_WRITE,
        purpose=WRITE_PURPOSE,
        channel=None,
        subject_id=escalation_id,
        payload={"op": op or name, **payload},
    )


def _step_payload(audit: AuditEvent, transition: Transition, policy: EscalationPolicy) -> dict[str, Any]:
    state = transition.state
    tier = policy.tiers[audit.tier]
    details = audit.details
    mentions: Sequence[str] = ()
    detail: str | None = None
    tier_name = tier.name
    if audit.kind in ("accepted", "info_requested"):
        mentions = (state.opened_by,)
        detail = details.get("question")
    elif audit.kind == "reassigned":
        mentions = (str(details.get("to")),)
    elif audit.kind == "info_added":
        mentions = (state.owner,) if state.owner else tier.responders
        detail = details.get("text")
    elif audit.kind == "re_pinged":
        mentions = tuple(details.get("mentions") or ())
        detail = f"attempt {details.get('attempt')} of {tier.repeat}"
    elif audit.kind in ("escalated_further", "auto_escalated"):
        to = details.get("to_tier")
        tier_name = policy.tiers[to].name if isinstance(to, int) and to < len(policy.tiers) else tier.name
        detail = details.get("why")
    elif audit.kind == "due_passed":
        mentions = (state.owner,) if state.owner else tier.responders
        detail = details.get("due_at")
    elif audit.kind == "due_warning":
        detail = details.get("due_at")
    elif audit.kind == "ack_exhausted":
        mentions = tuple(sorted(policy.managers))
        detail = f"{details.get('pings')} re-pings in {tier.name}"
    return {
        "actor": audit.actor,
        "at": audit.at.isoformat(),
        "detail": detail,
        "mentions": [m for m in mentions if m],
        "tier_name": tier_name,
        "tta_s": details.get("time_to_accept_s"),
        "ttr_s": details.get("time_to_resolve_s"),
    }
