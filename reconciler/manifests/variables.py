"""``${NAME}`` substitution in manifest strings, with located errors for the undefined."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.diagnostics import Diagnostic, Location
from reconciler.manifests.yamlfile import JsonPath, YamlFile

__all__ = ["Variables", "substitute"]

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Variables:
    """Values by precedence: command line, then the environment's vars, then the process."""

    command_line: Mapping[str, str]
    environment: Mapping[str, str]
    process: Mapping[str, str]
    environment_name: str | None = None

    def get(self, name: str) -> str | None:
        for source in (self.command_line, self.environment, self.process):
            if name in source:
                return source[name]
        return None


def substitute(file: YamlFile, variables: Variables) -> tuple[Any, list[Diagnostic]]:
    """A copy of the file's data with every ``${NAME}`` replaced; ``$${`` is a literal ``${``."""
    if not file.templated:
        return file.data, []
    data = _copy_containers(
        file.data, {path[:i] for path in file.templated for i in range(len(path))}
    )
    problems: list[Diagnostic] = []
    if file.templated == [()]:  # the whole document is one string
        return _expand(file.data, variables, file, (), problems), problems
    for path in file.templated:
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = _expand(parent[path[-1]], variables, file, path, problems)
    return data, problems


def _where(file: YamlFile, path: JsonPath) -> Location:
    """Where a string's text starts: one column past the quote of a quoted scalar."""
    where = file.locate(path)
    if path in file.quoted:
        return Location(where.file, where.line, where.column + 1)
    return where


def _expand(
    text: str, variables: Variables, file: YamlFile, path: JsonPath, problems: list[Diagnostic]
) -> str:
    """``text`` with its references replaced; the string at ``path`` is located only for
    a problem."""

    def at(match: re.Match[str]) -> Location:
        where = _where(file, path)
        return Location(where.file, where.line, where.column + match.start())

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if not _NAME.match(name):
            problems.append(
                Diagnostic(at(match), "variable-name", f"invalid variable name {name!r}")
            )
            return match.group(0)
        value = variables.get(name)
        if value is None:
            scope = (
                f" in environment {variables.environment_name!r}"
                if variables.environment_name
                else ""
            )
            problems.append(
                Diagnostic(
                    at(match), "undefined-variable", f"variable {name!r} is not defined{scope}"
                )
            )
            return match.group(0)
        return value

    return _REFERENCE.sub(replace, text)


def _copy_containers(data: Any, along: set[JsonPath], path: JsonPath = ()) -> Any:
    """Copy only the containers on the way to templated strings; share the rest."""
    if path not in along:
        return data
    if isinstance(data, dict):
        return {k: _copy_containers(v, along, (*path, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy_containers(v, along, (*path, i)) for i, v in enumerate(data)]
    return data
