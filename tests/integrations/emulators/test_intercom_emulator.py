"""The Intercom emulator is strict where real Intercom is: page sizes, query limits, field types, auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from intercom import ContactReplyEmailRequest, ContactReplyIntercomUserIdRequest, Intercom
from intercom.conversations.types.conversations_manage_request_body import (
    ConversationsManageRequestBody_Assignment,
    ConversationsManageRequestBody_Close,
    ConversationsManageRequestBody_Open,
    ConversationsManageRequestBody_Snoozed,
)
from intercom.core.api_error import ApiError
from intercom.types import AdminReplyConversationRequest

from integrations.emulators.intercom import IntercomEmulator

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKEN = "ic-test-token"


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def emulator(clock: Clock) -> Iterator[IntercomEmulator]:
    with IntercomEmulator(token=TOKEN, app_id="wsp123", now=clock) as em:
        em.add_admin(1, "Ann Agent", "ann@example.com")
        em.add_admin(2, "Bob Agent")
        em.add_team(77, "Billing", admin_ids=[1])
        yield em


@pytest.fixture
def http(emulator: IntercomEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.14"}
    with httpx.Client(base_url=emulator.url, headers=headers) as client:
        yield client


@pytest.fixture
def sdk(emulator: IntercomEmulator) -> Intercom:
    return Intercom(token=TOKEN, base_url=emulator.url, headers={"Intercom-Version": "2.14"})


def seed(emulator: IntercomEmulator, count: int, **fields: Any) -> None:
    for n in range(1, count + 1):
        emulator.upsert_conversation(id=str(n), updated_at=T0 - timedelta(minutes=n), **fields)


def search(http: httpx.Client, query: dict[str, Any], **pagination: Any) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if pagination:
        body["pagination"] = pagination
    return http.post("/conversations/search", json=body)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["conversations"]]


OPEN = {"field": "open", "operator": "=", "value": True}


def test_search_without_pagination_returns_20_per_page(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    seed(emulator, 25)

    body = search(http, OPEN).json()

    assert body["type"] == "conversation.list"
    assert len(body["conversations"]) == 20
    assert body["total_count"] == 25
    assert body["pages"]["type"] == "pages"
    assert body["pages"]["page"] == 1
    assert body["pages"]["per_page"] == 20
    assert body["pages"]["total_pages"] == 2
    assert body["pages"]["next"]["per_page"] == 20
    assert body["pages"]["next"]["starting_after"]


def test_search_per_page_over_150_is_400(emulator: IntercomEmulator, http: httpx.Client) -> None:
    seed(emulator, 1)

    response = search(http, OPEN, per_page=151)

    assert response.status_code == 400
    assert response.json()["type"] == "error.list"
    assert response.json()["errors"][0]["code"] == "parameter_invalid"


def test_search_starting_after_walks_every_match_once_in_updated_order(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    seed(emulator, 45)
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        pagination: dict[str, Any] = {"per_page": 20}
        if cursor:
            pagination["starting_after"] = cursor
        body = search(http, OPEN, **pagination).json()
        pages.append(body["pages"])
        seen += [c["id"] for c in body["conversations"]]
        cursor = body["pages"].get("next", {}).get("starting_after")
        if not cursor:
            break

    assert [p["page"] for p in pages] == [1, 2, 3]
    assert "next" not in pages[-1]
    assert seen == [str(n) for n in range(45, 0, -1)]  # oldest updated_at first


def walk(http: httpx.Client, query: dict[str, Any], per_page: int, between=None) -> list[dict[str, Any]]:
    """Every page of a search, following `pages.next.starting_after`; `between(n)` runs after page n."""
    bodies: list[dict[str, Any]] = []
    pagination: dict[str, Any] = {"per_page": per_page}
    while True:
        response = search(http, query, **pagination)
        assert response.status_code == 200, response.text
        bodies.append(response.json())
        following = bodies[-1]["pages"].get("next")
        if following is None:
            return bodies
        if between is not None:
            between(len(bodies))
        pagination = {"per_page": per_page, "starting_after": following["starting_after"]}


def test_search_pages_thousands_in_real_shaped_pages_objects(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    emulator.upsert_conversations(
        {"id": str(n), "updated_at": T0 - timedelta(days=9) + timedelta(seconds=n)} for n in range(1, 3002)
    )

    bodies = walk(http, OPEN, per_page=150)

    assert [len(b["conversations"]) for b in bodies] == [150] * 20 + [1]
    assert [b["pages"]["page"] for b in bodies] == list(range(1, 22))
    assert {(b["pages"]["type"], b["pages"]["per_page"], b["pages"]["total_pages"]) for b in bodies} == {
        ("pages", 150, 21)
    }
    assert {b["total_count"] for b in bodies} == {3001}
    assert all(b["pages"]["next"] == {"per_page": 150, "starting_after": ANY_STR} for b in bodies[:-1])
    assert [c["id"] for b in bodies for c in b["conversations"]] == [str(n) for n in range(1, 3002)]


class _AnyStr:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


ANY_STR = _AnyStr()


def test_search_cursor_resumes_after_its_last_key_whatever_changed_between_pages(
    emulator: IntercomEmulator, http: httpx.Client, clock: Clock
) -> None:
    """Results are sorted once per query and state; a change between pages re-sorts them, and the
    next page still starts right after the last conversation served: nothing unread is skipped."""
    seed(emulator, 60)  # conversation 60 updated first, 1 last

    def change(page: int) -> None:
        if page == 1:
            clock.now = T0 + timedelta(minutes=1)
            emulator.upsert_conversation(id="55")  # read on page 1: moves to the end, read again
            emulator.upsert_conversation(id="10", state="closed")  # unread: drops out
            emulator.upsert_conversation(id="1000", title="new")  # new: at the end

    bodies = walk(http, OPEN, per_page=20, between=change)

    served = [c["id"] for b in bodies for c in b["conversations"]]
    expected = [str(n) for n in range(60, 0, -1) if n != 10] + ["55", "1000"]
    assert served == expected


def test_bulk_upsert_validates_like_upsert(emulator: IntercomEmulator) -> None:
    assert emulator.upsert_conversations({"id": str(n), "state": "snoozed"} for n in (1, 2)) == 2
    assert emulator.conversation("2")["state"] == "snoozed"
    with pytest.raises(TypeError, match="unknown"):
        emulator.upsert_conversations([{"id": "3", "colour": "red"}])


def test_search_garbage_cursor_is_400(emulator: IntercomEmulator, http: httpx.Client) -> None:
    seed(emulator, 1)

    assert search(http, OPEN, starting_after="not-a-cursor").status_code == 400


def test_search_two_levels_of_nesting_are_accepted(emulator: IntercomEmulator, http: httpx.Client) -> None:
    emulator.upsert_conversation(id="1", priority="priority", team_assignee_id=77)
    emulator.upsert_conversation(id="2", priority="not_priority", team_assignee_id=77)
    emulator.upsert_conversation(id="3", priority="priority", state="closed")
    query = {
        "operator": "AND",
        "value": [
            OPEN,
            {
                "operator": "OR",
                "value": [
                    {"field": "priority", "operator": "=", "value": "priority"},
                    {"field": "team_assignee_id", "operator": "=", "value": "0"},
                ],
            },
        ],
    }

    assert ids(search(http, query)) == ["1"]


def test_search_three_levels_of_nesting_is_400(emulator: IntercomEmulator, http: httpx.Client) -> None:
    query = {
        "operator": "AND",
        "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [OPEN]}]}],
    }

    response = search(http, query)

    assert response.status_code == 400
    assert "nested" in response.json()["errors"][0]["message"]


def test_search_group_of_16_filters_is_400(http: httpx.Client) -> None:
    query = {
        "operator": "OR",
        "value": [{"field": "id", "operator": "=", "value": str(n)} for n in range(16)],
    }

    assert search(http, query).status_code == 400


@pytest.mark.parametrize("field", ["sla_applied", "sla_applied.sla_status", "nonsense", "statistics"])
def test_search_unsearchable_field_is_400(http: httpx.Client, field: str) -> None:
    response = search(http, {"field": field, "operator": "=", "value": "missed"})

    assert response.status_code == 400
    assert field in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"field": "state", "operator": ">", "value": "open"},  # > is for integers and dates
        {"field": "created_at", "operator": ">", "value": "foobar"},
        {"field": "open", "operator": "=", "value": 1},  # what the SDK's pydantic model sends for True
        {"field": "id", "operator": "IN", "value": "1"},
        {"field": "id", "operator": "<=", "value": "1"},
    ],
)
def test_search_operator_or_value_of_wrong_type_is_400(http: httpx.Client, query: dict[str, Any]) -> None:
    assert search(http, query).status_code == 400


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"field": "id", "operator": "IN", "value": ["1", "3"]}, ["1", "3"]),
        ({"field": "id", "operator": "NIN", "value": ["1", "3"]}, ["2"]),
        ({"field": "state", "operator": "!=", "value": "open"}, ["2", "3"]),
        ({"field": "open", "operator": "=", "value": True}, ["1", "3"]),
        ({"field": "updated_at", "operator": ">", "value": str(ts(T0 - timedelta(hours=1)))}, ["1", "2"]),
        ({"field": "updated_at", "operator": "<", "value": ts(T0 - timedelta(hours=2))}, ["3"]),
        (
            {"field": "updated_at", "operator": ">", "value": ts(T0 - timedelta(minutes=20))},
            ["2"],
        ),  # or equal
        ({"field": "source.subject", "operator": "~", "value": "REFUND"}, ["1", "2"]),
        ({"field": "source.subject", "operator": "!~", "value": "refund"}, ["3"]),
        ({"field": "source.subject", "operator": "^", "value": "Refund"}, ["1"]),
        ({"field": "source.subject", "operator": "$", "value": "please"}, ["2"]),
        ({"field": "source.body", "operator": "=", "value": "support"}, ["3"]),
        ({"field": "source.body", "operator": "=", "value": "need support"}, []),
        ({"field": "team_assignee_id", "operator": "=", "value": 77}, ["1"]),
        ({"field": "admin_assignee_id", "operator": "=", "value": None}, ["2", "3"]),
        ({"field": "priority", "operator": "=", "value": "priority"}, ["2"]),
        ({"field": "waiting_since", "operator": ">", "value": 0}, ["3"]),
        ({"field": "statistics.first_admin_reply_at", "operator": "<", "value": ts(T0)}, ["1"]),
        ({"field": "tag_ids", "operator": "=", "value": "501"}, ["2"]),
        ({"field": "snoozed_until", "operator": ">", "value": 1}, ["3"]),
    ],
)
def test_search_evaluates_operators(
    operator_fixtures: IntercomEmulator, query: dict[str, Any], expected: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.14"}
    with httpx.Client(base_url=operator_fixtures.url, headers=headers) as http:
        assert sorted(ids(search(http, query))) == expected


@pytest.fixture(scope="module")
def operator_fixtures() -> Iterator[IntercomEmulator]:
    """Three conversations shared read-only by the operator table above."""
    with IntercomEmulator(token=TOKEN, now=Clock(T0)) as emulator:
        emulator.add_tag(501, "vip")
        emulator.upsert_conversation(
            id="1",
            subject="Refund for order 42",
            team_assignee_id=77,
            admin_assignee_id=1,
            statistics={"first_admin_reply_at": T0 - timedelta(hours=2)},
            updated_at=T0 - timedelta(minutes=30),
        )
        emulator.upsert_conversation(
            id="2",
            subject="Card declined, refund please",
            state="closed",
            priority="priority",
            tags=[{"id": "501", "name": "vip"}],
            updated_at=T0 - timedelta(minutes=20),
        )
        emulator.upsert_conversation(
            id="3",
            body="<p>I need <b>support</b></p>",
            state="snoozed",
            snoozed_until=T0 + timedelta(hours=1),
            waiting_since=T0 - timedelta(hours=3),
            updated_at=T0 - timedelta(hours=3),
        )
        yield emulator


def test_conversation_json_has_integer_assignee_ids_and_unix_times(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    emulator.upsert_conversation(
        id="9001",
        title="Login broken",
        admin_assignee_id="1",
        team_assignee_id=77,
        created_at=T0 - timedelta(hours=1),
        sla_applied={"sla_name": "VIP", "sla_status": "active"},
    )

    conv = http.get("/conversations/9001").json()

    assert conv["type"] == "conversation"
    assert conv["id"] == "9001"
    assert conv["team_assignee_id"] == 77 and isinstance(conv["team_assignee_id"], int)
    assert conv["admin_assignee_id"] == 1 and isinstance(conv["admin_assignee_id"], int)
    assert conv["created_at"] == int((T0 - timedelta(hours=1)).timestamp())
    assert conv["updated_at"] == int(T0.timestamp())
    assert conv["sla_applied"] == {
        "type": "conversation_sla_summary",
        "sla_name": "VIP",
        "sla_status": "active",
    }
    assert conv["statistics"]["type"] == "conversation_statistics"
    assert conv["statistics"]["first_admin_reply_at"] is None
    assert conv["source"]["type"] == "conversation"
    assert {"subject", "body", "author", "delivered_as", "id"} <= set(conv["source"])
    assert conv["conversation_parts"]["type"] == "conversation_part.list"
    assert (conv["state"], conv["open"], conv["read"], conv["priority"]) == (
        "open",
        True,
        False,
        "not_priority",
    )


def test_unknown_conversation_is_404_error_list(http: httpx.Client) -> None:
    response = http.get("/conversations/404404")

    assert response.status_code == 404
    assert response.json()["errors"][0] == {"code": "not_found", "message": "Conversation not found"}


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Token {TOKEN}"])
def test_request_without_valid_bearer_token_is_401(
    emulator: IntercomEmulator, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.get(f"{emulator.url}/me", headers=headers)

    assert response.status_code == 401
    assert response.json()["type"] == "error.list"
    assert response.json()["errors"] == [{"code": "unauthorized", "message": "Access Token Invalid"}]


def test_version_header_is_recorded_and_unknown_version_is_400(emulator: IntercomEmulator) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}

    ok = httpx.get(f"{emulator.url}/me", headers={**auth, "Intercom-Version": "2.14"})
    newer = httpx.get(f"{emulator.url}/me", headers={**auth, "Intercom-Version": "2.15"})
    bad = httpx.get(f"{emulator.url}/me", headers={**auth, "Intercom-Version": "9.9"})
    unversioned = httpx.get(f"{emulator.url}/me", headers=auth)

    assert (ok.status_code, newer.status_code, unversioned.status_code) == (200, 200, 200)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "intercom_version_invalid"
    assert emulator.versions_seen == ["2.14", "2.15", "9.9"]


def test_rate_limit_fault_is_error_list_with_rate_limit_headers(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    emulator.fail_next("/conversations/search", status=429, retry_after=3)

    limited = search(http, OPEN)
    after = search(http, OPEN)

    assert limited.status_code == 429
    assert limited.json()["errors"][0]["code"] == "rate_limit_exceeded"
    assert limited.headers["Retry-After"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"] == str(int(T0.timestamp()) + 3)
    assert after.status_code == 200


def test_server_error_fault_is_error_list(emulator: IntercomEmulator, http: httpx.Client) -> None:
    emulator.fail_next("/me", status=500)

    response = http.get("/me")

    assert response.status_code == 500
    assert response.json()["errors"][0]["code"] == "server_error"


def test_list_conversations_pages_and_caps_per_page(emulator: IntercomEmulator, http: httpx.Client) -> None:
    seed(emulator, 30)

    first = http.get("/conversations").json()
    second = http.get("/conversations", params={"starting_after": first["pages"]["next"]["starting_after"]})

    assert len(first["conversations"]) == 20
    assert len(second.json()["conversations"]) == 10
    assert "next" not in second.json()["pages"]
    assert http.get("/conversations", params={"per_page": 151}).status_code == 400


def test_me_admins_and_teams_through_the_sdk(sdk: Intercom) -> None:
    me = sdk.admins.identify()
    admins = sdk.admins.list()
    teams = sdk.teams.list()

    assert (me.id, me.name, me.app.id_code) == ("1", "Ann Agent", "wsp123")
    assert admins.type == "admin.list"
    assert [(a.id, a.name) for a in admins.admins] == [("1", "Ann Agent"), ("2", "Bob Agent")]
    assert admins.admins[0].team_ids == [77]
    assert [(t.id, t.name, t.admin_ids) for t in teams.teams] == [("77", "Billing", [1])]


def test_admin_comment_updates_statistics_and_stops_waiting(
    emulator: IntercomEmulator, sdk: Intercom, clock: Clock
) -> None:
    emulator.upsert_conversation(
        id="5", created_at=T0, updated_at=T0, waiting_since=T0, statistics={"last_contact_reply_at": T0}
    )
    clock.now = T0 + timedelta(minutes=7)

    conv = sdk.conversations.reply(
        "5",
        request=AdminReplyConversationRequest(message_type="comment", type="admin", admin_id="2", body="Hi"),
    )

    reply_at = int(clock.now.timestamp())
    assert conv.statistics.first_admin_reply_at == reply_at
    assert conv.statistics.last_admin_reply_at == reply_at
    assert conv.statistics.time_to_admin_reply == 7 * 60
    assert conv.waiting_since is None
    assert conv.updated_at == reply_at
    parts = conv.conversation_parts.conversation_parts
    assert [(p.part_type, p.body, p.author.id) for p in parts] == [("comment", "Hi", "2")]


def test_admin_note_leaves_reply_statistics_alone(emulator: IntercomEmulator, http: httpx.Client) -> None:
    emulator.upsert_conversation(id="5", waiting_since=T0)

    response = http.post(
        "/conversations/5/reply",
        json={"message_type": "note", "type": "admin", "admin_id": "1", "body": "fyi"},
    )

    conv = response.json()
    assert response.status_code == 200
    assert conv["statistics"]["first_admin_reply_at"] is None
    assert conv["waiting_since"] == int(T0.timestamp())
    assert conv["conversation_parts"]["conversation_parts"][0]["part_type"] == "note"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("reply", {"message_type": "comment", "type": "admin", "body": "x"}, 400, "parameter_not_found"),
        (
            "reply",
            {"message_type": "comment", "type": "admin", "admin_id": "99", "body": "x"},
            404,
            "admin_not_found",
        ),
        (
            "reply",
            {"message_type": "quick_reply", "type": "admin", "admin_id": "1"},
            400,
            "parameter_invalid",
        ),
        ("parts", {"message_type": "close", "type": "admin"}, 400, "parameter_not_found"),
        (
            "parts",
            {"message_type": "assignment", "type": "team", "admin_id": "1", "assignee_id": "5"},
            404,
            None,
        ),
        ("tags", {"id": "501"}, 400, "parameter_not_found"),
        ("tags", {"id": "999", "admin_id": "1"}, 404, "tag_not_found"),
    ],
)
def test_write_without_valid_admin_or_target_is_refused(
    emulator: IntercomEmulator,
    http: httpx.Client,
    path: str,
    body: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    emulator.upsert_conversation(id="5")

    response = http.post(f"/conversations/5/{path}", json=body)

    assert response.status_code == status
    assert code is None or response.json()["errors"][0]["code"] == code


def test_manage_parts_assign_close_snooze_and_reopen(
    emulator: IntercomEmulator, sdk: Intercom, clock: Clock
) -> None:
    emulator.upsert_conversation(id="5")

    sdk.conversations.manage(
        "5", request=ConversationsManageRequestBody_Assignment(type="team", admin_id="1", assignee_id="77")
    )
    assigned = sdk.conversations.manage(
        "5", request=ConversationsManageRequestBody_Assignment(type="admin", admin_id="1", assignee_id="2")
    )
    snoozed = sdk.conversations.manage(
        "5",
        request=ConversationsManageRequestBody_Snoozed(admin_id="1", snoozed_until=int(T0.timestamp()) + 60),
    )
    clock.now = T0 + timedelta(minutes=5)
    closed = sdk.conversations.manage("5", request=ConversationsManageRequestBody_Close(admin_id="2"))
    reopened = sdk.conversations.manage("5", request=ConversationsManageRequestBody_Open(admin_id="2"))

    assert (assigned.team_assignee_id, assigned.admin_assignee_id) == (77, 2)
    assert assigned.statistics.count_assignments == 2
    assert (snoozed.state, snoozed.open, snoozed.snoozed_until) == ("snoozed", True, int(T0.timestamp()) + 60)
    assert (closed.state, closed.open, closed.statistics.last_closed_by_id) == ("closed", False, "2")
    assert closed.updated_at == int(clock.now.timestamp())
    assert (reopened.state, reopened.open, reopened.statistics.count_reopens) == ("open", True, 1)
    part_types = [p.part_type for p in reopened.conversation_parts.conversation_parts]
    assert part_types == ["assignment", "assignment", "snoozed", "close", "open"]


def test_unassign_with_assignee_zero(emulator: IntercomEmulator, http: httpx.Client) -> None:
    emulator.upsert_conversation(id="5", admin_assignee_id=2)

    response = http.post(
        "/conversations/5/parts",
        json={"message_type": "assignment", "type": "admin", "admin_id": "1", "assignee_id": "0"},
    )

    assert response.json()["admin_assignee_id"] is None


def test_tag_and_mark_read(emulator: IntercomEmulator, sdk: Intercom) -> None:
    emulator.add_tag(501, "sla-breach")
    emulator.upsert_conversation(id="5")

    tag = sdk.tags.tag_conversation("5", tag_id="501", admin_id="1")
    updated = sdk.conversations.update("5", read=True, custom_attributes={"escalated": True})

    assert (tag.id, tag.name) == ("501", "sla-breach")
    assert updated.read is True
    assert updated.custom_attributes == {"escalated": True}
    assert [t.name for t in updated.tags.tags] == ["sla-breach"]


def test_sdk_sees_bad_search_as_api_error_400(sdk: Intercom) -> None:
    with pytest.raises(ApiError) as info:
        sdk.conversations.search(query={"field": "sla_applied", "operator": "=", "value": "missed"})

    assert info.value.status_code == 400


def test_upsert_never_moves_updated_at_backwards(emulator: IntercomEmulator, clock: Clock) -> None:
    emulator.upsert_conversation(id="5", updated_at=T0)
    clock.now = T0 - timedelta(hours=1)

    conv = emulator.upsert_conversation(id="5", title="renamed")
    older = emulator.upsert_conversation(id="5", updated_at=T0 - timedelta(days=1))

    assert conv["updated_at"] == int(T0.timestamp())
    assert older["updated_at"] == int(T0.timestamp())
    assert conv["title"] == "renamed"


def test_upsert_rejects_unknown_fields_and_contradictions(emulator: IntercomEmulator) -> None:
    with pytest.raises(TypeError):
        emulator.upsert_conversation(id="5", team_id=77)
    with pytest.raises(ValueError):
        emulator.upsert_conversation(id="5", state="closed", open=True)
    with pytest.raises(ValueError):
        emulator.upsert_conversation(id="5", created_at=datetime(2026, 1, 1))


# -- who started the conversation -------------------------------------------------------------------
TEAM_STARTED = ["admin_initiated", "automated", "campaigns_initiated", "operator_initiated"]


def user_reply(sdk: Intercom, conv_id: str, body: str = "Thanks, one question") -> Any:
    return sdk.conversations.reply(
        conv_id, request=ContactReplyIntercomUserIdRequest(intercom_user_id=f"contact-{conv_id}", body=body)
    )


def admin_comment(sdk: Intercom, conv_id: str, admin_id: str = "1") -> Any:
    return sdk.conversations.reply(
        conv_id,
        request=AdminReplyConversationRequest(
            message_type="comment", type="admin", admin_id=admin_id, body="Hi"
        ),
    )


def test_customer_started_conversation_has_user_author_and_its_opening_message_as_first_contact(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    emulator.upsert_conversation(id="5", created_at=T0 - timedelta(hours=1))

    conv = http.get("/conversations/5").json()

    assert conv["source"]["delivered_as"] == "customer_initiated"
    assert conv["source"]["author"]["type"] == "user"
    assert conv["contacts"]["contacts"][0]["id"] == conv["source"]["author"]["id"]
    assert conv["first_contact_reply"] == {
        "created_at": ts(T0 - timedelta(hours=1)),
        "type": "conversation",
        "url": None,
    }
    assert conv["statistics"]["first_contact_reply_at"] == ts(T0 - timedelta(hours=1))


@pytest.mark.parametrize("delivered_as", TEAM_STARTED)
def test_team_started_conversation_has_admin_author_and_null_reply_fields(
    emulator: IntercomEmulator, http: httpx.Client, delivered_as: str
) -> None:
    """The shape of the spec's recorded `GET /conversations/{id}` of an admin_initiated conversation."""
    emulator.upsert_conversation(id="5", delivered_as=delivered_as, admin_assignee_id=2, body="<p>Hello!</p>")

    conv = http.get("/conversations/5").json()

    assert conv["source"]["delivered_as"] == delivered_as
    assert conv["source"]["author"]["type"] == "admin"
    assert conv["source"]["body"] == "<p>Hello!</p>"
    assert (conv["first_contact_reply"], conv["waiting_since"], conv["statistics"]) == (None, None, None)
    assert conv["contacts"]["contacts"] == [{"type": "contact", "id": "contact-5", "external_id": None}]
    assert conv["conversation_parts"]["conversation_parts"] == []


