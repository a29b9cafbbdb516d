"""YAML text surgery: what one securityContext must become, written as one contiguous edit.

This module knows YAML layout (block and flow style, JSON quoting, indentation) and the
settings a fix writes; it knows nothing of the rules that ask for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes.nodes import (
    Rewriter,
    as_str,
    first_line,
    get,
    is_flow,
    is_null,
    last_line,
    quoted_keys,
    strings,
    value,
)
from rules.kubernetes.parse import PodSpec
from rules.kubernetes.powers import PORT_SYSCTL
from rules.kubernetes.standard import GOOD_SECCOMP
from rules.model import Fix

# The order in which inserted keys are written (and named in a fix's summary).
_KEY_ORDER = (
    "runAsNonRoot",
    "runAsUser",
    "runAsGroup",
    "fsGroup",
    "fsGroupChangePolicy",
    "allowPrivilegeEscalation",
    "privileged",
    "capabilities",
    "seccompProfile",
    "sysctls",
)


@dataclass
class ContextEdit:
    """What one securityContext (the pod's or a container's) must become, gathered from every rule
    that asks something of it, so that the file gets one contiguous edit per securityContext."""

    owner: MappingNode  # the pod spec or the container
    is_pod: bool
    scalars: dict[str, bool | int | str] = field(default_factory=dict)  # `key: value` settings to write
    seccomp: bool = False  # make seccompProfile RuntimeDefault
    capabilities: bool = False  # drop ALL; what `add` lists stays (a fix never removes a power)
    deletes: list[str] = field(default_factory=list)  # keys to remove (ignored pod-level fields)
    unset: list[str] = field(default_factory=list)  # settings to remove that OpenShift's SCC assigns (runAsUser)
    # The lowest port a non-root container must bind: the pod's net.ipv4.ip_unprivileged_port_start.
    port_start: int | None = None
    ports_for: str = ""  # which containers need it, for the summary

    @property
    def wanted(self) -> bool:
        """True when some rule asked for a change."""
        return bool(self.scalars or self.seccomp or self.capabilities or self.deletes or self.unset or self.port_start)


@dataclass(frozen=True)
class Style:
    """How the file writes YAML, so inserted lines look like their neighbours."""

    unit: str  # one indentation step
    dash: str  # what goes before "- " relative to the key ("" when sequences are not indented)


def style_of(pod: PodSpec) -> Style:
    """The indentation the pod's container lists use (two spaces when it has none)."""
    listed = [c.listed_in for c in pod.containers if c.listed_in is not None]
    containers_pair = get(pod.spec, "containers")
    if containers_pair and isinstance(containers_pair[1], SequenceNode):
        listed.insert(0, (containers_pair[0], containers_pair[1]))
    for key, items in listed:
        if not items.value:
            continue
        key_col = int(key.start_mark.column)
        item_col = int(items.value[0].start_mark.column)
        dash_col = item_col - 2
        if dash_col > key_col:
            unit = dash_col - key_col
            return Style(" " * unit, " " * unit)
        return Style(" " * max(item_col - key_col, 1) if item_col > key_col else "  ", "")
    return Style("  ", "")


def _scalar_text(item: bool | int | str, json: bool) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    return f'"{item}"' if json else item


def _key(name: str, json: bool) -> str:
    return f'"{name}"' if json else name


def _flow_value(name: str, change: ContextEdit, json: bool) -> str:
    if name == "seccompProfile":
        return "{" + f"{_key('type', json)}: {_scalar_text('RuntimeDefault', json)}" + "}"
    if name == "capabilities":
        return "{" + f"{_key('drop', json)}: [{_scalar_text('ALL', json)}]" + "}"
    if name == "sysctls":
        return f"[{_sysctl_flow(change, json)}]"
    return _scalar_text(change.scalars[name], json)


def _sysctl_flow(change: ContextEdit, json: bool) -> str:
    name = _key("name", json) + ": " + _scalar_text(PORT_SYSCTL, json)
    return "{" + name + ", " + _key("value", json) + f': "{change.port_start}"' + "}"


def _sysctl_item(change: ContextEdit, indent: str, style: Style) -> list[str]:
    return [f"{indent}{style.dash}- name: {PORT_SYSCTL}", f'{indent}{style.dash}  value: "{change.port_start}"']


