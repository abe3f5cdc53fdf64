from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.digest import MESSAGE_TEXT_BUDGET, digest_blocks, digest_text, freshness, title
from bot.blocks.digest_details import digest_details_modal
from bot.blocks.ids import DigestActions, DigestBlocks, DigestViews
from bot.blocks.metadata import DigestButtonValue, InvalidButtonValue
from bot.domain.digest import (
    AGE_1_TO_3D,
    AGE_OVER_3D,
    AGE_UNDER_1D,
    DigestFigures,
    EscalationFigures,
    SpeedFigures,
    TagMovers,
    TagTrend,
    TierFigures,
    Trend,
)
from bot.domain.digest_view import BreachLine, DigestKind, DigestView
from integrations.emulators.blockkit import validate_blocks, validate_view

# Mon 30 Nov 2026 in Berlin (CET, UTC+1): the window is the local day.
START = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
END = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
GENERATED = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
NARRATIVE = ("Backlog grew 18 % to 142.", "9 of 12 breaches were Urgent.", "refund_request doubled to 24.")
HOSTILE = "<!channel> & <@U999> *bold* 4111111111111111 " * 20


def full_figures() -> DigestFigures:
    return DigestFigures(
        new=Trend(142, 120),
        solved=Trend(130, 125),
        reopened=Trend(4, 0),
        backlog=Trend(142, 120),
        backlog_ages={AGE_UNDER_1D: 80, AGE_1_TO_3D: 40, AGE_OVER_3D: 22},
        by_channel={"email": 80, "chat": 50, "web": 10, "api": 2},
        sla_attainment={"total_resolution_time": Trend(88.0, 90.0), "first_reply_time": Trend(93.5, 91.4)},
        breaches=Trend(12, 8),
        breaches_by_priority={"urgent": 9, "high": 3},
        at_risk=3,
        first_reply=SpeedFigures(
            Trend(timedelta(hours=2, minutes=5), timedelta(hours=2, minutes=20)),
            Trend(timedelta(hours=6), None),
            120,
        ),
        resolution=SpeedFigures(
            Trend(timedelta(days=1, hours=2), timedelta(days=1)),
            Trend(timedelta(days=3), timedelta(days=3)),
            100,
        ),
        csat=Trend(93.5, 91.4),
        csat_responses=48,
        one_touch=Trend(61.0, 60.0),
        qa_average=Trend(86.0, 84.0),
        qa_pass_rate=Trend(90.0, 95.0),
        qa_reviews=12,
        escalations=EscalationFigures(
            opened=Trend(5, 3),
            accepted=Trend(4, 3),
            still_open=1,
            median_time_to_accept=Trend(timedelta(minutes=12), timedelta(minutes=20)),
            tiers=(TierFigures("T2", 4, 3, 1, timedelta(minutes=12)), TierFigures("Engineering", 1, 1, 0)),
        ),
        tags=TagMovers(
            top=(TagTrend("refund_request", Trend(24, 12)), TagTrend("login", Trend(10, 11))),
            biggest_mover=TagTrend("refund_request", Trend(24, 12)),
        ),
    )


def make_view(**changes: Any) -> DigestView:
    view = DigestView(
        team="Billing",
        schedule="daily",
        kind=DigestKind.DAILY,
        start=START,
        end=END,
        timezone="Europe/Berlin",
        figures=full_figures(),
        narrative=NARRATIVE,
        worst_breaches=(
            BreachLine(
                "zd:101",
                "https://acme.zendesk.com/agent/tickets/101",
                "first_reply_time",
                END,
                7500,
                "urgent",
                "Refund",
            ),
            BreachLine("ic:7", "https://app.intercom.com/a/inbox/x/7", "total_resolution_time", END, None),
        ),
        synced_at=GENERATED - timedelta(minutes=2, seconds=10),
        generated_at=GENERATED,
        definitions_url="https://docs.example.com/deskwatch/digest",
        business_hours=True,
    )
    return dataclasses.replace(view, **changes)


def empty_view() -> DigestView:
    figures = DigestFigures(new=Trend(None), solved=Trend(None), reopened=Trend(None), backlog=Trend(None))
    return make_view(
        figures=figures, worst_breaches=(), synced_at=None, definitions_url="", business_hours=False
    )


