"""A strict local emulator of the Slack Web API, for tests and `deskwatch demo`.

The real `slack_sdk.WebClient` talks to it through `base_url=emu.api_url`. It answers like Slack does
(HTTP 200 with `ok: false` and an `error` code for logical errors, 429 with `Retry-After` for rate
limits) and refuses what Slack refuses (bad tokens, unknown channels, invalid Block Kit, expired
trigger_ids), so code that passes here does not fail on the first real workspace. Response shapes follow
`shared/specs/slack/` (OpenAPI v2 and the java-slack-sdk samples).

Access is as strict as Slack's: each channel is public or private, archived or not, and the bot is a
member or not (`add_channel`). Private channels the bot is not in do not exist for it
(`channel_not_found`); reading history of a public channel it is not in is `not_in_channel`, posting
there needs `chat:write.public`; `conversations.join` works for public channels only. The token's
scopes (`scopes=`) are checked per method (`missing_scope` with `needed`/`provided`) and sent back in
the `x-oauth-scopes` header of every response, as Slack does.

User groups (`add_usergroup`, `usergroups.users.list`), `users.lookupByEmail` and DMs
(`conversations.open`, posting to a user id, DM history under `im:history`) live in `slack_directory.py`.

Timestamps are deterministic: the first message gets "1700000000.000100" and every message or ephemeral
after it 100 microseconds more, so ts values are unique, strictly increasing and reproducible.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from integrations.emulators.base import EmulatorServer, RecordedRequest, Response, _Fault
from integrations.emulators.blockkit import validate_blocks, validate_view

_FIRST_TS_MICROS = 1_700_000_000_000_100
_TS_STEP_MICROS = 100
_MAX_TEXT = 40_000
_TRIGGER_TTL_SECONDS = 3.0
_CHANNEL_POST_INTERVAL_SECONDS = 1.0
_HISTORY_MAX_LIMIT = 999

DEFAULT_BOT_SCOPES: tuple[str, ...] = (
    "chat:write",
    "chat:write.public",
    "channels:join",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "users:read",
    "users:read.email",
    "commands",
    "usergroups:read",
    "links:read",
    "links:write",
    "im:write",
    "im:history",
)
"""Deskwatch's bot scopes; the emulator's token has these unless a test says otherwise."""

# Sent back as `x-accepted-oauth-scopes`, as Slack does: the scopes any of which the method accepts.
_ACCEPTED_SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "chat.unfurl": "links:write",
    "conversations.info": "channels:read,groups:read,im:read,mpim:read",
    "conversations.history": "channels:history,groups:history,im:history,mpim:history",
    "conversations.replies": "channels:history,groups:history,im:history,mpim:history",
    "conversations.join": "channels:join",
    "conversations.open": "channels:write,groups:write,im:write,mpim:write",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
}


class SlackError(Exception):
    """A logical Slack error: answered with HTTP 200 and `{"ok": false, "error": code, ...}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def _invalid_arguments(*problems: str) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})


@dataclass
class _Channel:
    id: str
    name: str
    private: bool = False
    member: bool = True
    archived: bool = False
    im_user: str | None = None  # set for the bot's DM with this user

    def public(self, *, context_team_id: str, creator: str) -> dict[str, Any]:
        """The conversation object of conversations.info/join (OpenAPI example + java-slack-sdk sample)."""
        if self.im_user is not None:
            return {
                "id": self.id,
                "created": 1_700_000_000,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": context_team_id,
                "updated": 1_700_000_000_000,
                "user": self.im_user,
                "is_user_deleted": False,
                "last_read": "0000000000.000000",
                "latest": None,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
                "priority": 0,
            }
        legacy_group = self.private and self.id.startswith("G")  # pre-2021 private channels
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not legacy_group,
            "is_group": legacy_group,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.private,
            "is_archived": self.archived,
            "is_general": False,
            "is_member": self.member,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "previous_names": [],
            "unlinked": 0,
            "created": 1_700_000_000,
            "creator": creator,
            "context_team_id": context_team_id,
            "shared_team_ids": [context_team_id],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class _Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    reply_broadcast: bool
    metadata: dict[str, Any] | None
    edited_ts: str | None = None
    unfurls: dict[str, Any] | None = None  # url -> {blocks}, set by chat.unfurl (slack_unfurl.py)

    def public(self) -> dict[str, Any]:
        extra = {"unfurls": self.unfurls} if self.unfurls else {}
        return copy.deepcopy(
            {
                **extra,
                "channel": self.channel,
                "ts": self.ts,
                "text": self.text,
                "blocks": self.blocks,
                "thread_ts": self.thread_ts,
                "reply_broadcast": self.reply_broadcast,
                "metadata": self.metadata,
                "edited": self.edited_ts is not None,
                "user": self.user,
            }
        )


@dataclass
class _Trigger:
    issued_at: float
    used: bool = False


@dataclass
class _Call:
    """One API call: merged query/body parameters plus where the token came from."""

    params: dict[str, Any]
    token: str | None
    warnings: list[str] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None or value == "":
            return None
        return str(value)

    def require(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise _invalid_arguments(f"missing required field: {name}")
        return value

    def flag(self, name: str) -> bool:
        value = self.params.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true") if value is not None else False

    def json_value(self, name: str, error: str) -> Any:
        """Objects arrive as JSON strings in form bodies and as real JSON in JSON bodies."""
        value = self.params.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise SlackError(error) from exc
        return value


def _format_ts(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    return f"{seconds}.{fraction:06d}"


def _ts_micros(value: str, error: str) -> int:
    seconds, _, fraction = value.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 6:
        raise SlackError(error)
    return int(seconds) * 1_000_000 + int(fraction.ljust(6, "0") or 0)


class SlackEmulator(EmulatorServer):
    """Slack Web API emulator: state on the instance, every state change under the base lock."""

    name = "slack"

    def __init__(
        self,
        *,
        token: str = "xoxb-deskwatch-demo",
        channels: Iterable[str] = ("C0ALERTS",),
        users: Iterable[str] = (),
        team_id: str = "T0DESKWATCH",
        bot_user_id: str = "U0DESKBOT",
        clock: Callable[[], float] = time.monotonic,
        enforce_channel_rate: bool = False,
        wall_clock: Callable[[], float] = time.time,
        scopes: Iterable[str] = DEFAULT_BOT_SCOPES,
        app_token: str = "xapp-1-A0DESKWATCH-1-deskwatch-emulator",
    ) -> None:
        super().__init__()
        self.token = token
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id[1:]
        self.app_id = "A0DESKWATCH"
        self._clock = clock
        self._wall_clock = wall_clock
        self._enforce_channel_rate = enforce_channel_rate
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._messages: list[_Message] = []
        self._ephemerals: list[dict[str, Any]] = []
        self._response_names: set[str] = set()
        self._responses: list[dict[str, Any]] = []
        self._triggers: dict[str, _Trigger] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}
        self._last_ts = _FIRST_TS_MICROS - _TS_STEP_MICROS
        self._last_post_at: dict[str, float] = {}
        self._seq = 0
        for channel_id in channels:
            self.add_channel(channel_id)
        for user_id in users:
            self.add_user(user_id)
        from integrations.emulators.slack_directory import SlackDirectory  # it builds on this module

        self._directory = SlackDirectory(self)
        from integrations.emulators.slack_socket import SlackSocketServer  # Socket Mode, app token

        self.socket = SlackSocketServer(self, app_token=app_token)
        from integrations.emulators.slack_unfurl import SlackUnfurls  # link_shared and chat.unfurl

        self.unfurl = SlackUnfurls(self)
        self._methods: dict[str, Callable[[_Call], dict[str, Any] | Response]] = {
            "apps.connections.open": self.socket.apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.unfurl": self.unfurl.chat_unfurl,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.join": self._conversations_join,
            "conversations.replies": self._conversations_replies,
            "conversations.open": self._directory.conversations_open,
            "usergroups.users.list": self._directory.usergroups_users_list,
            "users.info": self._users_info,
            "users.lookupByEmail": self._directory.users_lookup_by_email,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
        }
        for verb in ("GET", "POST"):
            self.route(verb, "/api/{method}", self._api)
        self.route("POST", "/response/{name}", self._response_url_post)

    # -- public test/demo API --------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """Value for `WebClient(base_url=...)`; it must end with a slash."""
        return f"{self.url}/api/"

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        private: bool = False,
        member: bool = True,
        archived: bool = False,
    ) -> None:
        """Create a channel, or change an existing one's attributes (its messages stay).

        `member` says whether the bot is in it; a private channel with `member=False` is invisible
        to the bot, as in Slack, until someone runs `/invite @Deskwatch` (call again with `member=True`).
        """
        with self._lock:
            self._channels[channel_id] = _Channel(
                channel_id, name or channel_id.lower(), private=private, member=member, archived=archived
            )

    def channel(self, channel_id: str) -> dict[str, Any]:
        """The channel as conversations.info would show it to a member: to assert on joins."""
        with self._lock:
            return self._channels[channel_id].public(context_team_id=self.team_id, creator=self.bot_user_id)

    def add_user(
        self, user_id: str, name: str | None = None, tz: str = "UTC", email: str | None = None
    ) -> None:
        """A human user; `email` defaults to `<name>@example.com` (shown with users:read.email)."""
        ZoneInfo(tz)  # unknown zones fail here, not on the first users.info
        name = name or user_id.lower()
        with self._lock:
            self._users[user_id] = {"name": name, "tz": tz, "email": email or f"{name}@example.com"}

    def add_usergroup(
        self, group_id: str, users: list[str] | tuple[str, ...], *, disabled: bool = False
    ) -> None:
        """A user group (`S...`) and its members, for usergroups.users.list (Slack keeps the order)."""
        with self._lock:
            self._directory.add_usergroup(group_id, users, disabled=disabled)

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM with `user_id` (stable; it exists once opened or posted to)."""
        return self._directory.dm_id(user_id)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Posted messages as they are now (after chat.update, without deleted ones), in post order."""
        with self._lock:
            return [m.public() for m in self._messages if channel is None or m.channel == channel]

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals if channel is None or e["channel"] == channel]

    def response_url(self, name: str = "r") -> str:
        """A `response_url` for interactivity payloads; Bolt's `respond()` POSTs JSON to it."""
        with self._lock:
            self._response_names.add(name)
        return f"{self.url}/response/{name}"

    def responses(self) -> list[dict[str, Any]]:
        """Bodies accepted on response URLs, each with the URL's name under `_name`."""
        with self._lock:
            return copy.deepcopy(self._responses)

    def issue_trigger_id(self) -> str:
        """A trigger_id as Slack puts in interactivity payloads: valid for 3 s by `clock`, once."""
        with self._lock:
            trigger_id = f"{self._next_seq()}.{self.team_id}.{self._seq:032x}"
            self._triggers[trigger_id] = _Trigger(issued_at=self._clock())
            return trigger_id

    def views(self) -> list[dict[str, Any]]:
        """Modals and Home tabs as they are now (after views.update/publish), in creation order."""
        with self._lock:
            return copy.deepcopy(list(self._views.values()))

    def stop(self) -> None:
        self.socket.stop()
        super().stop()

    # -- faults ----------------------------------------------------------------------------------
    def fail_next_with_error(self, method: str, error: str, *, count: int = 1, **extra: Any) -> None:
        """Answer the next `count` calls of `method` ("chat.postMessage" or "/api/chat.postMessage") as
        Slack answers a logical error: HTTP 200, `{"ok": false, "error": error, **extra}`, no state change."""
        path = method if method.startswith("/") else f"/api/{method}"
        self.fail_next(path, status=200, count=count, body={"ok": False, "error": error, **extra})

    def handle(self, req: RecordedRequest) -> Response:
        """Every Web API response carries the token's scopes in `x-oauth-scopes`, errors included."""
        resp = super().handle(req)
        if req.path.startswith("/api/"):
            headers = {"x-oauth-scopes": ",".join(self.scopes)}
            accepted = _ACCEPTED_SCOPES.get(req.path.removeprefix("/api/"))
            if accepted is not None:
                headers["x-accepted-oauth-scopes"] = accepted
            resp = Response(resp.status, resp.body, {**headers, **resp.headers})
        return resp

    def fault_response(self, fault: _Fault) -> Response:
        """Slack-shaped fault bodies: 429 `ratelimited` with Retry-After, 5xx `internal_error`."""
        if fault.body is not None:
            body = fault.body
        elif fault.status == 429:
            body = {"ok": False, "error": "ratelimited"}
        elif fault.status == 503:
            body = {"ok": False, "error": "service_unavailable"}
        elif fault.status >= 500:
            body = {"ok": False, "error": "internal_error"}
        else:
            body = {"ok": False, "error": "invalid_request"}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(fault.status, body, headers)

    # -- dispatch --------------------------------------------------------------------------------
    def _api(self, req: RecordedRequest, path: dict[str, str]) -> Response:
        method = path["method"]
        handler = self._methods.get(method)
        if handler is None:
            return Response(200, {"ok": False, "error": "unknown_method", "req_method": method})
        try:
            call = self._parse_call(req)
            if method not in self.socket.APP_TOKEN_METHODS:  # those check the app-level token
                self._authenticate(call)
            with self._lock:
                result = handler(call)
        except SlackError as exc:
            return Response(200, {"ok": False, "error": exc.code, **exc.extra})
        if isinstance(result, Response):
            return result
        if call.warnings:
            result["warning"] = ",".join(call.warnings)
            metadata = result.setdefault("response_metadata", {})
            metadata["warnings"] = list(call.warnings)
        return Response(200, {"ok": True, **result})

    def _parse_call(self, req: RecordedRequest) -> _Call:
        params: dict[str, Any] = {k: v[-1] for k, v in req.query.items()}
        token = params.get("token")
        content_type = (req.header("Content-Type") or "").lower()
        warnings: list[str] = []
        if req.method == "POST" and req.body:
            if content_type.startswith("application/json"):
                try:
                    body = json.loads(req.body)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise SlackError("invalid_json") from exc
                if not isinstance(body, dict):
                    raise SlackError("json_not_object")
                if "charset" not in content_type:
                    warnings.append("missing_charset")
                body.pop("token", None)  # Slack ignores tokens inside JSON bodies
                params.update(body)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
                params.update({k: v[-1] for k, v in form.items()})
                token = params.get("token", token)
            else:
                raise SlackError("invalid_form_data")
        auth = req.header("Authorization") or ""
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
        params.pop("token", None)
        return _Call(params=params, token=token or None, warnings=warnings)

    def _authenticate(self, call: _Call) -> None:
        if call.token is None:
            raise SlackError("not_authed")
        if call.token != self.token:
            raise SlackError("invalid_auth")

    # -- helpers (called with the lock held) -----------------------------------------------------
    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _next_ts(self) -> str:
        """Like Slack: the posting time in epoch microseconds, strictly increasing."""
        self._last_ts = max(self._last_ts + _TS_STEP_MICROS, int(self._wall_clock() * 1_000_000))
        return _format_ts(self._last_ts)

    def _require_scope(self, *needed: str) -> None:
        """Slack's `missing_scope`: names the scope wanted and every scope the token has."""
        if not any(scope in self.scopes for scope in needed):
            raise SlackError("missing_scope", needed=",".join(needed), provided=",".join(self.scopes))

    def _lookup(self, call: _Call, name: str = "channel") -> _Channel:
        """The channel as the bot sees it: private channels it is not in are `channel_not_found`."""
        channel_id = call.text(name)
        found = self._channels.get(channel_id) if channel_id is not None else None
        if found is None or (found.private and not found.member):
            raise SlackError("channel_not_found")
        return found

    def _channel(self, call: _Call, name: str = "channel") -> str:
        return self._lookup(call, name).id

    def _readable(self, call: _Call, *, read: str) -> _Channel:
        """A channel the bot may read: scope by type (channels, groups or im); history needs membership."""
        channel = self._lookup(call)
        prefix = "im" if channel.im_user is not None else "groups" if channel.private else "channels"
        self._require_scope(f"{prefix}:{read}")
        if read == "history" and not channel.member:
            raise SlackError("not_in_channel")
        return channel

    def _find(self, channel: str, ts: str | None) -> _Message:
        for message in self._messages:
            if message.channel == channel and message.ts == ts:
                return message
        raise SlackError("message_not_found")

    def _content(self, call: _Call, *, surface_label: str) -> tuple[str | None, list[dict[str, Any]] | None]:
        """Validated `text` and `blocks` of a message call (either may be absent)."""
        text = call.text("text")
        if text is not None and len(text) > _MAX_TEXT:
            raise SlackError("msg_too_long")
        blocks = call.json_value("blocks", "invalid_blocks_format")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            errors = validate_blocks(blocks, surface="message")
            if errors:
                raise SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        if text is None and not blocks and not call.params.get("attachments"):
            raise SlackError("no_text")
        if text is None and blocks:
            call.warnings.append(f"missing_text_in_{surface_label}")
        return text, blocks

    def _metadata(self, call: _Call) -> dict[str, Any] | None:
        metadata = call.json_value("metadata", "invalid_metadata_format")
        if metadata is None:
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not metadata["event_type"]
            or not isinstance(metadata.get("event_payload", {}), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}

    def _rate_limited(self, channel: str) -> Response | None:
        if not self._enforce_channel_rate:
            return None
        now = self._clock()
        last = self._last_post_at.get(channel)
        if last is not None and now - last < _CHANNEL_POST_INTERVAL_SECONDS:
            return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        return None

    def _wire(self, message: _Message, *, include_metadata: bool) -> dict[str, Any]:
        """A message as Slack returns it in API responses and conversations.history."""
        wire: dict[str, Any] = {
            "type": "message",
            "user": message.user,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": message.text,
            "ts": message.ts,
        }
        if message.blocks:
            wire["blocks"] = copy.deepcopy(message.blocks)
        if message.thread_ts is not None:
            wire["thread_ts"] = message.thread_ts
            parent = next(
                (m for m in self._messages if m.channel == message.channel and m.ts == message.thread_ts),
                None,
            )
            wire["parent_user_id"] = parent.user if parent is not None else self.bot_user_id
            if message.reply_broadcast:
                wire["subtype"] = "thread_broadcast"
        replies = [m for m in self._messages if m.channel == message.channel and m.thread_ts == message.ts]
        if replies:
            wire["thread_ts"] = message.ts
            wire["reply_count"] = len(replies)
            wire["reply_users"] = sorted({m.user for m in replies})
            wire["reply_users_count"] = len(wire["reply_users"])
            wire["latest_reply"] = replies[-1].ts
        if message.edited_ts is not None:
            wire["edited"] = {"user": message.user, "ts": message.edited_ts}
        if include_metadata and message.metadata is not None:
            wire["metadata"] = copy.deepcopy(message.metadata)
        return wire

    def _page(self, call: _Call, messages: list[_Message]) -> dict[str, Any]:
        """Filter by oldest/latest/inclusive and cut a cursor page (cursor = base64 "next_ts:<micros>")."""
        inclusive = call.flag("inclusive")
        oldest = _ts_micros(call.text("oldest") or "0", "invalid_ts_oldest")
        latest_text = call.text("latest")
        latest = _ts_micros(latest_text, "invalid_ts_latest") if latest_text else None
        try:
            limit = int(call.params.get("limit") or 100)
        except ValueError as exc:
            raise SlackError("invalid_limit") from exc
        limit = max(1, min(limit, _HISTORY_MAX_LIMIT))

        def in_window(micros: int) -> bool:
            above = micros >= oldest if inclusive else micros > oldest
            below = latest is None or (micros <= latest if inclusive else micros < latest)
            return above and below

        selected = [m for m in messages if in_window(_ts_micros(m.ts, "invalid_ts"))]
        cursor = call.text("cursor")
        if cursor is not None:
            try:
                decoded = base64.b64decode(cursor, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise SlackError("invalid_cursor") from exc
            if not decoded.startswith("next_ts:"):
                raise SlackError("invalid_cursor")
            start = [i for i, m in enumerate(selected) if str(_ts_micros(m.ts, "x")) == decoded[8:]]
            if not start:
                raise SlackError("invalid_cursor")
            selected = selected[start[0] :]
        page, rest = selected[:limit], selected[limit:]
        include_metadata = call.flag("include_all_metadata")
        result: dict[str, Any] = {
            "messages": [self._wire(m, include_metadata=include_metadata) for m in page],
            "has_more": bool(rest),
        }
        if rest:
            next_cursor = base64.b64encode(f"next_ts:{_ts_micros(rest[0].ts, 'x')}".encode()).decode()
            result["response_metadata"] = {"next_cursor": next_cursor}
        return result

    def _trigger(self, call: _Call) -> _Trigger:
        trigger_id = call.require("trigger_id")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used or self._clock() - trigger.issued_at > _TRIGGER_TTL_SECONDS:
            raise SlackError("expired_trigger_id")
        return trigger

    def _view_payload(self, call: _Call, kind: str) -> dict[str, Any]:
        view = call.json_value("view", "invalid_arguments")
        if view is None:
            raise _invalid_arguments("missing required field: view")
        errors = validate_view(view)
        if not errors and view.get("type") != kind:
            errors = [f"must be {kind} for this method [json-pointer:/view/type]"]
        if errors:
            raise _invalid_arguments(*errors)
        return view

    def _store_view(
        self, view: dict[str, Any], *, view_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        previous = self._views.get(view_id) if view_id else None
        seq = self._next_seq()
        view_id = view_id or f"V0DW{seq:07d}"
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": copy.deepcopy(view["blocks"]),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id") or (previous["external_id"] if previous else ""),
            "state": {"values": {}},
            "hash": f"{1_700_000_000 + seq}.{seq:08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": previous["previous_view_id"] if previous else None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            **extra,
        }
        external_id = stored["external_id"]
        if external_id and any(
            v["external_id"] == external_id and v["id"] != view_id for v in self._views.values()
        ):
            raise SlackError("duplicate_external_id")
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    # -- methods (called with the lock held) -----------------------------------------------------
    def _auth_test(self, call: _Call) -> dict[str, Any]:
        return {
            "url": "https://deskwatch.slack.com/",
            "team": "Deskwatch",
            "user": "deskwatch",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, call: _Call) -> dict[str, Any] | Response:
        self._require_scope("chat:write")
        self._directory.route_user_post(call)  # a user id posts to the app's DM with that user
        target = self._lookup(call)
        if target.archived:
            raise SlackError("is_archived")
        if not target.member and "chat:write.public" not in self.scopes:
            raise SlackError("not_in_channel")
        channel = target.id
        limited = self._rate_limited(channel)
        if limited is not None:
            return limited
        text, blocks = self._content(call, surface_label="blocks")
        metadata = self._metadata(call)
        thread_ts = call.text("thread_ts")
        if thread_ts is not None:
            parent = next((m for m in self._messages if m.channel == channel and m.ts == thread_ts), None)
            if parent is None:
                raise SlackError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts
        message = _Message(
            channel=channel,
            ts=self._next_ts(),
            user=self.bot_user_id,
            text=text or "",
            blocks=blocks or None,
            thread_ts=thread_ts,
            reply_broadcast=thread_ts is not None and call.flag("reply_broadcast"),
            metadata=metadata,
        )
        self._messages.append(message)
        if self._enforce_channel_rate:
            self._last_post_at[channel] = self._clock()
        return {"channel": channel, "ts": message.ts, "message": self._wire(message, include_metadata=True)}

    def _chat_update(self, call: _Call) -> dict[str, Any]:
        self._require_scope("chat:write")
        target = self._lookup(call)
        channel = target.id
        message = self._find(channel, call.require("ts"))
        if target.archived:
            raise SlackError("is_archived")
        text, blocks = self._content(call, surface_label="blocks")
        metadata = self._metadata(call)
        if text is not None:
            message.text = text
        if "blocks" in call.params:
            message.blocks = blocks or None
        if metadata is not None:
            message.metadata = metadata
        message.edited_ts = self._next_ts()
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": self._wire(message, include_metadata=True),
        }

    def _chat_post_ephemeral(self, call: _Call) -> dict[str, Any]:
        self._require_scope("chat:write")
        channel = self._channel(call)
        user = call.require("user")
        if user not in self._users:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(call, surface_label="blocks")
        thread_ts = call.text("thread_ts")
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "ts": ts,
                "text": text or "",
                "blocks": blocks or None,
                "thread_ts": thread_ts,
            }
        )
        return {"message_ts": ts}

    def _chat_delete(self, call: _Call) -> dict[str, Any]:
        self._require_scope("chat:write")
        channel = self._channel(call)
        message = self._find(channel, call.require("ts"))
        self._messages.remove(message)
        return {"channel": channel, "ts": message.ts}

    def _chat_get_permalink(self, call: _Call) -> dict[str, Any]:
        channel = self._channel(call)
        message = self._find(channel, call.require("message_ts"))
        link = f"https://deskwatch.slack.com/archives/{channel}/p{message.ts.replace('.', '')}"
        if message.thread_ts is not None:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _conversations_info(self, call: _Call) -> dict[str, Any]:
        channel = self._readable(call, read="read")
        return {"channel": channel.public(context_team_id=self.team_id, creator=self.bot_user_id)}

    def _conversations_join(self, call: _Call) -> dict[str, Any]:
        """Public channels only; joining twice is ok with Slack's `already_in_channel` warning."""
        self._require_scope("channels:join")
        channel = self._channels.get(call.text("channel") or "")
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.private:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.archived:
            raise SlackError("is_archived")
        if channel.member:
            call.warnings.append("already_in_channel")
        channel.member = True
        return {"channel": channel.public(context_team_id=self.team_id, creator=self.bot_user_id)}

    def _conversations_history(self, call: _Call) -> dict[str, Any]:
        channel = self._readable(call, read="history").id
        visible = [
            m for m in self._messages if m.channel == channel and (m.thread_ts is None or m.reply_broadcast)
        ]
        result = self._page(call, list(reversed(visible)))
        return {**result, "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}

    def _conversations_replies(self, call: _Call) -> dict[str, Any]:
        channel = self._readable(call, read="history").id
        ts = call.require("ts")
        root = next((m for m in self._messages if m.channel == channel and m.ts == ts), None)
        if root is None:
            raise SlackError("thread_not_found")
        root_ts = root.thread_ts or root.ts
        thread = [m for m in self._messages if m.channel == channel and root_ts in (m.ts, m.thread_ts)]
        return self._page(call, thread)

    def _users_info(self, call: _Call) -> dict[str, Any]:
        """Shape of the java-slack-sdk users.info sample; `profile.email` only with users:read.email."""
        self._require_scope("users:read")
        return {"user": self._user_object(call.require("user"))}

    def _user_object(self, user_id: str) -> dict[str, Any]:
        """The user object of users.info and users.lookupByEmail; `user_not_found` for an unknown id."""
        profile: dict[str, Any]
        if user_id == self.bot_user_id:
            name, tz, is_bot = "deskwatch", "UTC", True
            profile = {"bot_id": self.bot_id, "api_app_id": self.app_id, "always_active": True}
        elif user_id in self._users:
            user = self._users[user_id]
            name, tz, is_bot = user["name"], user["tz"], False
            profile = {"email": user["email"]} if "users:read.email" in self.scopes else {}
        else:
            raise SlackError("user_not_found")
        zone = ZoneInfo(tz)
        # Slack reports the zone's offset at the moment of the call, DST included.
        local = datetime.now(UTC).astimezone(zone)
        offset = local.utcoffset()
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name,
            "deleted": False,
            "tz": tz,
            "tz_label": local.tzname() or tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "profile": {
                "real_name": name,
                "real_name_normalized": name,
                "display_name": name,
                "display_name_normalized": name,
                "team": self.team_id,
                **profile,
            },
        }

    def _views_open(self, call: _Call) -> dict[str, Any]:
        trigger = self._trigger(call)
        view = self._view_payload(call, "modal")
        stored = self._store_view(view)
        trigger.used = True
        return {"view": stored}

    def _views_push(self, call: _Call) -> dict[str, Any]:
        trigger = self._trigger(call)
        view = self._view_payload(call, "modal")
        stored = self._store_view(view)
        trigger.used = True
        return {"view": stored}

    def _views_update(self, call: _Call) -> dict[str, Any]:
        view_id = call.text("view_id")
        external_id = call.text("external_id")
        if view_id is None and external_id is None:
            raise _invalid_arguments("must provide view_id or external_id")
        current = next(
            (
                v
                for v in self._views.values()
                if (view_id is not None and v["id"] == view_id)
                or (view_id is None and external_id is not None and v["external_id"] == external_id)
            ),
            None,
        )
        if current is None:
            raise SlackError("not_found")
        expected_hash = call.text("hash")
        if expected_hash is not None and expected_hash != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._view_payload(call, current["type"])
        extra = {"user_id": current["user_id"]} if "user_id" in current else {}
        return {"view": self._store_view(view, view_id=current["id"], **extra)}

    def _views_publish(self, call: _Call) -> dict[str, Any]:
        user_id = call.require("user_id")
        if user_id not in self._users:
            raise SlackError("user_not_found")
        current_id = self._home_views.get(user_id)
        expected_hash = call.text("hash")
        if expected_hash is not None and (
            current_id is None or self._views[current_id]["hash"] != expected_hash
        ):
            raise SlackError("hash_conflict")
        view = self._view_payload(call, "home")
        stored = self._store_view(view, view_id=current_id, user_id=user_id)
        self._home_views[user_id] = stored["id"]
        return {"view": stored}

    # -- response_url ----------------------------------------------------------------------------
    def _response_url_post(self, req: RecordedRequest, path: dict[str, str]) -> Response:
        """Like Slack's response_url: 404 for unknown URLs, 400 with a plain error code for bad bodies."""
        name = path["name"]
        with self._lock:
            if name not in self._response_names:
                return Response(404, "no_service")
        try:
            body = json.loads(req.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Response(400, "invalid_payload")
        if not isinstance(body, dict):
            return Response(400, "invalid_payload")
        text = body.get("text")
        blocks = body.get("blocks")
        if isinstance(text, str) and len(text) > _MAX_TEXT:
            return Response(400, "msg_too_long")
        if blocks is not None and (
            not isinstance(blocks, list) or validate_blocks(blocks, surface="message")
        ):
            return Response(400, "invalid_blocks")
        if not text and not blocks and not body.get("delete_original") and not body.get("attachments"):
            return Response(400, "no_text")
        with self._lock:
            self._responses.append({**body, "_name": name})
        return Response(200, "ok")
