"""The readOnlyRootFilesystem fix: the setting plus an emptyDir volume and mount for each path the container writes.

The edits of every container of one pod are planned together, so that the volumes they add
have distinct names and the lines they insert after the same line come in one edit, in an
order that keeps each block where it belongs (a container's lines before the pod's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes.nodes import Rewriter, as_str, first_line, get, is_flow, is_null, last_line, value
from rules.kubernetes.rewrite import Style
from rules.model import LineEdit


@dataclass(frozen=True)
class ReadOnlyRequest:
    """One container to make read-only, with the paths it writes."""

    container: MappingNode
    paths: tuple[str, ...]


@dataclass(frozen=True)
class ReadOnlyPlan:
    """The edits that make one container read-only, and the emptyDir mounts they add (path, volume name)."""

    edits: tuple[LineEdit, ...]
    mounts: tuple[tuple[str, str], ...]


@dataclass
class _Ops:
    """Text operations grouped by the line they touch, each remembering whose they are (None: the pod's)."""

    lines: tuple[str, ...]
    by_line: dict[int, Rewriter] = field(default_factory=dict)
    owners: dict[int, set[int | None]] = field(default_factory=dict)

    def at(self, line: int, owner: int | None) -> Rewriter:
        self.owners.setdefault(line, set()).add(owner)
        return self.by_line.setdefault(line, Rewriter(self.lines))

    def edits_for(self, owner: int, with_pod: bool) -> tuple[LineEdit, ...]:
        edits = []
        for line in sorted(self.by_line):
            if owner in self.owners[line] or (with_pod and None in self.owners[line]):
                edit = self.by_line[line].edit()
                if edit is not None:
                    edits.append(edit)
        return tuple(edits)


def _block_list(node: Node | None) -> bool:
    """A non-empty block-style list, the only kind of list this fix appends to."""
    return isinstance(node, SequenceNode) and not is_flow(node) and bool(node.value)


def _unextendable(owner: MappingNode, key: str) -> str | None:
    """Why `owner`'s `key` list cannot be extended by a line edit, or None when it can (or is absent)."""
    pair = get(owner, key)
    if pair is None or _block_list(pair[1]):
        return None
    if is_flow(pair[1]):
        return f"its `{key}` is written in flow style (`[...]`)"
    return f"its `{key}` is empty or not a list"


def _mounted(container: MappingNode) -> list[str]:
    mounts = value(container, "volumeMounts")
    found = []
    for item in mounts.value if isinstance(mounts, SequenceNode) else []:
        path = as_str(value(item, "mountPath"))
        if path:
            found.append(path.rstrip("/") or "/")
    return found


def _covered(path: str, mounted: list[str]) -> bool:
    """The container already mounts `path` or a directory above it (whose volume decides if it is writable)."""
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounted)


def _volume_name(path: str, taken: set[str]) -> str:
    base = path.strip("/").replace("/", "-").replace("_", "-").replace(".", "-").lower()[:55] or "root"
    name, counter = base, 0
    while name in taken:
        counter += 1
        name = f"{base}-{counter}"
    taken.add(name)
    return name


def _key_indent(mapping: MappingNode) -> str:
    return " " * int(mapping.value[0][0].start_mark.column)


def _items(key_indent: str, style: Style, entries: list[tuple[str, str, str]]) -> list[str]:
    """New block-list items `- name: N` + `  second: V` under a key at `key_indent`."""
    lead = key_indent + style.dash
    return [text for name, second, val in entries for text in (f"{lead}- name: {name}", f"{lead}  {second}: {val}")]


def _append_items(ops: _Ops, owner: int | None, items: SequenceNode, entries: list[tuple[str, str, str]]) -> None:
    """Add items after the last one of a block list, in the style its first item is written in."""
    first = items.value[0]
    line_text = ops.lines[first_line(first) - 1]
    dash_col = max(line_text.rfind("-", 0, int(first.start_mark.column)), 0)
    item_col = int(first.start_mark.column)
    if is_flow(first) or not isinstance(first, MappingNode):
        new = [f"{' ' * dash_col}- {{name: {name}, {second}: {val}}}" for name, second, val in entries]
    else:
        gap = " " * max(item_col - dash_col - 1, 1)
        new = [
            text
            for name, second, val in entries
            for text in (f"{' ' * dash_col}-{gap}name: {name}", f"{' ' * item_col}{second}: {val}")
        ]
    ops.at(last_line(items.value[-1]), owner).insert_lines_after(last_line(items.value[-1]), new)


