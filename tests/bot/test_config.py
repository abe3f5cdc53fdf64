"""Configuration: env settings, YAML validation messages, and the helpers the rest of Deskwatch uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import (
    AppConfig,
    ConfigError,
    Settings,
    config_from_dict,
    load_config,
    load_settings,
    settings_problems,
)
from bot.domain.calendar import END_OF_DAY, BusinessHours
from bot.domain.model import IntercomTargets, TeamRoute

REPO_ROOT = Path(__file__).resolve().parents[2]

SPEC_YAML = """\
timezone: UTC
alerts:
  channel: C0ALERTS            # default channel for SLA alerts
  warn_before: [30m]           # pre-breach warnings, one per threshold
teams:
  - name: billing
    channel: C0BILLING
    timezone: UTC
    zendesk_group_ids: [7]
    intercom_team_ids: ["77"]
    managers: [U0MANAGER]
    business_hours: null        # null = 24/7; or {days: [mon,tue,wed,thu,fri], start: "09:00", end: "17:00", holidays: US}
sla:
  intercom:                     # Intercom exposes no breach time: Deskwatch computes it
    first_reply: {priority: 30m, not_priority: 2h}
    next_reply: {priority: 1h, not_priority: 4h}
"""  # noqa: E501 - the documented file, byte for byte


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The autouse fixture in tests/conftest.py already removed every Deskwatch variable."""
    return monkeypatch


def write(tmp_path: Path, text: str, name: str = "deskwatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def base(**overrides: Any) -> dict[str, Any]:
    return {"alerts": {"channel": "C0ALERTS"}, **overrides}


def team(**fields: Any) -> dict[str, Any]:
    return {"name": "billing", **fields}


def problems_of(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    return info.value.problems


# --- YAML: the documented file ----------------------------------------------------------------------------


def test_load_config_spec_yaml_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SPEC_YAML))

    assert config.timezone == "UTC"
    assert config.alerts.channel == "C0ALERTS"
    assert config.alerts.warn_before == [timedelta(minutes=30)]
    billing = config.teams[0]
    assert billing.name == "billing"
    assert billing.channel == "C0BILLING"
    assert billing.zendesk_group_ids == ["7"]
    assert billing.intercom_team_ids == ["77"]
    assert billing.managers == ["U0MANAGER"]
    assert billing.business_hours is None
    assert billing.business_calendar() is None
    assert config.intercom_targets() == IntercomTargets(
        first_reply_priority=timedelta(minutes=30),
        first_reply_not_priority=timedelta(hours=2),
        next_reply_priority=timedelta(hours=1),
        next_reply_not_priority=timedelta(hours=4),
    )


def test_load_config_example_file_loads() -> None:
    config = load_config(REPO_ROOT / "deskwatch.example.yaml")

    assert [t.name for t in config.teams] == ["billing", "support-emea"]
    assert config.teams[1].business_calendar() is not None
    assert config.default_calendar() is None  # the top-level block is commented out


def test_example_file_default_business_hours_uncommented_is_24_5(tmp_path: Path) -> None:
    lines = (REPO_ROOT / "deskwatch.example.yaml").read_text(encoding="utf-8").splitlines()
    first = lines.index("# business_hours:")
    last = first + 1
    while lines[last].startswith("#   "):
        last += 1
    lines[first:last] = [line[2:] for line in lines[first:last]]

    config = load_config(write(tmp_path, "\n".join(lines) + "\n"))

    calendar = config.default_calendar()
    assert calendar is not None
    assert (calendar.days, calendar.start, calendar.end) == (frozenset(range(5)), time(0), END_OF_DAY)
    assert config.calendar_for("billing") is None  # explicit null in the example stays 24/7
    emea = config.calendar_for("support-emea")  # its own block wins over the default
    assert emea is not None and (emea.start, emea.end) == (time(9), time(17, 30))


def test_config_defaults_when_optional_sections_absent() -> None:
    config = config_from_dict(base())

    assert config.timezone == "UTC"
    assert config.teams == []
    assert config.alerts.warn_before == [timedelta(minutes=30)]
    assert config.intercom_targets().next_reply_not_priority == timedelta(hours=4)
    assert config.redact.emails is False and config.redact.phones is False
    assert config.schedule.sync_interval == timedelta(seconds=60)
    assert config.schedule.sweep_interval == timedelta(seconds=10)
    assert config.slack.post_interval_per_channel == timedelta(seconds=1)


