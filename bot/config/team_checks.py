"""Cross-team checks of the `teams:` list: one name per team, each helpdesk group/team in one team only.

Run on validated teams (AppConfig) and on the raw data (so they are reported in the same pass as field
errors, every problem at its YAML path).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic_core import PydanticCustomError

from bot.config.fields import _numeric_id


def team_conflicts(teams: Iterable[tuple[Any, Sequence[Any], Sequence[Any]]]) -> list[tuple[str, str]]:
    """Duplicate team names, and helpdesk ids claimed by more than one team, as (path, message)."""
    problems: list[tuple[str, str]] = []
    names: dict[str, int] = {}
    owners: dict[tuple[str, str], tuple[int, Any]] = {}
    for index, (name, group_ids, team_ids) in enumerate(teams):
        if isinstance(name, str):
            if name in names:
                problems.append(
                    (f"teams[{index}].name", f'"{name}" is already the name of teams[{names[name]}]')
                )
            else:
                names[name] = index
        for field, ids, what in (
            ("zendesk_group_ids", group_ids, "Zendesk group"),
            ("intercom_team_ids", team_ids, "Intercom team"),
        ):
            for position, ident in enumerate(ids):
                if ident is None:
                    continue
                owner = owners.setdefault((field, ident), (index, name))
                if owner[0] != index:
                    owner_name = owner[1] if isinstance(owner[1], str) else f"teams[{owner[0]}]"
                    problems.append(
                        (
                            f"teams[{index}].{field}[{position}]",
                            f'"{ident}" already belongs to team "{owner_name}" (teams[{owner[0]}]); '
                            f"a {what} may belong to only one team",
                        )
                    )
    return problems


def raw_team_conflicts(data: Mapping[str, Any]) -> list[str]:
    """Same checks on unvalidated data, so they are reported alongside other problems in one pass."""
    teams = data.get("teams")
    if not isinstance(teams, list):
        return []
    zendesk = _numeric_id("", "")

    def ids(value: Any) -> list[str | None]:
        if not isinstance(value, list):
            return []
        out: list[str | None] = []
        for item in value:
            try:
                out.append(zendesk(item))
            except PydanticCustomError:
                out.append(None)
        return out

    entries = []
    for team in teams:
        team = team if isinstance(team, Mapping) else {}
        name = team.get("name")
        name = name.strip() if isinstance(name, str) else None
        entries.append((name, ids(team.get("zendesk_group_ids")), ids(team.get("intercom_team_ids"))))
    return [f"{path}: {message}" for path, message in team_conflicts(entries)]
