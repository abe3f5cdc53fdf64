"""The `escalation:` section: tiers a ticket is handed through, and the reasons an agent may give.

Structural rules (unique names, what a receiving tier needs, unique reasons) are checked on the raw data
in the same pass as the field types, so a support lead sees every problem at once, each at its YAML path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, ValidationError, ValidatorFunctionWrapHandler, model_validator

from bot.config.errors import _format_errors, _invalid, _problems, _q, _unique
from bot.config.fields import ChannelId, Duration, IntercomTeamId, TimezoneName, _numeric_id
from bot.config.models import AppConfig, BusinessHoursConfig, _Model
from bot.domain.durations import parse_duration
from bot.domain.escalation import EscalationPolicy, Notify, Tier, WriteBackTarget

_RESPONDER = re.compile(r"^[UWS][A-Z0-9]{2,}$", re.ASCII)
_REASON = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$", re.ASCII)
_TAG = re.compile(r"^[^\s,]{1,80}$")
# Reached only when nobody writes `due_warn_before`: a warning a quarter of the way out, at most an hour.
_DEFAULT_WARN_CAP = timedelta(hours=1)


def _responder(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is not None and _RESPONDER.match(text):
        return text
    if text is not None and text.startswith("@"):
        raise _invalid(
            f"{_q(value)} is a handle, not a Slack id: use a member ID (like U0123ABCD) "
            "or a user group ID (like S0123ABCD)"
        )
    raise _invalid(f"{_q(value)} is not a Slack user id (like U0123ABCD) or user group id (like S0123ABCD)")


def _positive_int(what: str, example: str) -> Any:
    def validate(value: Any) -> int:
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and text.isascii() and text.isdigit():
            text = int(text)
        if isinstance(text, int) and not isinstance(text, bool) and text > 0:
            return text
        raise _invalid(f"{_q(value)} is not {what} (a positive number like {example})")

    return validate


def _tag(value: Any) -> str:
    if isinstance(value, str) and _TAG.match(value.strip()):
        return value.strip().lower()  # Zendesk stores tags lowercased
    raise _invalid(
        f"{_q(value)} is not a Zendesk tag (one word without spaces or commas, e.g. compliance_review)"
    )


def _reason(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not _REASON.match(text):
        raise _invalid(
            f"{_q(value)} is not a reason slug (lowercase letters, digits, - and _, e.g. billing_dispute)"
        )
    return text


def _repeat(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10:
        return value
    raise _invalid(f"{_q(value)} is not a re-ping count (a whole number from 0 to 10)")


def _notify(value: Any) -> Notify:
    try:
        return Notify(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        raise _invalid(f"{_q(value)} is not a notify mode: use all or round_robin") from None


def _tier_name(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if not text or len(text) > 40:
        raise _invalid(f"{_q(value)} is not a tier name (1 to 40 characters, e.g. T2 or Compliance)")
    return text


ResponderId = Annotated[str, BeforeValidator(_responder)]
ZendeskId = Annotated[int, BeforeValidator(_positive_int("a Zendesk id", "900"))]
IntercomAdminId = Annotated[str, BeforeValidator(_numeric_id("an Intercom admin id", "4108390"))]
ZendeskTag = Annotated[str, BeforeValidator(_tag)]
ReasonSlug = Annotated[str, BeforeValidator(_reason)]
TierName = Annotated[str, BeforeValidator(_tier_name)]
RepeatCount = Annotated[int, BeforeValidator(_repeat)]
NotifyMode = Annotated[Notify, BeforeValidator(_notify)]


class ZendeskHandoff(_Model):
    """What the Zendesk ticket gets when the tier receives it."""

    group_id: ZendeskId | None = None
    assignee_id: ZendeskId | None = None
    tags: list[ZendeskTag] = Field(default_factory=list)


class IntercomHandoff(_Model):
    """Intercom ids arrive as JSON integers, so both 900 and "900" are accepted and stored as text."""

    team_id: IntercomTeamId | None = None
    admin_id: IntercomAdminId | None = None


class EscalationTier(_Model):
    """One tier. `business_hours` absent or null: the ack clock and `due` run 24/7."""

    name: TierName
    channel: ChannelId | None = None
    responders: list[ResponderId] = Field(default_factory=list)
    ack_within: Duration | None = None
    repeat: RepeatCount = 2
    notify: NotifyMode = Notify.ALL
    due: Duration | None = None
    due_warn_before: Duration | None = None
    timezone: TimezoneName | None = None
    business_hours: BusinessHoursConfig | None = None
    zendesk: ZendeskHandoff | None = None
    intercom: IntercomHandoff | None = None

    def policy_tier(self, default_tz: ZoneInfo) -> Tier:
        tz = ZoneInfo(self.timezone) if self.timezone else default_tz
        warn = self.due_warn_before
        if warn is None and self.due is not None:
            warn = min(self.due / 4, _DEFAULT_WARN_CAP)
        target = None
        if self.zendesk is not None or self.intercom is not None:
            zendesk, intercom = self.zendesk or ZendeskHandoff(), self.intercom or IntercomHandoff()
            target = WriteBackTarget(
                zendesk_group_id=zendesk.group_id,
                zendesk_assignee_id=zendesk.assignee_id,
                zendesk_tags=tuple(zendesk.tags),
                intercom_team_id=intercom.team_id,
                intercom_admin_id=intercom.admin_id,
            )
        return Tier(
            name=self.name,
            channel=self.channel,
            responders=tuple(_unique(self.responders)),
            ack_within=self.ack_within,
            repeat=self.repeat,
            notify=self.notify,
            due=self.due,
            due_warn_before=warn,
            calendar=self.business_hours.calendar(tz) if self.business_hours else None,
            write_back=target,
        )


class EscalationConfig(_Model):
    """Tiers in order (the first is where escalations start) and the reasons an agent picks from."""

    tiers: list[EscalationTier]
    reasons: list[ReasonSlug]

    @model_validator(mode="wrap")
    @classmethod
    def _all_problems(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> EscalationConfig:
        """Field errors and structural problems together, each at its path below `escalation`."""
        if not isinstance(data, Mapping):
            return handler(data)
        problems = _structure_problems(data)
        try:
            config = handler(data)
        except ValidationError as exc:
            lines = _format_errors(exc, cls)
            problems = [tuple(line.split(": ", 1)) for line in lines] + problems  # type: ignore[misc]
            raise _problems(list(dict.fromkeys(problems))) from None
        if problems:
            raise _problems(problems)
        return config

    def policy(
        self,
        default_tz: ZoneInfo,
        *,
        managers: Sequence[str] = (),
        group_members: Mapping[str, Sequence[str]] | None = None,
    ) -> EscalationPolicy:
        """The domain policy; `group_members` are S-group members as resolved via usergroups.users.list."""
        return EscalationPolicy(
            tiers=tuple(tier.policy_tier(default_tz) for tier in self.tiers),
            reasons=tuple(self.reasons),
            managers=frozenset(managers),
            group_members={group: frozenset(users) for group, users in (group_members or {}).items()},
        )


_RECEIVER_NEEDS = {
    "channel": "a channel to post handoffs in (like C0123ABCD)",
    "responders": "responders who may accept (user ids like U0123ABCD, or a user group id like S0123ABCD)",
    "ack_within": "an ack_within: how long responders have to accept before a re-ping (like 15m)",
}


def _structure_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    tiers = data.get("tiers")
    if isinstance(tiers, list) and len(tiers) < 2:
        problems.append(
            (
                "tiers",
                "needs at least two tiers: the first is where escalations start (e.g. T1), "
                "the next ones receive them",
            )
        )
    names: dict[str, int] = {}
    for index, tier in enumerate(tiers if isinstance(tiers, list) else []):
        if not isinstance(tier, Mapping):
            continue
        name = tier.get("name")
        if isinstance(name, str) and name.strip():
            key = name.strip().casefold()
            if key in names:
                problems.append(
                    (f"tiers[{index}].name", f"{_q(name)} is already the name of tiers[{names[key]}]")
                )
            else:
                names[key] = index
        label = f"tier {_q(name.strip())}" if isinstance(name, str) and name.strip() else "this tier"
        for key, purpose in _RECEIVER_NEEDS.items() if index > 0 else ():
            if tier.get(key) in (None, []):
                problems.append(
                    (
                        f"tiers[{index}].{key}",
                        f"is required: {label} receives escalations, so it needs {purpose}",
                    )
                )
        due, warn = tier.get("due"), tier.get("due_warn_before")
        if isinstance(due, str) and isinstance(warn, str) and _shorter_or_equal(due, warn):
            problems.append(
                (f"tiers[{index}].due_warn_before", f"{_q(warn)} must be shorter than due {_q(due)}")
            )
    reasons = data.get("reasons")
    if isinstance(reasons, list) and not reasons:
        problems.append(("reasons", "is empty: list at least one reason, e.g. [billing_dispute, bug, other]"))
    seen: dict[str, int] = {}
    for index, reason in enumerate(reasons if isinstance(reasons, list) else []):
        if isinstance(reason, str):
            if reason.strip() in seen:
                problems.append(
                    (
                        f"reasons[{index}]",
                        f"{_q(reason)} is already listed at reasons[{seen[reason.strip()]}]",
                    )
                )
            seen.setdefault(reason.strip(), index)
    return problems


def _shorter_or_equal(due: str, warn: str) -> bool:
    try:
        return parse_duration(due.strip()) <= parse_duration(warn.strip())
    except ValueError:
        return False  # the field validator reports it


# AppConfig names EscalationConfig only for type checkers (this module imports models, not the reverse).
AppConfig.model_rebuild(_types_namespace={"EscalationConfig": EscalationConfig})
