"""UR218 k8s-windows-host-process: a Windows HostProcess container, which runs on the node itself."""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_bool, first_line, get, value
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR218",
    "k8s-windows-host-process",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "A Windows HostProcess container",
    "`windowsOptions.hostProcess: true` runs the container as a process on the Windows node, with "
    "the node's filesystem and network and, as SYSTEM, its administrator rights: root on the node. "
    "The baseline Pod Security Standard forbids it.",
    FixAvailability.NEVER,
    "HostProcess containers are node agents by design; without it the workload cannot do its job.",
)


class Ur218(Variant):
    """Where hostProcess is set."""

    POD = "pod"
    CONTAINER = "container"


MESSAGES = {
    Ur218.POD: "{subject} sets windowsOptions.hostProcess: true: every container runs on the Windows node itself.",
    Ur218.CONTAINER: "{subject} sets windowsOptions.hostProcess: true: it runs on the Windows node itself.",
}


def _host_process(context: MappingNode | None) -> int | None:
    """The line of `hostProcess: true` in a securityContext's windowsOptions, if set so."""
    options = value(context, "windowsOptions")
    pair = get(options, "hostProcess") if isinstance(options, MappingNode) else None
    return first_line(pair[0]) if pair and as_bool(pair[1]) is True else None


def check_pod(pod: PodChecker) -> None:
    """The pod's windowsOptions."""
    line = _host_process(pod.pod_sc)
    if line is not None:
        message = MESSAGES[Ur218.POD].format(subject=pod.pod_subject)
        pod.report(RULE, line, message, pod.pod_subject, None, variant=Ur218.POD)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """A container's own windowsOptions."""
    line = _host_process(container.sc)
    if line is not None:
        message = MESSAGES[Ur218.CONTAINER].format(subject=container.subject)
        pod.report_container(RULE, container, line, message, None, variant=Ur218.CONTAINER)
