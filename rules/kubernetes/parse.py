"""Manifest text -> Kubernetes objects with positions, and the shape of a pod spec found in them.

Where pod specs are found is discovery.py's business.

Parsing uses ruamel.yaml's C composer (nodes with line marks, about 4 MB/s) rather
than the round-trip loader (about 0.1 MB/s); fixes are made on the text by position.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver

from rules.kubernetes.nodes import as_str, children, path, value
from rules.suppression import rule_ids

# The container lists of a Kubernetes PodSpec, in the order rules see them.
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# How messages name a container by where it is listed (a PodSpec's lists, and wrapper kinds' own).
_CONTAINER_WORDS = {
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
    "sidecars": "sidecar",
    "steps": "step",
    "script": "script",
}
# A line whose structure is a Go template: Helm and similar charts, not manifests. The value may
# be quoted (`name: "{{ include "app.name" . }}"`): the inner quotes are what breaks the YAML.
_TEMPLATE_LINE = re.compile(r"^[ \t]*(?:-[ \t]+)?(?:[\w.\-\"']+:[ \t]+)?[\"']?\{\{", re.MULTILINE)
# Kubernetes objects are a few dozen levels deep; the C composer recurses once a level without
# a limit, so a deeper document could overflow the C stack. Refuse it before composing.
MAX_DEPTH = 1000
_LINE_PREFIX = re.compile(r"^( *)((?:[-?][ \t]+)*)", re.MULTILINE)
_BRACKETS = re.compile(r"[\[\]{}]")
# Expanding aliases beyond this many nodes is treated as an alias bomb.
MAX_EXPANDED_NODES = 1_000_000


class _PlainResolver(BaseResolver):
    """Resolves no implicit tags: every plain scalar stays a string."""

    def __init__(self, version: object = None, loadumper: object = None) -> None:
        super().__init__(loadumper)

    def resolve(self, kind: object, value: object, implicit: object) -> object:
        """The default tag of the node kind, without looking at the value."""
        if kind is ScalarNode:
            return self.DEFAULT_SCALAR_TAG
        return self.DEFAULT_SEQUENCE_TAG if kind is SequenceNode else self.DEFAULT_MAPPING_TAG

    def descend_resolver(self, current_node: object, current_index: object) -> None:
        """Path resolvers are not used."""

    def ascend_resolver(self) -> None:
        """Path resolvers are not used."""


class ManifestError(ValueError):
    """The text cannot be analysed as Kubernetes manifests; the message says why."""


@dataclass(frozen=True)
class Container:
    """One container of a pod spec: an item of a container list, or a wrapper kind's single container."""

    list_name: str  # "containers", "initContainers", ...; "container"/"script" for a single mapping
    name: str
    node: MappingNode
    where: str = ""  # where a wrapper kind keeps it, when the pod's label does not say: "templates[0] 'main'"
    # A patch an operator merges into a container of its own (an ECK podTemplate container without
    # `image`): the operator's defaults fill in what it omits, so only what it sets is judged.
    merged: bool = False
    # Container-level defaults merged under its own settings (Tekton's stepTemplate), if any.
    defaults: MappingNode | None = None
    # The list it is an item of (key and sequence), which tells the file's indentation style.
    listed_in: tuple[ScalarNode, SequenceNode] | None = None

    @property
    def label(self) -> str:
        """How messages name it: "init container 'setup'", "sidecar 'dind' of templates[0] 'main'"."""
        text = f"{_CONTAINER_WORDS.get(self.list_name, 'container')} '{self.name}'"
        return f"{text} of {self.where}" if self.where else text


