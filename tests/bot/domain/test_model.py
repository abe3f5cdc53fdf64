"""TicketRef.parse: short refs, Zendesk and Intercom links (also Slack's <url|label> form), and junk."""

from __future__ import annotations

import pytest

from bot.domain.model import InvalidTicketRef, Source, TicketRef


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zd:101", TicketRef(Source.ZENDESK, "101")),
        ("IC#9001", TicketRef(Source.INTERCOM, "9001")),
        (" zd : 007 ", TicketRef(Source.ZENDESK, "7")),
    ],
)
def test_parse_short_refs(text: str, expected: TicketRef) -> None:
    assert TicketRef.parse(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.zendesk.com/agent/tickets/123",
        "https://acme.zendesk.com/agent/tickets/123/events",
        "https://acme.zendesk.com/agent/tickets/123?tab=details#comment-9",
        "https://ACME.zendesk.com/tickets/123",
        "https://acme.zendesk.com/api/v2/tickets/123.json",
        "<https://acme.zendesk.com/agent/tickets/123>",
        "<https://acme.zendesk.com/agent/tickets/123|Ticket #123>",
    ],
)
def test_parse_zendesk_links(url: str) -> None:
    assert TicketRef.parse(url) == TicketRef(Source.ZENDESK, "123")


@pytest.mark.parametrize(
    "url",
    [
        "https://app.intercom.com/a/inbox/abc123/inbox/conversation/456",
        "https://app.intercom.com/a/inbox/abc123/inbox/view/789/conversation/456?view=List",
        "https://app.intercom.com/a/apps/abc123/inbox/inbox/all/conversations/456",
        "https://app.intercom.io/a/apps/abc123/inbox/inbox/conversation/456",
        "https://app.eu.intercom.com/a/inbox/abc123/inbox/conversation/456#part",
        "<https://app.intercom.com/a/inbox/abc123/inbox/conversation/456|conversation>",
    ],
)
def test_parse_intercom_links(url: str) -> None:
    assert TicketRef.parse(url) == TicketRef(Source.INTERCOM, "456")


def test_parse_zendesk_link_not_to_a_ticket_says_what_to_copy() -> None:
    with pytest.raises(InvalidTicketRef, match="is a Zendesk link but not to a ticket: open the ticket"):
        TicketRef.parse("<https://acme.zendesk.com/agent/filters/360|My view>")


def test_parse_intercom_link_not_to_a_conversation_says_what_to_copy() -> None:
    with pytest.raises(InvalidTicketRef, match="is an Intercom link but not to a conversation"):
        TicketRef.parse("https://app.intercom.com/a/apps/abc123/users/5")


def test_parse_other_site_link_is_refused() -> None:
    with pytest.raises(
        InvalidTicketRef, match="'https://example.com/tickets/1' is not a Zendesk or Intercom"
    ):
        TicketRef.parse("https://example.com/tickets/1")


def test_parse_lookalike_host_is_refused() -> None:
    with pytest.raises(InvalidTicketRef, match="not a Zendesk or Intercom link"):
        TicketRef.parse("https://zendesk.com.evil.example/agent/tickets/1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty ticket reference"),
        ("   ", "empty ticket reference"),
        ("hello", "'hello' is not a ticket reference: use zd:<ticket id>, ic:<conversation id>, or paste"),
        ("jira:12", "unknown helpdesk prefix 'jira' in 'jira:12': use zd: (Zendesk) or ic: (Intercom)"),
        ("<not a link>", "is not a ticket reference"),
    ],
)
def test_parse_junk_raises_actionable_error(text: str, message: str) -> None:
    with pytest.raises(InvalidTicketRef) as info:
        TicketRef.parse(text)
    assert message in str(info.value)
