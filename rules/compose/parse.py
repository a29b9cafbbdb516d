"""Compose file text -> its services, each key resolved through `<<` merge keys, with positions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes.nodes import as_str, shared_nodes, value
from rules.kubernetes.parse import ManifestError, load_documents

# Top-level keys of the Compose specification; a file with any other (`steps:`, `pipeline:`, a
# Woodpecker or Drone CI file) is not a compose file, whatever its `services:` look like.
TOP_LEVEL_KEYS = frozenset(
    {"version", "name", "include", "services", "networks", "volumes", "configs", "secrets", "models"}
)
_TOP_LEVEL_SERVICES = re.compile(r"^services[ \t]*:", re.MULTILINE)
_MERGE = "<<"


@dataclass(frozen=True)
class Entry:
    """One key of a service as Compose reads it, after merge keys."""

    key: ScalarNode
    value: Node
    inherited: bool  # it comes from a `<<:` merge (an anchor elsewhere), not the service's own mapping


@dataclass(frozen=True)
class Service:
    """One service of a compose file."""

    name: str
    key: ScalarNode  # the service's name in `services:`
    node: MappingNode
    entries: dict[str, Entry]
    shared: frozenset[int]  # ids of the file's nodes reached through an alias

    @property
    def label(self) -> str:
        """How messages name it."""
        return f"service '{self.name}'"

    def get(self, name: str) -> Entry | None:
        """The entry for `name` as Compose reads it, or None."""
        return self.entries.get(name)

    @property
    def own_node(self) -> bool:
        """True when the service's mapping is its own, not an alias of (or an anchor for) another's."""
        return id(self.node) not in self.shared

    def editable(self, entry: Entry) -> bool:
        """True when an edit of this entry changes this service alone (no alias, no merge, no anchor)."""
        return not entry.inherited and id(entry.value) not in self.shared and self.own_node


def merged_entries(mapping: MappingNode) -> dict[str, Entry]:
    """A mapping's keys with `<<` merges resolved: own keys win, then earlier merged mappings."""
    own: dict[str, Entry] = {}
    merged: dict[str, Entry] = {}
    for key, item in mapping.value:
        if not isinstance(key, ScalarNode):
            continue
        if key.value == _MERGE and key.style in (None, ""):  # a quoted "<<" is an ordinary key
            sources = item.value if isinstance(item, SequenceNode) else [item]
            for source in sources:
                if isinstance(source, MappingNode):
                    for name, entry in merged_entries(source).items():
                        merged.setdefault(name, Entry(entry.key, entry.value, True))
            continue
        own[str(key.value)] = Entry(key, item, False)  # a repeated key: the last wins
    return {**merged, **own}


def is_compose(document: MappingNode) -> bool:
    """A top-level `services:` mapping of service mappings, at least one with `image` or `build`,
    and no top-level key outside the Compose specification's (`x-` extensions allowed)."""
    for key, _item in document.value:
        name = as_str(key) if isinstance(key, ScalarNode) else None
        if name is None or (name not in TOP_LEVEL_KEYS and not name.startswith("x-")):
            return False
    services = value(document, "services")
    if not isinstance(services, MappingNode):
        return False
    found = False
    for _key, item in services.value:
        if not isinstance(item, MappingNode):
            return False
        entries = merged_entries(item)
        found = found or "image" in entries or "build" in entries
    return found


def _refuse_duplicate_keys(mapping: MappingNode) -> None:
    """Docker Compose refuses a mapping with a repeated key ("already defined"); so do we, instead of guessing."""
    seen: set[str] = set()
    for key, _item in mapping.value:
        if isinstance(key, ScalarNode):
            if key.value in seen:
                raise ManifestError(f"duplicate key '{key.value}' at line {key.start_mark.line + 1}")
            seen.add(str(key.value))


def may_be_compose(text: str) -> bool:
    """Cheap test before parsing a YAML file of another name: a top-level `services:` and no `apiVersion`."""
    return "apiVersion" not in text and bool(_TOP_LEVEL_SERVICES.search(text))


def services(text: str, *, require_shape: bool) -> list[Service] | None:
    """The services of a compose file; None when `require_shape` and it is not one. Raises ManifestError."""
    documents = load_documents(text)
    if len(documents) != 1:
        if require_shape:
            return None
        if not documents:
            return []
        raise ManifestError("a compose file holds one YAML document, this one holds several")
    document = documents[0]
    if require_shape and not is_compose(document):
        return None
    shared = shared_nodes([document]) if "&" in text and "*" in text else frozenset()
    holder = value(document, "services")
    if not isinstance(holder, MappingNode):
        return []
    _refuse_duplicate_keys(document)
    _refuse_duplicate_keys(holder)
    found: list[Service] = []
    for key, item in holder.value:
        if isinstance(key, ScalarNode) and isinstance(item, MappingNode):
            _refuse_duplicate_keys(item)
            found.append(Service(str(key.value), key, item, merged_entries(item), shared))
    return found