def test_team_started_author_is_the_sending_admin_or_operator(emulator: IntercomEmulator) -> None:
    outbound = emulator.upsert_conversation(id="5", delivered_as="admin_initiated", admin_assignee_id=2)
    bot = emulator.upsert_conversation(id="6", delivered_as="operator_initiated")

    assert outbound["source"]["author"] == {
        "type": "admin",
        "id": "2",
        "name": "Bob Agent",
        "email": "admin2@example.com",
    }
    assert (bot["source"]["author"]["type"], bot["source"]["author"]["name"]) == ("admin", "Operator")


def test_search_by_delivered_as_and_author_type(emulator: IntercomEmulator, http: httpx.Client) -> None:
    emulator.upsert_conversation(id="1")
    emulator.upsert_conversation(id="2", delivered_as="automated")
    emulator.upsert_conversation(id="3", delivered_as="admin_initiated")

    team = {"field": "source.delivered_as", "operator": "!=", "value": "customer_initiated"}
    admins = {"field": "source.author.type", "operator": "=", "value": "admin"}
    null_stats = {"field": "statistics.first_admin_reply_at", "operator": "=", "value": None}

    assert sorted(ids(search(http, team))) == ["2", "3"]
    assert sorted(ids(search(http, admins))) == ["2", "3"]
    assert sorted(ids(search(http, null_stats))) == ["1", "2", "3"]


