"""Typed payloads Deskwatch stores on Slack surfaces: button values and message metadata.

They carry ids and a version only, never ticket text or PII: button values travel through Slack and
come back in every interaction payload. Parsing fails loudly (no fallback to a legacy format).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

BUTTON_VALUE_MAX_LENGTH = 2000  # Slack's cap on a button `value`
ALERT_METADATA_EVENT = "deskwatch_sla_alert"


class InvalidButtonValue(ValueError):
    """A button value did not parse as the payload Deskwatch put there."""


class InvalidAlertMetadata(ValueError):
    """Message metadata claims to be a Deskwatch SLA alert but its payload is malformed."""


class AlertButtonValue(BaseModel):
    """Value of the buttons on an SLA alert: which alert row they act on."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    v: Literal[1] = 1
    alert_id: int = Field(ge=1)

    def encode(self) -> str:
        """Compact JSON for `ButtonElement.value`."""
        value = self.model_dump_json()
        if len(value) > BUTTON_VALUE_MAX_LENGTH:
            raise ValueError(
                f"button value is {len(value)} characters; Slack allows {BUTTON_VALUE_MAX_LENGTH}"
            )
        return value

    @classmethod
    def decode(cls, value: str) -> AlertButtonValue:
        """Parse a button value from an interaction payload; raise InvalidButtonValue on anything else."""
        if not isinstance(value, str) or not value:
            raise InvalidButtonValue(
                f"SLA alert button value must be a non-empty JSON string, got {value!r:.80}"
            )
        try:
            return cls.model_validate_json(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
            )
            raise InvalidButtonValue(f"invalid SLA alert button value {value[:80]!r}: {problems}") from exc


def alert_message_metadata(alert_id: int) -> dict[str, Any]:
    """Slack message metadata tying a posted alert message to its alert row."""
    return {"event_type": ALERT_METADATA_EVENT, "event_payload": {"alert_id": alert_id}}


def alert_id_from_metadata(metadata: dict[str, Any] | None) -> int | None:
    """The alert id of a message posted by `alert_message_metadata`, None for any other message.

    Raises InvalidAlertMetadata when the event type is ours but the payload is not.
    """
    if not metadata or metadata.get("event_type") != ALERT_METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    alert_id = payload.get("alert_id") if isinstance(payload, dict) else None
    if type(alert_id) is not int or alert_id < 1:
        raise InvalidAlertMetadata(
            f"{ALERT_METADATA_EVENT} metadata needs a positive integer alert_id, got payload {payload!r:.120}"
        )
    return alert_id


PRIVATE_METADATA_MAX_LENGTH = 3000  # Slack's cap on a view's `private_metadata`


class _IdPayload(BaseModel):
    """Strict, versioned JSON payload of ids; subclasses set the length cap and a name for errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    _max_length: ClassVar[int] = BUTTON_VALUE_MAX_LENGTH
    _what: ClassVar[str] = "payload"

    def encode(self) -> str:
        """Compact JSON, refused when it would exceed Slack's cap for the field it goes in."""
        value = self.model_dump_json()
        if len(value) > self._max_length:
            raise ValueError(f"{self._what} is {len(value)} characters; Slack allows {self._max_length}")
        return value

    @classmethod
    def decode(cls, value: str) -> Self:
        """Parse what Deskwatch put on a Slack surface; raise InvalidButtonValue on anything else."""
        if not isinstance(value, str) or not value:
            raise InvalidButtonValue(f"{cls._what} must be a non-empty JSON string, got {value!r:.80}")
        if len(value) > cls._max_length:
            raise InvalidButtonValue(f"{cls._what} is {len(value)} characters; at most {cls._max_length}")
        try:
            return cls.model_validate_json(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
            )
            raise InvalidButtonValue(f"invalid {cls._what} {value[:80]!r}: {problems}") from exc


class EscalationButtonValue(_IdPayload):
    """Value of the buttons on a handoff message: which escalation row they act on."""

    _what: ClassVar[str] = "escalation button value"

    v: Literal[1] = 1
    escalation_id: int = Field(ge=1)


