"""UR204 k8s-privileged: a container with `privileged: true`."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_bool, first_line
from rules.kubernetes.powers import SUPPRESS_HINT
from rules.model import FileKind, FixAvailability, Rule, Severity

RULE = Rule(
    "UR204",
    "k8s-privileged",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The container is privileged",
    "A privileged container has every capability and all host devices: it is root on the node.",
    FixAvailability.NEVER,
    "The workload asked for privileged mode by name (a CNI plugin, a node agent, a device driver needs it); "
    "setting it false would stop such a workload from working, so a fix never removes it.",
)

MESSAGE = (
    "{subject} is privileged: it has every capability and the host's devices, and may load kernel modules and "
    "mount the node's filesystems. No fix offered: a fix never removes a power the workload asked for. If it "
    "only needs some capabilities, replace `privileged: true` by hand with `capabilities: {{drop: [ALL], add: "
    "[...]}}` naming them. " + SUPPRESS_HINT
)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """No fix: the power stays (rules/docs/fix-policy.md). (At pod level the field is ignored, which is UR210's.)"""
    privileged = container.own("privileged")
    if privileged and as_bool(privileged[1]) is True:
        message = MESSAGE.format(subject=container.subject, rule=RULE.id)
        pod.report_container(RULE, container, first_line(privileged[0]), message, None)
