"""QA buttons: Dispute (agent), Accept / Reject / Rescore (reviewer), Score blind / Close session
(calibration), Score (sampled ticket), Edit (own scorecard); and the dispute modals' submissions."""

from __future__ import annotations

import contextlib

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.blocks.ids import QaActions, QaViews
from bot.blocks.metadata import QaButtonValue, QaDecisionMetadata
from bot.blocks.qa_dispute_modal import (
    DisputeDecisionModalView,
    DisputeReasonModalView,
    dispute_decision_modal,
    dispute_reason_modal,
    parse_dispute_decision,
    parse_dispute_reason,
)
from bot.blocks.qa_messages import SCORE_ACTION_RE
from bot.domain.model import DomainError, TicketRef
from bot.domain.qa_types import Scorecard
from handlers.errors import lazy
from handlers.qa import open_score_modal


def ack_only(ack: Ack) -> None:
    ack()


def _tell(respond, text: str) -> None:
    if respond is not None:
        respond(text=text, response_type="ephemeral", replace_original=False)


def _value(action: dict) -> QaButtonValue:
    return QaButtonValue.decode(action.get("value") or "")


def _open(client, respond, trigger_id: str, view: dict) -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        if exc.response.get("error") in ("expired_trigger_id", "invalid_trigger_id"):
            _tell(respond, ":hourglass: Slack's 3-second window to open the form passed; press it again.")
            return
        raise


