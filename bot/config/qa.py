"""The `qa:` section: the rubric reviewers score against, who may review, and the calibration, dispute,
edit and sampling knobs.

Structural rules (a non-empty rubric, unique keys, a calibration threshold the scale can reach) are
checked on the raw data in the same pass as the field types, so a support lead sees every problem at
once, each at its YAML path. A changed rubric is a new `Rubric.version`; stored reviews keep theirs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from bot.config.errors import _find_model, _format_errors, _hint, _invalid, _path, _problems, _q, _unique
from bot.config.fields import Duration, UserId
from bot.config.models import _Model
from bot.domain.qa_types import Category, Rubric

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$", re.ASCII)
MAX_LABEL = 75  # Slack's limit for an option's text: each category is a select in the scoring modal
MIN_SCALE, MAX_SCALE = 2, 10


def _whole(what: str, low: int, high: int | None, example: str) -> Any:
    """A whole number in [low, high] (no upper bound for None); digit strings are accepted."""
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"

    def validate(value: Any) -> int:
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and text.isascii() and text.isdigit():
            text = int(text)
        if (
            isinstance(text, int)
            and not isinstance(text, bool)
            and low <= text
            and (high is None or text <= high)
        ):
            return text
        raise _invalid(f"{_q(value)} is not {what} (a whole number {bounds}, e.g. {example})")

    return validate


def _pass_mark(value: Any) -> int:
    """80 or "80%": leads write percentages both ways."""
    text = value.strip().removesuffix("%").strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isascii() and text.isdigit():
        text = int(text)
    if isinstance(text, int) and not isinstance(text, bool) and 0 <= text <= 100:
        return text
    raise _invalid(f"{_q(value)} is not a pass mark (a whole percent from 0 to 100, e.g. 80)")


def _key(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not _KEY.match(text):
        raise _invalid(
            f"{_q(value)} is not a category key (lowercase letters, digits and _, starting with a letter, "
            "at most 31 characters, e.g. accuracy): reviewers type it in /qa accuracy=4"
        )
    return text


def _label(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if not text:
        raise _invalid(f'{_q(value)} is not a label (the text reviewers see, e.g. "Correct resolution")')
    if len(text) > MAX_LABEL:
        raise _invalid(
            f"{_q(value)} is {len(text)} characters long; Slack shows at most {MAX_LABEL} in a select"
        )
    return text


def _sample_from(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else None
    if text in ("solved", "closed"):
        return text
    raise _invalid(f"{_q(value)} is not a ticket status to sample from: use solved or closed")


Scale = Annotated[int, BeforeValidator(_whole("a scale", MIN_SCALE, MAX_SCALE, "5 for scores 1-5"))]
PassMark = Annotated[int, BeforeValidator(_pass_mark)]
CategoryKey = Annotated[str, BeforeValidator(_key)]
CategoryLabel = Annotated[str, BeforeValidator(_label)]
Weight = Annotated[int, BeforeValidator(_whole("a weight", 1, None, "3"))]
ScorePoints = Annotated[int, BeforeValidator(_whole("a spread in score points", 1, MAX_SCALE - 1, "2"))]
SessionCount = Annotated[int, BeforeValidator(_whole("a number of sessions", 1, 1000, "10"))]
PerWeek = Annotated[int, BeforeValidator(_whole("a number of tickets per agent", 1, 100, "3"))]
SampleFrom = Annotated[Literal["solved", "closed"], BeforeValidator(_sample_from)]


class RubricCategory(_Model):
    """One scored category; a `critical` one scored at the lowest score fails the whole review."""

    key: CategoryKey
    label: CategoryLabel
    weight: Weight
    critical: bool = False


class SampleConfig(_Model):
    """Each Monday, in the team's timezone, every reviewer gets this many of each agent's tickets."""

    per_agent_per_week: PerWeek
    from_: SampleFrom = Field(default="solved", alias="from")


class QaConfig(_Model):
    """Scores run 1..scale or n/a; a review passes at `pass_mark` percent. Team managers review too.

    The YAML `rubric` list is the `categories` field, so that `rubric()` can return the domain Rubric.
    """

    scale: Scale = 5
    pass_mark: PassMark
    reviewers: list[UserId] = Field(default_factory=list)
    categories: list[RubricCategory] = Field(alias="rubric")
    calibration_window: Duration = timedelta(hours=48)
    calibration_threshold: ScorePoints = 2  # flag a category when highest - lowest score >= this
    calibration_history: SessionCount = 10  # sessions pooled by `/qa calibration report`
    dispute_window: Duration = timedelta(days=7)
    edit_window: Duration = timedelta(hours=24)
    dm_agent: bool = True  # the agent gets a DM with the scorecard and a Dispute button
    sample: SampleConfig | None = None  # absent: no weekly sample is assigned

    @field_validator("reviewers")
    @classmethod
    def _dedupe(cls, values: list[str]) -> list[str]:
        return _unique(values)

    @model_validator(mode="wrap")
    @classmethod
    def _all_problems(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> QaConfig:
        """Field errors and structural problems together, each at its path below `qa`."""
        if not isinstance(data, Mapping):
            return handler(data)
        problems = _structure_problems(data)
        try:
            config = handler(data)
        except ValidationError as exc:
            problems = _field_problems(exc) + problems
            raise _problems(list(dict.fromkeys(problems))) from None
        if problems:
            raise _problems(problems)
        return config

    def rubric(self) -> Rubric:
        """The current rubric version, as the scoring maths and the store use it."""
        return Rubric(
            scale=self.scale,
            pass_mark=self.pass_mark,
            categories=tuple(
                Category(key=c.key, label=c.label, weight=c.weight, critical=c.critical)
                for c in self.categories
            ),
        )

    def is_reviewer(self, user: str, managers: Iterable[str]) -> bool:
        """Listed reviewers and every team's managers may score, calibrate and see others' reports."""
        return user in self.reviewers or user in set(managers)

    def all_reviewers(self, managers: Iterable[str]) -> tuple[str, ...]:
        """Listed reviewers, then managers not already listed: who gets a weekly sample."""
        return tuple(_unique([*self.reviewers, *managers]))


def _field_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Pydantic's errors as (path, message); unknown keys are re-worded with YAML names (`rubric`, `from`),
    since the shared formatter suggests Python field names."""
    unknown = {}
    for err in exc.errors(include_url=False):
        if err["type"] == "extra_forbidden":
            allowed = _yaml_keys_at(err["loc"][:-1])
            key = str(err["loc"][-1])
            hint = _hint(key, allowed)
            unknown[_path(err["loc"])] = (
                f"unknown key{hint}" if hint else f"unknown key (expected one of: {', '.join(allowed)})"
            )
    problems = []
    for line in _format_errors(exc, QaConfig):
        path, message = line.split(": ", 1)
        problems.append((path, unknown.get(path, message)))
    return problems


