from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.redact import RedactionPolicy, iban_valid, luhn_valid, redact, redact_escaped, redact_payload
from tests.helpers.cards import card_leaks_in_payload, card_texts, leaks_in_text, longest_card_fragment

ALL = RedactionPolicy(emails=True, phones=True)


# --- cards ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111", "[card •••• 1111]"),  # Visa, spaced
        ("4111-1111-1111-1111", "[card •••• 1111]"),  # dashed
        ("4111111111111111", "[card •••• 1111]"),  # plain
        ("4012888888881881", "[card •••• 1881]"),
        ("5555 5555 5555 4444", "[card •••• 4444]"),  # Mastercard
        ("2223 0031 2200 3222", "[card •••• 3222]"),  # Mastercard 2-series
        ("3782 822463 10005", "[card •••• 0005]"),  # Amex 15 digits, 4-6-5
        ("371449635398431", "[card •••• 8431]"),
        ("6011 1111 1111 1117", "[card •••• 1117]"),  # Discover
        ("4222222222222", "[card •••• 2222]"),  # 13-digit Visa
        ("4000 0000 0000 0000 006", "[card •••• 0006]"),  # 19 digits
        ("6222-0000-0000-0000-004", "[card •••• 0004]"),  # 19-digit UnionPay shape
        ("4111 1111-1111 1111", "[card •••• 1111]"),  # mixed separators
    ],
)
def test_redact_card_shapes_masked_to_last_four(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My card is 4111 1111 1111 1111, please refund.", "My card is [card •••• 1111], please refund."),
        ("(4111111111111111)", "([card •••• 1111])"),
        ("card:4111111111111111;", "card:[card •••• 1111];"),
        ('"5555555555554444"', '"[card •••• 4444]"'),
        ("Card 4111-1111-1111-1111.", "Card [card •••• 1111]."),
        ("ends\n4111 1111 1111 1111\nthanks", "ends\n[card •••• 1111]\nthanks"),
    ],
)
def test_redact_card_in_sentence_keeps_punctuation(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_multiple_cards_in_one_text() -> None:
    text = "old 4111 1111 1111 1111, new 5555-5555-5555-4444 and amex 378282246310005"
    assert redact(text) == "old [card •••• 1111], new [card •••• 4444] and amex [card •••• 0005]"


def test_redact_two_cards_in_one_run_masked_as_one() -> None:
    # One run of digit groups is masked whole: splitting it could show more than four digits of a card.
    assert redact("4111 1111 1111 1111 5555 5555 5555 4444") == "[card •••• 4444]"


def test_redact_card_joined_to_other_numbers_masks_the_whole_run() -> None:
    # The date's dashes and the spaces join everything into one run; leaking a card is worse than this.
    assert redact("due 2026-11-23 4111 1111 1111 1111 2 ok") == "due [card •••• 1111] ok"


def test_redact_order_number_in_front_does_not_leave_card_digits_visible() -> None:
    assert redact("Order 10005 5555 5555 5555 4444") == "Order [card •••• 4444]"


@pytest.mark.parametrize(
    "text",
    [
        "Order 1234567890123 shipped",  # 13-digit non-Luhn order number
        "ts=1732377600123",  # millisecond timestamp, non-Luhn
        "order 123456789012",  # 12 digits: shorter than any card
        "2026-11-23 16:39",
        "call 555 1234",
        "",
    ],
)
def test_redact_non_card_digits_untouched(text: str) -> None:
    assert redact(text) == text


def test_redact_plus_prefixed_number_with_luhn_valid_window_is_masked() -> None:
    # 4915112345678 passes Luhn: a leading + no longer protects it (a `+` is also how cards get glued).
    assert luhn_valid("4915112345678")
    assert redact("call +4915112345678") == "call +[card •••• 5678]"


def test_redact_card_after_country_code_masked_with_it() -> None:
    assert redact("+1 4111111111111111") == "+[card •••• 1111]"
    assert redact("+44 4111 1111 1111 1111 ok") == "+[card •••• 1111] ok"


def test_redact_card_after_closing_parenthesis_masked() -> None:
    assert redact("1)4111 1111 1111 1111") == "1)[card •••• 1111]"


# --- IBANs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE•• •••• 3000"),
        ("DE89370400440532013000", "DE•• •••• 3000"),
        ("GB29 NWBK 6016 1331 9268 19", "GB•• •••• 6819"),
        ("GB82WEST12345698765432", "GB•• •••• 5432"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR•• •••• 2606"),
        ("FR1420041010050500013M02606", "FR•• •••• 2606"),
        ("NL91ABNA0417164300", "NL•• •••• 4300"),
        ("BE68 5390 0754 7034", "BE•• •••• 7034"),
        ("de89 3704 0044 0532 0130 00", "DE•• •••• 3000"),
    ],
)
def test_redact_iban_keeps_country_and_last_four(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Please pay to IBAN DE89 3704 0044 0532 0130 00, thanks",
            "Please pay to IBAN DE•• •••• 3000, thanks",
        ),
        ("IBAN:GB82WEST12345698765432.", "IBAN:GB•• •••• 5432."),
        ("BE68 5390 0754 7034 then call", "BE•• •••• 7034 then call"),  # a following word is not absorbed
        (
            "old DE89370400440532013000 new GB29 NWBK 6016 1331 9268 19",
            "old DE•• •••• 3000 new GB•• •••• 6819",
        ),
        ("BE68 5390 0754 7034 BE68539007547034", "BE•• •••• 7034 BE•• •••• 7034"),
        ("ref AB12 DE89 3704 0044 0532 0130 00", "ref AB12 DE•• •••• 3000"),
    ],
)
def test_redact_iban_in_sentence(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "DE88 3704 0044 0532 0130 00",  # wrong check digits
        "DE88370400440532013000",
        "GB83WEST12345698765432",
        "XDE89370400440532013000",  # glued to a letter
    ],
)
def test_redact_invalid_iban_not_masked_as_iban(text: str) -> None:
    # Their long digit runs hold Luhn-valid windows, so they are masked as card numbers instead.
    assert "•• ••••" not in redact(text)


