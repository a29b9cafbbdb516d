"""The state every Kubernetes rule shares while one pod spec is checked: facts, precedence, reports, fixes.

Rules report findings and say what their fix wants of a securityContext (`want...`);
the checker gathers those wishes per securityContext, so that several rules' fixes
become one contiguous edit there, and hands each finding the edits that fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from rules.kubernetes.mounts import ReadOnlyPlan, ReadOnlyRequest, plan, why_not_extendable
from rules.kubernetes.nodes import as_bool, as_int, as_str, children, first_line, get, path, value
from rules.kubernetes.parse import Container, PodSpec
from rules.kubernetes.powers import kept_root_reason, low_ports, sets_port_sysctl, writable_volumes
from rules.kubernetes.rewrite import ContextEdit, joined, render, style_of
from rules.model import Deferred, Finding, Fix, LineEdit, Options, Rule, Severity, Variant

if TYPE_CHECKING:
    from rules.repository import ImageUser

# Why a finding gets no fix when its securityContext (or its owner) is an anchor's alias.
_ALIASED = (
    " No fix offered: what it would edit is shared through a YAML anchor and alias, and an"
    " edit there would change every object that uses it; set it on each object instead."
)

# Said of a finding whose fix waits for a second pass (Deferred.AFTER_OTHER_FIXES).
DEFERRED_NOTE = (
    " Its fix comes once the other fixes of this pod are applied (they edit the same lines):"
    " `unroot fix` applies it in a second pass, the App offers it on the next push."
)


def security_context(owner: Node | None) -> MappingNode | None:
    """The securityContext mapping of a pod spec or container, if it is one."""
    node = value(owner, "securityContext")
    return node if isinstance(node, MappingNode) else None


def over_defaults(own: MappingNode | None, defaults: MappingNode | None) -> MappingNode | None:
    """A container's securityContext as it applies over defaults merged under it (Tekton's
    stepTemplate): a view for reading, each key with its own node (and so its own line)."""
    if defaults is None or not defaults.value:
        return own
    own_keys = {key.value for key, _ in own.value if isinstance(key, ScalarNode)} if own else set()
    inherited = [(k, v) for k, v in defaults.value if not (isinstance(k, ScalarNode) and k.value in own_keys)]
    base = own or defaults
    return MappingNode(
        base.tag, inherited + (own.value if own else []), base.start_mark, base.end_mark, base.flow_style
    )


def effective(sc: MappingNode | None, pod_sc: MappingNode | None, name: str) -> Node | None:
    """What applies to a container: its own setting, else the pod's (kube-linter's effectiveRunAsUser)."""
    pair = get(sc, name) or get(pod_sc, name)
    return pair[1] if pair else None


@dataclass(frozen=True)
class ContainerFacts:
    """One container as every rule sees it, computed once."""

    container: Container
    sc: MappingNode | None  # its own securityContext
    change: ContextEdit  # what its securityContext must become
    subject: str  # "container 'app' in Deployment/web"
    anchor: int  # the line findings without a line of their own point at: its `image:`
    uid: int | None  # effective runAsUser
    non_root: bool | None  # effective runAsNonRoot
    image: ImageUser | None = None  # who the image runs as: built by the repository, or a known published image
    low_ports: tuple[int, ...] = ()  # the containerPorts below 1024 it declares
    # Why a fix must not make it non-root (a power only root holds), or None; see powers.py.
    keeps_root: str | None = None

    @property
    def merged(self) -> bool:
        """An operator fills in what this container omits (see parse.Container): rules report what it
        sets, never what it leaves out."""
        return self.container.merged

    def own(self, name: str) -> tuple[ScalarNode, Node] | None:
        """The (key, value) the container's own securityContext sets for `name`."""
        return get(self.sc, name)


def is_flow_context(owner: MappingNode) -> bool:
    """The owner's securityContext is written in flow style (`{...}`), where no key is deleted."""
    context = value(owner, "securityContext")
    return context is not None and bool(getattr(context, "flow_style", False))


def labels(containers: list[ContainerFacts]) -> str:
    """How a message names several containers: "container 'a', init container 'b'"."""
    return ", ".join(c.container.label for c in containers)


