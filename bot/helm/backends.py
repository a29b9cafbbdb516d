"""The two ways a child renders a chart directory: Helm's Go SDK through helm-python-sdk, or a `helm` binary.

Only `bot.helm.child` uses these: Helm never runs in the caller's process."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any, Protocol

from bot.helm.failures import classify, from_crash, missing_dependencies
from bot.helm.manifests import kept, split_template_output
from bot.helm.values import layered
from rules.helm.render import Rendered, RenderFailure, RenderRequest


class Backend(Protocol):
    """Renders the chart in a directory the child prepared; the child applies the limits."""

    def render(self, chart_dir: Path, request: RenderRequest, scratch: Path) -> Rendered:
        """`helm template` of `chart_dir` with `request`'s values files (checked to exist) and values."""
        ...


class SdkBackend:
    """Helm v4's SDK in this process (the child), through helm-python-sdk's ctypes binding."""

    def __init__(self) -> None:
        import helm_python  # here, not at module level: only a child ever loads Helm's library

        helm_python.helm_sdk_version()  # loads the shared library now, so the child's start pays for it
        self._helm = helm_python

    def render(self, chart_dir: Path, request: RenderRequest, scratch: Path) -> Rendered:
        """Load, check dependencies as `helm template` does, layer the values, render."""
        helm = self._helm
        try:
            with helm.Chart.load(str(chart_dir)) as chart:
                missing = [
                    str(dependency["name"])
                    for dependency in helm.dependency_list(str(chart_dir))
                    if dependency.get("status") == "missing"
                ]
                if missing:
                    return Rendered(failure=RenderFailure.MISSING_DEPENDENCY, message=missing_dependencies(missing))
                values = self._values(chart_dir, request)
                if isinstance(values, Rendered):
                    return values
                rendered = chart.render(values, name=request.release, namespace=request.namespace, is_install=True)
        except helm.HelmError as error:
            kind, message = classify(str(error), chart_dir)
            return Rendered(failure=kind, message=message)
        return Rendered(manifests=kept(rendered.items()))

    def _values(self, chart_dir: Path, request: RenderRequest) -> dict[str, Any] | Rendered:
        """The values files parsed by Helm and layered like `-f`, then the request's values over them."""
        layers: list[dict[str, Any]] = []
        for name in request.values_files:
            text = (chart_dir / name).read_text(encoding="utf-8", errors="replace")
            try:
                layers.append(self._helm.values_from_yaml(text))
            except self._helm.HelmError as error:
                return Rendered(failure=RenderFailure.TEMPLATE, message=f"failed to parse {name}: {error}")
        return layered([*layers, dict(request.values)])


class BinaryBackend:
    """A `helm` executable: `helm template REL DIR --namespace NS -f …`, its stdout split per template."""

    def __init__(self, helm: str, memory_mb: int, cpu_seconds: int) -> None:
        self._helm = helm
        self._memory_mb = memory_mb
        self._cpu_seconds = cpu_seconds

    def arguments(self, chart_dir: Path, request: RenderRequest, scratch: Path) -> list[str]:
        """The command line; the request's values go last as a JSON file (JSON is YAML), merged like `-f`."""
        arguments = [self._helm, "template", request.release, str(chart_dir), "--namespace", request.namespace]
        for name in request.values_files:
            arguments += ["--values", str(chart_dir / name)]
        if request.values:
            overrides = scratch / "request-values.json"
            overrides.write_text(json.dumps(dict(request.values)), encoding="utf-8")
            arguments += ["--values", str(overrides)]
        return arguments

    def render(self, chart_dir: Path, request: RenderRequest, scratch: Path) -> Rendered:
        """Run helm (it inherits the child's limits and environment) and read what it printed."""
        completed = subprocess.run(
            self.arguments(chart_dir, request, scratch),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            cwd=scratch,
            check=False,
        )
        if completed.returncode == -signal.SIGXCPU:
            return Rendered(failure=RenderFailure.RESOURCES, message=cpu_exceeded(self._cpu_seconds))
        if "fatal error:" in completed.stderr or completed.returncode < 0:
            kind, message = from_crash(completed.stderr[:16384], self._memory_mb)
            return Rendered(failure=kind, message=message)
        if completed.returncode != 0:
            kind, message = classify(completed.stderr, chart_dir)
            return Rendered(failure=kind, message=message)
        return Rendered(manifests=kept(split_template_output(completed.stdout)))


def cpu_exceeded(seconds: int) -> str:
    """The message of a render stopped by its CPU limit."""
    return f"used more than {seconds} s of CPU and was stopped"
