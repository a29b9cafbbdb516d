"""UR208 k8s-root-group: the process keeps group 0, by runAsGroup/fsGroup 0 or a runAsUser without a group."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_int, first_line
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR208",
    "k8s-root-group",
    FileKind.KUBERNETES,
    Severity.NOTICE,
    "The process keeps group 0 (root)",
    "`runAsGroup: 0` / `fsGroup: 0`, or a runAsUser without runAsGroup (the primary group "
    "then stays 0), give the process root's group and the files that group can write.",
    FixAvailability.NEVER,
    "Which group the process needs is the author's choice; nothing is insecure enough to guess.",
)


class Ur208(Variant):
    """Which case of UR208 a finding is."""

    POD_RUN_AS_GROUP = "pod-runAsGroup"  # the pod's runAsGroup: 0
    POD_FS_GROUP = "pod-fsGroup"  # the pod's fsGroup: 0
    CONTAINER_GROUP = "container-group"  # a container's runAsGroup: 0
    UID_WITHOUT_GROUP = "uid-without-group"  # a non-zero runAsUser and no runAsGroup anywhere


POD_VARIANTS = {"runAsGroup": Ur208.POD_RUN_AS_GROUP, "fsGroup": Ur208.POD_FS_GROUP}
MESSAGES = {
    Ur208.POD_RUN_AS_GROUP: (
        "{label} sets runAsGroup: 0 in the pod's securityContext, giving its processes root's group."
    ),
    Ur208.POD_FS_GROUP: "{label} sets fsGroup: 0 in the pod's securityContext, giving its processes root's group.",
    Ur208.CONTAINER_GROUP: "{subject} sets runAsGroup: 0, giving its process root's group.",
    Ur208.UID_WITHOUT_GROUP: "{subject} sets runAsUser {uid} without runAsGroup, so its primary group may stay 0.",
}


def check_pod(pod: PodChecker) -> None:
    """The pod's runAsGroup: 0 and fsGroup: 0."""
    for name, variant in POD_VARIANTS.items():
        pair = pod.pod_setting(name)
        if pair and as_int(pair[1]) == 0:
            message = MESSAGES[variant].format(label=pod.label)
            pod.report_pod(RULE, first_line(pair[0]), message, None, variant=variant)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """A container's runAsGroup: 0, or its non-zero UID with no group at all.

    Runs after UR201-UR203 for the same container (see family.py): while the pod's fix is
    to write a runAsUser, which comes with a runAsGroup, a missing group is not reported.
    """
    group = pod.effective(container, "runAsGroup")
    own = container.own("runAsGroup")
    if own and as_int(group) == 0:
        message = MESSAGES[Ur208.CONTAINER_GROUP].format(subject=container.subject)
        pod.report_container(RULE, container, first_line(own[0]), message, None, variant=Ur208.CONTAINER_GROUP)
    elif (
        container.uid is not None
        and container.uid != 0
        and group is None
        and "runAsUser" not in pod.pod_change.scalars
        and not container.merged  # an operator's container: its group is the operator's default
    ):
        message = MESSAGES[Ur208.UID_WITHOUT_GROUP].format(subject=container.subject, uid=container.uid)
        pod.report_container(RULE, container, container.anchor, message, None, variant=Ur208.UID_WITHOUT_GROUP)
