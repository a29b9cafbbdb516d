"""SIGTERM on a real `python -m bot` process: no check run is left in progress, nothing lost."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import socket
import sys
import uuid
from pathlib import Path

import aiohttp

from tests.fakegithub import FakeGitHub
from tests.patience import PATIENCE
from tests.test_e2e import ROOT_DOCKERFILE, SECRET, pr_payload


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_sigterm_completes_running_and_queued_jobs_as_interrupted(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake = fake_github
    port = free_port()
    env = {
        **os.environ,
        "GITHUB_APP_ID": str(fake.app.app_id),
        "GITHUB_PRIVATE_KEY": fake.app.private_pem,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": fake.base_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "UNROOT_WORKERS": "1",
        "UNROOT_SHUTDOWN_GRACE": "0.5",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    prs = [
        fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, repo=f"octo/app{i}") for i in range(3)
    ]
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            fake.latency = 0.5  # the first job is still talking to GitHub when SIGTERM comes
            for pr in prs:
                body = json.dumps(pr_payload(fake, pr)).encode()
                headers = {
                    "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
                    "Content-Type": "application/json",
                }
                async with session.post(f"http://127.0.0.1:{port}/webhook", data=body, headers=headers) as response:
                    assert response.status == 202
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=PATIENCE)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()[-2000:]
    for pr in prs:
        runs = [run for run in fake.check_runs_for(pr.repo, sha=pr.head_sha) if run.name == "unroot"]
        assert len(runs) == 1, (pr.repo, runs)
        assert runs[0].status == "completed", (pr.repo, runs[0].status)
    interrupted = [pr for pr in prs if fake.check_runs_for(pr.repo, sha=pr.head_sha)[0].conclusion == "cancelled"]
    assert interrupted, "no job was cut short: the test did not exercise shutdown"
    for pr in interrupted:
        run = fake.check_runs_for(pr.repo, sha=pr.head_sha)[0]
        assert run.output["title"] == "unroot was interrupted: the server restarted"
        assert [a["identifier"] for a in run.actions] == ["rerun"]
