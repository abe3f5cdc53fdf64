"""History records -> store rows: the team at the time, durations in wall and business seconds, and the
first-reply SLA outcomes Deskwatch decides itself for Intercom (which exposes no breach times)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.config import AppConfig
from bot.domain.calendar import BusinessHours, add_business_time
from bot.domain.history import EventKind, Rating, SlaOutcome, TicketEvent
from bot.domain.model import Metric, Source
from bot.domain.routing import normalise_id
from bot.domain.sla import INTERCOM_PRIORITY
from bot.store.history import HistoryRows
from integrations.history import HistoryPage

TeamOf = Callable[[Source, str | None], str | None]


def team_resolver(config: AppConfig) -> TeamOf:
    """(source, helpdesk group/team id) -> configured team name, None when no team claims it."""
    by_id: dict[tuple[Source, str], str] = {}
    for route in config.routes():
        for group in route.zendesk_group_ids:
            by_id.setdefault((Source.ZENDESK, str(normalise_id(group))), route.name)
        for team in route.intercom_team_ids:
            by_id.setdefault((Source.INTERCOM, str(normalise_id(team))), route.name)

    def team_of(source: Source, group_id: str | None) -> str | None:
        key = normalise_id(group_id)
        return None if key is None else by_id.get((source, key))

    return team_of


class RowBuilder:
    """Stamps each record with its team and durations; one per pull (the config is read once)."""

    def __init__(self, config: AppConfig, *, now: datetime) -> None:
        self.config = config
        self.team_of = team_resolver(config)
        self.now = now
        self._calendars: dict[str | None, BusinessHours | None] = {}

    def calendar(self, team: str | None) -> BusinessHours | None:
        if team not in self._calendars:
            self._calendars[team] = self.config.calendar_for(team)
        return self._calendars[team]

    def rows(self, page: HistoryPage) -> HistoryRows:
        events, tags, outcomes = [], [], []
        for event in page.events:
            row = self._event(event)
            events.append(row)
            if event.kind is EventKind.CREATED:
                tags += [
                    {"ref": row["ref"], "tag": tag[:128], "team": row["team"], "at": event.at}
                    for tag in dict.fromkeys(event.tags)
                    if tag
                ]
            if event.kind is EventKind.FIRST_REPLY and event.ref.source is Source.INTERCOM:
                outcome = self.intercom_first_reply_outcome(event)
                if outcome is not None:
                    outcomes.append(self._outcome(outcome))
        outcomes += [self._outcome(outcome) for outcome in page.outcomes]
        ratings = [self._rating(rating) for rating in page.ratings]
        return HistoryRows(events=events, tags=tags, outcomes=outcomes, ratings=ratings)

    def _event(self, event: TicketEvent) -> dict[str, Any]:
        team = self.team_of(event.ref.source, event.group_id)
        start = None
        if event.kind is EventKind.FIRST_REPLY:
            start = event.clock_started_at or event.created_at
        elif event.kind is EventKind.SOLVED:
            start = event.created_at
        seconds = business = None
        if start is not None and event.at >= start:
            seconds = int((event.at - start).total_seconds())
            calendar = self.calendar(team)
            business = (
                seconds
                if calendar is None
                else int(calendar.business_time_between(start, event.at).total_seconds())
            )
        return {
            "ref": str(event.ref),
            "event_id": event.event_id[:96],
            "kind": event.kind.value,
            "at": event.at,
            "team": team,
            "group_id": normalise_id(event.group_id),
            "priority": event.priority,
            "channel": (event.channel or None) and event.channel[:32],
            "created_at": event.created_at,
            "seconds": seconds,
            "business_seconds": business,
            "agent_replies": event.agent_replies,
            "recorded_at": self.now,
        }

    def intercom_first_reply_outcome(self, event: TicketEvent) -> SlaOutcome | None:
        """Deskwatch's own first-reply target for an Intercom conversation, met or missed by this reply.

        The cycle matches the live deadline's (`first:<unix start>`), so an overdue deadline recorded as a
        breach before the reply came and this outcome are one row, not two."""
        started = event.clock_started_at or event.created_at
        team = self.team_of(Source.INTERCOM, event.group_id)
        targets = self.config.intercom_targets()
        is_priority = event.priority == INTERCOM_PRIORITY
        target = targets.first_reply_priority if is_priority else targets.first_reply_not_priority
        if not isinstance(target, timedelta):
            return None
        due = add_business_time(self.calendar(team), started, target)
        achieved = event.at <= due
        return SlaOutcome(
            ref=event.ref,
            metric=Metric.FIRST_REPLY.value,
            cycle=f"first:{int(started.timestamp())}",
            achieved=achieved,
            at=event.at if achieved else due,
            due_at=due,
            group_id=event.group_id,
            priority=event.priority,
        )

    def _outcome(self, outcome: SlaOutcome) -> dict[str, Any]:
        return {
            "ref": str(outcome.ref),
            "metric": outcome.metric[:64],
            "cycle": outcome.cycle[:64],
            "achieved": outcome.achieved,
            "at": outcome.at,
            "due_at": outcome.due_at,
            "team": self.team_of(outcome.ref.source, outcome.group_id),
            "priority": outcome.priority,
            "recorded_at": self.now,
        }

    def _rating(self, rating: Rating) -> dict[str, Any]:
        return {
            "ref": str(rating.ref),
            "rating_id": rating.rating_id[:64],
            "good": rating.good,
            "score": rating.score[:16],
            "at": rating.at,
            "team": self.team_of(rating.ref.source, rating.group_id),
            "recorded_at": self.now,
        }
