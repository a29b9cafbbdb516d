"""UR302 compose-privileged: a service with `privileged: true`."""

from __future__ import annotations

from rules.compose.checker import FileContext, inherited_from, is_true
from rules.compose.parse import Service
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity

RULE = Rule(
    "UR302",
    "compose-privileged",
    FileKind.COMPOSE,
    Severity.ERROR,
    "The service is privileged",
    "A privileged container has every capability and all host devices, without seccomp or AppArmor "
    "confinement: it is root on the host.",
    FixAvailability.NEVER,
    "The service asked for every power by name; taking it away would stop it working. Grant the "
    "capability or device it needs (cap_add, devices) instead, by hand.",
)

MESSAGE = (
    "{label} is privileged{inherited}: it has every capability and the host's devices. No fix offered:"
    " it asked for this by name; grant only the capability (cap_add) or device (devices) it uses."
)


def check(context: FileContext, service: Service) -> list[Finding]:
    """One finding at `privileged: true`."""
    entry = service.get("privileged")
    if entry is None or not is_true(entry.value):
        return []
    message = MESSAGE.format(label=service.label, inherited=inherited_from(entry))
    return [
        RULE.finding(
            context.path, context.line_of(service, entry), message, subject=service.label, container=service.name
        )
    ]
