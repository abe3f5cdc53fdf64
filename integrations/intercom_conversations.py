"""Intercom conversation JSON (or the SDK's model of it) to `HelpdeskItem`.

Conversations the team started (`source.delivered_as` not `customer_initiated`) owe no first reply
until the customer writes: `first_contact_at` comes from `first_contact_reply`, and `statistics` may
be null (it still is in Intercom's recorded reply to such a conversation).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.domain.model import HelpdeskItem, Source, TicketRef
from integrations.base import HelpdeskError

CUSTOMER_INITIATED = "customer_initiated"
# Source author types that are the customer (`contact` is not sent by 2.14 but costs nothing to accept).
_CONTACT_AUTHORS = frozenset({"user", "lead", "contact"})
_TAG_RE = re.compile(r"<[^>]*>")


def conversation_item(
    conv: Any, *, url: str, admin_names: Mapping[str, str], team_names: Mapping[str, str]
) -> HelpdeskItem:
    """One conversation, read by attribute (an SDK model or a `JsonView`), with teammate names."""
    conv_id = str(conv.id)
    stats = conv.statistics
    assignee_id = id_str(conv.admin_assignee_id)
    group_id = id_str(conv.team_assignee_id)
    tags = conv.tags.tags if conv.tags is not None and conv.tags.tags else []
    created_at = _required_time(conv.created_at, conv_id, "created_at")
    first_contact_at = _first_contact_at(conv, created_at)
    first_admin_reply_at = _time(stats.first_admin_reply_at) if stats is not None else None
    if first_admin_reply_at is not None and (
        first_contact_at is None or first_admin_reply_at < first_contact_at
    ):
        # Only a reply to the customer is a first reply, never the team's own opening message.
        first_admin_reply_at = None
    return HelpdeskItem(
        ref=TicketRef(Source.INTERCOM, conv_id),
        subject=_subject(conv),
        status=str(conv.state),
        priority=str(conv.priority) if conv.priority is not None else None,
        group_id=group_id,
        group_name=team_names.get(group_id) if group_id else None,
        assignee_id=assignee_id,
        assignee_name=admin_names.get(assignee_id) if assignee_id else None,
        url=url,
        created_at=created_at,
        updated_at=_required_time(conv.updated_at, conv_id, "updated_at"),
        first_admin_reply_at=first_admin_reply_at,
        last_contact_reply_at=_time(stats.last_contact_reply_at) if stats is not None else None,
        waiting_since=_time(conv.waiting_since),
        tags=tuple(t.name for t in tags if t.name),
        first_contact_at=first_contact_at,
    )


class JsonView:
    """Attribute access over a conversation's JSON (None where a key is absent), so search results
    map through `conversation_item` exactly like the SDK's own (unvalidated) models of `find`."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        value = self._raw.get(name)
        if isinstance(value, dict):
            return JsonView(value)
        if isinstance(value, list):
            return [JsonView(v) if isinstance(v, dict) else v for v in value]
        return value


def id_str(value: Any) -> str | None:
    """Intercom sends ids as JSON integers (team ids too, despite the SDK's `str`): compare as strings."""
    if value is None or value == "":
        return None
    return str(value)


def _time(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _customer_started(source: Any) -> bool | None:
    """Whether the customer opened the conversation: `delivered_as` decides; without it the source
    author's type; None when Intercom says neither (e.g. a blank Twitter author)."""
    if source is None:
        return None
    if source.delivered_as:
        return source.delivered_as == CUSTOMER_INITIATED
    author_type = source.author.type if source.author is not None else None
    return author_type in _CONTACT_AUTHORS if author_type else None


def _first_contact_at(conv: Any, created_at: datetime) -> datetime | None:
    """When the customer first wrote: the opening message if they started it, else their first reply
    (`first_contact_reply`, or `statistics.first_contact_reply_at` when that is missing), else None:
    nobody owes a first reply to a message the team sent. An unknown origin keeps `created_at`."""
    started = _customer_started(conv.source)
    if started:
        return created_at
    reply = conv.first_contact_reply
    stats = conv.statistics
    first = _time(reply.created_at) if reply is not None else None
    first = first or (_time(stats.first_contact_reply_at) if stats is not None else None)
    if first is None and started is None:
        return created_at
    return first


def _required_time(value: int | None, conv_id: str, name: str) -> datetime:
    if value is None:
        raise HelpdeskError(f"Intercom conversation {conv_id} has no {name}")
    return datetime.fromtimestamp(value, UTC)


def _subject(conv: Any) -> str:
    if conv.title:
        return str(conv.title)
    source = conv.source
    if source is not None and source.subject and source.subject.strip():
        return _plain(source.subject)
    if source is not None and source.body:
        text = _plain(source.body)
        if text:
            return text[:80]
    return "(no subject)"


def _plain(text: str) -> str:
    return " ".join(html.unescape(_TAG_RE.sub(" ", text)).split())