def test_warn_before_sorted_descending_and_deduplicated() -> None:
    config = config_from_dict({"alerts": {"channel": "C0ALERTS", "warn_before": ["5m", "1h", "60m", "15m"]}})

    assert config.alerts.warn_before == [timedelta(hours=1), timedelta(minutes=15), timedelta(minutes=5)]


def test_team_ids_given_as_ints_or_strings_stored_as_strings() -> None:
    config = config_from_dict(base(teams=[team(zendesk_group_ids=[7, "8"], intercom_team_ids=[77, "078"])]))

    assert config.teams[0].zendesk_group_ids == ["7", "8"]
    assert config.teams[0].intercom_team_ids == ["77", "78"]


def test_team_timezone_defaults_to_top_level() -> None:
    config = config_from_dict(
        base(timezone="Europe/Paris", teams=[team(), team(name="tokyo", timezone="Asia/Tokyo")])
    )

    assert config.teams[0].timezone == "Europe/Paris"
    assert config.team_tz("billing") == ZoneInfo("Europe/Paris")
    assert config.team_tz("tokyo") == ZoneInfo("Asia/Tokyo")
    assert config.team_tz(None) == ZoneInfo("Europe/Paris")
    assert config.team_tz("gone") == ZoneInfo("Europe/Paris")


def test_intercom_sla_partial_block_keeps_other_default() -> None:
    config = config_from_dict(base(sla={"intercom": {"first_reply": {"priority": "15m"}}}))

    targets = config.intercom_targets()
    assert targets.first_reply_priority == timedelta(minutes=15)
    assert targets.first_reply_not_priority == timedelta(hours=2)


def test_post_interval_accepts_seconds_or_duration() -> None:
    assert config_from_dict(base(slack={"post_interval_per_channel": 2})).slack.post_interval_per_channel == (
        timedelta(seconds=2)
    )
    assert config_from_dict(
        base(slack={"post_interval_per_channel": 1.5})
    ).slack.post_interval_per_channel == (timedelta(seconds=1.5))
    assert config_from_dict(
        base(slack={"post_interval_per_channel": "2s"})
    ).slack.post_interval_per_channel == (timedelta(seconds=2))


def test_yaml_unquoted_clock_times_and_country_no_stay_text(tmp_path: Path) -> None:
    """YAML 1.1 would read 17:30 as 1050 and NO (Norway) as false."""
    text = """\
alerts: {channel: C0ALERTS}
teams:
  - name: oslo
    timezone: Europe/Oslo
    business_hours: {start: 08:00, end: 17:30, holidays: NO, extra_holidays: [2025-12-27]}
"""
    hours = load_config(write(tmp_path, text)).teams[0].business_hours

    assert hours is not None
    assert (hours.start, hours.end) == (time(8, 0), time(17, 30))
    assert hours.holidays == "NO"
    assert hours.extra_holidays == [date(2025, 12, 27)]


# --- helpers on the models --------------------------------------------------------------------------------


def routing_config() -> AppConfig:
    return config_from_dict(
        base(
            teams=[
                team(channel="C0BILLING", zendesk_group_ids=[7], managers=["U0MANAGER"]),
                team(
                    name="tier2",
                    zendesk_group_ids=[8],
                    intercom_team_ids=["77"],
                    managers=["U0MANAGER", "U0LEAD"],
                ),
                team(name="vip", channel="C0VIP"),
            ]
        )
    )


def test_routes_resolve_channel_fallback() -> None:
    assert routing_config().routes() == [
        TeamRoute("billing", "C0BILLING", frozenset({"7"}), frozenset()),
        TeamRoute("tier2", "C0ALERTS", frozenset({"8"}), frozenset({"77"})),
        TeamRoute("vip", "C0VIP", frozenset(), frozenset()),
    ]


def test_team_lookup_by_name_channel_and_manager() -> None:
    config = routing_config()

    assert config.team("tier2") is config.teams[1]
    assert config.team("nope") is None
    assert config.team_for_channel("C0VIP") is config.teams[2]
    assert config.team_for_channel("C0ALERTS") is config.teams[1]
    assert config.team_for_channel("C0OTHER") is None
    assert [t.name for t in config.teams_managed_by("U0MANAGER")] == ["billing", "tier2"]
    assert config.teams_managed_by("U0NOBODY") == []


