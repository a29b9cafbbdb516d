"""UR201 k8s-may-run-as-root: nothing makes the container run as a non-root user."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker, labels
from rules.kubernetes.nodes import as_bool, first_line
from rules.kubernetes.powers import kept_root
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR201",
    "k8s-may-run-as-root",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The container may run as root",
    "Without `runAsNonRoot: true` (or a non-zero `runAsUser`) the container runs as its "
    "image's user, which is root for most images; `runAsNonRoot: false` says so outright.",
    FixAvailability.SOMETIMES,
    "An image the repository builds with a named user whose UID no Dockerfile states gets no fix: "
    "runAsNonRoot: true would stop it from starting, and another UID might not read its files. Nor does a "
    "container that is privileged or adds capabilities (a non-root process does not hold them), or one that "
    "binds a port below 1024 on the node's network: a fix never removes a power the workload asked for.",
)


class Ur201(Variant):
    """Which case of UR201 a finding is."""

    POD_ALLOWS_ROOT = "pod-allows-root"  # the pod's runAsNonRoot: false reaches a container that may be root
    POD_FALSE = "pod-false"  # the pod's runAsNonRoot: false, which no container runs as root through (warning)
    CONTAINER_ALLOWS_ROOT = "container-allows-root"  # the container's runAsNonRoot: false, no non-zero UID
    CONTAINER_FALSE = "container-false"  # the container's runAsNonRoot: false with a non-zero UID (warning)
    IMAGE_USER = "image-user"  # nothing set: the container runs as its image's user
    UID_ONLY = "uid-only"  # a non-zero runAsUser without runAsNonRoot: true (warning)
    IMAGE_NON_ROOT = "image-non-root"  # nothing set, but the repository builds the image non-root (warning)
    IMAGE_NAME_ONLY = "image-name-only"  # likewise, as a user name whose UID nobody states (warning, no fix)


MESSAGES = {
    Ur201.POD_ALLOWS_ROOT: (
        "{label} sets runAsNonRoot: false in the pod's securityContext, allowing {names} to run as root."
    ),
    Ur201.POD_FALSE: (
        "{label} sets runAsNonRoot: false in the pod's securityContext; no container runs as root through it, "
        "but the restricted standard requires true."
    ),
    Ur201.CONTAINER_ALLOWS_ROOT: "{subject} sets runAsNonRoot: false and may run as root.",
    Ur201.CONTAINER_FALSE: (
        "{subject} sets runAsNonRoot: false; it runs as UID {uid}, "
        "but the restricted standard requires runAsNonRoot: true."
    ),
    Ur201.IMAGE_USER: (
        "{subject} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser applies, "
        "so it runs as the image's user."
    ),
    Ur201.UID_ONLY: (
        "{subject} runs as UID {uid} but runAsNonRoot is not true; the restricted standard requires runAsNonRoot: true."
    ),
    Ur201.IMAGE_NON_ROOT: (
        "{subject} relies on the image ({image}); set runAsNonRoot: true so Kubernetes enforces it."
    ),
    Ur201.IMAGE_NAME_ONLY: (
        "{subject} relies on the image ({image}), a user name whose UID no Dockerfile states. No fix offered: "
        'runAsNonRoot: true would stop it from starting ("image has non-numeric user"); give the user a '
        "numeric UID in the Dockerfile (USER 10001), then set runAsNonRoot: true."
    ),
}


OPERATOR_CONTAINERS = "the operator's containers"


def _non_zero(uid: int | None) -> bool:
    return uid is not None and uid != 0


def check_pod(pod: PodChecker) -> None:
    """The pod's own `runAsNonRoot: false`."""
    pair = pod.pod_setting("runAsNonRoot")
    if not pair or as_bool(pair[1]) is not False or pod.user_namespaced:
        return
    exposed = [c for c in pod.containers if c.own("runAsNonRoot") is None and not _non_zero(c.uid)]
    line = first_line(pair[0])
    stays_root = pod.kept_root(exposed)
    if stays_root is not None and stays_root.keeps_root is not None:
        message = MESSAGES[Ur201.POD_ALLOWS_ROOT].format(label=pod.label, names=labels(exposed))
        message += kept_root(RULE.id, f"{stays_root.container.label} {stays_root.keeps_root}")
        pod.report_pod(RULE, line, message, None, variant=Ur201.POD_ALLOWS_ROOT)
        return
    pod.want(pod.pod_change, RULE, "runAsNonRoot", True)
    if exposed or pod.pod.patch:  # an operator's patch: the operator's own containers inherit it
        message = MESSAGES[Ur201.POD_ALLOWS_ROOT].format(label=pod.label, names=labels(exposed) or OPERATOR_CONTAINERS)
        pod.report_pod(RULE, line, message, pod.pod_change, variant=Ur201.POD_ALLOWS_ROOT)
    else:
        message = MESSAGES[Ur201.POD_FALSE].format(label=pod.label)
        pod.report_pod(RULE, line, message, pod.pod_change, severity=Severity.WARNING, variant=Ur201.POD_FALSE)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """A container that sets runAsNonRoot: false, or that nothing keeps from running as root.

    A UID of 0 is UR202's: it asks for the pod's runAsNonRoot: true on its own behalf.
    """
    if pod.user_namespaced:
        return  # UID 0 in the container is an unprivileged UID on the node
    own = container.own("runAsNonRoot")
    sets_false = own is not None and as_bool(own[1]) is False
    if container.merged and not sets_false:
        return  # an operator's container: who it runs as is the operator's default unless set here
    if container.keeps_root is not None:
        if sets_false or (container.non_root is not True and container.uid != 0):
            line = first_line(own[0]) if own and sets_false else container.anchor
            variant = Ur201.CONTAINER_ALLOWS_ROOT if sets_false else Ur201.IMAGE_USER
            message = MESSAGES[variant].format(subject=container.subject, uid=container.uid)
            pod.report_container(
                RULE, container, line, message + kept_root(RULE.id, container.keeps_root), None, variant=variant
            )
        return
    if not pod.windows and container.non_root is not True and container.uid is None and not _image_non_root(container):
        _give_a_uid(pod, container)
    if own and sets_false:
        _sets_false(pod, container, first_line(own[0]))
    elif container.non_root is not True and container.uid != 0:
        _not_kept_non_root(pod, container)


