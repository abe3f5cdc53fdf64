from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.text import (
    due_phrase,
    escape_mrkdwn,
    format_local,
    format_local_time,
    mrkdwn_link,
    mrkdwn_text,
    one_line,
    truncate,
    user_mention,
)

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # a Monday
BERLIN = ZoneInfo("Europe/Berlin")


def test_escape_mrkdwn_escapes_control_chars() -> None:
    assert escape_mrkdwn("a & <b> <!channel>") == "a &amp; &lt;b&gt; &lt;!channel&gt;"


def test_escape_mrkdwn_escapes_existing_entities_again() -> None:
    assert escape_mrkdwn("&amp;") == "&amp;amp;"


@pytest.mark.parametrize("limit", [1, 2, 5, 9, 10, 11, 100])
def test_truncate_never_exceeds_limit(limit: int) -> None:
    result = truncate("abcdefghij", limit)
    assert len(result) <= limit
    if limit >= 10:
        assert result == "abcdefghij"
    elif limit > 1:
        assert result == "abcdefghij"[: limit - 1] + "…"


@pytest.mark.parametrize("limit", [15, 20, 24, 30])
def test_truncate_never_cuts_a_digit_run_in_two(limit: int) -> None:
    """The boundary redacts after the renderers cut: half a card number could not be recognised."""
    text = "Refund for 4111 1111 1111 1111 please"
    assert truncate(text, limit) == "Refund for…"
    assert mrkdwn_text(text, limit) == "Refund for…"


def test_truncate_custom_ellipsis() -> None:
    assert truncate("abcdefghij", 6, ellipsis="...") == "abc..."


def test_truncate_rejects_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        truncate("abc", 0)


def test_mrkdwn_text_does_not_cut_entities() -> None:
    result = mrkdwn_text("&&&&&&&&&&", 12)
    assert len(result) <= 12
    assert result == "&amp;&amp;…"


def test_one_line_collapses_whitespace() -> None:
    assert one_line("  a\n\tb\r\n  c ") == "a b c"


def test_mrkdwn_link_escapes_url_and_label() -> None:
    assert mrkdwn_link("https://x.test/?a=1&b=|2", "zd:1<") == "<https://x.test/?a=1&amp;b=%7C2|zd:1&lt;>"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://x.test/a b", "", "https://x.test/" + "a" * 2000]
)
def test_mrkdwn_link_unusable_url_renders_label_only(url: str) -> None:
    assert mrkdwn_link(url, "zd:1") == "zd:1"


def test_user_mention_only_for_user_ids() -> None:
    assert user_mention("U123ABC") == "<@U123ABC>"
    assert user_mention("<!channel>") == "&lt;!channel&gt;"


def test_format_local_includes_date_time_and_zone() -> None:
    assert format_local(NOW + timedelta(minutes=5), BERLIN) == "Mon 23 Nov 14:05 CET"
    assert format_local(datetime(2026, 7, 3, 8, 0, tzinfo=UTC), BERLIN) == "Fri 3 Jul 10:00 CEST"


def test_format_local_time_converts_zone() -> None:
    assert format_local_time(NOW, ZoneInfo("America/New_York")) == "08:00 EST"


def test_format_local_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_local(datetime(2026, 11, 23, 13, 0), BERLIN)


@pytest.mark.parametrize(
    ("due_at", "expected"),
    [
        (NOW + timedelta(minutes=25), "due in 25m"),
        (NOW - timedelta(minutes=12), "breached 12m ago"),
        (NOW + timedelta(seconds=20), "due now"),
        (NOW, "breached just now"),
        (NOW - timedelta(seconds=20), "breached just now"),
        (NOW + timedelta(hours=2, minutes=5), "due in 2h 5m"),
    ],
)
def test_due_phrase(due_at: datetime, expected: str) -> None:
    assert due_phrase(due_at, NOW) == expected
