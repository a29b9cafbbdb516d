"""Benchmark unroot's analysis throughput and peak memory on real and generated manifests, against Checkov."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from rules.analyze import analyze_bytes, file_kind
from rules.model import Finding, Options
from rules.registry import SKIPPED

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-world"
DEFAULT_CHECKOV_VENV = Path(__file__).resolve().parent / ".checkov-venv"
FAILURES_DIR = Path("/tmp/bench-failures")
MB = 1_000_000  # throughput is reported in decimal megabytes

# Targets the README documents.
TARGET_MB_PER_S = 1.0
TARGET_RATIO = 20.0
TARGET_RSS_MB = 300.0

# The directories `unroot check DIR` does not walk into (mirrors bot/cli.py); which files it
# reads there is rules.analyze.file_kind's decision.
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__", ".tox"}
# Findings that mean "this container runs (or may run) as root".
ROOT_RULES = frozenset({"UR201", "UR202", "UR203"})


# --------------------------------------------------------------------------------------------
# Measuring one child process
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One finished child process: what it printed and what it cost."""

    argv: list[str]
    returncode: int
    wall: float
    cpu: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


def _pin_to_one_cpu(pid: int) -> None:
    """Let process pid (and what it starts) run on one CPU only, so the figure is a single-core one."""
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if cpus:
            try:
                os.sched_setaffinity(pid, {cpus[-1]})
            except ProcessLookupError:
                pass  # already finished


def measure(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    single_core: bool = False,
) -> Run:
    """Run argv to completion; wall time, CPU time and peak RSS come from os.wait4 on that child."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        if single_core:
            # Right after exec, within a millisecond of a start-up that takes 100 ms or more.
            _pin_to_one_cpu(proc.pid)
        done = threading.Event()
        expired = threading.Event()

        def _kill() -> None:
            if not done.is_set():
                expired.set()
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

        timer = threading.Timer(timeout, _kill) if timeout else None
        if timer is not None:
            timer.start()
        try:
            # wait4, not Popen.wait: it hands back the rusage of this child (and of the
            # descendants it waited for), so the peak RSS is the child's own.
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            done.set()
            if timer is not None:
                timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    rss_bytes = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return Run(
        list(argv),
        proc.returncode,
        wall,
        usage.ru_utime + usage.ru_stime,
        rss_bytes / (1024 * 1024),
        stdout,
        stderr,
        expired.is_set(),
    )


# --------------------------------------------------------------------------------------------
# Input sets
# --------------------------------------------------------------------------------------------


def analysed_files(root: Path) -> list[Path]:
    """The files `unroot check root` analyses: manifests and Dockerfiles by name, no symlinks."""
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            candidate = Path(directory) / name
            if file_kind(name) is not None and not candidate.is_symlink():
                found.append(candidate)
    return found


@dataclass
class InputSet:
    """A directory to analyse, with its size as unroot sees it."""

    name: str
    root: Path
    files: int
    size: int
    expectations: list[Expectation] = field(default_factory=list)

    @classmethod
    def of(cls, name: str, root: Path, expectations: list[Expectation] | None = None) -> InputSet:
        """Count the files and bytes under root."""
        files = analysed_files(root)
        return cls(name, root, len(files), sum(p.stat().st_size for p in files), expectations or [])

    @property
    def mb(self) -> float:
        """Size in decimal megabytes."""
        return self.size / MB


# --------------------------------------------------------------------------------------------
# Generated manifests (set B)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What a correct analysis says about one generated container."""

    path: str  # relative to the set's root
    label: str  # "Deployment/web-3"
    container: str
    root: bool  # a UR201/UR202/UR203 finding must name it
    clean: bool  # fully hardened: no error or warning may name it


@dataclass(frozen=True)
class Flow:
    """Emit this value in flow style (JSON syntax, which is valid YAML)."""

    value: object


@dataclass(frozen=True)
class Anchored:
    """A block value carrying a YAML anchor."""

    name: str
    value: object


@dataclass(frozen=True)
class Alias:
    """A YAML alias to an anchored value (the value is kept for the JSON rendering)."""

    name: str
    value: object


class Comment(str):
    """A dict key whose entry is emitted as a `# comment` line."""


_NUMBERLIKE = re.compile(r"[-+]?(?:\.?[0-9][0-9_.:eE+\-]*|0[xX][0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)", re.IGNORECASE)
_PLAIN = re.compile(r"[A-Za-z0-9_/.][A-Za-z0-9_./:@=+,\-]*")
_RESERVED = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"])


def _scalar(item: object) -> str:
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float)):
        return str(item)
    text = str(item)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and not _NUMBERLIKE.fullmatch(text):
        return text
    return json.dumps(text)


def _plain_data(item: object) -> object:
    """The value without YAML-only wrappers: what the JSON rendering holds."""
    if isinstance(item, (Flow, Anchored, Alias)):
        return _plain_data(item.value)
    if isinstance(item, dict):
        return {k: _plain_data(v) for k, v in item.items() if not isinstance(k, Comment)}
    if isinstance(item, list):
        return [_plain_data(v) for v in item]
    return item


def _emit_value(prefix: str, item: object, indent: int, lines: list[str], seq_indent: bool) -> None:
    """`prefix` is "key:" (already indented); append the value after it."""
    anchor = ""
    if isinstance(item, Alias):
        lines.append(f"{prefix} *{item.name}")
        return
    if isinstance(item, Anchored):
        anchor = f" &{item.name}"
        item = item.value
    if isinstance(item, Flow):
        lines.append(f"{prefix}{anchor} {json.dumps(_plain_data(item.value))}")
    elif isinstance(item, dict):
        if not item:
            lines.append(f"{prefix}{anchor} {{}}")
        else:
            lines.append(prefix + anchor)
            _emit_mapping(item, indent + 2, lines, seq_indent)
    elif isinstance(item, list):
        if not item:
            lines.append(f"{prefix}{anchor} []")
        else:
            lines.append(prefix + anchor)
            _emit_sequence(item, indent + 2 if seq_indent else indent, lines, seq_indent)
    elif isinstance(item, str) and "\n" in item:
        chomp = "" if item.endswith("\n") else "-"
        lines.append(f"{prefix}{anchor} |{chomp}")
        pad = " " * (indent + 2)
        lines.extend(pad + line if line else "" for line in item.rstrip("\n").split("\n"))
    else:
        lines.append(f"{prefix}{anchor} {_scalar(item)}")


