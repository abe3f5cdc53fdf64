"""Who is who: Slack user groups' members, users' emails and their helpdesk agent ids, cached; and the
other way round, a helpdesk agent to the Slack user with their email (who a QA review is about).

Escalations ask often (every button press checks who may act, every Accept maps the responder to a
helpdesk agent) and the answers change rarely, so each is cached for a while. A failed lookup keeps the
last good answer when there is one: a Slack hiccup must not lock a tier's responders out of Accept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.model import Source
from integrations.base import HelpdeskError, HelpdeskWriter

log = structlog.get_logger(__name__)

GROUP_TTL = timedelta(minutes=10)
USER_TTL = timedelta(hours=1)
AGENT_TTL = timedelta(hours=1)


class _Cache:
    """A small TTL cache whose entries outlive a failed refresh (stale beats nothing)."""

    def __init__(self, ttl: timedelta, clock: Callable[[], datetime]) -> None:
        self.ttl = ttl
        self.clock = clock
        self._values: dict[Any, tuple[datetime, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any], *, on_error: type[Exception] | tuple) -> Any:
        now = self.clock()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        try:
            value = load()
        except on_error:
            if hit is not None:
                return hit[1]
            raise
        with self._lock:
            self._values[key] = (now, value)
        return value


class SlackDirectory:
    def __init__(self, *, slack: WebClient, clock: Callable[[], datetime]) -> None:
        self.slack = slack
        self._groups = _Cache(GROUP_TTL, clock)
        self._emails = _Cache(USER_TTL, clock)
        self._users_by_email = _Cache(USER_TTL, clock)
        self._dms = _Cache(timedelta(days=365), clock)

    def group_members(self, group_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """Members of each S-group (usergroups.users.list). A group Slack refuses counts as empty, logged."""
        members: dict[str, frozenset[str]] = {}
        for group in sorted(set(group_ids)):
            try:
                members[group] = self._groups.get(
                    group, lambda g=group: self._load_group(g), on_error=SlackApiError
                )
            except SlackApiError as exc:
                log.warning("usergroup_lookup_failed", usergroup=group, error=exc.response.get("error"))
                members[group] = frozenset()
        return members

    def _load_group(self, group: str) -> frozenset[str]:
        response = self.slack.usergroups_users_list(usergroup=group)
        return frozenset(u for u in response.get("users") or () if isinstance(u, str))

    def email(self, user_id: str) -> str | None:
        """The user's email (users.info, needs users:read.email), None when Slack has none for them."""
        try:
            return self._emails.get(user_id, lambda: self._load_email(user_id), on_error=SlackApiError)
        except SlackApiError as exc:
            log.warning("user_email_lookup_failed", user=user_id, error=exc.response.get("error"))
            return None

    def _load_email(self, user_id: str) -> str | None:
        user = self.slack.users_info(user=user_id).get("user") or {}
        email = (user.get("profile") or {}).get("email")
        return email.strip().lower() if isinstance(email, str) and email.strip() else None

    def user_by_email(self, email: str) -> str | None:
        """The Slack user id with this email (users.lookupByEmail, needs users:read.email), None for none."""
        key = email.strip().lower()
        if not key:
            return None
        try:
            return self._users_by_email.get(key, lambda: self._load_user(key), on_error=SlackApiError)
        except SlackApiError as exc:
            log.warning("user_by_email_lookup_failed", error=exc.response.get("error"))
            return None

    def _load_user(self, email: str) -> str | None:
        try:
            user = self.slack.users_lookupByEmail(email=email).get("user") or {}
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        user_id = user.get("id")
        return user_id if isinstance(user_id, str) and user_id else None

    def dm_channel(self, user_id: str) -> str:
        """The app's DM channel with the user (conversations.open): where the lookup of a lost DM reads."""
        return self._dms.get(user_id, lambda: self._open_dm(user_id), on_error=())

    def _open_dm(self, user_id: str) -> str:
        return str(self.slack.conversations_open(users=user_id)["channel"]["id"])


class AgentDirectory:
    """Slack user <-> helpdesk agent id via the user's email (Zendesk users / Intercom admins)."""

    def __init__(self, *, slack: SlackDirectory, clock: Callable[[], datetime]) -> None:
        self.slack = slack
        self._agents = _Cache(AGENT_TTL, clock)
        self._agent_emails = _Cache(AGENT_TTL, clock)

    def agent_for(self, writer: HelpdeskWriter, source: Source, user_id: str) -> tuple[str | None, str]:
        """(agent id or None, why not). Raises HelpdeskError when the helpdesk cannot be asked now."""
        email = self.slack.email(user_id)
        if email is None:
            return None, "Slack has no email for them (the app needs users:read.email)"
        agent = self._agents.get(
            (source, email), lambda: writer.find_agent_by_email(email), on_error=HelpdeskError
        )
        if agent is None:
            return None, f"no {source.label} agent has their email"
        return agent, ""

    def slack_user_for_agent(self, writer: HelpdeskWriter, source: Source, agent_id: str) -> str | None:
        """The Slack user with helpdesk agent `agent_id`'s email, None when there is none or either side
        cannot say now (logged): a prefill, so a helpdesk hiccup leaves the field empty, never fails."""
        try:
            email = self._agent_emails.get(
                (source, agent_id), lambda: writer.agent_email(agent_id), on_error=HelpdeskError
            )
        except HelpdeskError as exc:
            log.warning("agent_email_lookup_failed", source=source.value, agent=agent_id, error=str(exc))
            return None
        return None if email is None else self.slack.user_by_email(email)
