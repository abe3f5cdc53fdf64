"""Text helpers for Block Kit: mrkdwn escaping, length limits, links and local times.

Helpdesk text reaches the renderers already redacted, but it is still untrusted markup: `&`, `<` and `>`
must be escaped or a subject such as `<!channel>` becomes a mention, and every field has a Slack length
limit that one long subject must not break (Slack rejects the whole message with `invalid_blocks`).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from bot.domain.durations import describe_due
from bot.domain.redact import DIGIT_RUN_RE

_MRKDWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_WHITESPACE_RUN = re.compile(r"\s+")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as markup control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_cut(text: str, index: int) -> int:
    """`index`, moved back to the start of a digit run it would split. Redaction happens at the Slack
    boundary, after the renderers cut: a card number cut in half could no longer be recognised there."""
    for match in DIGIT_RUN_RE.finditer(text):
        if match.start() >= index:
            break
        if index < match.end():
            return match.start()
    return index


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut `text` to at most `limit` characters, ending with `ellipsis` when something was cut; never
    inside a run of digits."""
    if limit < 1:
        raise ValueError(f"truncate limit must be positive, got {limit}")
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        return text[: safe_cut(text, limit)]
    return text[: safe_cut(text, limit - len(ellipsis))].rstrip() + ellipsis


def one_line(text: str) -> str:
    """Collapse newlines and whitespace runs so helpdesk text cannot break a line-based layout."""
    return _WHITESPACE_RUN.sub(" ", text).strip()


def mrkdwn_text(text: str, limit: int, ellipsis: str = "…") -> str:
    """Escape `text` for mrkdwn and truncate the *escaped* result to `limit`, never cutting an entity."""
    if limit < 1:
        raise ValueError(f"mrkdwn_text limit must be positive, got {limit}")
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    budget = limit - len(ellipsis)
    if budget < 1:
        return truncate(escaped, limit, ellipsis="")
    pieces: list[str] = []
    used = 0
    for char in text:
        piece = _MRKDWN_ESCAPES.get(char, char)
        if used + len(piece) > budget:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces[: safe_cut(text, len(pieces))]).rstrip() + ellipsis


def is_linkable_url(url: str, max_length: int) -> bool:
    """True for an http(s) URL of at most `max_length` characters without whitespace or control chars."""
    return (
        len(url) <= max_length
        and url.startswith(("https://", "http://"))
        and not any(c.isspace() or ord(c) < 32 for c in url)
    )


def mrkdwn_link(url: str, label: str, *, max_url_length: int = 1000, max_label_length: int = 200) -> str:
    """`<url|label>`, or just the escaped label when the URL is unusable or too long to spend budget on."""
    escaped_label = mrkdwn_text(one_line(label), max_label_length)
    escaped_url = _escape_url(url)
    if not is_linkable_url(url, max_url_length) or len(escaped_url) > max_url_length:
        return escaped_label
    return f"<{escaped_url}|{escaped_label}>"


def _escape_url(url: str) -> str:
    # `|` would end the URL part of `<url|label>`; percent-encoding keeps the URL equivalent.
    return escape_mrkdwn(url).replace("|", "%7C")


def user_mention(user_id: str) -> str:
    """`<@U123>` for a Slack user id; anything else is shown escaped rather than trusted as markup."""
    if _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return mrkdwn_text(user_id, 40)


def _local(dt: datetime, tz: tzinfo) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} given; Deskwatch only formats aware datetimes")
    return dt.astimezone(tz)


def format_local(dt: datetime, tz: tzinfo) -> str:
    """Date and time in a team's timezone, e.g. `Mon 23 Nov 14:05 CET` (locale-independent)."""
    local = _local(dt, tz)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local:%H:%M} {local.tzname()}"


def format_local_time(dt: datetime, tz: tzinfo) -> str:
    """Time of day in a team's timezone, e.g. `14:07 CET`."""
    local = _local(dt, tz)
    return f"{local:%H:%M} {local.tzname()}"


def due_phrase(due_at: datetime, now: datetime) -> str:
    """`due in 25m`, `due now`, `breached just now` or `breached 12m ago`, from `describe_due`."""
    relative = describe_due(due_at, now)
    if relative == "now":
        return "due now" if due_at > now else "breached just now"
    if due_at > now:
        return f"due {relative}"
    return f"breached {relative}"
