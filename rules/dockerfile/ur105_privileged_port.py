"""UR105 dockerfile-privileged-port: a non-root image that EXPOSEs a port below 1024."""

from __future__ import annotations

from rules.dockerfile.parse import expand, walk
from rules.dockerfile.user import FinalStage, numeric, stage_label
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity

RULE = Rule(
    "UR105",
    "dockerfile-privileged-port",
    FileKind.DOCKERFILE,
    Severity.WARNING,
    "A non-root image exposes a port below 1024",
    "A process that is not root cannot bind a port below 1024 without NET_BIND_SERVICE; "
    "listen on an unprivileged port such as 8080 instead.",
    FixAvailability.NEVER,
    "The port the application listens on must change with it; only its author can do that.",
)

MESSAGE = (
    "{label} runs as a non-root user but exposes port {ports}: the process cannot bind it "
    "without NET_BIND_SERVICE; listen on a port such as 8080 instead."
)


def check(final: FinalStage) -> list[Finding]:
    """Each EXPOSE along the chain with a port from 1 to 1023 (a range counts by its first port)."""
    if not final.runs_non_root:
        return []  # a root image is UR101's or UR102's
    findings: list[Finding] = []
    for stage in final.chain:
        for instruction, variables in walk(stage):
            if instruction.keyword != "EXPOSE":
                continue
            ports = []
            for token in instruction.value.split():
                expanded = expand(token, variables) or ""
                number = expanded.split("/", 1)[0].split("-", 1)[0]
                if numeric(number) and 0 < int(number) < 1024:
                    ports.append(number)
            if ports:
                label = stage_label(stage)
                message = MESSAGE.format(label=label, ports=", ".join(ports))
                findings.append(
                    RULE.finding(
                        final.path, instruction.start_line, message, end_line=instruction.end_line, subject=label
                    )
                )
    return findings