def _emit_mapping(mapping: dict[object, object], indent: int, lines: list[str], seq_indent: bool) -> None:
    pad = " " * indent
    for key, item in mapping.items():
        if isinstance(key, Comment):
            lines.append(f"{pad}# {item}")
            continue
        _emit_value(f"{pad}{_scalar(key)}:", item, indent, lines, seq_indent)


def _emit_sequence(items: list[object], indent: int, lines: list[str], seq_indent: bool) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item and not isinstance(next(iter(item)), Comment):
            inner: list[str] = []
            _emit_mapping(item, indent + 2, inner, seq_indent)
            inner[0] = pad + "- " + inner[0][indent + 2 :]
            lines.extend(inner)
        elif isinstance(item, (dict, list)):
            lines.append(f"{pad}- {json.dumps(_plain_data(item))}")
        elif isinstance(item, str) and "\n" in item:
            lines.append(f"{pad}- {json.dumps(item)}")
        else:
            lines.append(f"{pad}- {_scalar(_plain_data(item))}")


def to_yaml(document: dict[object, object], seq_indent: bool) -> str:
    """Block-style YAML for one document, in kubectl style (seq_indent=False) or indented-sequence style."""
    lines: list[str] = []
    _emit_mapping(document, 0, lines, seq_indent)
    return "\n".join(lines) + "\n"


_WORDS = [
    "api",
    "auth",
    "billing",
    "cart",
    "catalog",
    "checkout",
    "search",
    "payment",
    "ledger",
    "gateway",
    "inventory",
    "orders",
    "users",
    "profile",
    "notify",
    "mailer",
    "report",
    "export",
    "import",
    "sync",
    "worker",
    "indexer",
    "scheduler",
    "metrics",
    "audit",
    "session",
    "media",
    "thumbnail",
    "geo",
    "pricing",
    "quote",
    "risk",
    "fraud",
    "wallet",
    "loyalty",
    "review",
    "feed",
]
_TEAMS = ["platform", "payments", "growth", "data", "core", "identity", "search", "infra", "ml", "storefront"]
_ENVS = ["dev", "staging", "prod"]
_REGISTRIES = (
    "ghcr.io/acme",
    "registry.example.com/apps",
    "docker.io/library",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
)
_SIDECARS = (
    "envoyproxy/envoy:v1.29.1",
    "fluent/fluent-bit:2.2.2",
    "prom/statsd-exporter:v0.26.0",
    "oliver006/redis_exporter:v1.58.0",
)
_INIT_IMAGES = ("busybox:1.36", "alpine:3.19", "ghcr.io/acme/migrate:2.4.0", "bitnami/kubectl:1.29")

# Workload hardening modes and how often each occurs.
_MODES = (
    ("hardened", 35),
    ("partial", 15),
    ("root-default", 28),
    ("root-explicit", 8),
    ("privileged", 7),
    ("mixed", 7),
)


