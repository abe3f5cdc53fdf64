"""Ticket link unfurls: `link_shared` -> `chat.unfurl` with a live card, and the card's Escalate button.

The card's Acknowledge and Open ticket buttons reuse the SLA alert's action ids and values, so
`handlers/actions.py` handles them unchanged.
"""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.blocks.ids import UnfurlActions
from bot.blocks.unfurl import UnfurlButtonValue
from bot.domain.model import TicketRef
from bot.services.unfurls import unfurl_payload
from handlers.errors import lazy
from handlers.escalate import not_configured_text, open_form


def ack_only(ack: Ack) -> None:
    ack()


def unfurl_links(body: dict, event: dict, client, respond, deps) -> None:  # noqa: ARG001 - `lazy` needs respond
    """Answer with one card per ticket link; links that are not tickets (or name none) get nothing."""
    unfurls = unfurl_payload(deps, event.get("links") or [], now=deps.clock())
    if not unfurls:
        return
    if event.get("source") == "composer":  # not posted yet: message_ts is no message's ts
        client.chat_unfurl(unfurl_id=event["unfurl_id"], source="composer", unfurls=unfurls)
    else:
        client.chat_unfurl(channel=event["channel"], ts=event["message_ts"], unfurls=unfurls)


def escalate_from_unfurl(body: dict, action: dict, respond, client, deps) -> None:
    if not deps.escalations.enabled:
        respond(text=not_configured_text(), response_type="ephemeral", replace_original=False)
        return
    ref = TicketRef.parse(UnfurlButtonValue.decode(action.get("value") or "").ref)
    container = body.get("container") or {}
    open_form(
        deps,
        client,
        respond,
        body["trigger_id"],
        ref,
        body["user"]["id"],
        container.get("channel_id") or (body.get("channel") or {}).get("id"),
        container.get("message_ts"),
    )


def register(app: App) -> None:
    # Acks run on the request thread (process_before_response): reading tickets and calling Slack is lazy.
    app.event("link_shared")(ack=ack_only, lazy=[lazy(unfurl_links)])
    app.action(UnfurlActions.ESCALATE.value)(ack=ack_only, lazy=[lazy(escalate_from_unfurl)])
