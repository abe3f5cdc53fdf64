from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.domain.calendar import BusinessHours
from bot.domain.model import (
    AlertDecision,
    AlertKind,
    Deadline,
    HelpdeskItem,
    IntercomTargets,
    Metric,
    MetricStage,
    SlaMetric,
    Source,
    TicketRef,
)
from bot.domain.sla import (
    SlaStatus,
    alert_key,
    classify,
    deadlines_for,
    decide_alerts,
    intercom_deadlines,
    zendesk_deadlines,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
NEW_YORK = ZoneInfo("America/New_York")
TARGETS = IntercomTargets(
    first_reply_priority=timedelta(hours=1),
    first_reply_not_priority=timedelta(hours=4),
    next_reply_priority=timedelta(minutes=30),
    next_reply_not_priority=timedelta(hours=2),
)
OFFICE = BusinessHours(
    tz=NEW_YORK,
    days=frozenset(range(5)),
    start=time(9),
    end=time(17),
    holidays=holidays.country_holidays("US"),
)
WARN = [timedelta(hours=2), timedelta(minutes=30)]


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def zendesk_item(**overrides: object) -> HelpdeskItem:
    item = HelpdeskItem(
        ref=TicketRef(Source.ZENDESK, "101"),
        subject="Refund not received",
        status="open",
        priority="high",
        group_id="360001",
        assignee_id="9001",
        assignee_name="Ana",
        url="https://acme.zendesk.com/agent/tickets/101",
        created_at=NOW - timedelta(hours=3),
        updated_at=NOW - timedelta(hours=1),
        sla_metrics=(SlaMetric("first_reply_time", MetricStage.ACTIVE, NOW + timedelta(hours=1)),),
    )
    return replace(item, **overrides)  # type: ignore[arg-type]


def intercom_item(**overrides: object) -> HelpdeskItem:
    # A customer-started conversation: the customer first wrote when it was created.
    overrides.setdefault("first_contact_at", overrides.get("created_at", NOW - timedelta(hours=1)))
    item = HelpdeskItem(
        ref=TicketRef(Source.INTERCOM, "9001"),
        subject="Cannot log in",
        status="open",
        priority="not_priority",
        group_id="42",
        assignee_id=None,
        assignee_name=None,
        url="https://app.intercom.com/a/inbox/abc/inbox/conversation/9001",
        created_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(hours=1),
    )
    return replace(item, **overrides)  # type: ignore[arg-type]


def deadline(due_at: datetime, external_id: str = "101", metric: str = "first_reply_time") -> Deadline:
    return Deadline(
        ref=TicketRef(Source.ZENDESK, external_id),
        metric=metric,
        due_at=due_at,
        cycle=due_at.isoformat(timespec="seconds"),
    )


def key(d: Deadline, alert: str) -> tuple[str, str, str, str]:
    return (str(d.ref), d.metric, d.cycle, alert)


# --- Zendesk --------------------------------------------------------------------------------------------


def test_zendesk_active_metric_gives_deadline_cycled_by_the_ticket_history() -> None:
    breach_at = datetime(2026, 11, 23, 16, 0, 0, 123456, tzinfo=UTC)
    item = zendesk_item(sla_metrics=(SlaMetric("first_reply_time", MetricStage.ACTIVE, breach_at),))
    assert zendesk_deadlines(item) == [
        Deadline(
            ref=TicketRef(Source.ZENDESK, "101"),
            metric="first_reply_time",
            due_at=breach_at,
            cycle="first",
        )
    ]


def test_zendesk_breach_time_normalised_to_utc() -> None:
    breach_at = ny(2026, 11, 23, 11, 0)
    item = zendesk_item(sla_metrics=(SlaMetric("next_reply_time", MetricStage.ACTIVE, breach_at),))
    [only] = zendesk_deadlines(item)
    assert only.due_at.tzinfo is UTC
    assert only.due_at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert only.cycle == "reply:0:0"


def test_zendesk_priority_change_moves_breach_time_inside_the_same_cycle() -> None:
    before = zendesk_item(
        sla_metrics=(SlaMetric("next_reply_time", MetricStage.ACTIVE, NOW),), agent_replies=2
    )
    later = replace(
        before,
        priority="low",
        sla_metrics=(SlaMetric("next_reply_time", MetricStage.ACTIVE, NOW + timedelta(hours=3)),),
    )
    [first], [second] = zendesk_deadlines(before), zendesk_deadlines(later)
    assert first.due_at != second.due_at
    assert first.cycle == second.cycle == "reply:0:2"


def test_zendesk_next_reply_cycle_follows_agent_replies_and_reopens() -> None:
    def cycle(**fields: object) -> str:
        metric = SlaMetric("next_reply_time", MetricStage.ACTIVE, NOW)
        return zendesk_deadlines(zendesk_item(sla_metrics=(metric,), **fields))[0].cycle

    assert cycle(agent_replies=1) != cycle(agent_replies=2)  # requester wrote again after reply 2
    assert cycle(agent_replies=1, reopens=0) != cycle(agent_replies=1, reopens=1)  # reopened


@pytest.mark.parametrize(
    ("metric", "fields", "expected"),
    [
        ("first_reply_time", {"reopens": 3, "agent_replies": 4}, "first"),
        ("periodic_update_time", {"agent_replies": 4}, "reply:0:4"),
        ("total_resolution_time", {"reopens": 2, "agent_replies": 9}, "solve:2"),
        ("requester_wait_time", {"reopens": 1}, "solve:1"),
        ("group_ownership_time", {"group_id": "77"}, "group:77:0"),
    ],
)
def test_zendesk_cycle_per_metric(metric: str, fields: dict, expected: str) -> None:
    item = zendesk_item(sla_metrics=(SlaMetric(metric, MetricStage.ACTIVE, NOW),), **fields)
    assert zendesk_deadlines(item)[0].cycle == expected


@pytest.mark.parametrize("stage", [MetricStage.PAUSED, MetricStage.ACHIEVED])
def test_zendesk_paused_or_achieved_metric_has_no_deadline(stage: MetricStage) -> None:
    item = zendesk_item(sla_metrics=(SlaMetric("first_reply_time", stage, NOW + timedelta(hours=1)),))
    assert zendesk_deadlines(item) == []


def test_zendesk_active_metric_without_breach_time_has_no_deadline() -> None:
    item = zendesk_item(sla_metrics=(SlaMetric("agent_work_time", MetricStage.ACTIVE, None),))
    assert zendesk_deadlines(item) == []


def test_zendesk_only_active_metrics_among_many() -> None:
    item = zendesk_item(
        sla_metrics=(
            SlaMetric("first_reply_time", MetricStage.ACHIEVED, NOW - timedelta(hours=2)),
            SlaMetric("next_reply_time", MetricStage.ACTIVE, NOW + timedelta(minutes=20)),
            SlaMetric("requester_wait_time", MetricStage.PAUSED, None),
            SlaMetric("total_resolution_time", MetricStage.ACTIVE, NOW + timedelta(days=2)),
        )
    )
    assert [(d.metric, d.due_at) for d in zendesk_deadlines(item)] == [
        ("next_reply_time", NOW + timedelta(minutes=20)),
        ("total_resolution_time", NOW + timedelta(days=2)),
    ]


@pytest.mark.parametrize("status", ["solved", "closed", "deleted"])
def test_zendesk_closed_ticket_has_no_deadline_even_with_active_metric(status: str) -> None:
    assert zendesk_deadlines(zendesk_item(status=status)) == []


@pytest.mark.parametrize("status", ["new", "open", "pending", "hold"])
def test_zendesk_unsolved_ticket_trusts_zendesk_metric_stage(status: str) -> None:
    assert len(zendesk_deadlines(zendesk_item(status=status))) == 1


def test_zendesk_naive_breach_time_rejected() -> None:
    item = zendesk_item(
        sla_metrics=(SlaMetric("first_reply_time", MetricStage.ACTIVE, datetime(2026, 11, 23)),)
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        zendesk_deadlines(item)


# --- Intercom -------------------------------------------------------------------------------------------


def test_intercom_unanswered_not_priority_gets_first_reply_deadline() -> None:
    created = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    item = intercom_item(created_at=created)
    assert intercom_deadlines(item, TARGETS, None) == [
        Deadline(
            ref=TicketRef(Source.INTERCOM, "9001"),
            metric=Metric.FIRST_REPLY,
            due_at=created + timedelta(hours=4),
            cycle=f"first:{int(created.timestamp())}",
        )
    ]


def test_intercom_priority_uses_priority_first_reply_target() -> None:
    created = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    [only] = intercom_deadlines(intercom_item(created_at=created, priority="priority"), TARGETS, None)
    assert only.due_at == created + timedelta(hours=1)


@pytest.mark.parametrize("priority", [None, "not_priority", "urgent", "Priority"])
def test_intercom_anything_but_priority_uses_not_priority_target(priority: str | None) -> None:
    created = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    [only] = intercom_deadlines(intercom_item(created_at=created, priority=priority), TARGETS, None)
    assert only.due_at == created + timedelta(hours=4)


def test_intercom_customer_waiting_after_admin_reply_gets_next_reply_deadline() -> None:
    waiting = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    item = intercom_item(first_admin_reply_at=NOW - timedelta(minutes=50), waiting_since=waiting)
    assert intercom_deadlines(item, TARGETS, None) == [
        Deadline(
            ref=TicketRef(Source.INTERCOM, "9001"),
            metric=Metric.NEXT_REPLY,
            due_at=waiting + timedelta(hours=2),
            cycle=f"next:{int(waiting.timestamp())}",
        )
    ]


def test_intercom_priority_uses_priority_next_reply_target() -> None:
    waiting = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    item = intercom_item(
        priority="priority", first_admin_reply_at=NOW - timedelta(hours=1), waiting_since=waiting
    )
    [only] = intercom_deadlines(item, TARGETS, None)
    assert only.due_at == waiting + timedelta(minutes=30)


def test_intercom_waiting_on_customer_has_no_deadline() -> None:
    # The admin replied and Intercom cleared waiting_since: the ball is in the customer's court,
    # whatever last_contact_reply_at says.
    item = intercom_item(
        first_admin_reply_at=NOW - timedelta(minutes=30),
        waiting_since=None,
        last_contact_reply_at=NOW - timedelta(minutes=10),
    )
    assert intercom_deadlines(item, TARGETS, None) == []


def test_intercom_first_reply_wins_over_waiting_since() -> None:
    created = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    item = intercom_item(created_at=created, waiting_since=created + timedelta(minutes=5))
    [only] = intercom_deadlines(item, TARGETS, None)
    assert only.metric == Metric.FIRST_REPLY


def test_intercom_conversation_the_team_started_owes_no_reply_until_the_customer_writes() -> None:
    outbound = intercom_item(first_contact_at=None, waiting_since=None)
    assert intercom_deadlines(outbound, TARGETS, None) == []


def test_intercom_first_reply_clock_starts_at_the_customers_first_reply_to_an_outbound_message() -> None:
    created = NOW - timedelta(days=3)
    replied = NOW - timedelta(minutes=10)
    item = intercom_item(created_at=created, first_contact_at=replied, waiting_since=replied)
    [only] = intercom_deadlines(item, TARGETS, None)
    assert only.metric == Metric.FIRST_REPLY
    assert only.due_at == replied + timedelta(hours=4)
    assert only.cycle == f"first:{int(replied.timestamp())}"


def test_intercom_team_started_with_null_statistics_is_answered_when_nobody_waits() -> None:
    replied = NOW - timedelta(minutes=20)
    item = intercom_item(created_at=NOW - timedelta(hours=5), first_contact_at=replied, waiting_since=None)
    assert intercom_deadlines(item, TARGETS, None) == []


def test_intercom_team_started_with_null_statistics_and_a_later_message_owes_a_next_reply() -> None:
    first = NOW - timedelta(hours=2)
    again = NOW - timedelta(minutes=10)
    item = intercom_item(created_at=NOW - timedelta(days=1), first_contact_at=first, waiting_since=again)
    [only] = intercom_deadlines(item, TARGETS, None)
    assert only.metric == Metric.NEXT_REPLY and only.cycle == f"next:{int(again.timestamp())}"


def test_intercom_new_customer_message_starts_new_cycle() -> None:
    base = intercom_item(first_admin_reply_at=NOW - timedelta(hours=2))
    [first] = intercom_deadlines(replace(base, waiting_since=NOW - timedelta(hours=1)), TARGETS, None)
    [second] = intercom_deadlines(replace(base, waiting_since=NOW - timedelta(minutes=5)), TARGETS, None)
    assert first.cycle != second.cycle


@pytest.mark.parametrize("status", ["closed", "snoozed"])
def test_intercom_closed_or_snoozed_has_no_deadline(status: str) -> None:
    assert intercom_deadlines(intercom_item(status=status), TARGETS, None) == []
    replied = intercom_item(status=status, first_admin_reply_at=NOW, waiting_since=NOW)
    assert intercom_deadlines(replied, TARGETS, None) == []


def test_intercom_first_reply_stretched_overnight_by_business_hours() -> None:
    # Monday 16:30 New York + 4 business hours -> Tuesday 12:30.
    item = intercom_item(created_at=ny(2026, 11, 23, 16, 30))
    [only] = intercom_deadlines(item, TARGETS, OFFICE)
    assert only.due_at == ny(2026, 11, 24, 12, 30)
    assert only.due_at.tzinfo is UTC


def test_intercom_first_reply_stretched_over_weekend() -> None:
    item = intercom_item(created_at=ny(2026, 11, 20, 16, 0))  # Friday
    [only] = intercom_deadlines(item, TARGETS, OFFICE)
    assert only.due_at == ny(2026, 11, 23, 12, 0)


def test_intercom_next_reply_stretched_over_thanksgiving() -> None:
    item = intercom_item(first_admin_reply_at=ny(2026, 11, 25, 15, 0), waiting_since=ny(2026, 11, 25, 16, 30))
    [only] = intercom_deadlines(item, TARGETS, OFFICE)
    assert only.due_at == ny(2026, 11, 27, 10, 30)


def test_intercom_first_reply_stretched_over_spring_forward_weekend() -> None:
    # Friday 2026-03-06 16:00 EST + 4h -> Monday 2026-03-09 12:00 EDT (16:00 UTC, not 17:00).
    item = intercom_item(created_at=ny(2026, 3, 6, 16, 0))
    [only] = intercom_deadlines(item, TARGETS, OFFICE)
    assert only.due_at == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)


def test_intercom_business_hours_do_not_change_cycle() -> None:
    created = ny(2026, 11, 20, 16, 0)
    [with_hours] = intercom_deadlines(intercom_item(created_at=created), TARGETS, OFFICE)
    [around_clock] = intercom_deadlines(intercom_item(created_at=created), TARGETS, None)
    assert with_hours.cycle == around_clock.cycle == f"first:{int(created.timestamp())}"


def test_intercom_plain_holiday_set_calendar() -> None:
    calendar = replace(OFFICE, holidays=frozenset({date(2026, 11, 24)}))
    [only] = intercom_deadlines(intercom_item(created_at=ny(2026, 11, 23, 16, 0)), TARGETS, calendar)
    assert only.due_at == ny(2026, 11, 25, 12, 0)


def test_deadlines_for_dispatches_on_source() -> None:
    zendesk = zendesk_item(first_admin_reply_at=None)  # Intercom rules would give a first-reply deadline
    intercom = intercom_item(
        sla_metrics=(SlaMetric("first_reply_time", MetricStage.ACTIVE, NOW + timedelta(minutes=5)),)
    )
    assert deadlines_for(zendesk, targets=TARGETS, calendar=OFFICE) == zendesk_deadlines(zendesk)
    assert deadlines_for(intercom, targets=TARGETS, calendar=OFFICE) == intercom_deadlines(
        intercom, TARGETS, OFFICE
    )
    assert deadlines_for(intercom, targets=TARGETS, calendar=None)[0].cycle.startswith("first:")


# --- classify -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        (timedelta(hours=3), SlaStatus.OK),
        (timedelta(hours=2, seconds=1), SlaStatus.OK),
        (timedelta(hours=2), SlaStatus.AT_RISK),
        (timedelta(minutes=10), SlaStatus.AT_RISK),
        (timedelta(seconds=1), SlaStatus.AT_RISK),
        (timedelta(0), SlaStatus.BREACHED),
        (timedelta(minutes=-5), SlaStatus.BREACHED),
    ],
)
def test_classify_by_time_left(remaining: timedelta, expected: SlaStatus) -> None:
    assert classify(deadline(NOW + remaining), NOW, WARN) is expected


def test_classify_without_thresholds_is_ok_until_breached() -> None:
    assert classify(deadline(NOW + timedelta(seconds=1)), NOW, []) is SlaStatus.OK
    assert classify(deadline(NOW), NOW, []) is SlaStatus.BREACHED


def test_classify_compares_instants_not_wall_clock() -> None:
    assert (
        classify(deadline(NOW + timedelta(minutes=10)), NOW.astimezone(NEW_YORK), WARN) is SlaStatus.AT_RISK
    )


# --- decide_alerts --------------------------------------------------------------------------------------


def test_decide_far_off_deadline_no_alert() -> None:
    assert decide_alerts([deadline(NOW + timedelta(hours=5))], now=NOW, warn_before=WARN, already=set()) == []


def test_decide_breached_gives_breach_alert() -> None:
    d = deadline(NOW - timedelta(minutes=1))
    [decision] = decide_alerts([d], now=NOW, warn_before=WARN, already=set())
    assert decision == AlertDecision(deadline=d, kind=AlertKind.BREACH)
    assert decision.key == "breach"
    assert alert_key(decision) == ("zd:101", "first_reply_time", d.cycle, "breach")


def test_decide_breach_at_exact_due_instant() -> None:
    d = deadline(NOW)
    assert [x.kind for x in decide_alerts([d], now=NOW, warn_before=WARN, already=set())] == [
        AlertKind.BREACH
    ]


def test_decide_first_seen_breached_gets_breach_only() -> None:
    d = deadline(NOW - timedelta(hours=1))
    decisions = decide_alerts([d], now=NOW, warn_before=WARN, already=set())
    assert [x.key for x in decisions] == ["breach"]


def test_decide_breach_already_decided_suppressed() -> None:
    d = deadline(NOW - timedelta(minutes=1))
    assert decide_alerts([d], now=NOW, warn_before=WARN, already={key(d, "breach")}) == []


def test_decide_breach_still_posted_after_warnings() -> None:
    d = deadline(NOW - timedelta(minutes=1))
    already = {key(d, "warn:7200"), key(d, "warn:1800")}
    assert [x.key for x in decide_alerts([d], now=NOW, warn_before=WARN, already=already)] == ["breach"]


def test_decide_at_risk_warns_with_tightest_crossed_threshold() -> None:
    d = deadline(NOW + timedelta(hours=1))
    [decision] = decide_alerts([d], now=NOW, warn_before=WARN, already=set())
    assert decision == AlertDecision(deadline=d, kind=AlertKind.WARNING, threshold=timedelta(hours=2))
    assert decision.key == "warn:7200"


def test_decide_threshold_progression_gives_second_distinct_warning() -> None:
    d = deadline(NOW + timedelta(hours=1))
    already: set[tuple[str, str, str, str]] = set()
    first = decide_alerts([d], now=NOW, warn_before=WARN, already=already)
    assert [x.key for x in first] == ["warn:7200"]
    already |= {alert_key(x) for x in first}

    assert decide_alerts([d], now=NOW + timedelta(minutes=20), warn_before=WARN, already=already) == []

    later = decide_alerts([d], now=NOW + timedelta(minutes=40), warn_before=WARN, already=already)
    assert [x.key for x in later] == ["warn:1800"]
    assert later[0].threshold == timedelta(minutes=30)
    already |= {alert_key(x) for x in later}

    assert decide_alerts([d], now=NOW + timedelta(minutes=50), warn_before=WARN, already=already) == []
    final = decide_alerts([d], now=NOW + timedelta(hours=1), warn_before=WARN, already=already)
    assert [x.key for x in final] == ["breach"]


