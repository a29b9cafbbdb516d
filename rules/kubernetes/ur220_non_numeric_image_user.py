"""UR220 k8s-non-numeric-image-user: runAsNonRoot: true over an image whose user is a name, so the kubelet refuses it."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR220",
    "k8s-non-numeric-image-user",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "runAsNonRoot: true over an image whose user is a name",
    "The kubelet can only check a numeric user against runAsNonRoot: a container whose image (built "
    "in this repository) runs as a user name, with no runAsUser set, never starts "
    '("CreateContainerConfigError: container has runAsNonRoot and image has non-numeric user").',
    FixAvailability.SOMETIMES,
    "Only when the user's UID is known (the Dockerfile creates it with an explicit UID, or the name has "
    "the same UID in every image); another UID might not read the image's files.",
)


class Ur220(Variant):
    """Whether the user's UID is known."""

    UID_KNOWN = "uid-known"  # the fix sets the container's runAsUser to it
    UID_UNKNOWN = "uid-unknown"  # no fix: the Dockerfile must give the user a number


MESSAGES = {
    Ur220.UID_KNOWN: (
        "{subject} has runAsNonRoot: true but no runAsUser, and its image runs as user '{user}' "
        '({dockerfile}), a name: the kubelet will refuse to start it ("image has non-numeric user"); '
        "set runAsUser: {uid}, the user's UID."
    ),
    Ur220.UID_UNKNOWN: (
        "{subject} has runAsNonRoot: true but no runAsUser, and its image runs as user '{user}' "
        '({dockerfile}), a name: the kubelet will refuse to start it ("image has non-numeric user"). '
        "No fix offered: no Dockerfile states the user's UID; give it one (useradd -u 10001, USER 10001) "
        "or set runAsUser to it."
    ),
}


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Reported at the container's `image:`, which names the image the kubelet will refuse."""
    image = container.image
    if image is None or pod.windows or container.non_root is not True or container.uid is not None:
        return
    if not image.user or image.numeric or image.uid == 0:
        return  # a number the kubelet checks itself; a root name is the image's own problem (UR101)
    if image.uid is None:
        variant = Ur220.UID_UNKNOWN
    else:
        variant = Ur220.UID_KNOWN
        pod.want(container.change, RULE, "runAsUser", image.uid)
    message = MESSAGES[variant].format(
        subject=container.subject, user=image.user, dockerfile=image.dockerfile, uid=image.uid
    )
    fixed_by = container.change if variant is Ur220.UID_KNOWN else None
    pod.report_container(RULE, container, container.anchor, message, fixed_by, variant=variant)
