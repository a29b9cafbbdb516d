"""Small inputs that must or must not trigger each rule (the rules' executable spec)."""

from __future__ import annotations

from dataclasses import dataclass

from rules.model import Options
from rules.repository import from_texts, references


@dataclass(frozen=True)
class Case:
    """One input and whether `rule` must fire on it (optionally at `line`); `repo` holds other files
    of the repository it lives in (path, text), from which the analysis learns who its images run as."""

    rule: str
    path: str
    text: str
    fires: bool
    line: int | None = None
    severity: str | None = None
    repo: tuple[tuple[str, str], ...] = ()

    @property
    def options(self) -> Options:
        """The analysis options: with the knowledge of the case's repository files, if it has any."""
        if not self.repo:
            return Options()
        return Options(knowledge=from_texts(dict(self.repo), references(self.path, self.text)))

    @property
    def id(self) -> str:
        first = self.text.strip().splitlines()[-1][:40] if self.text.strip() else "empty"
        return f"{self.rule}-{'fires' if self.fires else 'quiet'}-{first}"


def pod(container_sc: str = "", pod_sc: str = "", extra_spec: str = "", extra_container: str = "") -> str:
    """A Pod manifest with the given securityContext bodies (already indented YAML lines)."""
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"
    if pod_sc:
        text += "  securityContext:\n" + pod_sc
    text += extra_spec
    text += "  containers:\n  - name: app\n    image: example/app:1.0\n"
    if container_sc:
        text += "    securityContext:\n" + container_sc
    text += extra_container
    return text


def compose(service: str = "", top: str = "") -> str:
    """A compose file with one service 'app' (image example/app:1.0) and more service keys
    (already indented YAML lines; the first is line 4)."""
    return f"{top}services:\n  app:\n    image: example/app:1.0\n{service}"


HARDENED = '    cap_drop: [ALL]\n    security_opt: ["no-new-privileges:true"]\n'
MERGED_ROOT = "x-common: &common\n  user: root\nservices:\n  app:\n    <<: *common\n    image: example/app:1.0\n"

RESTRICTED_CONTAINER = '      allowPrivilegeEscalation: false\n      capabilities:\n        drop: ["ALL"]\n'
RESTRICTED_POD = "    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n"
HOST_PATH = "  volumes:\n  - name: host\n    hostPath:\n      path: {path}\n"  # the path on line 13
MOUNT = "    volumeMounts:\n    - name: host\n      mountPath: /host\n"
MOUNT_READ_ONLY = MOUNT + "      readOnly: true\n"
PSP = (
    "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: restricted\nspec:\n  privileged: false\n"
    "  seLinux:\n    rule: RunAsAny\n  runAsUser:\n    rule: MustRunAsNonRoot\n  supplementalGroups:\n    rule: RunAsAny\n"
    "  fsGroup:\n    rule: RunAsAny\n  volumes: [configMap, secret, emptyDir]\n"
)

# Repositories that build `example/app`, each mapping written as the tool's own docs show it.
APP_UID_1000 = 'FROM python:3.12-slim\nRUN useradd --uid 1000 app\nUSER 1000\nCMD ["python", "-m", "app"]\n'
APP_NAMED = 'FROM python:3.12-slim\nRUN useradd --uid 1000 app\nUSER app\nCMD ["python", "-m", "app"]\n'
APP_NAME_ONLY = 'FROM alpine:3.20\nRUN adduser -S -D app\nUSER app\nCMD ["/app"]\n'
# skaffold.dev, "Docker" builder: artifacts[].image, context, docker.dockerfile (relative to the context).
SKAFFOLD = (
    "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
    "    - image: example/app\n      context: services/app\n      docker:\n        dockerfile: Dockerfile.prod\n"
)
# Compose Build Specification: build.context and build.dockerfile, with image: naming the result.
COMPOSE = (
    "services:\n  app:\n    image: example/app:1.0\n    build:\n      context: ./services/app\n"
    "      dockerfile: app.Dockerfile\n"
)
# docker/build-push-action README: context, file (from the workspace), tags from docker/metadata-action.
WORKFLOW = (
    "name: ci\non: push\njobs:\n  docker:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@v4\n"
    "      - id: meta\n        uses: docker/metadata-action@v5\n        with:\n"
    "          images: |\n            example/app\n            ghcr.io/example/app\n"
    "      - uses: docker/build-push-action@v6\n        with:\n          context: services/app\n"
    "          file: services/app/build/Dockerfile\n          push: true\n"
    "          tags: ${{ steps.meta.outputs.tags }}\n"
)
# Jupyter's docker-stacks layout: a base image built by images/<name>/Dockerfile, used FROM by name.
BASE_NOTEBOOK = (
    'ARG NB_UID="1000"\nFROM ubuntu:24.04\nARG NB_UID\nENV NB_UID=${NB_UID}\n'
    'RUN useradd --uid "${NB_UID}" jovyan\nUSER ${NB_UID}\n'
)
NOTEBOOK_RECIPE = (
    # Not quay.io/jupyter/base-notebook, which the known-image table already knows runs as 1000.
    "ARG BASE_IMAGE=ghcr.io/example-lab/base-notebook\nFROM $BASE_IMAGE\nRUN pip install --no-cache-dir rise\n"
)

