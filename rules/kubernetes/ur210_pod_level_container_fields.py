"""UR210 k8s-pod-level-container-fields: container-only fields written in the pod's securityContext."""

from __future__ import annotations

from rules.kubernetes.checker import PodChecker
from rules.kubernetes.nodes import first_line, is_flow
from rules.kubernetes.standard import CONTAINER_ONLY_FIELDS
from rules.model import FileKind, Rule, Severity

RULE = Rule(
    "UR210",
    "k8s-pod-level-container-fields",
    FileKind.KUBERNETES,
    Severity.WARNING,
    "Container-only fields in the pod's securityContext",
    "allowPrivilegeEscalation, privileged, capabilities and readOnlyRootFilesystem exist only "
    "on containers; in the pod's securityContext Kubernetes drops them, so they protect nothing.",
)

MESSAGE = (
    "{label} sets {field} in the pod's securityContext, where Kubernetes ignores it; "
    "it belongs in each container's securityContext."
)


def check_pod(pod: PodChecker) -> None:
    """Each such field; the fix deletes it (block style only: a flow mapping is left as written)."""
    for name in CONTAINER_ONLY_FIELDS:
        pair = pod.pod_setting(name)
        if not pair:
            continue
        if not is_flow(pod.pod_sc or pod.pod_change.owner):
            pod.want_removed(pod.pod_change, RULE, name)
        message = MESSAGE.format(label=pod.label, field=name)
        pod.report_pod(RULE, first_line(pair[0]), message, pod.pod_change)
