"""Reading a rendered chart: each pod's and container's securityContext as plain data, by workload."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes.discovery import pod_specs
from rules.kubernetes.nodes import as_bool, as_int, as_str, first_line, get, last_line
from rules.kubernetes.parse import ManifestError, load_documents

POD = ""  # the container name that stands for the pod level in a `Place`


@dataclass(frozen=True)
class Place:
    """Where a securityContext sits in a rendered chart: a template's object, at pod level or in a container."""

    template: str  # chart-relative template path, "templates/deployment.yaml"
    workload: str  # "Deployment/rel-web", as findings name it
    container: str  # the container's name, or POD


@dataclass(frozen=True)
class Context:
    """One rendered securityContext, with the lines that anchor it in the rendered text."""

    place: Place
    settings: dict[str, object]  # the securityContext as plain data ({} when absent)
    line: int  # the rendered line of the container's first key, or of the pod spec's first key
    block: tuple[int, int] | None = None  # rendered lines of the `securityContext:` entry, when there is one

    def holds(self, line: int) -> bool:
        """True when a rendered line lies in this securityContext's entry."""
        return self.block is not None and self.block[0] <= line <= self.block[1]


def plain(node: Node | None) -> object:
    """A node as plain data, scalars read the way Kubernetes reads them (true, 10001, "text")."""
    if isinstance(node, MappingNode):
        return {str(plain(key)): plain(item) for key, item in node.value}
    if isinstance(node, SequenceNode):
        return [plain(item) for item in node.value]
    if isinstance(node, ScalarNode):
        for read in (as_bool, as_int):
            found = read(node)
            if found is not None:
                return found
        return as_str(node)
    return None


def contexts(template: str, text: str) -> Iterator[Context]:
    """Every pod-level and container securityContext of one rendered template (none if it does not parse)."""
    try:
        documents = load_documents(text)
    except ManifestError:
        return
    for document in documents:
        try:
            pods = pod_specs(document)
        except ManifestError:
            continue
        for pod in pods:
            owner = pod.context_owner
            if owner is not None:
                yield _context(Place(template, pod.object_label, POD), owner)
            for container in pod.containers:
                yield _context(Place(template, pod.object_label, container.name), container.node)


def _context(place: Place, holder: MappingNode) -> Context:
    pair = get(holder, "securityContext")
    settings = plain(pair[1]) if pair else None
    block = (first_line(pair[0]), max(first_line(pair[0]), last_line(pair[1]))) if pair else None
    return Context(place, settings if isinstance(settings, dict) else {}, first_line(holder), block)


def all_contexts(manifests: tuple[tuple[str, str], ...]) -> dict[Place, Context]:
    """Every securityContext of a render, by place (a later duplicate place keeps the first)."""
    found: dict[Place, Context] = {}
    for template, text in manifests:
        for context in contexts(template, text):
            found.setdefault(context.place, context)
    return found
