"""UR215 k8s-selinux-options: an SELinux type outside the container types, or an SELinux user or role."""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_str, first_line, get, value
from rules.kubernetes.standard import ALLOWED_SELINUX_TYPES
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR215",
    "k8s-selinux-options",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "SELinux options lift the container's confinement",
    "An SELinux type other than container_t, container_init_t, container_kvm_t or container_engine_t, "
    "or any SELinux user or role, replaces the label that confines the container (`spc_t` and "
    "`unconfined_t` are not confined at all); the baseline Pod Security Standard forbids it.",
    FixAvailability.NEVER,
    "A custom SELinux label was asked for by name, usually to reach host files; the container type "
    "denies that access, so removing it breaks the workload.",
)


class Ur215(Variant):
    """Which field of seLinuxOptions a finding is about; the value is the field."""

    TYPE = "type"
    USER = "user"
    ROLE = "role"


MESSAGES = {
    Ur215.TYPE: "{subject} sets SELinux type {value}, outside the confined container types.",
    Ur215.USER: "{subject} sets SELinux user {value}; the baseline standard allows none.",
    Ur215.ROLE: "{subject} sets SELinux role {value}; the baseline standard allows none.",
}


def _check(pod: PodChecker, options: MappingNode | None, subject: str, container: ContainerFacts | None) -> None:
    """One finding per offending field of a seLinuxOptions mapping."""
    if options is None:
        return
    for variant in Ur215:
        pair = get(options, variant.value)
        setting = (as_str(pair[1]) or "") if pair else ""
        allowed = setting in ALLOWED_SELINUX_TYPES if variant is Ur215.TYPE else setting == ""
        if pair is None or allowed:
            continue
        message = MESSAGES[variant].format(subject=subject, value=setting)
        pod.report(RULE, first_line(pair[0]), message, subject, None, variant=variant, container=container)


def _options(context: MappingNode | None) -> MappingNode | None:
    node = value(context, "seLinuxOptions")
    return node if isinstance(node, MappingNode) else None


def check_pod(pod: PodChecker) -> None:
    """The pod's seLinuxOptions."""
    _check(pod, _options(pod.pod_sc), pod.pod_subject, None)


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """A container's own seLinuxOptions."""
    _check(pod, _options(container.sc), container.subject, container)
