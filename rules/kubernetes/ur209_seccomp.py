"""UR209 k8s-seccomp: no seccomp profile applies to a container, or Unconfined does."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_str, first_line, is_null, path, value
from rules.kubernetes.standard import GOOD_SECCOMP
from rules.model import FileKind, Rule, Severity, Variant

RULE = Rule(
    "UR209",
    "k8s-seccomp",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "No seccomp profile, or Unconfined",
    "Without a seccomp profile every system call is open to the container; `Unconfined` is "
    "a baseline violation, a missing profile a restricted one. Use RuntimeDefault.",
)


class Ur209(Variant):
    """Which case of UR209 a finding is."""

    POD_UNCONFINED = "pod-unconfined"  # the pod's seccompProfile Unconfined
    CONTAINER_UNCONFINED = "container-unconfined"  # a container's seccompProfile Unconfined
    MISSING = "missing"  # no accepted profile applies (warning)


MESSAGES = {
    Ur209.POD_UNCONFINED: "{label} sets seccompProfile Unconfined for the whole pod.",
    Ur209.CONTAINER_UNCONFINED: "{subject} sets seccompProfile Unconfined.",
    Ur209.MISSING: "{subject} has no seccomp profile; set RuntimeDefault.",
}


def check_pod(pod: PodChecker) -> None:
    """The pod's seccompProfile Unconfined; the fix makes it RuntimeDefault."""
    pair = pod.pod_setting("seccompProfile")
    if pair and as_str(path(pod.pod_sc, "seccompProfile", "type")) == "Unconfined":
        pod.want_seccomp(pod.pod_change, RULE)
        message = MESSAGES[Ur209.POD_UNCONFINED].format(label=pod.label)
        pod.report_pod(RULE, first_line(pair[0]), message, pod.pod_change, variant=Ur209.POD_UNCONFINED)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Linux containers only; a missing profile is fixed where the container's would be read from."""
    if pod.windows:
        return
    own_type = as_str(path(container.sc, "seccompProfile", "type"))
    pod_type = as_str(path(pod.pod_sc, "seccompProfile", "type"))
    # `seccompProfile: null` is unset, as Kubernetes reads it: the pod's profile applies.
    sets_own = not is_null(value(container.sc, "seccompProfile"))
    effective_type = own_type if sets_own else pod_type
    if own_type == "Unconfined":
        pod.want_seccomp(container.change, RULE)
        own = container.own("seccompProfile")
        assert own is not None
        message = MESSAGES[Ur209.CONTAINER_UNCONFINED].format(subject=container.subject)
        pod.report_container(
            RULE, container, first_line(own[0]), message, container.change, variant=Ur209.CONTAINER_UNCONFINED
        )
    elif (
        effective_type not in GOOD_SECCOMP
        and pod_type != "Unconfined"  # a pod's Unconfined is reported once, for the pod
        and not (container.merged and effective_type is None)  # an operator's container gets its default
    ):
        target = container.change if sets_own else pod.pod_change
        pod.want_seccomp(target, RULE)
        message = MESSAGES[Ur209.MISSING].format(subject=container.subject)
        pod.report_container(
            RULE, container, container.anchor, message, target, severity=Severity.WARNING, variant=Ur209.MISSING
        )
