"""Message button actions on SLA alerts."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.blocks.alert_group import GROUP_ACK_ACTION_RE
from bot.blocks.ids import SlaActions
from bot.blocks.metadata import AlertButtonValue
from bot.blocks.text import format_local_time, user_mention
from bot.services.group_delivery import group_update_effect
from bot.store.alerts import alert_update_effect
from handlers.errors import lazy


def ack_only(ack: Ack) -> None:
    ack()


def acknowledge_alert(body: dict, action: dict, respond, deps) -> None:
    """Record who acknowledged and when, then update the same message (through the outbox, at once)
    to show `<@user>` and the time. The first click wins; later clicks change nothing."""
    value = AlertButtonValue.decode(action.get("value") or "")
    now = deps.clock()
    user_id = body["user"]["id"]
    alert = deps.sla.acknowledge(value.alert_id, user_id=user_id, now=now)
    if alert.acked_by != user_id:
        tz = deps.config.team_tz(alert.team)
        when = f" at {format_local_time(alert.acked_at, tz)}" if alert.acked_at else ""
        respond(
            text=f"{alert.ref} was already acknowledged by {user_mention(alert.acked_by or '')}{when}",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if alert.group_key:  # one line of a grouped message: update that message (only its line changes)
        effect = group_update_effect(alert.group_key, alert.channel, f"ack:{alert.id}")
    else:
        effect = alert_update_effect(alert.id, alert.channel, "ack")
    ids = deps.outbox.enqueue([effect], now=now)
    deps.outbox.deliver_ids(ids, now=now)


def register(app: App) -> None:
    app.action(SlaActions.ACKNOWLEDGE.value)(ack=ack_only, lazy=[lazy(acknowledge_alert)])
    # Each line of a grouped message has its own action id (unique within the message).
    app.action(GROUP_ACK_ACTION_RE)(ack=ack_only, lazy=[lazy(acknowledge_alert)])
    # "Open ticket" is a link button: Slack still sends an action, which only needs an ack.
    app.action(SlaActions.OPEN_TICKET.value)(ack_only)
