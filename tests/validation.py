"""Checks that a fixed file is still a valid file of its kind, with its comments intact."""

from __future__ import annotations

import io
import re

import kubernetes_validate
from ruamel.yaml import YAML

from rules.analyze import file_kind
from rules.model import FileKind

K8S_VERSION = "1.30"


def comments(text: str) -> list[str]:
    """Comment lines, stripped, in order."""
    return [line.strip() for line in re.split(r"\r\n|\r|\n", text) if line.strip().startswith("#")]


def assert_valid_after_fix(path: str, original: str, fixed: str) -> None:
    """The fixed file parses, keeps every comment, and validates as Kubernetes (manifests) or stays a compose file."""
    before = comments(original)
    after = comments(fixed)
    kept = iter(after)
    assert all(any(c == a for a in kept) for c in before), "a comment was lost"
    if file_kind(path) is FileKind.COMPOSE:
        loaded = YAML(typ="safe", pure=True).load(io.StringIO(fixed))
        assert isinstance(loaded, dict) and isinstance(loaded.get("services"), dict), "no longer a compose file"
        assert all(isinstance(service, dict) for service in loaded["services"].values())
        return
    if file_kind(path) is not FileKind.KUBERNETES:
        return
    originals = list(YAML(typ="safe", pure=True).load_all(io.StringIO(original)))
    for index, document in enumerate(YAML(typ="safe", pure=True).load_all(io.StringIO(fixed))):
        if isinstance(document, dict) and "apiVersion" in document and "kind" in document:
            try:
                kubernetes_validate.validate(document, K8S_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                # The schema reads YAML 1.2 (`hostPID: yes` is a string there, true for Kubernetes' YAML 1.1
                # decoder): what the original file already fails with is not the fix's doing.
                if str(error) != _invalid_as(originals[index] if index < len(originals) else None):
                    raise


def _invalid_as(document: object) -> str:
    """Why the original document fails validation ("" when it passes)."""
    try:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return str(error)
    return ""
