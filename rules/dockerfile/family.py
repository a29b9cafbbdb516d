"""The Dockerfile rule family: every rule module run over the final stage, as `docker build` makes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rules.dockerfile import (
    ur101_root_user,
    ur102_no_user,
    ur103_non_numeric_user,
    ur104_sudo_setuid,
    ur105_privileged_port,
)
from rules.dockerfile.parse import Dockerfile, Stage, parse
from rules.dockerfile.user import FinalStage, final_stage
from rules.model import Finding, FixAvailability, Options

RULES = (
    ur101_root_user.RULE,
    ur102_no_user.RULE,
    ur103_non_numeric_user.RULE,
    ur104_sudo_setuid.RULE,
    ur105_privileged_port.RULE,
)
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


_NO_FIX_OPEN_END = (
    "(No fix offered: the file's last line ends with a line continuation, so a line added after it "
    "would join that instruction; end the line, then run unroot fix.)"
)


def analyze(path: str, text: str, options: Options) -> list[Finding]:
    """Parse and check one Dockerfile."""
    df = parse(text)
    findings = check(path, df, options)
    if df.open_at_end:
        fixable = {rule.id for rule in RULES if rule.fix_availability is not FixAvailability.NEVER}
        return [
            replace(f, fix=None, message=f"{f.message} {_NO_FIX_OPEN_END}") if f.rule in fixable else f
            for f in findings
        ]
    return findings
