"""The explicit catalogue of every rule, in the order the docs list them."""

from __future__ import annotations

from rules.dockerfile import checks as dockerfile_checks
from rules.kubernetes import (
    ur201_may_run_as_root,
    ur202_run_as_user_zero,
    ur203_run_as_non_root_conflict,
    ur204_privileged,
    ur205_allow_privilege_escalation,
    ur206_capabilities,
    ur207_host_namespaces,
    ur208_root_group,
    ur209_seccomp,
    ur210_pod_level_container_fields,
    ur211_read_only_root_filesystem,
)
from rules.model import FileKind, FixAvailability, Rule, Severity

SKIPPED = Rule(
    "UR001",
    "file-skipped",
    FileKind.ANY,
    Severity.NOTICE,
    "The file could not be analysed",
    "A file that is not valid YAML or UTF-8, is binary, too large, a Helm template or an "
    "alias bomb is skipped with this notice, so a broken file never hides silently.",
    FixAvailability.NEVER,
    "Only the author can repair or render the file.",
)

RULES: tuple[Rule, ...] = (
    SKIPPED,
    *dockerfile_checks.RULES,
    ur201_may_run_as_root.RULE,
    ur202_run_as_user_zero.RULE,
    ur203_run_as_non_root_conflict.RULE,
    ur204_privileged.RULE,
    ur205_allow_privilege_escalation.RULE,
    ur206_capabilities.RULE,
    ur207_host_namespaces.RULE,
    ur208_root_group.RULE,
    ur209_seccomp.RULE,
    ur210_pod_level_container_fields.RULE,
    ur211_read_only_root_filesystem.RULE,
)


def by_id() -> dict[str, Rule]:
    """Rules keyed by ID."""
    return {rule.id: rule for rule in RULES}
