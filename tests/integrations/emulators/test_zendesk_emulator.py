"""The Zendesk emulator is strict where real Zendesk is: sideloads, export cursors, search caps, auth."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from zenpy import Zenpy

from integrations.emulators.zendesk import ZendeskEmulator
from tests.helpers.clock import FakeClock

SLAS = {
    "policy_metrics": [{"breach_at": "2026-11-23T17:00:00Z", "stage": "active", "metric": "first_reply_time"}]
}
# As the API shows SLAS at the fixed clock (15:00): one signed unit, computed from breach_at.
SLAS_SHOWN = {
    "policy_metrics": [
        {"breach_at": "2026-11-23T17:00:00Z", "stage": "active", "metric": "first_reply_time", "hours": 2}
    ]
}
METRIC_SET_KEYS = {
    "url",
    "id",
    "ticket_id",
    "created_at",
    "updated_at",
    "group_stations",
    "assignee_stations",
    "reopens",
    "replies",
    "assignee_updated_at",
    "requester_updated_at",
    "status_updated_at",
    "initially_assigned_at",
    "assigned_at",
    "solved_at",
    "latest_comment_added_at",
    "reply_time_in_minutes",
    "first_resolution_time_in_minutes",
    "full_resolution_time_in_minutes",
    "agent_wait_time_in_minutes",
    "requester_wait_time_in_minutes",
    "on_hold_time_in_minutes",
    "custom_status_updated_at",
}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def metric(name: str, stage: str, breach_at: datetime | None) -> dict[str, Any]:
    return {"metric": name, "stage": stage, "breach_at": iso(breach_at) if breach_at else None}


def get(emu: ZendeskEmulator, path: str, *, auth: tuple[str, str] | None = None, **params: Any):
    """Plain HTTP, so the tests see exact statuses and bodies."""
    credentials = auth or (f"{emu.email}/token", emu.token)
    return requests.get(f"{emu.url}/api/v2/{path}", params=params, auth=credentials, timeout=5)


def export_start(emu: ZendeskEmulator, clock: FakeClock, **params: Any):
    start = int((clock() - timedelta(minutes=10)).timestamp())
    return get(emu, "incremental/tickets/cursor.json", start_time=start, **params)


@pytest.fixture
def emu(zendesk_emu: ZendeskEmulator) -> ZendeskEmulator:
    zendesk_emu.add_user(501, "Ana Ruiz", "ana@example.com")
    zendesk_emu.add_user(601, "Customer", "customer@example.com", role="end-user")
    zendesk_emu.add_group(7, "Billing")
    return zendesk_emu


def test_show_ticket_without_include_has_no_slas(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined", slas=SLAS)

    body = get(emu, "tickets/1.json").json()

    assert body["ticket"]["subject"] == "Card declined"
    assert "slas" not in body["ticket"]
    assert "users" not in body and "groups" not in body


def test_show_ticket_with_include_sideloads_slas_users_and_groups(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined", assignee_id=501, requester_id=601, group_id=7, slas=SLAS)

    body = get(emu, "tickets/1.json", include="slas,users,groups").json()

    assert body["ticket"]["slas"] == SLAS_SHOWN
    assert {u["id"]: u["name"] for u in body["users"]} == {501: "Ana Ruiz", 601: "Customer"}
    assert [(g["id"], g["name"]) for g in body["groups"]] == [(7, "Billing")]


def test_show_ticket_with_unknown_sideload_is_rejected(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")

    response = get(emu, "tickets/1.json", include="sla")

    assert response.status_code == 400
    assert "sla" in response.json()["description"]


def test_show_ticket_unknown_or_deleted_is_404_record_not_found(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")
    emu.delete_ticket(1)

    for path in ("tickets/1.json", "tickets/2.json"):
        response = get(emu, path)
        assert response.status_code == 404
        assert response.json()["error"] == "RecordNotFound"


def test_show_many_returns_existing_tickets_and_slas_only_when_asked(emu: ZendeskEmulator) -> None:
    for tid in (1, 2, 3):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", slas=SLAS)
    emu.delete_ticket(3)

    plain = get(emu, "tickets/show_many.json", ids="1,2,3,4").json()
    with_slas = get(emu, "tickets/show_many.json", ids="2,1", include="slas").json()

    assert [t["id"] for t in plain["tickets"]] == [1, 2]
    assert all("slas" not in t for t in plain["tickets"])
    assert [t["id"] for t in with_slas["tickets"]] == [2, 1]
    assert all(t["slas"] == SLAS_SHOWN for t in with_slas["tickets"])


def test_show_many_with_more_than_100_ids_is_rejected(emu: ZendeskEmulator) -> None:
    response = get(emu, "tickets/show_many.json", ids=",".join(str(i) for i in range(1, 102)))

    assert response.status_code == 400
    assert response.json() == {
        "error": "TooManyValues",
        "description": "Parameter ids cannot specify more than 100 values",
        "max_count": 100,
    }


def test_request_with_wrong_token_is_401(emu: ZendeskEmulator) -> None:
    response = get(emu, "users/me.json", auth=(f"{emu.email}/token", "not-the-token"))

    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


def test_request_without_credentials_is_401(emu: ZendeskEmulator) -> None:
    response = requests.get(f"{emu.url}/api/v2/tickets/1.json", timeout=5)

    assert response.status_code == 401


def test_users_me_with_zenpy_returns_the_token_owner(emu: ZendeskEmulator) -> None:
    client = Zenpy(subdomain="x", email=emu.email, token=emu.token, disable_cache=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZENPY_FORCE_SCHEME", "http")
        mp.setenv("ZENPY_FORCE_NETLOC", emu.url.removeprefix("http://"))
        me = client.users.me()

    assert me.email == emu.email


def test_export_start_time_within_last_minute_is_400(emu: ZendeskEmulator, clock: FakeClock) -> None:
    too_recent = int((clock() - timedelta(seconds=30)).timestamp())
    future = int((clock() + timedelta(hours=1)).timestamp())

    for start in (too_recent, future):
        response = get(emu, "incremental/tickets/cursor.json", start_time=start)
        assert response.status_code == 400
        assert response.json() == {
            "error": "InvalidValue",
            "description": "Too recent start_time. Use a start_time older than 1 minute",
        }


def test_export_last_page_keeps_after_url_whose_cursor_returns_later_changes(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(id=1, subject="first")
    clock.advance(minutes=5)

    last = export_start(emu, clock).json()
    assert last["end_of_stream"] is True
    assert last["after_url"] and last["after_cursor"]
    assert [t["id"] for t in last["tickets"]] == [1]

    quiet = get(emu, "incremental/tickets/cursor.json", cursor=last["after_cursor"]).json()
    assert quiet["tickets"] == [] and quiet["end_of_stream"] is True and quiet["after_cursor"]

    emu.upsert_ticket(id=2, subject="second")
    emu.upsert_ticket(id=1, status="pending")
    later = requests.get(last["after_url"], auth=(f"{emu.email}/token", emu.token), timeout=5).json()
    assert [(t["id"], t["status"]) for t in later["tickets"]] == [(2, "open"), (1, "pending")]


def test_export_pages_hold_at_most_export_page_size_tickets(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.export_page_size = 2
    for tid in range(1, 6):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")
    clock.advance(minutes=5)

    pages = [export_start(emu, clock).json()]
    while not pages[-1]["end_of_stream"]:
        pages.append(get(emu, "incremental/tickets/cursor.json", cursor=pages[-1]["after_cursor"]).json())

    assert [[t["id"] for t in p["tickets"]] for p in pages] == [[1, 2], [3, 4], [5]]
    assert all(p["after_url"] for p in pages)


def test_export_lists_each_ticket_once_at_its_latest_state(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.upsert_ticket(id=1, subject="a")
    emu.upsert_ticket(id=2, subject="b")
    emu.upsert_ticket(id=1, status="hold", priority="urgent")
    clock.advance(minutes=5)

    body = export_start(emu, clock).json()

    assert [(t["id"], t["status"], t["priority"]) for t in body["tickets"]] == [
        (2, "open", None),
        (1, "hold", "urgent"),
    ]


def test_export_lists_deleted_ticket_with_status_deleted(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.upsert_ticket(id=1, subject="spam")
    emu.delete_ticket(1)
    clock.advance(minutes=5)

    body = export_start(emu, clock).json()

    assert [(t["id"], t["status"]) for t in body["tickets"]] == [(1, "deleted")]


def test_export_sideloads_slas_only_with_include(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.upsert_ticket(id=1, subject="a", assignee_id=501, slas=SLAS)
    clock.advance(minutes=5)

    plain = export_start(emu, clock).json()
    rich = export_start(emu, clock, include="slas,users").json()

    assert "slas" not in plain["tickets"][0] and "users" not in plain
    assert rich["tickets"][0]["slas"] == SLAS_SHOWN
    assert [u["name"] for u in rich["users"]] == ["Ana Ruiz"]
    assert "include=slas%2Cusers" in rich["after_url"]


def test_export_start_time_with_no_changes_has_no_cursor(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.upsert_ticket(id=1, subject="old news")
    clock.advance(hours=2)

    body = export_start(emu, clock).json()

    assert body["tickets"] == [] and body["end_of_stream"] is True
    assert body["after_cursor"] is None and body["after_url"] is None


def test_export_with_invalid_cursor_is_400(emu: ZendeskEmulator) -> None:
    response = get(emu, "incremental/tickets/cursor.json", cursor="not-a-cursor")

    assert response.status_code == 400


def test_zenpy_incremental_iteration_stops_on_end_of_stream(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.export_page_size = 2
    for tid in range(1, 6):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")
    clock.advance(minutes=5)
    client = Zenpy(subdomain="x", email=emu.email, token=emu.token, disable_cache=True)
    emu.reset_log()

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZENPY_FORCE_SCHEME", "http")
        mp.setenv("ZENPY_FORCE_NETLOC", emu.url.removeprefix("http://"))
        ids = [
            t.id
            for t in client.tickets.incremental(start_time=int((clock() - timedelta(hours=1)).timestamp()))
        ]

    assert ids == [1, 2, 3, 4, 5]
    assert len(emu.calls("/api/v2/incremental/")) == 3


def test_search_page_beyond_1000_results_is_422_though_page_10_links_on(emu: ZendeskEmulator) -> None:
    for tid in range(1, 1002):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")

    page_10 = get(emu, "search.json", query="type:ticket status:open", page=10)
    page_11 = get(emu, "search.json", query="type:ticket status:open", page=11)

    assert page_10.status_code == 200
    assert page_10.json()["count"] == 1001 and page_10.json()["next_page"]
    assert page_11.status_code == 422
    assert page_11.json() == {
        "error": "invalid",
        "description": "Invalid search: Requested response size was greater than Search Response Limits",
    }


def test_search_status_less_than_solved_means_unsolved(emu: ZendeskEmulator) -> None:
    for tid, status in enumerate(("new", "open", "pending", "hold", "solved", "closed"), start=1):
        emu.upsert_ticket(id=tid, subject=status, status=status)

    body = get(emu, "search.json", query="type:ticket status<solved").json()

    assert sorted(r["subject"] for r in body["results"]) == ["hold", "new", "open", "pending"]
    assert {r["result_type"] for r in body["results"]} == {"ticket"}


def test_search_filters_by_group_and_updated(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.upsert_ticket(id=1, subject="old billing", group_id=7, updated_at=clock() - timedelta(days=3))
    emu.upsert_ticket(id=2, subject="new billing", group_id=7)
    emu.upsert_ticket(id=3, subject="new other", group_id=8)
    since = (clock() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    body = get(emu, "search.json", query=f"type:ticket group:7 updated>{since}").json()

    assert [r["id"] for r in body["results"]] == [2]


def test_search_with_unsupported_term_is_400_naming_it(emu: ZendeskEmulator) -> None:
    # zenpy turns search(include=[...]) into a query term; real Zendesk would search for the text.
    response = get(emu, "search.json", query="type:ticket include:slas")

    assert response.status_code == 400
    assert "include:slas" in response.json()["description"]


def test_search_export_pages_past_1000_results_with_cursor(emu: ZendeskEmulator) -> None:
    for tid in range(1, 1501):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", status="pending" if tid % 2 else "open")
    emu.upsert_ticket(id=2000, subject="done", status="solved")

    first = get(
        emu,
        "search/export.json",
        **{"query": "status<solved", "filter[type]": "ticket", "page[size]": 1000},
    ).json()
    second = requests.get(first["links"]["next"], auth=(f"{emu.email}/token", emu.token), timeout=5).json()

    assert len(first["results"]) == 1000 and first["meta"]["has_more"] is True
    assert len(second["results"]) == 500 and second["meta"]["has_more"] is False
    assert second["links"] == {"next": None, "prev": None}
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert sorted(ids) == list(range(1, 1501))


def export_page(emu: ZendeskEmulator, after: str | None = None, size: int = 1000) -> requests.Response:
    params: dict[str, Any] = {"query": "status<solved", "filter[type]": "ticket", "page[size]": size}
    if after is not None:
        params["page[after]"] = after
    return get(emu, "search/export.json", **params)


def test_search_export_pages_thousands_in_created_order_with_new_tickets_at_the_end(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    for tid in range(1, 4001):
        emu.upsert_ticket(id=tid, subject=f"t{tid}", created_at=clock() - timedelta(days=400, minutes=-tid))
    seen: list[int] = []
    body = export_page(emu).json()
    while True:
        seen += [r["id"] for r in body["results"]]
        if not body["meta"]["has_more"]:
            break
        if len(seen) == 1000:  # between pages: one read ticket solved, one unread solved, one new
            emu.upsert_ticket(id=5, status="solved")
            emu.upsert_ticket(id=1500, status="solved")
            emu.upsert_ticket(id=9001, subject="new")
        body = export_page(emu, body["meta"]["after_cursor"]).json()

    assert seen == [*range(1, 1500), *range(1501, 4001), 9001]


def test_search_export_refuses_a_type_in_the_query(emu: ZendeskEmulator) -> None:
    """ "You must specify the type in the `filter[type]` parameter. Searches with type in the query
    string will result in an error." (Zendesk OAS, Export Search Results)"""
    emu.upsert_ticket(id=1, subject="t1")

    response = get(emu, "search/export.json", **{"query": "type:ticket", "filter[type]": "ticket"})

    assert response.status_code == 400


