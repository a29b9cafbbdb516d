"""The Kubernetes rule family: every rule module run over each pod spec and object of a file, in a fixed order."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from ruamel.yaml.nodes import MappingNode, Node

from rules.kubernetes import (
    patches,
    ur201_may_run_as_root,
    ur202_run_as_user_zero,
    ur203_run_as_non_root_conflict,
    ur204_privileged,
    ur205_allow_privilege_escalation,
    ur206_capabilities,
    ur207_host_namespaces,
    ur208_root_group,
    ur209_seccomp,
    ur210_pod_level_container_fields,
    ur211_read_only_root_filesystem,
    ur212_host_path,
    ur213_host_port,
    ur214_proc_mount,
    ur215_selinux_options,
    ur216_apparmor,
    ur217_sysctls,
    ur218_windows_host_process,
    ur219_pod_security_policy,
    ur220_non_numeric_image_user,
)
from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.discovery import (
    ARGO_WORKFLOW_KINDS,
    SHAPES,
    TEKTON_KINDS,
    foreign_placeholders_removed,
    pod_specs,
)
from rules.kubernetes.nodes import as_str, children, first_line, last_line, shared_nodes, value
from rules.kubernetes.parse import (
    YAML_ONLY_BREAKS,
    ManifestError,
    PodSpec,
    load_documents,
    looks_like_template,
    suppressed_by,
)
from rules.kubernetes.patch import judge_document
from rules.kustomize import is_kustomization
from rules.model import Finding, Options
from rules.ur001_file_skipped import skipped

_NO_FIX_BREAKS = (
    "(No fix offered: the file contains Unicode line separators (U+0085, U+2028 or U+2029), which "
    "YAML counts as line breaks and editors do not; edit it by hand.)"
)
# Kinds whose objects are, or wrap, pod specs; a `kind:` line naming one defines a workload.
_WORKLOAD_KINDS = (
    *("Pod PodTemplate Deployment StatefulSet DaemonSet ReplicaSet ReplicationController Job CronJob".split()),
    *("DeploymentConfig Rollout Template".split()),
    *sorted(ARGO_WORKFLOW_KINDS | TEKTON_KINDS | SHAPES.keys()),
)
_WORKLOAD_KIND = re.compile(
    r"^kind:[ \t]*[\"']?(?:" + "|".join(_WORKLOAD_KINDS) + r")[\"']?[ \t]*(?:#.*)?$",
    re.MULTILINE,
)
# Kinds whose objects hold their pod spec themselves: one written without any container list can
# only be a partial object (a kustomize patch that sets hostNetwork, say), judged on what it sets.
# Bare Pods are left out: overlays do not patch them.
PARTIAL_WORKLOAD_KINDS = frozenset(
    "PodTemplate Deployment StatefulSet DaemonSet ReplicaSet ReplicationController Job CronJob DeploymentConfig".split()
)
_CONTAINER_KEYS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_TEMPLATE = "a template with {{ }} placeholders (Helm or similar); render it and check the output instead"
# Words without which a text holds no pod spec of any kind discovery knows (Tekton's `steps`, an
# ECK podTemplate with only `initContainers` or only a pod securityContext, an Argo `container:`
# or `script:`).
_MAY_HOLD_A_POD = re.compile(r"ontainer|steps|script|podTemplate", re.IGNORECASE)

# What each rule checks of the pod as a whole, then of each container, in this order.
# The order matters twice: findings of one rule on one line keep it (the analyser sorts by
# line and rule ID only), and UR208 reads what UR201-UR203 asked of the pod's securityContext
# for the containers checked so far.
POD_CHECKS: tuple[Callable[[PodChecker], None], ...] = (
    ur207_host_namespaces.check_pod,
    ur202_run_as_user_zero.check_pod,
    ur201_may_run_as_root.check_pod,
    ur209_seccomp.check_pod,
    ur208_root_group.check_pod,
    ur210_pod_level_container_fields.check_pod,
    ur212_host_path.check_pod,
    ur215_selinux_options.check_pod,
    ur216_apparmor.check_pod,
    ur217_sysctls.check_pod,
    ur218_windows_host_process.check_pod,
)
CONTAINER_CHECKS: tuple[Callable[[PodChecker, ContainerFacts], None], ...] = (
    ur202_run_as_user_zero.check_container,
    ur203_run_as_non_root_conflict.check_container,
    ur220_non_numeric_image_user.check_container,
    ur201_may_run_as_root.check_container,
    ur208_root_group.check_container,
    ur204_privileged.check_container,
    ur206_capabilities.check_container,
    ur205_allow_privilege_escalation.check_container,
    ur209_seccomp.check_container,
    ur211_read_only_root_filesystem.check_container,
    ur213_host_port.check_container,
    ur214_proc_mount.check_container,
    ur215_selinux_options.check_container,
    ur216_apparmor.check_container,
    ur218_windows_host_process.check_container,
)
# Rules about a whole object that holds no pod spec, by the kind they read. The kind's name is
# also the cheap test of whether a file can hold one, so most files are not parsed for them.
OBJECT_CHECKS: dict[str, Callable[[str, MappingNode], list[Finding]]] = {
    ur219_pod_security_policy.KIND: ur219_pod_security_policy.check_object,
}


def check(
    path: str, pods: list[PodSpec], lines: tuple[str, ...], options: Options, shared: frozenset[int] = frozenset()
) -> list[Finding]:
    """Findings for every pod spec of a file; `shared` holds the ids of nodes reached through aliases."""
    findings: list[Finding] = []
    for pod in pods:
        checker = PodChecker(pod, path, options, lines, shared)
        for check_pod in POD_CHECKS:
            check_pod(checker)
        for container in checker.containers:
            for check_container in CONTAINER_CHECKS:
                check_container(checker, container)
        findings.extend(checker.findings())
    return findings


def _templated_workload(text: str) -> bool:
    """A Go template that plainly defines a workload, whatever became of its pod spec: it may come
    from an `include` (`template: {{ include "traefik.podTemplate" . | nindent 4 }}`)."""
    return looks_like_template(text) and bool(_WORKLOAD_KIND.search(text))


def _on_openshift(documents: list[MappingNode]) -> bool:
    """The file holds a DeploymentConfig or a Route of OpenShift's API groups."""
    for document in documents:
        api = as_str(value(document, "apiVersion")) or ""
        if as_str(value(document, "kind")) in ("DeploymentConfig", "Route") and ".openshift.io/" in api:
            return True
    return False


