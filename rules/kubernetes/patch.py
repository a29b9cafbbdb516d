"""Kustomize patches judged on what they set: explicit root or root-equivalent values, never absences.

A patch is a partial object merged into a base: what it leaves out is the base's business,
so only the values it writes are judged (strategic-merge documents, JSON 6902 ops, and
their `$patch`/`$retainKeys` directives). No finding carries a fix: any securityContext
written into a patch overrides what the base chose, in every overlay that uses the patch.
See rules/docs/kustomize.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes import (
    ur201_may_run_as_root,
    ur202_run_as_user_zero,
    ur204_privileged,
    ur205_allow_privilege_escalation,
    ur206_capabilities,
    ur207_host_namespaces,
    ur208_root_group,
    ur209_seccomp,
    ur212_host_path,
    ur214_proc_mount,
    ur218_windows_host_process,
)
from rules.kubernetes.discovery import object_label
from rules.kubernetes.nodes import as_bool, as_int, as_str, first_line, strings, value
from rules.kubernetes.parse import CONTAINER_LISTS, suppressed_by
from rules.kubernetes.standard import BASELINE_CAPABILITIES
from rules.model import Finding, Rule, Severity, Variant

_CONTAINER_KEYS = frozenset({*CONTAINER_LISTS, "container", "script", "sidecars", "steps"})
NO_FIX = (
    " No fix offered: a setting unroot wrote into a patch would override what the base chose, in every"
    " overlay that uses the patch; change it here by hand: {hint}."
)
# Keys that say which object a strategic-merge patch is for, not what it sets.
_IDENTITY = (("metadata",), ("apiVersion",), ("kind",))
# Directives of the strategic merge patch (kubectl's patch format).
PATCH_DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_LIST = "$deleteFromPrimitiveList/"


@dataclass(frozen=True)
class Setting:
    """One value a patch writes, at the path (keys from the object root) where it lands."""

    keys: tuple[
        str, ...
    ]  # list items are named by their `name`, else by index: ("spec", ..., "containers", "web", ...)
    line: int  # the line of the key (or JSON 6902 op) that writes it
    value: Node | None  # None: the op removes what is at `keys`


@dataclass(frozen=True)
class Judged:
    """What a setting does, as a finding's parts."""

    rule: Rule
    severity: Severity
    variant: Variant | None
    does: str  # "sets runAsUser: 0"
    effect: str  # "runs as root"
    hint: str  # what to write by hand


def flatten(node: Node, keys: tuple[str, ...], line: int) -> Iterator[Setting]:
    """Every leaf value under `node` (a mapping, sequence or scalar) as Settings."""
    if isinstance(node, MappingNode):
        if not node.value:
            yield Setting(keys, line, node)
        for key, item in node.value:
            if isinstance(key, ScalarNode):
                yield from flatten(item, (*keys, str(key.value)), first_line(key))
    elif isinstance(node, SequenceNode) and any(isinstance(item, MappingNode) for item in node.value):
        for index, item in enumerate(node.value):
            name = as_str(value(item, "name")) if isinstance(item, MappingNode) else None
            yield from flatten(item, (*keys, name or str(index)), first_line(item))
    else:
        yield Setting(keys, line, node)


def _pointer(path: str) -> tuple[str, ...]:
    """A JSON pointer's keys (RFC 6901: ~1 is "/", ~0 is "~")."""
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:])


def json6902_settings(ops: SequenceNode) -> Iterator[Setting]:
    """What each `add`/`replace` op writes at its path, and what each `remove` takes away."""
    for op in ops.value:
        if not isinstance(op, MappingNode):
            continue
        kind = as_str(value(op, "op"))
        where = as_str(value(op, "path"))
        if kind is None or where is None or not where.startswith("/"):
            continue
        keys = _pointer(where)
        if kind == "remove":
            yield Setting(keys, first_line(op), None)
        elif kind in ("add", "replace"):
            written = value(op, "value")
            if written is not None:
                line = first_line(next(k for k, v in op.value if v is written))
                yield from flatten(written, keys, line)


def is_json6902(node: Node) -> bool:
    """A JSON 6902 patch: a list of mappings with `op`."""
    return (
        isinstance(node, SequenceNode)
        and bool(node.value)
        and all(isinstance(item, MappingNode) and value(item, "op") is not None for item in node.value)
    )


def _subject(keys: tuple[str, ...], at: int) -> str:
    """Who keys[:at] is: "container 'web'" when a container list item, else "the pod"."""
    for index in range(at - 1, 0, -1):
        if keys[index - 1] in _CONTAINER_KEYS:
            name = keys[index]
            if name == "-":
                return "the container the op appends"
            return f"container [{name}]" if name.isdigit() else f"container '{name}'"
        if keys[index] in ("container", "script"):
            return "container 'main'"
    return "the pod"


