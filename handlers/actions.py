"""Message button actions on SLA alerts."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.blocks.ids import SlaActions
from bot.blocks.metadata import AlertButtonValue
from handlers.errors import lazy


def ack_only(ack: Ack) -> None:
    ack()


def acknowledge_alert(body: dict, action: dict, client, respond, deps) -> None:
    """Record who acknowledged and when, then re-render the same message with `<@user>` and the time."""
    value = AlertButtonValue.decode(action.get("value") or "")
    now = deps.clock()
    user_id = body["user"]["id"]
    result = deps.sla.acknowledge(value.alert_id, user_id=user_id, now=now)
    container = body.get("container") or {}
    channel = container.get("channel_id") or result.alert.channel
    ts = container.get("message_ts") or result.alert.ts
    client.chat_update(channel=channel, ts=ts, text=result.message.text, blocks=result.message.blocks)


def register(app: App) -> None:
    app.action(SlaActions.ACKNOWLEDGE.value)(ack=ack_only, lazy=[lazy(acknowledge_alert)])
    # "Open ticket" is a link button: Slack still sends an action, which only needs an ack.
    app.action(SlaActions.OPEN_TICKET.value)(ack_only)
