"""Secrets and card numbers never appear in logs, from structlog events or standard-library records."""

from __future__ import annotations

import json
import logging
import re

import pytest
import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.logs import NOISY_LOGGERS, REDACTED, configure_logging, secret_scrubber
from tests.conftest import SLACK_TOKEN
from tests.helpers.cards import longest_card_fragment, unescape


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


# --- one pipeline for structlog and the standard library ------------------------------------------------

CARD = "4012\u00a08888\u200b8888 1881"  # NBSP and a zero-width space between groups
CARD_DIGITS = "4012888888881881"


@pytest.fixture
def stdlib_logging():
    """configure_logging changes the root logger; give every test back the one it had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    library_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield root
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, library_level in library_levels.items():
        logging.getLogger(name).setLevel(library_level)


def visible_card_digits(output: str) -> int:
    """Longest run of the card's digits in `output` (escapes decoded), ignoring the emulator's random port."""
    text = re.sub(r"127\.0\.0\.1:\d+", "", output)
    return max(longest_card_fragment(view, CARD_DIGITS) for view in (text, unescape(text)))


def test_failing_sdk_request_is_logged_without_token_or_card(slack_emu, capsys, stdlib_logging):
    configure_logging(json_logs=True, level="DEBUG", secrets=[SLACK_TOKEN])
    client = WebClient(token=SLACK_TOKEN, base_url=slack_emu.api_url)
    text = f"refund card {CARD} please"

    try:  # a form body carrying the token: slack_sdk redacts only the Authorization header at DEBUG
        client.api_call("chat.postMessage", data={"token": SLACK_TOKEN, "channel": "C0NOWHERE", "text": text})
    except SlackApiError as exc:
        try:
            raise RuntimeError(f"could not deliver {text!r} with {SLACK_TOKEN}") from exc
        except RuntimeError:
            logging.getLogger("deskwatch.delivery").exception("delivery failed for %s", text)
    structlog.get_logger().error("post failed", text=text, token=SLACK_TOKEN, ts="1700000000.000100")

    raw = capsys.readouterr().err
    events = [json.loads(line) for line in raw.splitlines() if line.startswith("{")]
    err = json.dumps(events, ensure_ascii=False)  # JSON lines escape NBSP and bullets: check decoded text
    assert "Sending a request" in err and "channel_not_found" in err  # slack_sdk's own DEBUG lines
    assert "delivery failed for" in err and "could not deliver" in err and "post failed" in err
    assert SLACK_TOKEN not in err and REDACTED in err
    assert "[card •••• 1881]" in err and visible_card_digits(err) <= 4
    assert events[-1]["ts"] == "1700000000.000100"  # identifier fields keep their digits


def test_console_logs_scrub_exception_text(capsys, stdlib_logging):
    configure_logging(json_logs=False, level="INFO", secrets=["zd-token-123456"])
    try:
        raise ValueError(f"zendesk said no to zd-token-123456 for {CARD}")
    except ValueError:
        logging.getLogger("zenpy").error("sync failed", exc_info=True)
        structlog.get_logger().exception("sync failed again")

    err = capsys.readouterr().err
    assert err.count("ValueError: zendesk said no to [redacted] for [card •••• 1881]") == 2
    assert "zd-token-123456" not in err and visible_card_digits(err) <= 4


def test_configure_logging_twice_installs_one_handler(capsys, stdlib_logging):
    configure_logging(json_logs=True, level="INFO")
    configure_logging(json_logs=True, level="WARNING")
    logging.getLogger("apscheduler").warning("job missed")

    assert capsys.readouterr().err.count("job missed") == 1
    assert logging.getLogger("apscheduler").level == logging.WARNING


def test_scrubber_masks_cards_in_nested_fields_and_numbers():
    scrub = secret_scrubber(["xoxb-super-secret-token"])
    event = scrub(
        None,
        "info",
        {
            "event": f"card {CARD}",
            "payload": {"text": CARD, "ts": "1700000000.000100", "items": [CARD]},
            "number": int(CARD_DIGITS),
            "channel": "C0ALERTS",
            "token": "xoxb-super-secret-token",
            "count": 3,
        },
    )
    assert event["event"] == "card [card •••• 1881]" and event["number"] == "[card •••• 1881]"
    masked = "[card •••• 1881]"
    assert event["payload"] == {"text": masked, "ts": "1700000000.000100", "items": [masked]}
    assert event["count"] == 3 and event["channel"] == "C0ALERTS" and event["token"] == REDACTED