@pytest.mark.parametrize("text", ["XX12 abcd efgh", "AB12CD", "ES91 is the code for Spain today"])
def test_redact_iban_lookalikes_untouched(text: str) -> None:
    assert redact(text) == text


def test_redact_iban_digits_not_treated_as_card() -> None:
    # The BBAN digits alone would be scanned as a digit run; the IBAN is masked first, as an IBAN.
    assert redact("DE89 3704 0044 0532 0130 00") == "DE•• •••• 3000"


# --- emails ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reach me at jane.doe@example.com.", "reach me at [email]."),
        ("<john+billing@mail.example.co.uk>", "<[email]>"),
        ("a@b.io, c_d-e@sub-domain.example.org", "[email], [email]"),
    ],
)
def test_redact_emails_when_enabled(text: str, expected: str) -> None:
    assert redact(text, RedactionPolicy(emails=True)) == expected


def test_redact_emails_kept_by_default() -> None:
    assert redact("reach me at jane.doe@example.com") == "reach me at jane.doe@example.com"


def test_redact_not_an_email_untouched() -> None:
    assert (
        redact("ping @jane or user@localhost", RedactionPolicy(emails=True)) == "ping @jane or user@localhost"
    )


# --- phones ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +1 415-555-2671 now", "call [phone] now"),
        ("call +1 (415) 555-2671", "call [phone]"),
        ("(415) 555-2671", "[phone]"),
        ("415.555.2671", "[phone]"),
        ("+44 20 7946 0958", "[phone]"),
        ("020 7946 0958", "[phone]"),
        ("+49 (0)30 1234567", "[phone]"),
        ("+49 30 1234567", "[phone]"),
        ("07911123456", "[phone]"),
        ("+33 1 23 45 67 89.", "[phone]."),
        ("tel: 555-1234", "tel: [phone]"),
        ("me: +1 415 555 2671, office: 020 7946 0958", "me: [phone], office: [phone]"),
    ],
)
def test_redact_phones_when_enabled(text: str, expected: str) -> None:
    assert redact(text, RedactionPolicy(phones=True)) == expected


def test_redact_phones_kept_by_default() -> None:
    assert redact("call +1 415-555-2671") == "call +1 415-555-2671"


@pytest.mark.parametrize(
    "text",
    [
        "due 2026-11-23",
        "due 2026-11-23 16:39",
        "at 2026-11-23T16:39:05Z",
        "on 23.11.2026 and 11/23/2026",
        "on 23-11-2026",
        "between 09:00 and 17:30",
        "server 192.168.100.200",
        "pi is 3.14159265",
        "order 123456789012",  # bare digit run: an id, not a phone
        "555 12",
        "version 1.2.3",
        "£1,234,567.89",
    ],
)
def test_redact_phone_lookalikes_untouched(text: str) -> None:
    assert redact(text, RedactionPolicy(phones=True)) == text


