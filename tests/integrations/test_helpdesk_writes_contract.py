"""One write-back contract for ZendeskWriter and IntercomWriter, each driven through its real SDK
against its emulator: notes added once (even when the answer is lost), routing, agent lookup (by email
and back)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.model import Source
from integrations.base import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskNotFound,
    HelpdeskWriteOutcomeUnknown,
    HelpdeskWriter,
    add_note_once,
    note_marker_line,
)
from integrations.emulators.base import EmulatorServer
from integrations.emulators.seed import open_conversation, open_ticket

MARKER = "deskwatch:esc:12:note"
SLACK_LINK = "https://deskwatch.slack.com/archives/C0ESC/p1700000000000100"
BODY = f"Handoff: refund stuck, customer waiting 3 days.\nSlack thread: {SLACK_LINK}"


@dataclass
class WriteKit:
    """How to drive one helpdesk's emulator for write-back, in helpdesk-neutral terms."""

    source: Source
    emulator: EmulatorServer
    make: Callable[..., Any]  # make(token=None, timeout=30.0, url=None) -> the adapter (Helpdesk)
    open_item: Callable[[int, list[str]], None]  # (id, existing tags)
    notes: Callable[[int], list[str]]  # bodies of the item's internal notes, oldest first
    routing: Callable[[int], tuple[str | None, str | None, list[str]]]  # (group, assignee, tags)
    note_path: Callable[[int], str]
    note_method: str
    route_path: Callable[[int], str]
    group_id: str  # a second group / team to route to
    agent_id: str  # an agent whose email is AGENT_EMAIL
    add_non_agent: Callable[[str], None]
    non_agent_id: str  # the id `add_non_agent` gives (Zendesk end-user, Intercom teammate without a seat)
    add_agent: Callable[[str], str]  # (email) -> the new agent's id
    token: str


AGENT_EMAIL = "dana.smith@example.com"


def zendesk_kit(zendesk_emu, clock) -> WriteKit:
    from integrations.zendesk import ZendeskHelpdesk

    zendesk_emu.add_group(7, "Billing")
    zendesk_emu.add_group(8, "Payments tier 2")
    zendesk_emu.add_user(501, "Dana Smith", AGENT_EMAIL, role="agent")

    def open_item(i: int, tags: list[str]) -> None:
        open_ticket(
            zendesk_emu, i, created=clock() - timedelta(hours=1), breach_at=clock() + timedelta(hours=1)
        )
        zendesk_emu.upsert_ticket(id=i, tags=tags)

    def routing(i: int) -> tuple[str | None, str | None, list[str]]:
        ticket = zendesk_emu.ticket_json(i)
        ids = [None if v is None else str(v) for v in (ticket["group_id"], ticket["assignee_id"])]
        return ids[0], ids[1], ticket["tags"]

    return WriteKit(
        source=Source.ZENDESK,
        emulator=zendesk_emu,
        make=lambda token=None, timeout=30.0, url=None: ZendeskHelpdesk(
            subdomain=None,
            email=zendesk_emu.email,
            token=token or zendesk_emu.token,
            base_url=url or zendesk_emu.url,
            max_retries=2,
            backoff_factor=0,
            timeout=timeout,
        ),
        open_item=open_item,
        notes=lambda i: [c["body"] for c in zendesk_emu.comments(i) if c["public"] is False],
        routing=routing,
        note_path=lambda i: f"/api/v2/tickets/{i}.json",
        note_method="PUT",
        route_path=lambda i: f"/api/v2/tickets/{i}",
        group_id="8",
        agent_id="501",
        add_non_agent=lambda email: zendesk_emu.add_user(502, "A Customer", email, role="end-user"),
        non_agent_id="502",
        add_agent=lambda email: zendesk_emu.add_user(503, "Eli Admin", email, role="admin") or "503",
        token=zendesk_emu.token,
    )


