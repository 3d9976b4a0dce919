"""Edits of a manifest's text that leave every line they are not about byte-identical.

``ManifestText`` sets a value at a path (``("apps", "web", "callbacks")``), removes one,
or appends an app, and returns the new text. ruamel.yaml composes the file: each node's
span in the text and its style (plain or quoted scalar, block or flow collection). An edit
is spliced into the original text at those spans, and the new fragments are emitted by
ruamel.yaml for a YAML 1.1 reader (the manifests are read by PyYAML: ``yes`` is quoted),
in the style of the node they replace. The document is never re-emitted as a whole: that
would reflow lines the edit is not about (line width, indentation, quotes).

Within a list or a mapping, only the members that change are touched: an item added is a
line inserted, an item removed a line removed, a changed member of a mapping its value's
span. A value written as ``${VARIABLE}`` is kept while what it expands to is what is asked;
an edit that would have to replace or remove it is not made, and ``set`` says so
(``Unkept``), for it is never replaced by the literal it expands to in one environment.

The result is read back by the manifests' own loader and must hold exactly the data asked
for; if not, ``result`` raises ``EditError`` (nothing is written).
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from reconciler.errors import InputError
from reconciler.files import replace_atomically
from reconciler.manifests.yamlfile import JsonPath, YamlError, load_yaml_bytes

__all__ = ["EditError", "ManifestText", "Unkept", "variables_in", "write_manifest"]

_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_EMITTED_PREFIX = re.compile(r"\A%YAML 1\.1\n---[ \n]")


def variables_in(text: str) -> tuple[str, ...]:
    """The names of the ``${NAME}`` references in ``text``, in order, once each."""
    return tuple(dict.fromkeys(_REFERENCE.findall(text.replace("$${", ""))))


class EditError(InputError):
    """An edit that cannot be made without touching what it is not about."""


@dataclass(frozen=True)
class Unkept:
    """A value written with variables that an edit would have had to replace or remove."""

    path: JsonPath
    #: As the file writes it, e.g. ``https://pay.${DOMAIN}/callback``.
    expression: str
    #: What it expands to here.
    expanded: str

    @property
    def variables(self) -> tuple[str, ...]:
        return variables_in(self.expression)


@dataclass(frozen=True)
class _Style:
    """How the file indents: a mapping's members, and a block sequence's dashes."""

    mapping: int = 2
    #: Columns from a sequence's parent key to its dash.
    offset: int = 2

    def emitter(self, *, flow: bool | None) -> YAML:
        yaml = YAML(typ="rt")
        yaml.version = (1, 1)
        yaml.width = 1 << 30
        yaml.default_flow_style = flow
        yaml.indent(mapping=self.mapping, sequence=self.offset + 2, offset=self.offset)
        return yaml


@dataclass(frozen=True)
class _Splice:
    start: int
    end: int
    text: str


class ManifestText:
    """One manifest file's text and the edits asked of it.

    ``resolve`` expands a string's ``${NAME}`` references (for the environment the edit
    is for); values are compared as they expand.
    """

    def __init__(self, text: str, name: str, resolve: Callable[[str], str] | None = None) -> None:
        self.text = text
        self.name = name
        self.resolve = resolve or (lambda value: value)
        try:
            self.raw = (
                load_yaml_bytes(text.encode("utf-8"), name).data if _holds_content(text) else {}
            )
            root = YAML(typ="rt").compose(io.StringIO(text)) if self.raw else _EMPTY
        except (YamlError, YAMLError) as exc:
            raise EditError(f"{name}: cannot be edited: {exc}") from exc
        if not isinstance(root, MappingNode) or not isinstance(self.raw, dict):
            raise EditError(f"{name}: cannot be edited: the document is not a mapping")
        self.root: MappingNode = root
        self.style = _detect_style(root)
        self.splices: list[_Splice] = []
        self.expected = _expanded(self.raw, self.resolve)

    # -- what a caller asks -------------------------------------------------------------

    def value(self, path: JsonPath) -> Any:
        """The value at ``path``, expanded; KeyError when there is none."""
        found: Any = self.expected
        for part in path:
            found = found[part]
        return found

    def set(self, path: JsonPath, value: Any) -> list[Unkept]:
        """Make ``path`` hold ``value`` (its parents are made as mappings where missing).

        Returns what the edit would have had to replace of a value written with variables;
        then nothing is edited at all."""
        parent_path, key = path[:-1], path[-1]
        parent, existing = self._deepest_mapping(parent_path)
        if len(existing) < len(parent_path):
            missing = parent_path[len(existing) :]
            nested: Any = value
            for part in reversed((*missing[1:], key)):
                nested = {part: nested}
            return self._edit_member(parent, existing, missing[0], nested)
        return self._edit_member(parent, existing, key, value)

    def remove(self, path: JsonPath) -> list[Unkept]:
        """Remove the member at ``path`` (nothing when it is absent)."""
        parent, existing = self._deepest_mapping(path[:-1])
        if len(existing) < len(path) - 1:
            return []
        pair = _pair(parent, path[-1])
        if pair is None:
            return []
        self._refuse_shared(pair[1], path)
        unkept = self._templated(pair[1], path)
        if unkept:
            return unkept
        self._splice(self._removal(parent, pair))
        _delete(self.expected, path)
        return []

    def append_app(self, key: str, body: Mapping[str, Any]) -> None:
        """Add app ``key`` at the end of the file's ``apps``, in the file's style."""
        apps_pair = _pair(self.root, "apps")
        if apps_pair is not None and _pair(_mapping(apps_pair[1]), key) is not None:
            raise EditError(f"{self.name}: app {key!r} is already declared here")
        if apps_pair is None or _holds_no_apps(apps_pair[1]):
            self._append_first_app(apps_pair, key, body)
        else:
            apps = _mapping(apps_pair[1])
            if apps.flow_style:
                raise EditError(f"{self.name}: apps is a flow mapping; add {key!r} by hand")
            separator = "\n" if _blank_line_between_members(self.text, apps) else ""
            self._splice(self._addition(apps, key, _block_style(body), separator))
        self.expected.setdefault("apps", {})
        if not isinstance(self.expected["apps"], dict):
            self.expected["apps"] = {}
        self.expected["apps"][key] = copy.deepcopy(dict(body))

    def result(self) -> str:
        """The text with every edit made, checked by reading it back."""
        if not self.splices:
            return self.text
        pieces: list[str] = []
        cursor = 0
        for splice in sorted(self.splices, key=lambda s: (s.start, s.end)):
            if splice.start < cursor:
                raise EditError(f"{self.name}: two edits overlap at offset {splice.start}")
            pieces += [self.text[cursor : splice.start], splice.text]
            cursor = splice.end
        pieces.append(self.text[cursor:])
        edited = "".join(pieces)
        try:
            read_back = load_yaml_bytes(edited.encode("utf-8"), self.name).data
        except YamlError as exc:
            raise EditError(f"{self.name}: the edit would not parse: {exc}") from exc
        if _expanded(read_back, self.resolve) != self.expected:
            raise EditError(
                f"{self.name}: the edit does not read back as asked; the file is left as it is"
            )
        return edited

    # -- members ------------------------------------------------------------------------

    def _deepest_mapping(self, path: JsonPath) -> tuple[MappingNode, JsonPath]:
        node: MappingNode = self.root
        walked: list[str | int] = []
        for part in path:
            pair = _pair(node, part)
            if pair is None or not isinstance(pair[1], MappingNode):
                if pair is not None:
                    raise EditError(f"{self.name}: {_dotted(path)} is not a mapping")
                break
            node = pair[1]
            walked.append(part)
        return node, tuple(walked)

    def _edit_member(
        self, parent: MappingNode, at: JsonPath, key: str | int, value: Any
    ) -> list[Unkept]:
        pair = _pair(parent, key)
        member_path = (*at, key)
        if pair is None:
            if parent.flow_style:
                self._splice(self._flow_rebuild(parent, {**self._at(at), key: value}, at))
            else:
                self._splice(self._addition(parent, str(key), value))
        else:
            self._refuse_shared(pair[1], member_path)
            unkept: list[Unkept] = []
            splices = list(self._edit_value(parent, pair, value, member_path, unkept))
            if unkept:
                return unkept
            for splice in splices:
                self._splice(splice)
        _assign(self.expected, member_path, copy.deepcopy(value))
        return []

    def _edit_value(
        self,
        parent: MappingNode,
        pair: tuple[ScalarNode, Node],
        value: Any,
        path: JsonPath,
        unkept: list[Unkept],
    ) -> Iterator[_Splice]:
        """The splices that make the member ``pair`` of ``parent`` hold ``value``."""
        key_node, node = pair
        held = self._at(path)
        if held == value:
            return
        if parent.flow_style:
            yield from self._flow_value(node, value, path, unkept)
        elif isinstance(node, MappingNode) and isinstance(value, dict) and value:
            yield from self._mapping_members(node, value, path, unkept)
        elif isinstance(node, SequenceNode) and isinstance(value, list) and value:
            yield from self._sequence_items(node, value, path, unkept)
        elif isinstance(node, ScalarNode) and not isinstance(value, dict | list):
            unkept.extend(self._templated(node, path))
            yield self._scalar_replacement(node, value)
        else:
            unkept.extend(self._templated(node, path))
            yield self._entry_replacement(key_node, node, value)

    def _flow_value(
        self, node: Node, value: Any, path: JsonPath, unkept: list[Unkept]
    ) -> Iterator[_Splice]:
        if isinstance(node, ScalarNode) and not isinstance(value, dict | list):
            unkept.extend(self._templated(node, path))
            yield self._scalar_replacement(node, value)
        elif isinstance(node, MappingNode | SequenceNode) and node.flow_style:
            yield from self._flow_collection(node, value, path, unkept)
        else:
            unkept.extend(self._templated(node, path))
            yield _Splice(node.start_mark.index, self._end(node), self._flow(value))

    def _mapping_members(
        self, node: MappingNode, value: Mapping[str, Any], path: JsonPath, unkept: list[Unkept]
    ) -> Iterator[_Splice]:
        if node.flow_style:
            yield from self._flow_collection(node, value, path, unkept)
            return
        held = self._at(path)
        for key_node, member in node.value:
            name = key_node.value
            if name not in value:
                unkept.extend(self._templated(member, (*path, name)))
                yield self._removal(node, (key_node, member))
            elif held.get(name) != value[name]:
                yield from self._edit_value(
                    node, (key_node, member), value[name], (*path, name), unkept
                )
        added = {name: member for name, member in value.items() if name not in held}
        if added:
            yield self._addition(node, None, added)

    def _sequence_items(
        self, node: SequenceNode, value: Sequence[Any], path: JsonPath, unkept: list[Unkept]
    ) -> Iterator[_Splice]:
        if node.flow_style:
            yield from self._flow_collection(node, value, path, unkept)
            return
        held = self._at(path)
        items: list[Node] = node.value
        matcher = difflib.SequenceMatcher(
            a=[_key(item) for item in held], b=[_key(item) for item in value], autojunk=False
        )
        for operation, i1, i2, j1, j2 in matcher.get_opcodes():
            if operation == "equal":
                continue
            if operation == "replace" and i2 - i1 == j2 - j1:
                for offset in range(i2 - i1):
                    index = i1 + offset
                    yield from self._item_value(
                        items[index], value[j1 + offset], (*path, index), unkept
                    )
                continue
            for index in range(i1, i2):
                unkept.extend(self._templated(items[index], (*path, index)))
                yield self._item_removal(items[index])
            if j2 > j1:
                yield self._item_insertion(items, i1, i2, value[j1:j2])

    def _item_value(
        self, node: Node, value: Any, path: JsonPath, unkept: list[Unkept]
    ) -> Iterator[_Splice]:
        if isinstance(node, MappingNode) and isinstance(value, dict) and value:
            yield from self._mapping_members(node, value, path, unkept)
        elif isinstance(node, SequenceNode) and isinstance(value, list) and value:
            yield from self._sequence_items(node, value, path, unkept)
        elif isinstance(node, ScalarNode) and not isinstance(value, dict | list):
            unkept.extend(self._templated(node, path))
            yield self._scalar_replacement(node, value)
        else:
            unkept.extend(self._templated(node, path))
            column = node.start_mark.column
            text = _reindent(self._block(value), column)
            yield _Splice(node.start_mark.index, self._end(node), text)

    # -- flow collections ---------------------------------------------------------------

    def _flow_collection(
        self, node: MappingNode | SequenceNode, value: Any, path: JsonPath, unkept: list[Unkept]
    ) -> Iterator[_Splice]:
        if isinstance(node, MappingNode) and isinstance(value, dict):
            for name, member in ((k.value, v) for k, v in node.value):
                if name not in value or self._at((*path, name)) != value[name]:
                    unkept.extend(self._templated(member, (*path, name)))
            yield self._flow_rebuild(node, value, path)
        elif isinstance(node, SequenceNode) and isinstance(value, list):
            wanted = {_key(item) for item in value}
            for index, item in enumerate(node.value):
                if _key(self._at((*path, index))) not in wanted:
                    unkept.extend(self._templated(item, (*path, index)))
            yield self._flow_rebuild(node, value, path)
        else:
            unkept.extend(self._templated(node, path))
            yield _Splice(node.start_mark.index, self._end(node), self._flow(value))

    def _flow_rebuild(
        self, node: MappingNode | SequenceNode, value: Any, path: JsonPath
    ) -> _Splice:
        """The flow collection rewritten on its span: what stays as the file wrote it,
        the rest emitted in the style of its neighbours."""
        start, end = node.start_mark.index, node.end_mark.index
        source = self.text[start:end]
        opening, closing = source[0], source[-1]
        pad = " " if len(source) > 2 and source[1] == " " else ""
        separator = self._flow_separator(node)
        parts: list[str] = []
        if isinstance(node, MappingNode):
            members = {k.value: (k, v) for k, v in node.value}
            for name, wanted in value.items():
                pair = members.get(name)
                if pair is None:
                    parts.append(f"{self._scalar(name, None)}: {self._flow(wanted)}")
                elif self._at((*path, name)) == wanted:
                    parts.append(self.text[pair[0].start_mark.index : self._end(pair[1])])
                else:
                    key_text = self.text[pair[0].start_mark.index : pair[0].end_mark.index]
                    parts.append(f"{key_text}: {self._flow_like(pair[1], wanted)}")
        else:
            held = [self._at((*path, index)) for index in range(len(node.value))]
            kept = {_key(item): node.value[i] for i, item in reversed(list(enumerate(held)))}
            style = _scalar_style(node.value[0]) if node.value else None
            for wanted in value:
                item = kept.get(_key(wanted))
                if item is not None:
                    parts.append(self.text[item.start_mark.index : self._end(item)])
                elif isinstance(wanted, dict | list):
                    parts.append(self._flow(wanted))
                else:
                    parts.append(self._scalar(wanted, style))
        self._refuse_inner_comments(node)
        if "\n" in source and parts:
            return _Splice(start, end, self._flow_lines(node, opening, closing, parts))
        inner = separator.join(parts)
        return _Splice(
            start, end, f"{opening}{pad}{inner}{pad}{closing}" if inner else opening + closing
        )

    def _flow_lines(
        self, node: MappingNode | SequenceNode, opening: str, closing: str, parts: list[str]
    ) -> str:
        """A flow collection written one member a line, as the file wrote it: each member
        at the first one's column, a comma after the last one if the file has one there."""
        first = node.value[0][0] if isinstance(node, MappingNode) else node.value[0]
        column = first.start_mark.column
        last = node.value[-1][1] if isinstance(node, MappingNode) else node.value[-1]
        tail = self.text[self._end(last) : node.end_mark.index - 1]
        trailing = "," if tail.strip() == "," else ""
        closing_line = self.text[_line_start(self.text, node.end_mark.index - 1) :]
        closing_column = len(closing_line) - len(closing_line.lstrip(" "))
        members = ",\n".join(" " * column + part for part in parts)
        return f"{opening}\n{members}{trailing}\n{' ' * closing_column}{closing}"

    def _refuse_inner_comments(self, node: MappingNode | SequenceNode) -> None:
        """A comment between a flow collection's members would be lost in the rewrite."""
        members = (
            [m for pair in node.value for m in pair]
            if isinstance(node, MappingNode)
            else node.value
        )
        cursor = node.start_mark.index
        for member in members:
            if "#" in self.text[cursor : member.start_mark.index]:
                break
            cursor = self._end(member)
        else:
            if "#" not in self.text[cursor : node.end_mark.index]:
                return
        raise EditError(
            f"{self.name}:{node.start_mark.line + 1}: a comment inside this flow collection "
            "would be lost: edit it by hand"
        )

    def _flow_like(self, node: Node, value: Any) -> str:
        if isinstance(node, ScalarNode) and not isinstance(value, dict | list):
            return self._scalar(value, _scalar_style(node))
        return self._flow(value)

    def _flow_separator(self, node: MappingNode | SequenceNode) -> str:
        items = [v for _, v in node.value] if isinstance(node, MappingNode) else node.value
        keys = [k for k, _ in node.value] if isinstance(node, MappingNode) else node.value
        if len(items) < 2:
            return ", "
        between = self.text[self._end(items[0]) : keys[1].start_mark.index]
        return between if "\n" not in between and between.strip() == "," else ", "

    # -- splices of block collections ---------------------------------------------------

    def _removal(self, parent: MappingNode, pair: tuple[ScalarNode, Node]) -> _Splice:
        key_node, node = pair
        if parent.flow_style:
            remaining = {k.value: None for k, _ in parent.value if k.value != key_node.value}
            path = self._path_of(parent)
            held = self._at(path)
            return self._flow_rebuild(parent, {k: held[k] for k in remaining}, path)
        start = key_node.start_mark.index
        line_start = _line_start(self.text, start)
        index = [k for k, _ in parent.value].index(key_node)
        if self.text[line_start:start].strip():  # the first member of ``- key: ...``
            if index + 1 >= len(parent.value):
                raise EditError(f"{self.name}: cannot remove the only member of a list item")
            return _Splice(start, parent.value[index + 1][0].start_mark.index, "")
        return _Splice(line_start, _line_end(self.text, self._end(node)), "")

    def _addition(
        self, parent: MappingNode, key: str | None, value: Any, separator: str = ""
    ) -> _Splice:
        """New members after the last one: ``key: value``, or each member of ``value``."""
        members = {key: value} if key is not None else dict(value)
        column = parent.value[0][0].start_mark.column
        at = _line_end(self.text, self._end(parent.value[-1][1]))
        newline = "" if self.text[:at].endswith("\n") else "\n"
        lines = _reindent(self._block(members), column)
        return _Splice(at, at, f"{newline}{separator}{' ' * column}{lines}\n")

    def _append_first_app(
        self, apps_pair: tuple[ScalarNode, Node] | None, key: str, body: Mapping[str, Any]
    ) -> None:
        entry = _reindent(self._block({key: _block_style(body)}), self.style.mapping)
        if apps_pair is None:
            end = len(self.text)
            newline = "" if self.text.endswith("\n") else "\n"
            self._splice(_Splice(end, end, f"{newline}apps:\n{' ' * self.style.mapping}{entry}\n"))
            return
        key_node, node = apps_pair
        start = key_node.end_mark.index
        empty = node.start_mark.index == node.end_mark.index  # ``apps:`` and nothing
        end = self.text.index(":", start) + 1 if empty else node.end_mark.index
        self._splice(_Splice(start, end, f":\n{' ' * self.style.mapping}{entry}"))

    def _entry_replacement(self, key_node: ScalarNode, node: Node, value: Any) -> _Splice:
        """``key: value`` in place of the member, from its key to the end of its value."""
        column = key_node.start_mark.column
        text = _reindent(self._block({key_node.value: value}), column)
        source_key = self.text[key_node.start_mark.index : key_node.end_mark.index]
        text = source_key + text[text.index(":") :] if text.startswith(key_node.value) else text
        return _Splice(key_node.start_mark.index, self._end(node), text)

    def _item_removal(self, item: Node) -> _Splice:
        start = _line_start(self.text, item.start_mark.index)
        if self.text[start : item.start_mark.index].strip() != "-":
            raise EditError(
                f"{self.name}:{item.start_mark.line + 1}: a list item not on its own line"
            )
        return _Splice(start, _line_end(self.text, self._end(item)), "")

    def _item_insertion(
        self, items: Sequence[Node], before: int, after_removed: int, values: Sequence[Any]
    ) -> _Splice:
        """New items where ``items[before:after_removed]`` stood (at the end past the last)."""
        model = items[min(before, len(items) - 1)]
        prefix = self.text[_line_start(self.text, model.start_mark.index) : model.start_mark.index]
        if prefix.strip() != "-":
            raise EditError(
                f"{self.name}:{model.start_mark.line + 1}: a list item not on its own line"
            )
        style = _scalar_style(model) if isinstance(model, ScalarNode) else None
        lines = []
        for value in values:
            if isinstance(value, dict | list) and value:
                text = _reindent(self._block(value), len(prefix))
            else:
                text = self._scalar(value, style)
            lines.append(f"{prefix}{text}\n")
        if after_removed < len(items):
            at = _line_start(self.text, items[after_removed].start_mark.index)
            return _Splice(at, at, "".join(lines))
        at = _line_end(self.text, self._end(items[-1]))
        newline = "" if self.text[:at].endswith("\n") else "\n"
        return _Splice(at, at, newline + "".join(lines))

    def _scalar_replacement(self, node: ScalarNode, value: Any) -> _Splice:
        text = self._scalar(value, _scalar_style(node))
        return _Splice(node.start_mark.index, self._end(node), text)

    # -- emitting -----------------------------------------------------------------------

    def _scalar(self, value: Any, style: str | None) -> str:
        """One scalar on one line, quoted as ``style`` asks where it can be."""
        if isinstance(value, str) and style == '"':
            value = DoubleQuotedScalarString(value)
        elif isinstance(value, str) and style == "'" and "\n" not in value:
            value = SingleQuotedScalarString(value)
        text = _emit(self.style.emitter(flow=True), [value])
        return text[1:-1]

    def _flow(self, value: Any) -> str:
        if not isinstance(value, dict | list):
            return self._scalar(value, None)
        return _emit(self.style.emitter(flow=True), value)

    def _block(self, value: Any) -> str:
        """A mapping or a list in block style, the collections in it of scalars only in
        flow style, at column 0 (the first line as it goes after a key or a dash)."""
        block: CommentedMap | CommentedSeq
        if isinstance(value, dict):
            block = CommentedMap(value)
        elif isinstance(value, list):
            block = CommentedSeq(value)
        else:
            return self._scalar(value, None)
        block.fa.set_block_style()
        return textwrap.dedent(_emit(self.style.emitter(flow=None), block))

    # -- bookkeeping --------------------------------------------------------------------

    def _splice(self, splice: _Splice) -> None:
        self.splices.append(splice)

    def _at(self, path: JsonPath) -> Any:
        return self.value(path)

    def _end(self, node: Node) -> int:
        """Where a node's own text ends: a block collection's last item, not the next key."""
        while isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
            last = node.value[-1]
            node = last[1] if isinstance(last, tuple) else last
        end: int = node.end_mark.index
        if isinstance(node, ScalarNode) and node.style in ("|", ">"):
            while end > node.start_mark.index and self.text[end - 1] in "\n ":
                end -= 1
        return end

    def _refuse_shared(self, node: Node, path: JsonPath) -> None:
        anchor = _shared(node)
        if anchor is not None:
            line = node.start_mark.line + 1
            raise EditError(
                f"{self.name}:{line}: {_dotted(path)} holds the anchor &{anchor}, which other "
                "places refer to: edit it by hand"
            )

    def _templated(self, node: Node, path: JsonPath) -> list[Unkept]:
        """The strings under ``node`` written with variables, as ``Unkept``."""
        found: list[Unkept] = []
        for at, text in _strings(node, path):
            if "${" in text:
                found.append(Unkept(at, text, self.resolve(text)))
        return found

    def _path_of(self, target: Node) -> JsonPath:
        def search(node: Node, path: JsonPath) -> JsonPath | None:
            if node is target:
                return path
            if isinstance(node, MappingNode):
                for key, member in node.value:
                    found = search(member, (*path, key.value))
                    if found is not None:
                        return found
            elif isinstance(node, SequenceNode):
                for index, item in enumerate(node.value):
                    found = search(item, (*path, index))
                    if found is not None:
                        return found
            return None

        found = search(self.root, ())
        if found is None:
            raise EditError(f"{self.name}: a node outside the document")
        return found