class ManifestGenerator:
    """Deterministic, varied Kubernetes manifests: a seeded Random decides everything."""

    def __init__(self, seed: int) -> None:
        self.rng = Random(seed)
        self.serial = 0

    def _name(self) -> str:
        self.serial += 1
        return f"{self.rng.choice(_WORDS)}-{self.rng.choice(_WORDS)}-{self.serial}"

    def _labels(self, app: str, team: str) -> dict[object, object]:
        labels: dict[object, object] = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": team}
        if self.rng.random() < 0.6:
            labels["app.kubernetes.io/version"] = (
                f"{self.rng.randint(1, 9)}.{self.rng.randint(0, 30)}.{self.rng.randint(0, 9)}"
            )
            labels["app.kubernetes.io/managed-by"] = self.rng.choice(["kustomize", "argocd", "Helm", "flux"])
        return labels

    def _metadata(self, name: str, namespace: str, labels: dict[object, object]) -> dict[object, object]:
        meta: dict[object, object] = {"name": name, "namespace": namespace, "labels": dict(labels)}
        if self.rng.random() < 0.4:
            meta["annotations"] = {
                "owner": f"team-{labels['app.kubernetes.io/part-of']}@example.com",
                "runbook": f"https://runbooks.example.com/{name}",
            }
        return meta

    def _env(self, app: str) -> list[object]:
        env: list[object] = []
        for index in range(self.rng.randint(3, 30)):
            roll = self.rng.random()
            key = f"{self.rng.choice(_WORDS).upper()}_{self.rng.choice(_WORDS).upper()}_{index}"
            if roll < 0.55:
                env.append(
                    {
                        "name": key,
                        "value": self.rng.choice(
                            [
                                str(self.rng.randint(0, 5000)),
                                "true",
                                "info",
                                f"http://{app}.svc.cluster.local:8080",
                                "",
                                "0.0.0.0",
                                f"{self.rng.randint(1, 60)}s",
                            ]
                        ),
                    }
                )
            elif roll < 0.75:
                env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": f"{app}-secrets", "key": key.lower()}}})
            elif roll < 0.9:
                env.append(
                    {
                        "name": key,
                        "valueFrom": {
                            "configMapKeyRef": {"name": f"{app}-config", "key": key.lower(), "optional": True}
                        },
                    }
                )
            else:
                env.append(
                    {
                        "name": key,
                        "valueFrom": {
                            "fieldRef": {
                                "fieldPath": self.rng.choice(["metadata.name", "status.podIP", "spec.nodeName"])
                            }
                        },
                    }
                )
        return env

    def _probe(self, port: int) -> dict[object, object]:
        if self.rng.random() < 0.7:
            handler: dict[object, object] = {
                "httpGet": {"path": self.rng.choice(["/healthz", "/ready", "/livez", "/actuator/health"]), "port": port}
            }
        elif self.rng.random() < 0.5:
            handler = {"tcpSocket": {"port": port}}
        else:
            handler = {"exec": {"command": ["sh", "-c", "test -f /tmp/healthy"]}}
        handler.update(
            {
                "initialDelaySeconds": self.rng.randint(0, 30),
                "periodSeconds": self.rng.choice([5, 10, 15]),
                "failureThreshold": 3,
            }
        )
        return handler

    def _hardened_context(self) -> dict[object, object]:
        caps: dict[object, object] = {"drop": ["ALL"]}
        if self.rng.random() < 0.2:
            caps["add"] = ["NET_BIND_SERVICE"]
        sc: dict[object, object] = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": Flow(caps) if self.rng.random() < 0.3 else caps,
        }
        return sc

    def _container(
        self, name: str, image: str, app: str, mode: str, sidecar: bool
    ) -> tuple[dict[object, object], bool, bool]:
        """A container and (runs as root?, fully hardened?) for it under `mode`."""
        port = self.rng.choice([8080, 8443, 9090, 3000, 5000, 80])
        container: dict[object, object] = {"name": name, "image": image}
        if self.rng.random() < 0.5:
            container["imagePullPolicy"] = self.rng.choice(["IfNotPresent", "Always"])
        if self.rng.random() < 0.3:
            container["command"] = ["/bin/" + app.split("-")[0]]
            container["args"] = Flow([f"--port={port}", "--log-format=json", f"--config=/etc/{app}/config.yaml"])
        container["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        if self.rng.random() < 0.3:
            cast_ports = container["ports"]
            assert isinstance(cast_ports, list)
            cast_ports.append({"name": "metrics", "containerPort": 9102})
        container["env"] = self._env(app)
        if self.rng.random() < 0.3:
            container["envFrom"] = [{"configMapRef": {"name": f"{app}-config"}}]
        container["resources"] = {
            "requests": {
                "cpu": self.rng.choice(["50m", "100m", "250m", "500m"]),
                "memory": self.rng.choice(["64Mi", "128Mi", "512Mi"]),
            },
            "limits": {"memory": self.rng.choice(["256Mi", "1Gi", "2Gi"])},
        }
        if not sidecar:
            container["livenessProbe"] = self._probe(port)
            container["readinessProbe"] = self._probe(port)
        container["volumeMounts"] = [
            {"name": "config", "mountPath": f"/etc/{app}", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ]
        root, clean = False, False
        if mode == "hardened":
            container["securityContext"] = self._hardened_context()
            clean = True
        elif mode == "partial":
            if self.rng.random() < 0.5:
                container["securityContext"] = {"allowPrivilegeEscalation": False}
        elif mode == "root-default":
            root = True
            if self.rng.random() < 0.3:
                container["securityContext"] = {"readOnlyRootFilesystem": True}
        elif mode == "root-explicit":
            root = True
            container["securityContext"] = {"runAsUser": 0, "runAsGroup": 0}
        elif mode == "privileged":
            root = True
            container["securityContext"] = {"privileged": True, "capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN"]}}
        elif mode == "mixed":
            if sidecar:
                container["securityContext"] = {
                    "runAsUser": 0,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                }
                root = True
            else:
                container["securityContext"] = self._hardened_context()
                clean = True
        return container, root, clean

    def _pod_spec(self, app: str, mode: str, kind: str) -> tuple[dict[object, object], list[tuple[str, bool, bool]]]:
        """A pod spec and (container name, root, clean) for each of its containers."""
        spec: dict[object, object] = {}
        if self.rng.random() < 0.5:
            spec["serviceAccountName"] = app
        if mode in ("hardened", "mixed"):
            spec["securityContext"] = {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            }
        elif mode == "partial":
            spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": self.rng.choice([1000, 65532, 101])}
        elif kind == "DaemonSet" and mode in ("root-default", "privileged") and self.rng.random() < 0.5:
            spec["hostNetwork"] = True
            spec["hostPID"] = True
        expected: list[tuple[str, bool, bool]] = []
        registry = self.rng.choice(_REGISTRIES)
        tag = f"{self.rng.randint(1, 4)}.{self.rng.randint(0, 40)}.{self.rng.randint(0, 9)}"
        if self.rng.random() < 0.15:
            tag += "@sha256:" + "".join(self.rng.choice("0123456789abcdef") for _ in range(64))
        init: list[object] = []
        if self.rng.random() < 0.3:
            name = f"{app}-init"
            container, root, clean = self._container(name, self.rng.choice(_INIT_IMAGES), app, mode, False)
            container.pop("livenessProbe", None)
            container.pop("readinessProbe", None)
            container["command"] = ["sh", "-c", f"until nslookup {app}-db; do echo waiting; sleep 2; done"]
            init.append(container)
            expected.append((name, root and mode != "mixed", clean))
        containers: list[object] = []
        main, root, clean = self._container(app, f"{registry}/{app}:{tag}", app, mode, False)
        containers.append(main)
        expected.append((app, root, clean))
        for index in range(self.rng.choice([0, 0, 0, 1, 1, 2])):
            name = f"{app}-sidecar-{index + 1}"
            container, root, clean = self._container(name, self.rng.choice(_SIDECARS), app, mode, True)
            containers.append(container)
            expected.append((name, root, clean))
        if mode == "mixed" and len(containers) == 1:
            # Mixed needs a sidecar that overrides the pod's non-root user.
            name = f"{app}-sidecar-1"
            container, root, clean = self._container(name, self.rng.choice(_SIDECARS), app, mode, True)
            containers.append(container)
            expected.append((name, root, clean))
        if init:
            spec["initContainers"] = init
        if self.rng.random() < 0.2:
            spec[Comment("note")] = f"{app}: security context reviewed by {self.rng.choice(_TEAMS)} ({mode})"
        spec["containers"] = containers
        spec["volumes"] = [
            {"name": "config", "configMap": {"name": f"{app}-config"}},
            {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}
            if self.rng.random() < 0.5
            else {"name": "tmp", "emptyDir": {}},
        ]
        if self.rng.random() < 0.3:
            spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": app, "effect": "NoSchedule"}]
        if self.rng.random() < 0.25:
            spec["affinity"] = {
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 100,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": app}},
                            },
                        }
                    ]
                }
            }
        if kind == "CronJob" or kind == "Job":
            spec["restartPolicy"] = "OnFailure"
        return spec, expected

    def workload(
        self, kind: str, namespace: str, team: str
    ) -> tuple[dict[object, object], list[tuple[str, str, bool, bool]]]:
        """One workload object and its expectations as (label, container, root, clean)."""
        app = self._name()
        mode = self.rng.choices([m for m, _ in _MODES], weights=[w for _, w in _MODES])[0]
        labels = self._labels(app, team)
        pod_spec, expected = self._pod_spec(app, mode, kind)
        template: dict[object, object] = {"metadata": {"labels": dict(labels)}, "spec": pod_spec}
        if self.rng.random() < 0.3:
            template["metadata"] = {
                "labels": dict(labels),
                "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9102"},
            }
        document: dict[object, object]
        if kind == "Pod":
            document = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": self._metadata(app, namespace, labels),
                "spec": pod_spec,
            }
        elif kind == "CronJob":
            document = {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": self._metadata(app, namespace, labels),
                "spec": {
                    "schedule": f"{self.rng.randint(0, 59)} {self.rng.randint(0, 23)} * * *",
                    "concurrencyPolicy": "Forbid",
                    "jobTemplate": {"spec": {"backoffLimit": 2, "template": template}},
                },
            }
        else:
            api = "apps/v1"
            spec: dict[object, object] = {
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "template": template,
            }
            if kind in ("Deployment", "StatefulSet"):
                spec = {"replicas": self.rng.randint(1, 6), **spec}
            if kind == "StatefulSet":
                spec["serviceName"] = app
                spec["volumeClaimTemplates"] = [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{self.rng.choice([1, 10, 50])}Gi"}},
                        },
                    }
                ]
            if kind == "Deployment" and self.rng.random() < 0.4:
                spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
            document = {
                "apiVersion": api,
                "kind": kind,
                "metadata": self._metadata(app, namespace, labels),
                "spec": spec,
            }
        if self.rng.random() < 0.15:
            # `kubectl get -o yaml` exports carry the last applied object as JSON text.
            meta = document["metadata"]
            assert isinstance(meta, dict)
            meta.setdefault("annotations", {})
            annotations = meta["annotations"]
            assert isinstance(annotations, dict)
            annotations["kubectl.kubernetes.io/last-applied-configuration"] = (
                json.dumps(_plain_data(document), separators=(",", ":")) + "\n"
            )
            meta["uid"] = "".join(self.rng.choice("0123456789abcdef") for _ in range(32))
            meta["resourceVersion"] = str(self.rng.randint(10_000, 9_999_999))
            document["status"] = {"observedGeneration": self.rng.randint(1, 50), "replicas": 2, "readyReplicas": 2}
        label = f"{kind}/{app}"
        return document, [(label, name, root, clean) for name, root, clean in expected]

    def service(self, namespace: str, team: str) -> dict[object, object]:
        """A Service."""
        app = self._name()
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self._metadata(app, namespace, self._labels(app, team)),
            "spec": {
                "type": self.rng.choice(["ClusterIP", "ClusterIP", "NodePort", "LoadBalancer"]),
                "selector": {"app.kubernetes.io/name": app},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        }

    def config_map(self, namespace: str, team: str) -> dict[object, object]:
        """A ConfigMap with realistic multi-line payloads (some mention containers in text)."""
        app = self._name()
        data: dict[object, object] = {}
        for index in range(self.rng.randint(1, 4)):
            roll = self.rng.random()
            if roll < 0.3:
                body = (
                    "\n".join(
                        f"{self.rng.choice(_WORDS)}.{self.rng.choice(_WORDS)}.timeout={self.rng.randint(1, 600)}"
                        for _ in range(self.rng.randint(20, 150))
                    )
                    + "\n"
                )
                data[f"application-{index}.properties"] = body
            elif roll < 0.55:
                servers = "".join(
                    f"  location /{self.rng.choice(_WORDS)}/ {{\n    proxy_pass http://{self.rng.choice(_WORDS)}:8080;\n    proxy_read_timeout {self.rng.randint(5, 120)}s;\n  }}\n"
                    for _ in range(self.rng.randint(5, 40))
                )
                data[f"nginx-{index}.conf"] = f"server {{\n  listen 8080;\n{servers}}}\n"
            elif roll < 0.8:
                # An embedded pod template as text, as CI agents and workflow tools keep them.
                data[f"agent-pod-{index}.yaml"] = (
                    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: agent\n    image: jenkins/inbound-agent:3206.vb_15dcf73f6a_9-1\n"
                    "    securityContext:\n      runAsUser: 0\n"
                )
            else:
                payload = {
                    f"{self.rng.choice(_WORDS)}_{i}": {
                        "enabled": self.rng.random() < 0.5,
                        "weight": self.rng.randint(0, 100),
                    }
                    for i in range(self.rng.randint(10, 80))
                }
                data[f"flags-{index}.json"] = json.dumps(payload, indent=2) + "\n"
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self._metadata(f"{app}-config", namespace, self._labels(app, team)),
            "data": data,
        }

    def misc(self, namespace: str, team: str) -> dict[object, object]:
        """A ServiceAccount, PodDisruptionBudget, HorizontalPodAutoscaler or NetworkPolicy."""
        app = self._name()
        meta = self._metadata(app, namespace, self._labels(app, team))
        choice = self.rng.randrange(4)
        if choice == 0:
            return {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": meta,
                "automountServiceAccountToken": False,
            }
        if choice == 1:
            return {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": meta,
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": app}}},
            }
        if choice == 2:
            return {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": meta,
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                    "minReplicas": 2,
                    "maxReplicas": 20,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                        }
                    ],
                },
            }
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {}}]}],
            },
        }

    def documents(
        self, namespace: str, team: str
    ) -> Iterator[tuple[dict[object, object], list[tuple[str, str, bool, bool]]]]:
        """An endless, varied stream of objects with their expectations."""
        kinds = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod")
        weights = (45, 15, 8, 12, 5)
        while True:
            roll = self.rng.random()
            if roll < 0.5:
                yield self.workload(self.rng.choices(kinds, weights=weights)[0], namespace, team)
            elif roll < 0.7:
                yield self.service(namespace, team), []
            elif roll < 0.85:
                yield self.config_map(namespace, team), []
            else:
                yield self.misc(namespace, team), []


