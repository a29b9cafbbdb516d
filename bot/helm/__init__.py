"""Helm renderers for the chart analysis: Helm's SDK or a `helm` binary, always in a child process with limits.

with bot.helm.renderer() as helm:
    rendered = helm.render(ChartSource(root="deploy/chart", files=files), RenderRequest())
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Sequence
from typing import Protocol

from bot.helm.limits import HelmLimits
from bot.helm.process import BINARY, SDK, ChildRenderer
from bot.helm.unavailable import HOW_TO_ENABLE, UnavailableRenderer
from rules.helm.render import ChartSource, Rendered, RenderRequest

__all__ = [
    "BINARY",
    "HOW_TO_ENABLE",
    "SDK",
    "ChildRenderer",
    "HelmLimits",
    "HelmRenderer",
    "UnavailableRenderer",
    "renderer",
]


class HelmRenderer(Protocol):
    """A rules.helm.render.Renderer that holds a child process: close it (or use it with `with`)."""

    backend: str

    def render(self, chart: ChartSource, request: RenderRequest) -> Rendered: ...

    def close(self) -> None: ...

    def __enter__(self) -> HelmRenderer: ...

    def __exit__(self, *exc_info: object) -> None: ...


def renderer(limits: HelmLimits | None = None, backends: Sequence[str] = (SDK, BINARY)) -> HelmRenderer:
    """The first of `backends` this machine has: the SDK (the `unroot[helm]` extra), else `helm` on PATH,
    else a renderer that says how to enable chart checks. No child starts until the first render.

    Whether the SDK is installed is read from the import system without importing it: Helm's library
    never loads in the caller's process."""
    for backend in backends:
        if backend == SDK and importlib.util.find_spec("helm_python") is not None:
            return ChildRenderer(SDK, limits)
        helm = shutil.which("helm") if backend == BINARY else None
        if helm is not None:
            return ChildRenderer(BINARY, limits, helm_binary=helm)
    return UnavailableRenderer()