def write_manifest(path: Path, text: str) -> None:
    """Replace (or create) the manifest at ``path`` atomically, keeping its mode (a new
    file gets 0644: manifests hold no secret, and are read by every reviewer's tools)."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    replace_atomically(path, text, mode=mode, label="edit")


_EMPTY = MappingNode("tag:yaml.org,2002:map", [])


def _holds_content(text: str) -> bool:
    """Whether the text holds more than comments and blank lines (a new file may not)."""
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _emit(yaml: YAML, value: Any) -> str:
    stream = io.StringIO()
    yaml.dump(value, stream)
    text = _EMITTED_PREFIX.sub("", stream.getvalue(), count=1)
    return text.removesuffix("\n").removesuffix("\n...")


def _block_style(body: Mapping[str, Any]) -> CommentedMap:
    """An app's body, written in block style whatever it holds."""
    block = CommentedMap(body)
    block.fa.set_block_style()
    return block


def _shared(node: Node) -> str | None:
    """The anchor of ``node`` or of a node inside it: an edit there would change each
    place that refers to it."""
    if node.anchor:
        return str(node.anchor)
    if isinstance(node, MappingNode):
        inner = [member for pair in node.value for member in pair]
    elif isinstance(node, SequenceNode):
        inner = list(node.value)
    else:
        return None
    return next((found for child in inner if (found := _shared(child))), None)


