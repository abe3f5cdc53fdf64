"""Zendesk adapter: the `Helpdesk` protocol over zenpy, mapping ticket JSON to domain types.

Sync is built so its API cost follows what changed, not the backlog:
- first sync (cursor None): every open ticket, however old, from the Search *export* (plain search
  stops at 1000 results), 1000 ids a page, then SLA data via show_many in chunks of 100. After each
  export page the checkpoint `first:<t0>:<after_cursor>` is stored, so a crash resumes at the next
  export page; the last one carries `time:<t0>`, t0 taken before the enumeration started, so
  nothing changed meanwhile is lost. An expired checkpoint (export cursors last an hour) restarts
  the enumeration, keeping t0;
- later syncs: the cursor-based incremental export with `include=slas,metric_sets,users,groups`,
  resumed from the stored `cursor:<after_cursor>` and stopped on `end_of_stream` (its `after_url`
  never goes away). Cursors are standard base64 with `=` padding: stored raw, percent-encoded once
  on the way out (zenpy's `Url.build` joins query values without encoding them).

Every ticket read asks for `metric_sets` too: its `reopens` and `replies` tell which SLA cycle a
metric is in, which a `breach_at` that moves with priority cannot.

zenpy drops sideloads (`slas`, `metric_sets`, `users`, `groups`) when it turns JSON into objects, so
ticket reads go through zenpy's own request plumbing (`_build_url` / `_get(raw_response=True)`) and we
map the JSON here. Every request still runs on zenpy's session: zenpy waits out 429 Retry-After
itself, and a urllib3 Retry on that session retries 5xx for idempotent GET/PUT.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from zenpy import Zenpy
from zenpy.lib.endpoint import Url
from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

from bot.domain.model import HelpdeskItem, Source
from integrations.base import HelpdeskAuthError, HelpdeskError, HelpdeskNotFound, SyncPage, TicketContext
from integrations.zendesk_context import ticket_context
from integrations.zendesk_tickets import tickets_to_items

if TYPE_CHECKING:
    from integrations.zendesk_history import ZendeskHistory
    from integrations.zendesk_writes import ZendeskWriter

SIDELOADS = ("slas", "metric_sets", "users", "groups")
SHOW_MANY_CHUNK = 100
SEARCH_EXPORT_PAGE_SIZE = 1000
# The export refuses a start_time from the last minute; one more second keeps clear of the edge.
EXPORT_START_LAG_SECONDS = 61
RETRY_STATUSES = (500, 502, 503, 504)
# zenpy refuses to build URLs without a subdomain, even when ZENPY_FORCE_NETLOC points elsewhere.
PLACEHOLDER_SUBDOMAIN = "deskwatch-local"
_FIRST_RE = re.compile(r"first:(?P<t0>\d{1,12}):(?P<after>[A-Za-z0-9+/]{1,4000}={0,2})")
# What Zendesk answers to a search export cursor it no longer knows (it expires after an hour).
_REFUSED_CURSOR_STATUSES = frozenset({400, 422})


class _HttpError(HelpdeskError):
    """A Zendesk HTTP error with its status, for the callers that act on it."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class _ServerErrorRetry(Retry):
    """Retry 5xx only. urllib3 would also retry a 429 carrying Retry-After; zenpy already does."""

    RETRY_AFTER_STATUS_CODES = frozenset({503})


