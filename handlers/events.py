"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

HELP_TEXT = (
    "I post SLA warnings and breaches for Zendesk and Intercom here. "
    "Use `/sla` for your team's breached and at-risk tickets, `/sla all` for every team."
)


def reply_to_mention(event: dict, say) -> None:
    say(text=HELP_TEXT, thread_ts=event.get("thread_ts") or event.get("ts"))


def register(app: App) -> None:
    app.event("app_mention")(reply_to_mention)
