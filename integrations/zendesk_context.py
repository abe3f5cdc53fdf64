"""Zendesk ticket context for escalations: the requester's name and their newest comment.

Two requests in the usual case: Show Ticket with `include=users` (the users sideload carries the
requester, so no separate user read) and one page of List Comments, newest first
(`sort_order=desc`, offset pagination, 100 a page, Zendesk's maximum). Only when the sideload lacks
the requester (a deleted user) is `users/{id}` asked; only when the newest 100 comments hold none by
the requester are older pages read, at most COMMENT_PAGES of them. The opening comment (the ticket's
description) is the requester's, so a ticket opened by its requester always yields a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenpy.lib.endpoint import Url

from integrations.base import HelpdeskNotFound, TicketContext, customer_text
from integrations.zendesk_writes import _RawUrl

if TYPE_CHECKING:
    from integrations.zendesk import ZendeskHelpdesk

COMMENTS_PER_PAGE = 100
COMMENT_PAGES = 5


def ticket_context(helpdesk: ZendeskHelpdesk, external_id: str) -> TicketContext:
    if not external_id.isdigit():
        raise ValueError(f"Zendesk ticket ids are numeric, got {external_id[:40]!r}")
    ticket_id = int(external_id)
    body = helpdesk._get_json(
        helpdesk._client.tickets.endpoint(id=ticket_id, include=["users"]), f"fetch of ticket {ticket_id}"
    )
    ticket = body.get("ticket") or {}
    requester_id = ticket.get("requester_id")
    if not isinstance(requester_id, int) or isinstance(requester_id, bool):
        return TicketContext(requester=None, last_customer_message=None)
    users = {u.get("id"): u for u in body.get("users") or () if isinstance(u, dict)}
    requester = users.get(requester_id)
    if requester is None:
        requester = _user(helpdesk, requester_id)
    return TicketContext(
        requester=_display_name(requester),
        last_customer_message=_newest_comment_by(helpdesk, ticket_id, requester_id),
    )


def _user(helpdesk: ZendeskHelpdesk, user_id: int) -> dict[str, Any] | None:
    try:
        body = helpdesk._get_json(Url(f"users/{user_id}.json"), f"read of user {user_id}")
    except HelpdeskNotFound:
        return None  # deleted or merged away: the ticket still has its comments
    user = body.get("user")
    return user if isinstance(user, dict) else None


def _display_name(user: dict[str, Any] | None) -> str | None:
    if user is None:
        return None
    for key in ("name", "email"):
        value = user.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _newest_comment_by(helpdesk: ZendeskHelpdesk, ticket_id: int, author_id: int) -> str | None:
    """The newest public comment `author_id` wrote, as plain text (`plain_body`, else `body`)."""
    url: Url = Url(
        f"tickets/{ticket_id}/comments.json",
        params={"sort_order": "desc", "per_page": COMMENTS_PER_PAGE},
    )
    for _ in range(COMMENT_PAGES):
        body = helpdesk._get_json(url, f"read of ticket {ticket_id} comments")
        for comment in body.get("comments") or ():
            if not isinstance(comment, dict) or comment.get("author_id") != author_id:
                continue
            if comment.get("public") is False:
                continue  # an internal note: the requester is an agent writing to colleagues
            text = customer_text(comment.get("plain_body") or comment.get("body"), is_html=False)
            if text is not None:
                return text
        next_page = body.get("next_page")
        if not next_page:
            return None
        url = _RawUrl(next_page)
    return None