def intercom_kit(intercom_emu, clock) -> WriteKit:
    from integrations.intercom import IntercomHelpdesk

    intercom_emu.add_admin(901, "Deskwatch Bot", "bot@deskwatch.example")
    intercom_emu.add_admin(902, "Dana Smith", AGENT_EMAIL)
    intercom_emu.add_team(77, "Billing", admin_ids=[901])
    intercom_emu.add_team(78, "Payments tier 2", admin_ids=[902])

    def open_item(i: int, tags: list[str]) -> None:
        open_conversation(intercom_emu, i, created=clock() - timedelta(hours=1))
        intercom_emu.upsert_conversation(id=str(i), tags=tags)

    def parts(i: int) -> list[dict[str, Any]]:
        return intercom_emu.conversation(i)["conversation_parts"]["conversation_parts"]

    def routing(i: int) -> tuple[str | None, str | None, list[str]]:
        conv = intercom_emu.conversation(i)
        ids = [None if v is None else str(v) for v in (conv["team_assignee_id"], conv["admin_assignee_id"])]
        return ids[0], ids[1], [t["name"] for t in conv["tags"]["tags"]]

    return WriteKit(
        source=Source.INTERCOM,
        emulator=intercom_emu,
        make=lambda token=None, timeout=30.0, url=None: IntercomHelpdesk(
            token=token or intercom_emu.token,
            base_url=url or intercom_emu.url,
            max_retries=2,
            timeout=timeout,
            sleep=lambda s: None,
        ),
        open_item=open_item,
        notes=lambda i: [p["body"] for p in parts(i) if p["part_type"] == "note"],
        routing=routing,
        note_path=lambda i: f"/conversations/{i}/reply",
        note_method="POST",
        route_path=lambda i: f"/conversations/{i}/parts",
        group_id="78",
        agent_id="902",
        add_non_agent=lambda email: intercom_emu.add_admin(903, "No Seat", email, has_inbox_seat=False),
        non_agent_id="903",
        add_agent=lambda email: intercom_emu.add_admin(904, "Eli Admin", email) or "904",
        token=intercom_emu.token,
    )


@pytest.fixture(params=["zendesk", "intercom"])
def kit(request, clock) -> WriteKit:
    if request.param == "zendesk":
        return zendesk_kit(request.getfixturevalue("zendesk_emu"), clock)
    return intercom_kit(request.getfixturevalue("intercom_emu"), clock)


def test_writer_implements_the_protocol(kit):
    writer = kit.make().writer()

    assert isinstance(writer, HelpdeskWriter)
    assert writer.source is kit.source


def test_internal_note_is_added_once_as_agent_only_and_found_by_marker(kit):
    kit.open_item(5, [])
    writer = kit.make().writer()

    result = writer.add_internal_note("5", BODY, marker=MARKER)

    notes = kit.notes(5)
    assert len(notes) == 1
    assert "refund stuck" in notes[0] and SLACK_LINK in notes[0]
    assert notes[0].rstrip().removesuffix("</p>").endswith(note_marker_line(MARKER))
    assert result.created and result.ref is not None and result.external_id == "5"
    assert writer.find_note("5", MARKER) == result.ref
    assert writer.find_note("5", "deskwatch:esc:1:note") is None  # a prefix of another marker is no match
    if kit.source is Source.ZENDESK:
        assert [c["public"] for c in kit.emulator.comments(5)] == [False]
        assert kit.emulator.ticket_json(5)["status"] == "open"
    else:
        assert f'<a href="{SLACK_LINK}">' in notes[0]


def test_add_note_once_does_not_send_a_note_that_is_already_there(kit):
    kit.open_item(5, [])
    writer = kit.make().writer()
    first = add_note_once(writer, "5", BODY, marker=MARKER)
    kit.emulator.reset_log()

    again = add_note_once(writer, "5", BODY, marker=MARKER)

    assert first.created and not again.created and again.ref == first.ref
    assert len(kit.notes(5)) == 1
    assert kit.emulator.calls(kit.note_path(5), method=kit.note_method) == []


@pytest.mark.parametrize("mode", ["reset", "close", "timeout"])
def test_lost_answer_raises_outcome_unknown_and_a_guarded_retry_adds_no_second_note(kit, mode):
    kit.open_item(5, [])
    writer = kit.make(timeout=0.5).writer()
    kit.emulator.lose_response(kit.note_path(5), mode=mode, delay=3.0, method=kit.note_method)

    with pytest.raises(HelpdeskWriteOutcomeUnknown) as excinfo:
        writer.add_internal_note("5", BODY, marker=MARKER)

    assert kit.token not in str(excinfo.value)
    assert len(kit.emulator.calls(kit.note_path(5), method=kit.note_method)) == 1  # never re-sent
    assert len(kit.notes(5)) == 1  # the helpdesk did add it
    result = add_note_once(writer, "5", BODY, marker=MARKER)
    assert not result.created and result.ref is not None
    assert len(kit.notes(5)) == 1


