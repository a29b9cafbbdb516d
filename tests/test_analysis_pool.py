"""A file whose analysis hangs or blows up costs that file a notice, never the server.

The analysers themselves are bounded (tests/test_cli_hostile.py); these tests replace the
analyser with one that spins, allocates or sleeps for ever, and check over real HTTP that the
server keeps acknowledging and answering /healthz meanwhile, and that the job's check run
completes with a notice for that file and true findings for its neighbours.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.analysis import AnalysisPool, Limits
from bot.status import RUNTIME
from rules.model import Options
from tests.patience import PATIENCE
from tests.test_e2e import POD, Bot, bot, completed_runs, pr_payload  # noqa: F401 (the bot fixture)

HOGS = "tests.analysis_hogs:misbehave"


async def test_a_spinning_analysis_is_stopped_and_the_server_stays_responsive(bot: Bot) -> None:  # noqa: F811
    state = bot.server.app[RUNTIME]
    state.analysis = AnalysisPool(2, Limits(cpu_seconds=3, memory_bytes=1024**3, wall_seconds=120), function=HOGS)
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"k8s/spin.yaml": POD, "k8s/pod.yaml": POD})
    response = await bot.deliver("pull_request", pr_payload(fake, pr))
    assert response.status == 202
    job = asyncio.create_task(bot.idle())
    # While the worker burns its CPU second after second, the server answers at once.
    answered = 0
    while not job.done():
        health = await bot.session.get(bot.server.make_url("/healthz"))
        ping = await bot.deliver("ping", {"zen": "hi", "hook_id": 1})
        assert health.status == 200 and ping.status == 200
        answered += 1
        await asyncio.sleep(0.2)
    await job
    assert answered >= 3
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and run.conclusion == "failure"  # pod.yaml is still judged
    notices = [a for a in run.annotations if a["path"] == "k8s/spin.yaml"]
    assert len(notices) == 1 and "CPU" in notices[0]["message"], run.annotations
    assert any(a["path"] == "k8s/pod.yaml" and a["annotation_level"] == "failure" for a in run.annotations)


@pytest.mark.parametrize(
    ("name", "limits", "needle"),
    [
        ("k8s/hog.yaml", Limits(cpu_seconds=30, memory_bytes=512 * 1024**2, wall_seconds=120), "memory"),
        ("k8s/sleep.yaml", Limits(cpu_seconds=30, memory_bytes=1024**3, wall_seconds=2), "longer than 2 s"),
    ],
)
async def test_memory_and_wall_time_limits_become_notices(name: str, limits: Limits, needle: str) -> None:
    pool = AnalysisPool(2, limits, function=HOGS)
    try:
        hostile, innocent = await asyncio.gather(
            pool.analyse(name, POD.encode(), Options()), pool.analyse("k8s/pod.yaml", POD.encode(), Options())
        )
    finally:
        await pool.close()
    assert [(f.rule, f.severity.value) for f in hostile] == [("UR001", "notice")]
    assert needle in hostile[0].message
    # The neighbour that shared the killed pool was analysed again, alone, and is judged as usual.
    assert {f.rule for f in innocent} >= {"UR201"}


async def test_the_pool_survives_its_workers_being_killed() -> None:
    pool = AnalysisPool(1, Limits(cpu_seconds=2, memory_bytes=1024**3, wall_seconds=120), function=HOGS)
    try:
        first = await pool.analyse("spin.yaml", POD.encode(), Options())
        again = await pool.analyse("pod.yaml", POD.encode(), Options())
    finally:
        await pool.close()
    assert first[0].rule == "UR001" and pool.replaced >= 1
    assert {f.rule for f in again} >= {"UR201"}


def test_workers_die_with_a_server_killed_by_sigkill(tmp_path: object) -> None:
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import asyncio, os, sys
        from bot.analysis import AnalysisPool
        from rules.model import Options
        async def main():
            pool = AnalysisPool(2)
            await pool.analyse("pod.yaml", b"apiVersion: v1", Options())
            print(" ".join(str(p.pid) for p in pool._shared._processes.values()), flush=True)
            await asyncio.sleep(3600)
        asyncio.run(main())
    """)
    root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    server = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert server.stdout is not None
    workers = [int(pid) for pid in server.stdout.readline().split()]
    assert workers
    server.send_signal(signal.SIGKILL)
    server.wait()
    deadline = time.monotonic() + PATIENCE
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [
            pid
            for pid in alive
            if os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2]
        ]
        time.sleep(0.1)
    assert alive == [], "pool workers outlived the server"
