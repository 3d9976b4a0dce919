"""YAML files read into plain data plus a table of where every node came from.

The data is what JSON Schema sees (dicts, lists, str, int, float, bool, None); the
location tables map a JSON path such as ``("apps", "web", "callbacks", 0)`` back to the
file, line and column of that node (and, for mapping keys, of the key itself), each as
one packed int (``_LINE_SHIFT``), as the tables hold an entry for every node of every file.

Hostile input is refused with a located diagnostic: bytes that are not UTF-8, tabs in
indentation, duplicate keys (PyYAML would silently keep the last), alias expansion
bombs and recursive aliases, empty files and files over the size limit.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from reconciler.core.collector import collector_paused
from reconciler.diagnostics import Diagnostic, Location
from reconciler.errors import ManifestError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "JsonPath",
    "PRIVATE_KEY_MARK",
    "SECRET_KEYS",
    "YamlError",
    "YamlFile",
    "load_yaml_bytes",
    "load_yaml_file",
]

DEFAULT_MAX_BYTES = 1024 * 1024
MAX_ALIAS_EXPANSION = 10_000
MAX_DEPTH = 200
_BRACKETS = re.compile(r"[\[\]{}]")
JsonPath = tuple[str | int, ...]
#: Mapping keys that name a secret, wherever they stand in a file.
SECRET_KEYS = frozenset({"client_secret", "signing_secret", "registration_access_token"})
#: What every string holding a PEM private key contains.
PRIVATE_KEY_MARK = "PRIVATE KEY-----"

_SafeLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc]
    """The safe loader, answering libyaml's question about every node faster: a plain
    scalar's tag depends on its text alone, so it is resolved once per text in a file, and
    there are no path resolvers to descend into (the safe loader registers none)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.plain_tags: dict[str, str] = {}

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self.plain_tags.get(value)
            if tag is None:
                tag = self.plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        resolved: str = super().resolve(kind, value, implicit)
        return resolved

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


_ScalarNode = yaml.ScalarNode
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_scalar_constructor = SafeConstructor()
#: A packed position is ``line << _LINE_SHIFT | column``, both counted from 0 as marks count.
_LINE_SHIFT = 32
_COLUMNS = (1 << _LINE_SHIFT) - 1


@dataclass
class YamlFile:
    """One parsed YAML file: its data and where each part of it stands."""

    path: str
    data: Any
    positions: dict[JsonPath, int] = field(default_factory=dict)
    key_positions: dict[JsonPath, int] = field(default_factory=dict)
    templated: list[JsonPath] = field(default_factory=list)
    quoted: set[JsonPath] = field(default_factory=set)
    #: False when no key is one of SECRET_KEYS and no string holds PRIVATE_KEY_MARK, so
    #: the secret scan has nothing to find.
    may_hold_secrets: bool = True

    def locate(self, path: JsonPath) -> Location:
        """The location of the node at ``path``, or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return Location(self.path, *_unpacked(found))
        return Location(self.path, 1, 1)

    def locate_key(self, path: JsonPath) -> Location:
        """The location of the mapping key that names ``path`` (its value if no key)."""
        found = self.key_positions.get(path)
        return Location(self.path, *_unpacked(found)) if found is not None else self.locate(path)


def _unpacked(position: int) -> tuple[int, int]:
    """The line and column (from 1) of a packed position."""
    return (position >> _LINE_SHIFT) + 1, (position & _COLUMNS) + 1


class YamlError(ManifestError):
    """A file that cannot be read as YAML: one located diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


