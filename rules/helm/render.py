"""What the chart analysis asks of a Helm renderer, as data: the chart, a render request, its result.

The renderer itself (Helm's Go SDK or a `helm` binary, in a child process with limits) lives in
`bot.helm`; `rules` only sees this protocol, so the analysis stays pure and its tests can use a
renderer of their own.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

RELEASE_NAME = "rel"
NAMESPACE = "default"


class RenderFailure(enum.Enum):
    """Why a render produced no manifests; each has its own notice."""

    TEMPLATE = "template"  # Helm refused: a template error, a `fail`, a malformed values file
    REQUIRED = "required"  # a `required` value has no value (the message names it)
    MISSING_DEPENDENCY = "missing-dependency"  # Chart.yaml names a dependency that is not under charts/
    TIMEOUT = "timeout"  # the render ran past its time limit and was stopped
    RESOURCES = "resources"  # the render ran out of memory or CPU and was stopped
    UNAVAILABLE = "unavailable"  # no Helm here: neither the `unroot[helm]` extra nor a `helm` binary


@dataclass(frozen=True)
class ChartSource:
    """One chart as files: what `helm template` would read from its directory."""

    root: str  # the chart directory's path in the repository, "" when the repository is the chart
    # chart-relative POSIX path -> content: Chart.yaml, values.yaml, templates/…, charts/… (vendored
    # subcharts, directories or .tgz archives), ci/…, values.schema.json
    files: Mapping[str, bytes]


@dataclass(frozen=True)
class RenderRequest:
    """One render of a chart: which values, and which files differ from the chart's own."""

    # chart-relative values files applied in order after the chart's values.yaml (like `-f`)
    values_files: tuple[str, ...] = ()
    # applied last (like `--set-json`): nested mappings are merged into the values, other values replace
    values: Mapping[str, object] = field(default_factory=dict)
    # chart-relative path -> content that replaces the chart's file for this render (a fix being checked)
    replace: Mapping[str, bytes] = field(default_factory=dict)
    release: str = RELEASE_NAME
    namespace: str = NAMESPACE


@dataclass(frozen=True)
class Rendered:
    """What one render gave: the manifests per template, or why there are none."""

    # (chart-relative template path, rendered text) in Helm's order, e.g. ("templates/deployment.yaml", …)
    # or ("charts/sub/templates/x.yaml", …) for a vendored subchart. NOTES.txt and templates that
    # render to nothing but whitespace are left out.
    manifests: tuple[tuple[str, str], ...] = ()
    failure: RenderFailure | None = None
    # One line a person can act on, e.g. Helm's own "execution error at (web/templates/x.yaml:3:4):
    # image.repository is required", or "took longer than 20 s and was stopped".
    message: str = ""


class Renderer(Protocol):
    """Renders a chart the way `helm template` does, offline: no cluster (`lookup` is empty), no network,
    no `helm dependency update`."""

    def render(self, chart: ChartSource, request: RenderRequest) -> Rendered:
        """The chart rendered with `request`; never raises for anything the chart does."""
        ...
