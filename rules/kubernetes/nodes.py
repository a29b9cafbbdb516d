"""Typed reads of composed YAML nodes (positions 1-based) and a span rewriter for edits."""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.model import LineEdit

_TRUE = frozenset({"true", "yes", "on", "y"})
_FALSE = frozenset({"false", "no", "off", "n"})


def get(mapping: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    """The (key, value) pair for `key` in a mapping node; the last one wins, as in Kubernetes."""
    if not isinstance(mapping, MappingNode):
        return None
    found: tuple[ScalarNode, Node] | None = None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found = (key_node, value_node)
    return found


def value(mapping: Node | None, key: str) -> Node | None:
    """The value node for `key`, or None."""
    pair = get(mapping, key)
    return pair[1] if pair else None


def path(node: Node | None, *keys: str) -> Node | None:
    """Follow mapping keys; None as soon as one is missing."""
    for key in keys:
        node = value(node, key)
        if node is None:
            return None
    return node


def as_bool(node: Node | None) -> bool | None:
    """A plain YAML 1.1 boolean as the Kubernetes YAML decoder reads it; None otherwise."""
    if not isinstance(node, ScalarNode) or node.style not in (None, ""):
        return None
    text = str(node.value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def as_int(node: Node | None) -> int | None:
    """A plain integer scalar; None otherwise."""
    if not isinstance(node, ScalarNode) or node.style not in (None, ""):
        return None
    try:
        return int(str(node.value), 0) if str(node.value).strip() else None
    except ValueError:
        return None


def as_str(node: Node | None) -> str | None:
    """A scalar's text; None for collections and nulls."""
    if not isinstance(node, ScalarNode):
        return None
    if node.style in (None, "") and str(node.value) in ("", "~", "null", "Null", "NULL"):
        return None
    return str(node.value)


def strings(node: Node | None) -> list[tuple[str, ScalarNode]]:
    """Scalar items of a sequence node with their nodes."""
    if not isinstance(node, SequenceNode):
        return []
    return [(str(item.value), item) for item in node.value if isinstance(item, ScalarNode)]


def is_null(node: Node | None) -> bool:
    """True for a missing value, `~` or `null`."""
    return node is None or (isinstance(node, ScalarNode) and as_str(node) is None)


def first_line(node: Node) -> int:
    """1-based line where a node starts."""
    return int(node.start_mark.line) + 1


def last_line(node: Node) -> int:
    """1-based line of a node's last character (block collections end at their last child)."""
    seen = 0
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value and seen < 10_000:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
        seen += 1
    end = node.end_mark
    line = int(end.line) + 1
    if int(end.column) == 0 and line > first_line(node):
        line -= 1  # block scalars end at the start of the next line
    return line


def is_flow(node: Node) -> bool:
    """True for `{...}` / `[...]` collections (and so for JSON)."""
    return isinstance(node, (MappingNode, SequenceNode)) and bool(node.flow_style)


def quoted_keys(mapping: Node) -> bool:
    """True when the mapping's keys are double-quoted, as in JSON."""
    if isinstance(mapping, MappingNode) and mapping.value:
        key = mapping.value[0][0]
        return isinstance(key, ScalarNode) and key.style == '"'
    return False


@dataclass
class Rewriter:
    """Collects text operations on a few lines and turns them into one contiguous LineEdit.

    Lines in between the operations are carried over byte for byte, so comments and
    formatting that the change does not touch survive.
    """

    lines: tuple[str, ...]
    _ops: list[tuple[int, int, int, int, str, int]] = field(default_factory=list)

    def replace_span(self, node: Node, text: str) -> None:
        """Replace exactly the characters of `node` with `text`."""
        start, end = node.start_mark, node.end_mark
        if isinstance(node, ScalarNode) and end.line > start.line and int(end.column) == 0:
            end_line, end_col = int(end.line) - 1, len(self.lines[int(end.line) - 1])
        else:
            end_line, end_col = int(end.line), int(end.column)
        self._ops.append((int(start.line), int(start.column), end_line, end_col, text, len(self._ops)))

    def insert_at(self, line: int, column: int, text: str) -> None:
        """Insert `text` at a 1-based line and 0-based column."""
        self._ops.append((line - 1, column, line - 1, column, text, len(self._ops)))

    def insert_lines_after(self, line: int, new_lines: list[str]) -> None:
        """Insert whole lines after 1-based `line`."""
        end = len(self.lines[line - 1])
        self._ops.append((line - 1, end, line - 1, end, "".join("\n" + item for item in new_lines), len(self._ops)))

    def insert_lines_before(self, line: int, new_lines: list[str]) -> None:
        """Insert whole lines before 1-based `line`."""
        self._ops.append((line - 1, 0, line - 1, 0, "".join(item + "\n" for item in new_lines), len(self._ops)))

    def delete_lines(self, first: int, last: int) -> None:
        """Delete 1-based lines first..last entirely."""
        self._ops.append((first - 1, -1, last - 1, -2, "", len(self._ops)))

    def edit(self) -> LineEdit | None:
        """One LineEdit covering every operation; None when there are none."""
        if not self._ops:
            return None
        first = min(op[0] for op in self._ops)
        last = max(op[2] for op in self._ops)
        region = list(self.lines[first : last + 1])
        offsets = [0]
        for text in region:
            offsets.append(offsets[-1] + len(text) + 1)
        joined = "\n".join(region) + "\n"

        def offset(line: int, column: int) -> int:
            if column == -1:  # start of a deleted line
                return offsets[line - first]
            if column == -2:  # just after a deleted line's newline
                return offsets[line - first + 1]
            return offsets[line - first] + column

        spans = sorted(
            ((offset(sl, sc), offset(el, ec), text, order) for sl, sc, el, ec, text, order in self._ops),
            key=lambda span: (span[0], span[1], span[3]),
        )
        out: list[str] = []
        cursor = 0
        for begin, end, text, _order in spans:
            if begin < cursor:
                begin = cursor  # overlapping deletes of the same lines count once
            out.append(joined[cursor:begin])
            out.append(text)
            cursor = max(cursor, end)
        out.append(joined[cursor:])
        return LineEdit(first + 1, last + 1, "".join(out))


def children(node: Node) -> list[Node]:
    """A collection's direct child nodes (keys and values of a mapping); none for a scalar."""
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def shared_nodes(roots: list[Node]) -> frozenset[int]:
    """ids of the nodes reached more than once (through a YAML alias) and of everything inside them.

    An alias is the very node its anchor names, positions included, so an edit planned
    for it would land at the anchor, and would change every other alias of it too.
    """
    reached: set[int] = set()
    shared: list[Node] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in reached:
            shared.append(node)
            continue
        reached.add(id(node))
        stack.extend(children(node))
    inside: set[int] = set()
    stack = shared
    while stack:
        node = stack.pop()
        if id(node) not in inside:
            inside.add(id(node))
            stack.extend(children(node))
    return frozenset(inside)
