"""One contract, every adapter: the same behaviour from ZendeskHelpdesk and IntercomHelpdesk, each
driven through its real SDK against its emulator (fixture params, as APScheduler tests its stores)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.domain.model import HelpdeskItem, Source
from integrations.base import (
    CUSTOMER_MESSAGE_MAX_CHARS,
    Helpdesk,
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskNotFound,
    SyncPage,
    TicketContext,
)
from integrations.emulators.base import EmulatorServer
from integrations.emulators.seed import open_conversation, open_ticket


@dataclass
class Kit:
    """How to drive one helpdesk's emulator in helpdesk-neutral terms."""

    source: Source
    emulator: EmulatorServer
    make: Callable[..., Helpdesk]  # make(token=None) -> adapter (token None = the valid one)
    open_item: Callable[[int, timedelta], None]  # (id, age)
    close_item: Callable[[int], None]
    touch_item: Callable[[int], None]
    api_prefix: str
    token: str
    # (id, requester name, requester email, opening message): an item the named customer opened.
    open_asked: Callable[[int, str | None, str, str], None]
    agent_reply: Callable[[int, str], None]  # (id, text)
    customer_reply: Callable[[int, str], None]  # (id, text)


def zendesk_kit(zendesk_emu, clock) -> Kit:
    from integrations.zendesk import ZendeskHelpdesk

    zendesk_emu.add_group(7, "Billing")

    def open_item(i: int, age: timedelta) -> None:
        open_ticket(zendesk_emu, i, created=clock() - age, breach_at=clock() + timedelta(hours=1))

    def open_asked(i: int, name: str | None, email: str, message: str) -> None:
        zendesk_emu.add_user(7000 + i, name or email, email, role="end-user")
        open_ticket(
            zendesk_emu, i, created=clock() - timedelta(hours=1), breach_at=clock() + timedelta(hours=1)
        )
        zendesk_emu.upsert_ticket(id=i, requester_id=7000 + i, assignee_id=501, description=message)

    def agent_reply(i: int, text: str) -> None:
        clock.advance(minutes=1)
        zendesk_emu.agent_reply(i, body=text)

    def customer_reply(i: int, text: str) -> None:
        clock.advance(minutes=1)
        zendesk_emu.requester_comment(i, body=text)

    zendesk_emu.add_user(501, "Ana Ruiz", "ana@example.com")
    return Kit(
        Source.ZENDESK,
        zendesk_emu,
        lambda token=None: ZendeskHelpdesk(
            subdomain=None,
            email=zendesk_emu.email,
            token=token or zendesk_emu.token,
            base_url=zendesk_emu.url,
            max_retries=2,
            backoff_factor=0,
        ),
        open_item,
        lambda i: zendesk_emu.upsert_ticket(id=i, status="solved", updated_at=clock()),
        lambda i: zendesk_emu.upsert_ticket(id=i, priority="urgent", updated_at=clock()),
        "/api/v2",
        zendesk_emu.token,
        open_asked,
        agent_reply,
        customer_reply,
    )


def intercom_kit(intercom_emu, clock) -> Kit:
    from integrations.intercom import IntercomHelpdesk

    intercom_emu.add_admin(901, "Dana Smith")
    intercom_emu.add_team(77, "Billing", admin_ids=[901])

    def open_item(i: int, age: timedelta) -> None:
        open_conversation(intercom_emu, i, created=clock() - age)

    def ts() -> int:
        return int(clock().timestamp())

    def open_asked(i: int, name: str | None, email: str, message: str) -> None:
        intercom_emu.add_contact(f"c{i}", name, email, role="user" if name else "lead")
        created = int((clock() - timedelta(hours=1)).timestamp())
        intercom_emu.upsert_conversation(
            id=str(i), contact_id=f"c{i}", body=f"<p>{message}</p>", created_at=created, updated_at=created
        )

    def agent_reply(i: int, text: str) -> None:
        clock.advance(minutes=1)
        intercom_emu.admin_reply(i, 901, body=f"<p>{text}</p>")

    def customer_reply(i: int, text: str) -> None:
        clock.advance(minutes=1)
        intercom_emu.customer_reply(i, body=f"<p>{text}</p>")

    return Kit(
        Source.INTERCOM,
        intercom_emu,
        lambda token=None: IntercomHelpdesk(
            token=token or intercom_emu.token, base_url=intercom_emu.url, max_retries=2, sleep=lambda s: None
        ),
        open_item,
        lambda i: intercom_emu.upsert_conversation(id=str(i), state="closed", open=False, updated_at=ts()),
        lambda i: intercom_emu.upsert_conversation(id=str(i), priority="priority", updated_at=ts()),
        "/conversations",
        intercom_emu.token,
        open_asked,
        agent_reply,
        customer_reply,
    )


