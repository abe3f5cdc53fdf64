"""The one `Helpdesk` protocol every helpdesk adapter implements, and the errors adapters raise.

Adapters map vendor JSON into `bot.domain.model` types at the edge; nothing past `integrations/`
sees vendor JSON or SDK objects.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.domain.model import HelpdeskItem, Source


class HelpdeskError(Exception):
    """A helpdesk call failed after the adapter's retries. The message is safe to show (no secrets)."""


class HelpdeskAuthError(HelpdeskError):
    """Credentials were refused (401/403)."""


class HelpdeskNotFound(HelpdeskError):
    """The ticket or conversation does not exist (404)."""


# Prefix of the checkpoint cursors adapters store after each page of a first sync: a restart resumes
# the first sync from there instead of enumerating every open item again.
FIRST_SYNC_CHECKPOINT = "first:"


@dataclass(frozen=True)
class SyncPage:
    """One page of changed items.

    `cursor` is what the caller stores *after* persisting `items`, to resume from on the next sync: a
    `first:…` checkpoint between pages of a first sync, the incremental cursor on its last page. None
    means "nothing to store yet" (inside one vendor page that spans several SyncPages).
    `api_calls` counts the HTTP requests the adapter made to produce this page (for cost reporting).
    """

    items: tuple[HelpdeskItem, ...]
    cursor: str | None
    api_calls: int = 1


ProgressCallback = Callable[[int], None]

# Longest customer message a TicketContext carries (an escalation modal shows it in a section block).
CUSTOMER_MESSAGE_MAX_CHARS = 2000
_TAG_RE = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class TicketContext:
    """What an escalation modal shows besides HelpdeskItem: who asked and what they last said."""

    requester: str | None  # requester / contact display name (fallback: email), None if unknown
    # Plain text (HTML stripped, whitespace normalised, <= 2000 chars) of the newest message written by
    # the customer; None when the customer has not written (e.g. outbound Intercom conversation).
    last_customer_message: str | None


def customer_text(raw: str | None, *, is_html: bool) -> str | None:
    """A message body as `TicketContext.last_customer_message`: tags dropped (`is_html`), entities
    decoded, whitespace collapsed, cut to CUSTOMER_MESSAGE_MAX_CHARS with an ellipsis; None if empty."""
    if not raw:
        return None
    text = html.unescape(_TAG_RE.sub(" ", raw)) if is_html else raw
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > CUSTOMER_MESSAGE_MAX_CHARS:
        text = text[: CUSTOMER_MESSAGE_MAX_CHARS - 1].rstrip() + "\u2026"
    return text


@runtime_checkable
class Helpdesk(Protocol):
    """What Deskwatch needs from a helpdesk. Implementations: ZendeskHelpdesk, IntercomHelpdesk."""

    source: Source

    def check_auth(self) -> str:
        """One cheap identity call (`users/me` / `me`). Returns a description such as the account
        email; raises HelpdeskAuthError on bad credentials, HelpdeskError when unreachable."""
        ...

    def sync(self, cursor: str | None, *, now: datetime) -> Iterator[SyncPage]:
        """Yield pages of items changed since `cursor` (opaque, produced by this adapter).

        cursor None = first sync: every open item, however old. API cost of a later sync grows with
        what changed, not with the backlog. `now` is aware UTC.
        """
        ...

    def get_item(self, external_id: str) -> HelpdeskItem:
        """Fetch one item fresh from the helpdesk (with SLA data); raises HelpdeskNotFound."""
        ...

    def get_items(self, external_ids: Sequence[str]) -> list[HelpdeskItem]:
        """Fetch several items fresh (Zendesk: show_many in chunks of 100; Intercom: one read each).

        Items that no longer exist are left out rather than raising; used to re-read tickets right
        before a breach is posted on stored state that may be a sync old."""
        ...

    def item_url(self, external_id: str) -> str:
        """Agent-facing URL of the item in the helpdesk UI."""
        ...

    def get_context(self, external_id: str) -> TicketContext:
        """Who asked and what they last wrote, read fresh (2-3 requests); raises HelpdeskNotFound
        for an unknown id, with the same error mapping as `get_item`."""
        ...


