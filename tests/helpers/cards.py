"""Card-number leak detection and generated card texts, for tests of the Slack redaction boundary.

`card_leaks` is written independently of `bot.domain.redact` (its own separator set and Luhn check), so
a bug in the redactor is not mirrored by the checker. It is deliberately stricter: it also looks inside
URL-encoded and JSON-escaped bodies, where `+`, `%C2%A0` or `\\u00a0` stand for separators.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from hypothesis import strategies as st

from bot.domain.redact import IDENTIFIER_KEYS

SPACES = (
    " \t\n\r\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
DOTS = ".\u00b7\u2024\u2027\u30fb\uff0e"
SLASHES = "/\\\u2044\u2215\uff0f"
SEPARATORS = SPACES + ZERO_WIDTH + DASHES + DOTS + SLASHES

_RUN_RE = re.compile(f"\\d(?:[{re.escape(SEPARATORS)}]*\\d)*")


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _run_digits(run: str) -> str:
    return "".join(str(int(char)) for char in run if char.isdecimal())


def leaks_in_text(text: str) -> list[str]:
    """Every Luhn-valid 13-19 digit window of every digit run of `text` (separators removed)."""
    found: list[str] = []
    for run in _RUN_RE.finditer(text):
        digits = _run_digits(run.group(0))
        for length in range(13, 20):
            for start in range(len(digits) - length + 1):
                window = digits[start : start + length]
                if luhn_ok(window) and window not in found:
                    found.append(window)
    return found


def card_leaks(body: str | bytes) -> list[str]:
    """Card numbers anywhere in a raw body or log: as is, URL-decoded, unescaped, in form fields and JSON.

    Raw JSON bodies also carry Slack ts values ("1700000000.000100") that may pass Luhn: parse those and
    use `card_leaks_in_payload`, or `request_card_leaks` for a recorded emulator request.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return _unique(leak for view in _raw_views(text) for leak in leaks_in_text(view))


def card_leaks_in_payload(obj: Any) -> list[str]:
    """Card numbers in a parsed payload, skipping the identifier keys `redact_payload` leaves alone."""
    return _unique(leak for view in _strings(obj, IDENTIFIER_KEYS) for leak in leaks_in_text(view))


def request_card_leaks(request: Any) -> list[str]:
    """Leaks in a recorded emulator request (`.body`, `.header()`), parsed the way Slack parses it."""
    content_type = (request.header("Content-Type") or "").lower()
    body = request.body.decode("utf-8", errors="replace")
    if content_type.startswith("application/json"):
        return card_leaks_in_payload(json.loads(body or "null"))
    if content_type.startswith("application/x-www-form-urlencoded"):
        return card_leaks_in_payload(dict(parse_qsl(body, keep_blank_values=True)))
    return card_leaks(body)


def _unique(items: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(items))


def unescape(text: str) -> str:
    """Backslash escapes (Python reprs, JSON) replaced by the characters they stand for."""
    return _ESCAPE_RE.sub(lambda m: _decode_escape(m.group(0)), text)


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "b": "\b"}
_ESCAPE_RE = re.compile(r"\\(?:[\\'\"abfnrtv]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")


def _decode_escape(escape: str) -> str:
    if escape[1] in "xuU":
        code = int(escape[2:], 16)
        return chr(code) if code <= 0x10FFFF else escape
    return _SIMPLE_ESCAPES.get(escape[1], escape[1])


def _raw_views(text: str) -> Iterator[str]:
    decoded = unquote_plus(text)
    for view in dict.fromkeys((text, decoded, unescape(text))):
        yield from _strings(view, frozenset())
        if "=" in view:
            for _key, value in parse_qsl(view, keep_blank_values=True):
                if value != view:
                    yield from _raw_views(value)


def _strings(obj: Any, skip: frozenset[str]) -> Iterator[str]:
    """Every string (and number) of `obj`; a string holding JSON is also walked, without skipping keys."""
    if isinstance(obj, str):
        yield obj
        if obj.lstrip()[:1] in ("{", "["):
            try:
                parsed = json.loads(obj)
            except ValueError:
                return
            yield from _strings(parsed, frozenset())
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if key not in skip:
                yield from _strings(value, skip)
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _strings(item, skip)
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield str(obj)


# --- generated card texts -------------------------------------------------------------------------------

_SURROUNDING_ALPHABET = string.ascii_letters + "àéßπж" + ",;:!?()[]{}<>\"'*_~@#&%=" + " \n"


@st.composite
def luhn_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid number of 13 to 19 digits."""
    length = draw(st.integers(13, 19))
    body = draw(st.text(alphabet=string.digits, min_size=length - 1, max_size=length - 1))
    for check in string.digits:
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


@st.composite
def written_cards(draw: st.DrawFn, digits: str) -> str:
    """`digits` split into random groups (one group: unsplit) joined by 1-3 random separator characters."""
    pieces: list[str] = []
    index = 0
    while index < len(digits):
        size = draw(st.one_of(st.integers(1, 8), st.just(len(digits))))
        pieces.append(digits[index : index + size])
        index += size
        if index < len(digits):
            pieces.append(draw(st.text(alphabet=SEPARATORS, min_size=1, max_size=3)))
    return "".join(pieces)


_prefixes = st.one_of(
    st.just(""),
    st.just("+"),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=5),
    st.text(alphabet=string.digits, min_size=1, max_size=6),
    st.tuples(st.text(alphabet=string.digits, min_size=1, max_size=6), st.sampled_from(SEPARATORS)).map(
        "".join
    ),
    st.sampled_from(["card", "Card:", "CC#", "+", "(", "Order 10005 ", "no. "]),
)
_suffixes = st.one_of(
    st.just(""),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=5),
    st.text(alphabet=string.digits, min_size=1, max_size=6),
    st.tuples(st.sampled_from(SEPARATORS), st.text(alphabet=string.digits, min_size=1, max_size=4)).map(
        "".join
    ),
    st.sampled_from([".", ",", ")", "!", " exp 12/27", " thanks"]),
)
# Surrounding words and short numbers: a number is always opened by `#`, so two of them never join into
# one digit run (they still may join the card itself, which then masks them too).
_short_numbers = st.text(alphabet=string.digits, min_size=1, max_size=3).map(lambda n: f"#{n}")
_surrounding = st.lists(
    st.one_of(st.text(alphabet=_SURROUNDING_ALPHABET, min_size=1, max_size=12), _short_numbers), max_size=6
).map("".join)


@st.composite
def card_texts(draw: st.DrawFn) -> tuple[str, str]:
    """(text, card digits): a Luhn-valid card written with random separators, glued prefix and suffix,
    inside random surrounding text of letters, punctuation and short numbers."""
    digits = draw(luhn_numbers())
    written = draw(written_cards(digits))
    text = draw(_surrounding) + draw(_prefixes) + written + draw(_suffixes) + draw(_surrounding)
    return text, digits


def longest_card_fragment(text: str, card: str) -> int:
    """Length of the longest run of consecutive card digits visible in `text` (separators removed)."""
    longest = 0
    for run in _RUN_RE.finditer(text):
        digits = _run_digits(run.group(0))
        for size in range(len(card), longest, -1):
            if any(card[i : i + size] in digits for i in range(len(card) - size + 1)):
                longest = size
                break
    return longest