def _reindent(text: str, column: int) -> str:
    """Lines after the first moved right by ``column`` (the first goes after a prefix)."""
    first, *rest = text.split("\n")
    return "\n".join([first, *((" " * column + line) if line else line for line in rest)])


def _detect_style(root: MappingNode) -> _Style:
    mapping: int | None = None
    offset: int | None = None
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack and (mapping is None or offset is None):
        node, column = stack.pop()
        if isinstance(node, MappingNode) and not node.flow_style:
            for key, member in node.value:
                if isinstance(member, MappingNode) and not member.flow_style and member.value:
                    inner = member.value[0][0].start_mark.column
                    if mapping is None and inner > key.start_mark.column:
                        mapping = inner - key.start_mark.column
                if isinstance(member, SequenceNode) and not member.flow_style and member.value:
                    dash = member.value[0].start_mark.column - 2
                    if offset is None and dash >= key.start_mark.column:
                        offset = dash - key.start_mark.column
                stack.append((member, key.start_mark.column))
        elif isinstance(node, SequenceNode) and not node.flow_style:
            stack.extend((item, column) for item in node.value)
    return _Style(mapping or 2, 2 if offset is None else offset)


def _pair(node: MappingNode, key: str | int) -> tuple[ScalarNode, Node] | None:
    for key_node, member in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            if _tag(key_node) == "tag:yaml.org,2002:merge":
                break
            return key_node, member
    return None