def _image_non_root(container: ContainerFacts) -> bool:
    """The repository builds the container's image and its Dockerfile runs it as non-root."""
    return container.image is not None and container.image.non_root


def _give_a_uid(pod: PodChecker, container: ContainerFacts) -> None:
    """So that runAsNonRoot: true does not stop a root image from starting (Windows pods may not
    set one: Kubernetes rejects runAsUser there). On OpenShift the SCC assigns it."""
    if pod.options.openshift:
        return
    target = pod.identity_change(container)
    if target is pod.pod_change and pod.pod_setting("runAsUser") is None:
        pod.want(target, RULE, "runAsUser", pod.options.uid)
        if pod.pod_setting("runAsGroup") is None:
            pod.want(target, RULE, "runAsGroup", pod.options.gid)
    elif target is not pod.pod_change and container.own("runAsUser") is None and pod.pod_setting("runAsUser") is None:
        pod.want(target, RULE, "runAsUser", pod.options.uid)
        if pod.effective(container, "runAsGroup") is None:
            pod.want(target, RULE, "runAsGroup", pod.options.gid)


def _sets_false(pod: PodChecker, container: ContainerFacts, line: int) -> None:
    """The container's own runAsNonRoot: false; a warning when its UID is known not to be 0."""
    pod.want(container.change, RULE, "runAsNonRoot", True)
    if _non_zero(container.uid):
        variant, severity = Ur201.CONTAINER_FALSE, Severity.WARNING
    else:
        variant, severity = Ur201.CONTAINER_ALLOWS_ROOT, Severity.ERROR
    message = MESSAGES[variant].format(subject=container.subject, uid=container.uid)
    pod.report_container(RULE, container, line, message, container.change, severity=severity, variant=variant)


def _not_kept_non_root(pod: PodChecker, container: ContainerFacts) -> None:
    """Neither runAsNonRoot: true nor UID 0 applies; the fix sets runAsNonRoot: true for the whole pod."""
    pod_setting = pod.pod_setting("runAsNonRoot")
    if pod_setting and as_bool(pod_setting[1]) is False:
        return  # reported once for the pod, by check_pod
    image = container.image if container.uid is None and _image_non_root(container) else None
    if image is not None and image.uid is None:
        # Without a UID to pin, runAsNonRoot: true (even through another rule's shared edit) breaks it.
        message = MESSAGES[Ur201.IMAGE_NAME_ONLY].format(subject=container.subject, image=image.described)
        pod.report_container(
            RULE, container, container.anchor, message, None, severity=Severity.WARNING, variant=Ur201.IMAGE_NAME_ONLY
        )
        return
    target = pod.identity_change(container)
    if pod_setting is None or target is not pod.pod_change:
        pod.want(target, RULE, "runAsNonRoot", True)
    if image is not None and image.uid is not None:
        # The image's own UID, pinned on the container: a pod-level runAsUser (another container's
        # fix) would otherwise move it to a UID its files may not belong to.
        pod.want(container.change, RULE, "runAsUser", image.uid)
        message = MESSAGES[Ur201.IMAGE_NON_ROOT].format(subject=container.subject, image=image.described, uid=image.uid)
        pod.report_container(
            RULE,
            container,
            container.anchor,
            message,
            target,
            severity=Severity.WARNING,
            variant=Ur201.IMAGE_NON_ROOT,
        )
        pod.also_fixed_by(RULE, container.subject, container.change)
        return
    if container.uid is None:
        variant, severity = Ur201.IMAGE_USER, Severity.ERROR
    else:
        variant, severity = Ur201.UID_ONLY, Severity.WARNING
    message = MESSAGES[variant].format(subject=container.subject, uid=container.uid)
    pod.report_container(RULE, container, container.anchor, message, target, severity=severity, variant=variant)