def huge_view() -> DigestView:
    long = "x" * 500
    figures = dataclasses.replace(
        full_figures(),
        by_channel={f"channel-{n}-{long}": 1000 - n for n in range(30)},
        sla_attainment={f"metric_{n}_{long}": Trend(90.0 + n / 10, 89.0) for n in range(15)},
        breaches_by_priority={f"prio{n}{long}": n + 1 for n in range(20)},
        escalations=EscalationFigures(
            opened=Trend(500, 400),
            accepted=Trend(400, 300),
            still_open=100,
            tiers=tuple(
                TierFigures(f"Tier {n} {HOSTILE}", 10, 5, 5, timedelta(minutes=n)) for n in range(40)
            ),
        ),
        tags=TagMovers(
            top=tuple(TagTrend(f"tag{n}-{HOSTILE}", Trend(1000 - n, 900)) for n in range(200)),
            biggest_mover=TagTrend(f"mover-{HOSTILE}", Trend(5000, 1)),
        ),
    )
    breaches = tuple(
        BreachLine(
            f"zd:{n}",
            f"https://acme.zendesk.com/agent/tickets/{n}?{'q' * 200}",
            "first_reply_time",
            END,
            3600 * n,
            HOSTILE,
            HOSTILE,
        )
        for n in range(1, 51)
    )
    narrative = (HOSTILE * 5, HOSTILE, HOSTILE)
    return make_view(
        team=f"Billing {HOSTILE}"[:180], figures=figures, worst_breaches=breaches, narrative=narrative
    )


def texts(blocks: list[dict[str, Any]], kinds: tuple[str, ...] = ("mrkdwn", "plain_text")) -> list[str]:
    out: list[str] = []
    for b in blocks:
        objects = [b["text"]] if "text" in b else []
        objects += b.get("fields", []) + [e for e in b.get("elements", []) if "text" in e]
        out += [o["text"] for o in objects if isinstance(o.get("text"), str) and o["type"] in kinds]
    return out


def block(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == block_id)


def fields(blocks: list[dict[str, Any]], block_id: str) -> list[str]:
    return [f["text"] for f in block(blocks, block_id)["fields"]]


VIEWS = {"full": make_view, "empty": empty_view, "huge": huge_view}


@pytest.mark.parametrize("name", list(VIEWS))
def test_message_passes_block_kit_validation(name: str, assert_valid_blocks: Any) -> None:
    view = VIEWS[name]()
    blocks = digest_blocks(view)
    assert validate_blocks(blocks, surface="message") == []
    assert_valid_blocks(digest_text(view), blocks)
    assert sum(len(t) for t in texts(blocks)) < MESSAGE_TEXT_BUDGET


@pytest.mark.parametrize("name", list(VIEWS))
def test_modal_passes_block_kit_validation(name: str, assert_safe_text: Any) -> None:
    modal = digest_details_modal(VIEWS[name]())
    assert validate_view(modal) == []
    assert modal["type"] == "modal" and modal["callback_id"] == DigestViews.DETAILS
    assert len(modal["title"]["text"]) <= 24 and modal["close"]["text"] == "Close"
    assert "submit" not in modal
    assert len(modal["blocks"]) <= 100
    for text in texts(modal["blocks"], ("mrkdwn",)):
        assert_safe_text(text)


def test_header_names_team_kind_and_local_day() -> None:
    blocks = digest_blocks(make_view())
    assert block(blocks, DigestBlocks.HEADER)["text"]["text"] == "Billing · Daily standup · Mon 30 Nov"


def test_weekly_header_shows_local_date_range() -> None:
    start = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Mon 23 Nov 00:00 CET
    view = make_view(kind=DigestKind.WEEKLY, schedule="weekly", start=start, end=start + timedelta(days=7))
    assert title(view) == "Billing · Weekly report · 23–29 Nov"
    across = make_view(kind=DigestKind.WEEKLY, start=START, end=START + timedelta(days=7))
    assert title(across) == "Billing · Weekly report · 30 Nov – 6 Dec"
    new_year = datetime(2026, 12, 27, 23, 0, tzinfo=UTC)
    years = make_view(kind=DigestKind.WEEKLY, start=new_year, end=new_year + timedelta(days=7))
    assert title(years) == "Billing · Weekly report · 28 Dec 2026 – 3 Jan 2027"


def test_header_of_a_long_team_name_stays_within_150() -> None:
    header = title(make_view(team="B" * 400))
    assert len(header) <= 150 and header.endswith(" · Daily standup · Mon 30 Nov")


