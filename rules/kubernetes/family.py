"""The Kubernetes rule family: every rule module run over each pod spec of a file, in a fixed order."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from rules.kubernetes import (
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
)
from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.discovery import foreign_placeholders_removed, pod_specs
from rules.kubernetes.nodes import as_str, first_line, last_line, shared_nodes, value
from rules.kubernetes.parse import (
    YAML_ONLY_BREAKS,
    ManifestError,
    PodSpec,
    load_documents,
    looks_like_template,
)
from rules.model import Finding, Options
from rules.ur001_file_skipped import skipped

_NO_FIX_BREAKS = (
    "(No fix offered: the file contains Unicode line separators (U+0085, U+2028 or U+2029), which "
    "YAML counts as line breaks and editors do not; edit it by hand.)"
)
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
)
CONTAINER_CHECKS: tuple[Callable[[PodChecker, ContainerFacts], None], ...] = (
    ur202_run_as_user_zero.check_container,
    ur203_run_as_non_root_conflict.check_container,
    ur201_may_run_as_root.check_container,
    ur208_root_group.check_container,
    ur204_privileged.check_container,
    ur206_capabilities.check_container,
    ur205_allow_privilege_escalation.check_container,
    ur209_seccomp.check_container,
    ur211_read_only_root_filesystem.check_container,
)


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


def analyze(path: str, text: str, options: Options) -> list[Finding]:
    """Findings for one manifest's text: its pod specs checked, or one UR001 notice saying why not."""
    if "apiVersion" not in text or not _MAY_HOLD_A_POD.search(text):
        return []  # cannot hold a workload; skip the parse
    try:
        documents = load_documents(text)
        pods = [pod for document in documents for pod in pod_specs(document)]
    except ManifestError as error:
        if looks_like_template(text):
            return [skipped(path, _TEMPLATE)]
        return [skipped(path, str(error))]
    if not pods:
        return []
    lines = tuple(re.split(r"\r\n|\r|\n", text))
    for pod in pods:
        node = pod.object_node
        kind = as_str(value(node, "kind"))
        body = lines[first_line(node) - 1 : last_line(node)]
        if any("{{" in line and "{{" in foreign_placeholders_removed(kind, line) for line in body):
            # Placeholders inside a workload (`name: web-{{uid}}`) mean a template, not a manifest.
            return [skipped(path, _TEMPLATE)]
    # Aliases need an anchor (&) and a reference (*); without both no node is shared.
    shared = shared_nodes(list(documents)) if "&" in text and "*" in text else frozenset()
    findings = check(path, pods, lines, options, shared)
    if any(char in text for char in YAML_ONLY_BREAKS):
        # A node after such a break sits at one column for YAML and another for an editor:
        # an inserted block could land at the wrong depth, so no edit is offered.
        return [replace(f, fix=None, message=f"{f.message} {_NO_FIX_BREAKS}") if f.fix else f for f in findings]
    return findings