@pytest.fixture(params=["zendesk", "intercom"])
def kit(request, clock) -> Kit:
    if request.param == "zendesk":
        return zendesk_kit(request.getfixturevalue("zendesk_emu"), clock)
    return intercom_kit(request.getfixturevalue("intercom_emu"), clock)


def full_sync(helpdesk: Helpdesk, cursor: str | None, now) -> tuple[list[HelpdeskItem], str | None, int]:
    items: list[HelpdeskItem] = []
    last_cursor, calls = cursor, 0
    for page in helpdesk.sync(cursor, now=now):
        assert isinstance(page, SyncPage)
        items.extend(page.items)
        calls += page.api_calls
        if page.cursor is not None:
            last_cursor = page.cursor
    return items, last_cursor, calls


def test_adapter_implements_the_protocol(kit):
    helpdesk = kit.make()

    assert isinstance(helpdesk, Helpdesk)
    assert helpdesk.source is kit.source


def test_check_auth_describes_the_account(kit):
    assert kit.make().check_auth()


def test_bad_credentials_raise_auth_error_without_the_token(kit):
    with pytest.raises(HelpdeskAuthError) as excinfo:
        kit.make(token="definitely-wrong-token").check_auth()

    assert "definitely-wrong-token" not in str(excinfo.value)


def test_first_sync_returns_every_open_item_however_old_and_no_closed_ones(kit, clock):
    kit.open_item(1, timedelta(days=900))
    kit.open_item(2, timedelta(minutes=5))
    kit.open_item(3, timedelta(days=2))
    kit.close_item(3)

    items, cursor, _ = full_sync(kit.make(), None, clock())

    assert sorted(i.ref.external_id for i in items) == ["1", "2"]
    assert cursor is not None
    for item in items:
        assert item.ref.source is kit.source
        assert item.created_at.tzinfo is not None and item.updated_at.tzinfo is not None
        assert item.group_id == "77" if kit.source is Source.INTERCOM else item.group_id == "7"
        assert not item.is_closed


def test_later_sync_returns_only_what_changed_including_closures(kit, clock):
    for i in range(1, 6):
        kit.open_item(i, timedelta(hours=i))
    clock.advance(minutes=5)  # the first sync's cursor starts a minute back; keep the seeding outside it
    helpdesk = kit.make()
    _, cursor, _ = full_sync(helpdesk, None, clock())

    clock.advance(minutes=2)
    kit.touch_item(2)
    kit.close_item(4)
    clock.advance(minutes=2)
    items, next_cursor, _ = full_sync(helpdesk, cursor, clock())

    by_id = {i.ref.external_id: i for i in items}
    assert set(by_id) == {"2", "4"}
    assert by_id["4"].is_closed
    assert next_cursor is not None