def test_decide_skipped_wider_threshold_not_posted_late() -> None:
    d = deadline(NOW + timedelta(minutes=20))
    decisions = decide_alerts([d], now=NOW, warn_before=WARN, already=set())
    assert [x.key for x in decisions] == ["warn:1800"]
    assert decide_alerts([d], now=NOW, warn_before=WARN, already={alert_key(decisions[0])}) == []


def test_decide_threshold_order_in_config_irrelevant() -> None:
    d = deadline(NOW + timedelta(minutes=20))
    reversed_warn = list(reversed(WARN))
    assert decide_alerts([d], now=NOW, warn_before=reversed_warn, already=set()) == decide_alerts(
        [d], now=NOW, warn_before=WARN, already=set()
    )


def test_decide_no_rewarn_after_tighter_warning_when_deadline_moves_later() -> None:
    # Same cycle, deadline now further away (e.g. targets changed): the 30m warning already went out.
    d = deadline(NOW + timedelta(hours=1))
    assert decide_alerts([d], now=NOW, warn_before=WARN, already={key(d, "warn:1800")}) == []


def test_decide_no_warning_after_breach_in_same_cycle() -> None:
    d = deadline(NOW + timedelta(minutes=10))
    assert decide_alerts([d], now=NOW, warn_before=WARN, already={key(d, "breach")}) == []