def _with_aliases(document: dict[object, object], serial: int) -> dict[object, object]:
    """Share the first container's env list with the others through a YAML anchor and aliases."""
    pod: object = document.get("spec")
    for key in ("template", "spec"):
        if isinstance(pod, dict) and key in pod:
            pod = pod[key]
    if not isinstance(pod, dict):
        return document
    containers = pod.get("containers")
    if not isinstance(containers, list) or len(containers) < 2:
        return document
    first = containers[0]
    if not isinstance(first, dict) or not isinstance(first.get("env"), list):
        return document
    name = f"env{serial}"
    shared = first["env"]
    first["env"] = Anchored(name, shared)
    for other in containers[1:]:
        if isinstance(other, dict):
            other["env"] = Alias(name, shared)
    return document


def generate(root: Path, megabytes: float, seed: int) -> list[Expectation]:
    """Write ~megabytes of multi-document manifests (50-200 KB files) under root; returns expectations."""
    rng = Random(seed)
    generator = ManifestGenerator(seed + 1)
    target = int(megabytes * MB)
    written = 0
    expectations: list[Expectation] = []
    index = 0
    while written < target:
        index += 1
        team = rng.choice(_TEAMS)
        env = rng.choice(_ENVS)
        namespace = f"{team}-{env}"
        file_target = min(rng.randint(50_000, 200_000), max(target - written, 20_000))
        as_json = rng.random() < 0.12
        seq_indent = rng.random() < 0.5
        crlf = rng.random() < 0.03
        bom = rng.random() < 0.02
        suffix = ".json" if as_json else rng.choice([".yaml", ".yaml", ".yaml", ".yml"])
        relative = f"{team}/{env}/{rng.choice(_WORDS)}-{index:04d}{suffix}"
        parts: list[str] = []
        items: list[object] = []
        size = 0
        for document, expected in generator.documents(namespace, team):
            for label, container, is_root, clean in expected:
                expectations.append(Expectation(relative, label, container, is_root, clean))
            if as_json:
                items.append(_plain_data(document))
                # Items sit two levels deep in the List: about 15% more indentation than alone.
                size += int(len(json.dumps(items[-1], indent=2)) * 1.15)
            else:
                if rng.random() < 0.05:
                    document = _with_aliases(document, generator.serial)
                text = to_yaml(document, seq_indent)
                if rng.random() < 0.2:
                    text = f"# Source: {team}/{namespace}/{rng.choice(_WORDS)}.yaml\n" + text
                parts.append(text)
                size += len(text) + 4
            if size >= file_target:
                break
        if as_json:
            body = (
                json.dumps(
                    {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}, indent=2
                )
                + "\n"
            )
        else:
            body = ("---\n" if rng.random() < 0.5 else "") + "---\n".join(parts)
        if crlf:
            body = body.replace("\n", "\r\n")
        data = (b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8")
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += len(data)
    return expectations


def subset(source: InputSet, destination: Path, megabytes: float, seed: int) -> InputSet:
    """A seeded sample of source's files (copied, same relative paths) adding up to ~megabytes."""
    files = analysed_files(source.root)
    Random(seed).shuffle(files)
    taken = 0
    chosen: set[str] = set()
    for path in files:
        if taken >= megabytes * MB:
            break
        relative = path.relative_to(source.root)
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination / relative)
        taken += path.stat().st_size
        chosen.add(relative.as_posix())
    kept = [e for e in source.expectations if e.path in chosen]
    return InputSet.of(f"B {megabytes:g} MB subset", destination, kept)


