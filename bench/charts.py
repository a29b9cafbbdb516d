"""Helm charts: render vs analysis time per chart, and one PR touching one chart of a 100-chart repository.

    python -m bench.charts [--corpus ../shared/corpus/helm] [--charts 100] [--latency 0.05]

Run from the repository root (the fake GitHub is imported as tests.fakegithub). Part 1: for
tests/data/charts/web and each corpus chart, `analyse_chart` with Helm's SDK in a fresh child; the
time inside the renderer (every render: the base, the provenance probes, the fix checks; the child's
start included) is "render", the rest is our analysis; ratios are to the web chart in the same run.
Part 2: the App on the fake GitHub, a PR changing one chart's values.yaml, in a repository of
CHARTS copies of the web chart and in one holding that chart only: wall time to the completed check
run, GitHub calls, and which charts were rendered (only the touched one, asserted).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.review import SECRET, signed
from rules.helm.chart import analyse_chart
from rules.helm.render import ChartSource, Rendered, Renderer, RenderRequest

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "tests" / "data" / "charts" / "web"


@dataclass
class TimedRenderer:
    """A renderer that adds up the time spent in it and counts renders per chart root."""

    inner: Renderer
    seconds: float = 0.0
    renders: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def render(self, chart: ChartSource, request: RenderRequest) -> Rendered:
        began = time.perf_counter()
        try:
            return self.inner.render(chart, request)
        finally:
            with self.lock:
                self.seconds += time.perf_counter() - began
                self.renders[chart.root] = self.renders.get(chart.root, 0) + 1

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def chart_times(chart: Path) -> tuple[float, float, int, int]:
    """(render s, analysis s, renders, findings) of one chart's analysis in a new Helm child."""
    from bot.helm import SDK, ChildRenderer

    timed = TimedRenderer(ChildRenderer(SDK))
    try:
        began = time.perf_counter()
        findings = analyse_chart(ChartSource(chart.name, files_of(chart)), timed)
        total = time.perf_counter() - began
    finally:
        timed.close()
    return timed.seconds, total - timed.seconds, sum(timed.renders.values()), len(findings)


def per_chart(corpus: Path) -> None:
    charts = [WEB]
    if corpus.is_dir():
        charts += sorted(p for p in corpus.iterdir() if (p / "Chart.yaml").is_file())
    else:
        print(f"no corpus at {corpus}: the web chart only")
    base = chart_times(WEB)
    base_render, base_analysis = base[0], base[1]
    print(
        f"{'chart':26} {'files':>5} {'render s':>8} {'x web':>6} {'ours s':>7} {'x web':>6} {'renders':>7} {'findings':>8}"
    )
    for chart in charts:
        render, analysis, renders, findings = base if chart == WEB else chart_times(chart)
        name = "web (helm create)" if chart == WEB else chart.name
        print(
            f"{name:26} {len(files_of(chart)):5} {render:8.3f} {render / base_render:6.1f} "
            f"{analysis:7.3f} {analysis / base_analysis:6.1f} {renders:7} {findings:8}"
        )


@dataclass(frozen=True)
class PullResult:
    charts: int
    wall: float
    calls: int
    rendered: dict[str, int]
    conclusion: str


async def one_pull(charts: int, latency: float) -> PullResult:
    """The App's review of a PR changing one chart's values.yaml in a repository of CHARTS charts."""
    import aiohttp
    from aiohttp.test_utils import TestServer

    from bot.app import make_app
    from bot.config import AppSettings
    from bot.helm import renderer
    from bot.status import RUNTIME
    from tests.fakegithub import fake_in_thread

    web = {path: data.decode() for path, data in files_of(WEB).items()}
    touched = f"charts/c{charts // 2:03}"
    base = {f"charts/c{i:03}/{path}": text for i in range(charts) for path, text in web.items()}
    if charts == 1:
        base = {f"{touched}/{path}": text for path, text in web.items()}
    values = web["values.yaml"].replace("replicaCount: 1", "replicaCount: 2")
    counting = TimedRenderer(renderer())
    with tempfile.TemporaryDirectory() as work, fake_in_thread(Path(work) / "github") as (fake, _loop):
        pr = fake.setup_pull(base, {f"{touched}/values.yaml": values}, repo=f"bench/charts{charts}")
        settings = AppSettings(
            app_id=fake.app.app_id, private_key=fake.app.private_pem, webhook_secret=SECRET, api_url=fake.base_url
        )
        app = make_app(settings)
        app[RUNTIME].make_renderer = lambda: counting
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        repo = fake.repo(pr.repo)
        payload = {
            "action": "opened",
            "number": pr.number,
            "installation": {"id": 1},
            "repository": {"full_name": repo.full_name, "default_branch": repo.default_branch, "id": repo.id},
            "pull_request": {
                "number": pr.number,
                "changed_files": 1,
                "head": {"sha": pr.head_sha, "ref": pr.head_ref},
                "base": {"sha": pr.base_sha, "ref": pr.base_ref},
            },
        }
        fake.latency = latency
        first = len(fake.requests)
        body, headers = signed("pull_request", payload)
        try:
            async with aiohttp.ClientSession() as session:
                started = time.perf_counter()
                async with session.post(server.make_url("/webhook"), data=body, headers=headers) as response:
                    assert response.status == 202, response.status
                await app[RUNTIME].queue.join()  # type: ignore[attr-defined]
                wall = time.perf_counter() - started
        finally:
            await server.close()
            counting.close()  # the job closed it already; closing again is harmless
        (run,) = [r for r in fake.check_runs_for(pr.repo, sha=pr.head_sha) if r.name == "unroot"]
        calls = len(fake.requests) - first
    assert set(counting.renders) == {touched}, counting.renders  # only the changed chart is rendered
    return PullResult(charts, wall, calls, dict(counting.renders), str(run.conclusion))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "helm")
    parser.add_argument("--charts", type=int, default=100, help="charts in the big repository")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake GitHub adds to each call")
    parser.add_argument("--skip-corpus", action="store_true", help="part 2 only")
    args = parser.parse_args(argv)
    if not args.skip_corpus:
        per_chart(args.corpus)
        print()
    print(f"one PR changing one chart's values.yaml; fake GitHub latency {args.latency * 1000:.0f} ms per call")
    print(f"{'charts in repo':>14} {'wall s':>7} {'calls':>6} {'renders':>8}  rendered  conclusion")
    for charts in (1, args.charts):
        result = asyncio.run(one_pull(charts, args.latency))
        ((root, renders),) = result.rendered.items()
        print(f"{result.charts:>14} {result.wall:>7.2f} {result.calls:>6} {renders:>8}  {root}  {result.conclusion}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
