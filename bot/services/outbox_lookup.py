"""Resolving an unseen outcome: did a post whose answer was lost reach Slack? Look it up by the
idempotency key in its metadata (channel history, or the thread for a threaded post), joining a
public channel first when the bot reaches it only through `chat:write.public`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.metrics import Metrics
from bot.store.outbox import OutboxItem

log = structlog.get_logger(__name__)

LOOKUP_PAGES = 5
LOOKUP_PAGE_SIZE = 200
LOOKUP_SLACK = timedelta(minutes=1)  # Slack's ts vs our clock
# Only an archived channel ends a lookup for good: the post could not go anywhere now. Anything else (a
# private channel the bot was removed from, a revoked token) may be fixed, so the lookup is retried.
_LOOKUP_FINAL = frozenset({"is_archived", "channel_is_archived"})


@dataclass(frozen=True)
class Found:
    result: dict[str, Any]


@dataclass(frozen=True)
class CannotLook:
    reason: str
    permanent: bool = False


NOT_FOUND = object()


class UnseenOutcomeLookup:
    def __init__(self, *, slack: WebClient, metrics: Metrics) -> None:
        self.slack = slack
        self.metrics = metrics

    def resolve(self, item: OutboxItem) -> Found | CannotLook | object:
        """Find the message an earlier attempt may have posted, by its idempotency key in metadata."""
        target = (item.result or {}).get("target") or {}
        channel = target.get("channel") or item.channel
        if not channel:
            return NOT_FOUND  # never sent anywhere
        since = (item.first_sent_at or item.created_at) - LOOKUP_SLACK
        try:
            return self._find(item.key, channel, target.get("thread_ts"), since)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error != "not_in_channel":
                return CannotLook(f"history lookup failed: {error}", permanent=error in _LOOKUP_FINAL)
        joined = self._join(channel)
        if joined is not None:
            return CannotLook(
                f"cannot read {channel} to check for an unseen post ({joined}); invite the bot "
                f"with /invite @Deskwatch so it can look before re-posting"
            )
        try:
            return self._find(item.key, channel, target.get("thread_ts"), since)
        except SlackApiError as exc:
            return CannotLook(f"history lookup failed after joining: {exc.response.get('error')}")

    def _join(self, channel: str) -> str | None:
        """Join a public channel so its history can be read; the Slack error when that is refused."""
        try:
            self.slack.conversations_join(channel=channel)
        except SlackApiError as exc:
            return str(exc.response.get("error") or "join refused")
        log.info("outbox_joined_channel", channel=channel)
        return None

    def _find(self, key: str, channel: str, thread_ts: str | None, since: datetime) -> Found | object:
        cursor = None
        oldest = f"{max(since.timestamp(), 0):.6f}"
        for _ in range(LOOKUP_PAGES):
            if thread_ts:
                page = self.slack.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=LOOKUP_PAGE_SIZE,
                    cursor=cursor,
                )
            else:
                page = self.slack.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=LOOKUP_PAGE_SIZE,
                    cursor=cursor,
                )
            self.metrics.outbox_lookups.inc()
            for message in page.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("outbox_key") == key:
                    return Found({"channel": channel, "ts": message["ts"], "thread_ts": thread_ts})
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return NOT_FOUND
        return CannotLook(
            f"message not found in the last {LOOKUP_PAGES * LOOKUP_PAGE_SIZE} messages of {channel}"
        )
