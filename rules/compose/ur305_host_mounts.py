"""UR305 compose-host-mounts: a bind mount of a container runtime's socket or of a host system directory."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from rules.compose.checker import FileContext, interpolate, is_true, scalar
from rules.compose.parse import Service
from rules.kubernetes.nodes import first_line, value
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR305",
    "compose-host-mounts",
    FileKind.COMPOSE,
    Severity.ERROR,
    "The service mounts the container runtime's socket or a host system directory",
    "Whoever can talk to the Docker (or containerd, CRI-O, Podman) socket can start a privileged "
    "container with the host's / mounted: root on the host. Writable host system directories "
    "(/, /etc, /proc, /sys, /dev, /var/lib/docker...) are the same.",
    FixAvailability.NEVER,
    "The service asked for the mount by name (a CI runner, a reverse proxy reading container "
    "labels, a monitoring agent); removing it would stop it working.",
)


class Ur305(Variant):
    """Which case of UR305 a finding is."""

    RUNTIME_SOCKET = "runtime-socket"  # the Docker, containerd, CRI-O or Podman API, read-only or not
    HOST_DIRECTORY = "host-directory"  # a host system directory, writable
    HOST_DIRECTORY_READ_ONLY = "host-directory-read-only"  # the same, read-only (warning)


MESSAGES = {
    Ur305.RUNTIME_SOCKET: (
        "{label} mounts {source}, the container runtime's API: it can start a privileged container, root on"
        " the host (':ro' does not stop API calls). No fix offered: it asked for the mount by name; if it"
        " only reads container events or labels, put a socket proxy that allows just those in between."
    ),
    Ur305.HOST_DIRECTORY: (
        "{label} mounts the host's {source} writable: it can change the host itself, root-equivalent."
        " No fix offered: it asked for the mount by name; mount only the subdirectory it needs, read-only (:ro)."
    ),
    Ur305.HOST_DIRECTORY_READ_ONLY: (
        "{label} mounts the host's {source} read-only: it can read host secrets and configuration."
        " No fix offered: it asked for the mount by name; mount only the subdirectory it needs."
    ),
}
SOCKETS = frozenset(
    f"{run}/{name}"
    for run in ("/run", "/var/run")
    for name in (
        "docker.sock",
        "containerd/containerd.sock",
        "crio/crio.sock",
        "podman/podman.sock",
        "cri-dockerd.sock",
        "docker",  # the directory that holds the socket
        "containerd",
        "crio",
    )
)
# Directories of the host whose write access is root on it, and whose read access exposes its secrets.
HOST_DIRECTORIES = frozenset(
    "/ /bin /boot /dev /etc /lib /lib64 /proc /root /run /sbin /sys /usr /var /var/run "
    "/var/lib /var/lib/docker /var/lib/containerd /var/lib/kubelet".split()
)


@dataclass(frozen=True)
class Mount:
    """One bind mount as Compose reads it."""

    node: Node
    source: str  # as written when a variable without a default hides it, else as Compose resolves it
    target: str
    read_only: bool
    source_known: bool = True


def normalized(source: str) -> str:
    """A host path as the kernel resolves it (`//var/run/` is `/var/run`)."""
    return posixpath.normpath(source) if source.startswith("/") else source


def _short(node: Node) -> Mount | None:
    """`SOURCE:TARGET[:MODE]`; a plain `TARGET` or a named volume is not a bind of a host path."""
    text = scalar(node)
    if text is None or ":" not in text:
        return None
    written = text.split(":")
    resolved = interpolate(text).text
    parts = resolved.split(":") if resolved is not None else []
    if len(parts) < 2:  # a variable without a default: judge it by the rest, split as written
        source, target = written[0], interpolate(written[1]).text or ""
        modes = written[2].split(",") if len(written) > 2 else []
        return Mount(node, source, target, "ro" in modes, source_known=False) if "$" in source else None
    modes = parts[2].split(",") if len(parts) > 2 else []
    return Mount(node, parts[0], parts[1], "ro" in modes) if parts[0].startswith("/") else None


def _long(node: MappingNode) -> Mount | None:
    """`type: bind` with `source:` (and `read_only:`)."""
    if scalar(value(node, "type")) != "bind":
        return None
    text = scalar(value(node, "source"))
    target = interpolate(scalar(value(node, "target")) or "").text or ""
    read_only = is_true(value(node, "read_only"))
    source = interpolate(text).text if text is not None else None
    if source is None and text is not None:
        return Mount(node, text, target, read_only, source_known=False)
    if not source or not source.startswith("/"):
        return None
    return Mount(node, source, target, read_only)


def mounts(service: Service) -> list[Mount]:
    """The service's bind mounts of absolute host paths, in both syntaxes."""
    entry = service.get("volumes")
    if entry is None or not isinstance(entry.value, SequenceNode):
        return []
    found: list[Mount] = []
    for item in entry.value.value:
        mount = _long(item) if isinstance(item, MappingNode) else _short(item)
        if mount is not None:
            found.append(mount)
    return found


def check(context: FileContext, service: Service) -> list[Finding]:
    """One finding per dangerous bind mount, at its line."""
    findings: list[Finding] = []
    for mount in mounts(service):
        source = normalized(mount.source)
        if not mount.source_known:
            # `${DOCKER_SOCK}:/var/run/docker.sock`: where it lands says what it is.
            if normalized(mount.target) not in SOCKETS:
                continue
            variant = Ur305.RUNTIME_SOCKET
        elif source in SOCKETS:
            variant = Ur305.RUNTIME_SOCKET
        elif source in HOST_DIRECTORIES:
            variant = Ur305.HOST_DIRECTORY_READ_ONLY if mount.read_only else Ur305.HOST_DIRECTORY
        else:
            continue
        shown = source if mount.source_known else f"{mount.source} at {normalized(mount.target)}"
        severity = Severity.WARNING if variant is Ur305.HOST_DIRECTORY_READ_ONLY else None
        findings.append(
            RULE.finding(
                context.path,
                first_line(mount.node),
                MESSAGES[variant].format(label=service.label, source=shown),
                subject=f"{service.label} {source}",
                severity=severity,
                variant=variant,
                container=service.name,
            )
        )
    return findings