def test_add_note_once_resolves_its_own_lost_answer_by_looking(kit):
    kit.open_item(5, [])
    writer = kit.make(timeout=0.5).writer()
    kit.emulator.lose_response(kit.note_path(5), mode="reset", method=kit.note_method)

    result = add_note_once(writer, "5", BODY, marker=MARKER)

    assert result.created and result.ref == writer.find_note("5", MARKER)
    assert len(kit.notes(5)) == 1


def test_server_error_on_a_note_is_not_retried_and_is_reported_as_unknown(kit):
    kit.open_item(5, [])
    writer = kit.make().writer()
    kit.emulator.fail_next(kit.note_path(5), status=502, method=kit.note_method)

    with pytest.raises(HelpdeskWriteOutcomeUnknown):
        writer.add_internal_note("5", BODY, marker=MARKER)

    assert len(kit.emulator.calls(kit.note_path(5), method=kit.note_method)) == 1
    assert kit.notes(5) == []
    assert add_note_once(writer, "5", BODY, marker=MARKER).created
    assert len(kit.notes(5)) == 1


def test_unreachable_helpdesk_is_a_plain_error_because_nothing_was_sent(kit):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    helpdesk = kit.make(timeout=0.5, url=f"http://127.0.0.1:{port}")
    writer = helpdesk.writer(admin_id="901") if kit.source is Source.INTERCOM else helpdesk.writer()

    with pytest.raises(HelpdeskError) as excinfo:
        writer.add_internal_note("5", BODY, marker=MARKER)

    assert not isinstance(excinfo.value, HelpdeskWriteOutcomeUnknown)


def test_rate_limited_note_is_a_plain_error_not_applied(kit):
    kit.open_item(5, [])
    writer = kit.make().writer()
    kit.emulator.fail_next(kit.note_path(5), status=429, method=kit.note_method)

    with pytest.raises(HelpdeskError) as excinfo:
        writer.add_internal_note("5", BODY, marker=MARKER)

    assert not isinstance(excinfo.value, HelpdeskWriteOutcomeUnknown)
    assert kit.notes(5) == []


def test_route_sets_group_and_assignee_and_adds_tags_keeping_existing_ones(kit):
    kit.open_item(5, ["vip", "billing"])
    writer = kit.make().writer()

    writer.route("5", group_id=kit.group_id, assignee_id=kit.agent_id, tags=["deskwatch_escalated", "vip"])
    writer.route("5", group_id=kit.group_id, assignee_id=kit.agent_id, tags=["deskwatch_escalated"])

    group, assignee, tags = kit.routing(5)
    assert (group, assignee) == (kit.group_id, kit.agent_id)
    assert sorted(tags) == ["billing", "deskwatch_escalated", "vip"]


def test_route_with_only_tags_leaves_group_and_assignee_alone(kit):
    kit.open_item(5, ["vip"])
    before = kit.routing(5)[:2]

    kit.make().writer().route("5", tags=["tier_2"])

    group, assignee, tags = kit.routing(5)
    assert (group, assignee) == before
    assert sorted(tags) == ["tier_2", "vip"]


def test_route_retries_a_server_error_because_it_only_sets_values(kit):
    kit.open_item(5, [])
    kit.emulator.fail_next(kit.route_path(5), status=500)

    kit.make().writer().route("5", group_id=kit.group_id)

    assert kit.routing(5)[0] == kit.group_id


def test_find_agent_by_email_finds_agents_only_and_caches(kit):
    kit.add_non_agent("customer@example.com")
    writer = kit.make().writer()

    assert writer.find_agent_by_email("Dana.Smith@Example.com") == kit.agent_id
    assert writer.find_agent_by_email("customer@example.com") is None
    assert writer.find_agent_by_email("nobody@example.com") is None
    kit.emulator.reset_log()
    assert writer.find_agent_by_email(AGENT_EMAIL) == kit.agent_id
    assert writer.find_agent_by_email("nobody@example.com") is None
    assert kit.emulator.calls() == []


