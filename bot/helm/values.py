"""Helm's `-f` layering of values files, reproduced: later files win, maps merge deeply, null is kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` laid over `base` the way Helm's `mergeMaps` does for each `-f` file.

    A key whose both values are mappings is merged recursively; any other value of `override`
    replaces the one in `base`, including None: Helm keeps the null here and deletes the key from
    the chart's defaults only when it coalesces the user's values with them at render time."""
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = merge_values(below, value)
        else:
            merged[key] = value
    return merged


def layered(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """All `layers` merged in order, as `helm template -f a -f b` merges a and b."""
    result: dict[str, Any] = {}
    for layer in layers:
        result = merge_values(result, layer)
    return result
