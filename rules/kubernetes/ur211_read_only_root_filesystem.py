"""UR211 k8s-read-only-root-filesystem: a container whose root filesystem is writable."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_bool, first_line
from rules.model import FileKind, FixAvailability, Rule, Severity

RULE = Rule(
    "UR211",
    "k8s-read-only-root-filesystem",
    FileKind.KUBERNETES,
    Severity.NOTICE,
    "The root filesystem is writable",
    "`readOnlyRootFilesystem: true` stops an intruder from changing binaries in the container; "
    "it is hardening beyond the restricted standard.",
    FixAvailability.NEVER,
    "Most applications need writable volumes (e.g. /tmp) first; only the author knows which.",
)

MESSAGE = "{subject} has a writable root filesystem."


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
