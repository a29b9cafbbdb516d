"""UR217 k8s-sysctls: the pod sets a sysctl outside the baseline standard's safe list."""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode, SequenceNode

from rules.kubernetes.checker import PodChecker
from rules.kubernetes.nodes import as_str, first_line, get, value
from rules.kubernetes.standard import SAFE_SYSCTLS
from rules.model import FileKind, FixAvailability, Rule, Severity

RULE = Rule(
    "UR217",
    "k8s-sysctls",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The pod sets an unsafe sysctl",
    "A sysctl outside the safe list is not isolated from the rest of the node: it can switch off a "
    "kernel protection or change the kernel for every pod there. The baseline Pod Security Standard "
    "forbids it, and the kubelet refuses it unless started with --allowed-unsafe-sysctls.",
    FixAvailability.NEVER,
    "The workload asked for that kernel setting by name; removing it changes how it runs, and "
    "node-wide tuning belongs in the node's configuration, which the manifest does not hold.",
)

MESSAGE = (
    "{label} sets the sysctl {name}, which is not in the baseline standard's safe list; tune it on the "
    "node instead, or use a safe sysctl."
)


def check_pod(pod: PodChecker) -> None:
    """Each sysctl whose name is not in the safe list, at its `name:` line (names as written, as PSA reads them)."""
    sysctls = value(pod.pod_sc, "sysctls")
    if not isinstance(sysctls, SequenceNode):
        return
    for item in sysctls.value:
        pair = get(item, "name") if isinstance(item, MappingNode) else None
        name = as_str(pair[1]) if pair else None
        if pair is None or name is None or name in SAFE_SYSCTLS:
            continue
        pod.report(RULE, first_line(pair[0]), MESSAGE.format(label=pod.label, name=name), pod.pod_subject, None)