def test_decide_keys_from_other_cycle_do_not_suppress() -> None:
    old = deadline(NOW - timedelta(hours=5))
    new = deadline(NOW - timedelta(minutes=1))
    assert [
        x.deadline for x in decide_alerts([new], now=NOW, warn_before=WARN, already={key(old, "breach")})
    ] == [new]


def test_decide_without_thresholds_only_breaches() -> None:
    soon = deadline(NOW + timedelta(minutes=1), "1")
    late = deadline(NOW - timedelta(minutes=1), "2")
    assert [x.key for x in decide_alerts([soon, late], now=NOW, warn_before=[], already=set())] == ["breach"]


def test_decide_orders_by_due_time_then_ref() -> None:
    a = deadline(NOW + timedelta(minutes=20), "300")
    b = deadline(NOW - timedelta(minutes=5), "200")
    c = deadline(NOW + timedelta(minutes=20), "100")
    d = deadline(NOW + timedelta(hours=1), "050")
    decisions = decide_alerts([a, b, c, d], now=NOW, warn_before=WARN, already=set())
    assert [(str(x.deadline.ref), x.key) for x in decisions] == [
        ("zd:200", "breach"),
        ("zd:100", "warn:1800"),
        ("zd:300", "warn:1800"),
        ("zd:050", "warn:7200"),
    ]


