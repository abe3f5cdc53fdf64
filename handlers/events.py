"""Events API listeners."""

from __future__ import annotations

from slack_bolt import Ack, App

HELP_TEXT = (
    "I post SLA warnings and breaches for Zendesk and Intercom here. "
    "Use `/sla` for your team's breached and at-risk tickets, `/sla all` for every team."
)


def reply_to_mention(event: dict, say) -> None:
    say(text=HELP_TEXT, thread_ts=event.get("thread_ts") or event.get("ts"))


def ack_event(ack: Ack) -> None:
    ack()


def register(app: App) -> None:
    # Acks run on the request thread (process_before_response): anything that calls Slack is lazy.
    app.event("app_mention")(ack=ack_event, lazy=[reply_to_mention])
