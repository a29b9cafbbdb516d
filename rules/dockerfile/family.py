"""The Dockerfile rule family: every rule module run over the final stage, as `docker build` makes it."""

from __future__ import annotations

from collections.abc import Callable

from rules.dockerfile import (
    ur101_root_user,
    ur102_no_user,
    ur103_non_numeric_user,
    ur104_sudo_setuid,
    ur105_privileged_port,
)
from rules.dockerfile.parse import Dockerfile, Stage, parse
from rules.dockerfile.user import FinalStage, final_stage
from rules.model import Finding, Options

CHECKS: tuple[Callable[[FinalStage], list[Finding]], ...] = (
    ur101_root_user.check,
    ur102_no_user.check,
    ur103_non_numeric_user.check,
    ur104_sudo_setuid.check,
    ur105_privileged_port.check,
)


def check(path: str, df: Dockerfile, options: Options) -> list[Finding]:
    """All findings for a parsed Dockerfile, evaluating the final stage as built."""
    final = final_stage(path, df, options)
    if final is None:
        return []
    findings = [finding for rule_check in CHECKS for finding in rule_check(final)]
    return [f for f in findings if not _suppressed(df, final.stage, f)]


def _suppressed(df: Dockerfile, final: Stage, finding: Finding) -> bool:
    """`# unroot: ignore=ID` above the finding's line, or above the final FROM for the whole stage."""
    for line in (finding.line, final.from_line):
        if finding.rule in df.suppressions.get(line, frozenset()):
            return True
    return False


def analyze(path: str, text: str, options: Options) -> list[Finding]:
    """Parse and check one Dockerfile."""
    return check(path, parse(text), options)
