from __future__ import annotations

import pytest

from bot.domain.redact import RedactionPolicy, iban_valid, luhn_valid, redact

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


def test_redact_two_cards_separated_by_single_space() -> None:
    assert redact("4111 1111 1111 1111 5555 5555 5555 4444") == "[card •••• 1111] [card •••• 4444]"


def test_redact_card_next_to_other_numbers() -> None:
    assert redact("2026-11-23 4111 1111 1111 1111 2") == "2026-11-23 [card •••• 1111] 2"


@pytest.mark.parametrize(
    "text",
    [
        "Order 1234567890123 shipped",  # 13-digit non-Luhn order number
        "ts=1732377600123",  # millisecond timestamp, non-Luhn
        "4111 1111 1111 1112",  # one digit off
        "12345678901234567890123",  # longer than any card
        "41111111111111112345",  # a valid card inside a 20-digit run is not a card
        "x4111111111111111",  # glued to a word
        "4111111111111111abc",
        "deadbeef4111111111111111cafe",  # hex id
        "4111 1111  1111 1111",  # double space breaks the run into short pieces
        "4111.1111.1111.1111",  # dots are not card separators
        "call 555 1234",
        "",
    ],
)
def test_redact_non_card_digits_untouched(text: str) -> None:
    assert redact(text) == text


def test_redact_plus_prefixed_phone_not_mistaken_for_card() -> None:
    # 4915112345678 passes Luhn, but a leading + and at most 15 digits (E.164) make it a phone number.
    assert luhn_valid("4915112345678")
    assert redact("call +4915112345678") == "call +4915112345678"
    assert redact("call +49 151 1234 5678 90") == "call +49 151 1234 5678 90"


def test_redact_card_after_country_code_still_masked() -> None:
    assert redact("+1 4111111111111111") == "+1 [card •••• 1111]"
    assert redact("+44 4111 1111 1111 1111 ok") == "+44 [card •••• 1111] ok"


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
        "XX12 abcd efgh",
        "AB12CD",
        "XDE89370400440532013000",  # glued to a letter
    ],
)
def test_redact_invalid_iban_untouched(text: str) -> None:
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
        ("+4915112345678", "[phone]"),
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
