"""Time per Helm render of each corpus chart, as ratios to the `helm create` chart rendered in the same run.

    python bench/helm_render.py [--corpus ../shared/corpus/helm] [--runs 5]

For each chart: the first render in a fresh child (the child's start, ~0.2 s, included) and the
median of RUNS later renders in that child (the chart already written: what the provenance and fix
renders of one chart cost). Each figure is also given as a ratio to the same figure of
tests/data/charts/web, the `helm create` scaffold, measured first in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bot.helm import SDK, ChildRenderer
from rules.helm.render import ChartSource, RenderRequest

ROOT = Path(__file__).resolve().parent.parent
SCAFFOLD = ROOT / "tests" / "data" / "charts" / "web"


def files_of(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes() for path in directory.rglob("*") if path.is_file()
    }


def timed(chart: Path, runs: int) -> tuple[float, float, str]:
    """Seconds of the first render in a new child, the median of `runs` later ones, and the outcome."""
    source = ChartSource(root=chart.name, files=files_of(chart))
    with ChildRenderer(SDK) as helm:
        began = time.perf_counter()
        rendered = helm.render(source, RenderRequest())
        first = time.perf_counter() - began
        later = []
        for _ in range(runs):
            began = time.perf_counter()
            helm.render(source, RenderRequest())
            later.append(time.perf_counter() - began)
    outcome = (
        f"{len(rendered.manifests)} manifests"
        if rendered.failure is None
        else f"{rendered.failure.value}: {rendered.message}"
    )
    return first, statistics.median(later), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "helm")
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    charts = [SCAFFOLD]
    if arguments.corpus.is_dir():
        charts += sorted(path for path in arguments.corpus.iterdir() if (path / "Chart.yaml").is_file())
    else:
        print(f"no corpus at {arguments.corpus}: the scaffold only")
    base_first, base_later, _ = timed(SCAFFOLD, arguments.runs)
    print(f"{'chart':26} {'files':>5} {'first s':>8} {'x web':>6} {'later s':>8} {'x web':>6}  outcome")
    for chart in charts:
        first, later, outcome = (base_first, base_later, "") if chart == SCAFFOLD else timed(chart, arguments.runs)
        if chart == SCAFFOLD:
            outcome = "(the base)"
        name = "web (helm create)" if chart == SCAFFOLD else chart.name
        files = len(files_of(chart))
        print(
            f"{name:26} {files:5} {first:8.3f} {first / base_first:6.1f} {later:8.4f} {later / base_later:6.1f}  {outcome}"
        )


if __name__ == "__main__":
    main()
