"""UR207 k8s-host-namespaces: a pod that shares the node's PID, IPC or network namespace."""

from __future__ import annotations

from rules.kubernetes.checker import PodChecker
from rules.kubernetes.nodes import Rewriter, as_bool, first_line, get
from rules.model import FileKind, Fix, Rule, Severity, Variant

RULE = Rule(
    "UR207",
    "k8s-host-namespaces",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The pod shares the host's PID, IPC or network namespace",
    "hostPID, hostIPC and hostNetwork let the pod see and signal host processes, read host "
    "shared memory, or sniff and bind the node's network: root-equivalent on the node.",
)


class Ur207(Variant):
    """Which namespace a UR207 finding is about; the value is the pod spec field."""

    HOST_PID = "hostPID"
    HOST_IPC = "hostIPC"
    HOST_NETWORK = "hostNetwork"


MESSAGES = {
    Ur207.HOST_PID: "{label} sets hostPID: true, sharing the node's process namespace.",
    Ur207.HOST_IPC: "{label} sets hostIPC: true, sharing the node's IPC namespace.",
    Ur207.HOST_NETWORK: "{label} sets hostNetwork: true, sharing the node's network namespace.",
}
FIX_SUMMARY = "Set {field}: false"


def check_pod(pod: PodChecker) -> None:
    """Each of hostPID, hostIPC and hostNetwork set true; its fix sets it false in place."""
    for variant in Ur207:
        pair = get(pod.pod.spec, variant.value)
        if not pair or as_bool(pair[1]) is not True:
            continue
        rewriter = Rewriter(pod.lines)
        rewriter.replace_span(pair[1], "false")
        edit = rewriter.edit()
        fix = Fix(FIX_SUMMARY.format(field=variant.value), (edit,)) if edit else None
        message = MESSAGES[variant].format(label=pod.label)
        pod.report(RULE, first_line(pair[0]), message, pod.label, None, variant=variant, fix=fix)
