"""A chart's dependencies that are not vendored under charts/: named, and left out so the rest can render."""

from __future__ import annotations

import io
import posixpath
from collections.abc import Mapping

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

CHART_YAML = "Chart.yaml"


def _vendored(files: Mapping[str, bytes], name: str) -> bool:
    """A subchart folder `charts/NAME/` or an archive `charts/NAME-VERSION.tgz` (what `helm dependency build` writes)."""
    if f"charts/{name}/{CHART_YAML}" in files:
        return True
    return any(
        posixpath.dirname(path) == "charts"
        and posixpath.basename(path).startswith(f"{name}-")
        and path.endswith(".tgz")
        for path in files
    )


def missing(files: Mapping[str, bytes]) -> list[str]:
    """Names of the dependencies Chart.yaml declares and charts/ does not hold."""
    declared = _declared(files)
    return [str(d["name"]) for d in declared if not _vendored(files, str(d["name"]))]


def _declared(files: Mapping[str, bytes]) -> list[dict[str, object]]:
    try:
        data = YAML(typ="safe", pure=True).load(files.get(CHART_YAML, b"").decode("utf-8", errors="replace"))
    except (YAMLError, RecursionError, ValueError):
        return []
    dependencies = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(dependencies, list):
        return []
    return [d for d in dependencies if isinstance(d, dict) and isinstance(d.get("name"), str)]


def without_missing(files: Mapping[str, bytes]) -> bytes | None:
    """Chart.yaml without the dependencies charts/ does not hold, for a render of the chart's own
    templates; None when nothing is missing (or Chart.yaml cannot be read)."""
    try:
        data = YAML(typ="safe", pure=True).load(files.get(CHART_YAML, b"").decode("utf-8", errors="replace"))
    except (YAMLError, RecursionError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return None
    kept = [
        d
        for d in data["dependencies"]
        if isinstance(d, dict) and isinstance(d.get("name"), str) and _vendored(files, d["name"])
    ]
    if len(kept) == len(data["dependencies"]):
        return None
    data["dependencies"] = kept
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, out)
    return out.getvalue().encode("utf-8")
