"""Reading the YAML file: YAML 1.2 scalars, no duplicate keys, secrets refused, every problem reported
at once as a ConfigError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.errors import ConfigError, _format_errors, _join, _kind, _unique
from bot.config.models import AppConfig
from bot.config.team_checks import raw_team_conflicts

EXAMPLE_FILE = "deskwatch.example.yaml"
SECRET_IN_YAML = "secrets belong in environment variables (e.g. ZENDESK_API_TOKEN), not in the YAML"

_SECRET_KEY = re.compile(r"token|secret|password|passwd|api_?key", re.IGNORECASE)


def _strip_secrets(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Drop secret-looking keys (reported, values never echoed) so they are not also 'unknown key'."""
    problems: list[str] = []
    if isinstance(value, Mapping):
        kept = {}
        for key, item in value.items():
            key_path = _join(path, str(key))
            if isinstance(key, str) and _SECRET_KEY.search(key.replace("-", "_")):
                problems.append(f"{key_path}: {SECRET_IN_YAML}")
                continue
            kept[key], inner = _strip_secrets(item, key_path)
            problems.extend(inner)
        return kept, problems
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            cleaned, inner = _strip_secrets(item, f"{path}[{index}]")
            items.append(cleaned)
            problems.extend(inner)
        return items, problems
    return value, problems


def config_from_dict(data: Any, source: str = "<dict>") -> AppConfig:
    """Validate already-parsed configuration; raise ConfigError listing every problem."""
    if data is None:
        raise ConfigError(
            [f"{source}: is empty; it needs at least `alerts: {{channel: C0123ABCD}}` (see {EXAMPLE_FILE})"]
        )
    if not isinstance(data, Mapping):
        raise ConfigError(
            [
                f"{source}: the top level must be a mapping (timezone:, alerts:, teams:, ...), "
                f"not {_kind(data)}"
            ]
        )
    cleaned, problems = _strip_secrets(data)
    try:
        config = AppConfig.model_validate(cleaned)
    except ValidationError as exc:
        problems += _format_errors(exc, AppConfig) + raw_team_conflicts(cleaned)
    if problems:
        raise ConfigError(_unique(problems))
    return config


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars and no duplicate keys.

    YAML 1.1 reads `end: 17:00` as the integer 1020, `holidays: NO` as false and `007` as octal; a
    repeated key silently wins. Each of these would turn a typo into a wrong config instead of an error.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool, date)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_YAML_BOOL = "tag:yaml.org,2002:bool"
_YAML_INT = "tag:yaml.org,2002:int"
_YAML_FLOAT = "tag:yaml.org,2002:float"
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_YAML_BOOL, _YAML_INT, _YAML_FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    _YAML_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_YamlLoader.add_implicit_resolver(_YAML_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_YamlLoader.add_implicit_resolver(
    _YAML_FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_YamlLoader.add_constructor(_YAML_INT, lambda loader, node: int(loader.construct_scalar(node), 10))


def _timestamp_or_text(loader: _YamlLoader, node: yaml.ScalarNode) -> Any:
    """`2025-13-01` stays text (reported as 'not an ISO date') instead of crashing the YAML parser."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def load_config(path: str | Path) -> AppConfig:
    """Read and validate the YAML file at `path`; raise ConfigError listing every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                f"{file}: config file not found (looked in {file.absolute()}). Set DESKWATCH_CONFIG to your "
                f"config file's path, or copy {EXAMPLE_FILE} to {file} and edit it"
            ]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{file}: is not UTF-8 text; save it as UTF-8"]) from None
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read the config file ({exc.strerror or exc})"]) from None
    try:
        data = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(
            [f"{file}: invalid YAML{where}: {exc.problem or exc.context or 'cannot parse'}"]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}: invalid YAML: {exc}"]) from None
    return config_from_dict(data, source=str(file))
