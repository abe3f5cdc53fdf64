"""Configuration problems as one actionable line each: `yaml.path: "value" is not X`.

Validators raise PydanticCustomError (via `_invalid` / `_problems`) so pydantic keeps the location without
its "Value error," prefix, and `_format_errors` turns each error into a line naming the YAML path, with
plain words for pydantic's own error types and a "did you mean" hint for misspelt keys.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError


class ConfigError(Exception):
    """Configuration cannot be used; `problems` holds one actionable line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


_PROBLEM = "deskwatch"


def _invalid(message: str) -> PydanticCustomError:
    """A finished problem message (without its path); no context, so braces in values are not formatted."""
    return PydanticCustomError(_PROBLEM, message)


def _problems(items: Sequence[tuple[str, str]]) -> PydanticCustomError:
    """Several problems at paths relative to the validated object (e.g. `end`, `teams[1].name`)."""
    summary = "; ".join(f"{path}: {message}" for path, message in items)
    return PydanticCustomError(_PROBLEM, "{summary}", {"summary": summary, "problems": list(items)})


def _q(value: Any) -> str:
    """The offending value, double-quoted and shortened, as it would read in YAML."""
    if isinstance(value, str):
        text = value
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (Mapping, list, tuple)):
        text = yaml.safe_dump(_plain(value), default_flow_style=True, width=10_000).strip()
    else:
        text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return json.dumps(text, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _join(base: str, rel: str) -> str:
    if not base:
        return rel
    if not rel:
        return base
    return base + rel if rel.startswith("[") else f"{base}.{rel}"


def _path(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        path = _join(path, f"[{part}]" if isinstance(part, int) else str(part))
    return path


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _got(value: Any) -> str:
    return "null" if value is None else f"{_kind(value)} {_q(value)}"


def _hint(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "x"?)` when a close match exists, else empty."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


def _describe(err: Mapping[str, Any], allowed: Sequence[str] | None) -> str:
    """Plain words for pydantic's own error types (the ones our custom validators do not raise)."""
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else ""
        if allowed:
            hint = _hint(key, allowed)
            return f"unknown key{hint}" if hint else f"unknown key (expected one of: {', '.join(allowed)})"
        return "unknown key"
    if kind in ("bool_type", "bool_parsing"):
        return f"{_q(value)} is not true or false"
    if kind in ("list_type", "tuple_type", "set_type", "frozen_set_type"):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return f"expected a list, got {_kind(value)} {_q(value)} (write [{value}])"
        return f"expected a list, got {_got(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {_got(value)}"
    if kind in ("string_type", "string_unicode"):
        return f"{_q(value)} is not text"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{_q(value)} is not an ISO date (YYYY-MM-DD)"
    return f"{_q(value)} is invalid: {err.get('msg', kind)}"


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class found at `loc` below `root`, for listing the keys it accepts."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _find_model(model.model_fields[part].annotation)
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _format_errors(exc: ValidationError, root: type[BaseModel]) -> list[str]:
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        base = _path(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == _PROBLEM and "problems" in ctx:
            lines.extend(f"{_join(base, rel)}: {message}" for rel, message in ctx["problems"])
        elif err["type"] == _PROBLEM:
            lines.append(f"{base or '<top level>'}: {err['msg']}")
        else:
            model = _model_at(root, err["loc"][:-1]) if err["type"] == "extra_forbidden" else None
            allowed = list(model.model_fields) if model is not None else None
            lines.append(f"{base or '<top level>'}: {_describe(err, allowed)}")
    return _unique(lines)


def _unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))
