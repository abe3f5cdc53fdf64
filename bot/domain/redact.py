"""The one redaction pass for helpdesk text shown in Slack (subjects, excerpts, notes).

Payment data is always masked: a digit run holding a Luhn-valid card number becomes `[card •••• 1111]`
and a mod-97-valid IBAN `DE•• •••• 3000`. Emails and phone numbers are masked only when the team's
policy asks for it. `redact_payload` applies it to a whole Slack request at the boundary, after every
renderer, so a card written with odd whitespace or glued to other characters never reaches Slack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MASK = "••••"

# Characters that may sit between the digits of one written number, several in a row: every Unicode
# space (`\s`: NBSP, U+2000-U+200A, U+202F, U+3000, tabs, newlines...), invisible format characters
# (zero-width spaces and joiners, word joiner, BOM, bidi marks, soft hyphen), dashes and minus signs,
# dots and slashes. Matching across them, instead of collapsing the text, keeps its own layout intact.
_INVISIBLE = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_DASHES = (
    "\\-\u02d7\u058a\u05be\u1400\u1806\u2010-\u2015\u2043\u207b\u208b\u2212\u2796"
    "\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
)
_DOTS = ".\u00b7\u0387\u2022\u2024\u2027\u2219\u22c5\u30fb\u3002\uff0e\uff61"
_SLASHES = "/\\\\\u2044\u2215\u29f8\uff0f"
SEPARATOR_CLASS = f"[\\s{_INVISIBLE}{_DASHES}{_DOTS}{_SLASHES}]"

# A maximal run of (Unicode) digits joined by separators; what comes before or after (`+`, letters,
# brackets) is deliberately not looked at, so glued prefixes cannot hide a card.
DIGIT_RUN_RE = re.compile(rf"\d++(?:{SEPARATOR_CLASS}++\d++)*+")
_DIGIT_RUN_RE = DIGIT_RUN_RE
_DIGIT_GROUP_RE = re.compile(r"\d+")
_CARD_MIN_DIGITS, _CARD_MAX_DIGITS = 13, 19
_COMMON_CARD_LENGTHS = (15, 16)

# IBAN words are ASCII letters and digits joined by spaces (any kind), invisible characters or dashes.
_IBAN_WORDS_RE = re.compile(rf"[A-Za-z0-9]++(?:[\s{_INVISIBLE}{_DASHES}]++[A-Za-z0-9]++)*+")
_IBAN_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_IBAN_MIN_LENGTH, _IBAN_MAX_LENGTH = 15, 34
_IBAN_GROUP_MAX = 4  # after the first word, IBANs are written in groups of at most 4
_IBAN_MIN_DIGITS = 8  # every country's BBAN is mostly digits; sentences that pass mod-97 by luck are not

_ESCAPE_RE = re.compile(r"\\(?:[\\'\"abfnrtv]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}

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

# Keys whose values are Slack identifiers or machine values Deskwatch generates (ts, ids, typed button
# payloads, cursors), never helpdesk text: redacting them would only break them ("1700000000.000100").
IDENTIFIER_KEYS = frozenset(
    {
        "ts", "thread_ts", "message_ts", "event_ts", "oldest", "latest", "cursor",
        "channel", "channel_id", "user", "users", "user_id", "team", "team_id", "enterprise_id",
        "app_id", "bot_id", "action_id", "block_id", "callback_id", "trigger_id", "interactivity_pointer",
        "view_id", "root_view_id", "previous_view_id", "external_id", "hash", "token", "metadata",
        "private_metadata", "value", "response_url", "challenge", "url",
    }
)  # fmt: skip


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
    text = _replace(text, _payment_spans(text))
    if policy.phones:
        text = _mask_phones(text)
    return text


def redact_escaped(text: str | None, policy: RedactionPolicy = RedactionPolicy()) -> str:
    """`redact` for text that holds backslash escapes, like the dict reprs SDKs write to their logs.

    `'4111\\xa01111\\u200b1111 1111'` shows a card to anyone reading the log: escapes count as the
    characters they stand for, and a masked run takes its escapes with it.
    """
    if not text or "\\" not in text:
        return redact(text, policy)
    if policy.emails:
        text = _EMAIL_RE.sub("[email]", text)
    decoded: list[str] = []
    origin: list[tuple[int, int]] = []  # where each decoded character came from in `text`
    position = 0
    for escape in _ESCAPE_RE.finditer(text):
        decoded.extend(text[position : escape.start()])
        origin.extend((i, i + 1) for i in range(position, escape.start()))
        decoded.append(_unescape(escape.group(0)))
        origin.append((escape.start(), escape.end()))
        position = escape.end()
    decoded.extend(text[position:])
    origin.extend((i, i + 1) for i in range(position, len(text)))
    spans = [(origin[s][0], origin[e - 1][1], r, c) for s, e, r, c in _payment_spans("".join(decoded))]
    text = _replace(text, spans)
    return _mask_phones(text) if policy.phones else text


def redact_payload(obj: Any, policy: RedactionPolicy = RedactionPolicy()) -> Any:
    """Redact every string of a JSON-like Slack payload, except values under `IDENTIFIER_KEYS`.

    Returns new containers (the caller's payload is not modified). A string holding a JSON object or
    array (form-encoded `blocks`) is parsed and every string in it redacted, so JSON escapes such as
    `\\u00a0` cannot hide a card. Numbers that contain a card are replaced by the masked string.
    """
    return _walk(obj, policy, IDENTIFIER_KEYS)


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


def _unescape(escape: str) -> str:
    kind = escape[1]
    if kind in "xuU":
        code = int(escape[2:], 16)
        return chr(code) if code <= 0x10FFFF else escape
    return _SIMPLE_ESCAPES.get(kind, kind)


# --- payload walking ------------------------------------------------------------------------------------


def _walk(obj: Any, policy: RedactionPolicy, skip: frozenset[str]) -> Any:
    if isinstance(obj, str):
        return _redact_string(obj, policy)
    if isinstance(obj, Mapping):
        return {k: v if k in skip else _walk(v, policy, skip) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_walk(item, policy, skip) for item in obj]
    if isinstance(obj, int | float) and not isinstance(obj, bool):
        shown = str(obj)
        masked = redact(shown, policy)
        return obj if masked == shown else masked
    return obj


def _redact_string(text: str, policy: RedactionPolicy) -> str:
    if text.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict | list):
            # Inside embedded JSON every string is redacted: it may be a helpdesk text that looks like JSON.
            cleaned = _walk(parsed, policy, frozenset())
            return text if cleaned == parsed else json.dumps(cleaned, ensure_ascii=False)
    return _redact_outside_link_targets(text, policy)


# The target of a mrkdwn link, `<https://…|`: renderers escape helpdesk text (`<` becomes `&lt;`), so a
# raw `<http` is always a link Deskwatch built from ids (a ticket URL), never helpdesk text. Its ids
# (Intercom's run to 15 digits) must keep the link working; its label is redacted like any text.
_LINK_TARGET_RE = re.compile(r"<https?://[^\s<>|]+(?=[|>])")


def _redact_outside_link_targets(text: str, policy: RedactionPolicy) -> str:
    if "<http" not in text:
        return redact(text, policy)
    pieces, emitted = [], 0
    for match in _LINK_TARGET_RE.finditer(text):
        pieces.append(redact(text[emitted : match.start()], policy))
        pieces.append(match.group(0))
        emitted = match.end()
    pieces.append(redact(text[emitted:], policy))
    return "".join(pieces)


# --- payment data ---------------------------------------------------------------------------------------

_Span = tuple[int, int, str, bool]  # start, end, replacement, is a card mask


def _payment_spans(text: str) -> list[_Span]:
    """Card runs and IBANs to replace, without overlaps.

    A card run inside an IBAN is masked as that IBAN; one that only overlaps an IBAN is merged with it
    into one card mask, so masking the IBAN can never leave part of a card visible.
    """
    spans = sorted(_iban_spans(text) + _card_spans(text))
    merged: list[_Span] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            start, end, replacement, is_card = merged[-1]
            if end >= span[1] and not is_card:  # the card run lies inside an IBAN
                continue
            if not is_card:
                replacement = span[2]
            merged[-1] = (start, max(end, span[1]), replacement, True)
        else:
            merged.append(span)
    return merged


def _replace(text: str, spans: list[_Span]) -> str:
    pieces: list[str] = []
    emitted_to = 0
    for start, end, replacement, _ in spans:
        pieces.append(text[emitted_to:start])
        pieces.append(replacement)
        emitted_to = end
    pieces.append(text[emitted_to:])
    return "".join(pieces)


def _card_spans(text: str) -> list[_Span]:
    spans: list[_Span] = []
    for run in _DIGIT_RUN_RE.finditer(text):
        digits: list[int] = []
        cuts = {0}
        for group in _DIGIT_GROUP_RE.finditer(run.group(0)):
            digits.extend(int(char) for char in group.group(0))
            cuts.add(len(digits))
        last4 = _card_last_four(digits, cuts)
        if last4 is not None:
            spans.append((run.start(), run.end(), f"[card {MASK} {last4}]", True))
    return spans


def _card_last_four(digits: list[int], cuts: set[int]) -> str | None:
    """Last four digits of the best Luhn-valid 13-19 digit window of a run, None when there is none.

    Every window is checked, not only those at group boundaries. The whole run gets masked anyway; the
    choice only decides which four digits are shown: windows aligned with the written groups first,
    then common card lengths, then the longest, then the rightmost.
    """
    if len(digits) < _CARD_MIN_DIGITS:
        return None
    # Luhn sums of any window in O(1): `plain_odd` doubles digits at odd indexes, `plain_even` at even
    # ones; a window ending at index `end - 1` doubles the digits whose distance from its end is odd.
    plain_odd, plain_even = [0], [0]
    for index, digit in enumerate(digits):
        doubled = digit * 2 - 9 if digit > 4 else digit * 2
        plain_odd.append(plain_odd[-1] + (doubled if index % 2 else digit))
        plain_even.append(plain_even[-1] + (digit if index % 2 else doubled))
    best: tuple[bool, bool, bool, int, int] | None = None
    for end in range(_CARD_MIN_DIGITS, len(digits) + 1):
        sums = plain_odd if (end - 1) % 2 == 0 else plain_even
        for length in range(_CARD_MIN_DIGITS, min(_CARD_MAX_DIGITS, end) + 1):
            start = end - length
            if (sums[end] - sums[start]) % 10:
                continue
            key = (start in cuts and end in cuts, end in cuts, length in _COMMON_CARD_LENGTHS, length, end)
            best = key if best is None or key > best else best
    if best is None:
        return None
    end = best[-1]
    return "".join(str(digit) for digit in digits[end - 4 : end])


def _iban_spans(text: str) -> list[_Span]:
    spans: list[_Span] = []
    for candidate in _IBAN_WORDS_RE.finditer(text):
        found = _IBAN_WORD_RE.finditer(text, candidate.start(), candidate.end())
        words = [(w.start(), w.end()) for w in found]
        index = 0
        while index < len(words):
            end = _longest_iban_from(text, words, index)
            if end is None:
                index += 1
                continue
            compact = "".join(text[s:e] for s, e in words[index:end])
            mask = f"{compact[:2].upper()}•• {MASK} {compact[-4:]}"
            spans.append((words[index][0], words[end - 1][1], mask, False))
            index = end
    return spans


def _longest_iban_from(text: str, words: list[tuple[int, int]], first: int) -> int | None:
    """Exclusive end index of the longest valid IBAN made of words[first:end], if any."""
    best = None
    compact = ""
    for end in range(first + 1, len(words) + 1):
        word = text[words[end - 1][0] : words[end - 1][1]]
        if end > first + 1 and len(word) > _IBAN_GROUP_MAX:
            break
        compact += word
        if len(compact) > _IBAN_MAX_LENGTH or not _iban_head_ok(compact):
            break
        if sum(char.isdigit() for char in compact) >= _IBAN_MIN_DIGITS and iban_valid(compact):
            best = end
    return best


def _iban_head_ok(compact: str) -> bool:
    """The first four characters (as far as there are any) are a country code and check digits."""
    head = compact[:4]
    return head[:2].isalpha() and (len(head) < 3 or head[2:].isdigit())


# --- phones ---------------------------------------------------------------------------------------------


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
