"""Intercom adapter: the `Helpdesk` protocol over the real python-intercom 5.0.1 client.

SDK quirks handled here (see shared/API-PITFALLS.md), each covered by a test:
- the client is built with explicit `token=`, `base_url=` and `Intercom-Version: 2.14` (the SDK
  defaults its token from `INTERCOM_API_KEY` and sends no version header);
- the SDK pager resends the same search page forever, so search is paginated here with
  `pagination.starting_after`, 150 per page and a hard page cap;
- the SDK's `request_options["max_retries"]` is off by two (retries start counting at 2) and its
  sleeps cannot be replaced, so retries (429 honouring Retry-After / X-RateLimit-Reset, 5xx,
  transport errors) are done here with the SDK's own retries off;
- a pydantic filter model turns `True` into `1`, so search queries are sent as plain dicts;
- `team_assignee_id` arrives as a JSON integer although the SDK types it as a string;
- conversations the team started (`source.delivered_as` not `customer_initiated`) owe no first reply
  until the customer writes: `first_contact_at` comes from `first_contact_reply`, and `statistics`
  may be null (it still is in Intercom's recorded reply to such a conversation).
"""

from __future__ import annotations

import email.utils
import html
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from intercom import Intercom
from intercom.core.api_error import ApiError

from bot.domain.model import HelpdeskItem, Source, TicketRef
from integrations.base import HelpdeskAuthError, HelpdeskError, HelpdeskNotFound, SyncPage

DEFAULT_BASE_URL = "https://api.intercom.io"
API_VERSION = "2.14"
PER_PAGE = 150
DEFAULT_MAX_PAGES = 500
MAX_RETRY_DELAY_SECONDS = 60.0
# Teammates and teams added after the lists were fetched are looked up again, at most this often.
NAMES_REFRESH = timedelta(hours=1)
_CURSOR_RE = re.compile(r"^updated_at:(\d{1,12})$")
_TAG_RE = re.compile(r"<[^>]*>")
_RETRYABLE = frozenset({408, 409, 429})
CUSTOMER_INITIATED = "customer_initiated"
# Source author types that are the customer (`contact` is not sent by 2.14 but costs nothing to accept).
_CONTACT_AUTHORS = frozenset({"user", "lead", "contact"})

T = TypeVar("T")