# --------------------------------------------------------------------------------------------
# The tools
# --------------------------------------------------------------------------------------------


@dataclass
class UnrootResult:
    """Best of several unroot runs over one set, and what its output says."""

    runs: list[Run]
    findings: list[dict[str, object]]
    problems: list[str]

    @property
    def wall(self) -> float:
        """Fastest run's wall time."""
        return min(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        """CPU time of the fastest run."""
        return min(self.runs, key=lambda r: r.wall).cpu

    @property
    def peak_rss_mb(self) -> float:
        """Largest peak RSS over the runs."""
        return max(r.peak_rss_mb for r in self.runs)


@dataclass
class CheckovResult:
    """One Checkov run over one set."""

    run: Run
    failed: int | None
    parsing_errors: int | None
    resources: int | None
    problem: str | None


def unroot_argv(python: str, root: Path, max_bytes: int, jobs: int = 1) -> list[str]:
    """The measured command; jobs=1 for the single-core figure, 0 lets unroot use every CPU."""
    return [
        python,
        "-m",
        "bot.cli",
        "check",
        "--format",
        "json",
        "--max-bytes",
        str(max_bytes),
        "--jobs",
        str(jobs),
        str(root),
    ]


def unroot_env() -> dict[str, str]:
    """The environment for unroot: this checkout's code first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _run_problem(run: Run) -> str | None:
    """Why an unroot run counts as a crash, or None."""
    if run.returncode not in (0, 1):
        return f"exit code {run.returncode}"
    if "Traceback" in run.stderr:
        return "traceback on stderr"
    try:
        json.loads(run.stdout)
    except ValueError as error:
        return f"stdout is not JSON ({error})"
    return None


def run_unroot(
    python: str, input_set: InputSet, repeat: int, max_bytes: int, single_core: bool, workdir: Path
) -> UnrootResult:
    """Run unroot over the set `repeat` times; parse the last output."""
    runs: list[Run] = []
    problems: list[str] = []
    for _ in range(max(repeat, 1)):
        jobs = 1 if single_core else 0
        run = measure(
            unroot_argv(python, input_set.root, max_bytes, jobs), cwd=workdir, env=unroot_env(), single_core=single_core
        )
        runs.append(run)
        problem = _run_problem(run)
        if problem:
            problems.append(f"{problem}: {run.stderr.strip()[-2000:]}")
            break
    findings: list[dict[str, object]] = []
    if not problems:
        parsed = json.loads(runs[-1].stdout)
        findings = list(parsed.get("findings", []))
    return UnrootResult(runs, findings, problems)


def find_crashing_files(python: str, input_set: InputSet, max_bytes: int, workdir: Path) -> list[tuple[Path, str]]:
    """Each file of the set run alone; the ones that crash unroot, with why."""
    crashing: list[tuple[Path, str]] = []
    for path in analysed_files(input_set.root):
        run = measure(unroot_argv(python, path, max_bytes), cwd=workdir, env=unroot_env())
        problem = _run_problem(run)
        if problem:
            last = run.stderr.strip().splitlines()[-1:] or [""]
            crashing.append((path, f"{problem}: {last[0]}"))
    return crashing


def save_smallest_failure(crashing: list[tuple[Path, str]]) -> Path | None:
    """Copy the smallest crashing file to /tmp/bench-failures/."""
    if not crashing:
        return None
    smallest, _why = min(crashing, key=lambda item: item[0].stat().st_size)
    FAILURES_DIR.mkdir(parents=True, exist_ok=True)
    target = FAILURES_DIR / smallest.name
    shutil.copyfile(smallest, target)
    return target


def analyse_in_process(input_set: InputSet, max_bytes: int) -> dict[str, list[Finding]]:
    """Each file's findings as this process's analyser gives them (structured: workload, container),
    keyed by the path relative to the set's root. Not timed: only the CLI runs are measured."""
    options = Options(max_bytes=max_bytes)
    return {
        path.relative_to(input_set.root).as_posix(): analyze_bytes(path.as_posix(), path.read_bytes(), options)
        for path in analysed_files(input_set.root)
    }


def differences(cli_findings: list[dict[str, object]], analysed: dict[str, list[Finding]]) -> list[str]:
    """Where the measured CLI run's JSON and the in-process analysis disagree (they must not)."""
    cli = Counter(json.dumps(finding, sort_keys=True) for finding in cli_findings)
    mine = Counter(json.dumps(f.to_json(), sort_keys=True) for found in analysed.values() for f in found)
    if cli == mine:
        return []
    only_cli, only_mine = cli - mine, mine - cli
    example = next(iter(only_cli or only_mine))
    return [
        f"the CLI's findings differ from the same analysis in-process: {sum(only_cli.values())} only in the CLI's, "
        f"{sum(only_mine.values())} only in-process, e.g. {example[:300]}"
    ]


def check_expectations(input_set: InputSet, analysed: dict[str, list[Finding]]) -> list[str]:
    """Disagreements between unroot's findings and what the generator built."""
    by_subject: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    skipped: list[str] = []
    for relative, found in analysed.items():
        for finding in found:
            if finding.rule == SKIPPED.id:
                skipped.append(f"{relative}: {finding.message}")
                continue
            if finding.workload is not None and finding.container is not None:
                key = (relative, finding.workload, finding.container)
                by_subject.setdefault(key, set()).add((finding.rule, finding.severity.value))
    problems = [f"skipped a generated file: {line}" for line in skipped]
    missed = [
        e
        for e in input_set.expectations
        if e.root and not ROOT_RULES & {r for r, _ in by_subject.get((e.path, e.label, e.container), set())}
    ]
    false_root = [
        e
        for e in input_set.expectations
        if not e.root and ROOT_RULES & {r for r, _ in by_subject.get((e.path, e.label, e.container), set())}
    ]
    noisy = [
        e
        for e in input_set.expectations
        if e.clean
        and any(
            severity in ("error", "warning") for _, severity in by_subject.get((e.path, e.label, e.container), set())
        )
    ]
    for title, group in (
        ("root container not reported", missed),
        ("non-root container reported as root", false_root),
        ("hardened container has errors/warnings", noisy),
    ):
        if group:
            first = group[0]
            rules = sorted(by_subject.get((first.path, first.label, first.container), set()))
            problems.append(
                f"{title}: {len(group)} of {len(input_set.expectations)} containers, e.g. {first.path} {first.label} '{first.container}' (findings: {rules})"
            )
    return problems


def ensure_checkov(venv: Path) -> tuple[Path | None, str]:
    """The checkov executable in its own venv, created and installed if missing; or None and why."""
    checkov = venv / "bin" / "checkov"
    if checkov.exists():
        return checkov, f"reusing {venv}"
    print(f"installing checkov into {venv} (takes a few minutes) ...", flush=True)
    created = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False)
    if created.returncode != 0:
        return None, f"python -m venv failed: {created.stderr.strip()[-500:]}"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "checkov"]
    installed = subprocess.run(pip, capture_output=True, text=True, check=False)
    if installed.returncode != 0 or not checkov.exists():
        lines = [line for line in installed.stderr.splitlines() if "is ignored" not in line]
        return None, "pip install checkov failed: " + "\n".join(lines[-10:])
    return checkov, f"installed into {venv}"


