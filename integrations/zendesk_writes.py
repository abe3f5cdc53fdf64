"""Zendesk write-back: internal notes, routing (group, assignee, additive tags) and agent lookup
(email -> agent id by user search, agent id -> email by Show User).

The note is the one write that must not happen twice, and Update Ticket is a PUT, which the urllib3
Retry on zenpy's session (and zenpy's own 429 loop) would re-send after a 5xx or a dropped answer.
So the note PUT goes out once on a sibling session: same auth, headers and call counter, no retries.
A lost or 5xx answer raises HelpdeskWriteOutcomeUnknown and the caller looks for the note's marker
in the ticket's comments (`find_note`) before sending again. Routing and reads are idempotent and
stay on zenpy's retrying session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from zenpy.lib.endpoint import Url

from bot.domain.model import Source
from integrations.base import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskNotFound,
    HelpdeskWriteOutcomeUnknown,
    WriteResult,
    note_marker_line,
)

if TYPE_CHECKING:
    from integrations.zendesk import ZendeskHelpdesk

AGENT_ROLES = frozenset({"agent", "admin"})
AGENT_CACHE_SECONDS = 3600.0
# Comments are read newest first (a note being resolved is recent); this many pages at most.
COMMENT_PAGES = 10


class ZendeskWriter:
    """`HelpdeskWriter` for Zendesk, on the adapter's zenpy client (build it with `helpdesk.writer()`)."""

    source = Source.ZENDESK

    def __init__(self, helpdesk: ZendeskHelpdesk, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._helpdesk = helpdesk
        self._client = helpdesk._client
        self._once = _single_shot_session(self._client.tickets.session)
        self._timeout = self._client.tickets.timeout
        self._clock = clock
        self._agents: dict[str, tuple[float, str | None]] = {}
        self._agent_emails: dict[str, tuple[float, str | None]] = {}

    # -- HelpdeskWriter --------------------------------------------------------------------------
    def add_internal_note(self, external_id: str, body: str, *, marker: str) -> WriteResult:
        ticket_id = _ticket_id(external_id)
        text = f"{body.rstrip()}\n\n{note_marker_line(marker)}"
        payload = {"ticket": {"comment": {"body": text, "public": False}}}
        url = self._url(f"tickets/{ticket_id}.json")
        action = f"internal note on ticket {ticket_id}"
        try:
            response = self._once.put(url, json=payload, timeout=self._timeout)
        except (requests.ConnectTimeout, requests.exceptions.InvalidURL) as exc:
            raise HelpdeskError(f"Zendesk {action} not sent: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            if _never_connected(exc):
                raise HelpdeskError(f"Zendesk {action} not sent: could not connect") from exc
            raise HelpdeskWriteOutcomeUnknown(
                f"Zendesk {action}: answer lost ({type(exc).__name__}); check for the note before re-sending"
            ) from exc
        _raise_for_status(response, action)
        audit = _json(response, action).get("audit") or {}
        ref = next(
            (str(e["id"]) for e in audit.get("events") or () if e.get("type") == "Comment" and "id" in e),
            None,
        )
        return WriteResult(str(ticket_id), ref)

    def find_note(self, external_id: str, marker: str) -> str | None:
        ticket_id = _ticket_id(external_id)
        line = note_marker_line(marker)
        url = Url(f"tickets/{ticket_id}/comments.json", params={"sort_order": "desc", "per_page": 100})
        for _ in range(COMMENT_PAGES):
            body = self._helpdesk._get_json(url, f"read of ticket {ticket_id} comments")
            for comment in body.get("comments") or ():
                if comment.get("public") is False and line in str(comment.get("body") or ""):
                    return str(comment.get("id"))
            next_page = body.get("next_page")
            if not next_page:
                return None
            url = _RawUrl(next_page)
        return None

    def route(
        self,
        external_id: str,
        *,
        group_id: str | None = None,
        assignee_id: str | None = None,
        tags: Sequence[str] = (),
    ) -> WriteResult:
        """Update Ticket for group/assignee, then Add Tags (`PUT tickets/{id}/tags.json`), which adds
        to the ticket's tags instead of replacing them; both PUTs set values, so retries are safe."""
        ticket_id = _ticket_id(external_id)
        fields: dict[str, Any] = {}
        if group_id is not None:
            fields["group_id"] = _numeric(group_id, "group_id")
        if assignee_id is not None:
            fields["assignee_id"] = _numeric(assignee_id, "assignee_id")
        api = self._client.tickets
        if fields:
            with self._helpdesk._errors(f"routing of ticket {ticket_id}"):
                api._call_api(
                    api.session.put,
                    self._url(f"tickets/{ticket_id}.json"),
                    json={"ticket": fields},
                    timeout=self._timeout,
                )
        if tags:
            with self._helpdesk._errors(f"tagging of ticket {ticket_id}"):
                api._call_api(
                    api.session.put,
                    self._url(f"tickets/{ticket_id}/tags.json"),
                    json={"tags": list(tags)},
                    timeout=self._timeout,
                )
        return WriteResult(str(ticket_id))

    def find_agent_by_email(self, email: str) -> str | None:
        """Search `type:user email:<email>`; only an active agent or admin counts. Cached an hour."""
        key = email.strip().lower()
        if not key or any(c.isspace() or c == '"' for c in key):
            return None
        cached = self._agents.get(key)
        if cached is not None and self._clock() - cached[0] < AGENT_CACHE_SECONDS:
            return cached[1]
        url = Url("search.json", params={"query": requests.utils.quote(f"type:user email:{key}", safe="")})
        body = self._helpdesk._get_json(url, "agent search by email")
        found = next(
            (
                str(user["id"])
                for user in body.get("results") or ()
                if user.get("result_type", "user") == "user"
                and str(user.get("email") or "").lower() == key
                and user.get("role") in AGENT_ROLES
                and user.get("active", True)
                and not user.get("suspended", False)
            ),
            None,
        )
        self._agents[key] = (self._clock(), found)
        return found

    def agent_email(self, agent_id: str) -> str | None:
        """Show User (`GET users/{id}.json`); an end-user or an unknown id (404) is None. Suspended
        agents still count: QA looks at work already done. Cached an hour, misses included."""
        key = str(agent_id).strip()
        if not key.isdigit():
            return None
        cached = self._agent_emails.get(key)
        if cached is not None and self._clock() - cached[0] < AGENT_CACHE_SECONDS:
            return cached[1]
        try:
            user = self._helpdesk._get_json(Url(f"users/{key}.json"), f"read of agent {key}").get("user")
        except HelpdeskNotFound:
            user = None
        email = None
        if isinstance(user, dict) and user.get("role") in AGENT_ROLES:
            raw = user.get("email")
            email = raw.strip().lower() if isinstance(raw, str) and raw.strip() else None
        self._agent_emails[key] = (self._clock(), email)
        return email

    # -- plumbing --------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        api = self._client.tickets
        return api._build_url(Url(path))


class _RawUrl(Url):
    """A `next_page` link Zendesk sent, used as is (already encoded)."""

    def __init__(self, link: str) -> None:
        super().__init__("")
        self.link = link

    def build(self) -> str:
        return self.link


def _single_shot_session(shared: requests.Session) -> requests.Session:
    """A session that sends each request exactly once, with the shared session's auth and hooks."""
    session = requests.Session()
    session.auth = shared.auth
    session.headers.update(shared.headers)
    session.hooks["response"].extend(shared.hooks["response"])
    adapter = HTTPAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the connection itself failed (refused, DNS): the request cannot have been sent."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
    return False


def _raise_for_status(response: requests.Response, action: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise HelpdeskAuthError(f"Zendesk refused the API credentials during {action} (HTTP {status})")
    if status == 404:
        raise HelpdeskNotFound(f"Zendesk {action}: not found (HTTP 404)")
    if status >= 500:
        raise HelpdeskWriteOutcomeUnknown(
            f"Zendesk {action} answered HTTP {status}; check for the note before re-sending"
        )
    raise HelpdeskError(f"Zendesk {action} refused with HTTP {status}")


def _json(response: requests.Response, action: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}  # applied (2xx); only the note's id is unknown
    return body if isinstance(body, dict) else {}


def _ticket_id(external_id: str) -> int:
    if not external_id.isdigit():
        raise ValueError(f"Zendesk ticket ids are numeric, got {external_id[:40]!r}")
    return int(external_id)


def _numeric(value: str, name: str) -> int:
    if not str(value).isdigit():
        raise ValueError(f"Zendesk {name} must be numeric, got {str(value)[:40]!r}")
    return int(value)
