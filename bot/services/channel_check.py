"""`deskwatch config check`, Slack channels: can the bot post in each configured channel (alert channels
and escalation tier channels) and read its history? Reading matters for exactly-once: a post whose
answer was lost is looked up in the history before anything is sent again, so a channel the bot cannot
read holds such a post back. Escalation responders given as user groups (S...) must resolve with
usergroups.users.list, or nobody in them can accept a handoff."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


@dataclass(frozen=True)
class ChannelCheck:
    channel: str
    used_by: str
    ok: bool
    detail: str

    def line(self) -> str:
        mark = "ok " if self.ok else "FIX"
        return f"{mark} {self.channel} ({self.used_by}): {self.detail}"


def configured_channels(config) -> list[tuple[str, str]]:
    """Every channel the configuration posts to, with who uses it, in a stable order."""
    users: dict[str, list[str]] = {config.alerts.channel: ["default alerts channel"]}
    for team in config.teams:
        users.setdefault(team.channel, []).append(f"team {team.name}")
    for tier in config.escalation.tiers if config.escalation is not None else ():
        if tier.channel:
            users.setdefault(tier.channel, []).append(f"escalation tier {tier.name}")
    if config.digests:
        from bot.config.digests import digest_channel

        for digest in config.digests:
            users.setdefault(digest_channel(config, digest), []).append(
                f"{digest.team} {digest.schedule_name} digest"
            )
    return [(channel, ", ".join(names)) for channel, names in users.items()]


def configured_usergroups(config) -> list[tuple[str, str]]:
    """Every user group (S...) named as escalation responders, with the tiers naming it."""
    users: dict[str, list[str]] = {}
    for tier in config.escalation.tiers if config.escalation is not None else ():
        for responder in dict.fromkeys(tier.responders):
            if responder.startswith("S"):
                users.setdefault(responder, []).append(f"escalation tier {tier.name}")
    return [(group, ", ".join(names)) for group, names in users.items()]


@dataclass(frozen=True)
class UsergroupCheck:
    group: str
    used_by: str
    ok: bool
    detail: str

    def line(self) -> str:
        mark = "ok " if self.ok else "FIX"
        return f"{mark} {self.group} ({self.used_by}): {self.detail}"


def check_usergroups(slack: WebClient, groups: Iterable[tuple[str, str]]) -> list[UsergroupCheck]:
    """One usergroups.users.list per responder group, given as (group id, who uses it)."""
    return [_check_group(slack, group, used_by) for group, used_by in groups]


def _check_group(slack: WebClient, group: str, used_by: str) -> UsergroupCheck:
    def bad(detail: str) -> UsergroupCheck:
        return UsergroupCheck(group, used_by, False, detail)

    try:
        response = slack.usergroups_users_list(usergroup=group)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "missing_scope":
            return bad(f"usergroups.users.list refused ({error}): add the usergroups:read scope")
        if error == "no_such_subteam":
            return bad(
                f"usergroups.users.list refused ({error}): no such user group, or it is disabled; "
                "check the id (a user group's ID, like S0123ABCD)"
            )
        return bad(f"usergroups.users.list refused ({error})")
    except OSError as exc:
        return bad(f"Slack unreachable ({type(exc).__name__})")
    members = [u for u in response.get("users") or () if isinstance(u, str)]
    if not members:
        return bad("the user group has no members: nobody in it can accept a handoff")
    plural = "" if len(members) == 1 else "s"
    return UsergroupCheck(group, used_by, True, f"resolves to {len(members)} member{plural}")


def granted_scopes(slack: WebClient) -> set[str] | None:
    """The token's scopes from auth.test's `x-oauth-scopes` header (None if Slack did not say)."""
    response = slack.auth_test()
    for key, value in (response.headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            text = value if isinstance(value, str) else ",".join(value)
            return {scope.strip() for scope in text.split(",") if scope.strip()}
    return None


def check_channels(slack: WebClient, channels: Iterable[tuple[str, str]]) -> list[ChannelCheck]:
    """One result per configured channel, given as (channel id, who uses it)."""
    try:
        scopes = granted_scopes(slack)
    except (SlackApiError, OSError):
        scopes = None
    results = []
    for channel, used_by in channels:
        results.append(_check(slack, channel, used_by, scopes))
    return results


def _has(scopes: set[str] | None, scope: str) -> bool:
    return scopes is None or scope in scopes


def _check(slack: WebClient, channel: str, used_by: str, scopes: set[str] | None) -> ChannelCheck:
    def bad(detail: str) -> ChannelCheck:
        return ChannelCheck(channel, used_by, False, detail)

    try:
        info = slack.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "channel_not_found":
            return bad(
                "not found: the id is wrong, or it is a private channel the bot is not in "
                "(run `/invite @Deskwatch` in it)"
            )
        if error == "missing_scope":
            return bad("cannot read channel info: add the channels:read and groups:read scopes")
        return bad(f"Slack refused conversations.info ({error})")
    except OSError as exc:
        return bad(f"Slack unreachable ({type(exc).__name__})")
    if info.get("is_archived"):
        return bad("archived: unarchive it or configure another channel")
    private = bool(info.get("is_private"))
    if not info.get("is_member"):
        if private:
            return bad("the bot is not in this private channel: run `/invite @Deskwatch` in it")
        if not _has(scopes, "chat:write.public"):
            return bad("the bot is not a member and lacks chat:write.public: run `/invite @Deskwatch` in it")
        if not _has(scopes, "channels:join"):
            return bad(
                "the bot can post (chat:write.public) but cannot read the history to check a post whose "
                "answer was lost: run `/invite @Deskwatch` in it, or add the channels:join scope"
            )
        return ChannelCheck(
            channel, used_by, True, "can post; not a member yet, joins on first use to read history"
        )
    try:
        slack.conversations_history(channel=channel, limit=1)
    except SlackApiError as exc:
        scope = "groups:history" if private else "channels:history"
        error = exc.response.get("error")
        hint = f"add the {scope} scope" if error == "missing_scope" else "run `/invite @Deskwatch` in it"
        return bad(f"the bot cannot read its history ({error}): {hint}")
    return ChannelCheck(channel, used_by, True, "can post and read history")