def test_user_reply_to_team_started_conversation_sets_first_contact_reply_and_waiting_since(
    emulator: IntercomEmulator, sdk: Intercom, clock: Clock
) -> None:
    """As the spec's recorded user reply to an admin_initiated conversation: statistics stay null."""
    emulator.upsert_conversation(id="5", delivered_as="automated", created_at=T0, updated_at=T0)
    clock.now = T0 + timedelta(hours=2)

    conv = user_reply(sdk, "5")

    reply_at = ts(clock.now)
    assert conv.first_contact_reply.created_at == reply_at
    assert (conv.first_contact_reply.type, conv.first_contact_reply.url) == ("conversation", None)
    assert conv.waiting_since == reply_at
    assert conv.updated_at == reply_at
    assert conv.statistics is None
    (part,) = conv.conversation_parts.conversation_parts
    assert (part.part_type, part.body, part.created_at) == ("comment", "Thanks, one question", reply_at)
    assert (part.author.type, part.author.id) == ("user", "contact-5")


def test_user_reply_to_closed_conversation_reopens_it_with_an_open_part(
    emulator: IntercomEmulator, sdk: Intercom
) -> None:
    emulator.upsert_conversation(id="5", delivered_as="admin_initiated", state="closed")

    conv = sdk.conversations.reply(
        "5", request=ContactReplyEmailRequest(email="customer@example.com", body="Thanks again :)")
    )

    assert (conv.state, conv.open) == ("open", True)
    assert [p.part_type for p in conv.conversation_parts.conversation_parts] == ["open"]
    assert conv.first_contact_reply.created_at == ts(T0)


