"""UR216 k8s-apparmor: AppArmor switched off, by the appArmorProfile field or the beta annotation."""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode, ScalarNode

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_str, first_line, get, is_null, path
from rules.kubernetes.standard import APPARMOR_ANNOTATION_PREFIX, GOOD_APPARMOR
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR216",
    "k8s-apparmor",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "AppArmor is switched off (Unconfined)",
    "An `Unconfined` AppArmor profile removes the runtime's default profile, which keeps a root "
    "process in the container from mounting filesystems, writing to /proc and /sys and other ways "
    "onto the node; the baseline Pod Security Standard forbids it.",
    FixAvailability.NEVER,
    "RuntimeDefault denies what the workload switched AppArmor off for (mounts, ptrace, raw /proc "
    "access); whether it still runs can only be tried, not known from the manifest.",
)


class Ur216(Variant):
    """Where the unconfined profile is asked for."""

    POD_FIELD = "pod-field"  # spec.securityContext.appArmorProfile
    CONTAINER_FIELD = "container-field"  # a container's securityContext.appArmorProfile
    ANNOTATION = "annotation"  # container.apparmor.security.beta.kubernetes.io/<container>


MESSAGES = {
    Ur216.POD_FIELD: "{subject} sets AppArmor profile type {value} for the whole pod; use RuntimeDefault or Localhost.",
    Ur216.CONTAINER_FIELD: "{subject} sets AppArmor profile type {value}; use RuntimeDefault or Localhost.",
    Ur216.ANNOTATION: (
        "{subject} has the annotation {key}: {value}, switching AppArmor off; use runtime/default or "
        "localhost/<profile> (or the appArmorProfile field)."
    ),
}


def _field(pod: PodChecker, context: MappingNode | None, subject: str, container: ContainerFacts | None) -> None:
    pair = get(context, "appArmorProfile")
    if pair is None or is_null(pair[1]):
        return
    profile = as_str(path(pair[1], "type")) or ""
    if profile in GOOD_APPARMOR:
        return
    variant = Ur216.CONTAINER_FIELD if container else Ur216.POD_FIELD
    message = MESSAGES[variant].format(subject=subject, value=profile or "(none)")
    pod.report(RULE, first_line(pair[0]), message, subject, None, variant=variant, container=container)


def _allowed_annotation(profile: str) -> bool:
    return profile in ("", "runtime/default") or profile.startswith("localhost/")


def check_pod(pod: PodChecker) -> None:
    """The pod's appArmorProfile, and the pod metadata's AppArmor annotations (any container name,
    as Pod Security Admission reads them)."""
    _field(pod, pod.pod_sc, pod.pod_subject, None)
    holder = pod.pod.template_node if pod.pod.template_node is not None else pod.pod.object_node
    annotations = path(holder, "metadata", "annotations")
    if not isinstance(annotations, MappingNode):
        return
    for key, setting in annotations.value:
        if not isinstance(key, ScalarNode) or not str(key.value).startswith(APPARMOR_ANNOTATION_PREFIX):
            continue
        profile = as_str(setting) or ""
        if _allowed_annotation(profile):
            continue
        name = str(key.value).removeprefix(APPARMOR_ANNOTATION_PREFIX)
        named = [c.subject for c in pod.containers if c.container.name == name]
        subject = named[0] if named else f"container '{name}' in {pod.label}"
        message = MESSAGES[Ur216.ANNOTATION].format(subject=subject, key=key.value, value=profile)
        pod.report(RULE, first_line(key), message, subject, None, variant=Ur216.ANNOTATION)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """A container's own appArmorProfile."""
    _field(pod, container.sc, container.subject, container)
