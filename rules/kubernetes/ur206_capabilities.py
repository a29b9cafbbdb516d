"""UR206 k8s-capabilities: a container that adds capabilities beyond the standard, or does not drop ALL."""

from __future__ import annotations

from rules.kubernetes.checker import ContainerFacts, PodChecker
from rules.kubernetes.nodes import first_line, strings, value
from rules.kubernetes.powers import SUPPRESS_HINT
from rules.kubernetes.standard import BASELINE_CAPABILITIES, RESTRICTED_CAPABILITIES
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR206",
    "k8s-capabilities",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "Capabilities are not dropped, or dangerous ones are added",
    "The restricted standard requires `drop: [ALL]` and allows adding only NET_BIND_SERVICE; "
    "adding anything outside the baseline set (SYS_ADMIN, NET_RAW, ...) is root-equivalent.",
    FixAvailability.SOMETIMES,
    "Only `drop: [ALL]` is fixed; capabilities the workload adds by name stay (a fix never removes a "
    "power the workload asked for), so those findings carry a reason instead of a fix.",
)
KEPT = (
    " No fix offered: a fix never removes a capability the workload asked for. If it does not need them, "
    "delete them from `add` by hand. " + SUPPRESS_HINT
)


class Ur206(Variant):
    """Which case of UR206 a finding is."""

    ADDS_DANGEROUS = "adds-dangerous"  # adds capabilities outside the baseline set
    ADDS_BASELINE = "adds-baseline"  # adds baseline capabilities beyond NET_BIND_SERVICE (warning)
    DROP_MISSING_ALL = "drop-missing-all"  # `drop` lacks exactly 'ALL' (warning)


MESSAGES = {
    Ur206.ADDS_DANGEROUS: "{subject} adds capabilities {names}, outside the baseline set: root-equivalent power.",
    Ur206.ADDS_BASELINE: "{subject} adds capabilities {names}; the restricted standard allows only NET_BIND_SERVICE.",
    Ur206.DROP_MISSING_ALL: "{subject} does not drop ALL capabilities{detail}.",
}
LOWERCASE_ALL = " ('all' must be written 'ALL')"


def check_container(pod: PodChecker, container: ContainerFacts) -> None:
    """Reported at the container's `capabilities:` (else its image); the fix drops ALL and keeps what `add` lists.
    An operator's merged container that writes no `drop` gets the operator's default."""
    caps = value(container.sc, "capabilities")
    caps_pair = container.own("capabilities")
    line = first_line(caps_pair[0]) if caps_pair else container.anchor
    added = strings(value(caps, "add"))
    dangerous = [name for name, _ in added if name not in BASELINE_CAPABILITIES]
    extra = [name for name, _ in added if name in BASELINE_CAPABILITIES and name not in RESTRICTED_CAPABILITIES]
    kept = KEPT.format(rule=RULE.id)
    if dangerous:
        message = MESSAGES[Ur206.ADDS_DANGEROUS].format(subject=container.subject, names=", ".join(dangerous))
        pod.report_container(RULE, container, line, message + kept, None, variant=Ur206.ADDS_DANGEROUS)
    if pod.windows:
        return  # the restricted controls are Linux-only, as in the Pod Security Standards
    if extra and not dangerous:
        message = MESSAGES[Ur206.ADDS_BASELINE].format(subject=container.subject, names=", ".join(extra))
        pod.report_container(
            RULE, container, line, message + kept, None, severity=Severity.WARNING, variant=Ur206.ADDS_BASELINE
        )
    dropped = [name for name, _ in strings(value(caps, "drop"))]
    if "ALL" not in dropped and not (container.merged and value(caps, "drop") is None):
        pod.want_capabilities(container.change, RULE)
        detail = LOWERCASE_ALL if any(d.upper() == "ALL" for d in dropped) else ""
        message = MESSAGES[Ur206.DROP_MISSING_ALL].format(subject=container.subject, detail=detail)
        pod.report_container(
            RULE, container, line, message, container.change, severity=Severity.WARNING, variant=Ur206.DROP_MISSING_ALL
        )
