"""Events API: @Deskwatch mentions get a short help reply in thread."""

from __future__ import annotations

import json

from handlers.events import HELP_TEXT
from tests.helpers.slack_requests import signed_post
from tests.helpers.waiting import wait_for


def test_app_mention_replies_with_help_in_thread(running_bot, slack_emu):
    parent = running_bot.deps.slack.chat_postMessage(channel="C0BILLING", text="hello team")["ts"]
    event = {
        "token": "legacy",
        "team_id": "T0DESKWATCH",
        "api_app_id": "A0DESKWATCH",
        "type": "event_callback",
        "event_id": "Ev01",
        "event_time": 1795446000,
        "event": {
            "type": "app_mention",
            "user": "U0MANAGER",
            "text": "<@U0DESKBOT> help",
            "ts": parent,
            "channel": "C0BILLING",
            "event_ts": parent,
        },
        "authorizations": [{"team_id": "T0DESKWATCH", "user_id": "U0DESKBOT", "is_bot": True}],
    }

    resp = signed_post(
        running_bot.events_url, json.dumps(event), secret=running_bot.secret, content_type="application/json"
    )

    assert resp.status_code == 200
    reply = wait_for(lambda: [m for m in slack_emu.messages() if m.get("thread_ts") == parent], what="reply")[
        0
    ]
    assert reply["text"] == HELP_TEXT
