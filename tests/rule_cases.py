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


RESTRICTED_CONTAINER = '      allowPrivilegeEscalation: false\n      capabilities:\n        drop: ["ALL"]\n'
RESTRICTED_POD = "    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n"

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
    "ARG BASE_IMAGE=quay.io/jupyter/base-notebook\nFROM $BASE_IMAGE\nRUN pip install --no-cache-dir rise\n"
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
    # UR102: no USER and a root base image.
    Case("UR102", "Dockerfile", 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n', True, 3),
    Case("UR102", "Containerfile", 'FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n', True, 3),
    Case("UR102", "api.dockerfile", "FROM alpine:3.20\n", True, 1),
    Case("UR102", "Dockerfile.prod", "FROM gcr.io/distroless/static:nonroot\nCOPY app /app\n", False),
    Case("UR102", "Dockerfile", "FROM bitnami/nginx:1.27\n", False),
    Case("UR102", "Dockerfile", "FROM nginxinc/nginx-unprivileged:1.27\n", False),
    Case("UR102", "Dockerfile", "FROM debian:12\nUSER 1000\n", False),
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
    Case("UR103", "Dockerfile", "FROM gcr.io/distroless/static:nonroot\nCOPY app /app\n", True),
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
    Case(
        "UR211", "pod.yaml", pod("      readOnlyRootFilesystem: true\n" + RESTRICTED_CONTAINER, RESTRICTED_POD), False
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
)