class _CallCounter:
    """Counts HTTP attempts per thread, including the ones urllib3 retried (requests response hook)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def total(self) -> int:
        return getattr(self._local, "total", 0)

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        retries = getattr(response.raw, "retries", None)
        earlier_attempts = len(getattr(retries, "history", ()) or ())
        self._local.total = self.total + 1 + earlier_attempts
        return response


def _route_zenpy(base_url: str | None) -> None:
    """Point zenpy at `base_url` (an emulator) or back at zendesk.com.

    zenpy reads these process-wide variables on every request; this is the only place that sets them.
    """
    if base_url is None:
        os.environ.pop("ZENPY_FORCE_SCHEME", None)
        os.environ.pop("ZENPY_FORCE_NETLOC", None)
        return
    parts = urlsplit(base_url)
    os.environ["ZENPY_FORCE_SCHEME"] = parts.scheme
    os.environ["ZENPY_FORCE_NETLOC"] = parts.netloc


def _validated_base_url(base_url: str | None) -> str | None:
    if base_url is None:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"base_url must look like https://host[:port] with no path, got {base_url!r}")
    return base_url.rstrip("/")


def _parse_cursor(cursor: str | None) -> tuple[str, Any] | None:
    if cursor is None:
        return None
    kind, sep, value = cursor.partition(":")
    if sep and kind == "time" and value.isdigit():
        return "time", int(value)
    if sep and kind == "cursor" and value:
        return "cursor", value
    first = _FIRST_RE.fullmatch(cursor)
    if first is not None:
        return "first", (int(first["t0"]), first["after"])
    raise ValueError(
        f"unparseable Zendesk sync cursor {cursor[:80]!r}: expected None (first sync), "
        "'first:<unix seconds>:<search export cursor>', 'time:<unix seconds>' or "
        "'cursor:<incremental export cursor>'"
    )


def _error_code(response: requests.Response | None) -> str:
    """Zendesk's short error code (e.g. "RecordInvalid"), never the request or its credentials."""
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return f" ({code})" if isinstance(code, str) else ""