def test_quiet_sync_costs_one_call_and_returns_nothing_new(kit, clock):
    for i in range(1, 4):
        kit.open_item(i, timedelta(hours=i))
    helpdesk = kit.make()
    _, cursor, _ = full_sync(helpdesk, None, clock())
    clock.advance(minutes=2)
    _, cursor, _ = full_sync(helpdesk, cursor, clock())  # settle the cursor past the first sync
    clock.advance(minutes=2)
    kit.emulator.reset_log()

    items, _, calls = full_sync(helpdesk, cursor, clock())

    assert len(kit.emulator.calls()) == 1 and calls == 1
    assert [i for i in items if i.updated_at > clock() - timedelta(minutes=2)] == []


def test_get_item_fetches_one_and_unknown_raises_not_found(kit, clock):
    kit.open_item(42, timedelta(hours=1))
    helpdesk = kit.make()

    item = helpdesk.get_item("42")
    assert item.ref.external_id == "42" and item.url == helpdesk.item_url("42")
    assert "42" in helpdesk.item_url("42")
    with pytest.raises(HelpdeskNotFound):
        helpdesk.get_item("999999")


def test_get_items_re_reads_several_and_leaves_out_the_unknown(kit, clock):
    kit.open_item(61, timedelta(hours=1))
    kit.open_item(62, timedelta(hours=2))
    helpdesk = kit.make()
    kit.emulator.reset_log()

    items = helpdesk.get_items(["61", "999999", "62"])

    assert [item.ref.external_id for item in items] == ["61", "62"]
    assert all(isinstance(item, HelpdeskItem) and item.ref.source is kit.source for item in items)
    calls = len(kit.emulator.calls(kit.api_prefix))
    # Zendesk: one show_many for the batch; Intercom: one read per id (it has no batch read).
    assert calls == (1 if kit.source is Source.ZENDESK else 3)
    assert helpdesk.get_items([]) == []


def test_rate_limit_is_waited_out_then_succeeds(kit, clock, monkeypatch):
    import zenpy.lib.api

    monkeypatch.setattr(zenpy.lib.api, "sleep", lambda s: None)  # zenpy sleeps per Retry-After second
    kit.open_item(1, timedelta(hours=1))
    kit.emulator.fail_next(kit.api_prefix, status=429, retry_after=1)

    items, _, _ = full_sync(kit.make(), None, clock())

    assert [i.ref.external_id for i in items] == ["1"]


def test_server_error_once_is_retried(kit, clock):
    kit.open_item(1, timedelta(hours=1))
    kit.emulator.fail_next(kit.api_prefix, status=500)

    items, _, _ = full_sync(kit.make(), None, clock())

    assert [i.ref.external_id for i in items] == ["1"]


def test_server_error_that_persists_raises_helpdesk_error_without_secrets(kit, clock):
    kit.open_item(1, timedelta(hours=1))
    kit.emulator.fail_next(kit.api_prefix, status=503, count=100)

    with pytest.raises(HelpdeskError) as excinfo:
        full_sync(kit.make(), None, clock())

    assert kit.token not in str(excinfo.value)


# -- get_context ------------------------------------------------------------------------------------
def test_get_context_names_the_requester_and_quotes_their_opening_message(kit):
    kit.open_asked(31, "Jo Bloggs", "jo@example.com", "My card was declined twice")
    helpdesk = kit.make()
    kit.emulator.reset_log()

    context = helpdesk.get_context("31")

    assert context == TicketContext(requester="Jo Bloggs", last_customer_message="My card was declined twice")
    # Zendesk: the ticket (requester sideloaded) and one comments page; Intercom: one conversation read.
    assert len(kit.emulator.calls()) == (2 if kit.source is Source.ZENDESK else 1)


def test_get_context_takes_the_newest_customer_message_not_a_later_agent_reply(kit):
    kit.open_asked(32, "Jo Bloggs", "jo@example.com", "My card was declined")
    kit.agent_reply(32, "Which card is it?")
    kit.customer_reply(32, "The   blue\n one, ending 1117")
    kit.agent_reply(32, "Thanks, looking into it")

    context = kit.make().get_context("32")

    assert context.last_customer_message == "The blue one, ending 1117"
    assert context.requester == "Jo Bloggs"


