"""The handoff message's buttons (Accept, Reassign, Need info, Info added, Escalate further), their
prompt modals, and the escalator's answer in the handoff thread.

Every ack is immediate; the state change runs in a lazy listener through the escalation service, which
refuses (ephemerally, to the one who clicked) what the state machine refuses: a second Accept, someone
who is neither a tier responder nor a manager, a closed handoff.
"""

from __future__ import annotations

import structlog
from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.blocks.escalation import escalation_id_from_block_id
from bot.blocks.escalation_prompt import prompt_modal, prompt_text
from bot.blocks.ids import EscalationActions, EscalationPromptIds, EscalationViews
from bot.blocks.metadata import EscalationButtonValue
from bot.domain.escalation_types import (
    Accept,
    EscalateFurther,
    InfoAdded,
    Reassign,
    RequestInfo,
    Status,
)
from handlers.errors import lazy

log = structlog.get_logger(__name__)

_PROMPT_OF = {
    EscalationActions.NEED_INFO.value: EscalationViews.NEED_INFO,
    EscalationActions.INFO_ADDED.value: EscalationViews.INFO_ADDED,
    EscalationActions.ESCALATE_FURTHER.value: EscalationViews.FURTHER,
}


def ack_only(ack: Ack) -> None:
    ack()


def _ephemeral(respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def _told(deps, esc, user: str, text: str) -> None:
    """An ephemeral note where there is no response_url (after a modal): in the handoff's channel."""
    if not esc.channel:
        return
    try:
        deps.slack.chat_postEphemeral(channel=esc.channel, user=user, text=text, thread_ts=esc.message_ts)
    except SlackApiError as exc:
        log.warning("ephemeral_failed", channel=esc.channel, error=exc.response.get("error"))


def accept(body: dict, action: dict, respond, deps) -> None:
    esc_id = EscalationButtonValue.decode(action.get("value") or "").escalation_id
    outcome = deps.escalations.act(esc_id, Accept(user=body["user"]["id"], at=deps.clock()))
    if outcome.refusal is not None:
        _ephemeral(respond, f":no_entry: {outcome.refusal.message}")


def reassign(body: dict, action: dict, respond, deps) -> None:
    esc_id = escalation_id_from_block_id(action.get("block_id") or "")
    to = action.get("selected_user")
    if not to:
        return  # the picker was cleared
    outcome = deps.escalations.act(esc_id, Reassign(user=body["user"]["id"], to=to, at=deps.clock()))
    if outcome.refusal is not None:
        _ephemeral(respond, f":no_entry: {outcome.refusal.message}")


def open_prompt(body: dict, action: dict, respond, client, deps) -> None:
    """Need info / Info added / Escalate further ask for words first; refuse before asking."""
    esc_id = EscalationButtonValue.decode(action.get("value") or "").escalation_id
    esc = deps.escalations.get(esc_id)
    user = body["user"]["id"]
    if esc is None:
        _ephemeral(respond, ":warning: That handoff no longer exists.")
        return
    kind = _PROMPT_OF[action["action_id"]]
    if esc.state.status in (Status.ESCALATED, Status.RESOLVED):
        _ephemeral(respond, ":no_entry: This handoff is closed; nothing to do here.")
        return
    policy = deps.escalations.policy()
    if kind is EscalationViews.FURTHER and esc.state.tier + 1 >= len(policy.tiers):
        name = policy.tiers[esc.state.tier].name
        _ephemeral(respond, f":no_entry: {name} is the last tier: there is nowhere further to escalate")
        return
    if kind is EscalationViews.INFO_ADDED and user != esc.state.opened_by and user not in policy.managers:
        _ephemeral(respond, ":no_entry: only the person who escalated (or a manager) can add the information")
        return
    if kind is not EscalationViews.INFO_ADDED and not deps.escalations.may_act(esc, user):
        tier = deps.escalations.policy().tiers[esc.state.tier].name
        _ephemeral(respond, f":no_entry: only {tier} responders or a manager can do that; ask in the thread")
        return
    try:
        client.views_open(
            trigger_id=body["trigger_id"], view=prompt_modal(kind, esc_id, ticket=str(esc.state.ref))
        )
    except SlackApiError as exc:
        if exc.response.get("error") in ("expired_trigger_id", "invalid_trigger_id"):
            _ephemeral(
                respond, ":hourglass: Slack's 3-second window to open the form passed; press it again."
            )
            return
        raise


def ack_prompt(ack: Ack, view: dict) -> None:
    if not prompt_text((view.get("state") or {}).get("values") or {}):
        ack(response_action="errors", errors={EscalationPromptIds.BLOCK: "Write a few words"})
        return
    ack()


def submit_prompt(body: dict, respond, deps) -> None:
    view = body["view"]
    esc_id = EscalationButtonValue.decode(view.get("private_metadata") or "").escalation_id
    text = prompt_text((view.get("state") or {}).get("values") or {})
    user = body["user"]["id"]
    now = deps.clock()
    kind = view.get("callback_id")
    if kind == EscalationViews.NEED_INFO:
        event = RequestInfo(user=user, question=text, at=now)
    elif kind == EscalationViews.INFO_ADDED:
        event = InfoAdded(user=user, text=text, at=now)
    else:
        event = EscalateFurther(user=user, note=text, at=now)
    outcome = deps.escalations.act(esc_id, event)
    if outcome.refusal is not None:
        _told(deps, outcome.escalation, user, f":no_entry: {outcome.refusal.message}")


def thread_reply(event: dict, deps, body: dict, respond) -> None:
    """The escalator answering in the handoff thread while info is requested counts as Info added."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or event.get("bot_id") or event.get("subtype") or thread_ts == event.get("ts"):
        return
    esc = deps.escalations.by_thread(event.get("channel") or "", thread_ts)
    if esc is None or esc.state.status is not Status.WAITING_INFO or event.get("user") != esc.state.opened_by:
        return
    deps.escalations.act(esc.id, InfoAdded(user=event["user"], text=event.get("text") or "", at=deps.clock()))


def register(app: App) -> None:
    app.action(EscalationActions.ACCEPT.value)(ack=ack_only, lazy=[lazy(accept)])
    app.action(EscalationActions.REASSIGN.value)(ack=ack_only, lazy=[lazy(reassign)])
    for action_id in _PROMPT_OF:
        app.action(action_id)(ack=ack_only, lazy=[lazy(open_prompt)])
    for kind in (EscalationViews.NEED_INFO, EscalationViews.INFO_ADDED, EscalationViews.FURTHER):
        app.view_submission(kind.value)(ack=ack_prompt, lazy=[lazy(submit_prompt)])
    # Thread replies: Bolt sees every message the bot may read; the matcher drops the rest without work.
    app.event({"type": "message", "subtype": None}, matchers=[_is_thread_reply])(
        ack=ack_only, lazy=[lazy(thread_reply)]
    )


def _is_thread_reply(event: dict) -> bool:
    """Only human replies inside a thread can answer a handoff: everything else is acked and dropped."""
    return (
        bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts") and not event.get("bot_id")
    )