# Grouped by rule, in registry order (test_rules checks it): a rule's spec is one block.
CASES: tuple[Case, ...] = (
    # UR001: files that cannot be analysed.
    Case(
        "UR001",
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n{{- range .Values.containers }}\n      - name: {{ .name }}\n{{- end }}\n",
        True,
        1,
        "notice",
    ),
    Case("UR001", "broken.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n", True, 1),
    # The pod spec comes from an `include` (traefik's chart): no `containers` in the file at all.
    Case(
        "UR001",
        "chart/templates/deployment.yaml",
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ template "traefik.fullname" . }}\n'
        'spec:\n  template: {{ include "traefik.podTemplate" . | nindent 4 }}\n',
        True,
        1,
        "notice",
    ),
    Case(
        "UR001",
        "chart/templates/daemonset.yaml",
        'apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: x\nspec:\n  template:\n    {{- include "x.pod" . | nindent 4 }}\n',
        True,
        1,
    ),
    # Quotes inside a quoted placeholder break the YAML: still a template, not "invalid YAML".
    Case(
        "UR001",
        "chart/templates/web.yaml",
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "{{ include "app.fullname" . }}"\nspec:\n'
        "  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n",
        True,
        1,
    ),
    # A templated object that is not a workload has nothing to skip.
    Case(
        "UR001",
        "chart/templates/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports: {{ toYaml .Values.ports | nindent 4 }}\n",
        False,
    ),
    Case("UR001", "ok.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD), False),
    # UR101: final stage runs as root.
    Case("UR101", "Dockerfile", 'FROM debian:12\nUSER root\nCMD ["sh"]\n', True, 2, "error"),
    Case("UR101", "Dockerfile", 'FROM debian:12\nuser 0:0\nCMD ["sh"]\n', True, 2),
    Case("UR101", "Dockerfile", "FROM debian:12\nUSER root:staff\n", True, 2),
    Case("UR101", "Dockerfile", "FROM debian:12\nARG RUNAS=root\nUSER ${RUNAS}\n", True, 3),
    Case("UR101", "Dockerfile", "FROM debian:12\nUSER ${RUNAS:-0}\n", True, 2),
    Case("UR101", "Dockerfile", 'FROM debian AS base\nUSER root\nFROM base\nCMD ["x"]\n', True, 2),
    Case("UR101", "Dockerfile", "FROM debian AS build\nUSER root\nFROM debian\nUSER 10001\n", False),
    Case("UR101", "Dockerfile", "FROM debian:12\nUSER root\nRUN apt-get update\nUSER 1000:1000\n", False),
    Case("UR101", "Dockerfile", "FROM debian:12\nUSER rootless\n", False),
    # Root under another name: a user the Dockerfile itself gives UID 0.
    Case(
        "UR101",
        "Dockerfile",
        'FROM debian:12\nRUN useradd -o -u 0 -g 0 admin\nUSER admin\nCMD ["sh"]\n',
        True,
        3,
        "error",
    ),
    Case("UR101", "Dockerfile", "FROM debian:12\nRUN useradd -u 1000 app && usermod -o -u 0 app\nUSER app\n", True, 3),
    Case(
        "UR101",
        "Dockerfile",
        "FROM debian:12\nRUN echo 'admin:x:0:0::/root:/bin/sh' >> /etc/passwd\nUSER admin\n",
        True,
        3,
    ),
    Case("UR101", "Dockerfile", "FROM debian:12\nRUN useradd -u 1000 app\nUSER app\n", False),
    Case("UR101", "Dockerfile", "FROM debian:12\nUSER 10001\nRUN <<EOF\nuser root\nUSER root\nEOF\n", False),
    # UR101 without a fix: the entrypoint drops root itself (gosu), so a second user is no fix.
    Case(
        "UR101",
        "Dockerfile",
        'FROM debian:12\nRUN apt-get install -y gosu\nUSER root\nENTRYPOINT ["gosu", "app", "server"]\n',
        True,
        3,
    ),
    # UR102: no USER and a root base image.
    # The official postgres entrypoint starts as root and execs gosu: reported, without a fix.
    Case("UR102", "Dockerfile", "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n", True, 2),
    # A base other Dockerfiles extend: reported, the fix belongs to the application images.
    Case("UR102", "python-base/Dockerfile", "FROM python:3.12\nRUN pip install numpy\n", True, 2),
    Case("UR102", "Dockerfile", 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n', True, 3),
    Case("UR102", "Containerfile", 'FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n', True, 3),
    Case("UR102", "api.dockerfile", "FROM alpine:3.20\n", True, 1),
    Case("UR102", "Dockerfile.prod", "FROM gcr.io/distroless/static:nonroot\nCOPY app /app\n", False),
    Case("UR102", "Dockerfile", "FROM bitnami/nginx:1.27\n", False),
    Case("UR102", "Dockerfile", "FROM nginxinc/nginx-unprivileged:1.27\n", False),
    Case("UR102", "Dockerfile", "FROM debian:12\nUSER 1000\n", False),
    Case("UR102", "Dockerfile", "FROM quay.io/jupyter/base-notebook:2024-10-07\nCOPY app /app\n", False),
    Case("UR102", "Dockerfile", "FROM rayproject/ray:2.9.0\nCOPY app /app\n", False),
    Case("UR102", "Dockerfile", "FROM bitnamilegacy/kubectl:1.15.3\nCOPY app /app\n", False),
    # A base image the repository itself builds as non-root, found by directory name, through ARG.
    Case(
        "UR102",
        "recipes/rise.dockerfile",
        NOTEBOOK_RECIPE,
        False,
        repo=(("images/base-notebook/Dockerfile", BASE_NOTEBOOK),),
    ),
    Case("UR102", "recipes/rise.dockerfile", NOTEBOOK_RECIPE, True, 3, "error"),  # the same, unknown
    # ... and one it builds as root stays root.
    Case(
        "UR102",
        "recipes/rise.dockerfile",
        NOTEBOOK_RECIPE,
        True,
        3,
        repo=(("images/base-notebook/Dockerfile", "FROM ubuntu:24.04\nRUN apt-get update\n"),),
    ),
    # UR103: non-numeric final user.
    Case("UR103", "Dockerfile", 'FROM node:20\nUSER node\nCMD ["node", "x.js"]\n', True, 2, "warning"),
    # Prometheus images set `USER nobody`: a name, inherited when the Dockerfile sets none.
    Case("UR103", "Dockerfile", "FROM quay.io/prometheus/busybox:latest\nCOPY app /app\n", True),
    # distroless :nonroot runs as the number 65532: nothing to verify by name.
    Case("UR103", "Dockerfile", "FROM gcr.io/distroless/static:nonroot\nCOPY app /app\n", False),
    Case("UR103", "Dockerfile", "FROM node:20\nUSER 1000:1000\n", False),
    Case("UR103", "Dockerfile", "FROM debian\nUSER $APP_UID\n", False),
    # A name whose number nothing tells: the finding has no fix.
    Case("UR103", "Dockerfile", 'FROM debian:12\nRUN useradd --system app\nUSER app\nCMD ["app"]\n', True, 3),
    # UR104: sudo and setuid.
    Case(
        "UR104", "Dockerfile", "FROM debian\nRUN apt-get update && apt-get install -y sudo curl\nUSER 1000\n", True, 2
    ),
    Case("UR104", "Dockerfile", "FROM debian\nRUN sudo apt-get update\nUSER 1000\n", True, 2),
    Case("UR104", "Dockerfile", "FROM debian\nRUN chmod u+s /usr/local/bin/tool\nUSER 1000\n", True, 2),
    Case("UR104", "Dockerfile", "FROM debian\nRUN chmod 4755 /usr/local/bin/tool\nUSER 1000\n", True, 2),
    Case("UR104", "Dockerfile", "FROM debian\nRUN <<EOF\napt-get install -y sudo\nEOF\nUSER 1000\n", True, 2),
    Case(
        "UR104", "Dockerfile", "FROM debian\nRUN apt-get install -y pseudo sudoku && chmod 755 /x\nUSER 1000\n", False
    ),
    Case("UR104", "Dockerfile", "FROM debian AS build\nRUN sudo make\nFROM debian\nUSER 1000\n", False),
    Case("UR104", "Dockerfile", "FROM debian\nRUN make && \\\n    sudo make install\nUSER 1000\n", True, 2),
    Case("UR104", "Dockerfile", "FROM debian\nRUN echo sudo is not used here > /notes\nUSER 1000\n", False),
    # UR105: privileged port in a non-root image.
    Case("UR105", "Dockerfile", "FROM debian\nUSER 1000\nEXPOSE 80\n", True, 3),
    Case("UR105", "Dockerfile", "FROM debian\nARG PORT=443\nUSER 1000\nEXPOSE ${PORT}/tcp\n", True, 4),
    Case("UR105", "Dockerfile", "FROM debian\nUSER 1000\nEXPOSE 8080\n", False),
    Case("UR105", "Dockerfile", "FROM debian\nEXPOSE 80\n", False),
    # UR201: may run as root.
    Case("UR201", "pod.yaml", pod(RESTRICTED_CONTAINER), True, 8, "error"),
    Case(
        "UR201",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, "    runAsNonRoot: false\n    runAsUser: 1000\n"),
        True,
        7,
        "warning",
    ),
    Case("UR201", "pod.yaml", pod(RESTRICTED_CONTAINER, "    runAsNonRoot: false\n"), True, 7, "error"),
    Case("UR201", "pod.yaml", pod("      runAsUser: 1000\n" + RESTRICTED_CONTAINER), True, 8, "warning"),
    Case("UR201", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD), False),
    Case("UR201", "pod.yaml", pod(RESTRICTED_CONTAINER, extra_spec="  hostUsers: false\n"), False),
    # runAsNonRoot: false is an error only where a container may really run as root.
    Case(
        "UR201",
        "pod.yaml",
        pod(
            "      runAsUser: 1\n      runAsNonRoot: false\n" + RESTRICTED_CONTAINER,
            "    seccompProfile: {type: RuntimeDefault}\n",
        ),
        True,
        13,
        "warning",
    ),
    Case(
        "UR201",
        "pod.yaml",
        pod(
            "      runAsNonRoot: true\n" + RESTRICTED_CONTAINER,
            "    runAsNonRoot: false\n    seccompProfile: {type: RuntimeDefault}\n",
        ),
        True,
        7,
        "warning",
    ),
    # An image the repository builds as non-root: a warning (set runAsNonRoot so Kubernetes enforces it).
    Case(
        "UR201",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER),
        True,
        8,
        "warning",
        repo=(("skaffold.yaml", SKAFFOLD), ("services/app/Dockerfile.prod", APP_UID_1000)),
    ),
    Case(
        "UR201",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER),
        True,
        8,
        "warning",
        repo=(("docker-compose.yml", COMPOSE), ("services/app/app.Dockerfile", APP_UID_1000)),
    ),
    Case(
        "UR201",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER),
        True,
        8,
        "warning",
        repo=((".github/workflows/ci.yml", WORKFLOW), ("services/app/build/Dockerfile", APP_UID_1000)),
    ),
    Case("UR201", "k8s/pod.yaml", pod(RESTRICTED_CONTAINER), True, 8, "warning", repo=(("app/Dockerfile", APP_NAMED),)),
    # Named, and no UID stated: a warning without a fix (runAsNonRoot: true would stop it).
    Case(
        "UR201",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER),
        True,
        8,
        "warning",
        repo=(("app/Dockerfile", APP_NAME_ONLY),),
    ),
    # Two directories named like the image: no match, so still the error.
    Case(
        "UR201",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER),
        True,
        8,
        "error",
        repo=(("web/app/Dockerfile", APP_UID_1000), ("worker/app/Dockerfile", APP_UID_1000)),
    ),
    # UR202: runAsUser 0.
    Case("UR202", "pod.yaml", pod("      runAsUser: 0\n" + RESTRICTED_CONTAINER, RESTRICTED_POD), True, 14),
    Case("UR202", "pod.yaml", pod("      runAsUser: 1000\n" + RESTRICTED_CONTAINER, RESTRICTED_POD), False),
    # A privileged container keeps root (no fix): a non-root process would not hold the power.
    Case(
        "UR202",
        "pod.yaml",
        pod("      runAsUser: 0\n      privileged: true\n", "    seccompProfile:\n      type: RuntimeDefault\n"),
        True,
        13,
    ),
    # A pod-level 0 that every container overrides still breaks the standard, as a warning.
    Case(
        "UR202",
        "pod.yaml",
        pod("      runAsUser: 1000\n" + RESTRICTED_CONTAINER, "    runAsUser: 0\n" + RESTRICTED_POD),
        True,
        7,
        "warning",
    ),
    # UR203: runAsNonRoot with UID 0.
    Case("UR203", "pod.yaml", pod("      runAsUser: 0\n" + RESTRICTED_CONTAINER, RESTRICTED_POD), True, 14),
    Case("UR203", "pod.yaml", pod("      runAsUser: 0\n" + RESTRICTED_CONTAINER), False),
    # UR204: privileged.
    Case("UR204", "pod.yaml", pod("      privileged: true\n" + RESTRICTED_CONTAINER, RESTRICTED_POD), True, 14),
    Case("UR204", "pod.yaml", pod("      privileged: True\n", RESTRICTED_POD), True, 14),
    Case("UR204", "pod.yaml", pod("      privileged: false\n" + RESTRICTED_CONTAINER, RESTRICTED_POD), False),
    # UR205: allowPrivilegeEscalation.
    Case("UR205", "pod.yaml", pod("      allowPrivilegeEscalation: true\n", RESTRICTED_POD), True, 14, "error"),
    Case("UR205", "pod.yaml", pod("      capabilities:\n        drop: [ALL]\n", RESTRICTED_POD), True, 12, "warning"),
    Case("UR205", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD), False),
    # Beside privileged: true the API server rejects allowPrivilegeEscalation: false: no fix.
    Case("UR205", "pod.yaml", pod("      privileged: true\n", RESTRICTED_POD), True, 12, "warning"),
    # UR206: capabilities.
    Case(
        "UR206",
        "pod.yaml",
        pod(
            "      allowPrivilegeEscalation: false\n      capabilities:\n        add: [SYS_ADMIN]\n        drop: [ALL]\n",
            RESTRICTED_POD,
        ),
        True,
        15,
        "error",
    ),
    Case(
        "UR206",
        "pod.yaml",
        pod(
            "      allowPrivilegeEscalation: false\n      capabilities:\n        add: [CHOWN]\n        drop: [ALL]\n",
            RESTRICTED_POD,
        ),
        True,
        15,
        "warning",
    ),
    Case(
        "UR206",
        "pod.yaml",
        pod("      allowPrivilegeEscalation: false\n      capabilities:\n        drop: [all]\n", RESTRICTED_POD),
        True,
        15,
        "warning",
    ),
    Case(
        "UR206",
        "pod.yaml",
        pod(
            "      allowPrivilegeEscalation: false\n      capabilities:\n        add: [NET_BIND_SERVICE]\n        drop: [ALL]\n",
            RESTRICTED_POD,
        ),
        False,
    ),
    # UR207: host namespaces.
    Case("UR207", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD, "  hostNetwork: true\n"), True, 10),
    Case("UR207", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD, "  hostPID: yes\n"), True, 10),
    Case("UR207", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD, "  hostIPC: false\n"), False),
    # UR208: group 0.
    Case("UR208", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD + "    runAsGroup: 0\n"), True, 10, "notice"),
    Case("UR208", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD + "    runAsUser: 1000\n"), True, 13),
    Case(
        "UR208",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD + "    runAsUser: 1000\n    runAsGroup: 1000\n"),
        False,
    ),
    # UR209: seccomp.
    Case("UR209", "pod.yaml", pod(RESTRICTED_CONTAINER, "    runAsNonRoot: true\n"), True, 10, "warning"),
    Case(
        "UR209",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, "    runAsNonRoot: true\n    seccompProfile:\n      type: Unconfined\n"),
        True,
        8,
        "error",
    ),
    Case(
        "UR209",
        "pod.yaml",
        pod(
            "      seccompProfile:\n        type: Localhost\n        localhostProfile: p.json\n" + RESTRICTED_CONTAINER,
            "    runAsNonRoot: true\n",
        ),
        False,
    ),
    Case("UR209", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD, "  os:\n    name: windows\n"), False),
    # UR210: container-only fields at pod level.
    Case("UR210", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD + "    privileged: false\n"), True, 10),
    Case("UR210", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD), False),
    # UR211: writable root filesystem.
    Case("UR211", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD), True, 12, "notice"),
    # A flow-style `volumes` list is not extended: no fix, and the message says why.
    Case("UR211", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD, "  volumes: []\n"), True, 13, "notice"),
    Case(
        "UR211", "pod.yaml", pod("      readOnlyRootFilesystem: true\n" + RESTRICTED_CONTAINER, RESTRICTED_POD), False
    ),
    # UR212: hostPath volumes; root-equivalent paths are errors, however the volume is mounted.
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/var/run/docker.sock"), MOUNT_READ_ONLY),
        True,
        13,
        "error",
    ),
    Case("UR212", "pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/")), True, 13, "error"),
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/var/lib/")),
        True,
        13,
        "error",
    ),
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/proc/sys/../1")),
        True,
        13,
        "error",
    ),
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/usr/libexec/plugins"), MOUNT),
        True,
        13,
        "error",
    ),
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/usr/share/zoneinfo"), MOUNT_READ_ONLY),
        True,
        13,
        "warning",
    ),
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/var/log"), MOUNT),
        True,
        13,
        "warning",
    ),
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, HOST_PATH.format(path="/etc/ssl/certs"), MOUNT_READ_ONLY),
        True,
        13,
        "warning",
    ),
    Case(
        "UR212",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD, "  volumes:\n  - name: scratch\n    emptyDir: {}\n"),
        False,
    ),
    # UR213: hostPort.
    Case(
        "UR213",
        "pod.yaml",
        pod(
            RESTRICTED_CONTAINER,
            RESTRICTED_POD,
            extra_container="    ports:\n    - containerPort: 8080\n      hostPort: 8080\n",
        ),
        True,
        19,
        "warning",
    ),
    Case(
        "UR213",
        "pod.yaml",
        pod(
            RESTRICTED_CONTAINER,
            RESTRICTED_POD,
            extra_container="    ports:\n    - containerPort: 8080\n      hostPort: 0\n",
        ),
        False,
    ),
    # UR214: unmasked /proc; only the restricted standard forbids it in a user namespace.
    Case(
        "UR214",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER + "      procMount: Unmasked\n", RESTRICTED_POD),
        True,
        17,
        "error",
    ),
    Case(
        "UR214",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER + "      procMount: Unmasked\n", RESTRICTED_POD, "  hostUsers: false\n"),
        True,
        18,
        "warning",
    ),
    Case("UR214", "pod.yaml", pod(RESTRICTED_CONTAINER + "      procMount: Default\n", RESTRICTED_POD), False),
    # UR215: SELinux options.
    Case(
        "UR215",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER + "      seLinuxOptions:\n        type: spc_t\n", RESTRICTED_POD),
        True,
        18,
        "error",
    ),
    Case(
        "UR215",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD + "    seLinuxOptions:\n      user: system_u\n"),
        True,
        11,
    ),
    Case(
        "UR215",
        "pod.yaml",
        pod(
            RESTRICTED_CONTAINER,
            RESTRICTED_POD + "    seLinuxOptions:\n      type: container_t\n      level: s0:c1,c2\n",
        ),
        False,
    ),
    # UR216: AppArmor switched off, by the field or the beta annotation.
    Case(
        "UR216",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER + "      appArmorProfile:\n        type: Unconfined\n", RESTRICTED_POD),
        True,
        17,
        "error",
    ),
    Case(
        "UR216",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD).replace(
            "  name: web\n",
            "  name: web\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/app: unconfined\n",
        ),
        True,
        6,
    ),
    Case(
        "UR216",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD + "    appArmorProfile:\n      type: RuntimeDefault\n").replace(
            "  name: web\n",
            "  name: web\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-app\n",
        ),
        False,
    ),
    # UR217: unsafe sysctls.
    Case(
        "UR217",
        "pod.yaml",
        pod(
            RESTRICTED_CONTAINER, RESTRICTED_POD + "    sysctls:\n    - name: net.core.somaxconn\n      value: '1024'\n"
        ),
        True,
        11,
        "error",
    ),
    Case(
        "UR217",
        "pod.yaml",
        pod(
            RESTRICTED_CONTAINER,
            RESTRICTED_POD + "    sysctls:\n    - name: net.ipv4.ip_local_port_range\n      value: 1024 65535\n",
        ),
        False,
    ),
    # UR218: Windows HostProcess.
    Case(
        "UR218",
        "pod.yaml",
        pod(
            RESTRICTED_CONTAINER,
            RESTRICTED_POD + "    windowsOptions:\n      hostProcess: true\n",
            "  os:\n    name: windows\n  hostNetwork: true\n",
        ),
        True,
        11,
        "error",
    ),
    Case(
        "UR218",
        "pod.yaml",
        pod(RESTRICTED_CONTAINER + "      windowsOptions:\n        hostProcess: false\n", RESTRICTED_POD),
        False,
    ),
    # UR219: PodSecurityPolicy objects, which hold no pod spec.
    Case("UR219", "psp.yaml", PSP, True, 2, "warning"),
    Case("UR219", "psp.yaml", PSP.replace("policy/v1beta1", "example.com/v1"), False),
    Case(
        "UR219",
        "psp.yaml",
        PSP.replace("  name: restricted\n", '  name: restricted\n  annotations:\n    unroot.dev/ignore: "UR219"\n'),
        False,
    ),
    # UR220: runAsNonRoot: true over an image the repository builds with a named user.
    Case(
        "UR220",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD),
        True,
        12,
        "error",
        repo=(("app/Dockerfile", APP_NAMED),),
    ),
    Case(
        "UR220",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD),
        True,
        12,
        repo=(("app/Dockerfile", APP_NAME_ONLY),),
    ),
    Case(
        "UR220",
        "k8s/pod.yaml",
        pod(RESTRICTED_CONTAINER, RESTRICTED_POD),
        False,
        repo=(("app/Dockerfile", APP_UID_1000),),
    ),
    Case(
        "UR220",
        "k8s/pod.yaml",
        pod("      runAsUser: 1000\n" + RESTRICTED_CONTAINER, RESTRICTED_POD),
        False,
        repo=(("app/Dockerfile", APP_NAMED),),
    ),
    Case("UR220", "k8s/pod.yaml", pod(RESTRICTED_CONTAINER, RESTRICTED_POD), False),  # nothing known of the image
    # UR301: a compose service runs as root.
    Case("UR301", "compose.yaml", compose("    user: root\n"), True, 4, "error"),
    Case("UR301", "docker-compose.yml", compose('    user: "0:0"\n'), True, 4),
    Case("UR301", "docker-compose.override.yml", compose("    user: root:staff\n"), True, 4),
    Case("UR301", "compose.prod.yaml", compose("    user: 0\n"), True, 4),
    Case("UR301", "deploy/stack.yml", compose("    user: '0'\n"), True, 4),  # found by its shape
    Case("UR301", "compose.yaml", 'services: {app: {image: "example/app:1.0", user: root}}\n', True, 1),
    Case("UR301", "compose.yaml", compose("    user: ${RUN_AS:-root}\n"), True, 4),  # no fix: says why
    Case("UR301", "compose.yaml", compose("    user: root\n    volumes:\n      - data:/var/lib/app\n"), True, 4),
    Case("UR301", "compose.yaml", "services:\n  app:\n    build: .\n    user: root\n", True, 4),
    Case("UR301", "compose.yaml", compose("    user: root\n").replace("example/app:1.0", "bitnami/redis:7.2"), True, 4),
    Case("UR301", "compose.yaml", MERGED_ROOT, True, 4),  # through a merge key: no fix
    Case("UR301", "compose.yaml", compose('    user: "1000:1000"\n'), False),
    Case("UR301", "compose.yaml", compose("    user: rootless\n"), False),
    Case("UR301", "compose.yaml", compose("    user: ${UID}:${GID}\n"), False),
    Case("UR301", "compose.yaml", compose("    user: $$root\n"), False),
    Case(
        "UR301",
        ".woodpecker.yml",
        "steps:\n  build:\n    image: x\nservices:\n  db:\n    image: x\n    user: root\n",
        False,
    ),
    # UR302: privileged.
    Case("UR302", "compose.yaml", compose("    privileged: true\n"), True, 4, "error"),
    Case("UR302", "compose.yaml", compose('    privileged: "true"\n'), True, 4),
    Case("UR302", "compose.yaml", compose("    privileged: false\n"), False),
    # UR303: capabilities beyond Docker's default set.
    Case("UR303", "compose.yaml", compose("    cap_add: [SYS_ADMIN]\n"), True, 4, "error"),
    Case("UR303", "compose.yaml", compose("    cap_add:\n      - CAP_SYS_PTRACE\n      - chown\n"), True, 4),
    Case("UR303", "compose.yaml", compose("    cap_add: [ALL]\n"), True, 4),
    Case("UR303", "compose.yaml", compose("    cap_add: [NET_BIND_SERVICE, CHOWN, NET_RAW]\n"), False),
    # UR304: host namespaces.
    Case("UR304", "compose.yaml", compose("    network_mode: host\n"), True, 4, "error"),
    Case("UR304", "compose.yaml", compose('    pid: "host"\n'), True, 4),
    Case("UR304", "compose.yaml", compose("    ipc: host\n"), True, 4),
    Case("UR304", "compose.yaml", compose('    network_mode: "service:db"\n    ipc: shareable\n'), False),
    # UR305: the runtime's socket or a host system directory mounted.
    Case(
        "UR305",
        "compose.yaml",
        compose("    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n"),
        True,
        5,
        "error",
    ),
    Case(
        "UR305",
        "compose.yaml",
        compose(
            "    volumes:\n      - type: bind\n        source: /run/containerd/containerd.sock\n        target: /c.sock\n"
        ),
        True,
        5,
    ),
    Case(
        "UR305",
        "compose.yaml",
        compose("    volumes:\n      - ${SOCK:-/var/run/docker.sock}:/var/run/docker.sock\n"),
        True,
        5,
    ),
    Case("UR305", "compose.yaml", compose("    volumes:\n      - ${SOCK}:/var/run/docker.sock:ro\n"), True, 5),
    Case("UR305", "compose.yaml", compose("    volumes:\n      - /etc:/host/etc\n"), True, 5, "error"),
    Case("UR305", "compose.yaml", compose("    volumes:\n      - /:/rootfs:ro\n"), True, 5, "warning"),
    Case(
        "UR305",
        "compose.yaml",
        compose(
            "    volumes:\n      - /etc/localtime:/etc/localtime:ro\n      - ./data:/data\n      - cache:/var/run\n"
        ),
        False,
    ),
    # UR306: no cap_drop: [ALL] or no no-new-privileges.
    Case("UR306", "compose.yaml", compose(), True, 2, "notice"),
    Case("UR306", "compose.yaml", compose('    user: "10001:10001"\n'), True, 2),
    Case(
        "UR306",
        "compose.yaml",
        compose("    cap_drop: [ALL]\n    security_opt:\n      - no-new-privileges:false\n"),
        True,
        2,
    ),
    Case("UR306", "compose.yaml", compose(HARDENED), False),
    Case("UR306", "compose.yaml", compose("    extends:\n      file: common.yaml\n      service: base\n"), False),
)