def test_team_for_channel_shared_channel_is_ambiguous() -> None:
    config = config_from_dict(base(teams=[team(), team(name="tier2")]))

    assert config.team_for_channel("C0ALERTS") is None


def test_business_calendar_builds_working_calendar() -> None:
    config = config_from_dict(
        base(
            teams=[
                team(
                    timezone="America/Los_Angeles",
                    business_hours={
                        "days": ["mon", "tue", "wed", "thu", "fri"],
                        "start": "09:00",
                        "end": "17:00",
                        "holidays": "US-CA",
                        "extra_holidays": ["2025-07-07"],
                    },
                )
            ]
        )
    )

    calendar = config.teams[0].business_calendar()

    assert isinstance(calendar, BusinessHours)
    assert calendar.tz == ZoneInfo("America/Los_Angeles")
    assert calendar.days == frozenset({0, 1, 2, 3, 4})
    assert (calendar.start, calendar.end) == (time(9), time(17))
    assert date(2025, 7, 4) in calendar.holidays  # Independence Day
    assert date(2025, 3, 31) in calendar.holidays  # Cesar Chavez Day, California only
    assert date(2025, 7, 7) in calendar.holidays  # extra date
    assert date(2025, 7, 8) not in calendar.holidays
    assert date(2031, 12, 25) in calendar.holidays  # later years are computed on demand
    # Thursday 2025-07-03 16:00 PDT: 1h left today, Friday is a holiday, the rest runs on Monday.
    start = datetime(2025, 7, 3, 23, 0, tzinfo=UTC)
    assert calendar.add(start, timedelta(hours=2)) == datetime(2025, 7, 8, 17, 0, tzinfo=UTC)


def test_business_calendar_without_holidays_uses_empty_set() -> None:
    config = config_from_dict(
        base(teams=[team(business_hours={"days": ["sat", "sun"], "start": "10:00", "end": "14:00"})])
    )

    calendar = config.teams[0].business_calendar()

    assert calendar is not None
    assert calendar.days == frozenset({5, 6})
    assert date(2025, 12, 25) not in calendar.holidays


# --- top-level business_hours (default calendar) and 24:00 ------------------------------------------------

WEEKDAYS_24H = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "00:00", "end": "24:00"}


def test_default_calendar_absent_means_24_7() -> None:
    config = config_from_dict(base(teams=[team()]))

    assert config.business_hours is None
    assert config.default_calendar() is None
    assert config.calendar_for(None) is None
    assert config.calendar_for("billing") is None


def test_default_calendar_24_5_in_top_level_timezone() -> None:
    config = config_from_dict(base(timezone="Europe/Berlin", business_hours=WEEKDAYS_24H))

    calendar = config.default_calendar()

    assert isinstance(calendar, BusinessHours)
    assert calendar.tz == ZoneInfo("Europe/Berlin")
    assert calendar.days == frozenset(range(5))
    assert (calendar.start, calendar.end) == (time(0), END_OF_DAY)
    # Friday 23:00 CET + 2h: the weekend is closed, Monday opens at 00:00 -> Monday 01:00 CET.
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 1, 9, 23, 0, tzinfo=berlin)
    assert calendar.add(start, timedelta(hours=2)) == datetime(2026, 1, 12, 1, 0, tzinfo=berlin)


def test_default_calendar_used_for_unrouted_and_removed_teams() -> None:
    config = config_from_dict(
        base(
            timezone="America/New_York",
            business_hours={"start": "09:00", "end": "17:00", "holidays": "US"},
            teams=[team(business_hours=None)],
        )
    )

    for name in (None, "", "gone"):
        calendar = config.calendar_for(name)
        assert calendar is not None, name
        assert calendar.tz == ZoneInfo("America/New_York")
        assert (calendar.start, calendar.end) == (time(9), time(17))
        assert date(2026, 11, 26) in calendar.holidays  # Thanksgiving
    assert config.calendar_for("billing") is None  # explicit null: this team is 24/7