def _channel(body: dict) -> str:
    return (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id") or ""


# -- the agent's Dispute ---------------------------------------------------------------------------------
def open_dispute(body: dict, action: dict, respond, client, deps) -> None:
    review = deps.qa.get_review(_value(action).review_id)
    if review.agent != body["user"]["id"]:
        _tell(respond, ":no_entry: only the agent who was scored can dispute this scorecard")
        return
    view = DisputeReasonModalView(
        review_id=review.id, ref=review.ref, reviewer=review.reviewer, result=review.result
    )
    _open(client, respond, body["trigger_id"], dispute_reason_modal(view))


def ack_dispute_reason(ack: Ack, view: dict) -> None:
    reason = parse_dispute_reason((view.get("state") or {}).get("values") or {})
    if isinstance(reason, dict):
        ack(response_action="errors", errors=reason)
        return
    ack()


def submit_dispute_reason(body: dict, respond, client, deps) -> None:
    view = body["view"]
    review_id = QaButtonValue.decode(view.get("private_metadata") or "").review_id
    reason = parse_dispute_reason((view.get("state") or {}).get("values") or {})
    user = body["user"]["id"]
    try:
        deps.qa.open_dispute(review_id, agent=user, reason=reason)
    except DomainError as exc:
        _dm(deps, user, f":warning: {exc}")


def _dm(deps, user: str, text: str) -> None:
    """A short reply after a modal (no response_url there): ephemeral in the app's DM with the user."""
    with contextlib.suppress(SlackApiError):
        deps.slack.chat_postEphemeral(channel=deps.directory.dm_channel(user), user=user, text=text)


# -- the reviewer's decision -------------------------------------------------------------------------------
def accept_dispute(body: dict, action: dict, respond, deps) -> None:
    try:
        deps.qa.decide(_value(action).dispute_id, by=body["user"]["id"], outcome="accepted")
    except DomainError as exc:
        _tell(respond, f":no_entry: {exc}")


def open_decision(body: dict, action: dict, respond, client, deps) -> None:
    dispute = deps.qa.store.dispute(_value(action).dispute_id)
    user = body["user"]["id"]
    if dispute is None:
        _tell(respond, ":warning: That dispute no longer exists.")
        return
    if not deps.qa.may_decide(dispute, user):
        _tell(
            respond, ":no_entry: only the reviewer of this scorecard or a team manager can decide its dispute"
        )
        return
    if dispute.state != "open":
        _tell(respond, f":information_source: this dispute was already {dispute.state}")
        return
    review = deps.qa.get_review(dispute.review_id)
    outcome = "rescore" if action["action_id"] == QaActions.DISPUTE_RESCORE else "reject"
    view = DisputeDecisionModalView(
        dispute_id=dispute.id,
        outcome=outcome,
        agent=dispute.agent,
        ref=review.ref,
        reason=dispute.reason,
        rubric=review.rubric,
        scores=review.scores,
        result=review.result,
    )
    _open(client, respond, body["trigger_id"], dispute_decision_modal(view))


def _decision(deps, view: dict):
    meta = QaDecisionMetadata.decode(view.get("private_metadata") or "")
    dispute = deps.qa.store.dispute(meta.dispute_id)
    review = deps.qa.get_review(dispute.review_id) if dispute else None
    rubric = review.rubric if review else deps.qa.rubric()
    values = (view.get("state") or {}).get("values") or {}
    return meta, review, parse_dispute_decision(values, outcome=meta.outcome, rubric=rubric)


def ack_decision(ack: Ack, view: dict, deps) -> None:
    _, _, decision = _decision(deps, view)
    if isinstance(decision, dict):
        ack(response_action="errors", errors=decision)
        return
    ack()


def submit_decision(body: dict, respond, client, deps) -> None:
    meta, review, decision = _decision(deps, body["view"])
    if isinstance(decision, dict) or review is None:
        return
    user = body["user"]["id"]
    card = None
    if decision.scores is not None:
        card = Scorecard(review.agent, review.ref, decision.scores, review.comment, review.coaching)
    outcome = "rescored" if meta.outcome == "rescore" else "rejected"
    try:
        deps.qa.decide(meta.dispute_id, by=user, outcome=outcome, note=decision.note, card=card)
    except DomainError as exc:
        _dm(deps, user, f":warning: {exc}")


# -- calibration, sampled tickets, edits ---------------------------------------------------------------------
def score_blind(body: dict, action: dict, respond, client, deps) -> None:
    cal = deps.qa.store.calibration(_value(action).calibration_id)
    user = body["user"]["id"]
    if cal is None or cal.status != "open":
        _tell(respond, ":information_source: this calibration session is closed")
        return
    if not deps.qa.is_reviewer(user):
        _tell(respond, ":no_entry: only QA reviewers and team managers take part in calibration")
        return
    open_score_modal(
        deps,
        client,
        respond,
        body["trigger_id"],
        cal.ref,
        _channel(body),
        mode="calibration",
        calibration_id=cal.id,
    )


def close_session(body: dict, action: dict, respond, deps) -> None:
    try:
        if not deps.calibration.close(_value(action).calibration_id, by=body["user"]["id"]):
            _tell(respond, ":information_source: this calibration session was already closed")
    except DomainError as exc:
        _tell(respond, f":no_entry: {exc}")


def score_sampled(body: dict, action: dict, respond, client, deps) -> None:
    value = _value(action)
    ref = TicketRef.parse(value.ref) if value.ref else None
    if not deps.qa.is_reviewer(body["user"]["id"]):
        _tell(respond, ":no_entry: only QA reviewers and team managers can score tickets")
        return
    open_score_modal(deps, client, respond, body["trigger_id"], ref, _channel(body))


def edit_review(body: dict, action: dict, respond, client, deps) -> None:
    review = deps.qa.get_review(_value(action).review_id)
    user = body["user"]["id"]
    if review.reviewer != user:
        _tell(respond, ":no_entry: only the reviewer who wrote a scorecard can edit it")
        return
    existing = Scorecard(review.agent, review.ref, review.scores, review.comment, review.coaching)
    open_score_modal(
        deps,
        client,
        respond,
        body["trigger_id"],
        review.ref,
        _channel(body),
        mode="edit",
        existing=existing,
        review_id=review.id,
    )


def register(app: App) -> None:
    app.action(QaActions.DISPUTE.value)(ack=ack_only, lazy=[lazy(open_dispute)])
    app.action(QaActions.DISPUTE_ACCEPT.value)(ack=ack_only, lazy=[lazy(accept_dispute)])
    for action_id in (QaActions.DISPUTE_REJECT, QaActions.DISPUTE_RESCORE):
        app.action(action_id.value)(ack=ack_only, lazy=[lazy(open_decision)])
    app.action(QaActions.CALIBRATION_SCORE.value)(ack=ack_only, lazy=[lazy(score_blind)])
    app.action(QaActions.CALIBRATION_CLOSE.value)(ack=ack_only, lazy=[lazy(close_session)])
    app.action(SCORE_ACTION_RE)(ack=ack_only, lazy=[lazy(score_sampled)])
    app.action(QaActions.EDIT.value)(ack=ack_only, lazy=[lazy(edit_review)])
    app.view_submission(QaViews.DISPUTE_REASON.value)(
        ack=ack_dispute_reason, lazy=[lazy(submit_dispute_reason)]
    )
    app.view_submission(QaViews.DISPUTE_DECISION.value)(ack=ack_decision, lazy=[lazy(submit_decision)])
