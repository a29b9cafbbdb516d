"""The Pod Security Standards' lists that the rules judge by and the fixes write towards."""

from __future__ import annotations

# Baseline: capabilities that may be added (exact spelling).
BASELINE_CAPABILITIES = frozenset(
    "AUDIT_WRITE CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE SETFCAP SETGID "
    "SETPCAP SETUID SYS_CHROOT".split()
)
# Restricted: the only capability that may be added.
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# Seccomp profile types the restricted standard accepts.
GOOD_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
# Fields that exist only in a container's securityContext; in the pod's, Kubernetes drops them.
CONTAINER_ONLY_FIELDS = ("allowPrivilegeEscalation", "privileged", "capabilities", "readOnlyRootFilesystem")