def _block_lines(name: str, change: ContextEdit, indent: str, style: Style) -> list[str]:
    if name == "seccompProfile":
        return [f"{indent}seccompProfile:", f"{indent}{style.unit}type: RuntimeDefault"]
    if name == "capabilities":
        return [f"{indent}capabilities:", f"{indent}{style.unit}drop:", f"{indent}{style.unit}{style.dash}- ALL"]
    if name == "sysctls":
        return [f"{indent}sysctls:", *_sysctl_item(change, indent, style)]
    return [f"{indent}{name}: {_scalar_text(change.scalars[name], False)}"]


def _missing(change: ContextEdit, sc: MappingNode | None) -> list[str]:
    names = [n for n in change.scalars if get(sc, n) is None]
    if change.capabilities and get(sc, "capabilities") is None:
        names.append("capabilities")
    if change.seccomp and get(sc, "seccompProfile") is None:
        names.append("seccompProfile")
    if change.port_start is not None and get(sc, "sysctls") is None:
        names.append("sysctls")
    return sorted(names, key=_KEY_ORDER.index)


def _flow_insert(rewriter: Rewriter, mapping: MappingNode, entries: list[str]) -> None:
    """Add `key: value` entries just inside a flow mapping's `{`."""
    text = ", ".join(entries)
    if mapping.value:
        text += ", "
    rewriter.insert_at(first_line(mapping), int(mapping.start_mark.column) + 1, text)


def _child_indent(mapping: MappingNode) -> str:
    first_key = mapping.value[0][0]
    return " " * int(first_key.start_mark.column)


def _delete_pair(rewriter: Rewriter, key: Node, item: Node) -> None:
    rewriter.delete_lines(first_line(key), last_line(item) if not is_null(item) else first_line(key))


def _fix_seccomp(rewriter: Rewriter, sc: MappingNode, json: bool) -> bool:
    """Make an existing seccompProfile RuntimeDefault; False when it must be re-added."""
    pair = get(sc, "seccompProfile")
    assert pair is not None
    key, profile = pair
    type_node = value(profile, "type")
    if isinstance(profile, MappingNode) and isinstance(type_node, ScalarNode):
        if as_str(type_node) in GOOD_SECCOMP:
            return True
        quote = type_node.style if type_node.style in ('"', "'") else ""
        rewriter.replace_span(type_node, f"{quote}RuntimeDefault{quote}")
        return True
    if is_flow(sc) or is_flow(profile):
        rewriter.replace_span(profile, "{" + f"{_key('type', json)}: {_scalar_text('RuntimeDefault', json)}" + "}")
        return True
    _delete_pair(rewriter, key, profile)
    return False


def _fix_capabilities(rewriter: Rewriter, sc: MappingNode, style: Style, json: bool) -> bool:
    """Drop ALL, keeping `add` as it is; False when the key must be re-added."""
    pair = get(sc, "capabilities")
    assert pair is not None
    key, caps = pair
    if not isinstance(caps, MappingNode):
        if is_flow(sc):
            rewriter.replace_span(caps, "{" + f"{_key('drop', json)}: [{_scalar_text('ALL', json)}]" + "}")
            return True
        _delete_pair(rewriter, key, caps)
        return False
    _fix_drop(rewriter, key, caps, style, json)
    return True


def _fix_drop(rewriter: Rewriter, key: ScalarNode, caps: MappingNode, style: Style, json: bool) -> None:
    """Make `drop` hold ALL, in the style it is written in."""
    drop_pair = get(caps, "drop")
    if drop_pair is None:
        if is_flow(caps):
            _flow_insert(rewriter, caps, [f"{_key('drop', json)}: [{_scalar_text('ALL', json)}]"])
        else:
            indent = _child_indent(caps)
            rewriter.insert_lines_after(first_line(key), [f"{indent}drop:", f"{indent}{style.dash}- ALL"])
        return
    drop_key, drop = drop_pair
    if "ALL" in [name for name, _ in strings(drop)]:
        return
    if isinstance(drop, SequenceNode) and drop.value and not is_flow(drop):
        first_item = drop.value[0]
        line_text = rewriter.lines[first_line(first_item) - 1]
        dash_col = line_text.rfind("-", 0, int(first_item.start_mark.column))
        rewriter.insert_lines_before(first_line(first_item), [" " * max(dash_col, 0) + "- ALL"])
    elif isinstance(drop, SequenceNode) and is_flow(drop):
        text = _scalar_text("ALL", json) + (", " if drop.value else "")
        rewriter.insert_at(first_line(drop), int(drop.start_mark.column) + 1, text)
    elif is_flow(caps):
        rewriter.replace_span(drop, f"[{_scalar_text('ALL', json)}]")
    else:
        indent = " " * int(drop_key.start_mark.column)
        _delete_pair(rewriter, drop_key, drop)
        rewriter.insert_lines_after(first_line(key), [f"{indent}drop:", f"{indent}{style.dash}- ALL"])


