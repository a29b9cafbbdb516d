"""What a workload asks for by name that only root can use, and what a fix must add so a non-root process keeps working.

Kubernetes grants no ambient capabilities: a capability in `add` reaches a non-root
process's bounding and permitted sets at most, never its effective set, and with
`allowPrivilegeEscalation: false` (no_new_privs) a file capability cannot raise it either
(kubernetes/kubernetes#56374, containerd/containerd#2516). So a container that adds
capabilities or is privileged keeps them only while it runs as root, and a non-root
process binds a port below 1024 only through the pod's `net.ipv4.ip_unprivileged_port_start`
sysctl (safe, allowed by the Pod Security Standards since Kubernetes 1.22). See
rules/docs/fix-policy.md.
"""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from rules.kubernetes.nodes import as_bool, as_int, as_str, get, path, strings, value
from rules.kubernetes.standard import RESTRICTED_CAPABILITIES

PORT_SYSCTL = "net.ipv4.ip_unprivileged_port_start"
# Volume sources whose files a non-root process can write only with the pod's fsGroup.
FS_GROUP_VOLUMES = ("persistentVolumeClaim", "emptyDir", "ephemeral")
SUPPRESS_HINT = (
    "If the power is intended (a CNI plugin, a node agent, a service-mesh init container), say so with the "
    'object annotation `unroot.dev/ignore: "{rule}"` and a comment giving the reason.'
)
KEPT_ROOT = (
    " No fix offered: {reason}, so making it non-root would take that power away. Remove the power by hand if "
    "the workload does not need it, then run the fix again. " + SUPPRESS_HINT
)


def kept_root(rule: str, reason: str) -> str:
    """The sentences a finding gets when no fix may make its container non-root."""
    return KEPT_ROOT.format(reason=reason, rule=rule)


def low_ports(container: MappingNode) -> tuple[int, ...]:
    """The containerPorts below 1024 the container declares, sorted."""
    ports = value(container, "ports")
    found: set[int] = set()
    for item in ports.value if isinstance(ports, SequenceNode) else []:
        number = as_int(value(item, "containerPort")) if isinstance(item, MappingNode) else None
        if number is not None and 0 < number < 1024:
            found.add(number)
    return tuple(sorted(found))


def root_powers(sc: Node | None) -> list[str]:
    """The powers a container's securityContext asks for that a non-root process would not hold."""
    powers: list[str] = []
    if as_bool(value(sc, "privileged")) is True:
        powers.append("privileged: true")
    added = [name for name, _ in strings(path(sc, "capabilities", "add")) if name not in RESTRICTED_CAPABILITIES]
    if added:
        powers.append("capabilities " + ", ".join(added))
    return powers


def kept_root_reason(sc: Node | None, ports: tuple[int, ...], host_network: bool) -> str | None:
    """Why no fix may make this (root) container non-root, or None when one may."""
    powers = root_powers(sc)
    if powers:
        return (
            f"it asks for {' and '.join(powers)}, which a non-root process does not hold (Kubernetes grants "
            "no ambient capabilities)"
        )
    if ports and host_network:
        return (
            f"it listens on port {ports[0]} in the node's network namespace (hostNetwork), where the pod may "
            f"not set {PORT_SYSCTL} and a non-root process cannot bind it"
        )
    return None


def sets_port_sysctl(pod_sc: Node | None, port: int) -> bool:
    """The pod's sysctls already let a non-root process bind `port`."""
    sysctls = value(pod_sc, "sysctls")
    for item in sysctls.value if isinstance(sysctls, SequenceNode) else []:
        if isinstance(item, MappingNode) and as_str(value(item, "name")) == PORT_SYSCTL:
            start = as_str(value(item, "value"))
            return start is not None and start.isdigit() and int(start) <= port
    return False


def writable_volumes(spec: MappingNode, object_node: MappingNode) -> list[str]:
    """Names of the pod's volumes whose ownership fsGroup decides, and of its StatefulSet's claim templates."""
    names: list[str] = []
    volumes = value(spec, "volumes")
    for item in volumes.value if isinstance(volumes, SequenceNode) else []:
        if isinstance(item, MappingNode) and any(get(item, source) is not None for source in FS_GROUP_VOLUMES):
            names.append(as_str(value(item, "name")) or "?")
    claims = path(object_node, "spec", "volumeClaimTemplates")
    for item in claims.value if isinstance(claims, SequenceNode) else []:
        names.append(as_str(path(item, "metadata", "name")) or "?")
    return names
