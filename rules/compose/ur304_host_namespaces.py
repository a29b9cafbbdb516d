"""UR304 compose-host-namespaces: a service sharing the host's network, PID or IPC namespace."""

from __future__ import annotations

from rules.compose.checker import FileContext, inherited_from, interpolate, scalar
from rules.compose.parse import Service
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR304",
    "compose-host-namespaces",
    FileKind.COMPOSE,
    Severity.ERROR,
    "The service shares the host's network, PID or IPC namespace",
    "network_mode: host, pid: host and ipc: host let the service bind and sniff the host's network, "
    "see and signal its processes, or read its shared memory: root-equivalent on the host.",
    FixAvailability.NEVER,
    "The service asked for the host's namespace by name; taking it away would stop it working "
    "(a host-network service would need its ports published instead).",
)


class Ur304(Variant):
    """Which namespace a UR304 finding is about; the value is the service key."""

    NETWORK = "network_mode"
    PID = "pid"
    IPC = "ipc"


MESSAGES = {
    Ur304.NETWORK: "{label} sets network_mode: host{inherited}, sharing the host's network namespace.",
    Ur304.PID: "{label} sets pid: host{inherited}, sharing the host's process namespace.",
    Ur304.IPC: "{label} sets ipc: host{inherited}, sharing the host's IPC namespace.",
}
NO_FIX = " No fix offered: it asked for this by name; remove it if the service does not need it."


def check(context: FileContext, service: Service) -> list[Finding]:
    """One finding for each of network_mode, pid and ipc that is `host`."""
    findings: list[Finding] = []
    for variant in Ur304:
        entry = service.get(variant.value)
        text = scalar(entry.value) if entry else None
        if entry is None or text is None or (interpolate(text).text or "").strip() != "host":
            continue
        message = MESSAGES[variant].format(label=service.label, inherited=inherited_from(entry)) + NO_FIX
        findings.append(
            RULE.finding(
                context.path,
                context.line_of(service, entry),
                message,
                subject=f"{service.label} {variant.value}",
                variant=variant,
                container=service.name,
            )
        )
    return findings