@dataclass(frozen=True)
class PodSpec:
    """A pod spec inside an object, with the object it belongs to.

    Most kinds hold a Kubernetes PodSpec, whose own `securityContext` is the pod's. Wrapper
    kinds differ, and discovery says how: the pod-level securityContext may live in another
    mapping (an Argo template's own), or nowhere (a Tekton Task: fixes then go into each
    container), and an operator's patch (`patch`) is merged into a pod of the operator's own.
    """

    object_label: str  # "Deployment/web": the object that defines the pod
    object_node: MappingNode
    template_node: MappingNode | None  # the pod template (holds metadata), if any
    spec: MappingNode  # holds the pod-level fields: hostNetwork, volumes, os, hostUsers
    containers: tuple[Container, ...]
    where: str = ""  # the pod's place inside a wrapper object: "spec.daemonSet.podTemplate"
    outer: str = ""  # the objects it is nested in, when not a List: "Template/db objects[2]"
    # The mapping whose `securityContext` is the pod's: `spec` itself unless it is elsewhere or
    # absent (context_elsewhere), e.g. None for a Tekton Task, which has no pod-level one.
    context_node: MappingNode | None = None
    context_elsewhere: bool = False
    patch: bool = False  # an operator merges this into its own pod (ECK `podTemplate`)
    # Objects around it whose `unroot.dev/ignore` annotation applies too (a Template).
    outer_nodes: tuple[MappingNode, ...] = ()

    @property
    def label(self) -> str:
        """How messages name the pod: "Deployment/web", "Beat/filebeat spec.daemonSet.podTemplate"."""
        return " ".join(part for part in (self.outer, self.object_label, self.where) if part)

    @property
    def context_owner(self) -> MappingNode | None:
        """The mapping that holds (or would hold) the pod's securityContext; None when the kind has none."""
        return self.context_node if self.context_elsewhere else self.spec

    @property
    def suppressed(self) -> frozenset[str]:
        """Rule IDs switched off by the `unroot.dev/ignore` annotation."""
        return suppressed_by(*self.outer_nodes, self.object_node, self.template_node)


def suppressed_by(*holders: Node | None) -> frozenset[str]:
    """Rule IDs switched off by the `unroot.dev/ignore` annotation in any of the holders' metadata."""
    ids: set[str] = set()
    for holder in holders:
        text = as_str(path(holder, "metadata", "annotations", "unroot.dev/ignore"))
        if text:
            ids.update(rule_ids(text))
    return frozenset(ids)


def looks_like_template(text: str) -> bool:
    """True for Helm-style templates: `{{ }}` where YAML structure should be."""
    return "{{" in text and bool(_TEMPLATE_LINE.search(text))


def nesting_bound(text: str) -> int:
    """An upper bound on the YAML nesting depth: indentation plus leading `- `/`? ` markers on a
    line, plus open flow brackets (quoted brackets only make it larger, never smaller)."""
    deepest = 0
    for match in _LINE_PREFIX.finditer(text):
        depth = len(match.group(1)) + match.group(2).count("-") + match.group(2).count("?")
        deepest = max(deepest, depth)
    if "[" in text or "{" in text:
        open_brackets = 0
        for bracket in _BRACKETS.finditer(text):
            open_brackets += 1 if bracket.group() in "[{" else -1
            deepest = max(deepest, open_brackets)
    return deepest


def _refuse_duplicate_keys(mapping: MappingNode) -> None:
    """Kubernetes rejects a mapping with a repeated key; so do we, instead of guessing which wins."""
    seen: set[str] = set()
    for key, _value in mapping.value:
        if isinstance(key, ScalarNode):
            if key.value in seen:
                raise ManifestError(f"duplicate key '{key.value}' at line {key.start_mark.line + 1}")
            seen.add(key.value)


def refuse_duplicates_below(pod: PodSpec) -> None:
    """Duplicate keys where we read and edit (pod spec, containers, securityContexts): never guess."""
    pod_context = value(pod.context_owner, "securityContext")
    mappings: list[Node | None] = [pod.spec, pod.context_owner, pod_context, value(pod_context, "seccompProfile")]
    for container in pod.containers:
        for owner in (container.node, container.defaults):
            context = value(owner, "securityContext")
            mappings += [owner, context, value(context, "capabilities"), value(context, "seccompProfile")]
    for mapping in mappings:
        if isinstance(mapping, MappingNode):
            _refuse_duplicate_keys(mapping)


