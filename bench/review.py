"""Cost of one review as the number of changed manifests grows: API calls, round trips, time.

    python -m bench.review [--sizes 1,10,100,300] [--latency 0.05] [--verbose] [--strict]

Run from the repository root: the fake GitHub is imported as tests.fakegithub.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET = "bench-secret"
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web{index}\nspec:\n  containers:\n  - name: app\n    image: example/app:{index}\n"


@dataclass(frozen=True)
class Result:
    """One measured pull request."""

    files: int
    calls: int
    round_trips: int
    wall: float
    ack_ms: float
    findings_annotated: int
    inline_comments: int


def critical_path(intervals: list[tuple[float, float]]) -> int:
    """Longest chain of requests each starting after the previous one ended (the sequential depth)."""
    ordered = sorted(intervals, key=lambda span: span[1])
    depth: list[int] = []
    for index, (start, end) in enumerate(ordered):
        best = 0
        for before in range(index):
            if ordered[before][1] <= start + 1e-4:
                best = max(best, depth[before])
        depth.append(best + 1)
    return max(depth, default=0)


def signed(event: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


async def measure(sizes: list[int], latency: float, verbose: bool = False) -> list[Result]:
    import aiohttp
    from aiohttp.test_utils import TestServer

    from bot.app import make_app
    from bot.config import AppSettings
    from bot.status import RUNTIME
    from tests.fakegithub import fake_in_thread

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as work, fake_in_thread(Path(work) / "github") as (fake, _loop):
        if True:
            settings = AppSettings(
                app_id=fake.app.app_id, private_key=fake.app.private_pem, webhook_secret=SECRET, api_url=fake.base_url
            )
            server = TestServer(make_app(settings), host="127.0.0.1")
            await server.start_server()
            async with aiohttp.ClientSession() as session:
                for size in sizes:
                    files = {f"k8s/app{i:04}.yaml": POD.format(index=i) for i in range(size)}
                    pr = fake.setup_pull({"README.md": "bench\n"}, files, repo=f"bench/n{size}")
                    repo = fake.repo(pr.repo)
                    payload = {
                        "action": "opened",
                        "number": pr.number,
                        "installation": {"id": 1},
                        "repository": {
                            "full_name": repo.full_name,
                            "default_branch": repo.default_branch,
                            "id": repo.id,
                        },
                        "pull_request": {
                            "number": pr.number,
                            "changed_files": size,
                            "head": {"sha": pr.head_sha, "ref": pr.head_ref},
                            "base": {"sha": pr.base_sha, "ref": pr.base_ref},
                        },
                    }
                    fake.latency = latency
                    first_request = len(fake.requests)
                    body, headers = signed("pull_request", payload)
                    started = time.perf_counter()
                    async with session.post(server.make_url("/webhook"), data=body, headers=headers) as response:
                        await response.read()
                        ack = time.perf_counter() - started
                        assert response.status == 202, response.status
                    while True:
                        runs = [r for r in fake.check_runs_for(pr.repo, sha=pr.head_sha) if r.name == "unroot"]
                        if runs and runs[0].status == "completed":
                            break
                        await asyncio.sleep(0.005)
                    wall = time.perf_counter() - started
                    await server.app[RUNTIME].queue.join()  # type: ignore[attr-defined]
                    fake.latency = 0.0
                    requests = fake.requests[first_request:]
                    if verbose:
                        base = min(r.started for r in requests)
                        for r in sorted(requests, key=lambda item: item.started):
                            print(
                                f"  {size:>4} {1000 * (r.started - base):7.1f} ms +{1000 * r.duration:5.1f}  {r.method} {r.route}"
                            )
                    spans = [(r.started, r.started + r.duration) for r in requests]
                    results.append(
                        Result(
                            size,
                            len(requests),
                            critical_path(spans),
                            wall,
                            ack * 1000,
                            len(runs[0].annotations),
                            len(fake.comments_for(pr.repo, pr.number)),
                        )
                    )
            await server.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,10,100,300", help="changed manifests per pull request")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake GitHub adds to each call")
    parser.add_argument("--verbose", action="store_true", help="print every request with its start time")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.sizes.split(",")]
    results = asyncio.run(measure(sizes, args.latency, args.verbose))
    print(f"fake GitHub latency {args.latency * 1000:.0f} ms per call")
    print(
        f"{'files':>6} {'calls':>6} {'budget':>7} {'round trips':>12} {'limit':>6} {'wall s':>7} {'ack ms':>7} {'annotations':>12} {'comments':>9}"
    )
    missed = []
    for r in results:
        # 8 + N/20, and one more for the head commit's file listing (issue 11: images judged by the
        # Dockerfiles that build them), sent beside the PR's file list, so it adds no round trip.
        budget = 9 + r.files / 20
        limit = 6 if r.files <= 100 else 8
        print(
            f"{r.files:>6} {r.calls:>6} {budget:>7.1f} {r.round_trips:>12} {limit:>6} {r.wall:>7.2f} {r.ack_ms:>7.1f} {r.findings_annotated:>12} {r.inline_comments:>9}"
        )
        if r.calls > budget:
            missed.append(f"{r.files} files: {r.calls} calls > {budget:.1f}")
        if r.round_trips > limit:
            missed.append(f"{r.files} files: {r.round_trips} round trips > {limit}")
        if r.ack_ms >= 20:
            missed.append(f"{r.files} files: acknowledged in {r.ack_ms:.1f} ms (target < 20)")
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
