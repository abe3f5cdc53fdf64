"""App unfurls for the Slack emulator: user messages with links, `link_shared` events, `chat.unfurl`.

A test (or the demo) posts a message as a user (`post_user_message`), builds the `link_shared` event
Slack would send for it (`link_shared_event`, shaped like api.slack.com/events/link_shared) and
delivers it to the app; the app answers with `chat.unfurl`, which is checked as strictly as Slack does:

- the target is `channel` + `ts` of a message that exists, or `unfurl_id` + `source` of a link
  the emulator announced (mixing or half-giving them is `invalid_arguments`);
- `links:write` is needed (`missing_scope`); an unknown channel is `cannot_find_channel`, an unknown
  message or unfurl id `cannot_find_message`;
- `unfurls` is a JSON object (a string in form bodies) of URL -> `{"blocks": [...]}`, anything else
  `invalid_unfurls_format`; its blocks must be valid Block Kit (`invalid_blocks`), and every URL must
  appear in the message (`cannot_unfurl_url`).

Accepted unfurls are stored on the message (`emu.messages()[i]["unfurls"]`, later calls replace
a URL's card, as Slack modifies the same attachment) or, for the composer, on the unfurl id
(`composer_unfurls()`).
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from integrations.emulators.blockkit import validate_blocks

if TYPE_CHECKING:
    from integrations.emulators.slack import SlackEmulator, _Call

_SOURCES = ("conversations_history", "composer")
# Slack's markup for a link in message text: <https://…> or <https://…|label>; bare URLs count too.
_LINK_RE = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>|(https?://[^\s<>]+)")


def links_in(text: str) -> list[str]:
    """The URLs of a message's text, in order, each once."""
    found: list[str] = []
    for match in _LINK_RE.finditer(text or ""):
        url = match.group(1) or match.group(2)
        if url not in found:
            found.append(url)
    return found


