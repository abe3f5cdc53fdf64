"""Shared checker for Block Kit messages: Slack's documented limits, stricter than slack_sdk's validators."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
ID_MAX = 255
SECTION_TEXT_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
HEADER_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
TEXT_OBJECT_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTON_URL_MAX = 3000
MESSAGE_TEXT_MAX = 40000

# Markup Deskwatch emits on purpose: links, user mentions, date tokens. Anything else in <...> is injected.
_ALLOWED_MARKUP = re.compile(r"<https?://[^\s<>|]+\|[^<>]*>|<@[UW][A-Z0-9]+>|<!date\^\d+\^[^|<>]+\|[^<>]*>")
_ENTITY = re.compile(r"&(amp|lt|gt);")


def assert_safe_mrkdwn(text: str) -> None:
    """No raw `<`, `>` or `&` outside the markup the renderers create deliberately."""
    rest = _ENTITY.sub("", _ALLOWED_MARKUP.sub("", text))
    assert "<" not in rest and ">" not in rest and "&" not in rest, f"unescaped markup in {text[:200]!r}"


def _check_text(obj: dict[str, Any], limit: int, what: str) -> None:
    assert obj["type"] in ("plain_text", "mrkdwn"), what
    assert obj["text"].strip(), f"{what} is empty"
    assert len(obj["text"]) <= limit, f"{what} has {len(obj['text'])} chars > {limit}"
    if obj["type"] == "mrkdwn":
        assert_safe_mrkdwn(obj["text"])


def assert_valid_message_blocks(text: str, blocks: list[dict[str, Any]]) -> None:
    """Assert a chat.postMessage payload obeys Slack's Block Kit limits and survives Block.parse."""
    assert text.strip(), "a message needs a non-empty text fallback"
    assert len(text) <= MESSAGE_TEXT_MAX
    assert_safe_mrkdwn(text)
    assert 1 <= len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_ids {block_ids}"
    action_ids: list[str] = []
    for block in blocks:
        assert len(block.get("block_id", "")) <= ID_MAX
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            _check_text(block["text"], HEADER_MAX, "header")
        elif kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                _check_text(block["text"], SECTION_TEXT_MAX, "section text")
            fields = block.get("fields", [])
            assert len(fields) <= FIELDS_MAX
            for field in fields:
                _check_text(field, FIELD_MAX, "section field")
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= CONTEXT_ELEMENTS_MAX
            for element in block["elements"]:
                _check_text(element, TEXT_OBJECT_MAX, "context element")
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for element in block["elements"]:
                assert element["type"] == "button"
                assert element["text"]["type"] == "plain_text"
                _check_text(element["text"], BUTTON_TEXT_MAX, "button text")
                assert len(element.get("value", "")) <= BUTTON_VALUE_MAX
                assert len(element.get("url", "")) <= BUTTON_URL_MAX
                assert element.get("style", "primary") in ("primary", "danger")
                assert 1 <= len(element["action_id"]) <= ID_MAX
                action_ids.append(element["action_id"])
        else:
            raise AssertionError(f"unexpected block type {kind}")
    assert len(action_ids) == len(set(action_ids)), f"duplicate action_ids {action_ids}"
    assert json.loads(json.dumps(blocks)) == blocks
    for block in blocks:
        assert Block.parse(block).to_dict() == block


@pytest.fixture
def assert_valid_blocks() -> Callable[[str, list[dict[str, Any]]], None]:
    """The Slack-limits checker, as a fixture so test modules need not import conftest."""
    return assert_valid_message_blocks


@pytest.fixture
def assert_safe_text() -> Callable[[str], None]:
    return assert_safe_mrkdwn
