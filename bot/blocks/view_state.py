"""Reading `view.state.values` of a view_submission: Slack nests each input as values[block_id][action_id],
and a payload is client input, so every level is checked before it is trusted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def input_state(values: Mapping[str, Any], block_id: str, action_id: str) -> Mapping[str, Any]:
    block = values.get(block_id) if isinstance(values, Mapping) else None
    state = block.get(action_id) if isinstance(block, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def input_text(values: Mapping[str, Any], block_id: str, action_id: str) -> str:
    value = input_state(values, block_id, action_id).get("value")
    return value.strip() if isinstance(value, str) else ""


def selected_value(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    option = input_state(values, block_id, action_id).get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None