@dataclass
class _Pending:
    """A finding whose fix is known only once every securityContext of the pod is planned."""

    rule: Rule
    severity: Severity
    line: int
    message: str
    subject: str
    variant: Variant | None
    container: str | None
    changes: list[ContextEdit] = field(default_factory=list)
    fix: Fix | None = None


@dataclass(frozen=True)
class _ReadOnlyWish:
    """A finding fixed by making its container's root filesystem read-only, with the paths it must keep writable."""

    item: _Pending
    container: ContainerFacts
    paths: tuple[str, ...]
    summary: Callable[[ReadOnlyPlan], str]


def _overlaps(edit: LineEdit, others: list[LineEdit]) -> bool:
    return any(edit.start_line <= other.end_line and other.start_line <= edit.end_line for other in others)


@dataclass
class PodChecker:
    """Checks one pod spec: the rules call `report` and `want...`, then `findings()` renders the fixes."""

    pod: PodSpec
    path: str
    options: Options
    lines: tuple[str, ...]
    shared: frozenset[int] = frozenset()  # ids of nodes reached through YAML aliases
    pending: list[_Pending] = field(default_factory=list)
    changes: dict[int, ContextEdit] = field(default_factory=dict)  # by id() of the owner node
    read_only: list[_ReadOnlyWish] = field(default_factory=list)
    # Facts of the pod, computed once in __post_init__.
    pod_sc: MappingNode | None = field(init=False)
    pod_change: ContextEdit = field(init=False)
    windows: bool = field(init=False)
    user_namespaced: bool = field(init=False)
    containers: tuple[ContainerFacts, ...] = field(init=False)
    # True when the kind has no pod-level securityContext (a Tekton Task): what rules ask of the
    # pod's is written into each container's instead.
    fans_out: bool = field(init=False)

    def __post_init__(self) -> None:
        spec = self.pod.spec
        owner = self.pod.context_owner
        self.fans_out = owner is None
        self.pod_sc = security_context(owner)
        # Without a pod level, the pod's wishes are gathered apart and spread over the containers.
        self.pod_change = ContextEdit(spec, True) if owner is None else self._change(owner, True)
        self.windows = (as_str(path(spec, "os", "name")) or "").lower() == "windows"
        # hostUsers: false maps UID 0 in the container to an unprivileged UID on the node.
        self.user_namespaced = as_bool(value(spec, "hostUsers")) is False
        self.containers = tuple(self._facts(container) for container in self.pod.containers)

    def _facts(self, container: Container) -> ContainerFacts:
        node = container.node
        sc = over_defaults(security_context(node), security_context(container.defaults))
        image_pair = get(node, "image")
        uid = as_int(effective(sc, self.pod_sc, "runAsUser"))
        non_root = as_bool(effective(sc, self.pod_sc, "runAsNonRoot"))
        ports = low_ports(node)
        runs_as_root = non_root is not True and (uid is None or uid == 0)
        host_network = as_bool(value(self.pod.spec, "hostNetwork")) is True
        return ContainerFacts(
            container,
            sc,
            self._change(node, False),
            f"{container.label} in {self.pod.label}",
            first_line(image_pair[0]) if image_pair else first_line(node),
            uid,
            non_root,
            self._image(image_pair[1] if image_pair else None),
            ports,
            kept_root_reason(sc, ports, host_network) if runs_as_root else None,
        )

    def _image(self, node: Node | None) -> ImageUser | None:
        reference = as_str(node) if node is not None else None
        if not reference:
            return None
        knowledge = self.options.knowledge
        built = knowledge.find(reference) if knowledge is not None else None
        if built is not None:
            return built
        # Imported here, as the annotation above is: the Dockerfile analyser behind it is not paid
        # for at import by a manifest-only run.
        from rules.repository import published_image_user

        return published_image_user(reference)

    def identity_change(self, container: ContainerFacts) -> ContextEdit:
        """Where a fix writes who `container` runs as: the pod's securityContext, for every container at
        once, unless a container of the pod must stay root (see powers.py); then the container's own."""
        return container.change if any(c.keeps_root for c in self.containers) else self.pod_change

    def kept_root(self, containers: list[ContainerFacts] | tuple[ContainerFacts, ...]) -> ContainerFacts | None:
        """The first of `containers` no fix may make non-root."""
        return next((c for c in containers if c.keeps_root), None)

    def _change(self, owner: MappingNode, is_pod: bool) -> ContextEdit:
        return self.changes.setdefault(id(owner), ContextEdit(owner, is_pod))

    @property
    def label(self) -> str:
        """The pod as messages name it: "Deployment/web", "Beat/filebeat spec.daemonSet.podTemplate"."""
        return self.pod.label

    @property
    def pod_subject(self) -> str:
        """What pod-level findings are about."""
        return f"{self.label} (pod securityContext)"

    def pod_setting(self, name: str) -> tuple[ScalarNode, Node] | None:
        """The (key, value) the pod's securityContext sets for `name`."""
        return get(self.pod_sc, name)

    def effective(self, container: ContainerFacts, name: str) -> Node | None:
        """The setting that applies to `container`: its own, else the pod's."""
        return effective(container.sc, self.pod_sc, name)

    # ---- what the rules ask for

    def muted(self, rule: Rule) -> bool:
        """A suppressed or disabled rule must not change the file through a shared fix."""
        return rule.id in self.pod.suppressed or rule.id in self.options.disabled

    def want(self, change: ContextEdit, rule: Rule, key: str, wanted: bool | int) -> None:
        """Ask for `key: wanted` in a securityContext on behalf of `rule`."""
        if not self.muted(rule):
            change.scalars[key] = wanted

    def want_seccomp(self, change: ContextEdit, rule: Rule) -> None:
        """Ask for seccompProfile RuntimeDefault on behalf of `rule`."""
        if not self.muted(rule):
            change.seccomp = True

    def want_capabilities(self, change: ContextEdit, rule: Rule) -> None:
        """Ask for the capabilities repair (drop ALL, add at most NET_BIND_SERVICE) on behalf of `rule`."""
        if not self.muted(rule):
            change.capabilities = True

    def want_uid_fixed(self, change: ContextEdit, rule: Rule) -> None:
        """Ask for a runAsUser: 0 to go: to the configured UID, or on OpenShift away (its SCC assigns one)."""
        if self.muted(rule):
            return
        if self.options.openshift and not is_flow_context(change.owner):
            if "runAsUser" not in change.unset:
                change.unset.append("runAsUser")
        else:  # a flow mapping cannot lose a key here, so it gets the configured UID even on OpenShift
            change.scalars["runAsUser"] = self.options.uid

    def want_removed(self, change: ContextEdit, rule: Rule, key: str) -> None:
        """Ask for `key` to be deleted from a securityContext on behalf of `rule`."""
        if not self.muted(rule):
            change.deletes.append(key)

    def report(
        self,
        rule: Rule,
        line: int,
        message: str,
        subject: str,
        fixed_by: ContextEdit | None,
        *,
        severity: Severity | None = None,
        variant: Variant | None = None,
        container: ContainerFacts | None = None,
        fix: Fix | None = None,
    ) -> None:
        """A finding of `rule`, fixed by what `fixed_by` will become (or by `fix`, or not at all)."""
        changes = [fixed_by] if fixed_by else []
        name = container.container.name if container else None
        self.pending.append(
            _Pending(rule, severity or rule.severity, line, message, subject, variant, name, changes, fix)
        )

    def report_pod(
        self,
        rule: Rule,
        line: int,
        message: str,
        fixed_by: ContextEdit | None,
        *,
        severity: Severity | None = None,
        variant: Variant | None = None,
    ) -> None:
        """A finding about the pod's securityContext."""
        self.report(rule, line, message, self.pod_subject, fixed_by, severity=severity, variant=variant)

    def report_container(
        self,
        rule: Rule,
        container: ContainerFacts,
        line: int,
        message: str,
        fixed_by: ContextEdit | None,
        *,
        severity: Severity | None = None,
        variant: Variant | None = None,
    ) -> None:
        """A finding about one container."""
        self.report(
            rule, line, message, container.subject, fixed_by, severity=severity, variant=variant, container=container
        )

    def want_read_only(
        self, rule: Rule, container: ContainerFacts, paths: tuple[str, ...], summary: Callable[[ReadOnlyPlan], str]
    ) -> None:
        """The latest finding (of `rule`) is fixed by readOnlyRootFilesystem: true with an emptyDir at each of `paths`
        the container does not mount yet; its fix is planned once every other fix of the pod is known."""
        if not self.muted(rule) and self.pending and self.pending[-1].rule is rule:
            self.read_only.append(_ReadOnlyWish(self.pending[-1], container, paths, summary))

    def _read_only_blocker(self, wish: _ReadOnlyWish, rendered: dict[int, Fix | None]) -> str | None:
        """Why the read-only fix cannot be offered for this container now, or None."""
        node = wish.container.container.node
        if (
            self.fans_out
            or wish.container.merged
            or wish.container.container.list_name
            not in (
                "containers",
                "initContainers",
            )
        ):
            return "this kind keeps its containers or volumes in a form this fix does not edit"
        if self.aliased(node) or id(self.pod.spec) in self.shared or id(value(self.pod.spec, "volumes")) in self.shared:
            return _ALIASED.removeprefix(" No fix offered: ").rstrip(".")
        reason = why_not_extendable(self.pod.spec, node)
        if reason:
            return reason
        context = get(node, "securityContext")
        if context and not isinstance(context[1], MappingNode) and rendered.get(id(wish.container.change)) is None:
            return "the container's securityContext is null; write it as a mapping first"
        return None

    def _plan_read_only(self, rendered: dict[int, Fix | None]) -> None:
        """Give each read-only wish its fix, planned together for the pod, or a sentence saying why it has none."""
        if not self.read_only:
            return
        others = [e for fix in rendered.values() if fix for e in fix.edits]
        others += [e for item in self.pending if item.fix for e in item.fix.edits]
        ready: list[_ReadOnlyWish] = []
        for wish in self.read_only:
            reason = self._read_only_blocker(wish, rendered)
            if reason:
                wish.item.message += f" No fix offered: {reason}."
            else:
                ready.append(wish)
        # The pod's mounts are planned together (volume names must not clash). A wish whose fix would
        # overlap another fix waits for the second pass; the others are planned again without it, so
        # the volumes edit they carry holds only their own volumes (no volume left unmounted).
        while ready:
            plans = plan(
                self.pod.spec,
                [ReadOnlyRequest(w.container.container.node, w.paths) for w in ready],
                self.lines,
                style_of(self.pod),
            )
            waiting = [
                wish
                for wish, planned in zip(ready, plans)
                if any(_overlaps(edit, others) for edit in planned.edits)
                or (
                    not isinstance(value(wish.container.container.node, "securityContext"), MappingNode)
                    and rendered.get(id(wish.container.change)) is not None
                )
            ]
            if not waiting:
                break
            for wish in waiting:
                # Composed with those edits, the setting would reach their findings' fixes without its mounts.
                wish.item.message += DEFERRED_NOTE
                wish.item.variant = Deferred.AFTER_OTHER_FIXES
            ready = [wish for wish in ready if all(wish is not other for other in waiting)]
        for wish, planned in zip(ready, plans if ready else []):
            if planned.edits:
                wish.item.fix = Fix(wish.summary(planned), planned.edits)

    def also_fixed_by(self, rule: Rule, subject: str, change: ContextEdit) -> None:
        """The latest `rule` finding about `subject` needs `change` too to be fixed."""
        for item in reversed(self.pending):
            if item.rule is rule and item.subject == subject:
                if change not in item.changes:
                    item.changes.append(change)
                return

    # ---- turning it into findings

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
        """ids of the edits that are not offered: those reached through an alias, and every edit
        that shares a finding with one (half of a finding's fix can make things worse, e.g.
        runAsNonRoot: true on the pod while an aliased container keeps runAsUser: 0)."""
        withheld = {id(c) for c in self.changes.values() if c.wanted and self.aliased(c.owner)}
        grown = bool(withheld)
        while grown:
            grown = False
            for item in self.pending:
                ids = {id(c) for c in item.changes}
                if ids & withheld and not ids <= withheld:
                    withheld |= ids
                    grown = True
        return withheld

    def _spread_pod_wishes(self) -> None:
        """No pod level: give each container what the pod's securityContext was asked for, where the
        container does not set it itself (as a pod-level setting would apply), and let findings fixed
        by the pod's change be fixed by the containers' instead."""
        wish = self.pod_change
        receivers: list[ContextEdit] = []
        for container in self.containers:
            change = container.change
            before = (dict(change.scalars), change.seccomp)
            for key, wanted in wish.scalars.items():
                if get(container.sc, key) is None:
                    change.scalars.setdefault(key, wanted)
            if wish.seccomp and get(container.sc, "seccompProfile") is None:
                change.seccomp = True
            if (dict(change.scalars), change.seccomp) != before:
                receivers.append(change)
        for item in self.pending:
            if any(c is wish for c in item.changes):
                kept = [c for c in item.changes if c is not wish]
                item.changes = kept + [c for c in receivers if all(c is not k for k in kept)]

    def _made_non_root(self, container: ContainerFacts) -> bool:
        """The fixes asked for make `container`, which may run as root today, run as non-root."""
        if container.non_root is True or (container.uid is not None and container.uid != 0):
            return False
        own, pod = container.change.scalars, self.pod_change.scalars
        if own.get("runAsNonRoot") is True or own.get("runAsUser", 0) != 0:
            return True
        inherits_flag = container.own("runAsNonRoot") is None
        inherits_uid = container.own("runAsUser") is None
        return (inherits_flag and pod.get("runAsNonRoot") is True) or (inherits_uid and pod.get("runAsUser", 0) != 0)

    def _keep_working(self) -> None:
        """What the fixes must add so that the containers they make non-root still work: the port sysctl
        for ports below 1024, fsGroup for the volumes they write (rules/docs/fix-policy.md)."""
        if self.fans_out or self.windows:
            return
        made = [c for c in self.containers if c.keeps_root is None and self._made_non_root(c)]
        if not made:
            return
        change = self.pod_change
        added = False
        binders = [c for c in made if any(not sets_port_sysctl(self.pod_sc, p) for p in c.low_ports)]
        if binders and as_bool(value(self.pod.spec, "hostNetwork")) is not True:
            change.port_start = min(p for c in binders for p in c.low_ports)
            change.ports_for = labels(binders)
            added = True
        volumes = writable_volumes(self.pod.spec, self.pod.object_node)
        if volumes and not self.options.openshift and self.pod_setting("fsGroup") is None:
            group = change.scalars.get("runAsGroup") or as_int(value(self.pod_sc, "runAsGroup")) or self.options.gid
            change.scalars["fsGroup"] = group
            if self.pod_setting("fsGroupChangePolicy") is None:
                change.scalars["fsGroupChangePolicy"] = "OnRootMismatch"
            added = True
        if not added:
            return
        # The findings whose fix makes them non-root are fixed only with these additions.
        names = {c.container.name for c in made}
        for item in self.pending:
            identity = item.rule.id in ("UR201", "UR202", "UR203")
            about_made = item.container in names or item.subject == self.pod_subject
            if identity and about_made and item.changes and all(c is not change for c in item.changes):
                item.changes.append(change)

    def findings(self) -> list[Finding]:
        """Every reported finding not suppressed on the object, with its fix rendered."""
        self._keep_working()
        if self.fans_out and self.pod_change.wanted:
            self._spread_pod_wishes()
        fixes: dict[int, Fix | None] = {}
        style = style_of(self.pod)
        aliased = self.withheld()
        for change in self.changes.values():
            if change.wanted and id(change) not in aliased:
                fixes[id(change)] = render(change, self.lines, style)
        self._plan_read_only(fixes)
        suppressed = self.pod.suppressed
        findings: list[Finding] = []
        for item in self.pending:
            if item.rule.id in suppressed:
                continue
            fix = item.fix if item.fix is not None else joined([fixes.get(id(c)) for c in item.changes])
            message = item.message
            if any(id(c) in aliased for c in item.changes):
                fix = None  # half a fix would leave the finding; the other half is not safe to write
                message += _ALIASED
            findings.append(
                item.rule.finding(
                    self.path,
                    item.line,
                    message,
                    fix=fix,
                    subject=item.subject,
                    severity=item.severity,
                    variant=item.variant,
                    workload=self.pod.object_label,
                    container=item.container,
                )
            )
        return findings