class ZendeskHelpdesk:
    """`Helpdesk` for Zendesk Support via zenpy (caching off, 5xx retries, counted calls)."""

    source = Source.ZENDESK

    def __init__(
        self,
        *,
        subdomain: str | None,
        email: str,
        token: str,
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 30.0,
        backoff_factor: float = 0.5,
    ) -> None:
        if not subdomain and not base_url:
            raise ValueError("ZendeskHelpdesk needs a subdomain or a base_url")
        self._subdomain = subdomain
        self._base_url = _validated_base_url(base_url)
        self._calls = _CallCounter()
        session = requests.Session()
        retry = _ServerErrorRetry(
            total=max_retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "PUT"}),
            backoff_factor=backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,  # hand the last 5xx to zenpy, which raises APIException
        )
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.hooks["response"].append(self._calls)
        self._session, self._timeout = session, timeout
        _route_zenpy(self._base_url)
        self._client = Zenpy(
            subdomain=subdomain or PLACEHOLDER_SUBDOMAIN,
            email=email,
            token=token,
            disable_cache=True,
            session=session,
            timeout=timeout,
        )

    # -- Helpdesk --------------------------------------------------------------------------------
    def check_auth(self) -> str:
        with self._errors("authentication check"):
            me = self._client.users.me()
        if getattr(me, "id", None) is None:
            raise HelpdeskAuthError(
                "Zendesk answered users/me anonymously: the API credentials were not accepted"
            )
        return str(me.email or me.name)

    def sync(self, cursor: str | None, *, now: datetime) -> Iterator[SyncPage]:
        parsed = _parse_cursor(cursor)  # validated now, not at the first next()
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if parsed is None:
            return self._full_sync(int(now.timestamp()) - EXPORT_START_LAG_SECONDS, None)
        if parsed[0] == "first":
            return self._full_sync(*parsed[1])
        return self._incremental_sync(parsed[0], parsed[1])

    def get_item(self, external_id: str) -> HelpdeskItem:
        if not external_id.isdigit():
            raise ValueError(f"Zendesk ticket ids are numeric, got {external_id[:40]!r}")
        body = self._get_json(
            self._client.tickets.endpoint(id=int(external_id), include=list(SIDELOADS)),
            f"fetch of ticket {external_id}",
        )
        return tickets_to_items([body["ticket"]], body, self.item_url)[0]

    def get_items(self, external_ids: Sequence[str]) -> list[HelpdeskItem]:
        """show_many in chunks of 100, one call each; ids Zendesk does not return (deleted, never
        existed) are left out. Items come back in the order asked for, each id once."""
        for external_id in external_ids:
            if not external_id.isdigit():
                raise ValueError(f"Zendesk ticket ids are numeric, got {external_id[:40]!r}")
        wanted = list(dict.fromkeys(int(external_id) for external_id in external_ids))
        found: dict[str, HelpdeskItem] = {}
        for start in range(0, len(wanted), SHOW_MANY_CHUNK):
            for item in self._show_many(wanted[start : start + SHOW_MANY_CHUNK], "re-read of tickets"):
                found[item.ref.external_id] = item
        return [found[str(ticket_id)] for ticket_id in wanted if str(ticket_id) in found]

    def get_context(self, external_id: str) -> TicketContext:
        """Requester name and newest requester comment: Show Ticket (users sideloaded) + List Comments."""
        return ticket_context(self, external_id)

    def item_url(self, external_id: str) -> str:
        if self._base_url is not None:
            return f"{self._base_url}/agent/tickets/{external_id}"
        return f"https://{self._subdomain}.zendesk.com/agent/tickets/{external_id}"

    def writer(self) -> ZendeskWriter:
        """The write-back side on this adapter's zenpy client and session (notes bypass its retries)."""
        from integrations.zendesk_writes import ZendeskWriter

        return ZendeskWriter(self)

    def history_feed(self, **kwargs: Any) -> ZendeskHistory:
        """The digest history feed (`integrations.zendesk_history.ZendeskHistory`) over this adapter."""
        from integrations.zendesk_history import ZendeskHistory

        return ZendeskHistory(self, **kwargs)

    @property
    def api_calls(self) -> int:
        """HTTP attempts made so far on this thread (urllib3 retries included)."""
        return self._calls.total

    def raw_get(self, path_or_url: str, params: dict[str, Any] | None, action: str) -> requests.Response:
        """GET `/api/v2/<path>` (or an absolute link Zendesk sent, on this account only) on the adapter's
        session, without zenpy's 429 handling: a 429 is returned for the caller to wait out; any other
        non-2xx raises the same errors as every other call."""
        api_base = f"{self._base_url or f'https://{self._subdomain}.zendesk.com'}/api/v2/"
        url = path_or_url if "://" in path_or_url else api_base + path_or_url
        if not url.startswith(api_base):
            raise HelpdeskError(f"Zendesk {action}: refusing a link outside this account's API")
        with self._errors(action):
            response = self._session.get(url, params=params, timeout=self._timeout)
            if response.status_code != 429:
                response.raise_for_status()
        return response

    def raw_send(self, method: str, path: str, body: dict[str, Any] | None, action: str) -> requests.Response:
        """POST/PUT/PATCH `/api/v2/<path>` with a JSON body on the adapter's session (only PUT is
        retried on 5xx; a POST never is). A 429 is returned like `raw_get`; other non-2xx raise."""
        url = f"{self._base_url or f'https://{self._subdomain}.zendesk.com'}/api/v2/{path}"
        with self._errors(action):
            response = self._session.request(method, url, json=body, timeout=self._timeout)
            if response.status_code != 429:
                response.raise_for_status()
        return response

    # -- sync ------------------------------------------------------------------------------------
    def _full_sync(self, t0: int, after: str | None) -> Iterator[SyncPage]:
        """One SyncPage per show_many call (100 tickets); the last one of each export page (1000 ids)
        carries the checkpoint, so a crash re-reads at most the export page it was in."""
        mark = self._calls.total
        body = self._open_ticket_page(after, resuming=after is not None)
        if body is None:  # the checkpoint's cursor expired: enumerate again from the start
            after, body = None, self._open_ticket_page(None)
        while True:
            ids, next_after = self._export_ids(body, after)
            checkpoint = f"first:{t0}:{next_after}" if next_after else f"time:{t0}"
            chunks = [ids[at : at + SHOW_MANY_CHUNK] for at in range(0, len(ids), SHOW_MANY_CHUNK)] or [[]]
            for n, chunk in enumerate(chunks):
                items = self._show_many(chunk) if chunk else ()
                last = n == len(chunks) - 1
                yield SyncPage(items, checkpoint if last else None, api_calls=self._calls.total - mark)
                mark = self._calls.total
            if next_after is None:
                return
            after = next_after
            body = self._open_ticket_page(after)

    def _open_ticket_page(self, after: str | None, *, resuming: bool = False) -> dict[str, Any] | None:
        """One search export page of unsolved tickets (ids only: search cannot sideload SLAs), or
        None when `resuming` from a checkpoint whose cursor Zendesk refuses (it expired)."""
        url = self._client.search_export.endpoint(
            status_less_than="solved", cursor_pagination=SEARCH_EXPORT_PAGE_SIZE
        )
        url.params["filter[type]"] = "ticket"  # only here: a type in the query is an error
        if after is not None:
            url.params["page[after]"] = quote(after, safe="")
        try:
            return self._get_json(url, "open-ticket search export")
        except _HttpError as exc:
            if resuming and exc.status in _REFUSED_CURSOR_STATUSES:
                return None
            raise

    @staticmethod
    def _export_ids(body: dict[str, Any], after: str | None) -> tuple[list[int], str | None]:
        """A search export page's ticket ids and the cursor of the next page (None on the last)."""
        ids = []
        for result in body.get("results") or ():
            ticket_id = result.get("id") if isinstance(result, dict) else None
            if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
                raise HelpdeskError(
                    f"Zendesk search export sent a result without an integer id: {ticket_id!r}"
                )
            ids.append(ticket_id)
        meta = body.get("meta") or {}
        if meta.get("has_more") is not True:
            return list(dict.fromkeys(ids)), None
        next_after = meta.get("after_cursor")
        if not isinstance(next_after, str) or not next_after or next_after == after:
            raise HelpdeskError("Zendesk's search export has more pages but sent no new after_cursor")
        return list(dict.fromkeys(ids)), next_after

    def _show_many(
        self, ids: Sequence[int], action: str = "show_many of open tickets"
    ) -> tuple[HelpdeskItem, ...]:
        body = self._get_json(self._client.tickets.endpoint(ids=list(ids), include=list(SIDELOADS)), action)
        return tickets_to_items(body.get("tickets") or (), body, self.item_url)

    def _incremental_sync(self, kind: str, value: str | int) -> Iterator[SyncPage]:
        endpoint = self._client.tickets.endpoint.incremental
        stored = f"{kind}:{value}"
        mark = self._calls.total
        while True:
            if kind == "time":
                url = endpoint.cursor_start(start_time=value, include=list(SIDELOADS))
            else:
                # Encoded exactly once: the cursor's "=" padding (and any "+" or "/") must reach
                # Zendesk as %3D / %2B / %2F, and the stored cursor stays the raw after_cursor.
                url = endpoint.cursor(cursor=quote(str(value), safe=""), include=list(SIDELOADS))
            body = self._get_json(url, "incremental ticket export")
            items = tickets_to_items(body.get("tickets") or (), body, self.item_url)
            after = body.get("after_cursor")
            # A start_time export that finds nothing carries no cursor: keep the one we have.
            stored = f"cursor:{after}" if after else stored
            yield SyncPage(items, stored, api_calls=self._calls.total - mark)
            mark = self._calls.total
            if body.get("end_of_stream") is True:
                return
            if not after or (kind == "cursor" and after == value):
                raise HelpdeskError("Zendesk's incremental export stopped advancing before end_of_stream")
            kind, value = "cursor", after

    # -- plumbing --------------------------------------------------------------------------------
    def _get_json(self, url: Url, action: str) -> dict[str, Any]:
        """GET through zenpy's plumbing (429 handling, error mapping) and keep the raw JSON."""
        api = self._client.tickets
        with self._errors(action):
            response = api._get(api._build_url(url), raw_response=True)
            body = response.json()
        if not isinstance(body, dict):
            raise HelpdeskError(f"Zendesk {action} returned {type(body).__name__}, expected an object")
        return body

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn zenpy/requests failures into Helpdesk errors whose text never holds credentials."""
        try:
            yield
        except RecordNotFoundException as exc:
            raise HelpdeskNotFound(f"Zendesk {action}: not found (HTTP 404)") from exc
        except (APIException, requests.HTTPError) as exc:
            response = exc.response
            status = response.status_code if response is not None else None
            if status in (401, 403):
                raise HelpdeskAuthError(
                    f"Zendesk refused the API credentials during {action} (HTTP {status})"
                ) from exc
            raise _HttpError(
                f"Zendesk {action} failed with HTTP {status}{_error_code(response)}", status
            ) from exc
        except requests.JSONDecodeError as exc:
            raise HelpdeskError(f"Zendesk {action} returned a body that is not JSON") from exc
        except requests.RequestException as exc:
            raise HelpdeskError(f"Zendesk {action} failed: {type(exc).__name__}") from exc
        except ZenpyException as exc:
            raise HelpdeskError(f"Zendesk {action} failed inside zenpy: {type(exc).__name__}") from exc