def test_team_omitting_business_hours_inherits_default_in_its_own_timezone() -> None:
    config = config_from_dict(
        base(
            timezone="Europe/Berlin",
            business_hours=WEEKDAYS_24H,
            teams=[
                team(),  # omitted: inherits, in the top-level timezone it also inherits
                team(name="tokyo", timezone="Asia/Tokyo"),  # omitted: inherits, read in Tokyo time
                team(name="night", business_hours=None),  # explicit null: 24/7
                team(name="office", business_hours={"start": "09:00", "end": "17:00"}),  # own block
            ],
        )
    )

    billing, tokyo, night, office = (config.calendar_for(t.name) for t in config.teams)

    assert billing is not None and billing.tz == ZoneInfo("Europe/Berlin")
    assert (billing.days, billing.start, billing.end) == (frozenset(range(5)), time(0), END_OF_DAY)
    assert tokyo is not None and tokyo.tz == ZoneInfo("Asia/Tokyo")
    assert (tokyo.start, tokyo.end) == (time(0), END_OF_DAY)
    assert night is None
    assert office is not None and (office.start, office.end) == (time(9), time(17))
    assert office.holidays == frozenset()  # an own block replaces the default whole: nothing merged
    assert config.teams[0].business_calendar() is not None  # what SlaService uses today agrees
    assert config.teams[2].business_hours is None


def test_team_inheriting_default_keeps_default_holidays() -> None:
    default = {"start": "09:00", "end": "17:00", "extra_holidays": ["2026-12-24"]}
    config = config_from_dict(base(business_hours=default, teams=[team()]))

    calendar = config.calendar_for("billing")

    assert calendar is not None and date(2026, 12, 24) in calendar.holidays


def test_calendar_for_team_name_is_case_insensitive() -> None:
    config = config_from_dict(base(teams=[team(business_hours={"start": "09:00", "end": "17:00"})]))

    assert config.calendar_for(" Billing ") is not None


def test_top_level_business_hours_from_yaml_file(tmp_path: Path) -> None:
    text = """\
timezone: Europe/London
alerts: {channel: C0ALERTS}
business_hours: {days: [mon, tue, wed, thu, fri], start: 00:00, end: 24:00, holidays: GB-ENG}
teams:
  - name: billing
  - name: vip
    business_hours: null
"""
    config = load_config(write(tmp_path, text))

    assert config.business_hours is not None
    assert (config.business_hours.start, config.business_hours.end) == (time(0), END_OF_DAY)
    assert config.calendar_for("billing") is not None
    assert config.calendar_for("vip") is None


@pytest.mark.parametrize(
    ("start", "end"),
    [("00:00", "24:00"), ("09:00", "24:00"), ("23:59", "24:00"), ("00:00", "23:59"), ("0:00", " 24:00 ")],
)
def test_business_hours_end_up_to_24_00_accepted(start: str, end: str) -> None:
    config = config_from_dict(hours(start=start, end=end))

    assert config.teams[0].business_calendar() is not None


def test_business_hours_end_24_00_stored_as_end_of_day() -> None:
    hours_config = config_from_dict(hours(start="00:00", end="24:00")).teams[0].business_hours

    assert hours_config is not None
    assert hours_config.end is END_OF_DAY
    assert f"{hours_config.end:%H:%M}" == "24:00"


def test_error_start_24_00_only_allowed_as_end() -> None:
    assert problems_of(hours(start="24:00", end="24:00")) == [
        'teams[0].business_hours.start: "24:00" is only allowed as an end time; use 00:00 to 23:59 here'
    ]


@pytest.mark.parametrize("end", ["24:01", "24:30"])
def test_error_end_past_24_00(end: str) -> None:
    assert problems_of(hours(end=end)) == [
        f'teams[0].business_hours.end: "{end}" is past the end of the day (the latest end is "24:00")'
    ]


def test_error_end_25_00_not_hhmm() -> None:
    assert problems_of(hours(end="25:00")) == ['teams[0].business_hours.end: "25:00" is not HH:MM']


def test_error_end_midnight_as_00_00_suggests_24_00() -> None:
    assert problems_of(hours(start="09:00", end="00:00")) == [
        'teams[0].business_hours.end: "00:00" must be after start "09:00" '
        '(same day, 24-hour clock; write "24:00" for midnight at the end of the day)'
    ]


def test_error_whole_day_written_00_00_to_00_00() -> None:
    assert problems_of(hours(start="00:00", end="00:00")) == [
        'teams[0].business_hours.end: "00:00" must be after start "00:00" '
        '(same day, 24-hour clock; write "24:00" for midnight at the end of the day)'
    ]


