"""Block Kit validation as strict as Slack's, for the Slack emulator.

Slack refuses a whole message or view when one block breaks a limit (`invalid_blocks`), so an over-long
ticket subject can silently stop alerts in production. The emulator runs every payload through these
checks so tests fail the same way. Errors follow Slack's wording: `<problem> [json-pointer:/blocks/0/text]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}

_BLOCK_KEYS: dict[str, frozenset[str]] = {
    "section": frozenset({"type", "block_id", "text", "fields", "accessory", "expand"}),
    "header": frozenset({"type", "block_id", "text"}),
    "divider": frozenset({"type", "block_id"}),
    "context": frozenset({"type", "block_id", "elements"}),
    "actions": frozenset({"type", "block_id", "elements"}),
    "input": frozenset({"type", "block_id", "label", "element", "hint", "optional", "dispatch_action"}),
    "image": frozenset({"type", "block_id", "image_url", "slack_file", "alt_text", "title"}),
    "rich_text": frozenset({"type", "block_id", "elements"}),
}
_TEXT_KEYS: dict[str, frozenset[str]] = {
    "plain_text": frozenset({"type", "text", "emoji"}),
    "mrkdwn": frozenset({"type", "text", "verbatim"}),
}

_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_CHOICES = frozenset({"checkboxes", "radio_buttons"})
_PICKERS = frozenset({"datepicker", "timepicker"})
_TEXT_INPUTS = frozenset({"plain_text_input", "number_input", "email_text_input", "url_text_input"})
_ACCESSORY_TYPES = frozenset({"button", "overflow", "image"}) | _SELECTS | _CHOICES | _PICKERS
_ACTIONS_TYPES = frozenset({"button", "overflow"}) | _SELECTS | _CHOICES | _PICKERS
_INPUT_TYPES = _SELECTS | _CHOICES | _PICKERS | _TEXT_INPUTS
_CONTEXT_TYPES = frozenset({"image", "plain_text", "mrkdwn"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class _Checker:
    errors: list[str] = field(default_factory=list)
    block_ids: set[str] = field(default_factory=set)
    action_ids: set[str] = field(default_factory=set)

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.fail("must provide a string", pointer)
            return
        if not isinstance(value, str):
            self.fail("must be a string", pointer)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)
        elif required and not value:
            self.fail("must be more than 0 characters", pointer)

    def text(
        self, obj: Any, pointer: str, *, limit: int, plain_only: bool = False, required: bool = True
    ) -> None:
        if obj is None:
            if required:
                parent, _, name = pointer.rpartition("/")
                self.fail(f"missing required field: {name}", parent or "/")
            return
        if not isinstance(obj, dict):
            self.fail("must provide an object", pointer)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.fail(f"must be a valid enum value (one of {', '.join(allowed)})", f"{pointer}/type")
            return
        self.extra_keys(obj, _TEXT_KEYS[kind], pointer)
        self.max_len(obj.get("text"), limit, f"{pointer}/text", required=True)

    def extra_keys(self, obj: dict[str, Any], allowed: frozenset[str], pointer: str) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(f"invalid additional property: {key}", pointer)

    def items(self, value: Any, pointer: str, *, low: int, high: int) -> list[Any]:
        if not isinstance(value, list):
            self.fail("must provide an array", pointer)
            return []
        if len(value) < low:
            self.fail(f"must provide at least {low} items", pointer)
        if len(value) > high:
            self.fail(f"no more than {high} items allowed", pointer)
        return value

    def unique_id(self, seen: set[str], kind: str, value: Any, pointer: str) -> None:
        if value is None:
            return
        self.max_len(value, 255, pointer, required=True)
        if isinstance(value, str):
            if value in seen:
                self.fail(f"duplicate {kind}: {value}", pointer)
            seen.add(value)

    # -- blocks ----------------------------------------------------------------------------------
    def blocks(self, blocks: Any, pointer: str, surface: Surface) -> None:
        for index, block in enumerate(self.items(blocks, pointer, low=0, high=MAX_BLOCKS[surface])):
            self.block(block, f"{pointer}/{index}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must provide an object", pointer)
            return
        kind = block.get("type")
        if kind not in _BLOCK_KEYS:
            self.fail(f"unsupported block type: {kind}", f"{pointer}/type")
            return
        self.extra_keys(block, _BLOCK_KEYS[kind], pointer)
        self.unique_id(self.block_ids, "block_id", block.get("block_id"), f"{pointer}/block_id")
        if kind == "section":
            self.section(block, pointer)
        elif kind == "header":
            self.text(block.get("text"), f"{pointer}/text", limit=150, plain_only=True)
        elif kind == "context":
            elements = self.items(block.get("elements"), f"{pointer}/elements", low=1, high=10)
            for index, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{index}", _CONTEXT_TYPES)
        elif kind == "actions":
            elements = self.items(block.get("elements"), f"{pointer}/elements", low=1, high=25)
            for index, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{index}", _ACTIONS_TYPES)
        elif kind == "input":
            self.text(block.get("label"), f"{pointer}/label", limit=2000, plain_only=True)
            self.text(block.get("hint"), f"{pointer}/hint", limit=2000, plain_only=True, required=False)
            if block.get("element") is None:
                self.fail("missing required field: element", pointer)
            else:
                self.element(block["element"], f"{pointer}/element", _INPUT_TYPES)
        elif kind == "image":
            self.image(block, pointer)
            self.text(block.get("title"), f"{pointer}/title", limit=2000, plain_only=True, required=False)
        elif kind == "rich_text":
            self.items(block.get("elements"), f"{pointer}/elements", low=1, high=1000)

    def section(self, block: dict[str, Any], pointer: str) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.fail("must provide either text or fields", pointer)
        self.text(block.get("text"), f"{pointer}/text", limit=3000, required=False)
        if block.get("fields") is not None:
            fields = self.items(block["fields"], f"{pointer}/fields", low=1, high=10)
            for index, item in enumerate(fields):
                self.text(item, f"{pointer}/fields/{index}", limit=2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{pointer}/accessory", _ACCESSORY_TYPES)

    def image(self, obj: dict[str, Any], pointer: str) -> None:
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.fail("missing required field: image_url", pointer)
        self.max_len(obj.get("image_url"), 3000, f"{pointer}/image_url")
        self.max_len(obj.get("alt_text"), 2000, f"{pointer}/alt_text", required=True)

    # -- elements --------------------------------------------------------------------------------
    def element(self, element: Any, pointer: str, allowed: Iterable[str]) -> None:
        if not isinstance(element, dict):
            self.fail("must provide an object", pointer)
            return
        kind = element.get("type")
        if kind not in allowed:
            self.fail(f"unsupported element type here: {kind}", f"{pointer}/type")
            return
        if kind in ("plain_text", "mrkdwn"):
            self.text(element, pointer, limit=3000)
            return
        if kind == "image":
            self.image(element, pointer)
            return
        self.unique_id(self.action_ids, "action_id", element.get("action_id"), f"{pointer}/action_id")
        self.text(
            element.get("placeholder"), f"{pointer}/placeholder", limit=150, plain_only=True, required=False
        )
        if kind == "button":
            self.text(element.get("text"), f"{pointer}/text", limit=75, plain_only=True)
            self.max_len(element.get("value"), 2000, f"{pointer}/value")
            self.max_len(element.get("url"), 3000, f"{pointer}/url")
            if element.get("style") not in (None, "primary", "danger"):
                self.fail("must be a valid enum value (one of primary, danger)", f"{pointer}/style")
        elif kind in _SELECTS:
            self.select(element, pointer, kind)
        elif kind == "overflow":
            self.options(element.get("options"), f"{pointer}/options", high=5, plain_only=True)
        elif kind in _CHOICES:
            self.options(element.get("options"), f"{pointer}/options", high=10, plain_only=False)
        elif kind == "datepicker":
            initial = element.get("initial_date")
            if initial is not None and not (isinstance(initial, str) and _DATE.match(initial)):
                self.fail("must match format YYYY-MM-DD", f"{pointer}/initial_date")
        elif kind == "plain_text_input":
            self.length_bound(element, "min_length", 0, pointer)
            self.length_bound(element, "max_length", 1, pointer)
            self.max_len(element.get("initial_value"), 3000, f"{pointer}/initial_value")

    def select(self, element: dict[str, Any], pointer: str, kind: str) -> None:
        if kind not in ("static_select", "multi_static_select"):
            return
        if element.get("options") is None and element.get("option_groups") is None:
            self.fail("must provide either options or option_groups", pointer)
        if element.get("options") is not None:
            self.options(element["options"], f"{pointer}/options", high=100, plain_only=True)
        if element.get("option_groups") is not None:
            groups = self.items(element["option_groups"], f"{pointer}/option_groups", low=1, high=100)
            for index, group in enumerate(groups):
                group_pointer = f"{pointer}/option_groups/{index}"
                if not isinstance(group, dict):
                    self.fail("must provide an object", group_pointer)
                    continue
                self.text(group.get("label"), f"{group_pointer}/label", limit=75, plain_only=True)
                self.options(group.get("options"), f"{group_pointer}/options", high=100, plain_only=True)

    def options(self, options: Any, pointer: str, *, high: int, plain_only: bool) -> None:
        for index, option in enumerate(self.items(options, pointer, low=1, high=high)):
            option_pointer = f"{pointer}/{index}"
            if not isinstance(option, dict):
                self.fail("must provide an object", option_pointer)
                continue
            self.text(option.get("text"), f"{option_pointer}/text", limit=75, plain_only=plain_only)
            self.max_len(option.get("value"), 150, f"{option_pointer}/value", required=True)
            self.text(option.get("description"), f"{option_pointer}/description", limit=75, required=False)

    def length_bound(self, element: dict[str, Any], key: str, low: int, pointer: str) -> None:
        value = element.get(key)
        if value is not None and (not isinstance(value, int) or not low <= value <= 3000):
            self.fail(f"must be an integer between {low} and 3000", f"{pointer}/{key}")


def validate_blocks(blocks: Any, *, surface: Surface = "message") -> list[str]:
    """Errors Slack would report for `blocks` on `surface`; an empty list means Slack accepts them."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", surface)
    return checker.errors


def validate_view(view: Any) -> list[str]:
    """Errors Slack would report for a modal or Home tab view (pointers under `/view`)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.fail("must provide an object", "/view")
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail("must be a valid enum value (one of modal, home)", "/view/type")
        return checker.errors
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", limit=24, plain_only=True)
        checker.text(view.get("submit"), "/view/submit", limit=24, plain_only=True, required=False)
        checker.text(view.get("close"), "/view/close", limit=24, plain_only=True, required=False)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            checker.fail("must provide submit when the view has input blocks", "/view")
    else:
        checker.text(view.get("title"), "/view/title", limit=24, plain_only=True, required=False)
    checker.max_len(view.get("callback_id"), 255, "/view/callback_id")
    checker.max_len(view.get("external_id"), 255, "/view/external_id")
    checker.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
    if view.get("blocks") is None:
        checker.fail("missing required field: blocks", "/view")
    else:
        checker.blocks(view["blocks"], "/view/blocks", kind)
    return checker.errors
