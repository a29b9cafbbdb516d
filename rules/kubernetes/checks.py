"""Kubernetes rules: effective securityContext per container, judged by Pod Security levels."""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes.nodes import (
    Rewriter,
    as_bool,
    as_int,
    as_str,
    children,
    first_line,
    get,
    is_flow,
    is_null,
    last_line,
    path,
    quoted_keys,
    strings,
    value,
)
from rules.kubernetes.parse import Container, PodSpec
from rules.model import FileKind, Finding, Fix, FixAvailability, Options, Rule, Severity

MAY_RUN_AS_ROOT = Rule(
    "UR201",
    "k8s-may-run-as-root",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The container may run as root",
    "Without `runAsNonRoot: true` (or a non-zero `runAsUser`) the container runs as its "
    "image's user, which is root for most images; `runAsNonRoot: false` says so outright.",
)
RUN_AS_USER_ZERO = Rule(
    "UR202",
    "k8s-run-as-user-zero",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "runAsUser is 0 (root)",
    "`runAsUser: 0` runs the container as root whatever the image says. At pod level Pod "
    "Security Admission forbids it even when every container overrides it.",
)
NON_ROOT_CONFLICT = Rule(
    "UR203",
    "k8s-run-as-non-root-conflict",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "runAsNonRoot: true with runAsUser: 0",
    "The kubelet refuses to start a container that must run as non-root but is told to run "
    "as UID 0: the pod stays in CreateContainerConfigError.",
)
PRIVILEGED = Rule(
    "UR204",
    "k8s-privileged",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The container is privileged",
    "A privileged container has every capability and all host devices: it is root on the node.",
)
PRIVILEGE_ESCALATION = Rule(
    "UR205",
    "k8s-allow-privilege-escalation",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "allowPrivilegeEscalation is not false",
    "Unless `allowPrivilegeEscalation: false` is set, setuid binaries and file capabilities "
    "let a process gain more privileges than its parent (no_new_privs is off).",
)
CAPABILITIES = Rule(
    "UR206",
    "k8s-capabilities",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "Capabilities are not dropped, or dangerous ones are added",
    "The restricted standard requires `drop: [ALL]` and allows adding only NET_BIND_SERVICE; "
    "adding anything outside the baseline set (SYS_ADMIN, NET_RAW, ...) is root-equivalent.",
)
HOST_NAMESPACES = Rule(
    "UR207",
    "k8s-host-namespaces",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The pod shares the host's PID, IPC or network namespace",
    "hostPID, hostIPC and hostNetwork let the pod see and signal host processes, read host "
    "shared memory, or sniff and bind the node's network: root-equivalent on the node.",
)
ROOT_GROUP = Rule(
    "UR208",
    "k8s-root-group",
    FileKind.KUBERNETES,
    Severity.NOTICE,
    "The process keeps group 0 (root)",
    "`runAsGroup: 0` / `fsGroup: 0`, or a runAsUser without runAsGroup (the primary group "
    "then stays 0), give the process root's group and the files that group can write.",
    FixAvailability.NEVER,
    "Which group the process needs is the author's choice; nothing is insecure enough to guess.",
)
SECCOMP = Rule(
    "UR209",
    "k8s-seccomp",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "No seccomp profile, or Unconfined",
    "Without a seccomp profile every system call is open to the container; `Unconfined` is "
    "a baseline violation, a missing profile a restricted one. Use RuntimeDefault.",
)
MISPLACED_FIELDS = Rule(
    "UR210",
    "k8s-pod-level-container-fields",
    FileKind.KUBERNETES,
    Severity.WARNING,
    "Container-only fields in the pod's securityContext",
    "allowPrivilegeEscalation, privileged, capabilities and readOnlyRootFilesystem exist only "
    "on containers; in the pod's securityContext Kubernetes drops them, so they protect nothing.",
)
READ_ONLY_ROOT_FS = Rule(
    "UR211",
    "k8s-read-only-root-filesystem",
    FileKind.KUBERNETES,
    Severity.NOTICE,
    "The root filesystem is writable",
    "`readOnlyRootFilesystem: true` stops an intruder from changing binaries in the container; "
    "it is hardening beyond the restricted standard.",
    FixAvailability.NEVER,
    "Most applications need writable volumes (e.g. /tmp) first; only the author knows which.",
)

