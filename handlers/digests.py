"""`/digest` and `/digest week`: the caller's team digest, ephemerally; the Details button's modal.

Both ack at once; the figures are computed in lazy listeners (a window over a large history takes a
moment), and the modal opens with a loading view first because a trigger_id lives only 3 seconds.
"""

from __future__ import annotations

from datetime import timedelta

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.blocks.digest import digest_blocks, digest_text
from bot.blocks.digest_details import digest_details_modal, digest_loading_modal
from bot.blocks.ids import Commands, DigestActions
from bot.blocks.metadata import DigestButtonValue, InvalidButtonValue
from bot.config.digests import digests_for
from bot.domain.digest_schedule import previous_send_time
from bot.services.digests import UnknownTeam
from bot.store.digest_queries import DETAIL_BREACHES
from handlers.errors import lazy

_WEEK_WORDS = frozenset({"week", "weekly"})
_HELP = (
    "Use `/digest` in a team's channel, `/digest <team>`, or `/digest week [<team>]` for the weekly report."
)


def _team_for(deps, words: list[str], channel_id: str | None, user_id: str | None) -> str:
    config = deps.config
    if words:
        return words[0]
    team = config.team_for_channel(channel_id) if channel_id else None
    if team is None and user_id:
        managed = config.teams_managed_by(user_id)
        team = managed[0] if managed else None
    if team is None and len(config.teams) == 1:
        team = config.teams[0]
    if team is None:
        raise UnknownTeam(f"This channel belongs to no single team. {_HELP}")
    return team.name


def ack_digest(ack: Ack) -> None:
    ack()


def run_digest(body: dict, respond: Respond, deps) -> None:
    words = (body.get("text") or "").strip().lower().split()
    weekly = any(word in _WEEK_WORDS for word in words)
    words = [w for w in words if w not in _WEEK_WORDS]
    if len(words) > 1:
        respond(text=f":warning: Too many words. {_HELP}", response_type="ephemeral")
        return
    try:
        team = _team_for(deps, words, body.get("channel_id"), body.get("user_id"))
        digest = deps.digests.schedule(team, weekly=weekly)
    except UnknownTeam as exc:
        respond(text=f":warning: {exc}", response_type="ephemeral")
        return
    now = deps.clock()
    tz, calendar = deps.config.team_tz(digest.team), deps.config.calendar_for(digest.team)
    send_at = previous_send_time(digest.send_schedule(), tz, calendar, now + timedelta(microseconds=1))
    view = deps.digests.view(digest, send_at, now=now)
    respond(text=digest_text(view), blocks=digest_blocks(view), response_type="ephemeral")


def ack_details(ack: Ack) -> None:
    ack()


def open_details(body: dict, respond: Respond, client, deps) -> None:
    try:
        value = DigestButtonValue.decode(body["actions"][0]["value"])
    except (InvalidButtonValue, KeyError, IndexError):
        respond(
            text=":warning: This Details button is from an older Deskwatch; run `/digest`.",
            replace_original=False,
        )
        return
    try:
        opened = client.views_open(trigger_id=body["trigger_id"], view=digest_loading_modal())
    except SlackApiError as exc:
        if exc.response.get("error") in ("expired_trigger_id", "invalid_trigger_id"):
            respond(text="Slack's 3-second window passed: press Details again.", replace_original=False)
            return
        raise
    configured = [d for d in digests_for(deps.config, value.team) if d.schedule_name == value.schedule]
    try:
        digest = (
            configured[0]
            if configured
            else deps.digests.schedule(value.team, weekly=value.schedule == "weekly")
        )
    except UnknownTeam as exc:
        respond(text=f":warning: {exc}", replace_original=False)
        return
    view = deps.digests.view_of(digest, value.start, value.end, now=deps.clock(), breaches=DETAIL_BREACHES)
    client.views_update(view_id=opened["view"]["id"], view=digest_details_modal(view))


def register(app: App) -> None:
    app.command(Commands.DIGEST.value)(ack=ack_digest, lazy=[lazy(run_digest)])
    app.action(DigestActions.DETAILS.value)(ack=ack_details, lazy=[lazy(open_details)])
