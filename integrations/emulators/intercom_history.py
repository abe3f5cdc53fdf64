"""History seeding for the Intercom emulator: what happened to a conversation, at given times.

`IntercomEmulator` inherits `HistorySeeding`, so a test or the demo seeds a conversation's past with
the parts Intercom records for it: `close`, `reopen` (an `open` part), `assign` (an `assignment` part
whose `assigned_to` names the admin or team), `snooze` (a `snoozed` part), each by a registered admin
at `at` (default now) with the same effect on state and `statistics` as
`POST /conversations/{id}/parts`; and `rate`, the customer's `conversation_rating` (1-5, an optional
remark, `created_at` the time of the rating, the contact and the teammate it rates). Every one of them
moves `updated_at` forward, as Intercom does, so `POST /conversations/search` on `updated_at` finds
the change.

Search accepts `sort: {"field": "updated_at", "order": "ascending"}` (the emulator's only order);
any other sort is a 400, never silently ignored.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

SORT_FIELDS = frozenset({"updated_at"})
SORT_ORDERS = frozenset({"ascending"})


def sort_error(sort: Any) -> str | None:
    """Why a search `sort` is refused, or None when it is absent or `updated_at` ascending."""
    if sort is None:
        return None
    if not isinstance(sort, dict) or set(sort) - {"field", "order"}:
        return "sort must be an object with field and order"
    if sort.get("field") not in SORT_FIELDS:
        return f"the emulator sorts only by {sorted(SORT_FIELDS)}, not {sort.get('field')!r}"
    if sort.get("order", "ascending") not in SORT_ORDERS:
        return f"sort order must be one of {sorted(SORT_ORDERS)}, got {sort.get('order')!r}"
    return None


class HistorySeeding:
    """Seed helpers over `IntercomEmulator`'s state: they use its lock, conversations and admins, and its
    `_at`, `_customer`, `_touch`, `_render` and `_manage_part` (the part writer the HTTP route uses)."""

    _lock: threading.RLock
    _conversations: dict[str, dict[str, Any]]
    _admins: dict[str, dict[str, Any]]

    def close(
        self, id: int | str, admin_id: int | str, *, at: datetime | int | None = None
    ) -> dict[str, Any]:  # noqa: A002
        """The admin closes the conversation at `at` (a `close` part); returns the API JSON."""
        return self._seed_part(id, admin_id, {"message_type": "close"}, at)

    def reopen(
        self, id: int | str, admin_id: int | str, *, at: datetime | int | None = None
    ) -> dict[str, Any]:  # noqa: A002
        """The admin reopens it at `at` (an `open` part; `count_reopens` grows if it was closed)."""
        return self._seed_part(id, admin_id, {"message_type": "open"}, at)

    def assign(
        self,
        id: int | str,  # noqa: A002
        admin_id: int | str,
        *,
        assignee_id: int | str,
        kind: str = "admin",
        at: datetime | int | None = None,
    ) -> dict[str, Any]:
        """The admin assigns it to an admin or a team (`kind`; assignee 0 unassigns) at `at`."""
        body = {"message_type": "assignment", "type": kind, "assignee_id": str(assignee_id)}
        return self._seed_part(id, admin_id, body, at)

    def snooze(
        self,
        id: int | str,  # noqa: A002
        admin_id: int | str,
        *,
        until: datetime | int,
        at: datetime | int | None = None,
    ) -> dict[str, Any]:
        """The admin snoozes it until `until` at `at` (a `snoozed` part)."""
        return self._seed_part(id, admin_id, {"message_type": "snoozed", "snoozed_until": _stamp(until)}, at)

    def rate(
        self,
        id: int | str,  # noqa: A002
        rating: int,
        *,
        at: datetime | int | None = None,
        remark: str | None = None,
        admin_id: int | str | None = None,
    ) -> dict[str, Any]:
        """The customer rates the conversation `rating` (1-5) at `at`, for the admin `admin_id`
        (default: the assignee). Rating again replaces the rating, keeping its `created_at`."""
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ValueError(f"rating must be an integer from 1 to 5, got {rating!r}")
        with self._lock:
            conv = self._conversations[str(id)]
            now = self._at(at)
            teammate = admin_id if admin_id is not None else conv["admin_assignee_id"]
            previous = conv.get("conversation_rating") or {}
            conv["conversation_rating"] = {
                "rating": rating,
                "remark": remark or "",
                "created_at": previous.get("created_at", now),
                "updated_at": now,
                "contact": {"type": "contact", "id": self._customer(conv)["id"], "external_id": None},
                "teammate": None if teammate is None else {"type": "admin", "id": str(teammate)},
            }
            self._touch(conv, now)
            return self._render(conv, parts=True)

    def _seed_part(
        self, conv_id: int | str, admin_id: int | str, body: dict[str, Any], at: datetime | int | None
    ) -> dict[str, Any]:
        with self._lock:
            conv = self._conversations[str(conv_id)]
            self._manage_part(conv, self._admins[str(admin_id)], body, self._at(at))
            return self._render(conv, parts=True)


def _stamp(value: datetime | int) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)
