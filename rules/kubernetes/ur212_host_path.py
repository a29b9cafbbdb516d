"""UR212 k8s-host-path: a hostPath volume, root-equivalent when it reaches what runs or guards the node."""

from __future__ import annotations

import posixpath

from ruamel.yaml.nodes import MappingNode, SequenceNode

from rules.kubernetes.checker import PodChecker
from rules.kubernetes.nodes import as_bool, as_str, first_line, get, value
from rules.model import FileKind, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR212",
    "k8s-host-path",
    FileKind.KUBERNETES,
    Severity.ERROR,
    "A hostPath volume mounts a directory or file of the node",
    "A hostPath volume hands the pod a piece of the node's filesystem, which the baseline Pod "
    "Security Standard forbids; the node's runtime sockets, kernel interfaces, credentials and "
    "system directories are root on the node.",
    FixAvailability.NEVER,
    "What replaces a host directory (an emptyDir, a PersistentVolumeClaim, a CSI driver, a Service "
    "instead of a socket) depends on what the workload does with it; removing it breaks the workload.",
)
# Why fsGroup (which a fix adds for other volumes) does not help here.
OWNER_NOTE = (
    " The files' owner on the node decides who may write them: Kubernetes never changes a hostPath's "
    "ownership, so a non-root container writes it only if the node's owner or mode allows."
)


class Ur212(Variant):
    """Which case of UR212 a finding is."""

    ROOT_EQUIVALENT = "root-equivalent"  # the path gives root on the node (error)
    OTHER = "other"  # any other hostPath: a baseline violation without root power (warning)


MESSAGES = {
    Ur212.ROOT_EQUIVALENT: "{subject} mounts the node's {path} (hostPath{mounted}): {why}; that is root on the node.",
    Ur212.OTHER: (
        "{subject} mounts the node's {path} (hostPath{mounted}), which the baseline Pod Security Standard "
        "forbids; use an emptyDir, a PersistentVolumeClaim or a CSI volume instead."
    ),
}

# Paths whose contents give root on the node however they are mounted: reading a key or a token,
# or connecting to a socket, is enough (a read-only mount of a socket still talks to the daemon).
# Each entry covers itself, everything below it, and every directory above it, which contains it.
ROOT_WHEN_READ: dict[str, str] = {
    "/var/run/docker.sock": "the Docker socket, which starts privileged containers",
    "/run/docker.sock": "the Docker socket, which starts privileged containers",
    "/var/run/docker": "Docker's runtime directory, with its sockets",
    "/run/docker": "Docker's runtime directory, with its sockets",
    "/var/run/containerd": "containerd's socket directory, which starts privileged containers",
    "/run/containerd": "containerd's socket directory, which starts privileged containers",
    "/run/k3s/containerd": "k3s's containerd socket directory, which starts privileged containers",
    "/var/run/crio": "CRI-O's socket directory, which starts privileged containers",
    "/run/crio": "CRI-O's socket directory, which starts privileged containers",
    "/var/run/cri-dockerd.sock": "cri-dockerd's socket, which starts privileged containers",
    "/run/cri-dockerd.sock": "cri-dockerd's socket, which starts privileged containers",
    "/var/run/podman": "Podman's socket directory, which starts privileged containers",
    "/run/podman": "Podman's socket directory, which starts privileged containers",
    "/proc": "the host's /proc, with every process on the node and writable kernel settings",
    "/etc/kubernetes": "the node's Kubernetes credentials and certificate keys",
    "/etc/shadow": "the node's password hashes",
    "/root": "root's home directory, with its keys and kubeconfigs",
    "/home": "the users' home directories, with their keys and kubeconfigs",
    "/var/lib/kubelet/pods": "every pod's volumes on the node, service account tokens and secrets included",
    "/var/lib/kubelet/pki": "the kubelet's client certificate and key",
    "/var/lib/kubelet/kubeconfig": "the kubelet's credentials",
}
# Container runtime sockets by file name, wherever a distribution keeps them (/run/host-containerd/...).
RUNTIME_SOCKETS = frozenset(
    {"docker.sock", "containerd.sock", "crio.sock", "podman.sock", "cri-dockerd.sock", "dockershim.sock"}
)
# The node's whole device tree; single device nodes below it are gated by the device cgroup,
# so only /dev itself (and the directories above it) counts.
ROOT_EXACT: dict[str, str] = {"/dev": "the node's whole device tree, every disk included"}
# Paths whose contents run as root on the node: writing to them is root, reading them is not.
# Root-equivalent only when some container mounts the volume without `readOnly: true`.
ROOT_WHEN_WRITTEN: dict[str, str] = {
    # Written, /sys is root (a cgroup release agent, the uevent helper); read, it is mostly statistics.
    "/sys": "the host's /sys, with cgroup, kernel and device controls",
    "/boot": "the node's kernel and boot files",
    "/usr": "the node's programs and libraries",
    "/bin": "the node's programs",
    "/sbin": "the node's system programs",
    "/lib": "the node's libraries and kernel modules",
    "/lib64": "the node's libraries",
    "/etc/passwd": "the node's user accounts",
    "/etc/sudoers": "the node's sudo rules",
    "/etc/sudoers.d": "the node's sudo rules",
    "/etc/crontab": "the node's scheduled jobs, run as root",
    "/etc/cron.d": "the node's scheduled jobs, run as root",
    "/etc/systemd": "the node's services, run as root",
    "/etc/ssh": "the node's SSH server configuration",
    "/etc/ld.so.preload": "the libraries every program on the node loads",
    # Read, these show other containers' files and logs (log collectors mount them read-only);
    # written, a container's configuration there makes it privileged at its next start.
    "/var/lib/docker": "every container's filesystem and configuration on the node",
    "/var/lib/containerd": "every container's filesystem on the node",
    "/var/lib/containers": "every container's filesystem on the node",
}