def test_get_context_of_an_unknown_item_raises_not_found(kit):
    with pytest.raises(HelpdeskNotFound):
        kit.make().get_context("999999")


def test_get_context_cuts_a_long_message_to_the_limit(kit):
    kit.open_asked(33, "Jo Bloggs", "jo@example.com", "word " * 1000)

    message = kit.make().get_context("33").last_customer_message

    assert message is not None and len(message) == CUSTOMER_MESSAGE_MAX_CHARS
    assert message.startswith("word word") and message.endswith("\u2026")


def test_get_context_uses_the_email_when_the_customer_has_no_name(intercom_emu, clock):
    kit = intercom_kit(intercom_emu, clock)
    kit.open_asked(34, None, "visitor@example.com", "Is anyone there?")

    assert kit.make().get_context("34") == TicketContext("visitor@example.com", "Is anyone there?")


def test_get_context_strips_html_from_intercom_bodies(intercom_emu, clock):
    kit = intercom_kit(intercom_emu, clock)
    kit.open_asked(35, "Jo Bloggs", "jo@example.com", "x")
    intercom_emu.customer_reply(
        35,
        body='<p>Hello&nbsp;<b>there</b> &amp; thanks</p><p><br></p><p>see <a href="https://x.io">this</a></p>',
    )

    assert kit.make().get_context("35").last_customer_message == "Hello there & thanks see this"


def test_get_context_of_an_outbound_conversation_without_reply_has_no_customer_message(intercom_emu, clock):
    kit = intercom_kit(intercom_emu, clock)
    intercom_emu.add_contact("c36", "Jo Bloggs", "jo@example.com")
    intercom_emu.upsert_conversation(
        id="36",
        delivered_as="admin_initiated",
        admin_assignee_id=901,
        contact_id="c36",
        body="<p>Your card</p>",
    )
    intercom_emu.admin_reply(36, 901, body="<p>Did it arrive?</p>")
    helpdesk = kit.make()
    intercom_emu.reset_log()

    context = helpdesk.get_context("36")

    # The admin's outbound message and follow-up are not the customer's; the name comes from the contact.
    assert context == TicketContext(requester="Jo Bloggs", last_customer_message=None)
    assert [r.path for r in intercom_emu.calls()] == ["/conversations/36", "/contacts/c36"]
    kit.customer_reply(36, "Yes, thanks")
    intercom_emu.reset_log()
    assert helpdesk.get_context("36") == TicketContext("Jo Bloggs", "Yes, thanks")
    assert len(intercom_emu.calls()) == 1  # the reply's author names the customer


def test_get_context_ignores_an_intercom_note_and_empty_customer_parts(intercom_emu, clock):
    kit = intercom_kit(intercom_emu, clock)
    kit.open_asked(37, "Jo Bloggs", "jo@example.com", "Card declined")
    kit.customer_reply(37, "Second try failed too")
    clock.advance(minutes=1)
    intercom_emu.customer_reply(37, body="<p><br></p>")  # an image-only reply: no text
    intercom_emu.admin_reply(37, 901, body="<p>Customer is upset</p>", message_type="note")

    assert kit.make().get_context("37").last_customer_message == "Second try failed too"


def test_get_context_without_the_requester_user_still_finds_their_comments(zendesk_emu, clock):
    kit = zendesk_kit(zendesk_emu, clock)
    open_ticket(zendesk_emu, 38, created=clock() - timedelta(hours=1), breach_at=clock() + timedelta(hours=1))
    zendesk_emu.upsert_ticket(id=38, requester_id=7777, description="Deleted user wrote this")
    helpdesk = kit.make()
    zendesk_emu.reset_log()

    context = helpdesk.get_context("38")

    assert context == TicketContext(requester=None, last_customer_message="Deleted user wrote this")
    assert [r.path for r in zendesk_emu.calls()] == [
        "/api/v2/tickets/38.json",
        "/api/v2/users/7777.json",
        "/api/v2/tickets/38/comments.json",
    ]
