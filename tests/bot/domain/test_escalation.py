"""The escalation state machine: plain values in, state + effects + audit out, with a fixed `now`."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.calendar import BusinessHours
from bot.domain.escalation import (
    Accept,
    AckTimeout,
    AutoEscalate,
    DueAlert,
    DueWarning,
    EscalateFurther,
    Escalation,
    EscalationPolicy,
    InfoAdded,
    InvalidEscalation,
    Notify,
    PingResponders,
    PostHandoff,
    Reassign,
    RefusalCode,
    RequestInfo,
    ResolvedUpstream,
    Status,
    Tier,
    Transition,
    WriteBack,
    WriteBackTarget,
    apply,
    next_timer_at,
    open_escalation,
)
from bot.domain.model import Source, TicketRef

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)  # a Monday
REF = TicketRef(Source.ZENDESK, "101")
MIN = timedelta(minutes=1)
TARGET = WriteBackTarget(zendesk_group_id=900, zendesk_tags=("compliance_review",))


def policy(t2: Tier | None = None, compliance: Tier | None = None, **kwargs: object) -> EscalationPolicy:
    return EscalationPolicy(
        tiers=(
            Tier("T1"),
            t2 or Tier("T2", "C0T2", ("U0A", "U0B", "U0C"), timedelta(minutes=15)),
            compliance
            or Tier(
                "Compliance",
                "C0LEGAL",
                ("U0LEGAL",),
                timedelta(hours=1),
                due=timedelta(hours=24),
                due_warn_before=timedelta(hours=1),
                write_back=TARGET,
            ),
        ),
        reasons=("bug", "legal_request"),
        managers=frozenset({"U0BOSS"}),
        **kwargs,  # type: ignore[arg-type]
    )


def opened(pol: EscalationPolicy | None = None, tier: int = 1, at: datetime = NOW) -> Escalation:
    pol = pol or policy()
    return open_escalation(
        pol, chain="c1", ref=REF, reason="bug", note="tried X", by="U0AGENT", at=at, tier=tier
    ).state


# --- opening -----------------------------------------------------------------------------------------


def test_open_posts_handoff_mentions_all_and_starts_ack_clock() -> None:
    result = open_escalation(
        policy(), chain="c1", ref=REF, reason="bug", note=" tried X ", by="U0AGENT", at=NOW
    )

    assert result.state.status is Status.OPEN
    assert result.state.ack_deadline == NOW + 15 * MIN
    assert result.effects == (
        PostHandoff(1, REF, "bug", "tried X", "U0AGENT", ("U0A", "U0B", "U0C")),
        # every handoff gets its internal note; this tier names no routing target
        WriteBack(1, REF, WriteBackTarget(), "tried X"),
    )
    assert [(a.kind, a.actor, a.at) for a in result.audit] == [("opened", "U0AGENT", NOW)]
    assert next_timer_at(result.state, NOW) == NOW + 15 * MIN


def test_open_in_tier_with_targets_writes_back_and_sets_due() -> None:
    result = open_escalation(
        policy(), chain="c1", ref=REF, reason="bug", note="n", by="U0AGENT", at=NOW, tier=2
    )

    assert WriteBack(2, REF, TARGET, "n") in result.effects
    assert result.state.due_at == NOW + timedelta(hours=24)
    assert result.state.due_warn_at == NOW + timedelta(hours=23)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": "nope"}, '"nope" is not an escalation reason: use one of bug, legal_request'),
        ({"tier": 0}, "there is no tier 0 to escalate to (tiers 1..2)"),
        ({"note": "  "}, "a handoff note is required"),
    ],
)
def test_open_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "chain": "c1",
        "ref": REF,
        "reason": "bug",
        "note": "n",
        "by": "U0AGENT",
        "at": NOW,
    }
    with pytest.raises(InvalidEscalation, match=re.escape(message)):
        open_escalation(policy(), **{**args, **kwargs})  # type: ignore[arg-type]


# --- accept / reassign / authorisation ---------------------------------------------------------------


def test_double_accept_gives_one_owner_and_says_who_has_it() -> None:
    pol = policy()
    first = apply(opened(pol), Accept("U0A", NOW + 2 * MIN), pol)
    second = apply(first.state, Accept("U0B", NOW + 3 * MIN), pol)

    assert first.state.owner == "U0A" and first.state.status is Status.ACCEPTED
    assert first.state.time_to_accept == 2 * MIN
    assert next_timer_at(first.state, NOW) is None
    assert second.state == first.state
    assert second.refusal is not None and second.refusal.code is RefusalCode.ALREADY_ACCEPTED
    assert second.refusal.message == "already accepted by <@U0A>"
    assert second.effects == ()
    assert [a.kind for a in second.audit] == ["refused"]


def test_accept_again_by_owner_says_you() -> None:
    pol = policy()
    state = apply(opened(pol), Accept("U0A", NOW), pol).state
    assert apply(state, Accept("U0A", NOW + MIN), pol).refusal.message == "already accepted by you"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "event",
    [
        Accept("U0STRANGER", NOW),
        Reassign("U0STRANGER", "U0A", NOW),
        EscalateFurther("U0STRANGER", "help", NOW),
        RequestInfo("U0STRANGER", "why?", NOW),
    ],
)
def test_non_responders_are_refused_without_change(event: Accept) -> None:
    pol = policy()
    state = opened(pol)

    result = apply(state, event, pol)

    assert result.state == state and result.effects == () and result.successor is None
    assert result.refusal is not None and result.refusal.code is RefusalCode.NOT_AUTHORISED
    assert result.refusal.message == "only T2 responders or a manager can do that; ask in the thread instead"


def test_manager_and_user_group_member_may_accept() -> None:
    t2 = Tier("T2", "C0T2", ("S0ONCALL",), timedelta(minutes=15))
    pol = policy(t2, group_members={"S0ONCALL": frozenset({"U0GROUPIE"})})

    assert apply(opened(pol), Accept("U0BOSS", NOW), pol).state.owner == "U0BOSS"
    assert apply(opened(pol), Accept("U0GROUPIE", NOW), pol).state.owner == "U0GROUPIE"


def test_reassign_moves_owner_and_refuses_outsiders_as_target() -> None:
    pol = policy()
    state = apply(opened(pol), Accept("U0A", NOW), pol).state

    moved = apply(state, Reassign("U0A", "U0B", NOW + MIN), pol)
    bad = apply(state, Reassign("U0A", "U0STRANGER", NOW + MIN), pol)

    assert moved.state.owner == "U0B" and moved.state.accepted_at == NOW
    assert moved.audit[0].details == {"previous": "U0A", "to": "U0B"}
    assert bad.refusal is not None and bad.refusal.code is RefusalCode.INVALID
    assert bad.state.owner == "U0A"


def test_reassign_while_open_stops_ack_clock() -> None:
    pol = policy()
    result = apply(opened(pol), Reassign("U0BOSS", "U0C", NOW + MIN), pol)
    assert (result.state.owner, result.state.ack_deadline, result.state.time_to_accept) == ("U0C", None, MIN)


# --- need info ---------------------------------------------------------------------------------------


def test_need_info_pauses_ack_clock_and_keeps_remaining_time() -> None:
    pol = policy()
    asked = apply(opened(pol), RequestInfo("U0A", "Which invoice?", NOW + 5 * MIN), pol)

    assert asked.state.status is Status.WAITING_INFO
    assert (asked.state.ack_deadline, asked.state.ack_left) == (None, 10 * MIN)
    assert next_timer_at(asked.state, NOW + timedelta(hours=5)) is None
    assert apply(asked.state, AckTimeout(NOW + timedelta(hours=1)), pol).effects == ()

    resumed = apply(asked.state, InfoAdded("U0AGENT", "INV-9", NOW + timedelta(hours=2)), pol)

    assert resumed.state.status is Status.OPEN
    assert resumed.state.ack_deadline == NOW + timedelta(hours=2) + 10 * MIN


def test_info_added_without_request_is_refused() -> None:
    pol = policy()
    result = apply(opened(pol), InfoAdded("U0AGENT", "x", NOW), pol)
    assert result.refusal is not None and result.refusal.code is RefusalCode.NOT_WAITING


def test_accept_while_waiting_for_info_returns_to_accepted_after_info() -> None:
    pol = policy()
    state = apply(opened(pol), RequestInfo("U0A", "?", NOW + MIN), pol).state
    state = apply(state, Accept("U0B", NOW + 2 * MIN), pol).state
    assert (state.status, state.owner) == (Status.WAITING_INFO, "U0B")
    state = apply(state, InfoAdded("U0AGENT", "here", NOW + 3 * MIN), pol).state
    assert (state.status, state.ack_deadline) == (Status.ACCEPTED, None)


# --- ack timers --------------------------------------------------------------------------------------


def test_repings_mention_all_then_auto_escalate_after_repeat() -> None:
    pol = policy()
    state = opened(pol)
    pings = []
    for minutes in (15, 30):
        result = apply(state, AckTimeout(NOW + minutes * MIN), pol)
        state = result.state
        pings += [e for e in result.effects if isinstance(e, PingResponders)]
    assert pings == [PingResponders(1, ("U0A", "U0B", "U0C"), 1), PingResponders(1, ("U0A", "U0B", "U0C"), 2)]

    moved = apply(state, AckTimeout(NOW + 45 * MIN), pol)

    assert moved.state.status is Status.ESCALATED and next_timer_at(moved.state, NOW) is None
    assert moved.successor is not None
    assert (moved.successor.tier, moved.successor.status, moved.successor.chain) == (2, Status.OPEN, "c1")
    auto = [e for e in moved.effects if isinstance(e, AutoEscalate)]
    assert auto == [AutoEscalate(1, 2, "nobody accepted in T2 within 45m (2 re-pings)")]
    assert any(isinstance(e, PostHandoff) and e.tier == 2 for e in moved.effects)
    assert moved.audit[0].kind == "auto_escalated" and moved.audit[0].actor is None
    assert "Escalated from T2: nobody accepted" in moved.successor.note


def test_round_robin_mentions_one_responder_at_a_time_in_order() -> None:
    t2 = Tier("T2", "C0T2", ("U0A", "U0B", "U0C"), timedelta(minutes=15), repeat=4, notify=Notify.ROUND_ROBIN)
    pol = policy(t2)
    first = open_escalation(pol, chain="c1", ref=REF, reason="bug", note="n", by="U0AGENT", at=NOW)
    assert first.effects[0].mentions == ("U0A",)  # type: ignore[union-attr]
    state, order = first.state, []
    for n in range(1, 5):
        result = apply(state, AckTimeout(NOW + n * 15 * MIN), pol)
        state = result.state
        order += [e.mentions for e in result.effects if isinstance(e, PingResponders)]
    assert order == [("U0B",), ("U0C",), ("U0A",), ("U0B",)]


def test_early_timer_changes_nothing() -> None:
    pol = policy()
    state = opened(pol)
    assert apply(state, AckTimeout(NOW + MIN), pol) == Transition(state)


def test_last_tier_stops_after_repeat_and_calls_managers() -> None:
    pol = policy()
    state = opened(pol, tier=2)
    for hours in (1, 2):
        state = apply(state, AckTimeout(NOW + timedelta(hours=hours)), pol).state

    result = apply(state, AckTimeout(NOW + timedelta(hours=3)), pol)

    assert result.successor is None and result.state.status is Status.OPEN
    assert result.state.ack_deadline is None
    assert result.effects[0].mentions == ("U0BOSS",)  # type: ignore[union-attr]
    assert result.audit[0].kind == "ack_exhausted"
    assert next_timer_at(result.state, NOW + timedelta(hours=3)) == NOW + timedelta(
        hours=23
    )  # due warning left


def test_escalate_further_from_last_tier_is_refused() -> None:
    pol = policy()
    result = apply(opened(pol, tier=2), EscalateFurther("U0LEGAL", "?", NOW), pol)
    assert result.refusal is not None and result.refusal.code is RefusalCode.LAST_TIER
    assert result.refusal.message == "Compliance is the last tier: there is nowhere further to escalate"


def test_escalate_further_opens_next_tier_and_closes_this_one() -> None:
    pol = policy()
    state = apply(opened(pol), Accept("U0A", NOW), pol).state
    result = apply(state, EscalateFurther("U0A", "legal hold", NOW + MIN), pol)

    assert result.state.status is Status.ESCALATED
    assert result.successor is not None and result.successor.opened_by == "U0A"
    assert result.successor.due_at == NOW + MIN + timedelta(hours=24)
    assert apply(result.state, Accept("U0A", NOW + 2 * MIN), pol).refusal.code is RefusalCode.CLOSED  # type: ignore[union-attr]


# --- due ---------------------------------------------------------------------------------------------


def test_due_warns_then_alerts_once_each() -> None:
    pol = policy()
    state = apply(opened(pol, tier=2), Accept("U0LEGAL", NOW), pol).state
    kinds = []
    for at in (
        NOW + timedelta(hours=23),
        NOW + timedelta(hours=23, minutes=30),
        NOW + timedelta(hours=24),
        NOW + timedelta(hours=30),
    ):
        result = apply(state, AckTimeout(at), pol)
        state = result.state
        kinds += [type(e) for e in result.effects]
    assert kinds == [DueWarning, DueAlert]
    assert next_timer_at(state, NOW + timedelta(hours=30)) is None


def test_overdue_alert_skips_stale_warning() -> None:
    pol = policy()
    state = apply(opened(pol, tier=2), Accept("U0LEGAL", NOW), pol).state
    result = apply(state, AckTimeout(NOW + timedelta(hours=25)), pol)
    assert [type(e) for e in result.effects] == [DueAlert]
    assert result.effects[0].mentions == ("U0LEGAL",)  # type: ignore[union-attr]


# --- business hours ------------------------------------------------------------------------------------


def test_ack_clock_runs_in_business_hours_across_weekend_and_holiday() -> None:
    hours = BusinessHours(
        tz=ZoneInfo("Europe/London"),
        days=frozenset(range(5)),
        start=time(9),
        end=time(17),
        holidays=frozenset({date(2025, 8, 25)}),  # late summer bank holiday, a Monday
    )
    t2 = Tier("T2", "C0T2", ("U0A",), timedelta(minutes=30), calendar=hours)
    pol = policy(t2)
    friday = datetime(2025, 8, 22, 15, 50, tzinfo=UTC)  # 16:50 in London, 10 minutes before closing

    state = opened(pol, at=friday)

    assert state.ack_deadline == datetime(2025, 8, 26, 8, 20, tzinfo=UTC)  # Tue 09:20 London
    paused = apply(state, RequestInfo("U0A", "?", datetime(2025, 8, 22, 15, 55, tzinfo=UTC)), pol).state
    assert paused.ack_left == timedelta(minutes=25)
    resumed = apply(paused, InfoAdded("U0AGENT", "ok", datetime(2025, 8, 23, 12, 0, tzinfo=UTC)), pol).state
    assert resumed.ack_deadline == datetime(2025, 8, 26, 8, 25, tzinfo=UTC)


def test_due_in_business_hours() -> None:
    hours = BusinessHours(tz=ZoneInfo("UTC"), days=frozenset(range(5)), start=time(9), end=time(17))
    comp = Tier(
        "Compliance",
        "C0L",
        ("U0LEGAL",),
        timedelta(hours=1),
        due=timedelta(hours=8),
        due_warn_before=timedelta(hours=1),
        calendar=hours,
    )
    pol = policy(compliance=comp)
    friday = datetime(2025, 6, 6, 13, 0, tzinfo=UTC)
    state = opened(pol, tier=2, at=friday)
    assert state.due_at == datetime(2025, 6, 9, 13, 0, tzinfo=UTC)
    assert state.due_warn_at == datetime(2025, 6, 9, 12, 0, tzinfo=UTC)


# --- resolved upstream -------------------------------------------------------------------------------


def test_resolved_upstream_gives_times_to_accept_and_resolve() -> None:
    pol = policy()
    state = apply(opened(pol), Accept("U0A", NOW + 12 * MIN), pol).state

    result = apply(state, ResolvedUpstream(NOW + timedelta(hours=3)), pol)

    assert result.state.status is Status.RESOLVED
    assert (result.state.time_to_accept, result.state.time_to_resolve) == (12 * MIN, timedelta(hours=3))
    assert result.audit[0].details == {"time_to_accept_s": 720, "time_to_resolve_s": 10800}
    assert "accepted after 12m, resolved 3h after the handoff" in result.effects[1].text  # type: ignore[union-attr]
    assert next_timer_at(result.state, NOW) is None
    assert apply(result.state, ResolvedUpstream(NOW + timedelta(hours=4)), pol) == Transition(result.state)


def test_resolved_before_accept_reports_never_accepted() -> None:
    pol = policy()
    result = apply(opened(pol), ResolvedUpstream(NOW + MIN), pol)
    assert result.state.time_to_accept is None
    assert "never accepted" in result.effects[1].text  # type: ignore[union-attr]


# --- properties ----------------------------------------------------------------------------------------

USERS = ("U0A", "U0B", "U0STRANGER", "U0BOSS", "U0AGENT")
_event = st.one_of(
    st.builds(lambda u: ("accept", u), st.sampled_from(USERS)),
    st.builds(lambda u, t: ("reassign", u, t), st.sampled_from(USERS), st.sampled_from(USERS)),
    st.builds(lambda u: ("info", u), st.sampled_from(USERS)),
    st.builds(lambda u: ("added", u), st.sampled_from(USERS)),
    st.builds(lambda u: ("further", u), st.sampled_from(USERS)),
    st.just(("timer",)),
    st.just(("resolved",)),
)


def _make(spec: tuple[str, ...], at: datetime) -> object:
    kind = spec[0]
    if kind == "accept":
        return Accept(spec[1], at)
    if kind == "reassign":
        return Reassign(spec[1], spec[2], at)
    if kind == "info":
        return RequestInfo(spec[1], "what?", at)
    if kind == "added":
        return InfoAdded(spec[1], "this", at)
    if kind == "further":
        return EscalateFurther(spec[1], "beyond me", at)
    return AckTimeout(at) if kind == "timer" else ResolvedUpstream(at)


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.tuples(_event, st.integers(min_value=1, max_value=180)), max_size=30),
    round_robin=st.booleans(),
)
def test_any_event_sequence_keeps_invariants(
    steps: list[tuple[tuple[str, ...], int]], round_robin: bool
) -> None:
    t2 = Tier(
        "T2",
        "C0T2",
        ("U0A", "U0B"),
        timedelta(minutes=15),
        notify=Notify.ROUND_ROBIN if round_robin else Notify.ALL,
    )
    pol = policy(t2)
    first = open_escalation(pol, chain="c1", ref=REF, reason="bug", note="n", by="U0AGENT", at=NOW)
    current, at, last_audit_at = first.state, NOW, NOW
    for spec, minutes in steps:
        at += timedelta(minutes=minutes)
        event = _make(spec, at)
        result = apply(current, event, pol)  # type: ignore[arg-type]
        assert len(result.audit) <= 2  # a timer may warn about `due` and re-ping at the same instant
        for audit in result.audit:
            assert audit.at == at > last_audit_at  # strictly after every earlier event's audit
        if result.audit:
            last_audit_at = at
        owners = {result.state.owner} if result.state.owner else set()
        assert len(owners) <= 1
        if result.refusal is not None:
            assert result.state == current
        current = result.successor or result.state
        timer = next_timer_at(current, at)
        assert timer is None or timer >= at
        if isinstance(event, AckTimeout) and timer is not None:
            assert next_timer_at(current, datetime.min.replace(tzinfo=UTC)) > at  # nothing overdue is left
        if current.status is Status.ACCEPTED:
            assert current.owner is not None and current.ack_deadline is None