def _expanded_size(root: Node, limit: int) -> int:
    """How many nodes the document has once aliases are expanded (stops past `limit`).

    Each distinct collection is sized once, so an alias bomb costs the size of its text. A
    collection that contains itself through an alias (`a: &x [*x]`) expands without end: it
    raises ManifestError, as Kubernetes' YAML decoder refuses it too.
    """
    if not isinstance(root, (MappingNode, SequenceNode)):
        return 1
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    stack: list[Node] = [root]
    while stack:
        node = stack[-1]
        if id(node) in sizes:
            stack.pop()
            continue
        kids = children(node)
        if id(node) not in open_nodes:
            open_nodes.add(id(node))
            pending = [c for c in kids if isinstance(c, (MappingNode, SequenceNode)) and id(c) not in sizes]
            if any(id(c) in open_nodes for c in pending):
                raise ManifestError(
                    f"a YAML alias at line {node.start_mark.line + 1} refers to a collection that contains it (recursive alias)"
                )
            if pending:
                stack.extend(dict.fromkeys(pending))  # each child once, however often it is listed
                continue
        total = 1 + sum(sizes.get(id(c), 1) for c in kids)
        sizes[id(node)] = total
        open_nodes.discard(id(node))
        stack.pop()
        if total > limit:
            return total
    return sizes[id(root)]


# Line breaks to YAML (and so to Kubernetes) that git, GitHub and our line model do not count.
YAML_ONLY_BREAKS = ("\x85", "\u2028", "\u2029")


@dataclass(frozen=True)
class _Mark:
    """A node position in our line model (lines split at CR LF, CR and LF only)."""

    line: int  # 0-based, like ruamel's
    column: int
    index: int


def _remap_positions(documents: list[Node], text: str) -> None:
    """Re-express every node's marks in lines as git counts them. ruamel (like Kubernetes'
    decoder) also breaks lines at NEL, LS and PS; its line numbers then run past ours. Marks
    carry the character index, so each position is recomputed from it once, here."""
    starts = [0] + [match.end() for match in re.finditer(r"\r\n|\r|\n", text)]

    def mark(index: int) -> _Mark:
        line = bisect.bisect_right(starts, index) - 1
        return _Mark(line, index - starts[line], index)

    seen: set[int] = set()
    stack = list(documents)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.start_mark = mark(int(node.start_mark.index))
        node.end_mark = mark(int(node.end_mark.index))
        stack.extend(children(node))


def load_documents(text: str) -> list[MappingNode]:
    """Every document of a YAML or JSON stream that is a mapping; raises ManifestError."""
    return [document for document in load_nodes(text) if isinstance(document, MappingNode)]


def load_nodes(text: str) -> list[Node]:
    """Every document of a YAML or JSON stream (mappings, and lists such as JSON 6902 patches); raises ManifestError."""
    if nesting_bound(text) > MAX_DEPTH:
        raise ManifestError(f"YAML nested more than {MAX_DEPTH} levels deep")
    loader = YAML(typ="safe", pure=False)
    # Tags are not needed (scalars are read the way Kubernetes reads them, in nodes.py);
    # the base resolver skips the versioned implicit-tag regexes, a third of parse time.
    loader.Resolver = _PlainResolver
    documents: list[Node] = []
    # Without an anchor there is no alias, so nothing can expand: skip the walk (a fifth of the time).
    has_aliases = "&" in text and "*" in text
    try:
        for document in loader.compose_all(text):
            if has_aliases and _expanded_size(document, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
                raise ManifestError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)")
            if isinstance(document, (MappingNode, SequenceNode)):
                documents.append(document)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {text.count(chr(10), 0, int(mark.index)) + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ManifestError(f"invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise ManifestError("YAML nested too deeply to analyse") from None
    if any(char in text for char in YAML_ONLY_BREAKS):
        _remap_positions(list(documents), text)
    return documents