def test_narrative_is_its_own_section() -> None:
    text = block(digest_blocks(make_view()), DigestBlocks.NARRATIVE)["text"]["text"]
    assert text == " ".join(NARRATIVE)


def test_volume_fields_show_trends_ages_and_channels() -> None:
    volume = fields(digest_blocks(make_view()), DigestBlocks.VOLUME)
    assert "*New*\n142 ↑ 22 (+18 %)" in volume
    assert "*Reopened*\n4 ↑ 4" in volume
    assert "*Backlog age*\n&lt;1d 80 · 1–3d 40 · &gt;3d 22" in volume
    assert "*By channel*\nemail 80 · chat 50 · web 10 · api 2" in volume


def test_sla_fields_show_attainment_in_points_breaches_and_at_risk() -> None:
    blocks = digest_blocks(make_view())
    sla = fields(blocks, DigestBlocks.SLA)
    assert sla[0] == "*First reply*\n93.5 % ↑ 2.1 pp"  # Metric order, not the mapping's
    assert sla[1] == "*Total resolution*\n88 % ↓ 2 pp"
    assert "*Breaches*\n12 ↑ 4 (+50 %)\nUrgent 9 · High 3" in sla
    assert "*At risk now*\n3" in sla
    worst = block(blocks, DigestBlocks.BREACHES)["text"]["text"]
    assert "• <https://acme.zendesk.com/agent/tickets/101|zd:101> First reply · Urgent · 2h 5m late" in worst
    assert "• <https://app.intercom.com/a/inbox/x/7|ic:7> Total resolution · breached" in worst


def test_speed_is_marked_business_hours() -> None:
    blocks = digest_blocks(make_view())
    assert block(blocks, DigestBlocks.SPEED)["text"]["text"] == "*🏃 Speed (business hours)*"
    speed = fields(blocks, DigestBlocks.SPEED)
    assert speed[0] == "*First reply*\nmedian 2h 5m ↓ 15m (-11 %)\np90 6h → n/a\n120 tickets"
    plain = digest_blocks(make_view(business_hours=False))
    assert block(plain, DigestBlocks.SPEED)["text"]["text"] == "*🏃 Speed*"


def test_quality_and_escalations() -> None:
    blocks = digest_blocks(make_view())
    quality = fields(blocks, DigestBlocks.QUALITY)
    assert quality[0] == "*CSAT*\n93.5 % ↑ 2.1 pp\n48 responses"
    assert quality[2] == "*QA*\naverage 86 % ↑ 2 pp\npass rate 90 % ↓ 5 pp\n12 reviews"
    escalations = fields(blocks, DigestBlocks.ESCALATIONS)
    assert "*Median time to accept*\n12m ↓ 8m (-40 %)" in escalations
    assert (
        "*By tier*\nT2: 4 opened, 3 accepted, 1 open\nEngineering: 1 opened, 1 accepted, 0 open"
        in escalations
    )


def test_contact_drivers_list_top_tags_and_mover() -> None:
    text = block(digest_blocks(make_view()), DigestBlocks.DRIVERS)["text"]["text"]
    assert "• refund_request 24 ↑ 12 (+100 %)" in text
    assert "• login 10 ↓ 1 (-9 %)" in text
    assert "Biggest mover: refund_request 24 ↑ 12 (+100 %)" in text


def test_missing_sections_say_no_data_or_none() -> None:
    view = empty_view()
    blocks = digest_blocks(view)
    for block_id in (DigestBlocks.VOLUME, DigestBlocks.SLA, DigestBlocks.SPEED, DigestBlocks.QUALITY):
        assert block(blocks, block_id)["text"]["text"].endswith("\n_no data_"), block_id
    assert fields(blocks, DigestBlocks.ESCALATIONS) == ["*Escalations*\nno escalations"]
    assert block(blocks, DigestBlocks.DRIVERS)["text"]["text"].endswith("_no data_")
    assert all(b.get("block_id") != DigestBlocks.BREACHES for b in blocks)
    no_qa = digest_blocks(
        make_view(figures=dataclasses.replace(full_figures(), qa_average=None, qa_pass_rate=None))
    )
    assert "*QA*\nno QA reviews" in fields(no_qa, DigestBlocks.QUALITY)


