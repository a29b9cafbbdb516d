"""UR213 k8s-host-port: a container port bound on the node with `hostPort`."""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode, SequenceNode

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_int, first_line, get, value
from rules.model import FileKind, FixAvailability, Rule, Severity

RULE = Rule(
    "UR213",
    "k8s-host-port",
    FileKind.KUBERNETES,
    Severity.WARNING,
    "A container port is bound on the node (hostPort)",
    "A hostPort opens the port on the node's own address, around the cluster's network policies, "
    "and the baseline Pod Security Standard forbids it; it gives no power over the node itself.",
    FixAvailability.NEVER,
    "Removing hostPort changes how clients reach the workload; the Service that replaces it must be "
    "written by someone who knows them.",
)

MESSAGE = (
    "{subject} binds hostPort {port} on the node; reach it through a Service (ClusterIP, NodePort or "
    "LoadBalancer) or an Ingress instead."
)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Each port with a non-zero hostPort, at that line (0 and unset mean no host port)."""
    ports = value(container.container.node, "ports")
    if not isinstance(ports, SequenceNode):
        return
    for port in ports.value:
        pair = get(port, "hostPort") if isinstance(port, MappingNode) else None
        number = as_int(pair[1]) if pair else None
        if pair is None or not number:
            continue
        message = MESSAGE.format(subject=container.subject, port=number)
        pod.report_container(RULE, container, first_line(pair[0]), message, None)