# -- write-back ------------------------------------------------------------------------------------
class HelpdeskWriteOutcomeUnknown(HelpdeskError):
    """The write was sent but its answer was lost (timeout, reset, 5xx): it may have been applied.

    Never re-send blind: look for the note with `HelpdeskWriter.find_note` first (`add_note_once`)."""


# Markers are idempotency keys such as "deskwatch:esc:12:note": plain characters only, so the line
# that carries them survives HTML escaping and plain-text rendering unchanged.
_MARKER_RE = re.compile(r"[A-Za-z0-9:._-]{1,120}")


def note_marker_line(marker: str) -> str:
    """The unobtrusive last line of a note that makes it findable again after an unknown outcome."""
    if not _MARKER_RE.fullmatch(marker):
        raise ValueError(f"note markers are 1-120 of [A-Za-z0-9:._-], got {marker[:40]!r}")
    return f"[deskwatch ref {marker}]"


@dataclass(frozen=True)
class WriteResult:
    """What a write did: `ref` is the vendor id of the note (comment / conversation part) when known;
    `created` is False when the note was already there (found by its marker) and nothing was sent."""

    external_id: str
    ref: str | None = None
    created: bool = True


@runtime_checkable
class HelpdeskWriter(Protocol):
    """Write-back Deskwatch does on submit and Accept. Implementations: ZendeskWriter, IntercomWriter.

    Errors: HelpdeskAuthError, HelpdeskNotFound, HelpdeskError (definitely not applied; safe to
    retry), HelpdeskWriteOutcomeUnknown (maybe applied; call `find_note` before any re-send).
    """

    source: Source

    def add_internal_note(self, external_id: str, body: str, *, marker: str) -> WriteResult:
        """Add an agent-only note (Zendesk `public: false`, Intercom `message_type: note`) holding
        `body` plus `note_marker_line(marker)`. Sent exactly once: no retry layer re-sends it."""
        ...

    def find_note(self, external_id: str, marker: str) -> str | None:
        """The id of the note carrying `marker`, or None: how a caller resolves an unknown outcome."""
        ...

    def route(
        self,
        external_id: str,
        *,
        group_id: str | None = None,
        assignee_id: str | None = None,
        tags: Sequence[str] = (),
    ) -> WriteResult:
        """Set the group (Zendesk group / Intercom team) and assignee (Zendesk agent / Intercom admin)
        and add `tags`, keeping existing ones. Sets values, so repeating it is harmless."""
        ...

    def find_agent_by_email(self, email: str) -> str | None:
        """The helpdesk agent id for `email` (case-insensitive), None for a non-agent or unknown one."""
        ...

    def agent_email(self, agent_id: str) -> str | None:
        """The email of helpdesk agent `agent_id` (lower-cased), None when unknown or not an agent: how
        a ticket's assignee is mapped to a Slack user (the reverse of `find_agent_by_email`)."""
        ...


def add_note_once(writer: HelpdeskWriter, external_id: str, body: str, *, marker: str) -> WriteResult:
    """Add the note unless it is already there; after an unknown outcome, look before giving up.

    Raises HelpdeskWriteOutcomeUnknown when the note is still not visible after a lost answer: the
    caller retries this later (it looks first again), so a note is never added twice."""
    found = writer.find_note(external_id, marker)
    if found is not None:
        return WriteResult(external_id, found, created=False)
    try:
        return writer.add_internal_note(external_id, body, marker=marker)
    except HelpdeskWriteOutcomeUnknown:
        found = writer.find_note(external_id, marker)
        if found is None:
            raise
        return WriteResult(external_id, found, created=True)