def test_zero_counts_are_shown_not_hidden() -> None:
    zeros = DigestFigures(new=Trend(0, 0), solved=Trend(0, 0), reopened=Trend(0, 0), backlog=Trend(0, 3))
    volume = fields(digest_blocks(make_view(figures=zeros)), DigestBlocks.VOLUME)
    assert "*New*\n0 → ±0" in volume and "*Backlog*\n0 ↓ 3 (-100 %)" in volume


def test_footer_links_definitions_and_states_freshness() -> None:
    footer = block(digest_blocks(make_view()), DigestBlocks.FOOTER)["elements"]
    assert footer[0]["text"] == "<https://docs.example.com/deskwatch/digest|How these are counted>"
    assert footer[1]["text"] == "Mon 30 Nov 00:00 CET – Tue 1 Dec 00:00 CET"
    assert footer[2]["text"] == "data synced 2 min ago"
    empty = block(digest_blocks(empty_view()), DigestBlocks.FOOTER)["elements"]
    assert [e["text"] for e in empty][-1] == "data never synced"
    assert len(empty) == 2  # no definitions link without a URL


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(seconds=20), "data synced just now"),
        (timedelta(seconds=-30), "data synced just now"),
        (timedelta(minutes=59, seconds=59), "data synced 59 min ago"),
        (timedelta(hours=3, minutes=5), "data synced 3h 5m ago"),
        (timedelta(days=2, hours=1), "data synced 2d 1h ago"),
    ],
)
def test_freshness_against_generated_at(age: timedelta, expected: str) -> None:
    assert freshness(make_view(synced_at=GENERATED - age)) == expected


def test_freshness_without_generated_at_gives_the_sync_time() -> None:
    assert freshness(make_view(generated_at=None)) == "data synced Tue 1 Dec 07:57 CET"


def test_details_button_value_round_trips() -> None:
    view = make_view()
    actions = block(digest_blocks(view), DigestBlocks.ACTIONS)["elements"]
    assert len(actions) == 1
    details = actions[0]
    assert details["action_id"] == DigestActions.DETAILS == "digest_details"
    assert details["text"]["text"] == "Details"
    value = DigestButtonValue.decode(details["value"])
    assert value == DigestButtonValue(team="Billing", schedule="daily", start=START, end=END)
    assert json.loads(details["value"]) == {
        "v": 1,
        "team": "Billing",
        "schedule": "daily",
        "start": "2026-11-29T23:00:00Z",
        "end": "2026-11-30T23:00:00Z",
    }
    modal = digest_details_modal(view)
    assert DigestButtonValue.decode(modal["private_metadata"]) == value


def test_details_button_value_of_the_longest_names_fits() -> None:
    value = DigestButtonValue(team='"\\' * 100, schedule="é" * 200, start=START, end=END).encode()
    assert len(value) <= 2000


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{}",
        '{"v":1,"team":"B","schedule":"d","start":"2026-11-30T00:00:00","end":"2026-12-01T00:00:00"}',
        '{"v":1,"team":"B","schedule":"d","start":"2026-12-01T00:00:00Z","end":"2026-11-30T00:00:00Z"}',
        '{"v":2,"team":"B","schedule":"d","start":"2026-11-30T00:00:00Z","end":"2026-12-01T00:00:00Z"}',
        '{"v":1,"team":"B\\n","schedule":"d","start":"2026-11-30T00:00:00Z","end":"2026-12-01T00:00:00Z"}',
    ],
)
def test_details_button_value_refuses_anything_else(raw: str) -> None:
    # empty, no fields, naive times, a backwards window, an unknown version, a control character
    with pytest.raises(InvalidButtonValue):
        DigestButtonValue.decode(raw)


def test_huge_view_is_cut_by_whole_lines() -> None:
    view = huge_view()
    blocks = digest_blocks(view)
    assert len(fields(blocks, DigestBlocks.SLA)) <= 10
    assert "*More metrics*\nand 9 more (see Details)" in fields(blocks, DigestBlocks.SLA)
    channels = next(f for f in fields(blocks, DigestBlocks.VOLUME) if f.startswith("*By channel*"))
    assert channels.endswith(" · and 25 more")
    worst = block(blocks, DigestBlocks.BREACHES)["text"]["text"]
    assert worst.count("\n• ") == 5  # the worst five only
    drivers = block(blocks, DigestBlocks.DRIVERS)["text"]["text"]
    assert drivers.count("\n• ") == 5
    tiers = next(f for f in fields(blocks, DigestBlocks.ESCALATIONS) if f.startswith("*By tier*"))
    assert tiers.endswith("\nand 35 more")
    for text in texts(blocks, ("mrkdwn",)):
        assert "41111111…" not in text  # never cut inside a digit run
        assert "<!channel>" not in text and "<@U999>" not in text