def declares_openshift(text: str) -> bool:
    """True for a manifest holding a DeploymentConfig or Route of OpenShift's API groups: the
    repository deploys to OpenShift, whose restricted-v2 SCC assigns each pod its UID."""
    if "openshift.io" not in text or not ("DeploymentConfig" in text or "Route" in text):
        return False  # most files: no parse
    try:
        return _on_openshift(load_documents(text))
    except ManifestError:
        return False


def check_objects(path: str, documents: list[MappingNode]) -> list[Finding]:
    """Findings of the object rules, less those the object's `unroot.dev/ignore` switches off."""
    findings: list[Finding] = []
    for document in documents:
        check_object = OBJECT_CHECKS.get(as_str(value(document, "kind")) or "")
        if check_object is not None:
            ignored = suppressed_by(document)
            findings.extend(f for f in check_object(path, document) if f.rule not in ignored)
    return findings


def _containerless(document: Node, pods_of: list[PodSpec]) -> bool:
    """A workload of a pod kind with a spec and no container list anywhere: a partial object.
    (A malformed list, `containers:` as a mapping, is not a patch: it is left unjudged, as before.)"""
    return (
        not pods_of
        and as_str(value(document, "kind")) in PARTIAL_WORKLOAD_KINDS
        and isinstance(value(document, "spec"), MappingNode)
        and not _has_container_key(document)
    )


