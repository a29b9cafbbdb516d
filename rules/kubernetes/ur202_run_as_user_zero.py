"""UR202 k8s-run-as-user-zero: `runAsUser: 0`, in the pod's securityContext or a container's."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker, labels
from rules.kubernetes.nodes import as_bool, as_int, first_line, value
from rules.kubernetes.powers import kept_root
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR202",
    "k8s-run-as-user-zero",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "runAsUser is 0 (root)",
    "`runAsUser: 0` runs the container as root whatever the image says. At pod level Pod "
    "Security Admission forbids it even when every container overrides it.",
    FixAvailability.SOMETIMES,
    "A container that is privileged or adds capabilities keeps root: a non-root process does not hold "
    "them, and a fix never removes a power the workload asked for.",
)


class Ur202(Variant):
    """Which case of UR202 a finding is."""

    POD = "pod"  # the pod's runAsUser: 0, inherited by some container
    POD_OVERRIDDEN = "pod-overridden"  # the pod's runAsUser: 0, which every container overrides (warning)
    CONTAINER = "container"  # a container's own runAsUser: 0


MESSAGES = {
    Ur202.POD: "{label} sets runAsUser: 0 in the pod's securityContext, so {names} run as root.",
    Ur202.POD_OVERRIDDEN: (
        "{label} sets runAsUser: 0 in the pod's securityContext; every container overrides it, "
        "but the restricted standard forbids it."
    ),
    Ur202.CONTAINER: "{subject} sets runAsUser: 0 and runs as root.",
}
OPERATOR_CONTAINERS = "the operator's containers"


def check_pod(pod: PodChecker) -> None:
    """The pod's `runAsUser: 0`; the fix gives the pod the configured UID (and GID, if it has none)."""
    pair = pod.pod_setting("runAsUser")
    if not pair or as_int(pair[1]) != 0 or pod.user_namespaced:
        return
    inheriting = [c for c in pod.containers if c.own("runAsUser") is None]
    stays_root = pod.kept_root(inheriting)
    if stays_root is not None and stays_root.keeps_root is not None:
        message = MESSAGES[Ur202.POD].format(label=pod.label, names=labels(inheriting))
        message += kept_root(RULE.id, f"{stays_root.container.label} {stays_root.keeps_root}")
        pod.report_pod(RULE, first_line(pair[0]), message, None, variant=Ur202.POD)
        return
    pod.want_uid_fixed(pod.pod_change, RULE)
    if pod.pod_setting("runAsGroup") is None and not pod.options.openshift:
        pod.want(pod.pod_change, RULE, "runAsGroup", pod.options.gid)
    line = first_line(pair[0])
    if inheriting or pod.pod.patch:  # an operator's patch: the operator's own containers inherit it
        message = MESSAGES[Ur202.POD].format(label=pod.label, names=labels(inheriting) or OPERATOR_CONTAINERS)
        pod.report_pod(RULE, line, message, pod.pod_change, variant=Ur202.POD)
    else:
        # Every container overrides it, so nothing runs as root; the restricted standard still forbids it.
        message = MESSAGES[Ur202.POD_OVERRIDDEN].format(label=pod.label)
        pod.report_pod(RULE, line, message, pod.pod_change, severity=Severity.WARNING, variant=Ur202.POD_OVERRIDDEN)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """A container's own `runAsUser: 0`, and the pod-level runAsNonRoot: true that completes its fix."""
    if pod.user_namespaced:
        return  # UID 0 in the container is an unprivileged UID on the node
    own = container.own("runAsUser")
    if container.keeps_root is not None:
        if own and as_int(own[1]) == 0:
            message = MESSAGES[Ur202.CONTAINER].format(subject=container.subject)
            message += kept_root(RULE.id, container.keeps_root)
            pod.report_container(RULE, container, first_line(own[0]), message, None, variant=Ur202.CONTAINER)
        return
    if own and as_int(own[1]) == 0:
        pod.want_uid_fixed(container.change, RULE)
        if pod.effective(container, "runAsGroup") is None and not pod.options.openshift:
            pod.want(container.change, RULE, "runAsGroup", pod.options.gid)
        message = MESSAGES[Ur202.CONTAINER].format(subject=container.subject)
        pod.report_container(RULE, container, first_line(own[0]), message, container.change, variant=Ur202.CONTAINER)
    sets_non_root_false = as_bool(value(container.sc, "runAsNonRoot")) is False  # UR201's to fix
    if container.uid == 0 and container.non_root is not True and not sets_non_root_false:
        # Also make runAsNonRoot true, at pod level for every container at once, so that one
        # run of the fixes is enough.
        target = pod.identity_change(container)
        if pod.pod_setting("runAsNonRoot") is None or target is not pod.pod_change:
            pod.want(target, RULE, "runAsNonRoot", True)
        pod.also_fixed_by(RULE, container.subject, target)