def render(change: ContextEdit, lines: tuple[str, ...], style: Style) -> Fix | None:
    """Turn what a securityContext must become into one contiguous edit; None when none can be written."""
    rewriter = Rewriter(lines)
    sc_pair = get(change.owner, "securityContext")
    json = quoted_keys(change.owner)
    if sc_pair is None:
        planned = _add_context(rewriter, change, style, json)
    elif isinstance(sc_pair[1], MappingNode):
        _amend_context(rewriter, change, (sc_pair[0], sc_pair[1]), style, json)
        planned = True
    else:
        planned = _rewrite_context(rewriter, change, sc_pair, lines, style)
    edit = rewriter.edit() if planned else None
    return Fix(summary(change), (edit,)) if edit else None


def _rewrite_context(
    rewriter: Rewriter, change: ContextEdit, sc_pair: tuple[ScalarNode, Node], lines: tuple[str, ...], style: Style
) -> bool:
    """`securityContext: null`, a scalar or a list: write it anew in the same place."""
    if is_flow(change.owner):
        return False
    _delete_pair(rewriter, *sc_pair)
    column = int(sc_pair[0].start_mark.column)
    indent = " " * column
    # Keep what precedes the key on its line: the `- ` of a list item it may open.
    lead = lines[first_line(sc_pair[0]) - 1][:column]
    names = _missing(change, None)
    new_lines = [f"{lead}securityContext:"] + [
        text for n in names for text in _block_lines(n, change, indent + style.unit, style)
    ]
    rewriter.insert_lines_before(first_line(sc_pair[0]), new_lines if names else [])
    return True


def _amend_context(
    rewriter: Rewriter, change: ContextEdit, sc_pair: tuple[ScalarNode, MappingNode], style: Style, json: bool
) -> None:
    """Change an existing securityContext mapping in place, adding the keys it lacks."""
    key, sc = sc_pair
    flow = is_flow(sc)
    for name, wanted in change.scalars.items():
        existing = value(sc, name)
        if existing is not None and get(sc, name) is not None:
            rewriter.replace_span(existing, _scalar_text(wanted, False))
    readd: list[str] = []
    if change.seccomp and get(sc, "seccompProfile") is not None and not _fix_seccomp(rewriter, sc, json):
        readd.append("seccompProfile")
    if change.capabilities and get(sc, "capabilities") is not None and not _fix_capabilities(rewriter, sc, style, json):
        readd.append("capabilities")
    if change.port_start is not None and get(sc, "sysctls") is not None:
        _append_sysctl(rewriter, change, sc, style)
    if not flow:
        for name in change.deletes + change.unset:
            pair = get(sc, name)
            if pair is not None:
                _delete_pair(rewriter, *pair)
    names = sorted(set(_missing(change, sc) + readd), key=_KEY_ORDER.index)
    if not names:
        return
    if flow:
        _flow_insert(rewriter, sc, [f"{_key(n, json)}: {_flow_value(n, change, json)}" for n in names])
    else:
        indent = _child_indent(sc)
        new_lines = [text for n in names for text in _block_lines(n, change, indent, style)]
        rewriter.insert_lines_after(first_line(key), new_lines)


def _append_sysctl(rewriter: Rewriter, change: ContextEdit, sc: MappingNode, style: Style) -> None:
    """Add the port sysctl as the last item of an existing block `sysctls:` list (a flow list or one that
    names it already is left alone: the proof in tests/test_fix_policy.py reports what stays unbindable)."""
    pair = get(sc, "sysctls")
    assert pair is not None
    key, items = pair
    if not isinstance(items, SequenceNode) or is_flow(items) or not items.value:
        return
    if any(as_str(value(item, "name")) == PORT_SYSCTL for item in items.value):
        return
    line_text = rewriter.lines[first_line(items.value[0]) - 1]
    dash_col = line_text.rfind("-", 0, int(items.value[0].start_mark.column))
    indent = " " * max(dash_col, 0)
    new = [f"{indent}- name: {PORT_SYSCTL}", f'{indent}  value: "{change.port_start}"']
    rewriter.insert_lines_after(last_line(items.value[-1]), new)