def test_customer_replies_fill_statistics_when_the_conversation_has_them(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    emulator.upsert_conversation(id="5", delivered_as="automated", created_at=T0, statistics={})

    emulator.customer_reply("5", at=T0 + timedelta(minutes=10))
    emulator.customer_reply("5", at=T0 + timedelta(minutes=12), body="<p>Hello?</p>")

    conv = http.get("/conversations/5").json()
    assert conv["first_contact_reply"]["created_at"] == ts(T0 + timedelta(minutes=10))
    assert conv["statistics"]["first_contact_reply_at"] == ts(T0 + timedelta(minutes=10))
    assert conv["statistics"]["last_contact_reply_at"] == ts(T0 + timedelta(minutes=12))
    assert conv["statistics"]["count_conversation_parts"] == 2
    assert conv["waiting_since"] == ts(T0 + timedelta(minutes=10))  # still waiting since the first one
    assert conv["updated_at"] == ts(T0 + timedelta(minutes=12))


def test_admin_replies_count_as_first_admin_reply_only_after_the_customer_wrote(
    emulator: IntercomEmulator, sdk: Intercom, clock: Clock
) -> None:
    emulator.upsert_conversation(id="5", delivered_as="admin_initiated", created_at=T0, statistics={})
    clock.now = T0 + timedelta(minutes=5)
    follow_up = admin_comment(sdk, "5")
    clock.now = T0 + timedelta(hours=1)
    user_reply(sdk, "5")
    clock.now = T0 + timedelta(hours=1, minutes=20)
    answer = admin_comment(sdk, "5", admin_id="2")

    assert follow_up.statistics.first_admin_reply_at is None
    assert follow_up.statistics.last_admin_reply_at == ts(T0 + timedelta(minutes=5))
    assert follow_up.waiting_since is None
    assert answer.statistics.first_admin_reply_at == ts(clock.now)
    assert answer.statistics.time_to_admin_reply == 20 * 60
    assert answer.waiting_since is None
    authors = [(p.part_type, p.author.type) for p in answer.conversation_parts.conversation_parts]
    assert authors == [("comment", "admin"), ("comment", "user"), ("comment", "admin")]


def test_admin_reply_helper_matches_the_http_reply(emulator: IntercomEmulator) -> None:
    emulator.upsert_conversation(id="5", created_at=T0, waiting_since=T0)

    conv = emulator.admin_reply("5", 1, at=T0 + timedelta(minutes=3))

    assert conv["statistics"]["first_admin_reply_at"] == ts(T0 + timedelta(minutes=3))
    assert conv["waiting_since"] is None
    assert conv["conversation_parts"]["conversation_parts"][0]["author"]["id"] == "1"


def test_null_statistics_survive_assignment_and_close(emulator: IntercomEmulator, sdk: Intercom) -> None:
    emulator.upsert_conversation(id="5", delivered_as="automated")

    sdk.conversations.manage(
        "5", request=ConversationsManageRequestBody_Assignment(type="admin", admin_id="1", assignee_id="2")
    )
    closed = sdk.conversations.manage("5", request=ConversationsManageRequestBody_Close(admin_id="1"))

    assert closed.statistics is None
    assert (closed.state, closed.admin_assignee_id) == ("closed", 2)
    assert [p.part_type for p in closed.conversation_parts.conversation_parts] == ["assignment", "close"]


def test_upsert_statistics_none_makes_them_null(emulator: IntercomEmulator) -> None:
    emulator.upsert_conversation(id="5")

    conv = emulator.upsert_conversation(id="5", statistics=None)

    assert conv["statistics"] is None
    assert conv["first_contact_reply"] is not None  # the customer's opening message is still there


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"message_type": "comment", "type": "user", "intercom_user_id": "someone-else", "body": "x"},
            404,
            None,
        ),
        ({"message_type": "comment", "type": "user", "email": "other@example.com", "body": "x"}, 404, None),
        ({"message_type": "comment", "type": "user", "body": "x"}, 400, "parameter_not_found"),
        ({"message_type": "note", "type": "user", "intercom_user_id": "contact-5", "body": "x"}, 400, None),
        ({"message_type": "comment", "type": "user", "intercom_user_id": "contact-5"}, 400, None),
        (
            {
                "message_type": "comment",
                "type": "user",
                "intercom_user_id": "contact-5",
                "body": "x",
                "created_at": "1",
            },
            400,
            None,
        ),
        ({"message_type": "comment", "type": "team", "admin_id": "1", "body": "x"}, 400, "parameter_invalid"),
    ],
)
def test_user_reply_without_the_conversations_contact_is_refused(
    emulator: IntercomEmulator, http: httpx.Client, body: dict[str, Any], status: int, code: str | None
) -> None:
    emulator.upsert_conversation(id="5", delivered_as="automated")

    response = http.post("/conversations/5/reply", json=body)

    assert response.status_code == status
    assert code is None or response.json()["errors"][0]["code"] == code
    assert emulator.conversation("5")["first_contact_reply"] is None