class IntercomHelpdesk:
    """Reads Intercom conversations as `HelpdeskItem`s; one instance per workspace token."""

    source = Source.INTERCOM

    def __init__(
        self,
        *,
        token: str,
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 30.0,
        app_id: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = Intercom(
            token=token,
            base_url=base_url or DEFAULT_BASE_URL,
            headers={"Intercom-Version": API_VERSION},
            timeout=timeout,
        )
        self._max_retries = max_retries
        self._max_pages = max_pages
        self._sleep = sleep
        self._app_id = app_id
        self._admin_names: dict[str, str] | None = None
        self._team_names: dict[str, str] | None = None
        self._names_fetched_at: datetime | None = None
        self._http_calls = 0

    # -- Helpdesk protocol -----------------------------------------------------------------------
    def check_auth(self) -> str:
        me = self._call("identify the token's admin (GET /me)", self._client.admins.identify)
        if me is None:
            raise HelpdeskError("Intercom GET /me returned no admin")
        if me.app is not None and me.app.id_code and self._app_id is None:
            self._app_id = me.app.id_code
        workspace = me.app.name if me.app is not None and me.app.name else self._app_id
        return f"{me.name} <{me.email}> in Intercom workspace {workspace}"

    def sync(self, cursor: str | None, *, now: datetime) -> Iterator[SyncPage]:
        """First sync: every open or snoozed conversation; later: everything updated since the cursor.

        Cursors are `updated_at:<unix>`; the last page carries the next one. Raises ValueError at once
        on a malformed cursor or a naive `now`.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware UTC")
        if cursor is None:
            return self._first_sync(now)
        match = _CURSOR_RE.match(cursor)
        if match is None:
            raise ValueError(
                f"invalid Intercom sync cursor {cursor[:40]!r}: expected 'updated_at:<unix time>'"
            )
        return self._incremental_sync(int(match.group(1)), now)

    def get_item(self, external_id: str) -> HelpdeskItem:
        conv = self._find(external_id)
        self._load_names([conv])
        return self._to_item(conv)

    def get_items(self, external_ids: Sequence[str]) -> list[HelpdeskItem]:
        """One read per distinct id (Intercom has no batch read), in the order given; ids that are
        gone (404) are left out, any other failure raises as in `get_item`."""
        conversations = []
        for external_id in dict.fromkeys(external_ids):
            try:
                conversations.append(self._find(external_id))
            except HelpdeskNotFound:
                continue
        self._load_names(conversations)
        return [self._to_item(conv) for conv in conversations]

    def _find(self, external_id: str) -> Any:
        return self._call(
            f"fetch conversation {external_id}",
            lambda **kw: self._client.conversations.find(external_id, **kw),
            not_found=f"Intercom conversation {external_id} not found",
        )

    def item_url(self, external_id: str) -> str:
        return f"https://app.intercom.com/a/inbox/{self._workspace_id()}/inbox/conversation/{external_id}"

    # -- sync ------------------------------------------------------------------------------------
    def _first_sync(self, now: datetime) -> Iterator[SyncPage]:
        final_cursor = f"updated_at:{int(now.timestamp()) - 1}"
        for items, calls, _ in self._search_pages({"field": "open", "operator": "=", "value": True}, now):
            yield SyncPage(items=items, cursor=None, api_calls=calls)
        yield SyncPage(items=(), cursor=final_cursor, api_calls=0)

    def _incremental_sync(self, since: int, now: datetime) -> Iterator[SyncPage]:
        newest = since + 1
        query = {"field": "updated_at", "operator": ">", "value": since}
        for items, calls, is_last in self._search_pages(query, now):
            newest = max([newest, *(int(item.updated_at.timestamp()) for item in items)])
            yield SyncPage(
                items=items, cursor=f"updated_at:{newest - 1}" if is_last else None, api_calls=calls
            )

    def _search_pages(
        self, query: dict[str, Any], now: datetime
    ) -> Iterator[tuple[tuple[HelpdeskItem, ...], int, bool]]:
        """Yield (items, HTTP calls, is_last) per search page, following `pages.next` ourselves."""
        starting_after: str | None = None
        for _ in range(self._max_pages):
            before = self._http_calls
            pagination: dict[str, Any] = {"per_page": PER_PAGE}
            if starting_after is not None:
                pagination["starting_after"] = starting_after
            pager = self._call(
                "search conversations",
                lambda pagination=pagination, **kw: self._client.conversations.search(
                    query=query, pagination=pagination, **kw
                ),
            )
            conversations = list(pager.items or [])
            self._load_names(conversations, now)
            items = tuple(self._to_item(conv) for conv in conversations)
            pages = pager.response.pages
            next_cursor = pages.next.starting_after if pages is not None and pages.next is not None else None
            is_last = not next_cursor or not conversations
            if not is_last and next_cursor == starting_after:
                raise HelpdeskError(
                    "Intercom search returned the same page cursor twice; stopping to avoid a loop"
                )
            yield items, self._http_calls - before, is_last
            if is_last:
                return
            starting_after = next_cursor
        raise HelpdeskError(
            f"Intercom search still had more pages after {self._max_pages} pages of {PER_PAGE}; "
            "stopping (raise max_pages if the backlog is really that large)"
        )

    # -- names and urls --------------------------------------------------------------------------
    def _load_names(self, conversations: list[Any], now: datetime | None = None) -> None:
        """Fetch the admin / team lists when the first assigned conversation shows up, and again (at most
        once per NAMES_REFRESH of sync time) when a sync meets an id the lists do not know: a teammate
        hired after start gets a name without costing quiet syncs a call."""
        admin_ids = {_id_str(c.admin_assignee_id) for c in conversations} - {None}
        team_ids = {_id_str(c.team_assignee_id) for c in conversations} - {None}
        refresh_due = (
            now is not None
            and self._names_fetched_at is not None
            and now - self._names_fetched_at >= NAMES_REFRESH
        )
        if admin_ids and (self._admin_names is None or (refresh_due and admin_ids - set(self._admin_names))):
            admins = self._call("list admins", self._client.admins.list)
            self._admin_names = {str(a.id): a.name for a in admins.admins or [] if a is not None and a.name}
            self._names_fetched_at = now or self._names_fetched_at
        if team_ids and (self._team_names is None or (refresh_due and team_ids - set(self._team_names))):
            teams = self._call("list teams", self._client.teams.list)
            self._team_names = {str(t.id): t.name for t in teams.teams or [] if t.name}
            self._names_fetched_at = now or self._names_fetched_at

    def _workspace_id(self) -> str:
        if self._app_id is None:
            me = self._call("identify the workspace (GET /me)", self._client.admins.identify)
            if me is None or me.app is None or not me.app.id_code:
                raise HelpdeskError("Intercom GET /me did not return the workspace id (app.id_code)")
            self._app_id = me.app.id_code
        return self._app_id

    def _to_item(self, conv: Any) -> HelpdeskItem:
        conv_id = str(conv.id)
        stats = conv.statistics
        assignee_id = _id_str(conv.admin_assignee_id)
        group_id = _id_str(conv.team_assignee_id)
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
            group_name=(self._team_names or {}).get(group_id) if group_id else None,
            assignee_id=assignee_id,
            assignee_name=(self._admin_names or {}).get(assignee_id) if assignee_id else None,
            url=self.item_url(conv_id),
            created_at=created_at,
            updated_at=_required_time(conv.updated_at, conv_id, "updated_at"),
            first_admin_reply_at=first_admin_reply_at,
            last_contact_reply_at=_time(stats.last_contact_reply_at) if stats is not None else None,
            waiting_since=_time(conv.waiting_since),
            tags=tuple(t.name for t in tags if t.name),
            first_contact_at=first_contact_at,
        )

    # -- HTTP with retries -----------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[..., T], *, not_found: str | None = None) -> T:
        """Run one SDK call with our retry policy and map failures to Helpdesk errors (never the token)."""
        attempts = self._max_retries + 1
        for attempt in range(1, attempts + 1):
            self._http_calls += 1
            try:
                return fn(request_options={"max_retries": 0})
            except ApiError as exc:
                status = exc.status_code or 0
                detail = f"HTTP {status} {_error_code(exc.body)}"
                if status in (401, 403):
                    raise HelpdeskAuthError(
                        f"Intercom refused the access token ({detail}) to {what}"
                    ) from None
                if status == 404:
                    raise HelpdeskNotFound(not_found or f"Intercom found nothing to {what}") from None
                if status not in _RETRYABLE and status < 500:
                    raise HelpdeskError(f"Intercom rejected the request to {what}: {detail}") from None
                if attempt == attempts:
                    raise HelpdeskError(
                        f"Intercom failed to {what} after {attempts} attempts: {detail}"
                    ) from None
                self._sleep(_retry_delay(exc.headers or {}, attempt))
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise HelpdeskError(
                        f"Intercom unreachable to {what} after {attempts} attempts ({type(exc).__name__})"
                    ) from None
                self._sleep(_backoff(attempt))
        raise AssertionError("unreachable: the retry loop always returns or raises")


# -- helpers ---------------------------------------------------------------------------------------
def _id_str(value: Any) -> str | None:
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


def _error_code(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else getattr(body, "errors", None)
    if errors:
        first = errors[0]
        code = first.get("code") if isinstance(first, dict) else getattr(first, "code", None)
        if code:
            return str(code)
    return "error"


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _backoff(attempt: int) -> float:
    """1, 2, 4, 8 ... seconds after the 1st, 2nd, 3rd ... failed attempt."""
    return min(2.0 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS)


def _retry_delay(headers: dict[str, str], attempt: int) -> float:
    """Retry-After (seconds) first; else X-RateLimit-Reset measured against the server's own Date
    header (no local clock, no skew); else exponential backoff. Capped at 60 s."""
    retry_after = _header(headers, "retry-after")
    if retry_after is not None and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_RETRY_DELAY_SECONDS)
    reset, date = _header(headers, "x-ratelimit-reset"), _header(headers, "date")
    if reset is not None and reset.strip().isdigit() and date is not None:
        try:
            server_now = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return _backoff(attempt)
        return min(max(int(reset) - server_now, 1.0), MAX_RETRY_DELAY_SECONDS)
    return _backoff(attempt)