def _tag(node: Node) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag) or "")


def _mapping(node: Node) -> MappingNode:
    if not isinstance(node, MappingNode):
        raise EditError("apps is not a mapping")
    return node


def _holds_no_apps(node: Node) -> bool:
    """``apps: {}``, or ``apps:`` with nothing after it."""
    if isinstance(node, MappingNode):
        return not node.value
    return isinstance(node, ScalarNode) and node.style is None and node.value in ("", "~", "null")


def _blank_line_between_members(text: str, node: MappingNode) -> bool:
    """Whether a blank line stands above the second member (and the comments over it); with
    one member, yes."""
    if len(node.value) < 2:
        return True
    lines = text[: _line_start(text, node.value[1][0].start_mark.index)].split("\n")[:-1]
    while lines and lines[-1].lstrip().startswith("#"):
        lines.pop()
    return bool(lines) and not lines[-1].strip()


def _scalar_style(node: Node) -> str | None:
    return node.style if isinstance(node, ScalarNode) and node.style in ("'", '"') else None


def _strings(node: Node, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(node, ScalarNode):
        if _tag(node) in ("", "tag:yaml.org,2002:str") or node.style in ("'", '"'):
            yield path, node.value
    elif isinstance(node, MappingNode):
        for key, member in node.value:
            yield from _strings(member, (*path, key.value))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _strings(item, (*path, index))


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Just past the newline that ends the line of ``index`` (the end of the text if none)."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _expanded(data: Any, resolve: Callable[[str], str]) -> Any:
    if isinstance(data, str):
        return resolve(data) if "${" in data else data
    if isinstance(data, dict):
        return {key: _expanded(value, resolve) for key, value in data.items()}
    if isinstance(data, list):
        return [_expanded(item, resolve) for item in data]
    return data


def _assign(data: dict[str, Any], path: JsonPath, value: Any) -> None:
    target: Any = data
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(target, dict) else target[part]
    target[path[-1]] = value


def _delete(data: dict[str, Any], path: JsonPath) -> None:
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]


def _dotted(path: JsonPath) -> str:
    return ".".join(str(part) for part in path)