def test_delivered_as_is_validated_and_fixed_at_creation(emulator: IntercomEmulator) -> None:
    emulator.upsert_conversation(id="5", delivered_as="automated")

    with pytest.raises(ValueError, match="delivered_as"):
        emulator.upsert_conversation(id="6", delivered_as="outbound")
    with pytest.raises(ValueError, match="fixed"):
        emulator.upsert_conversation(id="5", delivered_as="customer_initiated")
    with pytest.raises(TypeError, match="delivered_as"):
        emulator.upsert_conversation(id="5", source={"delivered_as": "customer_initiated"})
    assert emulator.upsert_conversation(id="5", delivered_as="automated", title="ok")["title"] == "ok"


def test_registered_contact_is_the_customer_source_author_and_reply_author(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    emulator.add_contact("6762f1571bb69f9f2193bbbb", "Joe Bloggs", "joe@bloggs.com")
    emulator.upsert_conversation(id="5", contact_id="6762f1571bb69f9f2193bbbb", body="<p>Help</p>")
    emulator.customer_reply("5", body="<p>Still there?</p>")

    conv = http.get("/conversations/5").json()

    author = {
        "type": "user",
        "id": "6762f1571bb69f9f2193bbbb",
        "name": "Joe Bloggs",
        "email": "joe@bloggs.com",
    }
    assert conv["source"]["author"] == author
    assert conv["contacts"]["contacts"] == [
        {"type": "contact", "id": "6762f1571bb69f9f2193bbbb", "external_id": None}
    ]
    assert conv["conversation_parts"]["conversation_parts"][0]["author"] == author


def test_team_started_conversation_with_a_lead_replies_as_the_lead(
    emulator: IntercomEmulator, http: httpx.Client
) -> None:
    emulator.add_contact("lead-1", None, "visitor@example.com", role="lead")
    emulator.upsert_conversation(
        id="5", delivered_as="admin_initiated", admin_assignee_id=2, contact_id="lead-1"
    )
    emulator.customer_reply("5", body="<p>Who is this?</p>")

    conv = http.get("/conversations/5").json()

    assert conv["source"]["author"]["type"] == "admin"
    (part,) = conv["conversation_parts"]["conversation_parts"]
    assert part["author"] == {"type": "lead", "id": "lead-1", "name": None, "email": "visitor@example.com"}


def test_contact_id_must_be_registered_and_is_fixed_at_creation(emulator: IntercomEmulator) -> None:
    emulator.add_contact("c1", "Jo")
    emulator.add_contact("c2", "Al")
    with pytest.raises(ValueError, match="unknown contact"):
        emulator.upsert_conversation(id="5", contact_id="nobody")
    emulator.upsert_conversation(id="5", contact_id="c1")
    emulator.upsert_conversation(id="5", contact_id="c1", title="same contact is fine")
    with pytest.raises(ValueError, match="fixed at creation"):
        emulator.upsert_conversation(id="5", contact_id="c2")
    with pytest.raises(ValueError, match="role"):
        emulator.add_contact("c3", "Vi", role="visitor")


def test_get_contact_has_the_spec_shape_and_unknown_is_404(
    emulator: IntercomEmulator, http: httpx.Client, sdk: Intercom
) -> None:
    emulator.add_contact("c1", "Joe Bloggs", "joe@bloggs.com")
    emulator.upsert_conversation(id="5")

    body = http.get("/contacts/c1").json()
    default = sdk.contacts.find("contact-5")
    missing = http.get("/contacts/nobody")

    assert (body["type"], body["id"], body["role"], body["name"], body["email"]) == (
        "contact",
        "c1",
        "user",
        "Joe Bloggs",
        "joe@bloggs.com",
    )
    assert {
        "workspace_id",
        "external_id",
        "phone",
        "tags",
        "companies",
        "location",
        "custom_attributes",
    } <= set(body)
    assert (default.id, default.role, default.name) == ("contact-5", "user", "Customer")
    assert missing.status_code == 404
    assert missing.json()["errors"] == [{"code": "not_found", "message": "User Not Found"}]
