"""UR204 k8s-privileged: a container with `privileged: true`."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_bool, first_line
from rules.model import FileKind, Rule, Severity

RULE = Rule(
    "UR204",
    "k8s-privileged",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The container is privileged",
    "A privileged container has every capability and all host devices: it is root on the node.",
)

MESSAGE = "{subject} is privileged: it has every capability and the host's devices."


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """The fix sets privileged: false. (At pod level the field is ignored, which is UR210's.)"""
    privileged = container.own("privileged")
    if privileged and as_bool(privileged[1]) is True:
        pod.want(container.change, RULE, "privileged", False)
        pod.report_container(
            RULE, container, first_line(privileged[0]), MESSAGE.format(subject=container.subject), container.change
        )
