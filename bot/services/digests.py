"""Daily standup digests and weekly reports: which are due, what each says, and posting it once.

A digest is computed when it is enqueued (the figures at send time are what the team sees) and goes out
through the outbox under `digest:{team}:{schedule}:{local date}`, so a repeated or late run never posts a
second one. `run_due` is what the cron triggers and the catch-up job call: it enqueues the latest send
time of each schedule when it is on time, or when it was missed after the last one that went out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine, func, select

from bot.blocks.digest import digest_blocks, digest_text
from bot.config import AppConfig
from bot.config.digests import DigestSchedule, digest_channel, digests_for
from bot.domain.digest import narrative
from bot.domain.digest_schedule import (
    Covers,
    digest_key,
    missed_runs,
    previous_send_time,
    send_date_of,
    send_time_on,
    window,
)
from bot.domain.digest_view import BreachLine, DigestKind, DigestView
from bot.domain.model import Metric
from bot.services.digest_figures import CURRENT, FigureBuilder
from bot.services.history import HistoryService
from bot.services.outbox import Outbox
from bot.services.outbox_types import Cancel, Prepared
from bot.store.digest_queries import first_replies
from bot.store.outbox import Effect, OutboxItem
from bot.store.tables import DeadlineRow, OutboxRow, TicketRow

log = structlog.get_logger(__name__)

OB = OutboxRow.__table__
DIGEST_PURPOSE = "digest"
DIGEST_METADATA_EVENT = "deskwatch_digest"
# A send time this recent counts as on time even when no digest of the schedule ever went out.
ON_TIME_GRACE = timedelta(minutes=30)
DEFINITIONS_URL = "https://github.com/deskwatch/deskwatch/blob/main/README.md#digest-definitions"


class UnknownTeam(ValueError):
    """`digest send --team` / `/digest` named a team the configuration does not have."""


@dataclass(frozen=True)
class Enqueued:
    key: str
    team: str
    schedule: str
    send_at: datetime
    late: bool


class DigestService:
    def __init__(
        self,
        *,
        engine: Engine,
        history: HistoryService,
        config: AppConfig,
        outbox: Outbox,
        url_of: Callable[[str], str | None],
        definitions_url: str = DEFINITIONS_URL,
    ) -> None:
        self.engine = engine
        self.history = history
        self.config = config
        self.outbox = outbox
        self.url_of = url_of
        self.definitions_url = definitions_url
        self.figures = FigureBuilder(engine=engine, history=history, config=config)

    # -- which digest ---------------------------------------------------------------------------------
    def schedule(self, team: str, *, weekly: bool = False) -> DigestSchedule:
        """The team's configured daily (or weekly) schedule; an unconfigured one gets the defaults (09:00,
        Mon-Fri previous business day / Monday previous week), so `/digest` works before any is set up."""
        config_team = self.config.team(team)
        if config_team is None:
            known = ", ".join(t.name for t in self.config.teams) or "none configured"
            raise UnknownTeam(f'"{team}" is not a configured team (teams: {known})')
        for digest in digests_for(self.config, config_team.name):
            if (digest.covers is Covers.PREVIOUS_WEEK) == weekly:
                return digest
        covers = Covers.PREVIOUS_WEEK if weekly else Covers.PREVIOUS_BUSINESS_DAY
        return DigestSchedule.model_validate(
            {"team": config_team.name, "at": "09:00", "covers": covers.value}
        )

    def _tz(self, digest: DigestSchedule):
        return self.config.team_tz(digest.team)

    def send_time_on(self, digest: DigestSchedule, day: date) -> datetime:
        return send_time_on(digest.send_schedule(), self._tz(digest), day)

    # -- what it says ---------------------------------------------------------------------------------
    def view(self, digest: DigestSchedule, send_at: datetime, *, now: datetime) -> DigestView:
        calendar = self.config.calendar_for(digest.team)
        start, end = window(digest.send_schedule(), send_at, self._tz(digest), calendar)
        return self.view_of(digest, start, end, now=now)

    def view_of(
        self, digest: DigestSchedule, start: datetime, end: datetime, *, now: datetime, breaches: int = 5
    ) -> DigestView:
        """The digest of [start, end); `breaches`: how many of the worst to list (the modal lists more)."""
        computed = self.figures.figures(
            digest.team,
            start,
            end,
            now=now,
            at_risk=lambda: self.at_risk(digest.team, now),
            breaches=breaches,
        )
        return DigestView(
            team=digest.team,
            schedule=digest.schedule_name,
            kind=DigestKind.WEEKLY if digest.covers is Covers.PREVIOUS_WEEK else DigestKind.DAILY,
            start=start,
            end=end,
            timezone=str(self._tz(digest)),
            figures=computed.figures,
            narrative=narrative(computed.figures),
            worst_breaches=self._breach_lines(computed.worst_breaches, end),
            synced_at=self.history.synced_at(),
            generated_at=now,
            definitions_url=self.definitions_url,
            business_hours=computed.business_hours,
        )

    def _breach_lines(self, breaches, end: datetime) -> tuple[BreachLine, ...]:
        refs = [b.ref for b in breaches]
        T = TicketRow.__table__
        with self.engine.connect() as conn:
            facts = {
                ref: (subject, url)
                for ref, subject, url in conn.execute(
                    select(T.c.ref, T.c.subject, T.c.url).where(T.c.ref.in_(refs))
                )
            }
        replied = first_replies(self.engine, [b.ref for b in breaches if b.metric == Metric.FIRST_REPLY])
        lines = []
        for b in breaches:
            subject, url = facts.get(b.ref, (None, None))
            overdue = None
            if b.due_at is not None and b.metric == Metric.FIRST_REPLY:
                # late by the time the reply came, or by the window's end if it had not come by then
                met = min(replied.get(b.ref, end), end)
                overdue = max(int((met - b.due_at).total_seconds()), 0) or None
            lines.append(
                BreachLine(
                    ref=b.ref,
                    url=url or self.url_of(b.ref) or "",
                    metric=b.metric,
                    due_at=b.due_at,
                    overdue_seconds=overdue,
                    priority=b.priority,
                    subject=subject or None,
                )
            )
        return tuple(lines)

    def at_risk(self, team: str, now: datetime) -> int:
        """Deadlines of the team inside the widest warning now (not yet breached)."""
        widest = max(self.config.alerts.warn_before, default=timedelta(0))
        D = DeadlineRow.__table__
        stmt = select(func.count()).where(D.c.team == team, D.c.due_at > now, D.c.due_at <= now + widest)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    # -- sending --------------------------------------------------------------------------------------
    def enqueue(
        self, digest: DigestSchedule, send_at: datetime, *, now: datetime, late: bool = False
    ) -> Enqueued | None:
        """Compute the digest of `send_at` and queue its post; None when that date's digest was queued."""
        day = send_date_of(send_at, self._tz(digest))
        key = digest_key(digest.team, digest.schedule_name, day)
        if self._queued(key):
            return None
        if abs(now - send_at) <= CURRENT:
            self.history.snapshot(now=now)  # next week's digest compares its backlog with this one
        view = self.view(digest, send_at, now=now)
        payload: dict[str, Any] = {
            "team": digest.team,
            "schedule": digest.schedule_name,
            "date": day.isoformat(),
            "text": digest_text(view),
            "blocks": digest_blocks(view),
        }
        effect = Effect(
            key=key,
            kind="slack.post",
            purpose=DIGEST_PURPOSE,
            channel=digest_channel(self.config, digest),
            payload=payload,
        )
        if not self.outbox.enqueue([effect], now=now):
            return None
        log.info(
            "digest_enqueued",
            team=digest.team,
            schedule=digest.schedule_name,
            date=day.isoformat(),
            late=late,
        )
        return Enqueued(key, digest.team, digest.schedule_name, send_at, late)

    def due(self, *, now: datetime) -> list[tuple[DigestSchedule, datetime, bool]]:
        """(schedule, send time, late) of every schedule whose latest send time is on time (within
        ON_TIME_GRACE) or was missed after the last digest it sent, and is not queued yet."""
        found = []
        for digest in self.config.digests:
            schedule, tz = digest.send_schedule(), self._tz(digest)
            calendar = self.config.calendar_for(digest.team)
            try:
                latest = previous_send_time(schedule, tz, calendar, now + timedelta(microseconds=1))
            except ValueError as exc:
                log.warning("digest_schedule_unusable", team=digest.team, error=str(exc))
                continue
            late = now - latest > ON_TIME_GRACE
            if late:
                missed = missed_runs(schedule, tz, calendar, self.last_sent(digest), now)
                if not missed:
                    continue
                latest = missed[-1]
            key = digest_key(digest.team, digest.schedule_name, send_date_of(latest, tz))
            if not self._queued(key):
                found.append((digest, latest, late))
        return found

    def run_due(
        self, *, now: datetime, due: list[tuple[DigestSchedule, datetime, bool]] | None = None
    ) -> list[Enqueued]:
        """Queue every digest `due` now (`due`: what the caller already found, not looked up again)."""
        done = []
        for digest, send_at, late in self.due(now=now) if due is None else due:
            queued = self.enqueue(digest, send_at, now=now, late=late)
            if queued is not None:
                done.append(queued)
        return done

    def last_sent(self, digest: DigestSchedule) -> datetime | None:
        """The send time of the schedule's newest queued digest (its outbox key carries the date)."""
        prefix = digest_key(digest.team, digest.schedule_name, date(2000, 1, 1))[: -len("2000-01-01")]
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = select(func.max(OB.c.key)).where(OB.c.key.like(f"{escaped}%", escape="\\"))
        with self.engine.connect() as conn:
            key = conn.execute(stmt).scalar()
        if not key:
            return None
        return self.send_time_on(digest, date.fromisoformat(key[len(prefix) :]))

    def _queued(self, key: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(OB.c.id).where(OB.c.key == key)).first() is not None


class DigestPurpose:
    """Posts the digest rendered when it was queued: a retry sends exactly what was decided."""

    def before_batch(self, items: list[OutboxItem], now: datetime) -> None:
        return None

    def prepare(self, item: OutboxItem, now: datetime) -> Prepared | Cancel:
        if not item.channel:
            return Cancel("the digest has no channel")
        args = {"channel": item.channel, "text": item.payload["text"], "blocks": item.payload["blocks"]}
        metadata = {"event_type": DIGEST_METADATA_EVENT, "event_payload": {"team": item.payload["team"]}}
        return Prepared(method="chat.postMessage", args=args, metadata=metadata)

    def on_posted(self, conn, item: OutboxItem, result: dict[str, Any], now: datetime) -> None:
        return None

    def on_final(self, conn, item: OutboxItem, state: str, reason: str, now: datetime) -> None:
        return None