def _sc_setting(name: str, written: Node) -> Judged | None:
    """A securityContext field set to a root or root-equivalent value."""
    if name == "runAsUser" and as_int(written) == 0:
        return Judged(
            ur202_run_as_user_zero.RULE,
            Severity.ERROR,
            None,
            "sets runAsUser: 0",
            "runs as root",
            "a non-zero UID, or no runAsUser to keep the base's",
        )
    if name == "runAsNonRoot" and as_bool(written) is False:
        return Judged(
            ur201_may_run_as_root.RULE,
            Severity.ERROR,
            None,
            "sets runAsNonRoot: false",
            "may run as root",
            "runAsNonRoot: true, or leave it to the base",
        )
    if name == "privileged" and as_bool(written) is True:
        return Judged(
            ur204_privileged.RULE,
            Severity.ERROR,
            None,
            "sets privileged: true",
            "is root on the node",
            "remove privileged: true",
        )
    if name == "allowPrivilegeEscalation" and as_bool(written) is True:
        variant = ur205_allow_privilege_escalation.Ur205.SET_TRUE
        return Judged(
            ur205_allow_privilege_escalation.RULE,
            ur205_allow_privilege_escalation.RULE.severity,
            variant,
            "sets allowPrivilegeEscalation: true",
            "can gain root through setuid binaries",
            "allowPrivilegeEscalation: false",
        )
    if name == "runAsGroup" and as_int(written) == 0:
        return Judged(
            ur208_root_group.RULE,
            ur208_root_group.RULE.severity,
            None,
            "sets runAsGroup: 0",
            "runs in the root group",
            "a non-zero GID",
        )
    if name == "procMount" and (as_str(written) or "Default") != "Default":
        return Judged(
            ur214_proc_mount.RULE,
            Severity.ERROR,
            ur214_proc_mount.Ur214.HOST_USERS,
            f"sets procMount: {as_str(written)}",
            "sees the node's unmasked /proc",
            "remove procMount",
        )
    return None


def _judge(setting: Setting) -> Judged | None:
    keys, written = setting.keys, setting.value
    if not keys:
        return None
    if written is None:
        return _removed(keys) if "securityContext" in keys else None
    if keys[-1].startswith("$"):
        return _directive(keys, written)
    return _field(keys, written) or _context_field(keys, written)


def _context_field(keys: tuple[str, ...], written: Node) -> Judged | None:
    """A field directly in a securityContext (pod or container)."""
    if "securityContext" in keys and keys.index("securityContext") == len(keys) - 2:
        return _sc_setting(keys[-1], written)
    return None


def _directive(keys: tuple[str, ...], written: Node) -> Judged | None:
    """`$patch: delete` of a securityContext, `$retainKeys` that drop one or its runAsNonRoot,
    `$deleteFromPrimitiveList/drop: [ALL]`."""
    last, parent = keys[-1], keys[-2:-1]
    if last == PATCH_DIRECTIVE and parent == ("securityContext",) and as_str(written) == "delete":
        return _weakened("deletes the securityContext the base sets", "remove `$patch: delete` to keep the base's")
    if last == RETAIN_KEYS:
        kept = {name for name, _ in strings(written)}
        listed = ", ".join(sorted(kept))
        if parent == ("securityContext",) and "runAsNonRoot" not in kept:
            return _weakened(f"keeps only {listed} of the base's securityContext", "add runAsNonRoot to $retainKeys")
        if parent != ("securityContext",) and "securityContext" not in kept:
            return _weakened(
                f"keeps only {listed}, dropping the base's securityContext", "add securityContext to $retainKeys"
            )
        return None
    if last == DELETE_FROM_LIST + "drop" and "ALL" in {name for name, _ in strings(written)}:
        variant = ur206_capabilities.Ur206.DROP_MISSING_ALL
        return Judged(
            ur206_capabilities.RULE,
            Severity.WARNING,
            variant,
            "deletes ALL from the base's capabilities drop list",
            "keeps every default capability",
            "keep drop: [ALL]",
        )
    return None


