"""Starting an escalation: `/escalate [ref]`, the Escalate button on SLA alerts, the "Escalate ticket"
message shortcut, and the form's submission.

The form opens at once with the request's trigger_id (Slack lets it open a view for 3 s) showing a
loading view; the lazy listener then reads the ticket from the helpdesk and swaps the form in with
views.update. Malformed refs are refused in the ack, unknown ones in the form.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import structlog
from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.blocks.escalation_modal import (
    EscalationModalView,
    EscalationRequest,
    escalation_modal,
    loading_modal,
    parse_submission,
)
from bot.blocks.escalation_prompt import result_modal
from bot.blocks.ids import Commands, EscalationBlocks, EscalationViews, Shortcuts, SlaActions
from bot.blocks.metadata import AlertButtonValue, EscalationModalMetadata, alert_id_from_metadata
from bot.blocks.text import mrkdwn_link
from bot.domain.model import InvalidTicketRef, TicketRef
from bot.services.ticket_summary import UnknownTicket
from handlers.errors import lazy
from integrations.base import HelpdeskError

log = structlog.get_logger(__name__)

TYPED_REF_CHECK_SECONDS = 2.0  # a submission must be answered within 3 s; a slow helpdesk is checked later
_TOKEN_RE = re.compile(r"<[^>]+>|[^\s<>()\[\],;]+")
_EXPIRED = ("expired_trigger_id", "invalid_trigger_id")
REF_CHECKER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="escalate-check")


def find_ticket_ref(text: str) -> TicketRef | None:
    """The first ticket named in a message: `zd:101`, `ic#9001`, or a Zendesk / Intercom link."""
    for token in _TOKEN_RE.findall(text or ""):
        token = token.strip(".!?:'\"")
        if ":" not in token and "#" not in token:
            continue
        try:
            return TicketRef.parse(token)
        except InvalidTicketRef:
            continue
    return None


def not_configured_text() -> str:
    return (
        ":warning: Escalations are not configured in this workspace yet: add an `escalation:` block "
        "(tiers and reasons) to the Deskwatch config, then run `deskwatch config check`."
    )


# -- /escalate ---------------------------------------------------------------------------------------
def ack_escalate(ack: Ack, command: dict, deps) -> None:
    text = (command.get("text") or "").strip()
    if not deps.escalations.enabled:
        ack(text=not_configured_text(), response_type="ephemeral")
        return
    if text:
        try:
            TicketRef.parse(text)
        except InvalidTicketRef as exc:
            ack(text=f":warning: {exc}", response_type="ephemeral")
            return
    ack()


def open_from_command(body: dict, respond, client, deps) -> None:
    text = (body.get("text") or "").strip()
    if not deps.escalations.enabled:
        return
    ref = TicketRef.parse(text) if text else None
    open_form(deps, client, respond, body["trigger_id"], ref, body["user_id"], body["channel_id"], None)


# -- the Escalate button on SLA alerts and the message shortcut ---------------------------------------
def ack_only(ack: Ack) -> None:
    ack()


def open_from_alert(body: dict, action: dict, respond, client, deps) -> None:
    if not deps.escalations.enabled:
        respond(text=not_configured_text(), response_type="ephemeral", replace_original=False)
        return
    alert = deps.store.get_alert(AlertButtonValue.decode(action.get("value") or "").alert_id)
    if alert is None:
        respond(
            text=":warning: That alert no longer exists.", response_type="ephemeral", replace_original=False
        )
        return
    container = body.get("container") or {}
    open_form(
        deps,
        client,
        respond,
        body["trigger_id"],
        alert.ref,
        body["user"]["id"],
        container.get("channel_id") or alert.channel,
        container.get("message_ts"),
    )


def open_from_shortcut(body: dict, respond, client, deps) -> None:
    if not deps.escalations.enabled:
        respond(text=not_configured_text(), response_type="ephemeral")
        return
    message = body.get("message") or {}
    ref = _ref_of_message(deps, message)
    channel = (body.get("channel") or {}).get("id")
    open_form(deps, client, respond, body["trigger_id"], ref, body["user"]["id"], channel, message.get("ts"))


def _ref_of_message(deps, message: dict[str, Any]) -> TicketRef | None:
    alert_id = alert_id_from_metadata(message.get("metadata"))
    if alert_id is not None:
        alert = deps.store.get_alert(alert_id)
        if alert is not None:
            return alert.ref
    ref = find_ticket_ref(message.get("text") or "")
    if ref is None:
        ref = find_ticket_ref(" ".join(_block_texts(message.get("blocks") or [])))
    return ref


def _block_texts(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        out = [obj["text"]] if isinstance(obj.get("text"), str) else []
        out += [obj["url"]] if isinstance(obj.get("url"), str) else []
        for value in obj.values():
            if isinstance(value, dict | list):
                out += _block_texts(value)
        return out
    if isinstance(obj, list):
        return [text for item in obj for text in _block_texts(item)]
    return []


# -- the form ----------------------------------------------------------------------------------------
def open_form(
    deps,
    client,
    respond,
    trigger_id: str,
    ref: TicketRef | None,
    user: str,
    channel: str | None,
    origin_ts: str | None,
) -> None:
    """Open the loading view now (the trigger_id expires in 3 s), then fill it from the helpdesk."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=loading_modal(str(ref) if ref else ""))
    except SlackApiError as exc:
        if exc.response.get("error") in _EXPIRED:
            log.warning("escalate_trigger_expired", user=user)
            again = f"`/escalate {ref}`" if ref else "`/escalate`"
            respond(
                text=f":hourglass: Slack's 3-second window to open the form passed. Run {again} again.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        raise
    view_id, view_hash = opened["view"]["id"], opened["view"].get("hash")
    ticket = None
    if ref is not None:
        try:
            ticket = deps.tickets.summary(ref, now=deps.clock())
        except (UnknownTicket, HelpdeskError) as exc:
            what = "Unknown ticket" if isinstance(exc, UnknownTicket) else "Helpdesk unavailable"
            text = f":warning: {exc}" + ("" if isinstance(exc, UnknownTicket) else "\nTry again in a minute.")
            client.views_update(view_id=view_id, hash=view_hash, view=result_modal(what, text))
            respond(text=text, response_type="ephemeral", replace_original=False)
            return
    metadata = EscalationModalMetadata(
        ref=str(ref) if ref else None, channel_id=_channel_or_dm(channel, user), origin_ts=origin_ts
    )
    choices = deps.escalations.tier_choices()
    view = EscalationModalView(
        metadata=metadata,
        tiers=choices,
        default_tier=_default_tier(deps, user, [c.index for c in choices]),
        reasons=tuple(deps.config.escalation.reasons),
        ticket=ticket,
    )
    client.views_update(view_id=view_id, hash=view_hash, view=escalation_modal(view))


def _channel_or_dm(channel: str | None, user: str) -> str:
    return channel if channel and channel[:1] in "CDG" else "D" + user[1:]


def _default_tier(deps, user: str, offered: list[int]) -> int:
    """The tier after the escalator's own (their highest tier as a responder), else the first one."""
    policy = deps.escalations.policy()
    own = [i for i, tier in enumerate(policy.tiers) if user in _members(policy, tier)]
    wanted = (max(own) + 1) if own else 1
    return wanted if wanted in offered else (offered[-1] if wanted > offered[-1] else offered[0])


def _members(policy, tier) -> set[str]:
    members = {r for r in tier.responders if not r.startswith("S")}
    for group in (r for r in tier.responders if r.startswith("S")):
        members |= set(policy.group_members.get(group, ()))
    return members


def ack_submission(ack: Ack, body: dict, view: dict, deps) -> None:
    """Validate inline (`response_action: errors`), then show progress; the lazy listener posts."""
    request = _request(deps, view)
    if isinstance(request, dict):
        ack(response_action="errors", errors=request)
        return
    meta = EscalationModalMetadata.decode(view.get("private_metadata") or "")
    if meta.ref is None:  # typed into the form: make sure it exists, if the helpdesk answers in time
        future = REF_CHECKER.submit(deps.tickets.item, request.ref)
        try:
            future.result(timeout=TYPED_REF_CHECK_SECONDS)
        except UnknownTicket as exc:
            ack(response_action="errors", errors={EscalationBlocks.MODAL_REF: str(exc)[:150]})
            return
        except (FutureTimeout, HelpdeskError):
            pass  # checked again when posting; the result view says what happened
    tier = deps.escalations.policy().tiers[request.tier].name
    progress = result_modal("Escalating…", f"⏳ Handing {request.ref} to *{tier}*…")
    ack(response_action="update", view=progress)


def _request(deps, view: dict) -> EscalationRequest | dict[str, str]:
    meta = EscalationModalMetadata.decode(view.get("private_metadata") or "")
    return parse_submission(
        (view.get("state") or {}).get("values") or {},
        ref=TicketRef.parse(meta.ref) if meta.ref else None,
        tiers=[c.index for c in deps.escalations.tier_choices()],
        reasons=deps.config.escalation.reasons,
    )


def submit(body: dict, respond, client, deps) -> None:
    view = body["view"]
    request = _request(deps, view)
    if isinstance(request, dict):
        return  # refused in the ack
    meta = EscalationModalMetadata.decode(view.get("private_metadata") or "")
    user = body["user"]["id"]
    try:
        ticket = deps.tickets.summary(request.ref, now=deps.clock())
    except (UnknownTicket, HelpdeskError) as exc:
        client.views_update(view_id=view["id"], view=result_modal("Not escalated", f":warning: {exc}"))
        return
    outcome = deps.escalations.open(
        request,
        chain=f"view:{view['id']}",
        by=user,
        ticket=ticket,
        origin={"channel": meta.channel_id, "ts": meta.origin_ts},
    )
    esc = outcome.escalation
    tier = deps.escalations.policy().tiers[esc.state.tier]
    where = f"<#{tier.channel}>" if tier.channel else tier.name
    text = f"✅ {request.ref} is escalated to *{tier.name}* in {where}."
    if esc.message_ts and esc.channel:
        try:
            link = client.chat_getPermalink(channel=esc.channel, message_ts=esc.message_ts)["permalink"]
            text += f"\n{mrkdwn_link(link, 'Open the handoff')}"
        except SlackApiError:
            pass
    else:
        text += "\nThe handoff message is on its way (Slack is slow to answer)."
    client.views_update(view_id=view["id"], view=result_modal("Escalated", text))


def register(app: App) -> None:
    app.command(Commands.ESCALATE.value)(ack=ack_escalate, lazy=[lazy(open_from_command)])
    app.action(SlaActions.ESCALATE.value)(ack=ack_only, lazy=[lazy(open_from_alert)])
    app.shortcut(Shortcuts.ESCALATE_TICKET.value)(ack=ack_only, lazy=[lazy(open_from_shortcut)])
    app.view_submission(EscalationViews.FORM.value)(ack=ack_submission, lazy=[lazy(submit)])
