from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.model import HelpdeskItem, Source, TeamRoute, TicketRef
from bot.domain.routing import normalise_id, route

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

BILLING = TeamRoute(
    name="billing",
    channel="C0BILLING",
    zendesk_group_ids=frozenset({"360001", "360002"}),
    intercom_team_ids=frozenset({"42"}),
)
TECH = TeamRoute(
    name="tech",
    channel="C0TECH",
    zendesk_group_ids=frozenset({"360003"}),
    intercom_team_ids=frozenset({"360001", "77"}),
)
CATCH_ALSO_360002 = TeamRoute(name="overflow", channel="C0OVERFLOW", zendesk_group_ids=frozenset({"360002"}))
ROUTES = [BILLING, TECH, CATCH_ALSO_360002]


def item(source: Source, group_id: str | None) -> HelpdeskItem:
    return HelpdeskItem(
        ref=TicketRef(source, "1"),
        subject="Help",
        status="open",
        priority=None,
        group_id=group_id,
        assignee_id=None,
        assignee_name=None,
        url="https://example.test/1",
        created_at=NOW,
        updated_at=NOW,
    )


def test_route_zendesk_by_group_id() -> None:
    assert route(item(Source.ZENDESK, "360003"), ROUTES) is TECH


def test_route_intercom_by_team_id() -> None:
    assert route(item(Source.INTERCOM, "77"), ROUTES) is TECH


def test_route_zendesk_ignores_intercom_team_ids() -> None:
    # 360001 is BILLING's Zendesk group and TECH's Intercom team: each source looks at its own ids.
    assert route(item(Source.ZENDESK, "360001"), ROUTES) is BILLING
    assert route(item(Source.INTERCOM, "360001"), ROUTES) is TECH


def test_route_intercom_ignores_zendesk_group_ids() -> None:
    assert route(item(Source.INTERCOM, "360003"), ROUTES) is None


def test_route_first_match_wins() -> None:
    assert route(item(Source.ZENDESK, "360002"), ROUTES) is BILLING
    assert route(item(Source.ZENDESK, "360002"), [CATCH_ALSO_360002, BILLING]) is CATCH_ALSO_360002


@pytest.mark.parametrize("group_id", [" 42 ", "42\n", "\t42"])
def test_route_item_id_whitespace_normalised(group_id: str) -> None:
    assert route(item(Source.INTERCOM, group_id), ROUTES) is BILLING


def test_route_configured_int_ids_normalised() -> None:
    from_yaml = TeamRoute(
        name="ints",
        channel="C0INTS",
        zendesk_group_ids=frozenset({360009}),  # type: ignore[arg-type]
        intercom_team_ids=frozenset({" 5 "}),
    )
    assert route(item(Source.ZENDESK, "360009"), [from_yaml]) is from_yaml
    assert route(item(Source.INTERCOM, "5"), [from_yaml]) is from_yaml


def test_route_item_int_group_id_normalised() -> None:
    assert route(item(Source.INTERCOM, 42), ROUTES) is BILLING  # type: ignore[arg-type]


@pytest.mark.parametrize("group_id", [None, "", "   "])
def test_route_item_without_group_unrouted(group_id: str | None) -> None:
    assert route(item(Source.ZENDESK, group_id), ROUTES) is None


def test_route_unknown_group_unrouted() -> None:
    assert route(item(Source.ZENDESK, "999"), ROUTES) is None


def test_route_no_routes_unrouted() -> None:
    assert route(item(Source.ZENDESK, "360001"), []) is None


def test_route_blank_configured_id_never_matches() -> None:
    blank = TeamRoute(name="blank", channel="C0BLANK", zendesk_group_ids=frozenset({"", " "}))
    assert route(item(Source.ZENDESK, ""), [blank]) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42, "42"), ("42", "42"), (" 42 ", "42"), (None, None), ("", None), ("  ", None), (True, None)],
)
def test_normalise_id(value: object, expected: str | None) -> None:
    assert normalise_id(value) == expected
