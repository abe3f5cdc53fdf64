"""Domain types shared by every capability: helpdesk items, SLA metrics, deadlines, alert keys.

Pure values (frozen dataclasses, enums). Nothing here knows Slack, SQL, HTTP or the clock.
Vendor JSON is mapped into these types in `integrations/` and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit


class DomainError(Exception):
    """Base class for errors raised by domain logic; handlers turn them into user-facing text."""


class InvalidTicketRef(DomainError):
    """A ticket reference such as `zd:101` or `ic:9001` could not be parsed."""


class Source(StrEnum):
    """Which helpdesk an item lives in."""

    ZENDESK = "zendesk"
    INTERCOM = "intercom"

    @property
    def prefix(self) -> str:
        return _PREFIX_BY_SOURCE[self]

    @property
    def label(self) -> str:
        return "Zendesk" if self is Source.ZENDESK else "Intercom"


_PREFIX_BY_SOURCE = {Source.ZENDESK: "zd", Source.INTERCOM: "ic"}
_SOURCE_BY_PREFIX = {v: k for k, v in _PREFIX_BY_SOURCE.items()}
_REF_RE = re.compile(r"^\s*([A-Za-z]+)\s*[:#]\s*(\d{1,20})\s*$")
# Slack sends pasted links as <https://...> or <https://...|label>.
_SLACK_LINK_RE = re.compile(r"^\s*<(https?://[^|>\s]+)(?:\|[^>]*)?>\s*$", re.IGNORECASE)
_URL_RE = re.compile(r"^\s*(https?://[^\s]+?)\s*$", re.IGNORECASE)
# Agent UI /agent/tickets/123, API /api/v2/tickets/123.json, and /tickets/123; anything after is ignored.
_ZENDESK_PATH_RE = re.compile(r"^/(?:agent/|api/v2/)?tickets/(\d{1,20})(?:\.json)?(?:/.*)?$")
# /a/inbox/<ws>/inbox/conversation/456, /a/inbox/<ws>/inbox/view/<v>/conversation/456 and the older
# /a/apps/<ws>/inbox/inbox/all/conversations/456: the id follows the last conversation(s) segment.
_INTERCOM_PATH_RE = re.compile(r"^/a/(?:inbox|apps)/[^/]+/(?:.*/)?conversations?/(\d{1,20})/?$")
_REF_HELP = "use zd:<ticket id>, ic:<conversation id>, or paste the ticket's Zendesk or Intercom link"


@dataclass(frozen=True, order=True)
class TicketRef:
    """Public ticket reference: `zd:101` (Zendesk ticket) or `ic:9001` (Intercom conversation)."""

    source: Source
    external_id: str

    def __str__(self) -> str:
        return f"{self.source.prefix}:{self.external_id}"

    @classmethod
    def parse(cls, text: str) -> TicketRef:
        """Parse `zd:101` / `ic:9001` (case-insensitive, `#` accepted for `:`) or a Zendesk ticket / Intercom
        conversation link, also in Slack's `<url|label>` form; raise InvalidTicketRef saying what to use."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidTicketRef(f"empty ticket reference: {_REF_HELP}")
        link = _SLACK_LINK_RE.match(text) or _URL_RE.match(text)
        if link:
            return cls._parse_url(link.group(1))
        match = _REF_RE.match(text)
        if not match:
            raise InvalidTicketRef(f"{text.strip()[:40]!r} is not a ticket reference: {_REF_HELP}")
        prefix, number = match.group(1).lower(), match.group(2)
        source = _SOURCE_BY_PREFIX.get(prefix)
        if source is None:
            raise InvalidTicketRef(
                f"unknown helpdesk prefix {prefix!r} in {text.strip()[:40]!r}: "
                "use zd: (Zendesk) or ic: (Intercom)"
            )
        return cls(source, str(int(number)))

    @classmethod
    def _parse_url(cls, url: str) -> TicketRef:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        path = re.sub(r"/{2,}", "/", parts.path)  # query and fragment are dropped by urlsplit
        shown = url[:60]
        if host.endswith(".zendesk.com"):
            match = _ZENDESK_PATH_RE.match(path)
            if match is None:
                raise InvalidTicketRef(
                    f"{shown!r} is a Zendesk link but not to a ticket: open the ticket and copy its link "
                    "(like https://acme.zendesk.com/agent/tickets/123), or use zd:<ticket id>"
                )
            return cls(Source.ZENDESK, str(int(match.group(1))))
        if host in _INTERCOM_HOSTS:
            match = _INTERCOM_PATH_RE.match(path)
            if match is None:
                raise InvalidTicketRef(
                    f"{shown!r} is an Intercom link but not to a conversation: open the conversation, copy "
                    "its link (like https://app.intercom.com/a/inbox/abc123/inbox/conversation/456), "
                    "or use ic:<conversation id>"
                )
            return cls(Source.INTERCOM, str(int(match.group(1))))
        raise InvalidTicketRef(f"{shown!r} is not a Zendesk or Intercom link: {_REF_HELP}")


# Intercom's US, EU and Australian workspaces, on the current and the legacy domain.
_INTERCOM_HOSTS = frozenset(
    f"app.{region}intercom.{tld}" for region in ("", "eu.", "au.") for tld in ("com", "io")
)