def normalised(host_path: str) -> str:
    """The path as the node resolves it lexically: no `.`, `..`, repeated or trailing slashes."""
    cleaned = posixpath.normpath(host_path) if host_path else host_path
    return "/" + cleaned.lstrip("/") if cleaned.startswith("/") else cleaned


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def why_root(host_path: str, writable: bool) -> str | None:
    """Why mounting `host_path` is root on the node, or None when it is not (judged lexically)."""
    path = normalised(host_path)
    if not path.startswith("/"):
        return None  # no path, or a relative one: Kubernetes refuses it, nothing of the node is reached
    if posixpath.basename(path) in RUNTIME_SOCKETS:
        return "a container runtime's socket, which starts privileged containers"
    tables = [(ROOT_WHEN_READ, True), (ROOT_EXACT, False)]
    if writable:
        tables.append((ROOT_WHEN_WRITTEN, True))
    for table, covers_below in tables:
        for entry, why in table.items():
            if path == entry or (covers_below and _inside(path, entry)):
                return why
    for table, _covers_below in tables:
        for entry, why in table.items():
            if _inside(entry, path):
                return f"it contains {entry}, {why}"
    return None


def _mounts(pod: PodChecker, volume: str) -> list[tuple[str, bool]]:
    """(container label, mounted writable) for each container mounting `volume`."""
    found: list[tuple[str, bool]] = []
    for container in pod.containers:
        mounts = value(container.container.node, "volumeMounts")
        if not isinstance(mounts, SequenceNode):
            continue
        for mount in mounts.value:
            if isinstance(mount, MappingNode) and as_str(value(mount, "name")) == volume:
                found.append((container.container.label, as_bool(value(mount, "readOnly")) is not True))
    return found


def check_pod(pod: PodChecker) -> None:
    """Each hostPath volume of the pod, at its `path:` line; no fix (see fix_reason)."""
    volumes = value(pod.pod.spec, "volumes")
    if not isinstance(volumes, SequenceNode):
        return
    for index, volume in enumerate(volumes.value):
        host = get(volume, "hostPath") if isinstance(volume, MappingNode) else None
        if host is None or not isinstance(host[1], MappingNode):
            continue  # `hostPath: null` is no hostPath volume
        name = as_str(value(volume, "name")) or f"#{index + 1}"
        path_pair = get(host[1], "path")
        host_path = as_str(path_pair[1]) if path_pair else None
        mounts = _mounts(pod, name)
        why = why_root(host_path or "", any(writable for _label, writable in mounts))
        variant = Ur212.ROOT_EQUIVALENT if why else Ur212.OTHER
        mounted = ""
        if mounts:
            mounted = ", mounted by " + ", ".join(
                label + ("" if writable else " read-only") for label, writable in mounts
            )
        subject = f"volume '{name}' in {pod.label}"
        message = MESSAGES[variant].format(subject=subject, path=host_path or "(no path)", mounted=mounted, why=why)
        message += OWNER_NOTE
        line = first_line(path_pair[0]) if path_pair else first_line(host[0])
        severity = Severity.ERROR if why else Severity.WARNING
        pod.report(RULE, line, message, subject, None, severity=severity, variant=variant)
