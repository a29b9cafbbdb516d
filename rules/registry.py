"""The explicit catalogue of every rule, in the order the docs list them: one module per rule ID."""

from __future__ import annotations

from rules import ur001_file_skipped
from rules.dockerfile import (
    ur101_root_user,
    ur102_no_user,
    ur103_non_numeric_user,
    ur104_sudo_setuid,
    ur105_privileged_port,
)
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
    ur220_non_numeric_image_user,
)
from rules.model import Rule

SKIPPED = ur001_file_skipped.RULE

RULES: tuple[Rule, ...] = (
    SKIPPED,
    ur101_root_user.RULE,
    ur102_no_user.RULE,
    ur103_non_numeric_user.RULE,
    ur104_sudo_setuid.RULE,
    ur105_privileged_port.RULE,
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
    ur220_non_numeric_image_user.RULE,
)


def by_id() -> dict[str, Rule]:
    """Rules keyed by ID."""
    return {rule.id: rule for rule in RULES}
