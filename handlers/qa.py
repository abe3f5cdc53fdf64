"""`/qa`: scoring (modal or inline), reports, calibration, queue; and the score modal's submissions.

Acks are immediate: a bad inline command is answered in the ack (with the valid categories and scale);
everything that reads the helpdesk or the store runs in a lazy listener.
"""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout

import structlog
from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.blocks.ids import Commands, QaBlocks, QaViews
from bot.blocks.metadata import QaModalMetadata
from bot.blocks.qa_messages import ScorecardAudience, render_qa_help
from bot.blocks.qa_modal import QaModalView, parse_qa_submission, qa_loading_modal, qa_modal, qa_result_modal
from bot.domain.model import DomainError, TicketRef
from bot.domain.qa_parse import (
    Calibrate,
    CalibrationReport,
    Help,
    InlineScore,
    OpenModal,
    Queue,
    Report,
    parse_qa,
)
from bot.domain.qa_types import QaInputError, Scorecard
from bot.services.ticket_summary import UnknownTicket
from handlers.errors import lazy
from handlers.escalate import REF_CHECKER, TYPED_REF_CHECK_SECONDS
from integrations.base import HelpdeskError

log = structlog.get_logger(__name__)

_EXPIRED = ("expired_trigger_id", "invalid_trigger_id")


def not_configured() -> str:
    return (
        ":warning: QA scorecards are not configured yet: add a `qa:` block (scale, pass_mark, reviewers, "
        "rubric) to the Deskwatch config, then run `deskwatch config check`."
    )


def ack_qa(ack: Ack, command: dict, deps) -> None:
    if not deps.qa.enabled:
        ack(text=not_configured(), response_type="ephemeral")
        return
    rubric = deps.qa.rubric()
    try:
        parsed = parse_qa(command.get("text") or "", rubric)
    except QaInputError as exc:
        message = render_qa_help(rubric, error=str(exc))
        ack(text=message.text, blocks=message.blocks, response_type="ephemeral")
        return
    if isinstance(parsed, Help):
        message = render_qa_help(rubric)
        ack(text=message.text, blocks=message.blocks, response_type="ephemeral")
        return
    ack()


def run_qa(body: dict, respond, client, deps) -> None:
    if not deps.qa.enabled:
        return
    user, channel = body["user_id"], body.get("channel_id") or ""
    parsed = parse_qa(body.get("text") or "", deps.qa.rubric())
    try:
        if isinstance(parsed, OpenModal):
            deps.qa.require_reviewer(user)
            open_score_modal(
                deps, client, respond, body["trigger_id"], parsed.ref, channel, agent=parsed.agent
            )
        elif isinstance(parsed, InlineScore):
            review = deps.qa.record(parsed.scorecard, reviewer=user)
            message = deps.qa_renderer.card(review, deps.clock(), audience=ScorecardAudience.REVIEWER)
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        elif isinstance(parsed, Report):
            message = deps.qa.report(user, parsed.agent(user), parsed.days)
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        elif isinstance(parsed, Calibrate):
            cal = deps.calibration.open(parsed.ref, owner=user, channel=channel)
            respond(
                text=f"Calibration session on {cal.ref} opened here: reviewers press *Score blind*.",
                response_type="ephemeral",
            )
        elif isinstance(parsed, CalibrationReport):
            message = deps.calibration.report(user)
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        elif isinstance(parsed, Queue):
            message = deps.qa.queue(user)
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
    except (DomainError, HelpdeskError) as exc:
        respond(text=f":warning: {exc}", response_type="ephemeral")


