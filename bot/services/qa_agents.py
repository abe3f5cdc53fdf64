"""The ticket's assignee as a Slack user (helpdesk agent -> email -> users.lookupByEmail), to prefill the
agent of a scorecard; and the same mapping for the weekly sample's candidates. Cached by the directory."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bot.domain.model import Source, TicketRef
from bot.services.slack_directory import AgentDirectory
from integrations.base import HelpdeskError, HelpdeskWriter

log = structlog.get_logger(__name__)


class QaAgents:
    def __init__(
        self,
        *,
        agents: AgentDirectory,
        writers: Callable[[Source], HelpdeskWriter | None],
        assignee_of: Callable[[TicketRef], str | None],
    ) -> None:
        self.agents = agents
        self.writers = writers
        self.assignee_of = assignee_of

    def slack_user(self, source: Source, agent_id: str | None) -> str | None:
        writer = self.writers(source)
        if writer is None or not agent_id:
            return None
        try:
            return self.agents.slack_user_for_agent(writer, source, agent_id)
        except HelpdeskError as exc:
            log.warning("qa_agent_lookup_failed", source=source.value, error=str(exc))
            return None

    def slack_user_for_ticket(self, ref: TicketRef) -> str | None:
        return self.slack_user(ref.source, self.assignee_of(ref))