def test_error_top_level_business_hours_reported_once_at_its_path() -> None:
    data = base(business_hours={"start": "9am", "end": "24:00", "dayz": []}, teams=[team(), team(name="vip")])

    assert problems_of(data) == [
        'business_hours.start: "9am" is not HH:MM',
        'business_hours.dayz: unknown key (did you mean "days"?)',
    ]


def test_error_top_level_business_hours_end_before_start() -> None:
    assert problems_of(base(business_hours={"start": "17:00", "end": "09:00"})) == [
        'business_hours.end: "09:00" must be after start "17:00" (same day, 24-hour clock)'
    ]


def test_error_top_level_business_hours_not_a_mapping() -> None:
    assert problems_of(base(business_hours="24/5")) == [
        'business_hours: expected a mapping (key: value), got text "24/5"'
    ]


# --- YAML error messages ----------------------------------------------------------------------------------


def hours(**fields: Any) -> dict[str, Any]:
    return base(teams=[team(business_hours={"start": "09:00", "end": "17:00", **fields})])


def test_error_bad_hhmm() -> None:
    assert problems_of(hours(start="9am")) == ['teams[0].business_hours.start: "9am" is not HH:MM']


def test_error_end_before_start() -> None:
    assert problems_of(hours(start="17:00", end="09:00")) == [
        'teams[0].business_hours.end: "09:00" must be after start "17:00" (same day, 24-hour clock)'
    ]


def test_error_unknown_day() -> None:
    assert problems_of(hours(days=["mon", "funday"])) == [
        'teams[0].business_hours.days[1]: "funday" is not a day (use mon, tue, wed, thu, fri, sat, sun)'
    ]


def test_error_unknown_holiday_country() -> None:
    [problem] = problems_of(hours(holidays="XX"))

    assert problem.startswith('teams[0].business_hours.holidays: "XX" is not a supported holiday country (')
    assert "US-CA" in problem


def test_error_unknown_holiday_subdivision() -> None:
    [problem] = problems_of(hours(holidays="US-ZZ"))

    assert problem.startswith(
        'teams[0].business_hours.holidays: "US-ZZ": "ZZ" is not a holiday subdivision of US'
    )


def test_error_bad_extra_holiday_date() -> None:
    assert problems_of(hours(extra_holidays=["2025-13-01"])) == [
        'teams[0].business_hours.extra_holidays[0]: "2025-13-01" is not an ISO date (YYYY-MM-DD)'
    ]


def test_error_bad_timezone_with_hint() -> None:
    assert problems_of(base(timezone="Europe/Pari")) == [
        'timezone: "Europe/Pari" is not an IANA timezone like UTC, Europe/Paris or America/New_York '
        '(did you mean "Europe/Paris"?)'
    ]


def test_error_bad_team_timezone() -> None:
    [problem] = problems_of(base(teams=[team(timezone="Mars/Base")]))

    assert problem.startswith('teams[0].timezone: "Mars/Base" is not an IANA timezone')


def test_error_bad_duration() -> None:
    [problem] = problems_of(base(alerts={"channel": "C0ALERTS", "warn_before": ["30 minutes"]}))

    assert problem.startswith('alerts.warn_before[0]: "30 minutes" is not a duration')
    assert "30m" in problem


def test_error_duration_without_unit() -> None:
    [problem] = problems_of(base(schedule={"sync_interval": 60}))

    assert problem.startswith('schedule.sync_interval: "60" is not a duration: add a unit')


def test_error_zero_duration() -> None:
    [problem] = problems_of(base(sla={"intercom": {"next_reply": {"priority": "0m"}}}))

    assert problem.startswith('sla.intercom.next_reply.priority: "0m" is not a duration')
    assert "longer than zero" in problem


def test_error_bad_channel_id() -> None:
    assert problems_of({"alerts": {"channel": "alerts"}}) == [
        'alerts.channel: "alerts" is not a Slack channel id (like C0123ABCD or G0123ABCD)'
    ]


def test_error_channel_name_instead_of_id() -> None:
    [problem] = problems_of(base(teams=[team(channel="#billing")]))

    assert problem.startswith('teams[0].channel: "#billing" is a channel name, not a Slack channel id')