def _yaml_keys_at(loc: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] | None = QaConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        by_yaml = {field.alias or name: field for name, field in model.model_fields.items()}
        model = _find_model(by_yaml[part].annotation) if part in by_yaml else None
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _structure_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    rubric = data.get("rubric")
    if isinstance(rubric, list) and not rubric:
        problems.append(
            (
                "rubric",
                "is empty: list at least one category, "
                'e.g. {key: accuracy, label: "Correct resolution", weight: 3}',
            )
        )
    seen: dict[str, int] = {}
    for index, category in enumerate(rubric if isinstance(rubric, list) else []):
        key = category.get("key") if isinstance(category, Mapping) else None
        if isinstance(key, str) and key.strip():
            if key.strip() in seen:
                problems.append(
                    (f"rubric[{index}].key", f"{_q(key)} is already the key of rubric[{seen[key.strip()]}]")
                )
            seen.setdefault(key.strip(), index)
    scale, threshold = data.get("scale", 5), data.get("calibration_threshold")
    reachable = isinstance(scale, int) and MIN_SCALE <= scale <= MAX_SCALE
    if reachable and isinstance(threshold, int) and not isinstance(threshold, bool) and threshold > scale - 1:
        problems.append(
            (
                "calibration_threshold",
                f"{threshold} can never be reached on a 1-{scale} scale (the widest spread is {scale - 1})",
            )
        )
    return problems