def test_redact_phone_after_date_masks_only_phone() -> None:
    assert redact("on 2026-11-23 call 415 555 2671", ALL) == "on 2026-11-23 call [phone]"


def test_redact_phones_do_not_eat_masked_card() -> None:
    assert redact("card 4111 1111 1111 1111 then 555-1234", ALL) == "card [card •••• 1111] then [phone]"


def test_redact_phones_do_not_eat_masked_iban() -> None:
    assert redact("IBAN DE89 3704 0044 0532 0130 00", ALL) == "IBAN DE•• •••• 3000"


def test_redact_all_policies_together() -> None:
    text = (
        "From jane@example.com (+1 415-555-2671) on 2026-11-23: charge 4111-1111-1111-1111 "
        "to DE89370400440532013000, order 1234567890123."
    )
    assert redact(text, ALL) == (
        "From [email] ([phone]) on 2026-11-23: charge [card •••• 1111] "
        "to DE•• •••• 3000, order 1234567890123."
    )


# --- misc -----------------------------------------------------------------------------------------------


def test_redact_none_is_empty_string() -> None:
    assert redact(None) == ""
    assert redact(None, ALL) == ""


def test_redact_plain_text_unchanged() -> None:
    text = "Customer cannot log in since the update; ticket #4521 (priority high)."
    assert redact(text, ALL) == text


def test_redact_is_idempotent() -> None:
    text = "card 4111 1111 1111 1111, IBAN GB82WEST12345698765432, +44 20 7946 0958, a@b.io"
    once = redact(text, ALL)
    assert redact(once, ALL) == once


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("4111111111111111", True), ("79927398713", True), ("79927398710", False), ("0", True)],
)
def test_luhn_valid(digits: str, expected: bool) -> None:
    assert luhn_valid(digits) is expected


@pytest.mark.parametrize(
    ("iban", "expected"),
    [
        ("DE89370400440532013000", True),
        ("de89370400440532013000", True),
        ("DE88370400440532013000", False),
        ("DE8937040044", False),  # too short
        ("1289370400440532013000", False),
    ],
)
def test_iban_valid(iban: str, expected: bool) -> None:
    assert iban_valid(iban) is expected


# --- separators and glued prefixes ----------------------------------------------------------------------

CARD = "4111111111111111"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
SEPARATORS = [
    " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2007", "\u202f", "\u2000", "\u2005", "\u200a", "\u3000",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "-", "\u2010", "\u2013", "\u2014", "\u2212", "\uff0d",
    ".", "/", "\\", " - ", "\u00a0\u200b", "..", "--", " / ",
]  # fmt: skip


@pytest.mark.parametrize("sep", SEPARATORS)
def test_redact_card_split_by_any_separator(sep: str) -> None:
    text = "pay with " + sep.join(CARD[i : i + 4] for i in range(0, 16, 4)) + " today"
    assert redact(text) == "pay with [card •••• 1111] today"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card4111111111111111", "card[card •••• 1111]"),
        ("+4111 1111 1111 1111", "+[card •••• 1111]"),
        ("94111111111111111", "[card •••• 1111]"),  # a stray digit glued in front
        ("41111111111111112345", "[card •••• 1111]"),  # digits glued behind
        ("deadbeef4111111111111111cafe", "deadbeef[card •••• 1111]cafe"),
        ("4111 1111 1111 1111, 12/27", "[card •••• 1111], 12/27"),
        ("x\n4111\n1111\n1111\n1111\ny", "x\n[card •••• 1111]\ny"),  # newlines outside the run stay
        ("٤١١١١١١١١١١١١١١١", "[card •••• 1111]"),  # Arabic-Indic digits
    ],
)
def test_redact_card_glued_or_unusual(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_every_unicode_dash_and_space_joins_a_card() -> None:
    joiners = [
        c
        for c in map(chr, range(sys.maxunicode + 1))
        if unicodedata.category(c) in ("Pd", "Zs", "Zl", "Zp") or c in "\t\n\r\v\f" + ZERO_WIDTH
    ]
    leaked = [hex(ord(c)) for c in joiners if "4111" in redact(c.join(["4111", "1111", "1111", "1111"]))]
    assert leaked == []


@pytest.mark.parametrize("sep", ["\u00a0", "-", "\u2013", "\u200b", "\t", "  "])
def test_redact_iban_groups_joined_by_other_separators(sep: str) -> None:
    text = "IBAN " + sep.join(["DE89", "3704", "0044", "0532", "0130", "00"]) + "."
    assert redact(text) == "IBAN DE•• •••• 3000."


def test_redact_card_partly_inside_iban_lookalike_masked_whole() -> None:
    # Masking an IBAN-shaped prefix must not leave the rest of a card run visible.
    out = redact("AB12 4111 1111 1111 1111")
    assert leaks_in_text(out) == [] and "1111 1111" not in out


# --- properties -----------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(card_texts())
def test_redact_property_no_card_survives(sample: tuple[str, str]) -> None:
    text, card = sample
    out = redact(text)
    assert leaks_in_text(out) == []
    assert longest_card_fragment(out, card) <= 4


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(card_texts().map(lambda sample: sample[0]), st.text()))
def test_redact_property_idempotent(text: str) -> None:
    once = redact(text, ALL)
    assert redact(once, ALL) == once


