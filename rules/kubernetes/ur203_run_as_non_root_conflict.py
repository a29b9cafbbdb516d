"""UR203 k8s-run-as-non-root-conflict: runAsNonRoot: true and runAsUser: 0 both apply to a container."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import first_line
from rules.model import FileKind, Rule, Severity

RULE = Rule(
    "UR203",
    "k8s-run-as-non-root-conflict",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "runAsNonRoot: true with runAsUser: 0",
    "The kubelet refuses to start a container that must run as non-root but is told to run "
    "as UID 0: the pod stays in CreateContainerConfigError.",
)

MESSAGE = "{subject} has runAsNonRoot: true but runAsUser: 0; the kubelet will refuse to start it."


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Reported at the runAsUser: 0 that applies; the fix changes the UID where it is written."""
    if container.non_root is not True or container.uid != 0:
        return
    own = container.own("runAsUser")
    where = own or pod.pod_setting("runAsUser")
    assert where is not None
    target = container.change if own else pod.pod_change
    pod.want_uid_fixed(target, RULE)
    pod.report_container(RULE, container, first_line(where[0]), MESSAGE.format(subject=container.subject), target)
