"""UR211 k8s-read-only-root-filesystem: a container whose root filesystem is writable."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.mounts import ReadOnlyPlan
from rules.kubernetes.nodes import as_bool, as_str, first_line, value
from rules.kubernetes.writable_paths import TMP, known_written_paths
from rules.model import FileKind, FixAvailability, Rule, Severity

RULE = Rule(
    "UR211",
    "k8s-read-only-root-filesystem",
    FileKind.KUBERNETES,
    Severity.NOTICE,
    "The root filesystem is writable",
    "`readOnlyRootFilesystem: true` stops an intruder from changing binaries in the container; "
    "it is hardening beyond the restricted standard.",
    FixAvailability.SOMETIMES,
    "The fix sets readOnlyRootFilesystem only together with an emptyDir mount at /tmp and at the paths a known "
    "image writes; none is offered where the pod's volumes, the container's volumeMounts or its securityContext "
    "are written in flow style (JSON), empty or shared through a YAML alias, or where other fixes of the same "
    "lines come first.",
)

MESSAGE = "{subject} has a writable root filesystem."
UNKNOWN_IMAGE = "the app may write elsewhere; check before merging"


class SummaryOf:
    """The fix's one line: what it sets and mounts, and how sure the paths are."""

    def __init__(self, image: str | None, source: str | None) -> None:
        self.image = image
        self.source = source

    def __call__(self, planned: ReadOnlyPlan) -> str:
        text = "Set readOnlyRootFilesystem: true in the container's securityContext"
        if planned.mounts:
            mounts = ", ".join(f"{path} (volume {name})" for path, name in planned.mounts)
            text += f" and mount an emptyDir at {mounts}"
        if self.source:
            return f"{text}; the paths {self.image} writes: {self.source}"
        return f"{text}; {UNKNOWN_IMAGE}"


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Linux containers only; reported at readOnlyRootFilesystem if written, else at the image."""
    if pod.windows:
        return
    read_only = container.own("readOnlyRootFilesystem")
    if read_only is None and container.merged:
        return  # an operator's container gets the operator's default
    if not read_only or as_bool(read_only[1]) is not True:
        line = first_line(read_only[0]) if read_only else container.anchor
        pod.report_container(RULE, container, line, MESSAGE.format(subject=container.subject), None)
        image = as_str(value(container.container.node, "image"))
        known = known_written_paths(image)
        paths = known.paths if known else (TMP,)
        pod.want_read_only(RULE, container, paths, SummaryOf(image, known.source if known else None))