RULES: tuple[Rule, ...] = (
    MAY_RUN_AS_ROOT,
    RUN_AS_USER_ZERO,
    NON_ROOT_CONFLICT,
    PRIVILEGED,
    PRIVILEGE_ESCALATION,
    CAPABILITIES,
    HOST_NAMESPACES,
    ROOT_GROUP,
    SECCOMP,
    MISPLACED_FIELDS,
    READ_ONLY_ROOT_FS,
)

# Pod Security Standards, baseline: capabilities that may be added (exact spelling).
BASELINE_CAPABILITIES = frozenset(
    "AUDIT_WRITE CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE SETFCAP SETGID "
    "SETPCAP SETUID SYS_CHROOT".split()
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
CONTAINER_ONLY_FIELDS = ("allowPrivilegeEscalation", "privileged", "capabilities", "readOnlyRootFilesystem")
GOOD_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
_KEY_ORDER = ("runAsNonRoot", "runAsUser", "runAsGroup", "allowPrivilegeEscalation", "privileged", "capabilities", "seccompProfile")


# Why a finding gets no fix when its securityContext (or its owner) is an anchor's alias.
_ALIASED = (
    " No fix offered: what it would edit is shared through a YAML anchor and alias, and an"
    " edit there would change every object that uses it; set it on each object instead."
)


@dataclass
class _Block:
    """What one securityContext (the pod's or a container's) must become."""

    owner: MappingNode  # the pod spec or the container
    is_pod: bool
    scalars: dict[str, bool | int] = field(default_factory=dict)
    seccomp: bool = False
    capabilities: bool = False
    deletes: list[str] = field(default_factory=list)

    @property
    def wanted(self) -> bool:
        return bool(self.scalars or self.seccomp or self.capabilities or self.deletes)


@dataclass(frozen=True)
class _Style:
    """How the file writes YAML, so inserted lines look like their neighbours."""

    unit: str  # one indentation step
    dash: str  # what goes before "- " relative to the key ("" when sequences are not indented)


def _style(pod: PodSpec) -> _Style:
    unit = 2
    containers_pair = get(pod.spec, "containers")
    if containers_pair and isinstance(containers_pair[1], SequenceNode) and containers_pair[1].value:
        key_col = int(containers_pair[0].start_mark.column)
        item_col = int(containers_pair[1].value[0].start_mark.column)
        dash_col = item_col - 2
        if dash_col > key_col:
            unit = dash_col - key_col
            return _Style(" " * unit, " " * unit)
        if item_col > key_col:
            unit = item_col - key_col
        return _Style(" " * max(unit, 1), "")
    return _Style("  ", "")


def _names(containers: list[Container]) -> str:
    return ", ".join(c.label for c in containers)


def _non_zero(node: Node | None) -> bool:
    number = as_int(node)
    return number is not None and number != 0


def _effective(container: Container, pod_sc: MappingNode | None, name: str) -> Node | None:
    """A container's own setting, else the pod's."""
    pair = get(_sc(container.node), name) or get(pod_sc, name)
    return pair[1] if pair else None


def _sc(owner: Node | None) -> MappingNode | None:
    node = value(owner, "securityContext")
    return node if isinstance(node, MappingNode) else None


def _scalar_text(item: bool | int | str, json: bool) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    return f'"{item}"' if json else item


def _key(name: str, json: bool) -> str:
    return f'"{name}"' if json else name


def _flow_value(name: str, block: _Block, json: bool) -> str:
    if name == "seccompProfile":
        return "{" + f"{_key('type', json)}: {_scalar_text('RuntimeDefault', json)}" + "}"
    if name == "capabilities":
        return "{" + f"{_key('drop', json)}: [{_scalar_text('ALL', json)}]" + "}"
    return _scalar_text(block.scalars[name], json)


def _block_lines(name: str, block: _Block, indent: str, style: _Style) -> list[str]:
    if name == "seccompProfile":
        return [f"{indent}seccompProfile:", f"{indent}{style.unit}type: RuntimeDefault"]
    if name == "capabilities":
        return [f"{indent}capabilities:", f"{indent}{style.unit}drop:", f"{indent}{style.unit}{style.dash}- ALL"]
    return [f"{indent}{name}: {_scalar_text(block.scalars[name], False)}"]


def _missing(block: _Block, sc: MappingNode | None) -> list[str]:
    names = [n for n in block.scalars if get(sc, n) is None]
    if block.capabilities and get(sc, "capabilities") is None:
        names.append("capabilities")
    if block.seccomp and get(sc, "seccompProfile") is None:
        names.append("seccompProfile")
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


def _fix_seccomp(rewriter: Rewriter, sc: MappingNode, style: _Style, json: bool) -> bool:
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


def _fix_capabilities(rewriter: Rewriter, sc: MappingNode, style: _Style, json: bool) -> bool:
    """Drop ALL and keep only NET_BIND_SERVICE in add; False when the key must be re-added."""
    pair = get(sc, "capabilities")
    assert pair is not None
    key, caps = pair
    if not isinstance(caps, MappingNode):
        if is_flow(sc):
            rewriter.replace_span(caps, "{" + f"{_key('drop', json)}: [{_scalar_text('ALL', json)}]" + "}")
            return True
        _delete_pair(rewriter, key, caps)
        return False
    drop_pair = get(caps, "drop")
    if drop_pair is None:
        if is_flow(caps):
            _flow_insert(rewriter, caps, [f"{_key('drop', json)}: [{_scalar_text('ALL', json)}]"])
        else:
            indent = _child_indent(caps)
            rewriter.insert_lines_after(first_line(key), [f"{indent}drop:", f"{indent}{style.dash}- ALL"])
    else:
        drop_key, drop = drop_pair
        names = [name for name, _ in strings(drop)]
        if "ALL" not in names:
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
    add_pair = get(caps, "add")
    if add_pair is not None:
        add_key, add = add_pair
        items = strings(add)
        bad = [node for name, node in items if name not in RESTRICTED_CAPABILITIES]
        if bad and len(bad) == len(items) or (not isinstance(add, SequenceNode) and not is_null(add)):
            if is_flow(caps):
                rewriter.replace_span(add, "[]")
            else:
                _delete_pair(rewriter, add_key, add)
        elif bad:
            if is_flow(add) or is_flow(caps):
                kept = [rewriter.lines[first_line(n) - 1][n.start_mark.column : n.end_mark.column] for name, n in items if name in RESTRICTED_CAPABILITIES]
                rewriter.replace_span(add, "[" + ", ".join(kept) + "]")
            else:
                for node in bad:
                    rewriter.delete_lines(first_line(node), last_line(node))
    return True


def _render(block: _Block, lines: tuple[str, ...], style: _Style) -> Fix | None:
    """Turn a block's wishes into one contiguous edit."""
    rewriter = Rewriter(lines)
    owner = block.owner
    sc_pair = get(owner, "securityContext")
    sc = sc_pair[1] if sc_pair and isinstance(sc_pair[1], MappingNode) else None
    json = quoted_keys(owner)
    if sc_pair is not None and sc is None:
        if is_flow(owner):
            return None
        # `securityContext: null`, a scalar or a list: write it anew in the same place.
        _delete_pair(rewriter, *sc_pair)
        column = int(sc_pair[0].start_mark.column)
        indent = " " * column
        # Keep what precedes the key on its line: the `- ` of a list item it may open.
        lead = lines[first_line(sc_pair[0]) - 1][:column]
        names = _missing(block, None)
        new_lines = [f"{lead}securityContext:"] + [
            text for n in names for text in _block_lines(n, block, indent + style.unit, style)
        ]
        rewriter.insert_lines_before(first_line(sc_pair[0]), new_lines if names else [])
        edit = rewriter.edit()
        return Fix(_summary(block), (edit,)) if edit else None
    if sc is not None:
        assert sc_pair is not None
        flow = is_flow(sc)
        for name, wanted in block.scalars.items():
            existing = value(sc, name)
            if existing is not None and get(sc, name) is not None:
                rewriter.replace_span(existing, _scalar_text(wanted, False))
        readd: list[str] = []
        if block.seccomp and get(sc, "seccompProfile") is not None and not _fix_seccomp(rewriter, sc, style, json):
            readd.append("seccompProfile")
        if block.capabilities and get(sc, "capabilities") is not None and not _fix_capabilities(rewriter, sc, style, json):
            readd.append("capabilities")
        if not flow:
            for name in block.deletes:
                pair = get(sc, name)
                if pair is not None:
                    _delete_pair(rewriter, *pair)
        names = sorted(set(_missing(block, sc) + readd), key=_KEY_ORDER.index)
        if names:
            if flow:
                _flow_insert(rewriter, sc, [f"{_key(n, json)}: {_flow_value(n, block, json)}" for n in names])
            else:
                indent = _child_indent(sc)
                new_lines = [text for n in names for text in _block_lines(n, block, indent, style)]
                rewriter.insert_lines_after(first_line(sc_pair[0]), new_lines)
    else:
        names = _missing(block, None)
        if not names:
            return None
        anchor_key = "containers" if block.is_pod else "image"
        anchor = get(owner, anchor_key) or (owner.value[0] if owner.value else None)
        if anchor is None:
            return None
        if is_flow(owner):
            inner = ", ".join(f"{_key(n, json)}: {_flow_value(n, block, json)}" for n in names)
            entry = f"{_key('securityContext', json)}: {{{inner}}}"
            if block.is_pod:
                rewriter.insert_at(first_line(anchor[0]), int(anchor[0].start_mark.column), entry + ", ")
            else:
                end = anchor[1].end_mark
                rewriter.insert_at(int(end.line) + 1, int(end.column), ", " + entry)
        else:
            indent = " " * int(anchor[0].start_mark.column)
            child = indent + style.unit
            new_lines = [f"{indent}securityContext:"] + [
                text for n in names for text in _block_lines(n, block, child, style)
            ]
            if block.is_pod:
                rewriter.insert_lines_before(first_line(anchor[0]), new_lines)
            else:
                rewriter.insert_lines_after(last_line(anchor[1]), new_lines)
    edit = rewriter.edit()
    if edit is None:
        return None
    return Fix(_summary(block), (edit,))


def _joined(fixes: list[Fix | None]) -> Fix | None:
    """One fix made of several blocks' fixes."""
    present = [fix for fix in fixes if fix is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    edits = tuple(dict.fromkeys(edit for fix in present for edit in fix.edits))
    return Fix("; ".join(fix.summary for fix in present), edits)


def _summary(block: _Block) -> str:
    parts = [f"{k}: {_scalar_text(block.scalars[k], False)}" for k in sorted(block.scalars, key=_KEY_ORDER.index)]
    if block.capabilities:
        parts.append("capabilities.drop: [ALL]")
    if block.seccomp:
        parts.append("seccompProfile: RuntimeDefault")
    where = "the pod's securityContext" if block.is_pod else "the container's securityContext"
    sentences = [f"Set {', '.join(parts)} in {where}"] if parts else []
    if block.deletes:
        sentences.append(f"remove the ignored pod-level {', '.join(block.deletes)}")
    text = "; ".join(sentences)
    return text[:1].upper() + text[1:]


@dataclass
class _Pending:
    """A finding whose fix is known only once every block of the pod is planned."""

    rule: Rule
    severity: Severity
    line: int
    message: str
    subject: str
    blocks: list[_Block] = field(default_factory=list)
    fix: Fix | None = None


@dataclass
class _PodCheck:
    """Evaluates one pod spec."""

    pod: PodSpec
    path: str
    options: Options
    lines: tuple[str, ...]
    shared: frozenset[int] = frozenset()
    pending: list[_Pending] = field(default_factory=list)
    blocks: dict[int, _Block] = field(default_factory=dict)

    def aliased(self, owner: MappingNode) -> bool:
        """True when what a fix would edit or insert next to is reached through a YAML alias: the
        owner, any key or value of it (an aliased `image:` is where a new block would go), or
        anything inside its securityContext (an aliased `drop:` list or scalar)."""
        if not self.shared:
            return False
        if id(owner) in self.shared or any(id(k) in self.shared or id(v) in self.shared for k, v in owner.value):
            return True
        context = value(owner, "securityContext")
        stack: list[Node] = [context] if context is not None else []
        while stack:
            node = stack.pop()
            if id(node) in self.shared:
                return True
            stack.extend(children(node))
        return False

    def withheld(self) -> set[int]:
        """ids of the blocks that get no fix: those reached through an alias, and every block
        that shares a finding with one (half of a finding's fix can make things worse, e.g.
        runAsNonRoot: true on the pod while an aliased container keeps runAsUser: 0)."""
        withheld = {id(b) for b in self.blocks.values() if b.wanted and self.aliased(b.owner)}
        grown = bool(withheld)
        while grown:
            grown = False
            for item in self.pending:
                ids = {id(b) for b in item.blocks}
                if ids & withheld and not ids <= withheld:
                    withheld |= ids
                    grown = True
        return withheld

    def block(self, owner: MappingNode, is_pod: bool) -> _Block:
        return self.blocks.setdefault(id(owner), _Block(owner, is_pod))

    def muted(self, rule: Rule) -> bool:
        """A suppressed or disabled rule must not change the file through a shared fix."""
        return rule.id in self.pod.suppressed or rule.id in self.options.disabled

    def want(self, block: _Block, rule: Rule, key: str, wanted: bool | int) -> None:
        """Ask for `key: wanted` in a securityContext on behalf of `rule`."""
        if not self.muted(rule):
            block.scalars[key] = wanted

    def want_flag(self, block: _Block, rule: Rule, attribute: str) -> None:
        """Ask for the seccomp or capabilities repair on behalf of `rule`."""
        if not self.muted(rule):
            setattr(block, attribute, True)

    def report(self, rule: Rule, line: int, message: str, subject: str, block: _Block | None, severity: Severity | None = None, fix: Fix | None = None) -> None:
        self.pending.append(_Pending(rule, severity or rule.severity, line, message, subject, [block] if block else [], fix))

    def also(self, rule: Rule, subject: str, block: _Block) -> None:
        """The latest `rule` finding about `subject` is fixed by `block`'s changes too."""
        for item in reversed(self.pending):
            if item.rule is rule and item.subject == subject:
                if block not in item.blocks:
                    item.blocks.append(block)
                return

    def run(self) -> list[Finding]:
        pod = self.pod
        spec = pod.spec
        pod_sc = _sc(spec)
        pod_block = self.block(spec, True)
        windows = (as_str(path(spec, "os", "name")) or "").lower() == "windows"
        user_namespaced = as_bool(value(spec, "hostUsers")) is False
        label = pod.object_label

        self._host_namespaces(spec, label)
        self._pod_level(pod_sc, pod_block, label, windows, user_namespaced)
        for container in pod.containers:
            self._container(container, pod_sc, pod_block, windows, user_namespaced)

        findings: list[Finding] = []
        fixes: dict[int, Fix | None] = {}
        style = _style(pod)
        aliased = self.withheld()
        for block in self.blocks.values():
            if block.wanted and id(block) not in aliased:
                fixes[id(block)] = _render(block, self.lines, style)
        suppressed = pod.suppressed
        for item in self.pending:
            if item.rule.id in suppressed:
                continue
            fix = item.fix if item.fix is not None else _joined([fixes.get(id(b)) for b in item.blocks])
            message = item.message
            if any(id(b) in aliased for b in item.blocks):
                fix = None  # half a fix would leave the finding; the other half is not safe to write
                message += _ALIASED
            findings.append(
                Finding(item.rule.id, item.severity, self.path, item.line, item.line, message, fix, item.subject)
            )
        return findings

    def _host_namespaces(self, spec: MappingNode, label: str) -> None:
        for name in ("hostPID", "hostIPC", "hostNetwork"):
            pair = get(spec, name)
            if pair and as_bool(pair[1]) is True:
                rewriter = Rewriter(self.lines)
                rewriter.replace_span(pair[1], "false")
                edit = rewriter.edit()
                fix = Fix(f"Set {name}: false", (edit,)) if edit else None
                self.report(
                    HOST_NAMESPACES,
                    first_line(pair[0]),
                    f"{label} sets {name}: true, sharing the node's "
                    f"{ {'hostPID': 'process', 'hostIPC': 'IPC', 'hostNetwork': 'network'}[name] } namespace.",
                    label,
                    None,
                    fix=fix,
                )

    def _pod_level(self, pod_sc: MappingNode | None, block: _Block, label: str, windows: bool, user_namespaced: bool) -> None:
        subject = f"{label} (pod securityContext)"
        containers = self.pod.containers
        pair = get(pod_sc, "runAsUser")
        if pair and as_int(pair[1]) == 0 and not user_namespaced:
            self.want(block, RUN_AS_USER_ZERO, "runAsUser", self.options.uid)
            if get(pod_sc, "runAsGroup") is None:
                self.want(block, RUN_AS_USER_ZERO, "runAsGroup", self.options.gid)
            inheriting = [c for c in containers if get(_sc(c.node), "runAsUser") is None]
            if inheriting:
                self.report(RUN_AS_USER_ZERO, first_line(pair[0]), f"{label} sets runAsUser: 0 in the pod's securityContext, so {_names(inheriting)} run as root.", subject, block)
            else:
                # Every container overrides it, so nothing runs as root; the restricted standard still forbids it.
                self.report(RUN_AS_USER_ZERO, first_line(pair[0]), f"{label} sets runAsUser: 0 in the pod's securityContext; every container overrides it, but the restricted standard forbids it.", subject, block, Severity.WARNING)
        pair = get(pod_sc, "runAsNonRoot")
        if pair and as_bool(pair[1]) is False and not user_namespaced:
            self.want(block, MAY_RUN_AS_ROOT, "runAsNonRoot", True)
            exposed = [
                c for c in containers
                if get(_sc(c.node), "runAsNonRoot") is None and not _non_zero(_effective(c, pod_sc, "runAsUser"))
            ]
            if exposed:
                self.report(MAY_RUN_AS_ROOT, first_line(pair[0]), f"{label} sets runAsNonRoot: false in the pod's securityContext, allowing {_names(exposed)} to run as root.", subject, block)
            else:
                self.report(MAY_RUN_AS_ROOT, first_line(pair[0]), f"{label} sets runAsNonRoot: false in the pod's securityContext; no container runs as root through it, but the restricted standard requires true.", subject, block, Severity.WARNING)
        seccomp_pair = get(pod_sc, "seccompProfile")
        seccomp_type = as_str(path(pod_sc, "seccompProfile", "type"))
        if seccomp_pair and seccomp_type == "Unconfined":
            self.want_flag(block, SECCOMP, "seccomp")
            self.report(SECCOMP, first_line(seccomp_pair[0]), f"{label} sets seccompProfile Unconfined for the whole pod.", subject, block)
        for name in ("runAsGroup", "fsGroup"):
            pair = get(pod_sc, name)
            if pair and as_int(pair[1]) == 0:
                self.report(ROOT_GROUP, first_line(pair[0]), f"{label} sets {name}: 0 in the pod's securityContext, giving its processes root's group.", subject, None)
        for name in CONTAINER_ONLY_FIELDS:
            pair = get(pod_sc, name)
            if pair:
                if not is_flow(pod_sc or block.owner) and not self.muted(MISPLACED_FIELDS):
                    block.deletes.append(name)
                self.report(MISPLACED_FIELDS, first_line(pair[0]), f"{label} sets {name} in the pod's securityContext, where Kubernetes ignores it; it belongs in each container's securityContext.", subject, block)

    def _container(self, container: Container, pod_sc: MappingNode | None, pod_block: _Block, windows: bool, user_namespaced: bool) -> None:
        node = container.node
        sc = _sc(node)
        block = self.block(node, False)
        subject = f"{container.label} in {self.pod.object_label}"
        image_pair = get(node, "image")
        anchor = first_line(image_pair[0]) if image_pair else first_line(node)

        def own(name: str) -> tuple[ScalarNode, Node] | None:
            return get(sc, name)

        def effective(name: str) -> Node | None:
            pair = own(name) or get(pod_sc, name)
            return pair[1] if pair else None

        uid = as_int(effective("runAsUser"))
        non_root = as_bool(effective("runAsNonRoot"))

        # Who the process runs as.
        user_pair = own("runAsUser")
        if user_pair and as_int(user_pair[1]) == 0 and not user_namespaced:
            self.want(block, RUN_AS_USER_ZERO, "runAsUser", self.options.uid)
            if effective("runAsGroup") is None:
                self.want(block, RUN_AS_USER_ZERO, "runAsGroup", self.options.gid)
            self.report(RUN_AS_USER_ZERO, first_line(user_pair[0]), f"{subject} sets runAsUser: 0 and runs as root.", subject, block)
        if non_root is True and uid == 0:
            where = user_pair or get(pod_sc, "runAsUser")
            assert where is not None
            target = block if user_pair else pod_block
            self.want(target, NON_ROOT_CONFLICT, "runAsUser", self.options.uid)
            self.report(NON_ROOT_CONFLICT, first_line(where[0]), f"{subject} has runAsNonRoot: true but runAsUser: 0; the kubelet will refuse to start it.", subject, target)
        rnr_pair = own("runAsNonRoot")
        pod_rnr_false = as_bool(value(pod_sc, "runAsNonRoot")) is False
        if not user_namespaced and not windows and non_root is not True and uid is None and get(pod_sc, "runAsUser") is None:
            # Give the pod a UID so that runAsNonRoot: true does not stop a root image from
            # starting (Windows pods may not set one: Kubernetes rejects runAsUser there).
            self.want(pod_block, MAY_RUN_AS_ROOT, "runAsUser", self.options.uid)
            if get(pod_sc, "runAsGroup") is None:
                self.want(pod_block, MAY_RUN_AS_ROOT, "runAsGroup", self.options.gid)
        if rnr_pair and as_bool(rnr_pair[1]) is False and not user_namespaced:
            self.want(block, MAY_RUN_AS_ROOT, "runAsNonRoot", True)
            if _non_zero(effective("runAsUser")):
                self.report(MAY_RUN_AS_ROOT, first_line(rnr_pair[0]), f"{subject} sets runAsNonRoot: false; it runs as UID {uid}, but the restricted standard requires runAsNonRoot: true.", subject, block, Severity.WARNING)
            else:
                self.report(MAY_RUN_AS_ROOT, first_line(rnr_pair[0]), f"{subject} sets runAsNonRoot: false and may run as root.", subject, block)
        elif non_root is not True and not user_namespaced:
            # Make runAsNonRoot true for every container at once, at pod level (also when
            # the UID-0 fix gives a new UID, so that one run of the fixes is enough).
            if get(pod_sc, "runAsNonRoot") is None:
                self.want(pod_block, RUN_AS_USER_ZERO if uid == 0 else MAY_RUN_AS_ROOT, "runAsNonRoot", True)
            if uid == 0:
                self.also(RUN_AS_USER_ZERO, subject, pod_block)  # reported as UR202 above
            elif uid is None and not pod_rnr_false:
                self.report(MAY_RUN_AS_ROOT, anchor, f"{subject} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser applies, so it runs as the image's user.", subject, pod_block)
            elif uid is not None and not pod_rnr_false:
                self.report(MAY_RUN_AS_ROOT, anchor, f"{subject} runs as UID {uid} but runAsNonRoot is not true; the restricted standard requires runAsNonRoot: true.", subject, pod_block, Severity.WARNING)

        # Group 0.
        group = effective("runAsGroup")
        if own("runAsGroup") and as_int(group) == 0:
            pair = own("runAsGroup")
            assert pair is not None
            self.report(ROOT_GROUP, first_line(pair[0]), f"{subject} sets runAsGroup: 0, giving its process root's group.", subject, None)
        elif uid is not None and uid != 0 and group is None and "runAsUser" not in pod_block.scalars:
            self.report(ROOT_GROUP, anchor, f"{subject} sets runAsUser {uid} without runAsGroup, so its primary group may stay 0.", subject, None)

        # Root-equivalent powers.
        privileged = own("privileged")
        if privileged and as_bool(privileged[1]) is True:
            self.want(block, PRIVILEGED, "privileged", False)
            self.report(PRIVILEGED, first_line(privileged[0]), f"{subject} is privileged: it has every capability and the host's devices.", subject, block)
        caps = value(sc, "capabilities")
        caps_pair = own("capabilities")
        caps_line = first_line(caps_pair[0]) if caps_pair else anchor
        added = strings(value(caps, "add"))
        dangerous = [name for name, _ in added if name not in BASELINE_CAPABILITIES]
        extra = [name for name, _ in added if name in BASELINE_CAPABILITIES and name not in RESTRICTED_CAPABILITIES]
        if dangerous:
            self.want_flag(block, CAPABILITIES, "capabilities")
            self.report(CAPABILITIES, caps_line, f"{subject} adds capabilities {', '.join(dangerous)}, outside the baseline set: root-equivalent power.", subject, block)
        if windows:
            return  # the remaining controls are Linux-only, as in the Pod Security Standards
        if extra and not dangerous:
            self.want_flag(block, CAPABILITIES, "capabilities")
            self.report(CAPABILITIES, caps_line, f"{subject} adds capabilities {', '.join(extra)}; the restricted standard allows only NET_BIND_SERVICE.", subject, block, Severity.WARNING)
        dropped = [name for name, _ in strings(value(caps, "drop"))]
        if "ALL" not in dropped:
            self.want_flag(block, CAPABILITIES, "capabilities")
            detail = " ('all' must be written 'ALL')" if any(d.upper() == "ALL" for d in dropped) else ""
            self.report(CAPABILITIES, caps_line, f"{subject} does not drop ALL capabilities{detail}.", subject, block, Severity.WARNING)
        escalation = own("allowPrivilegeEscalation")
        if escalation and as_bool(escalation[1]) is True:
            self.want(block, PRIVILEGE_ESCALATION, "allowPrivilegeEscalation", False)
            self.report(PRIVILEGE_ESCALATION, first_line(escalation[0]), f"{subject} sets allowPrivilegeEscalation: true.", subject, block)
        elif escalation is None or as_bool(escalation[1]) is not False:
            self.want(block, PRIVILEGE_ESCALATION, "allowPrivilegeEscalation", False)
            self.report(PRIVILEGE_ESCALATION, anchor, f"{subject} does not set allowPrivilegeEscalation: false.", subject, block, Severity.WARNING)
        own_seccomp = as_str(path(sc, "seccompProfile", "type"))
        pod_seccomp = as_str(path(pod_sc, "seccompProfile", "type"))
        # `seccompProfile: null` is unset, as Kubernetes reads it: the pod's profile applies.
        sets_seccomp = not is_null(value(sc, "seccompProfile"))
        effective_seccomp = own_seccomp if sets_seccomp else pod_seccomp
        if own_seccomp == "Unconfined":
            self.want_flag(block, SECCOMP, "seccomp")
            pair = own("seccompProfile")
            assert pair is not None
            self.report(SECCOMP, first_line(pair[0]), f"{subject} sets seccompProfile Unconfined.", subject, block)
        elif effective_seccomp not in GOOD_SECCOMP and pod_seccomp != "Unconfined":
            target = block if sets_seccomp else pod_block
            self.want_flag(target, SECCOMP, "seccomp")
            self.report(SECCOMP, anchor, f"{subject} has no seccomp profile; set RuntimeDefault.", subject, target, Severity.WARNING)
        read_only = own("readOnlyRootFilesystem")
        if not read_only or as_bool(read_only[1]) is not True:
            self.report(READ_ONLY_ROOT_FS, first_line(read_only[0]) if read_only else anchor, f"{subject} has a writable root filesystem.", subject, None)


def check(
    path_: str, pods: list[PodSpec], lines: tuple[str, ...], options: Options, shared: frozenset[int] = frozenset()
) -> list[Finding]:
    """Findings for every pod spec of a file; `shared` holds the ids of nodes reached through aliases."""
    findings: list[Finding] = []
    for pod in pods:
        findings.extend(_PodCheck(pod, path_, options, lines, shared).run())
    return findings