@settings(max_examples=300, deadline=None, database=None)
@given(st.text().filter(lambda t: not any(c.isdecimal() for c in t)))
def test_redact_property_text_without_digits_unchanged(text: str) -> None:
    assert redact(text) == text


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_redact_property_masks_exactly_runs_with_a_luhn_window(digits: str) -> None:
    windows = [digits[i : i + n] for n in range(13, 20) for i in range(len(digits) - n + 1)]
    masked = redact(digits) != digits
    assert masked == any(luhn_valid(w) for w in windows)


# --- payloads -------------------------------------------------------------------------------------------


def test_redact_payload_masks_every_text_and_keeps_identifiers() -> None:
    button = {
        "type": "button",
        "action_id": "a",
        "value": "1700000000.000300",
        "text": {"type": "plain_text", "text": f"Refund {CARD}"},
    }
    payload = {
        "channel": "C0ALERTS",
        "ts": "1700000000.000100",
        "thread_ts": "1700000000.000200",
        "text": "card 4111 1111 1111 1111",
        "metadata": {"event_type": "deskwatch_sla_alert", "event_payload": {"alert_id": 4111111111111111}},
        "blocks": [
            {"type": "section", "block_id": "1700000000.000100", "text": {"type": "mrkdwn", "text": CARD}},
            {"type": "actions", "elements": [button]},
        ],
    }
    out = redact_payload(payload)
    assert card_leaks_in_payload(out) == []
    assert out["ts"] == "1700000000.000100" and out["thread_ts"] == "1700000000.000200"
    assert out["blocks"][0]["block_id"] == "1700000000.000100"
    assert out["blocks"][1]["elements"][0]["value"] == "1700000000.000300"
    assert out["metadata"] == payload["metadata"]
    assert out["blocks"][1]["elements"][0]["text"]["text"] == "Refund [card •••• 1111]"
    assert payload["text"] == "card 4111 1111 1111 1111"  # the caller's payload is not modified


def test_redact_payload_parses_json_strings_so_escapes_cannot_hide_a_card() -> None:
    blocks = '[{"type": "section", "text": {"type": "mrkdwn", "text": "4111\\u00a01111\\n1111 1111"}}]'
    out = redact_payload({"channel": "C1", "blocks": blocks})
    assert "4111" not in out["blocks"] and "[card •••• 1111]" in out["blocks"]
    assert redact_payload({"text": "[1, 2]"}) == {"text": "[1, 2]"}  # JSON-looking text is kept as written


def test_redact_payload_other_values() -> None:
    assert redact_payload(None) is None
    assert redact_payload({"n": 4111111111111111, "ok": True, "limit": 100, "x": None}) == {
        "n": "[card •••• 1111]",
        "ok": True,
        "limit": 100,
        "x": None,
    }
    assert redact_payload(("a", CARD)) == ["a", "[card •••• 1111]"]
    assert redact_payload({"text": "iban DE89370400440532013000"}, ALL) == {"text": "iban DE•• •••• 3000"}


def test_redact_escaped_masks_cards_spelled_with_escapes() -> None:
    logged = repr({"text": "card 4111\u00a01111\u200b1111\t1111!", "path": "C:\\new\\x1"})
    assert "\\xa0" in logged  # how an SDK's debug line shows the body
    assert redact_escaped(logged) == repr({"text": "card [card •••• 1111]!", "path": "C:\\new\\x1"})
    assert redact_escaped("plain 4111 1111 1111 1111") == "plain [card •••• 1111]"
    assert redact_escaped(None) == ""
