"""The explicit catalogue of every rule, in the order the docs list them: one module per rule ID."""

from __future__ import annotations

from rules import ur001_file_skipped
from rules.compose import (
    ur301_root_user,
    ur302_privileged,
    ur303_capabilities,
    ur304_host_namespaces,
    ur305_host_mounts,
    ur306_hardening,
)
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
    ur212_host_path,
    ur213_host_port,
    ur214_proc_mount,
    ur215_selinux_options,
    ur216_apparmor,
    ur217_sysctls,
    ur218_windows_host_process,
    ur219_pod_security_policy,
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
    ur212_host_path.RULE,
    ur213_host_port.RULE,
    ur214_proc_mount.RULE,
    ur215_selinux_options.RULE,
    ur216_apparmor.RULE,
    ur217_sysctls.RULE,
    ur218_windows_host_process.RULE,
    ur219_pod_security_policy.RULE,
    ur220_non_numeric_image_user.RULE,
    ur301_root_user.RULE,
    ur302_privileged.RULE,
    ur303_capabilities.RULE,
    ur304_host_namespaces.RULE,
    ur305_host_mounts.RULE,
    ur306_hardening.RULE,
)


def by_id() -> dict[str, Rule]:
    """Rules keyed by ID."""
    return {rule.id: rule for rule in RULES}
