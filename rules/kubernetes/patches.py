"""Where kustomize patches are: files a kustomization names, inline `patch:` texts, and lone patch-shaped objects."""

from __future__ import annotations

from collections.abc import Callable

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes.nodes import as_str, first_line, value
from rules.kubernetes.parse import ManifestError, PodSpec, load_nodes
from rules.kubernetes.patch import judge_document
from rules.model import Finding
from rules.ur001_file_skipped import skipped

PATCH_KEYS = ("patches", "patchesStrategicMerge", "patchesJson6902")


def looks_like_patch(pods: list[PodSpec]) -> bool:
    """A workload no API server would accept but kustomize merges: containers, none with an `image`,
    no `selector`, and not a bare Pod.
    Operator patches (ECK podTemplate, Tekton steps) are discovery's, judged as merged containers
    instead. (A pod template without containers is judged as a patch only when a kustomization
    says it is one: such files are not even parsed otherwise.)"""
    if any(pod.patch for pod in pods):
        return False
    if any(
        value(value(pod.object_node, "spec"), "selector") is not None or as_str(value(pod.object_node, "kind")) == "Pod"
        for pod in pods
    ):
        # A patch leaves the selector to its base (it cannot change one), and bare Pods are not what
        # overlays patch: such an object is a whole workload that lacks images (a scanner's fixture,
        # a generator's output). Named by a kustomization, it is a patch all the same (known_patch).
        return False
    containers = [container for pod in pods for container in pod.containers]
    return bool(containers) and not any(value(container.node, "image") is not None for container in containers)


def known_patch(path_: str, text: str) -> list[Finding]:
    """A file a kustomization uses as a patch: every document judged on what it sets."""
    try:
        documents = load_nodes(text)
    except ManifestError as error:
        return [skipped(path_, f"a kustomize patch that cannot be read: {error}")]
    return [finding for document in documents for finding in judge_document(path_, document)]


def _lines_of(block: ScalarNode) -> Callable[[int], int]:
    """Lines of an inline patch's text as lines of the kustomization: a literal block (`|`) keeps
    them one for one below its indicator; any other scalar is one place, its own line."""
    start = first_line(block)
    if block.style == "|":
        return lambda line: start + line
    return lambda _line: start


def _target(entry: Node) -> str:
    """How messages name what an entry patches: its `target` ("Deployment/web"), when given."""
    target = value(entry, "target")
    kind, name = as_str(value(target, "kind")), as_str(value(target, "name"))
    if kind and name:
        return f"{kind}/{name}"
    return kind or ""


def inline_patches(path_: str, text: str) -> list[Finding]:
    """A kustomization's inline patches (`patches: [{patch: |- ...}]`, inline strategic merge
    texts), judged at their lines in the kustomization file."""
    if "patch" not in text:
        return []
    try:
        documents = load_nodes(text)
    except ManifestError:
        return []  # kustomize refuses it too; a kustomization holds no workload to report unread
    findings: list[Finding] = []
    for document in documents:
        for key in PATCH_KEYS:
            entries = value(document, key)
            for entry in entries.value if isinstance(entries, SequenceNode) else []:
                block = value(entry, "patch") if isinstance(entry, MappingNode) else entry
                if not isinstance(block, ScalarNode) or "\n" not in str(block.value) and "op" not in str(block.value):
                    continue  # a path: that file is judged as a patch itself
                try:
                    inner = load_nodes(str(block.value))
                except ManifestError:
                    continue
                line_of = _lines_of(block)
                for patch in inner:
                    findings.extend(judge_document(path_, patch, line_of, _target(entry)))
    return findings
