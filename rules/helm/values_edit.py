"""Line edits that make a values.yaml (or a template) hold given settings, keeping every other byte.

The chart analysis learns that a rendered securityContext comes from, say, `.Values.securityContext`
and knows what that mapping should hold; this module turns that into `LineEdit`s of the values file.
Positions come from ruamel.yaml's composer; the file is never dumped, only the lines that must change
are written, in the file's own indentation and list style. Where no edit can be trusted (aliases,
tags, several documents, a multi-line flow mapping...) the answer is None and `refusal` says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.fixes import split_lines
from rules.kubernetes.nodes import children, first_line, is_flow, is_null, last_line, shared_nodes
from rules.model import LineEdit

REMOVE: Final = object()  # a desired value meaning "delete this key"

# Line breaks ruamel.yaml counts but rules.fixes does not: positions would disagree.
_FOREIGN_BREAKS = ("\x85", "\u2028", "\u2029")
_CORE_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(_CORE_TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq"))
# Plain words YAML 1.1 (Helm's go-yaml) reads as booleans or nulls although YAML 1.2 reads strings.
_YAML11_SPECIAL = frozenset(
    word
    for base in ("y", "yes", "n", "no", "on", "off", "true", "false", "null", "~")
    for word in (base, base.capitalize(), base.upper())
)


# A commented-out `key:` opening a list, and a commented-out list item: (comment lead, indentation).
_HINT_KEY = re.compile(r"^(\s*#+)( *)[\w.-]+:\s*$")
_HINT_ITEM = re.compile(r"^(\s*#+)( *)- ")


class Refusal(ValueError):
    """No safe edit exists; the message says why."""


@dataclass(frozen=True)
class Style:
    """How the file writes block YAML, so added lines look like their neighbours."""

    unit: int = 2  # spaces per nesting level
    dash: int = 2  # spaces from a key to the `-` of its list items (0: lists not indented)


@dataclass
class _Document:
    """The parsed values document: its root mapping (None when empty), lines and style."""

    root: MappingNode | None
    lines: list[str]  # without line endings
    style: Style
    shared: frozenset[int]
    constructor: object
    bom: bool  # the text starts with a byte order mark, which `lines` leave out


@dataclass
class _Plan:
    """Per-line changes: a line's new text (None: deleted) and lines added after it."""

    replaced: dict[int, str | None] = field(default_factory=dict)
    added: dict[int, list[str]] = field(default_factory=dict)

    def replace(self, line: int, text: str | None) -> None:
        if line in self.replaced and self.replaced[line] != text:
            raise Refusal(f"two changes to line {line}")
        self.replaced[line] = text

    def add_after(self, line: int, new_lines: list[str]) -> None:
        self.added.setdefault(line, []).extend(new_lines)

    def edits(self, lines: list[str], bom: bool = False) -> tuple[LineEdit, ...]:
        result: list[LineEdit] = []
        for line in sorted(set(self.replaced) | set(self.added)):
            current = self.replaced.get(line, lines[line - 1])
            if current == lines[line - 1] and not self.added.get(line):
                continue  # rewritten to what it already was
            body = [] if current is None else [current]
            body += self.added.get(line, [])
            if line == 1 and bom:
                body = ["\ufeff" + "".join(item + "\n" for item in body).rstrip("\n")] if body else ["\ufeff"]
            result.append(LineEdit(line, line, "".join(item + "\n" for item in body)))
        return tuple(result)


def key_line(text: str, path: tuple[str, ...]) -> int | None:
    """1-based line of the key at `path` in the values document, or of its deepest existing
    ancestor (line 1 when not even the top-level key exists); None when the document is not a
    mapping (or not parseable)."""
    try:
        document = _parse(text)
    except Refusal:
        return None
    line = 1
    mapping: Node | None = document.root
    for key in path:
        pair = _pair(mapping, key)
        if pair is None:
            break
        line = first_line(pair[0])
        mapping = pair[1]
    return line


