"""The compose rule family: every rule module run over each service of a compose file, in a fixed order."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from rules.compose import (
    ur301_root_user,
    ur302_privileged,
    ur303_capabilities,
    ur304_host_namespaces,
    ur305_host_mounts,
    ur306_hardening,
)
from rules.compose.checker import FileContext
from rules.compose.parse import Service, services
from rules.kubernetes.nodes import first_line
from rules.kubernetes.parse import YAML_ONLY_BREAKS, ManifestError
from rules.model import Finding, Options
from rules.suppression import ignored_by_comment
from rules.ur001_file_skipped import skipped

# The order findings of one line keep (the analyser sorts by line and rule ID only).
CHECKS: tuple[Callable[[FileContext, Service], list[Finding]], ...] = (
    ur301_root_user.check,
    ur302_privileged.check,
    ur303_capabilities.check,
    ur304_host_namespaces.check,
    ur305_host_mounts.check,
    ur306_hardening.check,
)
_NO_FIX_BREAKS = (
    "(No fix offered: the file contains Unicode line separators (U+0085, U+2028 or U+2029), which "
    "YAML counts as line breaks and editors do not; edit it by hand.)"
)


def suppressed_above(lines: tuple[str, ...], line: int) -> frozenset[str]:
    """Rule IDs of `# unroot: ignore=ID[,ID] reason` comments directly above 1-based `line`."""
    ids: set[str] = set()
    index = line - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        ids.update(ignored_by_comment(lines[index].strip()[1:]))
        index -= 1
    return frozenset(ids)


def check(path: str, found: list[Service], lines: tuple[str, ...], options: Options) -> list[Finding]:
    """Findings for every service, less those a comment above the finding or the service suppresses."""
    context = FileContext(path, lines, options)
    findings: list[Finding] = []
    for service in found:
        for_service = suppressed_above(lines, first_line(service.key))
        for rule_check in CHECKS:
            findings.extend(
                finding
                for finding in rule_check(context, service)
                if finding.rule not in for_service and finding.rule not in suppressed_above(lines, finding.line)
            )
    return findings


def analyze(path: str, text: str, options: Options, *, by_name: bool = True) -> list[Finding] | None:
    """Findings for a compose file's text, or one UR001 notice saying why it cannot be read.

    A file not named like a compose file (`by_name` false) is read only when it has the shape of
    one; otherwise the result is None and it is left to the Kubernetes family.
    """
    try:
        found = services(text, require_shape=not by_name)
    except ManifestError as error:
        return [skipped(path, str(error))] if by_name else None
    if found is None:
        return None
    lines = tuple(re.split(r"\r\n|\r|\n", text))
    findings = check(path, found, lines, options)
    if any(char in text for char in YAML_ONLY_BREAKS):
        return [replace(f, fix=None, message=f"{f.message} {_NO_FIX_BREAKS}") if f.fix else f for f in findings]
    return findings
