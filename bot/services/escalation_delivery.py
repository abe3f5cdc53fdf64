"""Outbox purposes of escalations: the handoff post and its updates, thread notes, the need-info DM and
the helpdesk write-backs (internal note, routing, assignee).

Everything is rendered when it goes out, from the stored state, so a delayed row never shows an older
state. A thread note, the DM and the note (which links the thread) wait for the handoff message
(`Defer`); if the handoff could not be posted at all they are cancelled, the note is written without a
link. Write-back outcomes are audited and told in the thread: success once, the first failure of a
row, and giving up, so Slack never silently disagrees with the helpdesk.
"""

from __future__ import annotations

import http.client
import urllib.error
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Connection

from bot.blocks.escalation import ThreadStep, render_handoff, render_thread_step
from bot.blocks.text import format_local, mrkdwn_link, mrkdwn_text, user_mention
from bot.domain.escalation_types import AuditEvent
from bot.domain.model import Source, TicketRef
from bot.domain.redact import RedactionPolicy, redact
from bot.services.escalation_effects import (
    POST_METADATA_EVENT,
    post_key,
    step_effect,
)
from bot.services.outbox import Cancel, Defer, HelpdeskCall, Prepared
from bot.services.slack_directory import AgentDirectory, SlackDirectory
from bot.store.escalations import EscalationStore, StoredEscalation
from bot.store.outbox import OutboxItem, OutboxState, OutboxStore
from integrations.base import HelpdeskWriter, add_note_once

log = structlog.get_logger(__name__)

WAIT_FOR_POST = timedelta(seconds=5)
SLACK_RETRY = timedelta(seconds=30)


