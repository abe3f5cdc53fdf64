"""Intercom write-back: internal notes, team/admin assignment, tags and teammate lookup (email <-> id).

Replies, assignments and tags all need an `admin_id` (the acting teammate): the one given, else the
token's own admin from `GET /me`. A note (`message_type: note`) is posted exactly once, never through
the adapter's retrying `_call` (the SDK's own retries are off too): a transport error after the
request went out or a 5xx raises HelpdeskWriteOutcomeUnknown, and the caller looks for the note's
marker in the conversation parts (`find_note`) before sending again. Assignment and tagging set
state, so they go through `_call`, and only when the conversation does not already have them.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from intercom import (
    AdminReplyConversationRequest,
    ConversationsManageRequestBody_Assignment,
    CreateOrUpdateTagRequest,
)
from intercom.core.api_error import ApiError

from bot.domain.model import Source
from integrations.base import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskNotFound,
    HelpdeskWriteOutcomeUnknown,
    WriteResult,
    note_marker_line,
)
from integrations.intercom_conversations import id_str

if TYPE_CHECKING:
    from integrations.intercom import IntercomHelpdesk

ADMINS_CACHE_SECONDS = 3600.0
_URL_RE = re.compile(r"https?://[^\s<>\"]+")


class IntercomWriter:
    """`HelpdeskWriter` for Intercom, on the adapter's SDK client (build it with `helpdesk.writer()`)."""

    source = Source.INTERCOM

    def __init__(
        self,
        helpdesk: IntercomHelpdesk,
        *,
        admin_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._helpdesk = helpdesk
        self._client = helpdesk._client
        self._admin_id = admin_id
        self._clock = clock
        self._admins: dict[str, str] | None = None  # lower-cased email -> admin id
        self._admin_emails: dict[str, str] = {}  # admin id -> lower-cased email, the same teammates
        self._admins_at = 0.0

    # -- HelpdeskWriter --------------------------------------------------------------------------
    def add_internal_note(self, external_id: str, body: str, *, marker: str) -> WriteResult:
        line = note_marker_line(marker)
        request = AdminReplyConversationRequest(
            message_type="note", type="admin", admin_id=self._acting_admin(), body=_note_html(body, line)
        )
        what = f"add an internal note to conversation {external_id}"
        try:
            conv = self._client.conversations.reply(
                external_id, request=request, request_options={"max_retries": 0}
            )
        except ApiError as exc:
            raise _write_error(exc, what, external_id) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            raise HelpdeskError(f"Intercom unreachable to {what} ({type(exc).__name__}); not sent") from None
        except httpx.TransportError as exc:
            raise HelpdeskWriteOutcomeUnknown(
                f"Intercom answer lost to {what} ({type(exc).__name__}); check for the note before re-sending"
            ) from None
        return WriteResult(external_id, _note_part_id(conv, line))

    def find_note(self, external_id: str, marker: str) -> str | None:
        """Looks through the parts `GET /conversations/{id}` returns (Intercom's 500 most recent)."""
        return _note_part_id(self._helpdesk._find(external_id), note_marker_line(marker))

    def route(
        self,
        external_id: str,
        *,
        group_id: str | None = None,
        assignee_id: str | None = None,
        tags: Sequence[str] = (),
    ) -> WriteResult:
        """`group_id` is a team id, `assignee_id` an admin id; `tags` are names (created if new)."""
        conv = self._helpdesk._find(external_id)
        admin = self._acting_admin() if group_id or assignee_id or tags else None
        if group_id is not None and id_str(conv.team_assignee_id) != str(group_id):
            self._assign(external_id, "team", str(group_id), admin)
        if assignee_id is not None and id_str(conv.admin_assignee_id) != str(assignee_id):
            self._assign(external_id, "admin", str(assignee_id), admin)
        present = {t.name for t in (conv.tags.tags if conv.tags is not None else None) or () if t.name}
        for name in dict.fromkeys(tags):
            if name in present:
                continue
            tag = self._helpdesk._call(
                f"find or create tag {name!r}",
                lambda name=name, **kw: self._client.tags.create(
                    request=CreateOrUpdateTagRequest(name=name), **kw
                ),
            )
            self._helpdesk._call(
                f"tag conversation {external_id}",
                lambda tag_id=str(tag.id), **kw: self._client.tags.tag_conversation(
                    external_id, tag_id=tag_id, admin_id=admin, **kw
                ),
                not_found=f"Intercom conversation {external_id} not found",
            )
        return WriteResult(external_id)

    def find_agent_by_email(self, email: str) -> str | None:
        """Teammates with an inbox seat, from `GET /admins`, fetched at most once an hour."""
        key = email.strip().lower()
        if not key:
            return None
        return self._admin_map().get(key)

    def agent_email(self, agent_id: str) -> str | None:
        """The reverse of `find_agent_by_email`, on the same hourly `GET /admins` list."""
        key = str(agent_id).strip()
        if not key:
            return None
        self._admin_map()
        return self._admin_emails.get(key)

    # -- plumbing --------------------------------------------------------------------------------
    def _admin_map(self) -> dict[str, str]:
        """Teammates with an inbox seat by lower-cased email (and `_admin_emails` by id), refreshed hourly."""
        if self._admins is None or self._clock() - self._admins_at >= ADMINS_CACHE_SECONDS:
            listed = self._helpdesk._call("list admins", self._client.admins.list)
            seated = [
                (str(a.email).strip().lower(), str(a.id))
                for a in listed.admins or ()
                if a is not None and a.email and a.id is not None and a.has_inbox_seat is not False
            ]
            self._admins = dict(seated)
            self._admin_emails = {admin_id: email for email, admin_id in seated}
            self._admins_at = self._clock()
        return self._admins

    # -- plumbing --------------------------------------------------------------------------------
    def _acting_admin(self) -> str:
        if self._admin_id is None:
            me = self._helpdesk._call("identify the acting admin (GET /me)", self._client.admins.identify)
            if me is None or me.id is None:
                raise HelpdeskError("Intercom GET /me returned no admin to act as")
            self._admin_id = str(me.id)
        return self._admin_id

    def _assign(self, external_id: str, kind: str, assignee: str, admin: str | None) -> None:
        request = ConversationsManageRequestBody_Assignment(
            message_type="assignment", type=kind, admin_id=admin, assignee_id=assignee
        )
        self._helpdesk._call(
            f"assign conversation {external_id} to {kind} {assignee}",
            lambda **kw: self._client.conversations.manage(external_id, request=request, **kw),
            not_found=f"Intercom conversation {external_id} or {kind} {assignee} not found",
        )


def _note_html(body: str, marker_line: str) -> str:
    """Plain text to Intercom's HTML body: one paragraph a line, bare URLs as links, marker last."""
    paragraphs = []
    for line in [*body.rstrip().splitlines(), "", marker_line]:
        escaped = html.escape(line, quote=False)
        linked = _URL_RE.sub(lambda m: f'<a href="{html.escape(m[0])}">{m[0]}</a>', escaped)
        paragraphs.append(f"<p>{linked}</p>" if line else "<p><br></p>")
    return "".join(paragraphs)


def _note_part_id(conv: Any, marker_line: str) -> str | None:
    listing = getattr(conv, "conversation_parts", None)
    for part in getattr(listing, "conversation_parts", None) or ():
        if part.part_type == "note" and marker_line in html.unescape(part.body or ""):
            return str(part.id)
    return None


def _write_error(exc: ApiError, what: str, external_id: str) -> HelpdeskError:
    """An answer came back: 4xx means not applied; a 5xx may have been applied after all."""
    status = exc.status_code or 0
    if status in (401, 403):
        return HelpdeskAuthError(f"Intercom refused the access token (HTTP {status}) to {what}")
    if status == 404:
        return HelpdeskNotFound(f"Intercom conversation {external_id} (or the acting admin) not found")
    if status >= 500:
        return HelpdeskWriteOutcomeUnknown(
            f"Intercom answered HTTP {status} to {what}; check for the note before re-sending"
        )
    return HelpdeskError(f"Intercom rejected the request to {what}: HTTP {status}")