def test_search_export_cursor_expires_after_an_hour(emu: ZendeskEmulator, clock: FakeClock) -> None:
    for tid in (1, 2, 3):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")
    after = export_page(emu, size=1).json()["meta"]["after_cursor"]
    forged = base64.b64encode(base64.b64decode(after).replace(b'"sortValues":[', b'"sortValues":[1')).decode()

    clock.advance(minutes=59)
    assert [r["id"] for r in export_page(emu, after, size=1).json()["results"]] == [2]
    assert export_page(emu, forged, size=1).status_code == 400  # never issued
    clock.advance(minutes=2)
    expired = export_page(emu, after, size=1)

    assert expired.status_code == 400
    assert expired.json()["error"] == "InvalidPaginationParameter"


def test_search_export_requires_filter_type_and_page_size_at_most_1000(emu: ZendeskEmulator) -> None:
    missing_type = get(emu, "search/export.json", query="status:open")
    too_big = get(
        emu, "search/export.json", **{"query": "status:open", "filter[type]": "ticket", "page[size]": 1001}
    )

    assert missing_type.status_code == 400
    assert too_big.status_code == 400


def test_update_ticket_stores_comment_and_appears_in_export(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")
    clock.advance(minutes=5)
    cursor = export_start(emu, clock).json()["after_cursor"]
    clock.advance(minutes=1)

    response = requests.put(
        f"{emu.url}/api/v2/tickets/1.json",
        json={"ticket": {"status": "pending", "comment": {"body": "On it", "public": False}}},
        auth=(f"{emu.email}/token", emu.token),
        timeout=5,
    )

    assert response.status_code == 200
    assert response.json()["ticket"]["status"] == "pending"
    assert response.json()["ticket"]["updated_at"] == clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [(c["body"], c["public"]) for c in emu.comments(1)] == [("On it", False)]
    changed = get(emu, "incremental/tickets/cursor.json", cursor=cursor).json()
    assert [(t["id"], t["status"]) for t in changed["tickets"]] == [(1, "pending")]


def test_update_ticket_with_invalid_status_is_422(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")

    response = requests.put(
        f"{emu.url}/api/v2/tickets/1.json",
        json={"ticket": {"status": "archived"}},
        auth=(f"{emu.email}/token", emu.token),
        timeout=5,
    )

    assert response.status_code == 422
    assert response.json()["error"] == "RecordInvalid"


def test_fail_next_429_carries_retry_after_and_zendesk_body(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")
    emu.fail_next("/api/v2/tickets/", status=429, retry_after=7)

    limited = get(emu, "tickets/1.json")
    after = get(emu, "tickets/1.json")

    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["error"] == "APIRateLimitExceeded"
    assert after.status_code == 200


def test_fail_next_500_has_zendesk_error_body(emu: ZendeskEmulator) -> None:
    emu.fail_next("/api/v2/users/me.json", status=500)

    response = get(emu, "users/me.json")

    assert response.status_code == 500
    assert "error" in response.json()


def test_upsert_refuses_updated_at_going_backwards(emu: ZendeskEmulator, clock: FakeClock) -> None:
    emu.upsert_ticket(id=1, subject="a", updated_at=clock())

    with pytest.raises(ValueError, match="before its current updated_at"):
        emu.upsert_ticket(id=1, status="pending", updated_at=clock() - timedelta(minutes=1))


def test_upsert_refuses_unknown_sla_stage_and_naive_times(emu: ZendeskEmulator, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="stage"):
        emu.upsert_ticket(id=1, slas={"policy_metrics": [{"metric": "first_reply_time", "stage": "late"}]})
    with pytest.raises(ValueError, match="timezone-aware"):
        emu.upsert_ticket(id=1, created_at=clock().replace(tzinfo=None))


# -- real shapes: SLA units, cursors, deleted tickets, metric sets ---------------------------------


def test_policy_metrics_carry_one_signed_unit_computed_from_the_clock(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    now = clock()
    emu.upsert_ticket(
        id=1,
        slas={
            "policy_metrics": [
                metric("first_reply_time", "active", now + timedelta(minutes=45)),
                metric("next_reply_time", "active", now + timedelta(hours=21, minutes=20)),
                metric("requester_wait_time", "active", now + timedelta(hours=23, minutes=40)),
                metric("periodic_update_time", "active", now + timedelta(days=6, hours=16)),
                metric("agent_work_time", "achieved", now - timedelta(days=140, hours=14)),
                metric("pausable_update_time", "paused", None),
            ]
        },
    )

    shown = get(emu, "tickets/1.json", include="slas").json()["ticket"]["slas"]["policy_metrics"]
    clock.advance(minutes=55)
    later = get(emu, "tickets/1.json", include="slas").json()["ticket"]["slas"]["policy_metrics"]

    units = [{k: v for k, v in m.items() if k in ("minutes", "hours", "days")} for m in shown]
    assert units == [{"minutes": 45}, {"hours": 21}, {"hours": 24}, {"days": 7}, {"days": -141}, {}]
    assert [set(m) - {"minutes", "hours", "days"} for m in shown] == [{"breach_at", "stage", "metric"}] * 6
    assert later[0] == {
        "breach_at": iso(now + timedelta(minutes=45)),
        "stage": "active",
        "metric": "first_reply_time",
        "minutes": -10,
    }


def test_upsert_refuses_sla_units_and_unknown_sla_keys(emu: ZendeskEmulator) -> None:
    entry = {"breach_at": "2026-11-23T17:00:00Z", "stage": "active", "metric": "first_reply_time"}

    with pytest.raises(ValueError, match="computed from breach_at"):
        emu.upsert_ticket(id=1, slas={"policy_metrics": [{**entry, "hours": 2}]})
    with pytest.raises(ValueError, match="unknown keys"):
        emu.upsert_ticket(id=1, slas={"policy_metrics": [{**entry, "target": 60}]})


def test_export_cursor_is_padded_standard_base64_and_urls_carry_pct3d(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.export_page_size = 1
    emu.upsert_ticket(id=1, subject="a")
    emu.upsert_ticket(id=2, subject="b")
    clock.advance(minutes=5)

    first = export_start(emu, clock).json()
    second = requests.get(first["after_url"], auth=(f"{emu.email}/token", emu.token), timeout=5).json()

    cursor = first["after_cursor"]
    assert cursor.endswith("=")
    assert base64.b64encode(base64.b64decode(cursor, validate=True)).decode() == cursor
    assert base64.b64decode(cursor).decode().endswith("||1|")  # Zendesk's "<ts>.0||<id>|" shape
    assert "%3D" in first["after_url"] and "=" not in first["after_url"].split("cursor=")[1].split("&")[0]
    assert first["before_cursor"] is None and first["before_url"] is None
    assert [t["id"] for t in second["tickets"]] == [2]
    assert second["before_cursor"] and "%3D" in second["before_url"]


def test_export_refuses_cursor_with_padding_stripped_or_encoded_twice(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(id=1, subject="a")
    clock.advance(minutes=5)
    cursor = export_start(emu, clock).json()["after_cursor"]

    stripped = get(emu, "incremental/tickets/cursor.json", cursor=cursor.rstrip("="))
    twice = get(emu, "incremental/tickets/cursor.json", cursor=cursor.replace("=", "%3D"))
    good = get(emu, "incremental/tickets/cursor.json", cursor=cursor)

    assert stripped.status_code == twice.status_code == 400
    assert stripped.json() == {
        "error": "InvalidCursor",
        "description": "The cursor is invalid or has expired",
    }
    assert good.status_code == 200


def test_search_export_cursor_is_padded_standard_base64(emu: ZendeskEmulator) -> None:
    for tid in (1, 2, 3):
        emu.upsert_ticket(id=tid, subject=f"t{tid}")

    first = get(emu, "search/export.json", **{"query": "", "filter[type]": "ticket", "page[size]": 2}).json()
    second = requests.get(first["links"]["next"], auth=(f"{emu.email}/token", emu.token), timeout=5).json()

    cursor = first["meta"]["after_cursor"]
    assert base64.b64encode(base64.b64decode(cursor, validate=True)).decode() == cursor
    assert [r["id"] for r in second["results"]] == [3]


def test_deleted_ticket_is_exported_as_deleted_without_metric_set(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(id=1, subject="spam", slas=SLAS)
    emu.upsert_ticket(id=2, subject="real")
    emu.delete_ticket(1)
    clock.advance(minutes=5)

    body = export_start(emu, clock, include="slas,metric_sets").json()

    assert [(t["id"], t["status"]) for t in body["tickets"]] == [(2, "open"), (1, "deleted")]
    assert [m["ticket_id"] for m in body["metric_sets"]] == [2]
    assert get(emu, "tickets/1.json", include="metric_sets").status_code == 404
    assert get(emu, "tickets/show_many.json", ids="1,2", include="metric_sets").json()["count"] == 1


def test_metric_sets_are_sideloaded_only_when_asked_on_show_show_many_and_export(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(id=1, subject="fresh", created_at=clock() - timedelta(hours=1))
    emu.upsert_ticket(id=2, subject="other")
    clock.advance(minutes=5)

    plain = get(emu, "tickets/1.json", include="slas").json()
    shown = get(emu, "tickets/1.json", include="metric_sets").json()
    many = get(emu, "tickets/show_many.json", ids="2,1", include="metric_sets").json()
    exported = export_start(emu, clock, include="metric_sets").json()

    assert "metric_sets" not in plain and "metric_set" not in plain["ticket"]
    (fresh,) = shown["metric_sets"]
    assert set(fresh) == METRIC_SET_KEYS
    assert fresh["ticket_id"] == 1 and fresh["url"].endswith(f"/api/v2/ticket_metrics/{fresh['id']}.json")
    assert (fresh["reopens"], fresh["replies"]) == (0, 0)
    assert fresh["created_at"] == iso(clock() - timedelta(hours=1, minutes=5))
    assert fresh["assignee_updated_at"] is None and fresh["solved_at"] is None
    assert fresh["reply_time_in_minutes"] == {"calendar": None, "business": None}
    assert fresh["requester_wait_time_in_minutes"] == {"calendar": None, "business": None}
    assert fresh["on_hold_time_in_minutes"] == {"calendar": 0, "business": 0}
    assert [m["ticket_id"] for m in many["metric_sets"]] == [2, 1]
    assert [m["ticket_id"] for m in exported["metric_sets"]] == [1, 2]
    assert "metric_sets" in exported["after_url"]


def test_agent_reply_counts_a_reply_and_achieves_reply_metrics_keeping_breach_at(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    breach = clock() + timedelta(hours=1)
    emu.upsert_ticket(
        id=1,
        assignee_id=501,
        slas={
            "policy_metrics": [
                metric("first_reply_time", "active", breach),
                metric("agent_work_time", "active", breach),
            ]
        },
    )
    clock.advance(minutes=5)
    cursor = export_start(emu, clock).json()["after_cursor"]
    clock.advance(minutes=20)

    emu.agent_reply(1, status="pending")

    body = get(emu, "incremental/tickets/cursor.json", cursor=cursor, include="slas,metric_sets").json()
    (ticket,) = body["tickets"]
    (metrics,) = body["metric_sets"]
    assert (ticket["status"], ticket["updated_at"]) == ("pending", iso(clock()))
    assert [(m["metric"], m["stage"], m["breach_at"]) for m in ticket["slas"]["policy_metrics"]] == [
        ("first_reply_time", "achieved", iso(breach)),
        ("agent_work_time", "active", iso(breach)),
    ]
    assert (metrics["replies"], metrics["reopens"]) == (1, 0)
    assert metrics["reply_time_in_minutes"] == {"calendar": 25, "business": 25}
    assert metrics["assignee_updated_at"] == metrics["latest_comment_added_at"] == iso(clock())


def test_requester_comment_reopens_a_solved_ticket_and_refuses_a_closed_one(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")
    emu.agent_reply(1)
    clock.advance(hours=1)
    emu.upsert_ticket(id=1, status="solved")
    clock.advance(hours=1)
    next_reply = clock() + timedelta(hours=4)

    shown = emu.requester_comment(
        1, slas={"policy_metrics": [metric("next_reply_time", "active", next_reply)]}
    )
    emu.upsert_ticket(id=2, status="closed")

    metrics = emu.metric_set(1)
    assert shown["status"] == "open"
    assert shown["slas"]["policy_metrics"] == [
        {**metric("next_reply_time", "active", next_reply), "hours": 4}
    ]
    assert (metrics["reopens"], metrics["replies"]) == (1, 1)
    assert metrics["requester_updated_at"] == iso(clock())
    assert metrics["solved_at"] == iso(clock() - timedelta(hours=1))
    assert metrics["full_resolution_time_in_minutes"] == {"calendar": 60, "business": 60}
    with pytest.raises(ValueError, match="closed"):
        emu.requester_comment(2)


def test_requester_comment_on_pending_ticket_opens_it_without_a_reopen(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, status="pending")

    assert emu.requester_comment(1)["status"] == "open"
    assert emu.metric_set(1)["reopens"] == 0


def test_set_priority_moves_active_breach_and_keeps_replies_and_reopens(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    breach = clock() - timedelta(minutes=10)  # already breached
    emu.upsert_ticket(
        id=1,
        priority="normal",
        reopens=2,
        replies=3,
        slas={
            "policy_metrics": [
                metric("next_reply_time", "active", breach),
                metric("first_reply_time", "achieved", breach),
            ]
        },
    )
    clock.advance(minutes=1)

    shown = emu.set_priority(1, "low", breach_at=clock() + timedelta(hours=3))

    assert shown["priority"] == "low" and shown["updated_at"] == iso(clock())
    assert shown["slas"]["policy_metrics"] == [
        {**metric("next_reply_time", "active", clock() + timedelta(hours=3)), "hours": 3},
        {**metric("first_reply_time", "achieved", breach), "minutes": -11},
    ]
    assert (emu.metric_set(1)["reopens"], emu.metric_set(1)["replies"]) == (2, 3)
    with pytest.raises(ValueError, match="no active periodic_update_time"):
        emu.set_priority(1, "high", breach_at=clock(), metric="periodic_update_time")


def test_upsert_counts_a_reopen_when_a_solved_ticket_goes_back_to_open(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, status="solved")
    emu.upsert_ticket(id=1, status="open")
    emu.upsert_ticket(id=1, status="pending")

    assert emu.metric_set(1)["reopens"] == 1
    with pytest.raises(ValueError, match="non-negative"):
        emu.upsert_ticket(id=1, replies=-1)
    assert emu.metric_set(1)["replies"] == 0  # a refused upsert changes nothing


def test_public_api_comment_counts_as_agent_reply_and_private_note_does_not(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined")

    for public in (False, True):
        response = requests.put(
            f"{emu.url}/api/v2/tickets/1.json",
            json={"ticket": {"comment": {"body": "note", "public": public}}},
            auth=(f"{emu.email}/token", emu.token),
            timeout=5,
        )
        assert response.status_code == 200

    assert emu.metric_set(1)["replies"] == 1


def test_helpers_refuse_unknown_tickets_and_times_before_updated_at(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(id=1, subject="a")
    emu.delete_ticket(1)
    emu.upsert_ticket(id=2, subject="b")

    with pytest.raises(KeyError):
        emu.agent_reply(1)
    with pytest.raises(KeyError):
        emu.requester_comment(404)
    with pytest.raises(ValueError, match="before its updated_at"):
        emu.agent_reply(2, at=clock() - timedelta(minutes=1))


def test_comments_start_with_the_description_by_the_requester_then_replies_in_order(
    emu: ZendeskEmulator, clock: FakeClock
) -> None:
    emu.upsert_ticket(
        id=1, subject="Card declined", description="My card fails", requester_id=601, assignee_id=501
    )
    clock.advance(minutes=5)
    emu.agent_reply(1, body="Which card?")
    clock.advance(minutes=5)
    emu.requester_comment(1, body="The blue one")

    asc = get(emu, "tickets/1/comments.json").json()
    desc = get(emu, "tickets/1/comments.json", sort_order="desc").json()

    assert [(c["author_id"], c["body"], c["public"]) for c in asc["comments"]] == [
        (601, "My card fails", True),
        (501, "Which card?", True),
        (601, "The blue one", True),
    ]
    assert [c["body"] for c in desc["comments"]] == ["The blue one", "Which card?", "My card fails"]
    assert all(isinstance(c["author_id"], int) and isinstance(c["id"], int) for c in asc["comments"])
    ids = [c["id"] for c in asc["comments"]]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert asc["comments"][1]["plain_body"] == "Which card?"
    assert asc["comments"][1]["html_body"] == '<div class="zd-comment" dir="auto"><p>Which card?</p></div>'
    assert asc["comments"][0]["via"]["channel"] == "web" and asc["count"] == 3
    assert [c["body"] for c in emu.all_comments(1)] == ["My card fails", "Which card?", "The blue one"]
    assert emu.comments(1) == []  # only the ones posted through the API


def test_agent_reply_without_an_assignee_is_by_the_api_user(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined", requester_id=601)

    emu.agent_reply(1)
    emu.agent_reply(1, author_id=501, body="Second")

    comments = get(emu, "tickets/1/comments.json").json()["comments"]
    me = get(emu, "users/me.json").json()["user"]
    assert [c["author_id"] for c in comments] == [601, me["id"], 501]
    assert comments[0]["body"] == "Card declined"  # no description: the subject stands in


def test_comments_page_newest_first_with_next_page_links(emu: ZendeskEmulator) -> None:
    emu.upsert_ticket(id=1, subject="Card declined", requester_id=601)
    for n in range(3):
        emu.requester_comment(1, body=f"again {n}")

    first = get(emu, "tickets/1/comments.json", sort_order="desc", per_page=2).json()
    second = requests.get(first["next_page"], auth=(f"{emu.email}/token", emu.token), timeout=5).json()

    assert [c["body"] for c in first["comments"]] == ["again 2", "again 1"]
    assert [c["body"] for c in second["comments"]] == ["again 0", "Card declined"]
    assert second["next_page"] is None


def test_show_user_returns_the_user_and_404_for_unknown(emu: ZendeskEmulator) -> None:
    shown = get(emu, "users/601.json")
    missing = get(emu, "users/999.json")

    assert shown.status_code == 200
    user = shown.json()["user"]
    assert (user["id"], user["name"], user["email"], user["role"]) == (
        601,
        "Customer",
        "customer@example.com",
        "end-user",
    )
    assert user["url"].endswith("/api/v2/users/601.json")
    assert missing.status_code == 404 and missing.json()["error"] == "RecordNotFound"


def test_show_user_through_zenpy(emu: ZendeskEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", emu.url.removeprefix("http://"))
    client = Zenpy(subdomain="x", email=emu.email, token=emu.token, disable_cache=True)

    assert client.users(id=601).name == "Customer"
