"""Every Block Kit action_id, block_id and slash command Deskwatch uses, as StrEnum members.

Renderers and `register(app)` functions import the same member, so an id can never drift between the
message that carries a button and the listener that handles it (Netflix Dispatch's `enums.py` pattern).
"""

from __future__ import annotations

from enum import StrEnum


class DeskwatchEnum(StrEnum):
    """Shared base: members compare and format as their plain string value."""


class SlaActions(DeskwatchEnum):
    """action_ids of the buttons on an SLA alert message."""

    ACKNOWLEDGE = "sla_alert_acknowledge"
    OPEN_TICKET = "sla_alert_open_ticket"
    # Per-line Acknowledge of a grouped alert message. Its action_id is f"{ACKNOWLEDGE_IN_GROUP}_{alert_id}"
    # (unique within the message); listen with `bot.blocks.alert_group.GROUP_ACK_ACTION_RE`.
    ACKNOWLEDGE_IN_GROUP = "sla_group_acknowledge"


class SlaBlocks(DeskwatchEnum):
    """block_ids of SLA alert messages and of the `/sla` summary."""

    HEADER = "sla_alert_header"
    SUMMARY = "sla_alert_summary"
    DETAILS = "sla_alert_details"
    ACKNOWLEDGED = "sla_alert_acknowledged"
    MOVED = "sla_alert_deadline_moved"
    ACTIONS = "sla_alert_actions"
    LIST_HEADER = "sla_list_header"
    LIST_COUNTS = "sla_list_counts"
    LIST_ROWS = "sla_list_rows"  # row sections use f"{LIST_ROWS}_{n}" to stay unique within a message
    LIST_MORE = "sla_list_more"
    LIST_EMPTY = "sla_list_empty"
    GROUP_HEADER = "sla_group_header"
    GROUP_LINE = "sla_group_line"  # one section per ticket: f"{GROUP_LINE}_{alert_id}"
    GROUP_ACKNOWLEDGED = "sla_group_acknowledged"  # under an acked line: f"{GROUP_ACKNOWLEDGED}_{alert_id}"
    GROUP_FOOTER = "sla_group_footer"
    BACKLOG_HEADER = "sla_backlog_header"
    BACKLOG_INTRO = "sla_backlog_intro"
    BACKLOG_ROWS = "sla_backlog_rows"  # one section per ticket: f"{BACKLOG_ROWS}_{n}"
    BACKLOG_MORE = "sla_backlog_more"


class Commands(DeskwatchEnum):
    """Slash commands, as registered in the Slack app manifest."""

    SLA = "/sla"
    ESCALATE = "/escalate"
    QA = "/qa"
    DIGEST = "/digest"
