"""Intercom adapter: the `Helpdesk` protocol over the real python-intercom 5.0.1 client.

SDK quirks handled here (see shared/API-PITFALLS.md), each covered by a test:
- the client is built with explicit `token=`, `base_url=` and `Intercom-Version: 2.14` (the SDK
  defaults its token from `INTERCOM_API_KEY` and sends no version header);
- the SDK pager resends the same search page forever, so search is paginated here with
  `pagination.starting_after`, 150 per page, to the end (a repeated cursor, or far more pages than
  the server's `total_pages`, stops it);
- the SDK parses every search result twice through its union-type checks (about 1.6 ms a
  conversation: two minutes of CPU for 75,000), so search pages are posted through the SDK's own
  HTTP client (auth, base URL, version header, timeout) and their JSON is read here;
- the SDK's `request_options["max_retries"]` is off by two (retries start counting at 2) and its
  sleeps cannot be replaced, so retries (429 honouring Retry-After / X-RateLimit-Reset, 5xx,
  transport errors) are done here with the SDK's own retries off;
- a pydantic filter model turns `True` into `1`, so search queries are sent as plain dicts;
- `team_assignee_id` arrives as a JSON integer although the SDK types it as a string;
- first sync checkpoints: after each page `first:<t0>:<starting_after>` is stored (the vendor's
  opaque cursor last, whatever it contains), and `sync` resumes there; the last page carries
  `updated_at:<t0>`. A checkpoint whose cursor Intercom refuses (400) restarts the enumeration;
- conversations the team started owe no first reply until the customer writes
  (`intercom_conversations.py` maps them), and have no customer message until then
  (`intercom_context.py`).
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from intercom import Intercom
from intercom.core.api_error import ApiError

from bot.domain.model import HelpdeskItem, Source
from integrations.base import HelpdeskAuthError, HelpdeskError, HelpdeskNotFound, SyncPage, TicketContext
from integrations.intercom_context import conversation_context
from integrations.intercom_conversations import JsonView, conversation_item, id_str

if TYPE_CHECKING:
    from integrations.intercom_writes import IntercomWriter

DEFAULT_BASE_URL = "https://api.intercom.io"
API_VERSION = "2.14"
PER_PAGE = 150
MAX_RETRY_DELAY_SECONDS = 60.0
# Teammates and teams added after the lists were fetched are looked up again, at most this often.
NAMES_REFRESH = timedelta(hours=1)
_CURSOR_RE = re.compile(r"^updated_at:(\d{1,12})$")
_FIRST_RE = re.compile(r"^first:(\d{1,12}):([!-~]{1,4000})$")
OPEN_QUERY = {"field": "open", "operator": "=", "value": True}
_RETRYABLE = frozenset({408, 409, 429})

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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = Intercom(
            token=token,
            base_url=base_url or DEFAULT_BASE_URL,
            headers={"Intercom-Version": API_VERSION},
            timeout=timeout,
        )
        self._max_retries = max_retries
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

        Cursors are `updated_at:<unix>` (the last page carries the next one) and, between the pages of
        a first sync, `first:<unix>:<starting_after>`. Raises ValueError at once on a malformed cursor
        or a naive `now`.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware UTC")
        if cursor is None:
            return self._first_sync(int(now.timestamp()) - 1, None, now)
        first = _FIRST_RE.match(cursor)
        if first is not None:
            return self._first_sync(int(first.group(1)), first.group(2), now)
        match = _CURSOR_RE.match(cursor)
        if match is None:
            raise ValueError(
                f"invalid Intercom sync cursor {cursor[:40]!r}: expected 'updated_at:<unix time>' "
                "or 'first:<unix time>:<starting_after>'"
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

    def get_context(self, external_id: str) -> TicketContext:
        """Customer name and newest customer message from one conversation read (`intercom_context.py`)."""
        return conversation_context(self, external_id)

    def writer(self, *, admin_id: str | None = None) -> IntercomWriter:
        """The write-back side on this client; `admin_id` acts (default: the token's admin)."""
        from integrations.intercom_writes import IntercomWriter

        return IntercomWriter(self, admin_id=admin_id)

    def _find(self, external_id: str) -> Any:
        return self._call(
            f"fetch conversation {external_id}",
            lambda **kw: self._client.conversations.find(external_id, **kw),
            not_found=f"Intercom conversation {external_id} not found",
        )

    def item_url(self, external_id: str) -> str:
        return f"https://app.intercom.com/a/inbox/{self._workspace_id()}/inbox/conversation/{external_id}"

    # -- sync ------------------------------------------------------------------------------------
    def _first_sync(self, t0: int, resume_after: str | None, now: datetime) -> Iterator[SyncPage]:
        """One SyncPage per search page; t0 (taken before the first page) makes the incremental cursor
        that follows cover every change made while the pages were read."""
        for items, calls, next_cursor in self._search_pages(OPEN_QUERY, now, resume_after):
            cursor = f"first:{t0}:{next_cursor}" if next_cursor else f"updated_at:{t0}"
            yield SyncPage(items=items, cursor=cursor, api_calls=calls)

    def _incremental_sync(self, since: int, now: datetime) -> Iterator[SyncPage]:
        newest = since + 1
        query = {"field": "updated_at", "operator": ">", "value": since}
        for items, calls, next_cursor in self._search_pages(query, now, None):
            newest = max([newest, *(int(item.updated_at.timestamp()) for item in items)])
            yield SyncPage(
                items=items, cursor=None if next_cursor else f"updated_at:{newest - 1}", api_calls=calls
            )

    def _search_pages(
        self, query: dict[str, Any], now: datetime, starting_after: str | None
    ) -> Iterator[tuple[tuple[HelpdeskItem, ...], int, str | None]]:
        """Yield (items, HTTP calls, next page's cursor or None on the last) per search page, following
        `pages.next` ourselves from `starting_after`; if Intercom refuses that one, from the top."""
        seen: set[str | None] = {starting_after}
        fetched, page_bound = 0, None
        while True:
            before = self._http_calls
            pagination: dict[str, Any] = {"per_page": PER_PAGE}
            if starting_after is not None:
                pagination["starting_after"] = starting_after
            try:
                body = self._call(
                    "search conversations",
                    lambda pagination=pagination, **kw: self._post_search(query, pagination, **kw),
                )
            except _Rejected as exc:
                if fetched or starting_after is None or exc.status != 400:
                    raise  # only the cursor a run resumes from may be stale; later ones are fresh
                starting_after, seen = None, {None}  # an expired or unknown checkpoint: from the top
                continue
            conversations = [
                JsonView(raw) for raw in body.get("conversations") or () if isinstance(raw, dict)
            ]
            self._load_names(conversations, now)
            items = tuple(self._to_item(conv) for conv in conversations)
            pages = body.get("pages") if isinstance(body.get("pages"), dict) else {}
            following = (pages.get("next") or {}).get("starting_after") if conversations else None
            if following is not None and not isinstance(following, str):
                raise HelpdeskError(f"Intercom search sent a {type(following).__name__} page cursor")
            if isinstance(pages.get("total_pages"), int):
                page_bound = max(page_bound or 0, 2 * pages["total_pages"] + 10)
            fetched += 1
            if following is not None and following in seen:
                raise HelpdeskError(
                    "Intercom search returned the same page cursor twice; stopping to avoid a loop"
                )
            if following is not None and page_bound is not None and fetched >= page_bound:
                raise HelpdeskError(
                    f"Intercom search still had more pages after {fetched} pages of {PER_PAGE}, far more "
                    "than the total_pages it reported; stopping to avoid a loop"
                )
            yield items, self._http_calls - before, following or None
            if not following:
                return
            seen.add(following)
            starting_after = following

    def _post_search(
        self,
        query: dict[str, Any],
        pagination: dict[str, Any],
        *,
        request_options: dict[str, Any],
        sort: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST /conversations/search on the SDK's HTTP client, returning the page's JSON unparsed."""
        body: dict[str, Any] = {"query": query, "pagination": pagination}
        if sort is not None:
            body["sort"] = sort
        return self._request_json("conversations/search", "POST", request_options, json=body)

    def _request_json(
        self, path: str, method: str, request_options: dict[str, Any], *, json: Any = None
    ) -> dict[str, Any]:
        """One request on the SDK's HTTP client (auth, base URL, version header, timeout): its JSON
        object unparsed, or ApiError for a non-2xx status (for `_call` to retry or map)."""
        response = self._client._client_wrapper.httpx_client.request(
            path,
            method=method,
            json=json,
            headers={"content-type": "application/json"} if json is not None else None,
            request_options=request_options,
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not 200 <= response.status_code < 300:
            raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=body)
        if not isinstance(body, dict):
            raise HelpdeskError(f"Intercom {method} {path} returned a body that is not a JSON object")
        return body

    # -- names and urls --------------------------------------------------------------------------
    def _load_names(self, conversations: list[Any], now: datetime | None = None) -> None:
        """Fetch the admin / team lists when the first assigned conversation shows up, and again (at most
        once per NAMES_REFRESH of sync time) when a sync meets an id the lists do not know: a teammate
        hired after start gets a name without costing quiet syncs a call."""
        admin_ids = {id_str(c.admin_assignee_id) for c in conversations} - {None}
        team_ids = {id_str(c.team_assignee_id) for c in conversations} - {None}
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
        return conversation_item(
            conv,
            url=self.item_url(str(conv.id)),
            admin_names=self._admin_names or {},
            team_names=self._team_names or {},
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
                    raise _Rejected(f"Intercom rejected the request to {what}: {detail}", status) from None
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
class _Rejected(HelpdeskError):
    """Intercom refused the request (a 4xx other than auth, 404 and rate limits); keeps the status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


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