def load_yaml_file(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> YamlFile:
    """Read and parse ``path``; raises YamlError with a located diagnostic."""
    name = str(path)
    try:
        size = Path(path).stat().st_size
        if size > max_bytes:
            raise YamlError(
                Diagnostic(
                    Location(name),
                    "file-too-large",
                    f"file is {size} bytes, over the limit of {max_bytes} bytes",
                )
            )
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise YamlError(
            Diagnostic(Location(name), "file-unreadable", exc.strerror or str(exc))
        ) from exc
    return load_yaml_bytes(raw, name, max_bytes=max_bytes)


def load_yaml_bytes(raw: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> YamlFile:
    if len(raw) > max_bytes:
        raise YamlError(
            Diagnostic(
                Location(name),
                "file-too-large",
                f"file is {len(raw)} bytes, over the limit of {max_bytes} bytes",
            )
        )
    text = _decode(raw, name)
    _refuse_tab_indentation(text, name)
    _refuse_deep_nesting(text, name)
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise YamlError(Diagnostic(Location(name), "file-empty", "file has no content"))
    with collector_paused():
        return _parse(text, name)


def _parse(text: str, name: str) -> YamlFile:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(Diagnostic(where, "yaml-syntax", problem)) from exc
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        where = Location(name, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        raise YamlError(
            Diagnostic(where, "yaml-syntax", f"character {exc.character!r} is not allowed in YAML")
        ) from exc
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise YamlError(Diagnostic(Location(name), "yaml-syntax", first_line)) from exc
    except RecursionError as exc:
        raise YamlError(Diagnostic(Location(name), "yaml-too-deep", "nesting is too deep")) from exc
    if node is None:
        raise YamlError(Diagnostic(Location(name), "file-empty", "file has no content"))
    builder = _Builder(name)
    if "&" in text:  # without an anchor there is no alias to expand
        builder.check_aliases(node)
    data = builder.build(node, ())
    return YamlFile(
        name,
        data,
        builder.positions,
        builder.key_positions,
        builder.templated,
        builder.quoted,
        builder.may_hold_secrets,
    )


def _decode(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlError(
            Diagnostic(
                Location(name, line, column),
                "file-encoding",
                f"file is not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded",
            )
        ) from exc
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise YamlError(Diagnostic(Location(name, line), "file-encoding", "file contains NUL"))
    return text


def _refuse_tab_indentation(text: str, name: str) -> None:
    if "\t" not in text:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        indent = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:indent] and line.strip():
            raise YamlError(
                Diagnostic(
                    Location(name, number, line.index("\t") + 1),
                    "yaml-tab",
                    "tab character in indentation; YAML indents with spaces",
                )
            )


def _refuse_deep_nesting(text: str, name: str) -> None:
    """libyaml composes recursively in C: deep flow nesting would crash the process."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # not even every bracket nested in the one before it goes that deep
    depth = deepest = 0
    for bracket in _BRACKETS.findall(text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest <= MAX_DEPTH:
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                    raise YamlError(
                        Diagnostic(
                            Location(name, line, column),
                            "yaml-too-deep",
                            f"nesting is deeper than {MAX_DEPTH} levels",
                        )
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # compose reports the syntax error with its location


class _Builder:
    """Turns a composed node graph into plain data, recording locations."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.positions: dict[JsonPath, int] = {}
        self.key_positions: dict[JsonPath, int] = {}
        self.templated: list[JsonPath] = []
        self.quoted: set[JsonPath] = set()
        self.may_hold_secrets = False

    def where(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.name, mark.line + 1, mark.column + 1)

    def check_aliases(self, root: yaml.Node) -> None:
        """Refuse recursive aliases and aliases that expand past MAX_ALIAS_EXPANSION nodes."""
        sizes: dict[int, int] = {}
        in_progress: set[int] = set()
        distinct = 0

        def size(node: yaml.Node) -> int:
            nonlocal distinct
            known = sizes.get(id(node))
            if known is not None:
                return known
            if id(node) in in_progress:
                raise YamlError(
                    Diagnostic(
                        self.where(node), "yaml-alias", "recursive alias: a node contains itself"
                    )
                )
            in_progress.add(id(node))
            distinct += 1
            total = 1
            for child in _children(node):
                total += size(child)
            in_progress.discard(id(node))
            sizes[id(node)] = total
            if total - distinct > MAX_ALIAS_EXPANSION:
                raise YamlError(
                    Diagnostic(
                        self.where(node),
                        "yaml-alias-bomb",
                        f"aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes",
                    )
                )
            return total

        try:
            size(root)
        except RecursionError as exc:
            raise YamlError(
                Diagnostic(self.where(root), "yaml-too-deep", "nesting is too deep")
            ) from exc

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        mark = node.start_mark
        self.positions[path] = mark.line << _LINE_SHIFT | mark.column
        if type(node) is _ScalarNode:
            if node.tag != _STR:
                value = self.scalar(node)
            else:
                value = node.value
                if "${" in value:
                    self.templated.append(path)
                    if node.style in ("'", '"'):
                        self.quoted.add(path)
            if isinstance(value, str) and PRIVATE_KEY_MARK in value:
                self.may_hold_secrets = True
            return value
        if isinstance(node, yaml.SequenceNode):
            build = self.build
            return [build(child, (*path, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        return self.mapping(node, path)

    def mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: list[yaml.MappingNode] = []
        build, key_positions = self.build, self.key_positions
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(_merge_sources(value_node, self))
                continue
            if type(key_node) is not _ScalarNode:
                raise YamlError(
                    Diagnostic(
                        self.where(key_node),
                        "yaml-complex-key",
                        "mapping keys must be plain strings",
                    )
                )
            # one string per field name, shared by every app that sets it
            key = intern(str(key_node.value))
            if key in result:  # merged keys come after every explicit one
                line, column = _unpacked(key_positions[(*path, key)])
                raise YamlError(
                    Diagnostic(
                        self.where(key_node),
                        "yaml-duplicate-key",
                        f"duplicate key {key!r} (first defined at {line}:{column})",
                    )
                )
            mark = key_node.start_mark
            if key in SECRET_KEYS:
                self.may_hold_secrets = True
            child = (*path, key)
            key_positions[child] = mark.line << _LINE_SHIFT | mark.column
            result[key] = build(value_node, child)
        for source in merged:
            for key_node, value_node in source.value:
                key = str(key_node.value)
                if key not in result:
                    if key in SECRET_KEYS:
                        self.may_hold_secrets = True
                    mark = key_node.start_mark
                    self.key_positions[(*path, key)] = mark.line << _LINE_SHIFT | mark.column
                    result[key] = self.build(value_node, (*path, key))
        return result

    def scalar(self, node: yaml.ScalarNode) -> Any:
        """A scalar of any tag but str: its value as YAML 1.1 reads it (timestamps as text)."""
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        if node.tag == "tag:yaml.org,2002:binary":
            try:
                return base64.decodebytes(node.value.encode("ascii")).decode("latin-1")
            except (binascii.Error, UnicodeError) as exc:
                raise YamlError(
                    Diagnostic(self.where(node), "yaml-syntax", "invalid !!binary value")
                ) from exc
        construct = SafeConstructor.yaml_constructors.get(node.tag)
        if construct is None:
            raise YamlError(
                Diagnostic(self.where(node), "yaml-tag", f"unsupported tag {node.tag!r}")
            )
        try:
            return construct(_scalar_constructor, node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            raise YamlError(
                Diagnostic(self.where(node), "yaml-syntax", f"cannot read value {node.value!r}")
            ) from exc


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _merge_sources(node: yaml.Node, builder: _Builder) -> list[yaml.MappingNode]:
    if isinstance(node, yaml.MappingNode):
        return [node]
    if isinstance(node, yaml.SequenceNode) and all(
        isinstance(item, yaml.MappingNode) for item in node.value
    ):
        return list(node.value)
    raise YamlError(
        Diagnostic(
            builder.where(node),
            "yaml-syntax",
            "a merge key (<<) takes a mapping or a list of mappings",
        )
    )
