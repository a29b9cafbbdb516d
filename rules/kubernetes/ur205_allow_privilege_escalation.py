"""UR205 k8s-allow-privilege-escalation: a container without `allowPrivilegeEscalation: false`."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_bool, first_line
from rules.model import FileKind, Rule, Severity, Variant

RULE = Rule(
    "UR205",
    "k8s-allow-privilege-escalation",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "allowPrivilegeEscalation is not false",
    "Unless `allowPrivilegeEscalation: false` is set, setuid binaries and file capabilities "
    "let a process gain more privileges than its parent (no_new_privs is off).",
)


class Ur205(Variant):
    """Which case of UR205 a finding is."""

    SET_TRUE = "set-true"  # allowPrivilegeEscalation: true
    NOT_FALSE = "not-false"  # unset, or not a boolean (warning)


MESSAGES = {
    Ur205.SET_TRUE: "{subject} sets allowPrivilegeEscalation: true.",
    Ur205.NOT_FALSE: "{subject} does not set allowPrivilegeEscalation: false.",
}


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Linux containers only, as in the Pod Security Standards; the fix sets it false. An operator's
    merged container that leaves it out gets the operator's default."""
    if pod.windows:
        return
    escalation = container.own("allowPrivilegeEscalation")
    if escalation and as_bool(escalation[1]) is True:
        pod.want(container.change, RULE, "allowPrivilegeEscalation", False)
        message = MESSAGES[Ur205.SET_TRUE].format(subject=container.subject)
        pod.report_container(
            RULE, container, first_line(escalation[0]), message, container.change, variant=Ur205.SET_TRUE
        )
    elif (escalation is None and not container.merged) or (escalation and as_bool(escalation[1]) is not False):
        pod.want(container.change, RULE, "allowPrivilegeEscalation", False)
        message = MESSAGES[Ur205.NOT_FALSE].format(subject=container.subject)
        pod.report_container(
            RULE,
            container,
            container.anchor,
            message,
            container.change,
            severity=Severity.WARNING,
            variant=Ur205.NOT_FALSE,
        )