def _container_ops(ops: _Ops, index: int, container: MappingNode, mounts: list[tuple[str, str]], style: Style) -> None:
    indent = _key_indent(container)
    image = get(container, "image")
    anchor = last_line(image[1]) if image else last_line(container)
    sc = value(container, "securityContext")
    if isinstance(sc, MappingNode):
        pair = get(sc, "readOnlyRootFilesystem")
        if pair is not None:
            ops.at(first_line(pair[1]), index).replace_span(pair[1], "true")
        else:
            ops.at(last_line(sc), index).insert_lines_after(
                last_line(sc), [_key_indent(sc) + "readOnlyRootFilesystem: true"]
            )
    else:
        ops.at(anchor, index).insert_lines_after(
            anchor, [f"{indent}securityContext:", f"{indent}{style.unit}readOnlyRootFilesystem: true"]
        )
    if not mounts:
        return
    entries = [(name, "mountPath", path) for path, name in mounts]
    existing = value(container, "volumeMounts")
    if isinstance(existing, SequenceNode):
        _append_items(ops, index, existing, entries)
    else:
        ops.at(anchor, index).insert_lines_after(anchor, [f"{indent}volumeMounts:", *_items(indent, style, entries)])


def _pod_ops(ops: _Ops, spec: MappingNode, volumes: list[tuple[str, str]], style: Style) -> None:
    if not volumes:
        return
    entries = [(name, "emptyDir", "{}") for _path, name in volumes]
    existing = value(spec, "volumes")
    if isinstance(existing, SequenceNode):
        _append_items(ops, None, existing, entries)
        return
    indent = _key_indent(spec)
    end = last_line(spec)
    ops.at(end, None).insert_lines_after(end, [f"{indent}volumes:", *_items(indent, style, entries)])


def why_not_extendable(spec: MappingNode, container: MappingNode) -> str | None:
    """Why the pod's volumes or the container's mounts and securityContext are in a form the fix cannot extend."""
    if is_flow(spec) or is_flow(container):
        return "the pod spec or the container is written in flow style (`{...}`, JSON), which this fix does not extend"
    sc = value(container, "securityContext")
    if not is_null(sc) and not (isinstance(sc, MappingNode) and not is_flow(sc)):
        return "the container's securityContext is written in flow style or is not a mapping"
    reason = _unextendable(spec, "volumes")
    if reason:
        return "the pod spec: " + reason
    reason = _unextendable(container, "volumeMounts")
    if reason:
        return "the container: " + reason
    if not all(isinstance(key, ScalarNode) for key, _ in container.value):
        return "the container has a key that is not a plain string"
    return None


def plan(
    spec: MappingNode, requests: list[ReadOnlyRequest], lines: tuple[str, ...], style: Style
) -> list[ReadOnlyPlan]:
    """The edits for each request (every one must have passed why_not_extendable), planned together."""
    taken = {as_str(value(item, "name")) or "" for item in _sequence(value(spec, "volumes"))}
    ops = _Ops(lines)
    all_mounts: list[list[tuple[str, str]]] = []
    for index, request in enumerate(requests):
        mounted = _mounted(request.container)
        mounts = [(path, _volume_name(path, taken)) for path in request.paths if not _covered(path, mounted)]
        all_mounts.append(mounts)
        _container_ops(ops, index, request.container, mounts, style)
    _pod_ops(ops, spec, [m for mounts in all_mounts for m in mounts], style)
    return [ReadOnlyPlan(ops.edits_for(i, bool(all_mounts[i])), tuple(all_mounts[i])) for i in range(len(requests))]


def _sequence(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []
