"""The renderer used when this machine has no Helm: every render says how to get chart checks."""

from __future__ import annotations

from rules.helm.render import ChartSource, Rendered, RenderFailure, RenderRequest

HOW_TO_ENABLE = "Helm charts are checked when Helm is installed: pip install 'unroot[helm]' (or put helm on PATH)"


class UnavailableRenderer:
    """Renders nothing and says why, so a chart is never skipped silently."""

    backend = "unavailable"
    child_pid: int | None = None

    def render(self, chart: ChartSource, request: RenderRequest) -> Rendered:
        """A notice instead of manifests."""
        return Rendered(failure=RenderFailure.UNAVAILABLE, message=HOW_TO_ENABLE)

    def close(self) -> None:
        """Nothing runs."""

    def __enter__(self) -> UnavailableRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
