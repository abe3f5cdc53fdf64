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
    ESCALATE = "sla_alert_escalate"  # opens the /escalate modal for the alert's ticket


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


class UnfurlActions(DeskwatchEnum):
    """action_ids on a ticket link unfurl that are its own. Acknowledge and Open ticket reuse
    `SlaActions` (Acknowledge carries the ticket's posted alert's `AlertButtonValue`)."""

    ESCALATE = "unfurl_escalate"  # opens the /escalate form for the card's ticket (`UnfurlButtonValue`)


class UnfurlBlocks(DeskwatchEnum):
    """block_ids of a ticket link unfurl card."""

    SUMMARY = "unfurl_summary"
    FIELDS = "unfurl_fields"
    ESCALATION = "unfurl_escalation"
    ACTIONS = "unfurl_actions"


class Commands(DeskwatchEnum):
    """Slash commands, as registered in the Slack app manifest."""

    SLA = "/sla"
    ESCALATE = "/escalate"
    QA = "/qa"
    DIGEST = "/digest"


class EscalationActions(DeskwatchEnum):
    """action_ids on a handoff message. Buttons carry an `EscalationButtonValue`; the Reassign user picker
    has no value, so its escalation id rides in the actions block_id (see `escalation_id_from_block_id`)."""

    ACCEPT = "esc_accept"
    REASSIGN = "esc_reassign"
    NEED_INFO = "esc_need_info"
    ESCALATE_FURTHER = "esc_escalate_further"
    INFO_ADDED = "esc_info_added"


class EscalationBlocks(DeskwatchEnum):
    """block_ids of handoff messages, their thread notes and the `/escalate` modal."""

    HEADER = "esc_header"
    SUMMARY = "esc_summary"
    FACTS = "esc_facts"
    NEEDS = "esc_needs"
    TRIED = "esc_tried"
    NOTE = "esc_note"
    QUESTION = "esc_question"
    RESPONDERS = "esc_responders"
    STATUS = "esc_status"
    ACTIONS = "esc_actions"  # carries the escalation id: f"{ACTIONS}_{escalation_id}"
    THREAD_STEP = "esc_thread_step"
    MODAL_LOADING = "esc_modal_loading"
    MODAL_TICKET = "esc_modal_ticket"
    MODAL_TICKET_FACTS = "esc_modal_ticket_facts"
    MODAL_LAST_MESSAGE = "esc_modal_last_message"
    MODAL_NO_TICKET = "esc_modal_no_ticket"
    MODAL_REF = "esc_modal_ref"
    MODAL_TIER = "esc_modal_tier"
    MODAL_REASON = "esc_modal_reason"
    MODAL_NEEDS = "esc_modal_needs"
    MODAL_TRIED = "esc_modal_tried"
    MODAL_URGENCY = "esc_modal_urgency"


class EscalationModalActions(DeskwatchEnum):
    """action_ids of the `/escalate` modal's inputs (keys inside `view.state.values[block_id]`)."""

    REF = "esc_modal_ref_input"
    TIER = "esc_modal_tier_select"
    REASON = "esc_modal_reason_select"
    NEEDS = "esc_modal_needs_input"
    TRIED = "esc_modal_tried_input"
    URGENCY = "esc_modal_urgency_select"


class EscalationViews(DeskwatchEnum):
    """callback_ids of the `/escalate` modal: the loading view opened at once, then the form."""

    LOADING = "esc_modal_loading_view"
    FORM = "esc_modal_form"
    RESULT = "esc_modal_result"  # what the form turns into when the ticket cannot be escalated
    NEED_INFO = "esc_prompt_need_info"  # a responder's question to the escalator
    INFO_ADDED = "esc_prompt_info_added"  # the escalator's answer
    FURTHER = "esc_prompt_escalate_further"  # why it goes to the next tier


class EscalationPromptIds(DeskwatchEnum):
    """block_id / action_id of the one text input of a handoff prompt modal."""

    BLOCK = "esc_prompt_text"
    INPUT = "esc_prompt_text_input"


class Shortcuts(DeskwatchEnum):
    """callback_ids of message shortcuts, as registered in the Slack app manifest."""

    ESCALATE_TICKET = "escalate_ticket"


class QaActions(DeskwatchEnum):
    """action_ids of the buttons on QA messages. Every button carries a `QaButtonValue` (ids only)."""

    DISPUTE = "qa_dispute"  # on the agent's scorecard DM; opens the dispute reason modal
    DISPUTE_ACCEPT = "qa_dispute_accept"  # on the reviewer's dispute message
    DISPUTE_REJECT = "qa_dispute_reject"  # opens the decision modal (a note is required)
    DISPUTE_RESCORE = "qa_dispute_rescore"  # opens the decision modal with the category selects
    CALIBRATION_SCORE = "qa_calibration_score"  # "Score blind" on a calibration session message
    CALIBRATION_CLOSE = "qa_calibration_close"  # "Close session" (the owner only)
    # "Score" on each ticket of a queue / sample DM. Its action_id is f"{SCORE}_{n}" (unique within the
    # message); listen with `bot.blocks.qa_messages.SCORE_ACTION_RE`.
    SCORE = "qa_score"
    EDIT = "qa_edit"  # on the reviewer's own confirmation, while the edit window is open


