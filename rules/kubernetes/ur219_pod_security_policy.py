"""UR219 k8s-pod-security-policy: a PodSecurityPolicy object, which no current cluster reads."""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode

from rules.kubernetes.nodes import as_str, first_line, get, path
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity

RULE = Rule(
    "UR219",
    "k8s-pod-security-policy",
    FileKind.KUBERNETES,
    Severity.WARNING,
    "A PodSecurityPolicy, which Kubernetes 1.25 removed",
    "Kubernetes 1.25 removed the PodSecurityPolicy API: a current cluster refuses or ignores the "
    "object, and it protects nothing. Pod Security Admission replaces it, switched on per namespace "
    "with the label `pod-security.kubernetes.io/enforce: restricted`.",
    FixAvailability.NEVER,
    "Deleting the object breaks pods on a cluster older than 1.25 that still relies on it, and the "
    "namespace label that replaces it belongs to the namespace, which this file may not define.",
)

KIND = "PodSecurityPolicy"
# The API groups that served PodSecurityPolicy before its removal. Any version of `policy` counts:
# `policy/v1` never served it (istio's samples use it), and no cluster enforces that object either.
API_GROUPS = frozenset({"policy", "extensions"})

MESSAGE = (
    "{label} is a PodSecurityPolicy, removed in Kubernetes 1.25: no current cluster enforces it. Label "
    "the namespaces instead: pod-security.kubernetes.io/enforce: restricted (or baseline)."
)


def check_object(file_path: str, document: MappingNode) -> list[Finding]:
    """One finding on the object's `kind:` line when it is a PodSecurityPolicy of the removed API groups."""
    kind = get(document, "kind")
    group = (as_str(path(document, "apiVersion")) or "").partition("/")[0]
    if kind is None or as_str(kind[1]) != KIND or group not in API_GROUPS:
        return []
    name = as_str(path(document, "metadata", "name")) or "<unnamed>"
    label = f"{KIND}/{name}"
    return [RULE.finding(file_path, first_line(kind[0]), MESSAGE.format(label=label), subject=label, workload=label)]
