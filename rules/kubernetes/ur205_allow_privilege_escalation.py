"""UR205 k8s-allow-privilege-escalation: a container without `allowPrivilegeEscalation: false`."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import as_bool, first_line, path, strings, value
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR205",
    "k8s-allow-privilege-escalation",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "allowPrivilegeEscalation is not false",
    "Unless `allowPrivilegeEscalation: false` is set, setuid binaries and file capabilities "
    "let a process gain more privileges than its parent (no_new_privs is off).",
    FixAvailability.SOMETIMES,
    "A privileged container (or one adding CAP_SYS_ADMIN) gets no fix: the API server rejects "
    "allowPrivilegeEscalation: false beside it (ValidateSecurityContext in kubernetes "
    "pkg/apis/core/validation/validation.go), and a fix never removes the power itself.",
)
# The API server's ValidateSecurityContext refuses allowPrivilegeEscalation: false beside these
# (kubernetes pkg/apis/core/validation/validation.go; it compares the capability as written).
CONTRADICTS = (
    " No fix offered: the API server rejects allowPrivilegeEscalation: false beside {power} "
    '("cannot set `allowPrivilegeEscalation` to false and ..."), and a fix never removes that power.'
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
    power = contradicted_by(container)
    fixed_by = None if power else container.change
    suffix = CONTRADICTS.format(power=power) if power else ""
    if escalation and as_bool(escalation[1]) is True:
        if not power:
            pod.want(container.change, RULE, "allowPrivilegeEscalation", False)
        message = MESSAGES[Ur205.SET_TRUE].format(subject=container.subject) + suffix
        pod.report_container(RULE, container, first_line(escalation[0]), message, fixed_by, variant=Ur205.SET_TRUE)
    elif (escalation is None and not container.merged) or (escalation and as_bool(escalation[1]) is not False):
        if not power:
            pod.want(container.change, RULE, "allowPrivilegeEscalation", False)
        message = MESSAGES[Ur205.NOT_FALSE].format(subject=container.subject) + suffix
        pod.report_container(
            RULE,
            container,
            container.anchor,
            message,
            fixed_by,
            severity=Severity.WARNING,
            variant=Ur205.NOT_FALSE,
        )


def contradicted_by(container: ContainerFacts) -> str | None:
    """What the container asks for that the API server will not accept allowPrivilegeEscalation: false beside."""
    if as_bool(value(container.sc, "privileged")) is True:
        return "privileged: true"
    if any(name == "CAP_SYS_ADMIN" for name, _ in strings(path(container.sc, "capabilities", "add"))):
        return "capabilities.add CAP_SYS_ADMIN"
    return None