class QaBlocks(DeskwatchEnum):
    """block_ids of the QA modals' inputs and of QA messages."""

    # score modal inputs
    AGENT = "qa_agent"
    REF = "qa_ref"
    CATEGORY = "qa_cat"  # one input per rubric category: f"{CATEGORY}_{key}" (see `category_block_id`)
    COMMENT = "qa_comment"
    COACHING = "qa_coaching"
    # dispute modals' inputs
    DISPUTE_REASON = "qa_dispute_reason"
    RESCORE = "qa_rescore_note"  # the reviewer's note in the decision modal (reject or rescore)
    # modal context
    MODAL_LOADING = "qa_modal_loading"
    MODAL_RESULT = "qa_modal_result"
    MODAL_TICKET = "qa_modal_ticket"
    MODAL_TICKET_FACTS = "qa_modal_ticket_facts"
    MODAL_MESSAGES = "qa_modal_messages"
    MODAL_NOTE = "qa_modal_note"
    MODAL_DISPUTE = "qa_modal_dispute"
    # messages (each message's ids are unique within it; numbered ids are f"{member}_{n}")
    HEADER = "qa_header"
    SUMMARY = "qa_summary"
    SCORES = "qa_scores"  # numbered when the category lines need more than one section
    TOTAL = "qa_total"
    CRITICAL = "qa_critical"
    COMMENT_TEXT = "qa_comment_text"
    COACHING_TEXT = "qa_coaching_text"
    REASON_TEXT = "qa_reason_text"
    NOTE_TEXT = "qa_note_text"
    STATUS = "qa_status"
    ACTIONS = "qa_actions"
    TREND = "qa_trend"
    CATEGORIES = "qa_categories"  # numbered like SCORES
    ROWS = "qa_rows"  # numbered: team report lines, queue tickets, calibration sessions
    MORE = "qa_more"
    EMPTY = "qa_empty"
    ALPHA = "qa_alpha"
    HELP = "qa_help"
    ERROR = "qa_error"


class QaModalActions(DeskwatchEnum):
    """action_ids of the QA modals' inputs (keys inside `view.state.values[block_id]`)."""

    AGENT = "qa_agent_select"
    REF = "qa_ref_input"
    CATEGORY = "qa_cat_select"  # f"{CATEGORY}_{key}" (see `category_action_id`)
    COMMENT = "qa_comment_input"
    COACHING = "qa_coaching_input"
    DISPUTE_REASON = "qa_dispute_reason_input"
    RESCORE = "qa_rescore_note_input"


class QaViews(DeskwatchEnum):
    """callback_ids of the QA modals."""

    LOADING = "qa_modal_loading_view"  # opened at once while the helpdesk is asked about the ticket
    RESULT = "qa_modal_result_view"  # what the form becomes when it cannot go on (unknown ticket)
    SCORE = "qa_score_modal"  # review and edit mode (QaModalMetadata.mode says which)
    CALIBRATION_SCORE = "qa_calibration_score_modal"
    DISPUTE_REASON = "qa_dispute_reason_modal"
    DISPUTE_DECISION = "qa_dispute_decision_modal"  # reject / rescore note (QaDecisionMetadata)


class DigestActions(DeskwatchEnum):
    """action_ids on a digest message. The Details button carries a `DigestButtonValue`."""

    DETAILS = "digest_details"  # opens the details modal (the handler recomputes the window)


class DigestBlocks(DeskwatchEnum):
    """block_ids of the digest message; the details modal numbers its sections f"{member}_{n}"."""

    HEADER = "digest_header"
    NARRATIVE = "digest_narrative"
    VOLUME = "digest_volume"
    SLA = "digest_sla"
    BREACHES = "digest_breaches"  # the worst breaches under the SLA fields
    SPEED = "digest_speed"
    QUALITY = "digest_quality"
    ESCALATIONS = "digest_escalations"
    DRIVERS = "digest_drivers"
    FOOTER = "digest_footer"
    ACTIONS = "digest_actions"
    # details modal only
    CHANNELS = "digest_channels"
    TIERS = "digest_tiers"
    MORE = "digest_more"


class DigestViews(DeskwatchEnum):
    """callback_ids of the digest modals."""

    DETAILS = "digest_details_modal"  # private_metadata is the `DigestButtonValue` it was opened with


class HomeActions(DeskwatchEnum):
    """action_ids of the App Home buttons (no value: the user comes with the payload)."""

    REFRESH = "home_refresh"
    OPEN_SLA = "home_open_sla"  # a button cannot run a slash command: it opens the `/sla` list in a modal


class HomeBlocks(DeskwatchEnum):
    """block_ids of the App Home tab; list sections are numbered f"{member}_{n}"."""

    HEADER = "home_header"
    ACTIONS = "home_actions"
    UPDATED = "home_updated"
    MINE_HEADER = "home_mine_header"
    MINE_ROWS = "home_mine_rows"
    MINE_MORE = "home_mine_more"
    MINE_EMPTY = "home_mine_empty"
    TEAMS_HEADER = "home_teams_header"
    TEAM = "home_team"  # one section per team: f"{TEAM}_{n}"
    TEAMS_MORE = "home_teams_more"
    NEXT_ROWS = "home_next_rows"
    NEXT_EMPTY = "home_next_empty"
    ESC_HEADER = "home_esc_header"
    ESC_ROWS = "home_esc_rows"
    ESC_MORE = "home_esc_more"
    ESC_EMPTY = "home_esc_empty"
    QA_HEADER = "home_qa_header"
    QA_SUMMARY = "home_qa_summary"
    DIVIDER = "home_divider"  # numbered


class HomeViews(DeskwatchEnum):
    """callback_ids of the views Home opens."""

    HOME = "home_tab"
    SLA_MODAL = "home_sla_modal"
