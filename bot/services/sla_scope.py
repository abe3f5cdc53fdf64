"""Which teams `/sla` shows: `all`, a named team, the team owning the channel, or the caller's teams."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import AppConfig
from bot.domain.model import DomainError


class SlaScopeError(DomainError):
    pass


@dataclass(frozen=True)
class SlaScope:
    teams: set[str] | None  # None = every team, including unrouted tickets
    label: str
    tz_team: str | None


def resolve_scope(config: AppConfig, *, text: str, channel_id: str | None, user_id: str | None) -> SlaScope:
    arg = (text or "").strip().lower()
    if arg in ("all", "*"):
        return SlaScope(None, "all teams", None)
    if arg:
        team = config.team(arg)
        if team is None:
            names = ", ".join(t.name for t in config.teams) or "(no teams configured)"
            raise SlaScopeError(f"Unknown team `{arg[:40]}`. Use `/sla all` or one of: {names}.")
        return SlaScope({team.name}, team.name, team.name)
    if channel_id:
        team = config.team_for_channel(channel_id)
        if team is not None:
            return SlaScope({team.name}, team.name, team.name)
    if user_id:
        managed = config.teams_managed_by(user_id)
        if managed:
            names = {t.name for t in managed}
            return SlaScope(names, ", ".join(sorted(names)), managed[0].name)
    return SlaScope(None, "all teams", None)