def test_error_bad_manager_id() -> None:
    [problem] = problems_of(base(teams=[team(managers=["U0OK", "bob"])]))

    assert problem.startswith('teams[0].managers[1]: "bob" is not a Slack user id')


def test_error_bad_team_name() -> None:
    [problem] = problems_of(base(teams=[team(name="Billing Team")]))

    assert problem.startswith('teams[0].name: "Billing Team" is not a team name (lowercase letters')


def test_error_bad_group_id() -> None:
    [problem] = problems_of(base(teams=[team(zendesk_group_ids=["Billing"])]))

    assert (
        problem
        == 'teams[0].zendesk_group_ids[0]: "Billing" is not a Zendesk group id (a number like 360001234567)'
    )


def test_error_duplicate_team_names() -> None:
    assert problems_of(base(teams=[team(), team()])) == [
        'teams[1].name: "billing" is already the name of teams[0]'
    ]


def test_error_duplicate_group_id_across_teams() -> None:
    data = base(teams=[team(zendesk_group_ids=[7]), team(name="tier2", zendesk_group_ids=["7"])])

    assert problems_of(data) == [
        'teams[1].zendesk_group_ids[0]: "7" already belongs to team "billing" (teams[0]); '
        "a Zendesk group may belong to only one team"
    ]


def test_error_duplicate_intercom_team_across_teams() -> None:
    data = base(teams=[team(intercom_team_ids=["77"]), team(name="tier2", intercom_team_ids=[77])])

    [problem] = problems_of(data)

    assert problem.startswith('teams[1].intercom_team_ids[0]: "77" already belongs to team "billing"')


def test_error_unknown_key_with_hint() -> None:
    assert problems_of({"alerts": {"channel": "C0ALERTS", "warn_befor": ["30m"]}}) == [
        'alerts.warn_befor: unknown key (did you mean "warn_before"?)'
    ]


def test_error_unknown_key_without_close_match_lists_allowed_keys() -> None:
    assert problems_of(base(redact={"addresses": True})) == [
        "redact.addresses: unknown key (expected one of: emails, phones)"
    ]


def test_error_missing_required_key() -> None:
    assert problems_of({"timezone": "UTC"}) == ["alerts: is required"]


def test_error_secret_in_yaml_never_echoes_value() -> None:
    problems = problems_of(
        base(teams=[team(zendesk_api_token="zd-very-secret")], slack={"bot_token": "xoxb-1"})
    )

    advice = "secrets belong in environment variables (e.g. ZENDESK_API_TOKEN), not in the YAML"
    assert problems == [f"teams[0].zendesk_api_token: {advice}", f"slack.bot_token: {advice}"]
    assert not any("very-secret" in p or "xoxb-1" in p for p in problems)


def test_errors_all_collected_in_one_pass() -> None:
    data = {
        "timezone": "Nowhere/Land",
        "alerts": {"channel": "C0ALERTS", "warn_before": ["soon"]},
        "teams": [
            team(business_hours={"start": "9am", "end": "17:00"}, zendesk_group_ids=[7]),
            team(zendesk_group_ids=[7]),
        ],
        "redact": {"emails": "maybe"},
    }

    problems = problems_of(data)

    assert [p.split(":")[0] for p in problems] == [
        "timezone",
        "alerts.warn_before[0]",
        "teams[0].business_hours.start",
        "redact.emails",
        "teams[1].name",
        "teams[1].zendesk_group_ids[0]",
    ]


def test_config_error_str_joins_problems() -> None:
    error = ConfigError(["a: one", "b: two"])

    assert str(error) == "a: one\nb: two"
    assert error.problems == ["a: one", "b: two"]


def test_error_top_level_not_mapping() -> None:
    assert problems_of(["alerts"]) == [
        "<dict>: the top level must be a mapping (timezone:, alerts:, teams:, ...), not a list"
    ]


def test_load_config_missing_file_names_path_env_var_and_example(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"

    with pytest.raises(ConfigError) as info:
        load_config(missing)

    [problem] = info.value.problems
    assert str(missing) in problem
    assert "not found" in problem
    assert "DESKWATCH_CONFIG" in problem
    assert "deskwatch.example.yaml" in problem


def test_load_config_broken_yaml_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "alerts:\n  channel: C0ALERTS\nteams: [billing\n")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    [problem] = info.value.problems
    assert problem.startswith(f"{path}: invalid YAML at line 4, column 1:")


