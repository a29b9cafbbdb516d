"""UR303 compose-capabilities: a service that adds capabilities beyond Docker's default set."""

from __future__ import annotations

from ruamel.yaml.nodes import SequenceNode

from rules.compose.checker import FileContext, inherited_from, interpolate, scalar
from rules.compose.parse import Service
from rules.kubernetes.standard import BASELINE_CAPABILITIES
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity

RULE = Rule(
    "UR303",
    "compose-capabilities",
    FileKind.COMPOSE,
    Severity.ERROR,
    "The service adds dangerous capabilities",
    "Capabilities outside Docker's default set (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, "
    "DAC_READ_SEARCH, ALL, ...) are root-equivalent powers over the host.",
    FixAvailability.NEVER,
    "The service asked for the capability by name; removing it would stop it working.",
)

# Docker grants these by default: the Pod Security baseline set plus NET_RAW. Adding one changes nothing.
DOCKER_DEFAULT_CAPABILITIES = BASELINE_CAPABILITIES | {"NET_RAW"}

MESSAGE = (
    "{label} adds capabilities {names}{inherited}, beyond Docker's default set: root-equivalent power."
    " No fix offered: it asked for them by name; check that it needs each one."
)


def normalized(name: str) -> str:
    """A capability as Docker reads it: case-insensitive, with or without the CAP_ prefix."""
    upper = name.strip().upper()
    return upper.removeprefix("CAP_")


def check(context: FileContext, service: Service) -> list[Finding]:
    """One finding at `cap_add:` naming every capability outside Docker's default set."""
    entry = service.get("cap_add")
    if entry is None or not isinstance(entry.value, SequenceNode):
        return []
    names: list[str] = []
    for item in entry.value.value:
        text = scalar(item)
        resolved = interpolate(text).text if text is not None else None
        if resolved and normalized(resolved) not in DOCKER_DEFAULT_CAPABILITIES:
            names.append(normalized(resolved))
    if not names:
        return []
    message = MESSAGE.format(
        label=service.label, names=", ".join(dict.fromkeys(names)), inherited=inherited_from(entry)
    )
    return [
        RULE.finding(
            context.path, context.line_of(service, entry), message, subject=service.label, container=service.name
        )
    ]