def test_agent_cache_expires_after_an_hour(kit):
    helpdesk = kit.make()
    now = [1000.0]
    writer = type(helpdesk.writer())(helpdesk, clock=lambda: now[0])
    assert writer.find_agent_by_email(AGENT_EMAIL) == kit.agent_id
    kit.emulator.reset_log()

    now[0] += 3599
    writer.find_agent_by_email(AGENT_EMAIL)
    assert kit.emulator.calls() == []
    now[0] += 2
    writer.find_agent_by_email(AGENT_EMAIL)
    assert len(kit.emulator.calls()) == 1


def test_agent_email_gives_an_agents_email_lower_cased(kit):
    eli = kit.add_agent("Eli.Admin@Example.COM")
    writer = kit.make().writer()

    assert writer.agent_email(kit.agent_id) == AGENT_EMAIL
    assert writer.agent_email(eli) == "eli.admin@example.com"


def test_agent_email_of_an_unknown_id_or_a_non_agent_is_none(kit):
    kit.add_non_agent("customer@example.com")
    writer = kit.make().writer()

    assert writer.agent_email("999999") is None
    assert writer.agent_email(kit.non_agent_id) is None  # Zendesk end-user / Intercom teammate without a seat
    assert writer.agent_email("") is None


def test_agent_email_caches_hits_and_misses_for_an_hour(kit):
    helpdesk = kit.make()
    now = [1000.0]
    writer = type(helpdesk.writer())(helpdesk, clock=lambda: now[0])
    assert writer.agent_email(kit.agent_id) == AGENT_EMAIL
    assert writer.agent_email("999999") is None
    kit.emulator.reset_log()

    now[0] += 3599
    assert writer.agent_email(kit.agent_id) == AGENT_EMAIL
    assert writer.agent_email("999999") is None
    assert kit.emulator.calls() == []
    now[0] += 2
    writer.agent_email(kit.agent_id)
    assert len(kit.emulator.calls()) == 1


def test_zendesk_agent_email_reads_show_user_and_skips_ids_that_cannot_be_users(zendesk_emu, clock):
    kit = zendesk_kit(zendesk_emu, clock)
    writer = kit.make().writer()

    assert writer.agent_email("501") == AGENT_EMAIL
    assert writer.agent_email("not-a-number") is None
    assert [c.path for c in zendesk_emu.calls()] == ["/api/v2/users/501.json"]


def test_intercom_agent_email_shares_the_admins_list_with_find_agent_by_email(intercom_emu, clock):
    kit = intercom_kit(intercom_emu, clock)
    writer = kit.make().writer()

    assert writer.find_agent_by_email(AGENT_EMAIL) == "902"
    assert writer.agent_email("902") == AGENT_EMAIL
    assert writer.agent_email("901") == "bot@deskwatch.example"
    assert len(intercom_emu.calls("/admins")) == 1


@pytest.mark.parametrize("operation", ["note", "find_note", "route", "agent", "agent_email"])
def test_bad_credentials_raise_auth_error_without_the_token(kit, operation):
    kit.open_item(5, [])
    writer = kit.make(token="definitely-wrong-token").writer()
    calls = {
        "note": lambda: writer.add_internal_note("5", BODY, marker=MARKER),
        "find_note": lambda: writer.find_note("5", MARKER),
        "route": lambda: writer.route("5", group_id=kit.group_id, tags=["x"]),
        "agent": lambda: writer.find_agent_by_email(AGENT_EMAIL),
        "agent_email": lambda: writer.agent_email(kit.agent_id),
    }

    with pytest.raises(HelpdeskAuthError) as excinfo:
        calls[operation]()

    assert "definitely-wrong-token" not in str(excinfo.value)
    assert kit.notes(5) == []


@pytest.mark.parametrize("operation", ["note", "find_note", "route"])
def test_unknown_item_raises_not_found(kit, operation):
    writer = kit.make().writer()
    calls = {
        "note": lambda: writer.add_internal_note("999999", BODY, marker=MARKER),
        "find_note": lambda: writer.find_note("999999", MARKER),
        "route": lambda: writer.route("999999", group_id=kit.group_id, tags=["x"]),
    }

    with pytest.raises(HelpdeskNotFound):
        calls[operation]()


def test_a_marker_that_could_not_be_found_again_is_refused_before_sending(kit):
    kit.open_item(5, [])
    writer = kit.make().writer()
    kit.emulator.reset_log()

    with pytest.raises(ValueError):
        writer.add_internal_note("5", BODY, marker="esc 12]\n")

    assert kit.emulator.calls(kit.note_path(5)) == []
