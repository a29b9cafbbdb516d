"""UR207 k8s-host-namespaces: a pod that shares the node's PID, IPC or network namespace."""

from __future__ import annotations

from rules.kubernetes.checker import PodChecker
from rules.kubernetes.nodes import as_bool, first_line, get
from rules.kubernetes.powers import SUPPRESS_HINT
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR207",
    "k8s-host-namespaces",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The pod shares the host's PID, IPC or network namespace",
    "hostPID, hostIPC and hostNetwork let the pod see and signal host processes, read host "
    "shared memory, or sniff and bind the node's network: root-equivalent on the node.",
    FixAvailability.NEVER,
    "The workload asked for the node's namespace by name (a node exporter reads the node's processes and "
    "network, a CNI plugin configures it); setting it false changes what it sees, so a fix never removes it.",
)


class Ur207(Variant):
    """Which namespace a UR207 finding is about; the value is the pod spec field."""

    HOST_PID = "hostPID"
    HOST_IPC = "hostIPC"
    HOST_NETWORK = "hostNetwork"


MESSAGES = {
    Ur207.HOST_PID: "{label} sets hostPID: true, sharing the node's process namespace: it sees and can signal "
    "every process on the node.",
    Ur207.HOST_IPC: "{label} sets hostIPC: true, sharing the node's IPC namespace: it reads and writes the "
    "node's shared memory.",
    Ur207.HOST_NETWORK: "{label} sets hostNetwork: true, sharing the node's network namespace: it binds and "
    "sniffs the node's interfaces and reaches services listening on localhost there.",
}
NO_FIX = (
    " No fix offered: a fix never removes a power the workload asked for. If it does not need the node's "
    "namespace, delete `{field}: true` by hand. " + SUPPRESS_HINT
)


def check_pod(pod: PodChecker) -> None:
    """Each of hostPID, hostIPC and hostNetwork set true; no fix (rules/docs/fix-policy.md)."""
    for variant in Ur207:
        pair = get(pod.pod.spec, variant.value)
        if not pair or as_bool(pair[1]) is not True:
            continue
        message = MESSAGES[variant].format(label=pod.label) + NO_FIX.format(field=variant.value, rule=RULE.id)
        pod.report(RULE, first_line(pair[0]), message, pod.label, None, variant=variant)