def _has_container_key(node: Node) -> bool:
    """Whether any mapping below `node` has a container list's key."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, MappingNode) and any(as_str(key) in _CONTAINER_KEYS for key, _ in current.value):
            return True
        stack.extend(children(current))
    return False


def analyze(path: str, text: str, options: Options) -> list[Finding]:
    """Findings for one manifest's text: its pod specs and objects checked, or one UR001 notice saying why not."""
    if options.knowledge is not None and options.knowledge.is_patch(path):
        return patches.known_patch(path, text)
    if is_kustomization(path):
        return patches.inline_patches(path, text)
    if "apiVersion" not in text:
        return []  # cannot hold a workload; skip the parse
    may_hold_pods = bool(_MAY_HOLD_A_POD.search(text))
    if not (may_hold_pods or any(kind in text for kind in OBJECT_CHECKS) or _WORKLOAD_KIND.search(text)):
        # Cannot hold a workload or an object a rule reads; skip the parse.
        return [skipped(path, _TEMPLATE)] if _templated_workload(text) else []
    try:
        documents = load_documents(text)
        found = [(document, pod_specs(document)) for document in documents]
    except ManifestError as error:
        if not may_hold_pods:
            # No container in it: a broken file is not reported for the object rules or a partial
            # workload alone, but a workload whose pod comes from a template include is a template.
            return [skipped(path, _TEMPLATE)] if _templated_workload(text) else []
        if looks_like_template(text):
            # A chart's Service or ConfigMap mentioning `container` is no workload left unread.
            workload = "containers" in text or _WORKLOAD_KIND.search(text)  # a template already, as just seen
            return [skipped(path, _TEMPLATE)] if workload else []
        return [skipped(path, str(error))]
    # A lone patch (no kustomization here says so): judged as one all the same, on what it sets.
    # A Go template's pod may come from an include: a workload without containers there is a template, not a patch.
    partial = not looks_like_template(text)
    lone = [
        document
        for document, pods_of in found
        if patches.looks_like_patch(pods_of) or (partial and _containerless(document, pods_of))
    ]
    patch_ids = {id(document) for document in lone}
    pods = [pod for document, pods_of in found if id(document) not in patch_ids for pod in pods_of]
    objects = [document for document in documents if as_str(value(document, "kind")) in OBJECT_CHECKS]
    if lone and not pods and not objects:
        return [f for document in lone for f in judge_document(path, document)]
    if not pods and not objects:
        return [skipped(path, _TEMPLATE)] if _templated_workload(text) else []
    lines = tuple(re.split(r"\r\n|\r|\n", text))
    if not options.openshift and "openshift.io" in text and _on_openshift(documents):
        options = replace(options, openshift=True)
    for node in [pod.object_node for pod in pods] + objects:
        kind = as_str(value(node, "kind"))
        body = lines[first_line(node) - 1 : last_line(node)]
        if any("{{" in line and "{{" in foreign_placeholders_removed(kind, line) for line in body):
            # Placeholders inside an object (`name: web-{{uid}}`) mean a template, not a manifest.
            return [skipped(path, _TEMPLATE)]
    # Aliases need an anchor (&) and a reference (*); without both no node is shared.
    shared = shared_nodes(list(documents)) if "&" in text and "*" in text else frozenset()
    findings = check(path, pods, lines, options, shared) + check_objects(path, objects)
    findings += [f for document in lone for f in judge_document(path, document)]
    if any(char in text for char in YAML_ONLY_BREAKS):
        # A node after such a break sits at one column for YAML and another for an editor:
        # an inserted block could land at the wrong depth, so no edit is offered.
        return [replace(f, fix=None, message=f"{f.message} {_NO_FIX_BREAKS}") if f.fix else f for f in findings]
    return findings