def _field(keys: tuple[str, ...], written: Node) -> Judged | None:
    """Pod fields (host namespaces, hostPath volumes) and nested securityContext fields (capabilities,
    seccompProfile, windowsOptions)."""
    last, pair = keys[-1], keys[-2:]
    if last in ("hostPID", "hostIPC", "hostNetwork") and "securityContext" not in keys and as_bool(written) is True:
        return Judged(
            ur207_host_namespaces.RULE,
            Severity.ERROR,
            ur207_host_namespaces.Ur207(last),
            f"sets {last}: true",
            "shares the node's namespace",
            f"{last}: false, or leave it to the base",
        )
    if pair == ("hostPath", "path"):
        why = ur212_host_path.why_root(as_str(written) or "", False)
        return (
            Judged(
                ur212_host_path.RULE,
                Severity.ERROR,
                ur212_host_path.Ur212.ROOT_EQUIVALENT,
                f"mounts the node's {as_str(written)} ({why})",
                "is root on the node",
                "mount a narrower path, or none",
            )
            if why
            else None
        )
    if pair == ("capabilities", "add"):
        dangerous = [name for name, _ in strings(written) if name not in BASELINE_CAPABILITIES]
        return (
            Judged(
                ur206_capabilities.RULE,
                Severity.ERROR,
                ur206_capabilities.Ur206.ADDS_DANGEROUS,
                "adds capabilities " + ", ".join(dangerous),
                "has root-equivalent power",
                "add none outside the baseline set",
            )
            if dangerous
            else None
        )
    if pair == ("seccompProfile", "type") and as_str(written) == "Unconfined":
        return Judged(
            ur209_seccomp.RULE,
            Severity.ERROR,
            None,
            "sets seccompProfile Unconfined",
            "runs without a seccomp filter",
            "RuntimeDefault, or leave it to the base",
        )
    if pair == ("windowsOptions", "hostProcess") and as_bool(written) is True:
        return Judged(
            ur218_windows_host_process.RULE,
            Severity.ERROR,
            None,
            "sets windowsOptions.hostProcess: true",
            "is a process on the Windows node",
            "remove hostProcess",
        )
    return None


def _weakened(does: str, hint: str) -> Judged:
    # A warning, not an error: what the base's securityContext held is not known here; the patch
    # only takes away whatever kept the container non-root (see rules/docs/kustomize.md).
    return Judged(ur201_may_run_as_root.RULE, Severity.WARNING, None, does, "may run as root", hint)


def _removed(keys: tuple[str, ...]) -> Judged | None:
    """A JSON 6902 `remove` of a securityContext or of a setting that keeps it non-root."""
    removed = keys[-1]
    if removed == "securityContext":
        return _weakened("removes the securityContext the base sets", "drop the remove op")
    if removed in ("runAsNonRoot", "runAsUser", "allowPrivilegeEscalation", "seccompProfile", "capabilities", "drop"):
        return _weakened(f"removes the base's {removed}", "drop the remove op")
    return None


def judge(
    path: str,
    settings: list[Setting],
    target: str,
    ignored: frozenset[str] = frozenset(),
    line_of: Callable[[int], int] = lambda line: line,
) -> list[Finding]:
    """Findings for the settings of one patch of `target` ("Deployment/web"); `line_of` maps the
    patch's own lines to the file's (an inline patch inside a kustomization)."""
    findings: list[Finding] = []
    for setting in settings:
        judged = _judge(setting)
        if judged is None or judged.rule.id in ignored:
            continue
        at = setting.keys.index("securityContext") if "securityContext" in setting.keys else len(setting.keys)
        who = _subject(setting.keys, at)
        subject = f"{who} of {target}"
        message = (
            f"This kustomize patch {judged.does} for {subject}: in every overlay that uses it, {who} "
            f"{judged.effect}, whatever the base chose." + NO_FIX.format(hint=judged.hint)
        )
        container = who.split("'")[1] if who.startswith("container '") else None
        findings.append(
            judged.rule.finding(
                path,
                line_of(setting.line),
                message,
                subject=f"{subject} ({'/'.join(setting.keys)})",
                severity=judged.severity,
                variant=judged.variant,
                workload=target,
                container=container,
            )
        )
    return findings


def judge_document(
    path: str, document: Node, line_of: Callable[[int], int] = lambda line: line, target: str = ""
) -> list[Finding]:
    """A patch document: strategic merge (a mapping) or JSON 6902 (a list of ops)."""
    if is_json6902(document):
        assert isinstance(document, SequenceNode)
        return judge(path, list(json6902_settings(document)), target or "the object it targets", line_of=line_of)
    if not isinstance(document, MappingNode):
        return []
    settings = [s for s in flatten(document, (), first_line(document)) if s.keys[:1] not in _IDENTITY]
    label = object_label(document) if value(document, "kind") is not None else target or "the object it targets"
    return judge(path, settings, label, suppressed_by(document), line_of)