def test_long_breach_urls_show_the_ref_unlinked() -> None:
    long = BreachLine("zd:9", "https://x.example/" + "a" * 400, "first_reply_time", END, 60)
    worst = block(digest_blocks(make_view(worst_breaches=(long,))), DigestBlocks.BREACHES)["text"]["text"]
    assert worst == "*Worst breaches*\n• zd:9 First reply · 1m late"


def test_modal_lists_every_table() -> None:
    modal = digest_details_modal(make_view())
    body = "\n".join(texts(modal["blocks"]))
    assert "• First reply: 93.5 % ↑ 2.1 pp" in body
    assert "• Urgent: 9" in body and "*At risk now:* 3" in body
    assert "• api: 2" in body
    assert "• T2: 4 opened · 3 accepted · 1 still open · median accept 12m" in body
    assert "• Engineering: 1 opened · 1 accepted · 0 still open · median accept no data" in body
    assert "First reply · Urgent · 2h 5m late · Refund" in body
    assert "• Full resolution: median 1d 2h ↑ 2h (+8 %) · p90 3d → ±0 · 100 tickets" in body
    assert "*🏃 Speed* (business hours)" in body


def test_modal_of_huge_view_shows_all_tags_channels_tiers_and_breaches() -> None:
    modal = digest_details_modal(huge_view())
    body = "\n".join(texts(modal["blocks"]))
    assert body.count("• tag") == 200
    assert body.count("• channel-") == 30
    assert body.count("• Tier ") == 40
    assert body.count("• zd:") + body.count("• <https://acme") == 50
    assert len(modal["blocks"]) <= 100


def test_empty_modal_says_no_data() -> None:
    body = "\n".join(texts(digest_details_modal(empty_view())["blocks"]))
    assert "no escalations" in body and "• QA: no QA reviews" in body
    assert "*Breaches*\nno data" in body and "*🏷 Contact drivers*\nno data" in body


def test_plain_text_has_narrative_and_figures_without_link_markup() -> None:
    text = digest_text(make_view())
    lines = text.splitlines()
    assert lines[0] == "Billing · Daily standup · Mon 30 Nov"
    assert lines[1] == " ".join(NARRATIVE)
    assert "  New: 142 ↑ 22 (+18 %)" in lines
    assert "  Backlog age: &lt;1d 80 · 1–3d 40 · &gt;3d 22" in lines
    assert "  First reply: 93.5 % ↑ 2.1 pp" in lines
    assert (
        "  • zd:101 (https://acme.zendesk.com/agent/tickets/101) First reply · Urgent · 2h 5m late" in lines
    )
    assert "  First reply: median 2h 5m ↓ 15m (-11 %); p90 6h → n/a; 120 tickets" in lines
    assert "Speed (business hours)" in lines
    assert "  Escalations: no escalations" not in lines
    assert "How these are counted: https://docs.example.com/deskwatch/digest" in lines
    assert lines[-1] == "Mon 30 Nov 00:00 CET – Tue 1 Dec 00:00 CET · data synced 2 min ago"
    assert "<http" not in text


def test_plain_text_raw_mode_is_unescaped() -> None:
    text = digest_text(make_view(), escape=False)
    assert "  Backlog age: <1d 80 · 1–3d 40 · >3d 22" in text.splitlines()


def test_plain_text_of_empty_view_says_no_data() -> None:
    text = digest_text(empty_view())
    assert "Volume\n  no data" in text
    assert "Escalations\n  Escalations: no escalations" in text
    assert "Contact drivers\n  no data" in text
    assert text.endswith("data never synced")


def test_naive_window_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        digest_blocks(make_view(start=START.replace(tzinfo=None)))


def test_ids_are_unique_and_short() -> None:
    values = [str(m) for enum in (DigestActions, DigestBlocks, DigestViews) for m in enum]
    assert len(values) == len(set(values)) and all(0 < len(v) <= 255 for v in values)