def test_load_config_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "alerts:\n  channel: C0ALERTS\nalerts:\n  channel: C0OTHER\n")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert info.value.problems == [f"{path}: invalid YAML at line 3, column 1: duplicate key 'alerts'"]


def test_load_config_top_level_list(tmp_path: Path) -> None:
    path = write(tmp_path, "- alerts\n")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert info.value.problems == [
        f"{path}: the top level must be a mapping (timezone:, alerts:, teams:, ...), not a list"
    ]


def test_load_config_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is empty"):
        load_config(write(tmp_path, "# nothing yet\n"))


def test_load_config_validation_error_lines_have_yaml_paths(tmp_path: Path) -> None:
    text = SPEC_YAML.replace("business_hours: null ", 'business_hours: {start: "9am", end: "17:00"}')

    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))

    assert info.value.problems == ['teams[0].business_hours.start: "9am" is not HH:MM']


# --- environment ------------------------------------------------------------------------------------------


def test_settings_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.deskwatch_config == Path("deskwatch.yaml")
    assert settings.database_url == "sqlite:///deskwatch.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.slack_bot_token is None
    assert settings.zendesk_enabled is False
    assert settings.intercom_enabled is False
    assert settings_problems(settings) == []


def test_settings_env_names_map_to_fields(clean_env: pytest.MonkeyPatch) -> None:
    values = {
        "DESKWATCH_CONFIG": "/etc/deskwatch/config.yaml",
        "DATABASE_URL": "sqlite:////var/lib/deskwatch.db",
        "SLACK_BOT_TOKEN": "xoxb-bot",
        "SLACK_SIGNING_SECRET": "signing",
        "SLACK_APP_TOKEN": "xapp-app",
        "SLACK_API_URL": "http://127.0.0.1:8123/api/",
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": "agent@example.com",
        "ZENDESK_API_TOKEN": "zd-token",
        "ZENDESK_URL": "http://127.0.0.1:8025",
        "ZENDESK_WEBHOOK_SECRET": "zd-hook",
        "INTERCOM_ACCESS_TOKEN": "ic-token",
        "INTERCOM_CLIENT_SECRET": "ic-secret",
        "INTERCOM_URL": "http://127.0.0.1:8026",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)

    settings = load_settings()

    assert settings.deskwatch_config == Path("/etc/deskwatch/config.yaml")
    assert settings.database_url == "sqlite:////var/lib/deskwatch.db"
    secrets = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
        "SLACK_APP_TOKEN": settings.slack_app_token,
        "ZENDESK_API_TOKEN": settings.zendesk_api_token,
        "ZENDESK_WEBHOOK_SECRET": settings.zendesk_webhook_secret,
        "INTERCOM_ACCESS_TOKEN": settings.intercom_access_token,
        "INTERCOM_CLIENT_SECRET": settings.intercom_client_secret,
    }
    assert {name: secret.get_secret_value() for name, secret in secrets.items() if secret} == {
        name: values[name] for name in secrets
    }
    assert settings.slack_api_url == "http://127.0.0.1:8123/api/"
    assert settings.zendesk_subdomain == "acme"
    assert settings.zendesk_email == "agent@example.com"
    assert settings.zendesk_url == "http://127.0.0.1:8025"
    assert settings.intercom_url == "http://127.0.0.1:8026"
    assert settings.zendesk_enabled is True
    assert settings.intercom_enabled is True
    assert settings_problems(settings) == []


def test_settings_empty_env_var_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "")
    clean_env.setenv("ZENDESK_EMAIL", "")

    settings = load_settings()

    assert settings.database_url == "sqlite:///deskwatch.db"
    assert settings.zendesk_email is None
    assert settings_problems(settings) == []


