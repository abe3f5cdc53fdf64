"""App Home: builds one person's board from the store, publishes it, and keeps the boards of people who
look at Home fresh.

`views.publish` replaces the user's whole Home tab: publishing the same view twice leaves Slack as one
publish does, so it goes straight through the Slack client, not the outbox (whose job is to make posts
happen exactly once). What is published is remembered in `home_views` (user, opened_at, published_at,
hash): `refresh_recent` (the home job, every ~30 s) recomputes the board of everyone who opened Home in
the last day and publishes only when the rendered view's hash changed, and at most once per `debounce`
per user, so a burst of alert, escalation or QA changes becomes one publish.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.home import HomeEscalation, HomeQa, HomeTeam, HomeView, render_home
from bot.blocks.ids import HomeBlocks
from bot.blocks.sla_list import SlaListRow
from bot.config import AppConfig
from bot.domain.model import Source, TicketRef
from bot.domain.routing import normalise_id
from bot.services.escalations import EscalationService
from bot.services.qa import QaService
from bot.services.slack_directory import AgentDirectory
from bot.store.deadlines import ListedDeadline
from bot.store.home import HomeStore
from integrations.base import HelpdeskError, HelpdeskWriter

log = structlog.get_logger(__name__)

DEBOUNCE = timedelta(seconds=60)  # at most one background publish per user per minute
ACTIVE_FOR = timedelta(hours=24)  # boards of people who opened Home within a day are kept fresh
QA_DAYS = 30
MY_TICKETS_READ = 200


@dataclass(frozen=True)
class Published:
    user: str
    published: bool
    hash: str
    reason: str = ""  # "unchanged", "debounced", the Slack error code


def view_hash(view: dict[str, Any]) -> str:
    """What changed means: the view without its "Updated 14:05" line (which changes every minute)."""
    blocks = [b for b in view.get("blocks", ()) if b.get("block_id") != HomeBlocks.UPDATED]
    payload = json.dumps({**view, "blocks": blocks}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class HomeService:
    def __init__(
        self,
        *,
        store: HomeStore,
        config: AppConfig,
        escalations: EscalationService,
        qa: QaService,
        agents: AgentDirectory,
        writers: Callable[[Source], HelpdeskWriter | None],
        sources: Iterable[Source],
        slack: WebClient,
        clock: Callable[[], datetime],
        debounce: timedelta = DEBOUNCE,
        active_for: timedelta = ACTIVE_FOR,
    ) -> None:
        self.store = store
        self.config = config
        self.escalations = escalations
        self.qa = qa
        self.agents = agents
        self.writers = writers
        self.sources = tuple(sources)
        self.slack = slack
        self.clock = clock
        self.debounce = debounce
        self.active_for = active_for

    # -- publishing --------------------------------------------------------------------------------------
    def opened(self, user: str, *, now: datetime | None = None) -> Published:
        """The user opened Home: remember them and publish their board now (no debounce)."""
        now = now or self.clock()
        self.store.record_open(user, now=now)
        return self.publish(user, now=now, force=True)

    def publish(self, user: str, *, now: datetime | None = None, force: bool = False) -> Published:
        """Render and publish; unless `force`, skip when unchanged or published within the debounce."""
        now = now or self.clock()
        view = render_home(self.board(user, now=now))
        digest = view_hash(view)
        if not force:
            state = self.store.get(user)
            if state is not None and state.hash == digest:
                return Published(user, False, digest, "unchanged")
            if state is not None and state.published_at and now - state.published_at < self.debounce:
                return Published(user, False, digest, "debounced")
        try:
            self.slack.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "unknown")
            log.warning("home_publish_failed", user=user, error=code)
            self.store.forget_hash(user)
            return Published(user, False, digest, code)
        self.store.mark_published(user, view_hash=digest, now=now)
        return Published(user, True, digest)

    def refresh_recent(self, *, now: datetime | None = None) -> list[Published]:
        """Republish the boards of everyone who opened Home lately whose view changed (debounced)."""
        now = now or self.clock()
        results = []
        for state in self.store.opened_since(now - self.active_for):
            if state.published_at is not None and now - state.published_at < self.debounce:
                continue  # not even rendered: the debounce bounds the work too
            try:
                results.append(self.publish(state.user, now=now))
            except Exception:  # one bad board must not stop everyone else's
                log.exception("home_refresh_failed", user=state.user)
        return results

    # -- the board ---------------------------------------------------------------------------------------
    def board(self, user: str, *, now: datetime) -> HomeView:
        managed = self.config.teams_managed_by(user)
        tz = managed[0].tz if managed and managed[0].timezone else self.config.tz
        agents, note = self._agents(user)
        widest = now + max(self.config.alerts.warn_before, default=timedelta(0))
        mine = [
            self._row(d, now)
            for d in self.store.assigned_deadlines(agents, due_before=widest, limit=MY_TICKETS_READ)
        ]
        names = [team.name for team in managed]
        open_escalations = self._open_escalations() if self.escalations.enabled else []
        return HomeView(
            user=user,
            now=now,
            tz=tz,
            agent_matched=bool(agents),
            agent_note=note,
            my_tickets=mine,
            teams=self._teams(names, now=now, widest=widest, escalations=open_escalations),
            next_deadlines=[self._row(d, now) for d in self.store.upcoming(names, after=now, limit=5)],
            escalations=self._mine(user, open_escalations) if self.escalations.enabled else None,
            qa=self._qa(user, now) if self.qa.enabled else None,
        )

    def _agents(self, user: str) -> tuple[dict[str, str], str | None]:
        """{source: agent id} of the user's helpdesk accounts (by Slack email), and why none when useful."""
        found: dict[str, str] = {}
        notes: list[str] = []
        for source in self.sources:
            writer = self.writers(source)
            if writer is None:
                continue
            try:
                agent, why = self.agents.agent_for(writer, source, user)
            except HelpdeskError as exc:
                log.warning("home_agent_lookup_failed", source=source.value, error=str(exc))
                notes.append(f"{source.label} could not be asked just now")
                continue
            if agent is not None:
                found[source.value] = str(agent)
            elif why.startswith("Slack has no email"):
                notes.append(why)
        return found, ("; ".join(dict.fromkeys(notes)) or None) if not found else None

    @staticmethod
    def _row(listed: ListedDeadline, now: datetime) -> SlaListRow:
        record = listed.record
        return SlaListRow(
            ref=TicketRef.parse(record.ref),
            subject=listed.subject,
            url=listed.url,
            metric=record.metric,
            due_at=record.due_at,
            breached=record.due_at <= now,
            team_name=record.team,
            assignee_name=listed.assignee_name,
            priority=listed.priority,
        )

    def _teams(self, names: list[str], *, now: datetime, widest: datetime, escalations) -> list[HomeTeam]:
        if not names:
            return []
        breached = dict.fromkeys(names, 0)
        at_risk = dict.fromkeys(names, 0)
        for state in self.store.first_due_by_ref(names, due_before=widest):
            if state.team in breached:
                (breached if state.first_due <= now else at_risk)[state.team] += 1
        team_of = self._team_of_group()
        open_items = dict.fromkeys(names, 0)
        for key, count in self.store.open_by_group().items():
            team = team_of(*key)
            if team in open_items:
                open_items[team] += count
        esc_count = dict.fromkeys(names, 0)
        groups = self.store.groups_of([str(e.state.ref) for e in escalations])
        for esc in escalations:
            team = team_of(*groups.get(str(esc.state.ref), ("", None)))
            if team in esc_count:
                esc_count[team] += 1
        return [
            HomeTeam(
                name=name,
                breached=breached[name],
                at_risk=at_risk[name],
                ok=max(open_items[name] - breached[name] - at_risk[name], 0),
                escalations=esc_count[name],
            )
            for name in names
        ]

    def _team_of_group(self) -> Callable[[str, str | None], str | None]:
        """(source, group id) -> the first team listing the group, as `bot.domain.routing.route` does."""
        routes = self.config.routes()

        def team_of(source: str, group: str | None) -> str | None:
            group_id = normalise_id(group)
            if group_id is None:
                return None
            for route in routes:
                ids = route.zendesk_group_ids if source == Source.ZENDESK.value else route.intercom_team_ids
                if group_id in {normalise_id(i) for i in ids}:
                    return route.name
            return None

        return team_of

    def _open_escalations(self):
        return self.escalations.store.get_many(self.store.open_escalation_ids())

    def _mine(self, user: str, escalations) -> list[HomeEscalation]:
        if not escalations:
            return []
        policy = self.escalations.policy()
        urls = self.store.ticket_urls([str(e.state.ref) for e in escalations])
        out = []
        for esc in escalations:
            state = esc.state
            tier = policy.tiers[state.tier] if 0 <= state.tier < len(policy.tiers) else None
            if state.owner != user and not (tier is not None and _responds(policy, tier, user)):
                continue
            out.append(
                HomeEscalation(
                    escalation_id=esc.id,
                    ref=str(state.ref),
                    tier_name=tier.name if tier is not None else f"tier {state.tier + 1}",
                    status=state.status.value,
                    owner=state.owner,
                    ack_deadline=state.ack_deadline,
                    ack_left=state.ack_left,
                    url=urls.get(str(state.ref)),
                )
            )
        # running ack clocks first, soonest first; then the rest by id
        far = datetime.max.replace(tzinfo=escalations[0].created_at.tzinfo)
        return sorted(out, key=lambda e: (e.ack_deadline is None, e.ack_deadline or far, e.escalation_id))

    def _qa(self, user: str, now: datetime) -> HomeQa:
        figures = self.store.qa_figures(user, since=now - timedelta(days=QA_DAYS))
        return HomeQa(
            days=QA_DAYS,
            reviews=figures.reviews,
            average=figures.average,
            my_open_disputes=figures.my_open_disputes,
            to_decide=figures.to_decide,
        )


def _responds(policy, tier, user: str) -> bool:
    """A responder of the tier: named, or a member of a user group named (managers are not responders)."""
    if user in tier.responders:
        return True
    return any(user in policy.group_members.get(r, frozenset()) for r in tier.responders if r[:1] == "S")