class _Base:
    def __init__(
        self,
        *,
        store: EscalationStore,
        outbox: OutboxStore,
        views: Any,  # EscalationViews-like: .handoff(stored, now) and .tz(tier)
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.views = views

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None:
        return None

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        return None

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        return None

    def _escalation(self, item: OutboxItem) -> StoredEscalation | None:
        return self.store.get(item.subject_id) if item.subject_id is not None else None

    def _posted(self, item: OutboxItem) -> tuple[StoredEscalation, str, str] | Cancel | Defer:
        """(escalation, channel, ts) of a row that needs the handoff message, or what to do instead."""
        esc = self._escalation(item)
        if esc is None:
            return Cancel("the escalation no longer exists")
        parent = self._parent(esc)
        return (esc, *parent) if isinstance(parent, tuple) else parent

    def _parent(self, esc: StoredEscalation) -> tuple[str, str] | Cancel | Defer:
        """(channel, ts) of the handoff message, or what to do while there is none."""
        if esc.channel and esc.message_ts:
            return esc.channel, esc.message_ts
        post = self.outbox.get_by_key(post_key(esc.id))
        if post is None or post.state in (OutboxState.DEAD, OutboxState.CANCELLED):
            why = "never queued" if post is None else f"{post.state}: {post.last_error or ''}"
            return Cancel(f"the handoff message was not posted ({why})")
        return Defer("waiting for the handoff message", WAIT_FOR_POST)


class HandoffPostPurpose(_Base):
    """The handoff message in the tier's channel, mentioning who the state machine says to mention."""

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel:
        esc = self._escalation(item)
        if esc is None:
            return Cancel("the escalation no longer exists")
        if esc.message_ts:
            return Cancel("already posted")
        mentions = tuple(item.payload.get("mentions") or ())
        message = render_handoff(self.views.handoff(esc, now, mentions=mentions), now=now)
        return Prepared(
            method="chat.postMessage",
            args={"channel": item.channel, "text": message.text, "blocks": message.blocks},
            metadata={"event_type": POST_METADATA_EVENT, "event_payload": {"escalation_id": esc.id}},
        )

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        esc_id = int(item.subject_id or 0)
        self.store.record_message(esc_id, channel=result["channel"], ts=result["ts"], now=now, conn=conn)
        esc = self.store.get(esc_id)
        if esc is not None:
            event = AuditEvent(esc.state.chain, esc.state.tier, "posted", None, now, {"ts": result["ts"]})
            self.store.append_events(esc_id, [event], now=now, conn=conn)

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        esc = self._escalation(item)
        if esc is not None and state == OutboxState.DEAD:
            event = AuditEvent(esc.state.chain, esc.state.tier, "post_failed", None, now, {"error": reason})
            self.store.append_events(esc.id, [event], now=now, conn=conn)


class HandoffUpdatePurpose(_Base):
    """chat.update of the handoff message to its current state (idempotent: retried freely)."""

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel | Defer:
        posted = self._posted(item)
        if not isinstance(posted, tuple):
            return posted
        esc, channel, ts = posted
        message = render_handoff(self.views.handoff(esc, now), now=now)
        return Prepared(
            method="chat.update",
            args={"channel": channel, "ts": ts, "text": message.text, "blocks": message.blocks},
        )


class ThreadStepPurpose(_Base):
    """One step told in the handoff's thread."""

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel | Defer:
        posted = self._posted(item)
        if not isinstance(posted, tuple):
            return posted
        esc, channel, ts = posted
        p = item.payload
        tz = self.views.tz(esc.state.tier)
        step = ThreadStep(p["step"])
        detail = p.get("detail")
        if step in (ThreadStep.DUE_WARNING, ThreadStep.DUE_PASSED) and detail:
            detail = format_local(datetime.fromisoformat(detail), tz)
        message = render_thread_step(
            step,
            p.get("actor"),
            datetime.fromisoformat(p["at"]),
            detail,
            tz,
            mentions=p.get("mentions") or (),
            tier_name=p.get("tier_name"),
            time_to_accept=_seconds(p.get("tta_s")),
            time_to_resolve=_seconds(p.get("ttr_s")),
        )
        args = {"channel": channel, "thread_ts": ts, "text": message.text, "blocks": message.blocks}
        if step in _BROADCAST:
            args["reply_broadcast"] = True  # a passed deadline, an unanswered last tier: the channel sees it
        return Prepared(method="chat.postMessage", args=args)


_BROADCAST = frozenset({ThreadStep.DUE_PASSED, ThreadStep.ACK_EXHAUSTED, ThreadStep.WRITE_BACK_GAVE_UP})


class NeedInfoDmPurpose(_Base):
    """The responder's question, by DM to the escalator, linking the thread where to answer."""

    def __init__(self, *, directory: SlackDirectory, slack: WebClient, **kw: Any) -> None:
        super().__init__(**kw)
        self.directory = directory
        self.slack = slack

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel | Defer:
        posted = self._posted(item)
        if not isinstance(posted, tuple):
            return posted
        esc, channel, ts = posted
        try:
            link = _permalink(self.slack, channel, ts)
        except SlackUnreachable as exc:
            return Defer(str(exc), SLACK_RETRY)
        state = esc.state
        asked_by = item.payload.get("asked_by")
        who = user_mention(asked_by) if asked_by else "A responder"
        question = mrkdwn_text(state.question or "(see the thread)", 1500)
        where = mrkdwn_link(link, "the handoff thread") if link else "the handoff thread"
        text = (
            f"❓ {who} needs more information on your escalation of {state.ref}:\n>{question}\n"
            f"Answer in {where}, or press *Info added* there."
        )
        return Prepared(
            method="chat.postMessage",
            args={"channel": self.directory.dm_channel(item.payload["user"]), "text": text},
        )


class WriteBackPurpose(_Base):
    """Helpdesk write-backs: the note (found by its marker before any re-send), routing, assignee."""

    def __init__(
        self,
        *,
        writers: Callable[[Source], HelpdeskWriter | None],
        agents: AgentDirectory,
        slack: WebClient,
        redaction: RedactionPolicy,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.writers = writers
        self.agents = agents
        self.slack = slack
        self.redaction = redaction

    def prepare(self, item: OutboxItem, now: datetime) -> HelpdeskCall | Cancel | Defer:
        esc = self._escalation(item)
        if esc is None:
            return Cancel("the escalation no longer exists")
        ref = esc.state.ref
        writer = self.writers(ref.source)
        if writer is None:
            return Cancel(f"{ref.source.label} is not connected: nothing to write back to")
        op = item.payload["op"]
        if op == "note":
            parent = self._parent(esc)
            if isinstance(parent, Defer):
                return parent
            try:
                link = _permalink(self.slack, *parent) if isinstance(parent, tuple) else None
            except SlackUnreachable as exc:
                return Defer(str(exc), SLACK_RETRY)
            body = self.views.note_text(esc, link, clean=lambda text: redact(text, self.redaction))
            marker = f"deskwatch:esc:{esc.id}:note"
            return HelpdeskCall(str(ref), lambda: _note(writer, ref, body, marker))
        if op == "route":
            p = item.payload
            return HelpdeskCall(
                str(ref),
                lambda: _route(writer, ref, p.get("group_id"), p.get("assignee_id"), p.get("tags") or ()),
            )
        if op == "assign":
            user = item.payload["user"]
            return HelpdeskCall(str(ref), lambda: self._assign(writer, ref, user))
        return Cancel(f"unknown write-back {op!r}")

    def _assign(self, writer: HelpdeskWriter, ref: TicketRef, user: str) -> dict[str, Any]:
        agent, why = self.agents.agent_for(writer, ref.source, user)
        if agent is None:
            return {"op": "assign", "user": user, "skipped": why}
        writer.route(ref.external_id, assignee_id=agent)
        return {"op": "assign", "user": user, "agent_id": agent}

    def on_posted(self, conn: Connection, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        esc = self._escalation(item)
        if esc is None:
            return
        state = esc.state
        skipped = result.get("skipped")
        kind = "assignee_unchanged" if skipped else "written_back"
        details = {k: v for k, v in result.items() if k != "target"}
        event = AuditEvent(state.chain, state.tier, kind, None, now, details)
        self.store.append_events(esc.id, [event], now=now, conn=conn)
        label = state.ref.source.label
        if skipped:
            text = f"the owner could not be made the {label} assignee: {skipped}"
            step = ThreadStep.ASSIGNEE_SKIPPED
        else:
            text = _written_words(item.payload, label, result, item.attempts)
            step = ThreadStep.WRITTEN_BACK
        self.outbox.enqueue([self._step(esc, item, step, text, now, "done")], now=now, conn=conn)

    def on_attempt_failed(self, item: OutboxItem, reason: str, now: datetime, *, final: bool) -> None:
        esc = self._escalation(item)
        if esc is None or final:
            return  # a final failure is told by on_final, in the row's own transaction
        event = AuditEvent(
            esc.state.chain,
            esc.state.tier,
            "write_failed",
            None,
            now,
            {"op": item.payload["op"], "error": reason},
        )
        self.store.append_events(esc.id, [event], now=now)
        if item.attempts == 1:  # the first failure is told; later retries only audited
            text = f"{_op_words(item.payload)} in {esc.state.ref.source.label}: {reason}"
            step = self._step(esc, item, ThreadStep.WRITE_BACK_FAILED, text, now, "failed")
            self.outbox.enqueue([step], now=now)

    def on_final(self, conn: Connection, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        esc = self._escalation(item)
        if esc is None or state != OutboxState.DEAD:
            return
        op = item.payload["op"]
        event = AuditEvent(
            esc.state.chain,
            esc.state.tier,
            "write_failed",
            None,
            now,
            {"op": op, "error": reason, "final": True},
        )
        self.store.append_events(esc.id, [event], now=now, conn=conn)
        text = (
            f"{_op_words(item.payload)} in {esc.state.ref.source.label}: {reason}; "
            f"fix it and run `deskwatch outbox retry {item.id}`"
        )
        step = self._step(esc, item, ThreadStep.WRITE_BACK_GAVE_UP, text, now, "dead")
        self.outbox.enqueue([step], now=now, conn=conn)

    def _step(self, esc: StoredEscalation, item: OutboxItem, step: ThreadStep, text: str, now, tag: str):
        return step_effect(
            esc.id,
            esc.channel,
            f"{item.key}:told:{tag}:{item.attempts}",
            step,
            actor=None,
            at=now.isoformat(),
            detail=text,
            mentions=[],
            tier_name=None,
        )


def _note(writer: HelpdeskWriter, ref: TicketRef, body: str, marker: str) -> dict[str, Any]:
    result = add_note_once(writer, ref.external_id, body, marker=marker)
    return {"op": "note", "note_id": result.ref, "created": result.created}


def _route(writer: HelpdeskWriter, ref: TicketRef, group, assignee, tags) -> dict[str, Any]:
    writer.route(ref.external_id, group_id=group, assignee_id=assignee, tags=list(tags))
    return {"op": "route", "group_id": group, "assignee_id": assignee, "tags": list(tags)}


def _op_words(payload: dict[str, Any]) -> str:
    op = payload["op"]
    if op == "note":
        return "could not add the internal note"
    if op == "route":
        return "could not route the ticket"
    return "could not make the owner the assignee"


def _written_words(payload: dict[str, Any], label: str, result: dict[str, Any], attempts: int) -> str:
    op = payload["op"]
    if op == "note":
        what = "internal note added" if result.get("created", True) else "internal note was already there"
    elif op == "route":
        parts = []
        if payload.get("group_id"):
            parts.append(("group " if label == "Zendesk" else "team ") + str(payload["group_id"]))
        if payload.get("assignee_id"):
            parts.append(f"assignee {payload['assignee_id']}")
        if payload.get("tags"):
            parts.append("tags " + ", ".join(payload["tags"]))
        what = "routed to " + "; ".join(parts)
    else:
        what = f"the owner is now the assignee (agent {result.get('agent_id')})"
    after = f" (after {attempts} attempts)" if attempts > 1 else ""
    return f"{label}: {what}{after}"


class SlackUnreachable(Exception):
    """chat.getPermalink got no answer: the row waits (`Defer`) rather than going out without its link."""


def _permalink(slack: WebClient, channel: str, ts: str) -> str | None:
    """The thread's permalink; None when Slack refuses (the text then names the thread without a link)."""
    try:
        return slack.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.warning("permalink_failed", channel=channel, error=exc.response.get("error"))
        return None
    except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
        raise SlackUnreachable(f"Slack unreachable for the thread link ({type(exc).__name__})") from None


def _seconds(value: Any) -> timedelta | None:
    return None if value is None else timedelta(seconds=int(value))
