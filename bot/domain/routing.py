"""Which team (and so which Slack channel) owns a helpdesk item.

Ids are compared as trimmed strings: Intercom sends team ids as JSON integers, YAML may load them as ints,
and Zendesk group ids arrive as numbers too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.domain.model import HelpdeskItem, Source, TeamRoute


def route(item: HelpdeskItem, routes: Sequence[TeamRoute]) -> TeamRoute | None:
    """First route listing the item's Zendesk group / Intercom team, or None when no team claims it."""
    group_id = normalise_id(item.group_id)
    if group_id is None:
        return None
    for candidate in routes:
        is_zendesk = item.ref.source is Source.ZENDESK
        ids = candidate.zendesk_group_ids if is_zendesk else candidate.intercom_team_ids
        if group_id in _normalised(ids):
            return candidate
    return None


def normalise_id(value: object) -> str | None:
    """`123`, `"123"` and `" 123 "` are the same id; None and blank strings are no id."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _normalised(ids: Iterable[object]) -> set[str]:
    return {text for text in (normalise_id(value) for value in ids) if text is not None}
