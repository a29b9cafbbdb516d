"""Which value feeds which securityContext, learnt from Helm itself: render with sentinels, see where they land.

Every candidate value (a `securityContext`-like mapping in values.yaml, or a conventional name
the chart may read without declaring it) gets its own sentinel `runAsUser` in one extra render;
a rendered securityContext that holds sentinel N is fed by candidate N. No template text is read,
so `toYaml .Values.x | nindent 8`, Bitnami's `renderSecurityContext`, `with`, `merge` and
includes all count alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from rules.helm.render import ChartSource, Renderer, RenderRequest
from rules.helm.rendered import Place, all_contexts

ValuePath = tuple[str, ...]
# Names a chart reads for pod and container securityContexts by convention (helm create,
# Bitnami, prometheus-community), probed even when values.yaml does not declare them.
CONVENTIONAL: tuple[ValuePath, ...] = (("podSecurityContext",), ("securityContext",), ("containerSecurityContext",))
_CANDIDATE = re.compile(r"securitycontext$", re.IGNORECASE)
_SENTINEL_BASE = 7_340_001  # a UID no chart sets by itself
_MAX_CANDIDATES = 200
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Provenance:
    """The values that feed rendered securityContexts, for one chart and one set of values files."""

    feeds: Mapping[Place, ValuePath]  # a rendered securityContext -> the value it comes from
    declared: frozenset[ValuePath]  # candidates that values.yaml itself holds

    def source(self, place: Place) -> ValuePath | None:
        """The value that sets this place's securityContext, if one does."""
        return self.feeds.get(place)


def load_values(text: str) -> object:
    """values.yaml as plain data, or None when it does not parse (Helm then refuses the chart anyway)."""
    try:
        return YAML(typ="safe", pure=False).load(text)
    except (YAMLError, RecursionError, ValueError):
        return None


def candidates(values: object) -> list[ValuePath]:
    """securityContext-like mappings (or nulls) declared in the values, then the conventional ones."""
    found: list[ValuePath] = []

    def walk(node: object, prefix: ValuePath) -> Iterator[ValuePath]:
        if not isinstance(node, dict) or len(prefix) >= _MAX_DEPTH:
            return
        for key, item in node.items():
            if not isinstance(key, str):
                continue
            here = (*prefix, key)
            if _CANDIDATE.search(key) and (item is None or isinstance(item, dict)):
                yield here
            elif isinstance(item, dict):
                yield from walk(item, here)

    for path in walk(values, ()):
        if len(found) >= _MAX_CANDIDATES:
            break
        found.append(path)
    for path in CONVENTIONAL:
        if path not in found and not _declared_otherwise(values, path):
            found.append(path)
    return found


def _declared_otherwise(values: object, path: ValuePath) -> bool:
    """The values hold something at `path` that is not a mapping (a string, a list): not ours to probe."""
    node = lookup(values, path)
    return _declares(values, path) and node is not None and not isinstance(node, dict)


def lookup(values: object, path: ValuePath) -> object:
    """What the values hold at `path`, or None."""
    node = values
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def sentinel_values(values: object, paths: list[ValuePath]) -> dict[str, object]:
    """The `--set-json`-like overrides that give candidate i the sentinel runAsUser _SENTINEL_BASE + i.

    A Bitnami-style mapping with `enabled` is switched on, or it would render nothing."""
    overrides: dict[str, object] = {}
    for index, path in enumerate(paths):
        node = overrides
        for key in path[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            leaf: dict[str, object] = {"runAsUser": _SENTINEL_BASE + index}
            existing = lookup(values, path)
            if isinstance(existing, dict) and "enabled" in existing:
                leaf["enabled"] = True
            current = node.get(path[-1])
            if isinstance(current, dict):
                current.update(leaf)
            else:
                node[path[-1]] = leaf
    return overrides


def _declares(values: object, path: ValuePath) -> bool:
    """True when the values hold the key at `path` (even with a null or empty value)."""
    node = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _probe(
    chart: ChartSource, renderer: Renderer, values: object, paths: list[ValuePath], values_files: tuple[str, ...]
) -> dict[Place, ValuePath]:
    """One render with a sentinel in each of `paths`: where each sentinel landed."""
    if not paths:
        return {}
    rendered = renderer.render(chart, RenderRequest(values_files=values_files, values=sentinel_values(values, paths)))
    if rendered.failure is not None:
        return {}  # a chart that refuses the probe: its findings go to the templates
    feeds: dict[Place, ValuePath] = {}
    for place, context in all_contexts(rendered.manifests).items():
        user = context.settings.get("runAsUser")
        if isinstance(user, int) and 0 <= user - _SENTINEL_BASE < len(paths):
            feeds[place] = paths[user - _SENTINEL_BASE]
    return feeds


def provenance(
    chart: ChartSource, renderer: Renderer, values: object, values_files: tuple[str, ...] = ()
) -> Provenance:
    """Where the chart's securityContext-like values land (`values`: values.yaml as `load_values` reads it).

    The values values.yaml declares are probed first, in one render. The conventional names it does not
    declare come second, in a render of their own, and only for places the first left unexplained: setting
    an undeclared value can change which branch a template takes (`podSecurityContext | default
    .Values.daemonset.securityContext`), and the fix must go where the chart as shipped reads."""
    paths = candidates(values)
    declared = [p for p in paths if _declares(values, p)]
    conventional = [p for p in paths if p not in declared]
    feeds = _probe(chart, renderer, values, declared, values_files)
    for place, path in _probe(chart, renderer, values, conventional, values_files).items():
        feeds.setdefault(place, path)
    return Provenance(feeds, frozenset(declared))