def open_score_modal(
    deps,
    client,
    respond,
    trigger_id: str,
    ref: TicketRef | None,
    channel: str,
    *,
    agent: str | None = None,
    mode: str = "review",
    calibration_id: int | None = None,
    existing: Scorecard | None = None,
    review_id: int | None = None,
) -> None:
    """Loading view at once (the trigger_id lives 3 s), then the form with the ticket from the helpdesk."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=qa_loading_modal(str(ref) if ref else ""))
    except SlackApiError as exc:
        if exc.response.get("error") in _EXPIRED:
            if respond is not None:
                respond(
                    text=":hourglass: Slack's 3-second window to open the form passed; try again.",
                    response_type="ephemeral",
                    replace_original=False,
                )
            return
        raise
    view_id, view_hash = opened["view"]["id"], opened["view"].get("hash")
    ticket = None
    if ref is not None:
        try:
            item = deps.tickets.item(ref)  # read once: the summary and the assignee both come from it
            ticket = deps.tickets.summary(ref, now=deps.clock(), item=item)
        except (UnknownTicket, HelpdeskError) as exc:
            client.views_update(
                view_id=view_id, hash=view_hash, view=qa_result_modal("Cannot score", f"⚠️ {exc}")
            )
            return
        if agent is None and mode == "review":  # the assignee, as a Slack user (by email)
            agent = deps.qa_agents.slack_user(ref.source, item.assignee_id)
    rubric = deps.qa.rubric() if existing is None else existing_rubric(deps, review_id) or deps.qa.rubric()
    metadata = QaModalMetadata(
        mode=mode,
        ref=str(ref) if ref else None,
        channel_id=channel if channel and channel[0] in "CDG" else "D0" + (channel[1:] or "UNKNOWN"),
        calibration_id=calibration_id,
        review_id=review_id,
        rubric_version=rubric.version,
    )
    view = QaModalView(metadata=metadata, rubric=rubric, ticket=ticket, agent=agent, existing=existing)
    client.views_update(view_id=view_id, hash=view_hash, view=qa_modal(view))


def existing_rubric(deps, review_id: int | None):
    if review_id is None:
        return None
    review = deps.qa.store.get_review(review_id)
    return review.rubric if review else None


# -- the score modal -----------------------------------------------------------------------------------
def _submission(deps, body: dict):
    view = body["view"]
    meta = QaModalMetadata.decode(view.get("private_metadata") or "")
    rubric = existing_rubric(deps, meta.review_id) if meta.mode == "edit" else deps.qa.rubric()
    values = (view.get("state") or {}).get("values") or {}
    ref = TicketRef.parse(meta.ref) if meta.ref else None
    return meta, parse_qa_submission(values, rubric=rubric, ref=ref, mode=meta.mode)


def ack_score(ack: Ack, body: dict, deps) -> None:
    meta, card = _submission(deps, body)
    if isinstance(card, dict):
        ack(response_action="errors", errors=card)
        return
    if meta.ref is None:  # typed into the form: check it exists while the ack can still say so inline
        future = REF_CHECKER.submit(deps.tickets.item, card.ref)
        try:
            future.result(timeout=TYPED_REF_CHECK_SECONDS)
        except UnknownTicket as exc:
            ack(response_action="errors", errors={QaBlocks.REF: str(exc)[:150]})
            return
        except (FutureTimeout, HelpdeskError):
            pass  # checked again when saving; the result view says what happened
    ack(response_action="update", view=qa_result_modal("Saving…", f"⏳ Saving the scorecard for {card.ref}…"))


def submit_score(body: dict, respond, client, deps) -> None:
    meta, card = _submission(deps, body)
    if isinstance(card, dict):
        return
    user, view_id = body["user"]["id"], body["view"]["id"]
    try:
        if meta.mode == "calibration":
            assert meta.calibration_id is not None
            deps.calibration.score(meta.calibration_id, reviewer=user, scores=card.scores)
            text = "✅ Your blind score is in. Everyone's scores show when the session closes."
        elif meta.mode == "edit":
            assert meta.review_id is not None
            review = deps.qa.edit(meta.review_id, card, by=user)
            text = f"✅ Scorecard for {review.ref} updated: {review.result.percent:g} %."
        else:
            review = deps.qa.record(card, reviewer=user)
            verdict = "pass" if review.result.passed else "fail"
            told = "The agent gets it by DM." if deps.qa.qa.dm_agent else "Agent DMs are off (`qa.dm_agent`)."
            text = f"✅ Scored {review.ref}: {review.result.percent:g} % ({verdict}). {told}"
            _reviewer_copy(deps, client, meta.channel_id, user, review)
    except (DomainError, HelpdeskError) as exc:
        client.views_update(view_id=view_id, view=qa_result_modal("Not saved", f"⚠️ {exc}"))
        return
    client.views_update(view_id=view_id, view=qa_result_modal("Saved", text))


def _reviewer_copy(deps, client, channel: str, user: str, review) -> None:
    """The scorecard, with its Edit button, ephemerally where /qa ran (the modal itself cannot keep it)."""
    message = deps.qa_renderer.card(review, deps.clock(), audience=ScorecardAudience.REVIEWER)
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=message.blocks)
    except SlackApiError as exc:
        log.info("qa_reviewer_copy_skipped", channel=channel, error=exc.response.get("error"))


def register(app: App) -> None:
    app.command(Commands.QA.value)(ack=ack_qa, lazy=[lazy(run_qa)])
    for view in (QaViews.SCORE, QaViews.CALIBRATION_SCORE):
        app.view_submission(view.value)(ack=ack_score, lazy=[lazy(submit_score)])