def test_decide_duplicate_deadlines_decided_once() -> None:
    d = deadline(NOW - timedelta(minutes=1))
    assert len(decide_alerts([d, d], now=NOW, warn_before=WARN, already=set())) == 1


def test_decide_one_decision_per_metric_of_same_ticket() -> None:
    first = deadline(NOW - timedelta(minutes=1), metric="first_reply_time")
    resolution = deadline(NOW - timedelta(minutes=1), metric="total_resolution_time")
    decisions = decide_alerts([first, resolution], now=NOW, warn_before=WARN, already={key(first, "breach")})
    assert [x.deadline.metric for x in decisions] == ["total_resolution_time"]


def test_decide_intercom_metric_enum_keys_match_plain_strings() -> None:
    [d] = intercom_deadlines(intercom_item(created_at=NOW - timedelta(hours=5)), TARGETS, None)
    already = {("ic:9001", "first_reply_time", d.cycle, "breach")}
    assert decide_alerts([d], now=NOW, warn_before=WARN, already=already) == []


def test_decide_accepts_generator_input() -> None:
    items = (deadline(NOW - timedelta(minutes=m), str(m)) for m in (1, 2))
    assert len(decide_alerts(items, now=NOW, warn_before=WARN, already=set())) == 2


@pytest.mark.parametrize("bad", [timedelta(0), timedelta(minutes=-5)])
def test_decide_non_positive_threshold_rejected(bad: timedelta) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        decide_alerts([], now=NOW, warn_before=[bad], already=set())


def test_decide_naive_now_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide_alerts([], now=datetime(2026, 11, 23, 15, 0), warn_before=WARN, already=set())
