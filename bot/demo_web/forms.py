"""What Slack sends back from rendered blocks: a modal's `view.state.values` from the submitted form, and
the `actions[0]` entry of a click, built from the stored view or message the page showed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def state_values(view: Mapping[str, Any], form: Callable[[str], list[str]]) -> dict[str, dict[str, Any]]:
    """The `view.state.values` Slack would send for a modal, from the submitted form (`form(name)` gives
    every value posted under `block_id/action_id`)."""
    values: dict[str, dict[str, Any]] = {}
    for b in view.get("blocks") or []:
        if b.get("type") != "input":
            continue
        el = b.get("element") or {}
        block_id, action_id = b.get("block_id", ""), el.get("action_id", "")
        kind = el.get("type", "")
        got = [v for v in form(f"{block_id}/{action_id}") if v != ""]
        first = got[0] if got else None
        entry: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            entry["value"] = first
        elif kind in ("static_select", "radio_buttons", "external_select"):
            entry["selected_option"] = _find_option(el, first) if first is not None else None
        elif kind in ("multi_static_select", "checkboxes"):
            entry["selected_options"] = [o for o in (_find_option(el, v) for v in got) if o]
        elif kind == "users_select":
            entry["selected_user"] = first
        elif kind == "multi_users_select":
            entry["selected_users"] = got
        elif kind in ("conversations_select", "channels_select"):
            entry["selected_conversation" if kind == "conversations_select" else "selected_channel"] = first
        elif kind == "multi_conversations_select":
            entry["selected_conversations"] = got
        elif kind == "datepicker":
            entry["selected_date"] = first
        elif kind == "timepicker":
            entry["selected_time"] = first
        values.setdefault(block_id, {})[action_id] = entry
    return values


def _find_option(el: Mapping[str, Any], value: str | None) -> dict[str, Any] | None:
    options = list(el.get("options") or [])
    for group in el.get("option_groups") or []:
        options.extend(group.get("options", []))
    return next((dict(o) for o in options if o.get("value") == value), None)


def find_element(items: list[Mapping[str, Any]], block_id: str, action_id: str) -> dict[str, Any] | None:
    """The interactive element a click came from (to build the `actions` entry Slack sends)."""
    for b in items or []:
        if b.get("block_id", "") != block_id:
            continue
        candidates = [b.get("accessory")] if b.get("accessory") else []
        candidates += list(b.get("elements") or []) if b.get("type") == "actions" else []
        for el in candidates:
            if el and el.get("action_id") == action_id:
                return dict(el)
    return None


def action_payload(el: Mapping[str, Any], block_id: str, value: str | None) -> dict[str, Any]:
    """One entry of a `block_actions` payload's `actions`, as Slack sends it for this element."""
    kind = el.get("type", "button")
    action: dict[str, Any] = {"type": kind, "action_id": el.get("action_id"), "block_id": block_id}
    if kind == "button":
        action["text"] = el.get("text")
        if "value" in el:
            action["value"] = el["value"]
        if el.get("style"):
            action["style"] = el["style"]
    elif kind in ("static_select", "overflow"):
        action["selected_option"] = _find_option(el, value)
    elif kind == "users_select":
        action["selected_user"] = value
    elif kind == "conversations_select":
        action["selected_conversation"] = value
    elif kind == "channels_select":
        action["selected_channel"] = value
    elif kind == "datepicker":
        action["selected_date"] = value
    return action
