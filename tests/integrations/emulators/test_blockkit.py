"""Block Kit validation rules that the Slack emulator applies (checked here without HTTP)."""

from __future__ import annotations

from typing import Any

from integrations.emulators.blockkit import validate_blocks, validate_view


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def test_validate_blocks_accepts_100_blocks_on_modal_but_not_message() -> None:
    blocks = [divider()] * 100

    assert validate_blocks(blocks, surface="modal") == []
    assert validate_blocks(blocks, surface="home") == []
    assert validate_blocks(blocks, surface="message") == [
        "no more than 50 items allowed [json-pointer:/blocks]"
    ]


def test_validate_blocks_reports_every_problem_with_pointer() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "section"},
    ]

    assert validate_blocks(blocks) == [
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        "must provide either text or fields [json-pointer:/blocks/1]",
    ]


def test_validate_blocks_rejects_non_list() -> None:
    assert validate_blocks({"type": "divider"}) == ["must provide an array [json-pointer:/blocks]"]


def test_validate_blocks_checks_select_options() -> None:
    select = {
        "type": "static_select",
        "action_id": "snooze",
        "options": [{"text": {"type": "plain_text", "text": "o" * 76}, "value": "v" * 151}],
    }

    errors = validate_blocks([{"type": "actions", "elements": [select]}])

    assert errors == [
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]",
        "must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]",
    ]


def test_validate_blocks_rejects_text_input_in_actions_block() -> None:
    element = {"type": "plain_text_input", "action_id": "note"}

    errors = validate_blocks([{"type": "actions", "elements": [element]}])

    assert errors == [
        "unsupported element type here: plain_text_input [json-pointer:/blocks/0/elements/0/type]"
    ]


def test_validate_blocks_rejects_image_without_alt_text() -> None:
    errors = validate_blocks([{"type": "image", "image_url": "https://example.com/x.png"}])

    assert errors == ["must provide a string [json-pointer:/blocks/0/alt_text]"]


def test_validate_view_requires_submit_with_input_blocks() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Snooze"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Minutes"},
                "element": {"type": "number_input", "action_id": "minutes", "is_decimal_allowed": False},
            }
        ],
    }

    assert validate_view(view) == ["must provide submit when the view has input blocks [json-pointer:/view]"]
    assert validate_view({**view, "submit": {"type": "plain_text", "text": "Snooze"}}) == []


def test_validate_view_requires_modal_title_but_not_home_title() -> None:
    assert validate_view({"type": "modal", "blocks": []}) == [
        "missing required field: title [json-pointer:/view]"
    ]
    assert validate_view({"type": "home", "blocks": []}) == []


def test_validate_view_rejects_unknown_type() -> None:
    assert validate_view({"type": "workflow_step", "blocks": []}) == [
        "must be a valid enum value (one of modal, home) [json-pointer:/view/type]"
    ]
