"""Intercom conversation context for escalations: the customer's name and their newest message.

One `GET /conversations/{id}` (the adapter's `_find`, with its retries and error mapping) carries
both in the usual case: the newest conversation part with a body whose author is the customer
(`user`, `lead`; `contact` accepted too) is the last message, else the opening message when the
customer wrote it (`source.author`). Conversations the team started (outbound messages, custom bots)
have an admin source author: until the customer replies there is no customer message (None).

The requester is the customer-authored source's author, else the author of the customer's newest
part; when neither exists (an outbound message nobody answered) the conversation's contact is read
with `GET /contacts/{id}`, as `contacts.contacts[]` holds bare references without a name. Leads
often have no name: the email stands in, else None. Bodies are HTML: tags are stripped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from integrations.base import HelpdeskNotFound, TicketContext, customer_text

if TYPE_CHECKING:
    from integrations.intercom import IntercomHelpdesk

CUSTOMER_AUTHORS = frozenset({"user", "lead", "contact"})
# Parts a customer cannot write; a note (agent-only) is never the customer's message.
_NOT_CUSTOMER_MESSAGES = frozenset({"note"})


def conversation_context(helpdesk: IntercomHelpdesk, external_id: str) -> TicketContext:
    conv = helpdesk._find(external_id)
    source = conv.source
    source_author = source.author if source is not None else None
    customer_source = _is_customer(source_author)

    newest_part, newest_author = None, None
    listing = conv.conversation_parts
    parts = list((listing.conversation_parts if listing is not None else None) or ())
    # Oldest first, as Intercom lists them; sorted is stable, so parts of the same second keep their order.
    for part in sorted(parts, key=lambda p: p.created_at or 0):
        if not _is_customer(part.author) or part.part_type in _NOT_CUSTOMER_MESSAGES:
            continue
        newest_author = part.author
        text = customer_text(part.body, is_html=True)
        if text is not None:
            newest_part = text
    message = newest_part
    if message is None and customer_source:
        message = customer_text(source.body, is_html=True)

    requester = _display_name(source_author) if customer_source else None
    requester = requester or _display_name(newest_author)
    if requester is None:
        requester = _contact_name(helpdesk, conv)
    return TicketContext(requester=requester, last_customer_message=message)


def _is_customer(author: Any) -> bool:
    return author is not None and author.type in CUSTOMER_AUTHORS


def _display_name(who: Any) -> str | None:
    if who is None:
        return None
    for value in (who.name, who.email):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _contact_name(helpdesk: IntercomHelpdesk, conv: Any) -> str | None:
    """Name (else email) of the conversation's first contact, from `GET /contacts/{id}`."""
    contacts = conv.contacts.contacts if conv.contacts is not None else None
    contact_id = next((c.id for c in contacts or () if c is not None and c.id), None)
    if contact_id is None:
        return None
    try:
        contact = helpdesk._call(
            f"fetch contact {contact_id}",
            lambda **kw: helpdesk._client.contacts.find(contact_id, **kw),
            not_found=f"Intercom contact {contact_id} not found",
        )
    except HelpdeskNotFound:
        return None  # merged or deleted since: the conversation is still there
    return _display_name(contact)