def checkov_argv(checkov: Path, root: Path) -> list[str]:
    """The measured Checkov command."""
    argv = [str(checkov), "-d", str(root), "--framework", "kubernetes", "--quiet", "--compact", "-o", "json"]
    help_text = subprocess.run([str(checkov), "--help"], capture_output=True, text=True, check=False).stdout
    if "--skip-download" in help_text:
        argv.append("--skip-download")
    return argv


def run_checkov(argv_base: list[str], input_set: InputSet, timeout: float, workdir: Path) -> CheckovResult:
    """Checkov once over the set."""
    argv = [input_set.root.as_posix() if part == "{ROOT}" else part for part in argv_base]
    env = dict(os.environ)
    env.setdefault("BC_SKIP_MAPPING", "TRUE")
    run = measure(argv, cwd=workdir, env=env, timeout=timeout)
    if run.timed_out:
        return CheckovResult(run, None, None, None, f"timed out after {timeout:.0f} s")
    if run.returncode not in (0, 1):
        return CheckovResult(run, None, None, None, f"exit code {run.returncode}: {run.stderr.strip()[-500:]}")
    try:
        parsed: object = json.loads(run.stdout) if run.stdout.strip() else {}
    except ValueError as error:
        return CheckovResult(run, None, None, None, f"output is not JSON: {error}")
    reports = parsed if isinstance(parsed, list) else [parsed]
    failed = errors = resources = 0
    for report in reports:
        summary = report.get("summary", {}) if isinstance(report, dict) else {}
        failed += int(summary.get("failed", 0))
        errors += int(summary.get("parsing_errors", 0))
        resources += int(summary.get("resource_count", 0))
    return CheckovResult(run, failed, errors, resources, None)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table."""

    input_set: InputSet
    unroot: UnrootResult
    checkov: CheckovResult | None = None

    @property
    def unroot_mb_s(self) -> float:
        """unroot throughput, wall clock."""
        return self.input_set.mb / self.unroot.wall

    @property
    def checkov_mb_s(self) -> float | None:
        """Checkov throughput, wall clock, if it ran cleanly."""
        if self.checkov is None or self.checkov.problem:
            return None
        return self.input_set.mb / self.checkov.run.wall

    @property
    def ratio(self) -> float | None:
        """unroot MB/s over Checkov MB/s on the same bytes."""
        other = self.checkov_mb_s
        return None if other is None or self.crashed else self.unroot_mb_s / other

    @property
    def crashed(self) -> bool:
        """unroot failed on this set: its figures mean nothing."""
        return bool(self.unroot.problems)


def _fmt(number: float | None, digits: int = 2) -> str:
    return "-" if number is None else f"{number:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    """The main table and the details under it."""
    header = (
        "set",
        "files",
        "MB",
        "unroot s",
        "unroot MB/s",
        "files/s",
        "peak RSS MB",
        "checkov s",
        "checkov MB/s",
        "ratio",
    )
    table: list[tuple[str, ...]] = [header]
    for row in rows:
        ck = row.checkov
        table.append(
            (
                row.input_set.name,
                str(row.input_set.files),
                _fmt(row.input_set.mb),
                "crash" if row.crashed else _fmt(row.unroot.wall),
                "crash" if row.crashed else _fmt(row.unroot_mb_s),
                "crash" if row.crashed else _fmt(row.input_set.files / row.unroot.wall, 1),
                "crash" if row.crashed else _fmt(row.unroot.peak_rss_mb, 1),
                "-" if ck is None else (_fmt(ck.run.wall) if not ck.problem else "error"),
                _fmt(row.checkov_mb_s, 3),
                "-" if row.ratio is None else f"{row.ratio:.1f}x",
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print()
    for number, line in enumerate(table):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if number == 0:
            print("  ".join("-" * w for w in widths))
    print()
    print("details:")
    for row in rows:
        u = row.unroot
        if row.crashed:
            print(f"  {row.input_set.name}: unroot failed (see problems)")
            continue
        errors = sum(1 for f in u.findings if f.get("severity") == "error")
        skips = sum(1 for f in u.findings if f.get("rule") == "UR001")
        print(
            f"  {row.input_set.name}: unroot best of {len(u.runs)}: wall {u.wall:.2f} s, cpu {u.cpu:.2f} s "
            f"(cpu/wall {u.cpu / u.wall:.2f}), {len(u.findings)} findings ({errors} errors, {skips} UR001 skipped-file notices)"
        )
        ck = row.checkov
        if ck is not None:
            if ck.problem:
                print(f"  {row.input_set.name}: checkov: {ck.problem}")
            else:
                print(
                    f"  {row.input_set.name}: checkov: wall {ck.run.wall:.2f} s, cpu {ck.run.cpu:.2f} s, peak RSS {ck.run.peak_rss_mb:.1f} MB, "
                    f"{ck.resources} resources, {ck.failed} failed checks, {ck.parsing_errors} parsing errors"
                )


def check_targets(rows: list[Row], generated_name: str) -> list[tuple[str, bool | None, str]]:
    """(target, passed or None when not measured, the figures behind it)."""
    results: list[tuple[str, bool | None, str]] = []
    speeds = [(r.input_set.name, r.unroot_mb_s) for r in rows if not r.crashed]
    crashed = [r.input_set.name for r in rows if r.crashed]
    results.append(
        (
            f"unroot >= {TARGET_MB_PER_S:g} MB/s on every set",
            (not crashed and all(s >= TARGET_MB_PER_S for _, s in speeds)) if rows else None,
            ", ".join([f"{n} {s:.2f}" for n, s in speeds] + [f"{n} crashed" for n in crashed]),
        )
    )
    ratios = [(r.input_set.name, r.ratio) for r in rows if r.ratio is not None]
    results.append(
        (
            f"unroot/checkov MB/s ratio >= {TARGET_RATIO:g}x on the same bytes",
            all(x >= TARGET_RATIO for _, x in ratios if x is not None) if ratios else None,
            ", ".join(f"{n} {x:.1f}x" for n, x in ratios if x is not None) or "checkov not run",
        )
    )
    generated = [r for r in rows if r.input_set.name == generated_name]
    results.append(
        (
            f"peak RSS on the generated set < {TARGET_RSS_MB:g} MB",
            (not generated[0].crashed and generated[0].unroot.peak_rss_mb < TARGET_RSS_MB) if generated else None,
            (
                "unroot crashed"
                if generated[0].crashed
                else f"{generated[0].unroot.peak_rss_mb:.1f} MB over {generated[0].input_set.mb:.1f} MB"
            )
            if generated
            else "set B not run",
        )
    )
    return results


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="real-world manifests (set A); default: %(default)s"
    )
    parser.add_argument(
        "--mb", type=float, default=20.0, help="size of the generated set B in MB (default %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=20261122, help="seed of the generator (default %(default)s)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="unroot runs per set; the fastest counts (default %(default)s)"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter that has unroot installed (default: this one)"
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=100_000_000,
        help="passed to unroot so no corpus file is skipped for size (default %(default)s)",
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin unroot to one CPU (by default it runs single-core)"
    )
    parser.add_argument("--no-checkov", action="store_true", help="skip the Checkov comparison")
    parser.add_argument(
        "--checkov-venv",
        type=Path,
        default=DEFAULT_CHECKOV_VENV,
        help="venv holding checkov (created if missing; default %(default)s)",
    )
    parser.add_argument(
        "--checkov-mb",
        type=float,
        default=2.0,
        help="MB of set B that Checkov also scans (default %(default)s; >= --mb means all of it)",
    )
    parser.add_argument(
        "--checkov-timeout",
        type=float,
        default=3600.0,
        help="seconds before a Checkov run is killed (default %(default)s)",
    )
    parser.add_argument(
        "--keep", type=Path, help="write the generated set here and keep it (default: a temporary directory)"
    )
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails or unroot crashes")
    return parser


def _rows_as_json(
    rows: list[Row], targets: list[tuple[str, bool | None, str]], problems: list[str]
) -> dict[str, object]:
    return {
        "sets": [
            {
                "set": r.input_set.name,
                "files": r.input_set.files,
                "bytes": r.input_set.size,
                "unroot_seconds": r.unroot.wall,
                "unroot_cpu_seconds": r.unroot.cpu,
                "unroot_mb_per_s": r.unroot_mb_s,
                "files_per_s": r.input_set.files / r.unroot.wall,
                "peak_rss_mb": r.unroot.peak_rss_mb,
                "checkov_seconds": None if r.checkov is None or r.checkov.problem else r.checkov.run.wall,
                "checkov_mb_per_s": r.checkov_mb_s,
                "ratio": r.ratio,
            }
            for r in rows
        ],
        "targets": [{"target": t, "passed": ok, "figures": why} for t, ok, why in targets],
        "problems": problems,
    }


def code_version() -> str:
    """The commit the measured code is at, and whether rules/ or bot/ have uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "rules/*.py", "bot/*.py"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes in rules/ or bot/" if dirty else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, measure, compare, report."""
    args = build_parser().parse_args(argv)
    single_core = not args.no_pin
    probe = subprocess.run(
        [args.python, "-c", "import bot.cli"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=unroot_env(),
        check=False,
    )
    if probe.returncode != 0:
        print(f"{args.python} cannot import bot.cli: {probe.stderr.strip()[-300:]}", file=sys.stderr)
        return 2
    print(f"unroot at {code_version()}: {' '.join(unroot_argv(args.python, Path('DIR'), args.max_bytes))}")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"machine: {cpus} CPUs available; unroot's analysis is single-threaded"
        + (" and is pinned to one CPU" if single_core else "")
    )

    checkov_base = [] if args.no_checkov else _checkov_command(args.checkov_venv)

    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        print(f"--keep directory {args.keep} is not empty", file=sys.stderr)
        return 2
    rows: list[Row] = []
    problems: list[str] = []
    crashed = False
    with tempfile.TemporaryDirectory(prefix="unroot-bench-") as scratch:
        workdir = Path(scratch) / "cwd"  # neutral working directory: no .github/unroot.yml is picked up
        workdir.mkdir()

        def measure_set(input_set: InputSet, with_checkov: bool) -> Row:
            nonlocal crashed
            print(
                f"[{input_set.name}] {input_set.files} files, {input_set.mb:.2f} MB: unroot x{args.repeat} ...",
                flush=True,
            )
            result = run_unroot(args.python, input_set, args.repeat, args.max_bytes, single_core, workdir)
            row = Row(input_set, result)
            if result.problems:
                crashed = True
                problems.extend(f"{input_set.name}: unroot {p}" for p in result.problems)
                print(f"[{input_set.name}] unroot failed; running each file alone to find the input ...", flush=True)
                crashing = find_crashing_files(args.python, input_set, args.max_bytes, workdir)
                for path, why in crashing:
                    problems.append(f"{input_set.name}: crash on {path} ({path.stat().st_size:,} bytes): {why}")
                saved = save_smallest_failure(crashing)
                if saved is not None:
                    problems.append(f"{input_set.name}: smallest failing file saved as {saved}")
            elif input_set.expectations:
                # Judged on structured findings, not on message text: the CLI's JSON has no
                # container or workload field, so the same analysis runs here, and must agree.
                analysed = analyse_in_process(input_set, args.max_bytes)
                problems.extend(f"{input_set.name}: {p}" for p in differences(result.findings, analysed))
                problems.extend(f"{input_set.name}: {p}" for p in check_expectations(input_set, analysed))
            if with_checkov and checkov_base:
                print(f"[{input_set.name}] checkov ...", flush=True)
                row.checkov = run_checkov(checkov_base, input_set, args.checkov_timeout, workdir)
                if row.checkov.problem:
                    problems.append(f"{input_set.name}: checkov {row.checkov.problem}")
            return row

        if args.corpus.is_dir():
            rows.append(measure_set(InputSet.of("A real-world", args.corpus), True))
        else:
            print(f"set A skipped: no corpus at {args.corpus}")

        generated_root = args.keep if args.keep else Path(scratch) / "generated"
        generated_root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        expectations = generate(generated_root, args.mb, args.seed)
        set_b = InputSet.of("B generated", generated_root, expectations)
        print(
            f"[{set_b.name}] generated {set_b.files} files, {set_b.mb:.2f} MB, {len(expectations)} containers in {time.perf_counter() - started:.1f} s (seed {args.seed}) in {generated_root}"
        )
        whole_b_for_checkov = args.checkov_mb >= args.mb
        rows.append(measure_set(set_b, whole_b_for_checkov))
        if checkov_base and not whole_b_for_checkov and args.checkov_mb > 0:
            sub_root = Path(scratch) / "generated-subset"
            sub_root.mkdir()
            rows.append(measure_set(subset(set_b, sub_root, args.checkov_mb, args.seed), True))

    missed = _report(rows, problems, args.json_out)
    return 1 if args.strict and (crashed or missed) else 0


def _checkov_command(venv: Path) -> list[str]:
    """Checkov's command line with a {ROOT} placeholder, installing it first; [] when it cannot be had."""
    checkov, note = ensure_checkov(venv)
    print(f"checkov: {note}")
    if checkov is None:
        return []
    command = checkov_argv(checkov, Path("{ROOT}"))
    version = subprocess.run([str(checkov), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"checkov {version}: {' '.join(command)}")
    return command


def _report(rows: list[Row], problems: list[str], json_out: Path | None) -> bool:
    """Print the table, the targets and the problems (and write them as JSON); whether a target failed."""
    print_table(rows)
    targets = check_targets(rows, "B generated")
    print()
    for target, passed, figures in targets:
        verdict = "SKIP" if passed is None else ("PASS" if passed else "FAIL")
        print(f"{verdict}  {target}: {figures}")
    if problems:
        print()
        print("problems:")
        for problem in problems:
            print(f"  - {problem}")
    if json_out:
        json_out.write_text(json.dumps(_rows_as_json(rows, targets, problems), indent=2) + "\n", encoding="utf-8")
    return any(passed is False for _, passed, _ in targets)


if __name__ == "__main__":
    sys.exit(main())