def test_settings_overrides_beat_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SLACK_API_URL", "https://slack.com/api/")

    settings = load_settings(slack_api_url="http://127.0.0.1:9999/api")

    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:pw@db:5432/deskwatch", "postgresql+psycopg://u:pw@db:5432/deskwatch"),
        ("postgresql://u@db/deskwatch", "postgresql+psycopg://u@db/deskwatch"),
        ("postgresql+psycopg://u@db/deskwatch", "postgresql+psycopg://u@db/deskwatch"),
        ("sqlite:///deskwatch.db", "sqlite:///deskwatch.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_database_url_normalised(clean_env: pytest.MonkeyPatch, given: str, expected: str) -> None:
    clean_env.setenv("DATABASE_URL", given)

    assert load_settings().database_url == expected


def test_database_url_invalid_is_reported_without_echoing(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(database_url="not a url :pw")

    [problem] = info.value.problems
    assert problem.startswith("DATABASE_URL: is not a database URL")
    assert ":pw" not in problem


def test_slack_api_url_must_be_http(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(slack_api_url="ftp://example.com/api/")

    assert info.value.problems == ['SLACK_API_URL: "ftp://example.com/api/" is not an http(s) URL']


def test_zendesk_url_trailing_slash_stripped(clean_env: pytest.MonkeyPatch) -> None:
    assert load_settings(zendesk_url="http://127.0.0.1:8025/").zendesk_url == "http://127.0.0.1:8025"


def test_zendesk_url_with_api_v2_rejected(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ZENDESK_URL", "https://acme.zendesk.com/api/v2/")

    with pytest.raises(ConfigError) as info:
        load_settings()

    [problem] = info.value.problems
    assert problem.startswith(
        'ZENDESK_URL: "https://acme.zendesk.com/api/v2/" must be the base URL without /api/v2'
    )


def test_zendesk_subdomain_full_host_normalised(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings(zendesk_subdomain="https://Acme.zendesk.com/")

    assert settings.zendesk_subdomain == "acme"


def test_load_settings_unknown_override_rejected_with_hint(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(databse_url="sqlite://")

    assert info.value.problems == ['DATABSE_URL: not a Deskwatch setting (did you mean "DATABASE_URL"?)']


def test_zendesk_enabled_with_url_instead_of_subdomain(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings(
        zendesk_url="http://127.0.0.1:8025", zendesk_email="a@example.com", zendesk_api_token="t"
    )

    assert settings.zendesk_enabled is True


def test_settings_problems_partial_zendesk(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ZENDESK_EMAIL", "agent@example.com")

    settings = load_settings()

    assert settings.zendesk_enabled is False
    problems = settings_problems(settings)
    assert [p.split(" ")[0] for p in problems] == ["ZENDESK_SUBDOMAIN", "ZENDESK_API_TOKEN"]
    assert all("ZENDESK_EMAIL is set" in p for p in problems)


def test_settings_problems_partial_intercom(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("INTERCOM_CLIENT_SECRET", "ic-secret")

    problems = settings_problems(load_settings())

    assert len(problems) == 1
    assert problems[0].startswith("INTERCOM_ACCESS_TOKEN is not set but INTERCOM_CLIENT_SECRET is set")
    assert "ic-secret" not in problems[0]


def test_settings_problems_swapped_slack_tokens(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings(slack_bot_token="xapp-1", slack_app_token="xoxb-1")

    assert [p.split(" ")[0] for p in settings_problems(settings)] == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]


def test_secrets_never_in_repr_or_str(clean_env: pytest.MonkeyPatch) -> None:
    secrets = {
        "slack_bot_token": "xoxb-SECRET-1",
        "slack_signing_secret": "SECRET-2",
        "slack_app_token": "xapp-SECRET-3",
        "zendesk_api_token": "SECRET-4",
        "zendesk_webhook_secret": "SECRET-5",
        "intercom_access_token": "SECRET-6",
        "intercom_client_secret": "SECRET-7",
    }
    settings = load_settings(database_url="postgres://deskwatch:DBPASSWORD@db/deskwatch", **secrets)

    shown = repr(settings) + str(settings) + f"{settings}"
    assert "SECRET" not in shown
    assert "DBPASSWORD" not in shown
    assert (
        settings.slack_bot_token is not None
        and settings.slack_bot_token.get_secret_value() == "xoxb-SECRET-1"
    )


def test_settings_is_plain_constructor_too(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")

    settings = Settings()

    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-env"


def test_error_scalar_where_list_expected_suggests_list() -> None:
    assert problems_of({"alerts": {"channel": "C0ALERTS", "warn_before": "30m"}}) == [
        'alerts.warn_before: expected a list, got text "30m" (write [30m])'
    ]


def test_error_null_where_mapping_expected() -> None:
    assert problems_of({"alerts": None}) == ["alerts: expected a mapping (key: value), got null"]
