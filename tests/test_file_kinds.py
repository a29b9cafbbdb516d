"""Which files each analyser reads by name, and what it says of templates it cannot read."""

from __future__ import annotations

import pytest

from rules.analyze import analyze, file_kind
from rules.model import FileKind

DOCKERFILES = [
    "Dockerfile",
    "dockerfile",
    "Containerfile",
    "Dockerfile.prod",
    "build/Dockerfile-debug",  # linkerd's debug image
    "Dockerfile-chroot",  # ingress-nginx
    "Dockerfile_base",
    "svc/api.dockerfile",
    "images/web.Containerfile",
]
NOT_DOCKERFILES = [
    "Dockerfile.template",  # a generator's input (docker-library), not what gets built
    "Dockerfile.debian.tmpl",
    "Dockerfile.j2",
    "Dockerfile.in",
    "Dockerfile.license",  # REUSE licence companion
    "Dockerfile.dockerignore",  # BuildKit's ignore list for that Dockerfile
    "hack/boilerplate/boilerplate.Dockerfile.txt",
    "docs/Dockerfile.md",
    "Dockerfiles",
    "Dockerfile.orig",
]


@pytest.mark.parametrize("path", DOCKERFILES)
def test_dockerfile_names_are_read_as_dockerfiles(path: str) -> None:
    assert file_kind(path) is FileKind.DOCKERFILE
    assert [f.rule for f in analyze(path, 'FROM debian:12\nCMD ["sh"]\n')] == ["UR102"]


@pytest.mark.parametrize("path", NOT_DOCKERFILES)
def test_generators_and_companions_are_not_dockerfiles(path: str) -> None:
    assert file_kind(path) is None
    assert analyze(path, 'FROM debian:12\nCMD ["sh"]\n') == []


def test_a_quoted_placeholder_is_called_a_template_not_invalid_yaml() -> None:
    text = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "{{ include "x" . }}"\nspec:\n  containers: []\n'
    [finding] = analyze("chart/templates/pod.yaml", text)
    assert "template" in finding.message and "invalid YAML" not in finding.message