def _insertion_point(
    owner: MappingNode, anchor_key: str, is_pod: bool, lines: tuple[str, ...]
) -> tuple[Node, Node, bool] | None:
    """The entry a new securityContext goes next to, and whether before it (else after it).

    A pod's goes before its containers, a container's after its image. A mapping without them (an
    Argo workflow spec or template, a merged container) takes it before its first key when that key
    opens its line; when the key shares its line with a list item's `- `, after an entry that takes
    one line, so that it cannot land where an edit inside a longer entry inserts too.
    """
    pair = get(owner, anchor_key)
    if pair is not None:
        return pair[0], pair[1], is_pod
    if not owner.value:
        return None
    key, item = owner.value[0]
    if not lines[first_line(key) - 1][: int(key.start_mark.column)].strip():
        return key, item, True
    for other_key, other in owner.value:
        if isinstance(other, ScalarNode) and last_line(other) == first_line(other_key):
            return other_key, other, False
    return key, item, False


def _add_context(rewriter: Rewriter, change: ContextEdit, style: Style, json: bool) -> bool:
    """Insert a new securityContext where _insertion_point says."""
    owner = change.owner
    names = _missing(change, None)
    if not names:
        return False
    point = _insertion_point(owner, "containers" if change.is_pod else "image", change.is_pod, rewriter.lines)
    if point is None:
        return False
    anchor_key, anchor_value, before = point
    if is_flow(owner):
        inner = ", ".join(f"{_key(n, json)}: {_flow_value(n, change, json)}" for n in names)
        entry = f"{_key('securityContext', json)}: {{{inner}}}"
        if before:
            rewriter.insert_at(first_line(anchor_key), int(anchor_key.start_mark.column), entry + ", ")
        else:
            end = anchor_value.end_mark
            rewriter.insert_at(int(end.line) + 1, int(end.column), ", " + entry)
        return True
    indent = " " * int(anchor_key.start_mark.column)
    child = indent + style.unit
    new_lines = [f"{indent}securityContext:"] + [text for n in names for text in _block_lines(n, change, child, style)]
    if before:
        rewriter.insert_lines_before(first_line(anchor_key), new_lines)
    else:
        rewriter.insert_lines_after(last_line(anchor_value), new_lines)
    return True


def joined(fixes: list[Fix | None]) -> Fix | None:
    """One fix made of several securityContexts' fixes."""
    present = [fix for fix in fixes if fix is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    edits = tuple(dict.fromkeys(edit for fix in present for edit in fix.edits))
    return Fix("; ".join(fix.summary for fix in present), edits)


def summary(change: ContextEdit) -> str:
    """The fix's one-line description: what is set, and where."""
    parts = [f"{k}: {_scalar_text(change.scalars[k], False)}" for k in sorted(change.scalars, key=_KEY_ORDER.index)]
    if change.capabilities:
        parts.append("capabilities.drop: [ALL]")
    if change.seccomp:
        parts.append("seccompProfile: RuntimeDefault")
    if change.port_start is not None:
        parts.append(f"sysctl {PORT_SYSCTL}={change.port_start}")
    where = "the pod's securityContext" if change.is_pod else "the container's securityContext"
    sentences = [f"Set {', '.join(parts)} in {where}"] if parts else []
    if change.deletes:
        sentences.append(f"remove the ignored pod-level {', '.join(change.deletes)}")
    if change.unset:
        sentences.append(f"remove {', '.join(change.unset)}: 0 (OpenShift's restricted-v2 SCC assigns the UID)")
    if change.port_start is not None:
        sentences.append(
            f"the sysctl lets {change.ports_for or 'the container'} bind port {change.port_start} as non-root "
            "(Kubernetes grants no ambient capabilities, so NET_BIND_SERVICE would not)"
        )
    text = "; ".join(sentences)
    return text[:1].upper() + text[1:]
