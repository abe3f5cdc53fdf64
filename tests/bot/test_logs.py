"""Secrets never appear in logs: the scrubber replaces configured secret values in every event."""

from __future__ import annotations

from bot.logs import REDACTED, secret_scrubber


def test_secret_values_are_replaced_wherever_they_appear():
    scrub = secret_scrubber(["xoxb-super-secret-token", "zd-token-123456"])

    event = scrub(
        None,
        "info",
        {"event": "calling https://x?token=xoxb-super-secret-token", "auth": "zd-token-123456", "count": 3},
    )

    assert "xoxb-super-secret-token" not in repr(event) and "zd-token-123456" not in repr(event)
    assert event["event"].endswith(REDACTED) and event["count"] == 3


def test_short_or_empty_secrets_do_not_blank_ordinary_words():
    scrub = secret_scrubber(["", "abc"])

    assert scrub(None, "info", {"event": "abc def"}) == {"event": "abc def"}
