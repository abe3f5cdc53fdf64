"""One contract, every adapter: the same behaviour from ZendeskHelpdesk and IntercomHelpdesk, each
driven through its real SDK against its emulator (fixture params, as APScheduler tests its stores)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.domain.model import HelpdeskItem, Source
from integrations.base import Helpdesk, HelpdeskAuthError, HelpdeskError, HelpdeskNotFound, SyncPage
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


def zendesk_kit(zendesk_emu, clock) -> Kit:
    from integrations.zendesk import ZendeskHelpdesk

    zendesk_emu.add_group(7, "Billing")

    def open_item(i: int, age: timedelta) -> None:
        open_ticket(zendesk_emu, i, created=clock() - age, breach_at=clock() + timedelta(hours=1))

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
    )


def intercom_kit(intercom_emu, clock) -> Kit:
    from integrations.intercom import IntercomHelpdesk

    intercom_emu.add_admin(901, "Dana Smith")
    intercom_emu.add_team(77, "Billing", admin_ids=[901])

    def open_item(i: int, age: timedelta) -> None:
        open_conversation(intercom_emu, i, created=clock() - age)

    def ts() -> int:
        return int(clock().timestamp())

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
