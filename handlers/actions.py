"""Message button actions on SLA alerts."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.blocks.ids import SlaActions
from bot.blocks.metadata import AlertButtonValue
from bot.store.alerts import alert_update_effect
from handlers.errors import lazy


def ack_only(ack: Ack) -> None:
    ack()


def acknowledge_alert(body: dict, action: dict, respond, deps) -> None:
    """Record who acknowledged and when, then update the same message (through the outbox, at once)
    to show `<@user>` and the time. The first click wins; later clicks change nothing."""
    value = AlertButtonValue.decode(action.get("value") or "")
    now = deps.clock()
    alert = deps.sla.acknowledge(value.alert_id, user_id=body["user"]["id"], now=now)
    ids = deps.outbox.enqueue([alert_update_effect(alert.id, alert.channel, "ack")], now=now)
    deps.outbox.deliver_ids(ids, now=now)


def register(app: App) -> None:
    app.action(SlaActions.ACKNOWLEDGE.value)(ack=ack_only, lazy=[lazy(acknowledge_alert)])
    # "Open ticket" is a link button: Slack still sends an action, which only needs an ack.
    app.action(SlaActions.OPEN_TICKET.value)(ack_only)
