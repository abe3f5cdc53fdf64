"""The one redaction pass for helpdesk text shown in Slack (subjects, excerpts, notes).

Payment data is always masked: Luhn-valid card numbers become `[card •••• 1111]` and mod-97-valid IBANs
`DE•• •••• 3000`. Emails and phone numbers are masked only when the team's policy asks for it.
Detection is deliberately checksum-driven so order numbers, timestamps and dates stay readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "••••"

# A run of digit groups joined by single spaces or dashes, never starting or ending inside a longer
# alphanumeric token; possessive quantifiers take the run whole, and it is then split only at separators.
# A run opened by `+` is an international phone number when it has at most 15 digits (E.164): left alone.
_DIGIT_RUN_RE = re.compile(r"(?<![0-9A-Za-z+])\+?[0-9]++(?:[ -][0-9]++)*+(?![0-9A-Za-z])")
_E164_MAX_DIGITS = 15
_DIGIT_GROUP_RE = re.compile(r"[0-9]+")
_CARD_MIN_DIGITS, _CARD_MAX_DIGITS = 13, 19

# Country code, check digits, then BBAN characters either continuous or in space-separated groups of 4.
_IBAN_RE = re.compile(
    r"(?<![0-9A-Za-z])[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]{4})*+(?: ?[A-Za-z0-9]{1,3})?+(?![0-9A-Za-z])"
)
_IBAN_MIN_LENGTH, _IBAN_MAX_LENGTH = 15, 34

_EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

# Things that look like digits-with-separators but are not phone numbers; hidden before phone matching.
_NOT_PHONE_RE = re.compile(
    r"(?<![0-9.])(?:"
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"  # ISO date (and time)
    r"|[0-9]{1,2}[./-][0-9]{1,2}[./-][0-9]{4}"  # 23.11.2026, 11/23/2026, 23-11-2026
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"  # 16:39, 16:39:05
    r"|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"  # IPv4 address
    r"|[0-9]+\.[0-9]+(?![.0-9])"  # a decimal number
    r")(?![0-9])"
)
# Optional +, then digits and parenthesised groups joined by at most one space, dot or dash.
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+ ?)?(?:\([0-9]{1,5}\) ?|[0-9])(?:[ .-]?(?:\([0-9]{1,5}\) ?|[0-9]))*(?![\w])"
)
_PHONE_MIN_DIGITS, _PHONE_MAX_DIGITS = 7, 15


@dataclass(frozen=True)
class RedactionPolicy:
    """What to mask beyond payment data, per team."""

    emails: bool = False
    phones: bool = False


def redact(text: str | None, policy: RedactionPolicy = RedactionPolicy()) -> str:
    """Mask payment data always, and emails / phone numbers when the policy says so. None becomes ""."""
    if not text:
        return ""
    if policy.emails:
        text = _EMAIL_RE.sub("[email]", text)
    text = _IBAN_RE.sub(_mask_iban_candidate, text)
    text = _DIGIT_RUN_RE.sub(_mask_cards_in_run, text)
    if policy.phones:
        text = _mask_phones(text)
    return text


def luhn_valid(digits: str) -> bool:
    """Luhn checksum over a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN without spaces."""
    candidate = iban.upper()
    if not _IBAN_MIN_LENGTH <= len(candidate) <= _IBAN_MAX_LENGTH or not candidate.isalnum():
        return False
    if not (candidate[:2].isalpha() and candidate[2:4].isdigit()):
        return False
    rearranged = candidate[4:] + candidate[:4]
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return int(numeric) % 97 == 1


def _mask_cards_in_run(match: re.Match[str]) -> str:
    """Mask card numbers inside one digit run, cutting only at separators (leftmost, then longest)."""
    run = match.group(0)
    groups = [(g.start(), g.end(), g.group(0)) for g in _DIGIT_GROUP_RE.finditer(run)]
    first = 0
    if run.startswith("+"):
        if sum(len(group[2]) for group in groups) <= _E164_MAX_DIGITS:
            return run
        first = 1  # the country code is never the start of a card number
    pieces: list[str] = []
    emitted_to = 0
    while first < len(groups):
        found = _longest_card_from(groups, first)
        if found is None:
            first += 1
            continue
        begin, end = groups[first][0], groups[found][1]
        digits = "".join(group[2] for group in groups[first : found + 1])
        pieces.append(run[emitted_to:begin])
        pieces.append(f"[card {MASK} {digits[-4:]}]")
        emitted_to = end
        first = found + 1
    pieces.append(run[emitted_to:])
    return "".join(pieces)


def _longest_card_from(groups: list[tuple[int, int, str]], first: int) -> int | None:
    """Index of the last group of the longest Luhn-valid 13-19 digit card starting at `first`, if any."""
    best = None
    count = 0
    for last in range(first, len(groups)):
        count += len(groups[last][2])
        if count > _CARD_MAX_DIGITS:
            break
        if count >= _CARD_MIN_DIGITS and luhn_valid("".join(g[2] for g in groups[first : last + 1])):
            best = last
    return best


def _mask_iban_candidate(match: re.Match[str]) -> str:
    """Mask valid IBANs among the candidate's space-separated words (the regex may absorb following words)."""
    parts = match.group(0).split(" ")
    out: list[str] = []
    index = 0
    while index < len(parts):
        end = _longest_iban_from(parts, index)
        if end is None:
            out.append(parts[index])
            index += 1
            continue
        compact = "".join(parts[index:end])
        out.append(f"{compact[:2].upper()}•• {MASK} {compact[-4:]}")
        index = end
    return " ".join(out)


def _longest_iban_from(parts: list[str], first: int) -> int | None:
    """Exclusive end index of the longest valid IBAN made of parts[first:end], if any."""
    best = None
    length = 0
    for end in range(first + 1, len(parts) + 1):
        length += len(parts[end - 1])
        if length > _IBAN_MAX_LENGTH:
            break
        if iban_valid("".join(parts[first:end])):
            best = end
    return best


def _mask_phones(text: str) -> str:
    # Hide dates, times, IPs and decimals behind same-length letters so positions still line up.
    hidden = _NOT_PHONE_RE.sub(lambda m: "x" * len(m.group(0)), text)
    pieces: list[str] = []
    emitted_to = 0
    for match in _PHONE_RE.finditer(hidden):
        if _looks_like_phone(match.group(0)):
            pieces.append(text[emitted_to : match.start()])
            pieces.append("[phone]")
            emitted_to = match.end()
    pieces.append(text[emitted_to:])
    return "".join(pieces)


def _looks_like_phone(candidate: str) -> bool:
    """7-15 digits, and formatted like a phone: a `+`, separators or parentheses, or a national leading 0.

    A bare unformatted digit run without a leading 0 is more likely an order number or an id.
    """
    digits = re.sub(r"[^0-9]", "", candidate)
    if not _PHONE_MIN_DIGITS <= len(digits) <= _PHONE_MAX_DIGITS:
        return False
    formatted = candidate.startswith("+") or any(char in candidate for char in " .-()")
    return formatted or candidate.startswith("0")
