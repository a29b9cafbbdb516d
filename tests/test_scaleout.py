"""Scale-out on a real Redis: two `unroot serve` and two `unroot worker` processes, one worker SIGKILLed mid-job."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import aiohttp
import redis.asyncio

from tests.fakegithub import FakeGitHub, PullRequest
from tests.patience import PATIENCE
from tests.redisserver import free_port
from tests.test_e2e import ROOT_DOCKERFILE, SECRET, pr_payload

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Process:
    """One App process and where its log goes."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@asynccontextmanager
async def app_processes(
    fake: FakeGitHub, redis_url: str, logs: Path, servers: int, workers: int
) -> AsyncIterator[list[Process]]:
    env = {
        **os.environ,
        "GITHUB_APP_ID": str(fake.app.app_id),
        "GITHUB_PRIVATE_KEY": fake.app.private_pem,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": fake.base_url,
        "REDIS_URL": redis_url,
        "HOST": "127.0.0.1",
        "UNROOT_WORKERS": "2",
        "UNROOT_LEASE_SECONDS": "1.5",
        "UNROOT_SHUTDOWN_GRACE": "2",
        "PYTHONPATH": str(ROOT),
    }
    logs.mkdir(parents=True, exist_ok=True)
    started: list[Process] = []
    handles: list[IO[bytes]] = []
    try:
        for n in range(servers + workers):
            port = free_port()
            name = f"serve{n}" if n < servers else f"worker{n - servers}"
            args = ["-m", "bot"] if n < servers else ["-m", "bot.cli", "worker", "--status-port", str(port)]
            log = logs / f"{name}.log"
            log_file: IO[bytes] = log.open("wb")
            handles.append(log_file)
            process = await asyncio.create_subprocess_exec(
                sys.executable, *args, env={**env, "PORT": str(port)}, stdout=log_file, stderr=log_file
            )
            started.append(Process(name, process, port, log))
        async with aiohttp.ClientSession() as session:
            for proc in started:
                await wait_healthy(session, proc)
        yield started
    finally:
        for proc in started:
            if proc.process.returncode is None:
                proc.process.kill()
                await proc.process.wait()
        for handle in handles:
            handle.close()


async def wait_healthy(session: aiohttp.ClientSession, proc: Process, timeout: float = PATIENCE) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if proc.process.returncode is not None:
            raise AssertionError(f"{proc.name} exited with {proc.process.returncode}:\n{proc.tail()}")
        try:
            async with session.get(f"{proc.base}/healthz") as response:
                if response.status == 200 and (await response.json()).get("redis") == "ok":
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{proc.name} not healthy after {timeout} s:\n{proc.tail()}")


async def deliver(
    session: aiohttp.ClientSession, proc: Process, payload: dict[str, Any], delivery: str
) -> tuple[int, dict[str, Any]]:
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }
    async with session.post(f"{proc.base}/webhook", data=body, headers=headers) as response:
        return response.status, await response.json()


def unroot_runs(fake: FakeGitHub, pr: PullRequest) -> list[Any]:
    return [run for run in fake.check_runs_for(pr.repo, sha=pr.head_sha) if run.name == "unroot"]


