"""App Home: publish the personal board when the Home tab opens, and its two buttons.

Bolt acks events by itself once the ack listener returns; publishing reads the store and calls Slack,
so it runs lazily. "Open /sla" cannot run the slash command (buttons cannot): it opens the same list
in a modal, which is what works from the Home surface (there is no channel for an ephemeral there).
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.blocks.home import render_sla_modal
from bot.blocks.ids import HomeActions
from bot.blocks.sla_list import render_sla_list
from bot.services.sla_scope import resolve_scope
from handlers.errors import lazy


def ack_home(ack: Ack) -> None:
    ack()


def publish_on_open(body: dict, respond, deps) -> None:
    event = body.get("event") or {}
    if event.get("tab", "home") != "home" or deps.home is None:
        return  # the Messages tab opens the same event
    deps.home.opened(event["user"])


def refresh(body: dict, respond, deps) -> None:
    if deps.home is not None:
        deps.home.publish(body["user"]["id"], force=True)


def open_sla(body: dict, respond, client, deps) -> None:
    """The `/sla` list of the user's teams (all teams for someone managing none), in a modal."""
    user = body["user"]["id"]
    scope = resolve_scope(deps.config, text="", channel_id=None, user_id=user)
    now = deps.clock()
    rows = deps.sla.list_rows(now=now, teams=scope.teams)
    message = render_sla_list(rows, now=now, tz=deps.config.team_tz(scope.tz_team), scope_label=scope.label)
    view = render_sla_modal(message)
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        if exc.response.get("error") not in ("expired_trigger_id", "invalid_trigger_id"):
            raise


def register(app: App) -> None:
    app.event("app_home_opened")(ack=ack_home, lazy=[lazy(publish_on_open)])
    app.action(HomeActions.REFRESH.value)(ack=ack_home, lazy=[lazy(refresh)])
    app.action(HomeActions.OPEN_SLA.value)(ack=ack_home, lazy=[lazy(open_sla)])
