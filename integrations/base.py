"""The one `Helpdesk` protocol every helpdesk adapter implements, and the errors adapters raise.

Adapters map vendor JSON into `bot.domain.model` types at the edge; nothing past `integrations/`
sees vendor JSON or SDK objects.
"""

from __future__ import annotations

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