async def wait_all_completed(
    fake: FakeGitHub, prs: Sequence[PullRequest], client: redis.asyncio.Redis, timeout: float = PATIENCE
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        done = all(unroot_runs(fake, pr) and all(r.status == "completed" for r in unroot_runs(fake, pr)) for pr in prs)
        if done and not await client.zcard("unroot:queue"):
            return
        await asyncio.sleep(0.05)
    left = {
        f"{pr.repo}@{pr.head_sha[:8]}": [r.status for r in unroot_runs(fake, pr)]
        for pr in prs
        if not unroot_runs(fake, pr) or any(r.status != "completed" for r in unroot_runs(fake, pr))
    }
    queued = [m.decode() for m in await client.zrange("unroot:queue", 0, -1)]
    raise AssertionError(f"not every commit got a completed check run in {timeout:g} s: {left}; queued {queued}")


async def test_two_servers_two_workers_one_killed_mid_job_nothing_lost_nothing_twice(
    fake_github: FakeGitHub, redis_url: str, tmp_path: Path
) -> None:
    fake = fake_github
    fake.latency = 0.05
    prs = [
        fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, repo=f"octo/app{i}") for i in range(8)
    ]
    victim = prs[0]
    # The victim's job posts its review, then its check-run completion is held "on the wire".
    hold = fake.hold_next(method="PATCH", path=rf"^/repos/{victim.repo}/check-runs/\d+$")
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with app_processes(fake, redis_url, tmp_path / "logs", servers=2, workers=2) as processes:
            servers, workers = processes[:2], processes[2:]
            deliveries = [str(uuid.uuid4()) for _ in prs]
            async with aiohttp.ClientSession() as session:
                for n, (pr, delivery) in enumerate(zip(prs, deliveries)):
                    status, _ = await deliver(session, servers[n % 2], pr_payload(fake, pr), delivery)
                    assert status == 202
                while not hold.arrived.is_set():
                    await asyncio.sleep(0.01)
                assert fake.reviews_for(victim.repo, victim.number), (
                    "the victim's review should be out before its completion"
                )
                running = [m.decode() for m in await client.zrange("unroot:running", 0, -1)]
                holder = next(m for m in running if m.startswith(f"{victim.repo}@{victim.head_sha}:"))
                pid = int(holder.rsplit(":", 1)[1])
                killed = next(w for w in workers if w.process.pid == pid)
                killed.process.send_signal(signal.SIGKILL)
                await killed.process.wait()
                await asyncio.sleep(0.2)  # the fake notices the connection is gone
                hold.release()
                # Before the victim's lease runs out, its PR moves on: the retried job is superseded,
                # yet it owns an in-progress check run, so it must still complete it (without a review).
                old_head = victim.head_sha
                fake.push_pull(victim.repo, victim.number, {"README.md": "moved on\n"})
                status, _ = await deliver(
                    session, servers[1], pr_payload(fake, victim, action="synchronize"), str(uuid.uuid4())
                )
                assert status == 202

                # GitHub redelivers one delivery, to the other server this time.
                status, answer = await deliver(session, servers[1], pr_payload(fake, prs[2]), deliveries[2])
                assert (status, answer["status"]) == (200, "duplicate delivery")

                await wait_all_completed(fake, prs, client)
                survivor = next(w for w in workers if w is not killed)
                for proc in (*servers, survivor):
                    proc.process.send_signal(signal.SIGTERM)
                for proc in (*servers, survivor):
                    assert await asyncio.wait_for(proc.process.wait(), PATIENCE) == 0, proc.tail()
        stats = {k.decode(): int(v) for k, v in (await client.hgetall("unroot:stats")).items()}
    finally:
        await client.aclose()

    assert killed.process.returncode == -signal.SIGKILL
    assert hold.dropped, "the killed worker's completion must not have reached GitHub"
    old_runs = [run for run in fake.check_runs_for(victim.repo, sha=old_head) if run.name == "unroot"]
    assert [(run.status, run.conclusion) for run in old_runs] == [("completed", "failure")]
    for pr in prs:
        runs = unroot_runs(fake, pr)
        assert len(runs) == 1, (pr.repo, len(runs))  # one check run per commit, the retry reused it
        assert runs[0].status == "completed" and runs[0].conclusion == "failure", (pr.repo, runs[0].status)
        assert len(fake.reviews_for(pr.repo, pr.number)) == 1, pr.repo  # the retry did not post a second review
    victim_run = old_runs[0]
    assert victim_run.output["title"] == unroot_runs(fake, prs[1])[0].output["title"] == "1 error in 1 file"
    # Created in progress by the killed worker, restarted and completed by the other one.
    assert [body.get("status") for body in victim_run.bodies] == ["in_progress", "in_progress", "completed"]
    # The victim's old head was finished by the other worker, and its new head too (at least once:
    # under CPU contention a 1.5 s lease can lapse and a job run twice, harmlessly, as asserted above).
    assert stats["completed"] >= len(prs) + 1
    assert not fake.internal_errors and not fake.schema_errors
    for proc in processes:
        assert "Traceback" not in proc.tail() or proc is killed, proc.tail()
