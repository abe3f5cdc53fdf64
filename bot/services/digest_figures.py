"""One team's `DigestFigures` for a window: the window's aggregates beside the same window a week earlier.

Reads only aggregates (`bot.store.digest_queries`), the backlog snapshots, and Deskwatch's own handoff and
QA records; the arithmetic (trends, medians, rates) is `bot.domain.digest`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.config import AppConfig
from bot.domain.digest import (
    DigestFigures,
    EscalationFigures,
    SpeedFigures,
    TierFigures,
    Trend,
    attainment,
    csat,
    median,
    one_touch,
    p90,
    top_movers,
)
from bot.domain.model import Source
from bot.services.history import HistoryService, Snapshot, age_buckets_of
from bot.services.history_rows import team_resolver
from bot.store import digest_extras
from bot.store.digest_queries import WORST_BREACHES, BreachRecord, WindowData, window_data

WEEK = timedelta(days=7)
# A window ending this close to now is "now": its backlog is counted live and "at risk now" applies.
CURRENT = timedelta(minutes=15)
TAGS_LISTED = 100  # the message shows the top five; the Details modal lists these


@dataclass(frozen=True)
class ComputedFigures:
    figures: DigestFigures
    worst_breaches: tuple[BreachRecord, ...]
    business_hours: bool


class FigureBuilder:
    def __init__(self, *, engine: Engine, history: HistoryService, config: AppConfig) -> None:
        self.engine = engine
        self.history = history
        self.config = config

    def figures(
        self,
        team: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        at_risk: Callable[[], int],
        breaches: int = WORST_BREACHES,
    ) -> ComputedFigures:
        business = self.config.calendar_for(team) is not None
        cur = window_data(self.engine, team, start, end, business_hours=business, worst=breaches)
        prev = window_data(self.engine, team, start - WEEK, end - WEEK, business_hours=business, worst=0)
        backlog_now = self._backlog(team, end, now=now)
        backlog_before = self.history.backlog_at(team, end - WEEK)
        ratings = (cur.rated, prev.rated)
        figures = DigestFigures(
            new=Trend(cur.new, prev.new),
            solved=Trend(cur.solved, prev.solved),
            reopened=Trend(cur.reopened, prev.reopened),
            backlog=Trend(
                None if backlog_now is None else backlog_now.open,
                None if backlog_before is None else backlog_before.open,
            ),
            backlog_ages=age_buckets_of(backlog_now) if backlog_now is not None else {},
            by_channel=dict(sorted(cur.by_channel.items(), key=lambda kv: (-kv[1], kv[0]))),
            sla_attainment={
                metric: Trend(attainment(*cur.outcomes[metric]), _attainment(prev, metric))
                for metric in sorted(cur.outcomes)
            },
            breaches=Trend(cur.breaches if cur.has_sla else None, prev.breaches if prev.has_sla else None),
            breaches_by_priority=cur.breaches_by_priority,
            at_risk=at_risk() if abs(now - end) <= CURRENT else None,
            first_reply=_speed(cur.first_reply_seconds, prev.first_reply_seconds, business),
            resolution=_speed(cur.resolution_seconds, prev.resolution_seconds, business),
            csat=Trend(csat(cur.rated_good, cur.rated), csat(prev.rated_good, prev.rated)),
            csat_responses=ratings[0],
            one_touch=Trend(
                one_touch(cur.one_touch, cur.solved_counted), one_touch(prev.one_touch, prev.solved_counted)
            ),
            tags=top_movers(cur.tags, prev.tags, n=TAGS_LISTED) if cur.tags or prev.tags else None,
            **self._qa(team, start, end),
            escalations=self._escalations(team, start, end),
        )
        return ComputedFigures(figures, tuple(cur.worst_breaches), business)

    def _backlog(self, team: str, end: datetime, *, now: datetime) -> Snapshot | None:
        if abs(now - end) <= CURRENT:  # a digest sent now: count the open items now
            for snapshot in self.history.live_backlog(now=now):
                if snapshot.team == team:
                    return snapshot
        return self.history.backlog_at(team, end)

    def _team_of_refs(self, refs: set[str]) -> dict[str, str | None]:
        team_of = team_resolver(self.config)
        groups = digest_extras.ticket_groups(self.engine, refs)
        return {ref: team_of(Source(src), group) for ref, (src, group) in groups.items()}

    def _qa(self, team: str, start: datetime, end: datetime) -> dict:
        if self.config.qa is None:
            return {}
        cur = digest_extras.reviews(self.engine, start, end)
        prev = digest_extras.reviews(self.engine, start - WEEK, end - WEEK)
        teams = self._team_of_refs({r.ref for r in cur + prev})
        cur = [r for r in cur if teams.get(r.ref) == team]
        prev = [r for r in prev if teams.get(r.ref) == team]

        def average(rs):
            return sum(r.percent for r in rs) / len(rs) if rs else None

        def pass_rate(rs):
            return sum(1 for r in rs if r.passed) / len(rs) * 100 if rs else None

        return {
            "qa_average": Trend(average(cur), average(prev)),
            "qa_pass_rate": Trend(pass_rate(cur), pass_rate(prev)),
            "qa_reviews": len(cur),
        }

    def _escalations(self, team: str, start: datetime, end: datetime) -> EscalationFigures | None:
        escalation = self.config.escalation
        if escalation is None:
            return None
        cur = digest_extras.handoffs(self.engine, start, end)
        prev = digest_extras.handoffs(self.engine, start - WEEK, end - WEEK)
        teams = self._team_of_refs({h.ref for h in cur + prev})
        cur = [h for h in cur if teams.get(h.ref) == team]
        prev = [h for h in prev if teams.get(h.ref) == team]

        def summary(handoffs, s, e):
            opened = [h for h in handoffs if s <= h.opened_at < e]
            accepted = [h for h in handoffs if h.accepted_at is not None and s <= h.accepted_at < e]
            waits = [h.accepted_at - h.opened_at for h in accepted]  # type: ignore[operator]
            still = [h for h in handoffs if h.opened_at < e and h.closed_at is None]
            return opened, accepted, waits, still

        opened, accepted, waits, still = summary(cur, start, end)
        p_opened, p_accepted, p_waits, _ = summary(prev, start - WEEK, end - WEEK)
        names = [tier.name for tier in escalation.tiers]
        tiers = []
        for index, name in enumerate(names):
            t_acc = [h for h in accepted if h.tier == index]
            tiers.append(
                TierFigures(
                    tier=name,
                    opened=sum(1 for h in opened if h.tier == index),
                    accepted=len(t_acc),
                    still_open=sum(1 for h in still if h.tier == index),
                    median_time_to_accept=median([h.accepted_at - h.opened_at for h in t_acc]),  # type: ignore[arg-type,operator]
                )
            )
        return EscalationFigures(
            opened=Trend(len(opened), len(p_opened)),
            accepted=Trend(len(accepted), len(p_accepted)),
            still_open=len(still),
            median_time_to_accept=Trend(median(waits), median(p_waits)),
            tiers=tuple(tiers),
        )


def _attainment(data: WindowData, metric: str) -> float | None:
    counts = data.outcomes.get(metric)
    return None if counts is None else attainment(*counts)


def _speed(current: list[int], previous: list[int], business: bool) -> SpeedFigures | None:
    if not current and not previous:
        return None

    def spans(values: list[int]) -> list[timedelta]:
        return [timedelta(seconds=v) for v in values]

    cur, prev = spans(current), spans(previous)
    return SpeedFigures(
        median=Trend(median(cur), median(prev)),
        p90=Trend(p90(cur), p90(prev)),
        count=len(cur),
        business_hours=business,
    )