class MetricStage(StrEnum):
    """Stage of a helpdesk-computed SLA metric (Zendesk `slas.policy_metrics[].stage`)."""

    ACTIVE = "active"
    PAUSED = "paused"
    ACHIEVED = "achieved"


class Metric(StrEnum):
    """SLA metric names. Zendesk's names are used for both helpdesks."""

    FIRST_REPLY = "first_reply_time"
    NEXT_REPLY = "next_reply_time"
    PERIODIC_UPDATE = "periodic_update_time"
    PAUSABLE_UPDATE = "pausable_update_time"
    REQUESTER_WAIT = "requester_wait_time"
    AGENT_WORK = "agent_work_time"
    TOTAL_RESOLUTION = "total_resolution_time"
    GROUP_OWNERSHIP = "group_ownership_time"

    @property
    def label(self) -> str:
        return _METRIC_LABELS[self]


_METRIC_LABELS = {
    Metric.FIRST_REPLY: "First reply",
    Metric.NEXT_REPLY: "Next reply",
    Metric.PERIODIC_UPDATE: "Periodic update",
    Metric.PAUSABLE_UPDATE: "Pausable update",
    Metric.REQUESTER_WAIT: "Requester wait",
    Metric.AGENT_WORK: "Agent work",
    Metric.TOTAL_RESOLUTION: "Total resolution",
    Metric.GROUP_OWNERSHIP: "Group ownership",
}


def metric_label(metric: str) -> str:
    """Human label for a metric name, tolerant of metrics added upstream after this release."""
    try:
        return Metric(metric).label
    except ValueError:
        return metric.replace("_", " ").capitalize()


@dataclass(frozen=True)
class SlaMetric:
    """One SLA metric as the helpdesk reports it (Zendesk computes these; Intercom does not)."""

    metric: str
    stage: MetricStage
    breach_at: datetime | None  # aware UTC; None when the helpdesk gives no breach time


# Statuses after which no SLA alert is due, across both helpdesks.
CLOSED_STATUSES = frozenset({"solved", "closed", "deleted"})


@dataclass(frozen=True)
class HelpdeskItem:
    """A Zendesk ticket or an Intercom conversation, reduced to what Deskwatch reasons about.

    Zendesk: status is new/open/pending/hold/solved/closed/deleted, priority urgent/high/normal/low or None,
    group_id is the ticket's group_id, sla_metrics come from `slas.policy_metrics`.
    Intercom: status is open/snoozed/closed, priority is "priority"/"not_priority", group_id is the
    team_assignee_id as a string, first_admin_reply_at / waiting_since / last_contact_reply_at drive
    the deadlines Deskwatch computes itself.
    """

    ref: TicketRef
    subject: str
    status: str
    priority: str | None
    group_id: str | None
    assignee_id: str | None
    assignee_name: str | None
    url: str
    created_at: datetime
    updated_at: datetime
    sla_metrics: tuple[SlaMetric, ...] = ()
    first_admin_reply_at: datetime | None = None
    waiting_since: datetime | None = None
    last_contact_reply_at: datetime | None = None
    tags: tuple[str, ...] = ()
    group_name: str | None = None
    # Intercom: when the customer first wrote. The conversation's creation when the customer started it;
    # for conversations the team started (outbound, automated, admin-initiated) the customer's first
    # reply (`first_contact_reply`), or None while the customer has not written: nobody owes a reply.
    first_contact_at: datetime | None = None
    # Zendesk `metric_sets`: how often the ticket was reopened and how many public agent replies it has.
    # Together they identify an SLA metric's cycle (a new requester comment after agent reply N starts
    # next-reply cycle N; a reopen starts new cycles), independent of a `breach_at` that moves.
    reopens: int = 0
    agent_replies: int = 0

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


@dataclass(frozen=True)
class Deadline:
    """A response-time deadline for one metric of one item.

    `cycle` identifies the clock instance (e.g. the customer message that started a next-reply clock),
    so a moved deadline within the same cycle never produces a second alert of the same kind.
    """

    ref: TicketRef
    metric: str
    due_at: datetime
    cycle: str


class AlertKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True)
class AlertDecision:
    """Decision to post one alert. `threshold` is the warn_before that triggered a warning (None for breach).

    The tuple (ref, metric, cycle, key) is unique in the store: deciding twice never posts twice.
    """

    deadline: Deadline
    kind: AlertKind
    threshold: timedelta | None = None

    @property
    def key(self) -> str:
        if self.kind is AlertKind.BREACH:
            return "breach"
        assert self.threshold is not None
        return f"warn:{int(self.threshold.total_seconds())}"


@dataclass(frozen=True)
class IntercomTargets:
    """Reply-time targets Deskwatch applies to Intercom conversations, by conversation priority."""

    first_reply_priority: timedelta
    first_reply_not_priority: timedelta
    next_reply_priority: timedelta
    next_reply_not_priority: timedelta


@dataclass(frozen=True)
class TeamRoute:
    """The slice of a configured team that routing needs."""

    name: str
    channel: str
    zendesk_group_ids: frozenset[str] = field(default_factory=frozenset)
    intercom_team_ids: frozenset[str] = field(default_factory=frozenset)
