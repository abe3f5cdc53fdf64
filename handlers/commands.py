"""Slash commands. Each acks at once; work that reads the store or calls Slack runs in a lazy listener."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot.blocks.ids import Commands
from bot.blocks.sla_list import render_sla_list
from bot.services.sla_scope import SlaScopeError, resolve_scope
from handlers.errors import lazy


def ack_sla(ack: Ack) -> None:
    ack()


def run_sla(body: dict, respond: Respond, deps) -> None:
    """`/sla [all|<team>]`: ephemeral list of breached and at-risk tickets, sorted by due time."""
    try:
        scope = resolve_scope(
            deps.config,
            text=body.get("text", ""),
            channel_id=body.get("channel_id"),
            user_id=body.get("user_id"),
        )
    except SlaScopeError as exc:
        respond(text=f":warning: {exc}", response_type="ephemeral")
        return
    now = deps.clock()
    rows = deps.sla.list_rows(now=now, teams=scope.teams)
    message = render_sla_list(rows, now=now, tz=deps.config.team_tz(scope.tz_team), scope_label=scope.label)
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def register(app: App) -> None:
    app.command(Commands.SLA.value)(ack=ack_sla, lazy=[lazy(run_sla)])
