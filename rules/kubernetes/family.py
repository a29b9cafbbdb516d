"""The Kubernetes rule family: every rule module run over each pod spec of a file, in a fixed order."""

from __future__ import annotations

from collections.abc import Callable

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
from rules.kubernetes.parse import PodSpec
from rules.model import Finding, Options

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