def set_values(text: str, path: tuple[str, ...], desired: Mapping[str, object]) -> tuple[LineEdit, ...] | None:
    """Edits that make the mapping at `path` hold `desired` deep-merged into what it holds now.

    Keys with equal values are untouched; a scalar that differs is rewritten on its own line
    (keeping its trailing comment); missing keys are added after the mapping's last entry at its
    child indentation; nested mappings are recursed into; a list is replaced whole; REMOVE deletes
    the key's lines. A missing path is created under its deepest existing ancestor (at the end of
    the document for a top-level key). An empty `{}` (or null) becomes a block mapping whose new
    keys follow the key line, so commented hints under it stay where they are. None when no safe
    edit exists; `refusal(text, path, desired)` says why.
    """
    try:
        return _set_values(text, path, desired)
    except Refusal:
        return None


def refusal(text: str, path: tuple[str, ...], desired: Mapping[str, object]) -> str | None:
    """Why `set_values` gives no edit for these arguments; None when it gives one."""
    try:
        _set_values(text, path, desired)
    except Refusal as error:
        return str(error)
    return None


def insert_block(text: str, after_line: int, indent: int, key: str, value: Mapping[str, object]) -> LineEdit:
    """A `key:` block holding `value`, inserted after line `after_line` of a template at `indent` spaces.

    Templates are Go template text, not YAML: nothing is parsed, the block is written in two-space
    steps with indented lists, as `helm create` writes its templates.
    """
    lines = [line.rstrip("\r\n") for line in split_lines(text)]
    if not 1 <= after_line <= len(lines):
        raise ValueError(f"line {after_line} outside a template of {len(lines)} lines")
    block = _entry_lines(key, value, " " * indent, Style())
    return LineEdit(after_line, after_line, "".join(item + "\n" for item in [lines[after_line - 1], *block]))


def _set_values(text: str, path: tuple[str, ...], desired: Mapping[str, object]) -> tuple[LineEdit, ...]:
    document = _parse(text)
    plan = _Plan()
    if document.root is None:
        if not document.lines:
            raise Refusal("the file is empty: there is no line to add after")
        _add_entries(plan, document, len(document.lines), "", _nest(path, desired))
        return plan.edits(document.lines, document.bom)
    node, key_node, depth = _walk(document, path)
    _merge_into(plan, document, node, key_node, _nest(path[depth:], desired))
    return plan.edits(document.lines, document.bom)


def _parse(text: str) -> _Document:
    if any(mark in text for mark in _FOREIGN_BREAKS):
        raise Refusal("the file has line breaks (NEL, LS, PS) that line numbers would disagree about")
    yaml = YAML(typ="safe")
    try:
        roots = list(yaml.compose_all(text))
    except YAMLError as error:
        raise Refusal(f"the file is not valid YAML: {error}".splitlines()[0]) from error
    if len(roots) > 1:
        raise Refusal("the file holds several YAML documents")
    root = roots[0] if roots else None
    if root is not None and is_null(root):
        root = None
    if root is not None and not isinstance(root, MappingNode):
        raise Refusal("the document is not a mapping")
    lines = [line.rstrip("\r\n") for line in split_lines(text)]
    bom = text.startswith("\ufeff")
    if bom:
        lines[0] = lines[0][1:]  # the reader drops it: columns of line 1 count from after it
    nodes = [root] if root is not None else []
    return _Document(root, lines, _style_of(root, lines), shared_nodes(list(nodes)), yaml.constructor, bom)