class EscalationModalMetadata(_IdPayload):
    """`private_metadata` of the `/escalate` modal: the ref typed with the command (None when the form
    asks for it), where the command ran, and the message it was run from. Ids only."""

    _max_length: ClassVar[int] = PRIVATE_METADATA_MAX_LENGTH
    _what: ClassVar[str] = "escalation modal metadata"

    v: Literal[1] = 1
    ref: str | None = Field(default=None, pattern=r"^(zd|ic):\d{1,20}$")
    channel_id: str = Field(pattern=r"^[CDG][A-Z0-9]{2,30}$")
    origin_ts: str | None = Field(default=None, pattern=r"^\d{1,12}\.\d{1,8}$")


_REF_PATTERN = r"^(zd|ic):\d{1,20}$"
_CHANNEL_PATTERN = r"^[CDG][A-Z0-9]{2,30}$"
QaMode = Literal["review", "calibration", "edit"]
QaDecision = Literal["reject", "rescore"]


class QaModalMetadata(_IdPayload):
    """`private_metadata` of the QA score modal. `mode` says what a submission records: a review (`ref`
    None when the form asks for it), a blind calibration score (`calibration_id` and `ref` set) or an
    edit of the reviewer's own review (`review_id` and `ref` set). `rubric_version` is the rubric the
    form was drawn with, so a rubric change between open and submit is noticed. Ids only."""

    _max_length: ClassVar[int] = PRIVATE_METADATA_MAX_LENGTH
    _what: ClassVar[str] = "QA modal metadata"

    v: Literal[1] = 1
    mode: QaMode
    ref: str | None = Field(default=None, pattern=_REF_PATTERN)
    channel_id: str = Field(pattern=_CHANNEL_PATTERN)
    calibration_id: int | None = Field(default=None, ge=1)
    review_id: int | None = Field(default=None, ge=1)
    rubric_version: str = Field(pattern=r"^[0-9a-f]{12}$")

    @model_validator(mode="after")
    def _ids_match_mode(self) -> Self:
        if self.mode == "calibration" and (self.calibration_id is None or self.ref is None):
            raise ValueError("calibration mode needs calibration_id and ref")
        if self.mode == "edit" and (self.review_id is None or self.ref is None):
            raise ValueError("edit mode needs review_id and ref")
        if self.mode != "calibration" and self.calibration_id is not None:
            raise ValueError(f"{self.mode} mode takes no calibration_id")
        if self.mode == "review" and self.review_id is not None:
            raise ValueError("review mode takes no review_id")
        return self


class QaButtonValue(_IdPayload):
    """Value of the buttons on QA messages (and `private_metadata` of the dispute reason modal): the
    review, dispute, calibration session or sampled ticket they act on. At least one id is set."""

    _what: ClassVar[str] = "QA button value"

    v: Literal[1] = 1
    review_id: int | None = Field(default=None, ge=1)
    dispute_id: int | None = Field(default=None, ge=1)
    calibration_id: int | None = Field(default=None, ge=1)
    ref: str | None = Field(default=None, pattern=_REF_PATTERN)

    @model_validator(mode="after")
    def _names_something(self) -> Self:
        if (
            self.review_id is None
            and self.dispute_id is None
            and self.calibration_id is None
            and not self.ref
        ):
            raise ValueError("a QA button value needs review_id, dispute_id, calibration_id or ref")
        return self


class QaDecisionMetadata(_IdPayload):
    """`private_metadata` of the dispute decision modal: which dispute, and whether the reviewer is
    rejecting it (a note) or rescoring the review (category selects and a note)."""

    _max_length: ClassVar[int] = PRIVATE_METADATA_MAX_LENGTH
    _what: ClassVar[str] = "QA decision metadata"

    v: Literal[1] = 1
    dispute_id: int = Field(ge=1)
    outcome: QaDecision


_NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"  # no control characters: each one would JSON-escape to six


class DigestButtonValue(_IdPayload):
    """Value of a digest's Details button (and `private_metadata` of the details modal): the team, the
    schedule and the window (aware datetimes, ISO 8601 in JSON) the handler recomputes the figures for.
    Names are capped so the worst value stays far below Slack's 2000 characters."""

    _what: ClassVar[str] = "digest button value"

    v: Literal[1] = 1
    team: str = Field(min_length=1, max_length=200, pattern=_NAME_PATTERN)
    schedule: str = Field(min_length=1, max_length=200, pattern=_NAME_PATTERN)
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _window_is_forward(self) -> Self:
        if self.end <= self.start:
            raise ValueError("the window must end after it starts")
        return self
