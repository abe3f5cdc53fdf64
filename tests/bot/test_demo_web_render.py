"""bot.demo_web.render: Block Kit -> HTML for the demo page, block by block."""

from __future__ import annotations

from bot.demo_web import forms, render

NAMES = {"U0ADA": "ada", "C0T2": "t2"}


def test_header_divider_context_and_mrkdwn():
    html = render.blocks(
        [
            {"type": "header", "text": {"type": "plain_text", "text": "SLA <breached> :rotating_light:"}},
            {"type": "divider"},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "*bold* _it_ ~s~ `c` <@U0ADA> <#C0T2>"}],
            },
        ],
        NAMES,
    )
    assert "SLA &lt;breached&gt; 🚨" in html and '<hr class="b-divider">' in html
    assert "<b>bold</b>" in html and "<i>it</i>" in html and "<s>s</s>" in html and "<code>c</code>" in html
    assert "@ada" in html and "#t2" in html


def test_links_are_escaped_and_only_http():
    html = render.mrkdwn("<https://x.example/a?b=1&amp;c=2|open &lt;it&gt;> <javascript:alert(1)|bad>")
    assert 'href="https://x.example/a?b=1&amp;c=2"' in html and "open &lt;it&gt;" in html
    assert "javascript" not in html.split("bad")[0].split("href")[-1] or 'href="javascript' not in html


def test_formatting_around_links_and_mentions():
    html = render.mrkdwn("*<https://dw.example/1|zd:101>* · _<@U0ADA>_ &lt;b&gt;", NAMES)
    assert html.startswith('<b><a href="https://dw.example/1"')
    assert "zd:101</a></b>" in html
    assert '<i><span class="mention">@ada</span></i>' in html
    assert "&lt;b&gt;" in html and "<b>b" not in html


def test_section_fields_and_accessories():
    html = render.block(
        {
            "type": "section",
            "block_id": "b1",
            "text": {"type": "mrkdwn", "text": "ticket"},
            "fields": [{"type": "mrkdwn", "text": "*Due*\nsoon"}],
            "accessory": {
                "type": "button",
                "action_id": "ack",
                "value": "v1",
                "text": {"type": "plain_text", "text": "Ack"},
            },
        }
    )
    assert 'class="b-fields"' in html and "<b>Due</b><br>soon" in html
    assert 'data-action-id="ack"' in html and 'data-block-id="b1"' in html and 'data-value="v1"' in html


def test_actions_buttons_selects_overflow_and_url_button():
    el_select = {
        "type": "static_select",
        "action_id": "pick",
        "options": [{"text": {"type": "plain_text", "text": "One"}, "value": "1"}],
    }
    overflow = {"type": "overflow", "action_id": "more", "options": el_select["options"]}
    html = render.block(
        {
            "type": "actions",
            "block_id": "a",
            "elements": [
                {
                    "type": "button",
                    "action_id": "go",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Go"},
                },
                {
                    "type": "button",
                    "action_id": "open",
                    "url": "https://z.example/t/1",
                    "text": {"type": "plain_text", "text": "Open"},
                },
                el_select,
                overflow,
                {"type": "users_select", "action_id": "who", "initial_user": "U0ADA"},
            ],
        },
        NAMES,
    )
    assert 'class="btn primary act"' in html and 'href="https://z.example/t/1"' in html
    assert '<option value="1">One</option>' in html and 'class="overflow act-select"' in html
    assert '<option value="U0ADA" selected>@ada</option>' in html
    assert forms.action_payload(overflow, "a", "1")["selected_option"]["value"] == "1"
    assert (
        forms.find_element([{"type": "actions", "block_id": "a", "elements": [overflow]}], "a", "more")
        == overflow
    )


def test_images_never_load_from_outside_localhost():
    outside = render.block({"type": "image", "image_url": "https://cdn.example/x.png", "alt_text": "chart"})
    local = render.block({"type": "image", "image_url": "http://127.0.0.1:9/x.png", "alt_text": "chart"})
    assert "<img" not in outside and "chart" in outside
    assert '<img class="block-img" src="http://127.0.0.1:9/x.png"' in local


def test_rich_text():
    html = render.block(
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "hi <x>", "style": {"bold": True}},
                        {"type": "user", "user_id": "U0ADA"},
                        {"type": "emoji", "name": "fire"},
                        {"type": "link", "url": "https://a.example", "text": "a"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]}
                    ],
                },
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "code"}]},
                {"type": "rich_text_quote", "elements": [{"type": "text", "text": "q"}]},
            ],
        },
        NAMES,
    )
    assert (
        "<b>hi &lt;x&gt;</b>" in html
        and "@ada" in html
        and "🔥" in html
        and 'href="https://a.example"' in html
    )
    assert (
        "<ol><li>one</li></ol>" in html and "<pre>code</pre>" in html and "<blockquote>q</blockquote>" in html
    )


def test_modal_inputs_and_state_values():
    options = [{"text": {"type": "plain_text", "text": "Fraud"}, "value": "fraud"}]
    view = {
        "blocks": [
            {
                "type": "input",
                "block_id": "r",
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {"type": "static_select", "action_id": "a", "options": options},
            },
            {
                "type": "input",
                "block_id": "n",
                "label": {"type": "plain_text", "text": "Needs"},
                "element": {"type": "plain_text_input", "action_id": "a", "multiline": True},
            },
            {
                "type": "input",
                "block_id": "u",
                "optional": True,
                "label": {"type": "plain_text", "text": "Who"},
                "element": {"type": "users_select", "action_id": "a"},
            },
            {
                "type": "input",
                "block_id": "c",
                "label": {"type": "plain_text", "text": "Flags"},
                "element": {"type": "checkboxes", "action_id": "a", "options": options},
            },
        ]
    }
    html = "".join(render.block(b, NAMES) for b in view["blocks"])
    assert 'name="r/a"' in html and "<textarea" in html and "(optional)" in html and 'type="checkbox"' in html
    form = {"r/a": ["fraud"], "n/a": ["help"], "u/a": ["U0ADA"], "c/a": ["fraud"]}
    values = forms.state_values(view, lambda name: form.get(name, []))
    assert values["r"]["a"]["selected_option"]["value"] == "fraud"
    assert values["n"]["a"] == {"type": "plain_text_input", "value": "help"}
    assert values["u"]["a"]["selected_user"] == "U0ADA"
    assert values["c"]["a"]["selected_options"][0]["value"] == "fraud"