def _pair(mapping: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    if not isinstance(mapping, MappingNode):
        return None
    found: tuple[ScalarNode, Node] | None = None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            if found is not None:
                raise Refusal(f"the key {key!r} appears twice")
            found = (key_node, value_node)
    return found


def _check_plain(document: _Document, node: Node) -> None:
    if id(node) in document.shared:
        raise Refusal("the value is shared through a YAML anchor and alias")
    if node.tag not in _PLAIN_TAGS:
        raise Refusal(f"the value carries the tag {node.tag}")
    if isinstance(node, MappingNode):
        names = [str(key_node.value) for key_node, _ in node.value if isinstance(key_node, ScalarNode)]
        if "<<" in names:
            raise Refusal("the mapping uses a YAML merge key (<<)")
        if len(set(names)) != len(names):
            raise Refusal("a key appears twice in the mapping")


def _walk(document: _Document, path: tuple[str, ...]) -> tuple[Node, ScalarNode | None, int]:
    """The deepest existing node along `path`, its key, and how many path keys lead to it.

    Only mappings are walked through; a null value (`key:`) or `{}` ends the walk, to be filled.
    """
    assert document.root is not None
    node: Node = document.root
    _check_plain(document, node)
    key_node: ScalarNode | None = None
    for depth, key in enumerate(path):
        if not isinstance(node, MappingNode) or not node.value or is_flow(node):
            return node, key_node, depth
        pair = _pair(node, key)
        if pair is None:
            return node, key_node, depth
        key_node, node = pair
        _check_plain(document, node)
    return node, key_node, len(path)


def _nest(path: tuple[str, ...], desired: Mapping[str, object]) -> Mapping[str, object]:
    nested: Mapping[str, object] = desired
    for key in reversed(path):
        nested = {key: nested}
    return nested


def _merge_into(
    plan: _Plan, document: _Document, node: Node, key_node: ScalarNode | None, desired: Mapping[str, object]
) -> None:
    """Make `node` (the value of `key_node`, or the root) a mapping holding `desired` deep-merged."""
    where = "the document" if key_node is None else repr(str(key_node.value))
    if isinstance(node, MappingNode) and is_flow(node) and (node.value or key_node is None):
        if first_line(node) != last_line(node) or int(node.end_mark.line) + 1 != first_line(node):
            raise Refusal(f"{where} is a flow mapping ({{...}}) that is not empty and spans lines")
        line = first_line(node)
        text = document.lines[line - 1]
        start, end = int(node.start_mark.column), int(node.end_mark.column)
        plan.replace(line, text[:start] + _flow_merged(document, text, node, desired) + text[end:])
        return
    if isinstance(node, MappingNode) and node.value:
        _merge_block(plan, document, node, desired)
    elif key_node is not None and (is_null(node) or isinstance(node, MappingNode)):
        _fill_empty(plan, document, key_node, node, desired)
    else:
        raise Refusal(f"{where} is not a mapping")


def _flow_merged(document: _Document, text: str, mapping: MappingNode, desired: Mapping[str, object]) -> str:
    """The new text of a one-line flow mapping holding `desired` deep-merged; unchanged entries verbatim."""
    _check_plain(document, mapping)
    if not any(_flow_changes(document, mapping, key, wanted) for key, wanted in desired.items()):
        return text[int(mapping.start_mark.column) : int(mapping.end_mark.column)]
    entries: list[str] = []
    for key_node, node in mapping.value:
        wanted = desired.get(str(key_node.value), node)
        if wanted is REMOVE:
            continue
        key_text = text[int(key_node.start_mark.column) : int(key_node.end_mark.column)]
        if wanted is node or _same(document, node, wanted):
            entries.append(text[int(key_node.start_mark.column) : int(node.end_mark.column)])
        elif isinstance(wanted, Mapping) and isinstance(node, MappingNode):
            entries.append(f"{key_text}: {_flow_merged(document, text, node, wanted)}")
        elif isinstance(wanted, Mapping) and not is_null(node):
            raise Refusal(f"{key_node.value!r} is not a mapping")
        else:
            entries.append(f"{key_text}: {_required_flow(wanted)}")
    present = {str(key_node.value) for key_node, _ in mapping.value}
    for key, wanted in _without_removals(desired).items():
        if key not in present:
            entries.append(f"{_format_key(key, flow=True)}: {_required_flow(wanted)}")
    return "{" + ", ".join(entries) + "}"


def _flow_changes(document: _Document, mapping: MappingNode, key: str, wanted: object) -> bool:
    pair = _pair(mapping, key)
    if pair is None:
        return wanted is not REMOVE
    _check_plain(document, pair[1])
    if wanted is REMOVE:
        return True
    if isinstance(wanted, Mapping) and isinstance(pair[1], MappingNode):
        return any(_flow_changes(document, pair[1], k, v) for k, v in wanted.items())
    return not _same(document, pair[1], wanted)


def _required_flow(item: object) -> str:
    text = _flow_text(item)
    if text is None:
        raise Refusal("the value cannot be written in flow style")
    return text


def _merge_block(plan: _Plan, document: _Document, mapping: MappingNode, desired: Mapping[str, object]) -> None:
    missing: dict[str, object] = {}
    for key, wanted in desired.items():
        pair = _pair(mapping, key)
        if pair is None:
            if wanted is not REMOVE:
                missing[key] = wanted
            continue
        _check_plain(document, pair[1])
        _change_entry(plan, document, pair, wanted)
    kept = [k for k, _ in mapping.value if not (isinstance(k, ScalarNode) and desired.get(k.value) is REMOVE)]
    if not kept and not _without_removals(missing):
        raise Refusal("removing every key would leave the mapping null")
    entries = _without_removals(missing)
    if entries:
        indent = " " * int(mapping.value[0][0].start_mark.column)
        last_key, last_value = mapping.value[-1]
        _add_entries(plan, document, _entry_end(document, last_value, last_key), indent, entries)


def _change_entry(plan: _Plan, document: _Document, pair: tuple[ScalarNode, Node], wanted: object) -> None:
    key_node, node = pair
    if wanted is REMOVE:
        for line in range(first_line(key_node), _entry_end(document, node, key_node) + 1):
            plan.replace(line, None)
    elif isinstance(wanted, Mapping):
        _merge_into(plan, document, node, key_node, wanted)
    elif not _same(document, node, wanted):
        _rewrite_entry(plan, document, key_node, node, wanted)


def _fill_empty(
    plan: _Plan, document: _Document, key_node: ScalarNode, node: Node, entries: Mapping[str, object]
) -> None:
    """Turn `key: {}` (or `key:`, `key: null`) into `key:` followed by the new entries.

    What follows on the lines below (the scaffold's commented hints) stays where it is.
    """
    entries = _without_removals(entries)
    if not entries:
        if is_null(node):
            _rewrite_entry(plan, document, key_node, node, {})  # still a mapping, as asked
        return
    line = first_line(key_node)
    implicit_null = isinstance(node, ScalarNode) and not node.value and node.style in (None, "")
    if not implicit_null:
        if first_line(node) != last_line(node):
            raise Refusal(f"the empty value of {key_node.value!r} spans several lines")
        value_line = first_line(node)
        text = document.lines[value_line - 1]
        start, end = int(node.start_mark.column), int(node.end_mark.column)
        rest = text[end:]
        if rest.strip() and not rest.lstrip().startswith("#"):
            raise Refusal(f"something follows the empty value of {key_node.value!r} on its line")
        head = text[:start].rstrip()
        comment = rest if rest.strip() else ""
        if value_line == line:
            plan.replace(line, head + comment)
        elif not head:
            plan.replace(value_line, " " * start + rest.lstrip() if comment else None)
        else:
            raise Refusal(f"the empty value of {key_node.value!r} shares its line with something else")
    indent = " " * (int(key_node.start_mark.column) + document.style.unit)
    _add_entries(plan, document, line, indent, entries)


def _entry_end(document: _Document, node: Node, key_node: ScalarNode) -> int:
    """The last line of a `key: value` entry.

    An alias is its anchor's node, positions included, so an entry holding one has no known end.
    """
    stack = [node]
    while stack:
        item = stack.pop()
        if id(item) in document.shared:
            raise Refusal(f"{key_node.value!r} holds a YAML alias: where it ends is not known")
        stack.extend(children(item))
    return first_line(key_node) if is_null(node) and not node.value else last_line(node)


def _same(document: _Document, node: Node, wanted: object) -> bool:
    if isinstance(node, ScalarNode) and node.style in (None, "") and str(node.value) in _YAML11_SPECIAL:
        if str(node.value) not in ("true", "false", "null", "~", ""):
            return False  # `yes`, `On`...: rewritten so that every YAML reader agrees
    construct = getattr(document.constructor, "construct_object")
    return _equal(construct(node, deep=True), wanted)


def _equal(have: object, wanted: object) -> bool:
    if isinstance(wanted, Mapping):
        return (
            isinstance(have, Mapping)
            and have.keys() == wanted.keys()
            and all(_equal(have[k], wanted[k]) for k in wanted)
        )
    if isinstance(wanted, (list, tuple)):
        return isinstance(have, list) and len(have) == len(wanted) and all(map(_equal, have, wanted))
    return type(have) is type(wanted) and have == wanted


def _rewrite_entry(plan: _Plan, document: _Document, key_node: ScalarNode, node: Node, wanted: object) -> None:
    """Give an existing key a new scalar or list value: in place when both fit on its line."""
    line = first_line(key_node)
    text = document.lines[line - 1]
    implicit_null = isinstance(node, ScalarNode) and not node.value and node.style in (None, "")
    if implicit_null:
        # `key:` with nothing after it (but maybe a comment): the value goes right after the colon.
        colon = text.index(":", int(key_node.end_mark.column))
        new = _scalar_or_flow(wanted)
        if new is None:
            new = _flow_text(wanted)
        if new is not None:
            rest = text[colon + 1 :]
            plan.replace(line, text[: colon + 1] + " " + new + (" " + rest.lstrip() if rest.strip() else ""))
            return
    elif first_line(node) == line and last_line(node) == line:
        new = _scalar_or_flow(wanted)
        if is_flow(node) and isinstance(wanted, (list, tuple)):
            new = _flow_text(wanted)
        if new is not None:
            start, end = int(node.start_mark.column), int(node.end_mark.column)
            plan.replace(line, text[:start] + new + text[end:])
            return
    column = int(key_node.start_mark.column)
    for number in range(line + 1, _entry_end(document, node, key_node) + 1):
        plan.replace(number, None)
    new_lines = _entry_lines(_key_text(key_node, text), wanted, " " * column, document.style)
    plan.replace(line, new_lines[0])
    plan.add_after(line, new_lines[1:])


def _key_text(key_node: ScalarNode, line_text: str) -> str:
    """The key as the file writes it (quotes included)."""
    if first_line(key_node) == int(key_node.end_mark.line) + 1:
        return line_text[int(key_node.start_mark.column) : int(key_node.end_mark.column)]
    return _format_key(str(key_node.value))


def _add_entries(plan: _Plan, document: _Document, after: int, indent: str, entries: Mapping[str, object]) -> None:
    new_lines = [
        line
        for key, item in _without_removals(entries).items()
        for line in _entry_lines(_format_key(key), item, indent, document.style)
    ]
    plan.add_after(after, new_lines)


def _without_removals(entries: Mapping[str, object]) -> dict[str, object]:
    return {k: (_without_removals(v) if isinstance(v, Mapping) else v) for k, v in entries.items() if v is not REMOVE}


def _entry_lines(key: str, item: object, indent: str, style: Style) -> list[str]:
    """`key: item` as block YAML lines at `indent`."""
    if isinstance(item, Mapping):
        entries = _without_removals(item)
        if not entries:
            return [f"{indent}{key}: {{}}"]
        child = indent + " " * style.unit
        return [f"{indent}{key}:"] + [
            line for k, v in entries.items() for line in _entry_lines(_format_key(k), v, child, style)
        ]
    if isinstance(item, (list, tuple)):
        if not item:
            return [f"{indent}{key}: []"]
        dash = indent + " " * style.dash
        return [f"{indent}{key}:"] + [line for element in item for line in _item_lines(element, dash, style)]
    return [f"{indent}{key}: {_scalar(item)}"]


def _item_lines(element: object, dash: str, style: Style) -> list[str]:
    """One list item as block YAML lines whose `-` is at `dash`."""
    if isinstance(element, Mapping) and _without_removals(element):
        inner = dash + "  "
        lines = [
            line
            for k, v in _without_removals(element).items()
            for line in _entry_lines(_format_key(k), v, inner, style)
        ]
        return [dash + "- " + lines[0][len(inner) :]] + lines[1:]
    if isinstance(element, (Mapping, list, tuple)):
        flow = _flow_text(element)
        if flow is None:
            raise Refusal("a nested list item cannot be written on one line")
        return [f"{dash}- {flow}"]
    return [f"{dash}- {_scalar(element)}"]


def _scalar_or_flow(item: object) -> str | None:
    if isinstance(item, (Mapping, list, tuple)):
        return None
    return _scalar(item)


def _flow_text(item: object) -> str | None:
    """A value written in flow style (`[ALL]`, `{type: RuntimeDefault}`), None when one cannot be."""
    if isinstance(item, Mapping):
        values = {k: _flow_text(v) for k, v in _without_removals(item).items()}
        if any(text is None for text in values.values()):
            return None
        return "{" + ", ".join(f"{_format_key(k, flow=True)}: {v}" for k, v in values.items()) + "}"
    if isinstance(item, (list, tuple)):
        parts_or_none = [_flow_text(element) for element in item]
        if any(part is None for part in parts_or_none):
            return None
        return "[" + ", ".join(str(part) for part in parts_or_none) + "]"
    return _scalar(item, flow=True)


def _scalar(item: object, flow: bool = False) -> str:
    """A scalar the way a person writes it: true/false, bare numbers, strings quoted only when needed."""
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if math.isnan(item):
            return ".nan"
        if math.isinf(item):
            return ".inf" if item > 0 else "-.inf"
        return repr(item)
    if isinstance(item, str):
        return item if _plain_reads_back(item, flow) else _double_quoted(item)
    raise Refusal(f"cannot write a {type(item).__name__} value")


def _format_key(key: str, flow: bool = False) -> str:
    return key if _plain_reads_back(key, flow, as_key=True) else _double_quoted(key)


def _double_quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for char in sorted({c for c in escaped if ord(c) < 0x20 or ord(c) in (0x7F, 0x85, 0x2028, 0x2029)}):
        escaped = escaped.replace(char, f"\\u{ord(char):04x}")
    return f'"{escaped}"'


def _plain_reads_back(text: str, flow: bool, as_key: bool = False) -> bool:
    """True when `text` written plain reads back as this very string in YAML 1.2 and 1.1."""
    if not text or text != text.strip() or text in _YAML11_SPECIAL or any(ord(c) < 0x20 or ord(c) > 0x7E for c in text):
        return False
    if flow and any(c in text for c in ",[]{}"):
        return False
    document = f"{text}: x\n" if as_key else f"k: {text}\n"
    for version in ((1, 2), (1, 1)):
        yaml = YAML(typ="safe")
        yaml.version = version
        try:
            data = yaml.load(document)
        except YAMLError:
            return False
        expected = {text: "x"} if as_key else {"k": text}
        if data != expected or not all(type(k) is str and type(v) is str for k, v in data.items()):
            return False
    return True


def _style_of(root: MappingNode | None, lines: Sequence[str]) -> Style:
    """The indentation step and list indentation most used in the file (2 and indented by default)."""
    units: dict[int, int] = {}
    dashes: dict[int, int] = {}
    stack: list[Node] = [root] if root is not None else []
    seen = 0
    while stack and seen < 100_000:
        node = stack.pop()
        seen += 1
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
            continue
        if not isinstance(node, MappingNode) or is_flow(node):
            continue
        for key_node, value_node in node.value:
            stack.append(value_node)
            column = int(key_node.start_mark.column)
            if isinstance(value_node, MappingNode) and not is_flow(value_node) and value_node.value:
                step = int(value_node.value[0][0].start_mark.column) - column
                if step > 0 and first_line(value_node) > first_line(key_node):
                    units[step] = units.get(step, 0) + 1
            if isinstance(value_node, SequenceNode) and not is_flow(value_node) and value_node.value:
                item_line = lines[first_line(value_node.value[0]) - 1]
                dash = item_line.find("-", 0) - column
                if dash >= 0 and first_line(value_node.value[0]) > first_line(key_node):
                    dashes[dash] = dashes.get(dash, 0) + 1
    unit = max(units, key=lambda step: (units[step], -step)) if units else 2
    if not dashes:
        dashes = _commented_list_style(lines)
    dash = max(dashes, key=lambda offset: (dashes[offset], offset)) if dashes else unit
    return Style(unit, dash)


def _commented_list_style(lines: Sequence[str]) -> dict[int, int]:
    """List indentation seen in commented-out hints (`# drop:` / `# - ALL`), for a file with no lists."""
    found: dict[int, int] = {}
    for above, below in zip(lines, lines[1:]):
        key = _HINT_KEY.match(above)
        item = _HINT_ITEM.match(below)
        if key and item and key.group(1) == item.group(1):
            offset = len(item.group(2)) - len(key.group(2))
            if offset >= 0:
                found[offset] = found.get(offset, 0) + 1
    return found
