"""Block Kit and mrkdwn -> HTML, pure: what the emulated Slack stored is what the page shows.

Every interactive element carries `data-*` attributes the page's script posts back (action_id, block_id,
value, type), and modal inputs are named `block_id/action_id` so the server can rebuild `state.values`."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

Names = Mapping[str, str]  # user or channel id -> display name

_EMOJI = {
    "rotating_light": "🚨",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "fire": "🔥",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "alarm_clock": "⏰",
    "bell": "🔔",
    "eyes": "👀",
    "arrow_up": "⬆️",
    "arrow_right": "➡️",
    "calendar": "📅",
    "bar_chart": "📊",
    "chart_with_upwards_trend": "📈",
    "clipboard": "📋",
    "memo": "📝",
    "mag": "🔍",
    "link": "🔗",
    "lock": "🔒",
    "busts_in_silhouette": "👥",
    "bust_in_silhouette": "👤",
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "large_green_circle": "🟢",
    "large_blue_circle": "🔵",
    "white_circle": "⚪",
    "thumbsup": "👍",
    "+1": "👍",
    "tada": "🎉",
    "sos": "🆘",
    "scales": "⚖️",
    "speech_balloon": "💬",
    "envelope": "✉️",
    "inbox_tray": "📥",
    "stopwatch": "⏱️",
    "zzz": "💤",
    "star": "⭐",
    "information_source": "ℹ️",
    "no_entry": "⛔",
    "pushpin": "📌",
    "robot_face": "🤖",
    "moneybag": "💰",
    "credit_card": "💳",
}

_TOKEN = re.compile(r"<([^<>]+)>")
_EMOJI_RE = re.compile(r":([a-z0-9_+\-]+):")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.I)


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def emoji(text: str) -> str:
    return _EMOJI_RE.sub(lambda m: _EMOJI.get(m.group(1), m.group(0)), text)


def _link(url: str, label: str) -> str:
    if not _SAFE_URL.match(url):
        return esc(label)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'


def mrkdwn(text: str, names: Names | None = None) -> str:
    """Slack mrkdwn (already &-escaped by the sender, as Slack requires) -> safe HTML."""
    names = names or {}
    # Links and mentions become placeholders first, so `*<url|zd:101>*` still gets its bold; Slack escapes
    # &, < and > in mrkdwn: undo that, then escape everything for HTML ourselves.
    tokens: list[str] = []

    def keep_token(match: re.Match[str]) -> str:
        tokens.append(_token(match.group(1), names))
        return f"\x01{len(tokens) - 1}\x01"

    out = _inline(_unescape(_TOKEN.sub(keep_token, text)))
    out = re.sub(r"\x01(\d+)\x01", lambda m: tokens[int(m.group(1))], out)
    return out.replace("\n", "<br>")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _inline(text: str) -> str:
    out = esc(text)
    codes: list[str] = []

    def keep_code(m: re.Match[str]) -> str:
        codes.append(m.group(1))
        return f"\x00{len(codes) - 1}\x00"

    out = _CODE.sub(keep_code, out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _ITALIC.sub(r"<i>\1</i>", out)
    out = _STRIKE.sub(r"<s>\1</s>", out)
    out = emoji(out)
    return re.sub(r"\x00(\d+)\x00", lambda m: f"<code>{codes[int(m.group(1))]}</code>", out)


def _token(body: str, names: Names) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        uid = target[1:]
        return f'<span class="mention">@{esc(label or names.get(uid, uid))}</span>'
    if target.startswith("#"):
        cid = target[1:]
        return f'<span class="mention">#{esc(label or names.get(cid, cid))}</span>'
    if target.startswith("!subteam^"):
        return f'<span class="mention">@{esc(label or target[9:])}</span>'
    if target.startswith("!date^"):
        return esc(_unescape(label or target))
    if target.startswith("!"):
        return f'<span class="mention">@{esc(target[1:])}</span>'
    return _link(_unescape(target), esc(_unescape(label or target)))


def text_object(obj: Mapping[str, Any] | None, names: Names | None = None) -> str:
    if not obj:
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj.get("text", ""), names)
    return emoji(esc(obj.get("text", "")))


def _plain(obj: Mapping[str, Any] | None) -> str:
    return (obj or {}).get("text", "")


def _data(**attrs: Any) -> str:
    return "".join(f' data-{k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None)


def element(el: Mapping[str, Any], block_id: str, names: Names | None = None) -> str:
    """An interactive element in a message or Home tab (section accessory or actions element)."""
    kind = el.get("type")
    action_id = el.get("action_id", "")
    common = _data(action_id=action_id, block_id=block_id, type=kind)
    if kind == "button":
        style = el.get("style")
        cls = f"btn {style}" if style in ("primary", "danger") else "btn"
        label = text_object(el.get("text"))
        if el.get("url"):
            return (
                f'<a class="{cls}" href="{esc(el["url"])}" target="_blank" rel="noopener noreferrer"'
                f"{common}{_data(value=el.get('value'))}>{label}</a>"
            )
        return f'<button class="{cls} act"{common}{_data(value=el.get("value"))}>{label}</button>'
    if kind in ("static_select", "users_select", "conversations_select", "channels_select", "overflow"):
        placeholder = _plain(el.get("placeholder")) or ("⋯" if kind == "overflow" else "Select…")
        options = _options(el, names)
        cls = "overflow act-select" if kind == "overflow" else "act-select"
        return f'<select class="{cls}"{common}><option value="">{esc(placeholder)}</option>{options}</select>'
    if kind == "image":
        return _image(el, cls="accessory-img")
    if kind == "datepicker":
        return f'<input type="date" class="act-select"{common} value="{esc(el.get("initial_date", ""))}">'
    return f'<span class="unsupported">[{esc(kind)}]</span>'


def _options(el: Mapping[str, Any], names: Names | None, *, selected: set[str] | None = None) -> str:
    kind = el.get("type", "")
    names = names or {}
    if kind.startswith("users_select") or kind == "multi_users_select":
        initial = {el.get("initial_user"), *(el.get("initial_users") or [])}
        pairs = [(uid, name) for uid, name in names.items() if uid.startswith("U")]
        return "".join(
            f'<option value="{esc(uid)}"{" selected" if uid in initial else ""}>@{esc(name)}</option>'
            for uid, name in pairs
        )
    if kind in ("conversations_select", "channels_select", "multi_conversations_select"):
        initial = {el.get("initial_conversation"), el.get("initial_channel")}
        pairs = [(cid, name) for cid, name in names.items() if cid[:1] in ("C", "G")]
        return "".join(
            f'<option value="{esc(cid)}"{" selected" if cid in initial else ""}>#{esc(name)}</option>'
            for cid, name in pairs
        )
    if selected is None:
        initial = el.get("initial_option") or {}
        selected = {o.get("value") for o in el.get("initial_options") or []} | {initial.get("value")}
    out = []
    groups = el.get("option_groups")
    if groups:
        for group in groups:
            inner = "".join(_option(o, selected) for o in group.get("options", []))
            out.append(f'<optgroup label="{esc(_plain(group.get("label")))}">{inner}</optgroup>')
    else:
        out.extend(_option(o, selected) for o in el.get("options") or [])
    return "".join(out)


def _option(option: Mapping[str, Any], selected: set[Any]) -> str:
    value = option.get("value", "")
    mark = " selected" if value in selected else ""
    return f'<option value="{esc(value)}"{mark}>{emoji(esc(_plain(option.get("text"))))}</option>'


def _image(el: Mapping[str, Any], *, cls: str) -> str:
    url = el.get("image_url", "")
    alt = esc(el.get("alt_text", ""))
    if not _SAFE_URL.match(url) or not url.startswith(("http://127.0.0.1", "http://localhost")):
        # The page never loads anything from outside 127.0.0.1: an external image shows as its alt text.
        return f'<span class="{cls} img-placeholder" title="{esc(url)}">🖼 {alt}</span>'
    return f'<img class="{cls}" src="{esc(url)}" alt="{alt}">'


def rich_text(block: Mapping[str, Any], names: Names | None = None) -> str:
    out = []
    for part in block.get("elements", []):
        kind = part.get("type")
        inner = _rich_elements(part.get("elements", []), names)
        if kind == "rich_text_section":
            out.append(f"<div>{inner}</div>")
        elif kind == "rich_text_preformatted":
            out.append(f"<pre>{inner}</pre>")
        elif kind == "rich_text_quote":
            out.append(f"<blockquote>{inner}</blockquote>")
        elif kind == "rich_text_list":
            tag = "ol" if part.get("style") == "ordered" else "ul"
            items = "".join(
                f"<li>{_rich_elements(i.get('elements', []), names)}</li>" for i in part.get("elements", [])
            )
            out.append(f"<{tag}>{items}</{tag}>")
    return f'<div class="rich">{"".join(out)}</div>'


def _rich_elements(elements: list[Mapping[str, Any]], names: Names | None) -> str:
    names = names or {}
    out = []
    for el in elements:
        kind = el.get("type")
        if kind == "text":
            piece = esc(el.get("text", "")).replace("\n", "<br>")
            style = el.get("style") or {}
            for key, tag in (("code", "code"), ("bold", "b"), ("italic", "i"), ("strike", "s")):
                if style.get(key):
                    piece = f"<{tag}>{piece}</{tag}>"
            out.append(piece)
        elif kind == "link":
            out.append(_link(el.get("url", ""), esc(el.get("text") or el.get("url", ""))))
        elif kind == "user":
            uid = el.get("user_id", "")
            out.append(f'<span class="mention">@{esc(names.get(uid, uid))}</span>')
        elif kind == "channel":
            cid = el.get("channel_id", "")
            out.append(f'<span class="mention">#{esc(names.get(cid, cid))}</span>')
        elif kind == "usergroup":
            out.append(f'<span class="mention">@{esc(el.get("usergroup_id", ""))}</span>')
        elif kind == "emoji":
            name = el.get("name", "")
            out.append(_EMOJI.get(name, f":{esc(name)}:"))
        elif kind == "broadcast":
            out.append(f'<span class="mention">@{esc(el.get("range", "here"))}</span>')
    return "".join(out)


def block(b: Mapping[str, Any], names: Names | None = None, *, modal: bool = False) -> str:
    kind = b.get("type")
    block_id = b.get("block_id", "")
    if kind == "header":
        return f'<div class="b-header">{text_object(b.get("text"))}</div>'
    if kind == "divider":
        return '<hr class="b-divider">'
    if kind == "section":
        body = f'<div class="b-text">{text_object(b.get("text"), names)}</div>' if b.get("text") else ""
        if b.get("fields"):
            cells = "".join(f'<div class="b-field">{text_object(f, names)}</div>' for f in b["fields"])
            body += f'<div class="b-fields">{cells}</div>'
        accessory = b.get("accessory")
        side = f'<div class="b-accessory">{element(accessory, block_id, names)}</div>' if accessory else ""
        return f'<div class="b-section"><div class="b-main">{body}</div>{side}</div>'
    if kind == "context":
        parts = []
        for el in b.get("elements", []):
            if el.get("type") == "image":
                parts.append(_image(el, cls="ctx-img"))
            else:
                parts.append(f"<span>{text_object(el, names)}</span>")
        return f'<div class="b-context">{" ".join(parts)}</div>'
    if kind == "actions":
        return (
            '<div class="b-actions">'
            + "".join(element(el, block_id, names) for el in b.get("elements", []))
            + "</div>"
        )
    if kind == "image":
        title = f'<div class="b-img-title">{text_object(b.get("title"))}</div>' if b.get("title") else ""
        return f'<div class="b-image">{title}{_image(b, cls="block-img")}</div>'
    if kind == "rich_text":
        return rich_text(b, names)
    if kind == "input":
        return input_block(b, names)
    return f'<div class="unsupported">[{esc(kind)} block]</div>'


def blocks(items: list[Mapping[str, Any]] | None, names: Names | None = None) -> str:
    return "".join(block(b, names) for b in items or [])


def input_block(b: Mapping[str, Any], names: Names | None = None) -> str:
    """A modal input: its form control is named `block_id/action_id` (see `state_values`)."""
    el = b.get("element") or {}
    name = f"{b.get('block_id', '')}/{el.get('action_id', '')}"
    kind = el.get("type")
    optional = ' <span class="optional">(optional)</span>' if b.get("optional") else ""
    label = f'<label class="in-label">{esc(_plain(b.get("label")))}{optional}</label>'
    hint = f'<div class="in-hint">{text_object(b.get("hint"))}</div>' if b.get("hint") else ""
    placeholder = esc(_plain(el.get("placeholder")))
    required = "" if b.get("optional") else " required"
    if kind == "plain_text_input":
        initial = esc(el.get("initial_value", ""))
        limits = "".join(
            f' {attr}="{int(el[key])}"'
            for key, attr in (("max_length", "maxlength"), ("min_length", "minlength"))
            if el.get(key)
        )
        if el.get("multiline"):
            control = (
                f'<textarea name="{esc(name)}" placeholder="{placeholder}"{limits}{required}>'
                f"{initial}</textarea>"
            )
        else:
            control = (
                f'<input type="text" name="{esc(name)}" value="{initial}" placeholder="{placeholder}"'
                f"{limits}{required}>"
            )
    elif kind == "number_input":
        control = (
            f'<input type="number" name="{esc(name)}" value="{esc(el.get("initial_value", ""))}"'
            f"{'' if el.get('is_decimal_allowed') else ' step=1'}{required}>"
        )
    elif kind in (
        "static_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "external_select",
    ):
        control = (
            f'<select name="{esc(name)}"{required}><option value="">{placeholder or "Select…"}</option>'
            f"{_options(el, names)}</select>"
        )
    elif kind in ("multi_static_select", "multi_users_select", "multi_conversations_select"):
        control = f'<select multiple name="{esc(name)}"{required}>{_options(el, names)}</select>'
    elif kind in ("radio_buttons", "checkboxes"):
        input_type = "radio" if kind == "radio_buttons" else "checkbox"
        initial = {(el.get("initial_option") or {}).get("value")} | {
            o.get("value") for o in el.get("initial_options") or []
        }
        control = "".join(
            f'<label class="choice"><input type="{input_type}" name="{esc(name)}"'
            f' value="{esc(o.get("value"))}"'
            f"{' checked' if o.get('value') in initial else ''}> {text_object(o.get('text'))}</label>"
            for o in el.get("options", [])
        )
    elif kind == "datepicker":
        control = (
            f'<input type="date" name="{esc(name)}" value="{esc(el.get("initial_date", ""))}"{required}>'
        )
    elif kind == "timepicker":
        control = (
            f'<input type="time" name="{esc(name)}" value="{esc(el.get("initial_time", ""))}"{required}>'
        )
    else:
        control = f'<span class="unsupported">[{esc(kind)}]</span>'
    return f'<div class="b-input" data-block-id="{esc(b.get("block_id", ""))}">{label}{control}{hint}</div>'
