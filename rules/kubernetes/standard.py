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
# Baseline: sysctls a pod may set (Pod Security Admission's list, as of its 1.37 policy):
# namespaced and isolated from other pods. Names are compared as written, as PSA does.
SAFE_SYSCTLS = frozenset(
    "kernel.shm_rmid_forced net.ipv4.ip_local_port_range net.ipv4.tcp_syncookies net.ipv4.ping_group_range "
    "net.ipv4.ip_unprivileged_port_start net.ipv4.ip_local_reserved_ports net.ipv4.tcp_keepalive_time "
    "net.ipv4.tcp_fin_timeout net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes net.ipv4.tcp_rmem "
    "net.ipv4.tcp_wmem net.ipv4.tcp_slow_start_after_idle net.ipv4.tcp_notsent_lowat".split()
)
# Baseline: SELinux types a pod or container may ask for ("" is unset); user and role must stay unset.
ALLOWED_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
# Baseline: AppArmor profile types the securityContext field may name.
GOOD_APPARMOR = frozenset({"RuntimeDefault", "Localhost"})
# The deprecated per-container AppArmor annotation; allowed values are "", runtime/default, localhost/<name>.
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
