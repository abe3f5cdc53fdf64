"""User groups, users by email and direct messages for the Slack emulator: `usergroups.users.list`,
`users.lookupByEmail`, `conversations.open` and `chat.postMessage` to a user id.

Shaped after `shared/specs/slack/slack_web_openapi_v2.json` and Slack's method docs:

- `usergroups.users.list` (scope `usergroups:read`): `{"ok": true, "users": [...]}`; an unknown
  user group is `no_such_subteam`; a disabled one is listed only with `include_disabled`
  (without it the emulator answers `no_such_subteam`, as for a group that is not there);
- `users.lookupByEmail` (scope `users:read.email`): `{"ok": true, "user": {...}}`, the user object of
  `users.info`; the email matches case-insensitively; an email no human user has is `users_not_found`
  (the bot user has no email);
- `conversations.open` (scope `im:write`) with one user in `users`, or `channel` naming an open DM:
  `{"ok": true, "channel": {"id": "D..."}}`, and once the DM is open `"no_op": true,
  "already_open": true`; `return_im` gives the full IM object. A DM's id is stable per user;
- `chat.postMessage` with a user id as `channel` posts to the app's DM with that user (opening it)
  and answers with the DM's `D...` id in `channel`; `conversations.history` on a DM needs
  `im:history`. The bot is a member of every DM it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from integrations.emulators.slack import SlackError, _Call, _Channel, _invalid_arguments

if TYPE_CHECKING:
    from integrations.emulators.slack import SlackEmulator

_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{2,}")
_MAX_DM_USERS = 8


@dataclass
class _Usergroup:
    id: str
    users: list[str]
    disabled: bool = False


class SlackDirectory:
    """The emulator's user groups and DMs; its methods run with the emulator's lock held."""

    def __init__(self, emu: SlackEmulator) -> None:
        self._emu = emu
        self._usergroups: dict[str, _Usergroup] = {}

    # -- seeding ---------------------------------------------------------------------------------
    def add_usergroup(
        self, group_id: str, users: list[str] | tuple[str, ...], *, disabled: bool = False
    ) -> None:
        if not group_id.startswith("S"):
            raise ValueError(f"user group ids start with S, got {group_id!r}")
        bad = [u for u in users if not _USER_ID_RE.fullmatch(u)]
        if bad:
            raise ValueError(f"not Slack user ids: {bad}")
        self._usergroups[group_id] = _Usergroup(group_id, list(dict.fromkeys(users)), disabled)

    @staticmethod
    def dm_id(user_id: str) -> str:
        """The DM's id for a user: stable, `D` plus the user id without its first letter."""
        return f"D{user_id[1:]}"

    # -- chat.postMessage to a user --------------------------------------------------------------
    def route_user_post(self, call: _Call) -> None:
        """A `channel` that is a user id becomes the app's DM with that user (opened if need be)."""
        target = call.text("channel")
        if target is not None and target in self._emu._users:
            call.params["channel"] = self._open(target)[0].id

    # -- methods ---------------------------------------------------------------------------------
    def usergroups_users_list(self, call: _Call) -> dict[str, Any]:
        self._emu._require_scope("usergroups:read")
        group_id = call.require("usergroup")
        group = self._usergroups.get(group_id)
        if group is None or (group.disabled and not call.flag("include_disabled")):
            raise SlackError("no_such_subteam")
        return {"users": list(group.users)}

    def users_lookup_by_email(self, call: _Call) -> dict[str, Any]:
        self._emu._require_scope("users:read.email")
        email = call.require("email").strip().lower()
        user_id = next(
            (uid for uid, user in self._emu._users.items() if str(user["email"]).lower() == email), None
        )
        if user_id is None:
            raise SlackError("users_not_found")
        return {"user": self._emu._user_object(user_id)}

    def conversations_open(self, call: _Call) -> dict[str, Any]:
        users_param, channel_id = call.text("users"), call.text("channel")
        if channel_id is not None:
            channel = self._emu._channels.get(channel_id)
            if channel is None:
                raise SlackError("channel_not_found")
            if channel.im_user is None:
                raise SlackError("method_not_supported_for_channel_type")
            self._emu._require_scope("im:write")
            return self._answer(channel, already_open=True, full=call.flag("return_im"))
        if users_param is None:
            raise SlackError("users_list_not_supplied")
        users = [u.strip() for u in users_param.split(",") if u.strip()]
        if len(users) > _MAX_DM_USERS:
            raise SlackError("too_many_users")
        if len(users) > 1:
            self._emu._require_scope("mpim:write")
            raise _invalid_arguments("the emulator models 1:1 DMs only (one user in `users`)")
        self._emu._require_scope("im:write")
        (user_id,) = users
        if user_id not in self._emu._users:
            raise SlackError("user_not_found")
        channel, already_open = self._open(user_id)
        return self._answer(channel, already_open=already_open, full=call.flag("return_im"))

    # -- helpers ---------------------------------------------------------------------------------
    def _open(self, user_id: str) -> tuple[_Channel, bool]:
        """The DM with `user_id`, created on first use; True when it was already open."""
        dm_id = self.dm_id(user_id)
        existing = self._emu._channels.get(dm_id)
        if existing is not None:
            return existing, True
        channel = _Channel(dm_id, user_id, private=True, member=True, im_user=user_id)
        self._emu._channels[dm_id] = channel
        return channel, False

    def _answer(self, channel: _Channel, *, already_open: bool, full: bool) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if already_open:
            body.update(no_op=True, already_open=True)
        if full:
            body["channel"] = channel.public(context_team_id=self._emu.team_id, creator=self._emu.bot_user_id)
        else:
            body["channel"] = {"id": channel.id}
        return body