class SlackUnfurls:
    """The unfurl part of a `SlackEmulator`; every method that touches state runs under its lock."""

    def __init__(self, emu: SlackEmulator) -> None:
        self.emu = emu
        self._ids: dict[str, tuple[str, str]] = {}  # unfurl_id -> (channel, ts) of a posted message
        self._composer: dict[str, dict[str, Any]] = {}  # unfurl_id -> {channel, user, links, unfurls}

    # -- test/demo API ---------------------------------------------------------------------------
    def post_user_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """A message a person posts (what Slack then sends `link_shared` for); returns its ts."""
        from integrations.emulators.slack import _Message  # this module is imported by slack.py

        with self.emu._lock:
            if channel not in self.emu._channels:
                raise KeyError(f"unknown channel {channel}")
            message = _Message(
                channel=channel,
                ts=self.emu._next_ts(),
                user=user,
                text=text,
                blocks=None,
                thread_ts=thread_ts,
                reply_broadcast=False,
                metadata=None,
            )
            self.emu._messages.append(message)
            return message.ts

    def link_shared_event(
        self, channel: str, ts: str, *, domains: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """The `link_shared` event for the links in message `ts` (only those on `domains`, the app's
        `app_unfurl_domains`, when given): `source` conversations_history, with an `unfurl_id`."""
        with self.emu._lock:
            message = self.emu._find(channel, ts)
            unfurl_id = self._unfurl_id(channel, ts)
            self._ids[unfurl_id] = (channel, ts)
            event: dict[str, Any] = {
                "type": "link_shared",
                "channel": channel,
                "is_bot_user_member": self.emu._channels[channel].member,
                "user": message.user,
                "message_ts": ts,
                "unfurl_id": unfurl_id,
                "source": "conversations_history",
                "links": _links(links_in(message.text), domains),
                "event_ts": ts,
            }
            if message.thread_ts is not None:
                event["thread_ts"] = message.thread_ts
            return event

    def composer_link_shared_event(self, channel: str, user: str, urls: list[str]) -> dict[str, Any]:
        """The `link_shared` event for links typed into the composer (not posted yet): Slack's
        `message_ts` is then no message's ts, and only `unfurl_id` + `source` can answer it."""
        with self.emu._lock:
            seq = self.emu._next_seq()
            unfurl_id = f"{user}-composer-{seq:08d}"
            self._composer[unfurl_id] = {"channel": channel, "user": user, "links": list(urls), "unfurls": {}}
            return {
                "type": "link_shared",
                "channel": "COMPOSER",
                "is_bot_user_member": True,
                "user": user,
                "message_ts": unfurl_id,
                "unfurl_id": unfurl_id,
                "source": "composer",
                "links": _links(urls, None),
                "event_ts": f"{self.emu._next_ts()}",
            }

    def composer_unfurls(self, unfurl_id: str) -> dict[str, Any]:
        with self.emu._lock:
            return copy.deepcopy(self._composer[unfurl_id]["unfurls"])

    # -- Web API ---------------------------------------------------------------------------------
    def chat_unfurl(self, call: _Call) -> dict[str, Any]:
        from integrations.emulators.slack import SlackError, _invalid_arguments

        self.emu._require_scope("links:write")
        channel, ts = call.text("channel"), call.text("ts")
        unfurl_id, source = call.text("unfurl_id"), call.text("source")
        by_message = channel is not None and ts is not None
        by_id = unfurl_id is not None and source is not None
        if (
            by_message == by_id
            or (channel is None) != (ts is None)
            or (unfurl_id is None) != (source is None)
        ):
            raise _invalid_arguments("provide channel and ts together, or unfurl_id and source together")
        if source is not None and source not in _SOURCES:
            raise _invalid_arguments(f"source must be one of {', '.join(_SOURCES)}")
        unfurls = self._unfurls(call)
        if by_message:
            found = self.emu._channels.get(channel)
            if found is None or (found.private and not found.member):
                raise SlackError("cannot_find_channel")
            target = self._message(channel, ts)
            store, urls = self._on_message(target), links_in(target.text)
        elif source == "composer":
            record = self._composer.get(unfurl_id)
            if record is None:
                raise SlackError("cannot_find_message")
            store, urls = record["unfurls"], record["links"]
        else:
            posted = self._ids.get(unfurl_id)
            if posted is None:
                raise SlackError("cannot_find_message")
            target = self._message(*posted)
            store, urls = self._on_message(target), links_in(target.text)
        for url in unfurls:
            if url not in urls:
                raise SlackError("cannot_unfurl_url")
        store.update(copy.deepcopy(unfurls))
        return {}

    # -- helpers (lock held) ---------------------------------------------------------------------
    def _unfurls(self, call: _Call) -> dict[str, Any]:
        from integrations.emulators.slack import SlackError

        unfurls = call.json_value("unfurls", "invalid_unfurls_format")
        if not isinstance(unfurls, dict) or not unfurls:
            raise SlackError("invalid_unfurls_format")
        for url, unfurl in unfurls.items():
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise SlackError("invalid_unfurls_format")
            if not isinstance(unfurl, dict) or not isinstance(unfurl.get("blocks"), list):
                raise SlackError("invalid_unfurls_format")
            errors = validate_blocks(unfurl["blocks"], surface="message")
            if errors:
                raise SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        return unfurls

    def _message(self, channel: str, ts: str):
        from integrations.emulators.slack import SlackError

        for message in self.emu._messages:
            if message.channel == channel and message.ts == ts:
                return message
        raise SlackError("cannot_find_message")

    @staticmethod
    def _on_message(message) -> dict[str, Any]:
        if message.unfurls is None:
            message.unfurls = {}
        return message.unfurls

    def _unfurl_id(self, channel: str, ts: str) -> str:
        digest = hashlib.sha256(f"{self.emu.team_id}:{channel}:{ts}".encode()).hexdigest()
        return f"{channel}.{ts.replace('.', '')}.{digest}"


def _links(urls: list[str], domains: tuple[str, ...] | None) -> list[dict[str, str]]:
    out = []
    for url in urls:
        host = (urlsplit(url).hostname or "").lower()
        if domains is None:
            out.append({"domain": host, "url": url})
            continue
        matched = next((d for d in domains if host == d or host.endswith("." + d)), None)
        if matched is not None:  # Slack names the registered domain, not the link's host
            out.append({"domain": matched, "url": url})
    return out
