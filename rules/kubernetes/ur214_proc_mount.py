"""UR214 k8s-proc-mount: a container asks for an unmasked /proc (`procMount` other than Default)."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_str, first_line
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR214",
    "k8s-proc-mount",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "The container's /proc is unmasked",
    "`procMount: Unmasked` removes the masks over /proc that hide the node's kernel settings and "
    "interfaces from the container; a root process then reaches them. The baseline standard forbids "
    "it, except in a user namespace (`hostUsers: false`), where the restricted one still does.",
    FixAvailability.NEVER,
    "Only nested container runtimes ask for an unmasked /proc, and they need it to start their "
    "containers; setting Default breaks them.",
)


class Ur214(Variant):
    """Which case of UR214 a finding is."""

    HOST_USERS = "host-users"  # procMount other than Default in a pod sharing the node's users (error)
    USER_NAMESPACE = "user-namespace"  # the same with hostUsers: false (warning: restricted only)


MESSAGES = {
    Ur214.HOST_USERS: "{subject} sets procMount: {value}, unmasking the node's /proc for a pod that shares the node's users.",
    Ur214.USER_NAMESPACE: (
        "{subject} sets procMount: {value}; its pod runs in a user namespace (hostUsers: false), which the "
        "baseline standard accepts, but the restricted one requires Default."
    ),
}


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Any procMount other than Default, as Pod Security Admission judges it."""
    pair = container.own("procMount")
    setting = as_str(pair[1]) if pair else None
    if pair is None or setting is None or setting == "Default":
        return
    variant = Ur214.USER_NAMESPACE if pod.user_namespaced else Ur214.HOST_USERS
    severity = Severity.WARNING if pod.user_namespaced else Severity.ERROR
    message = MESSAGES[variant].format(subject=container.subject, value=setting)
    pod.report_container(RULE, container, first_line(pair[0]), message, None, severity=severity, variant=variant)
