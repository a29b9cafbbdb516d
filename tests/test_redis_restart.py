"""A Redis restart does not stop the workers: arq's loop is started again, and health says when it is down."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from arq.constants import in_progress_key_prefix

from bot.app import make_app
from bot.config import AppSettings
from bot.github import RetryPolicy
from bot.queue import IsCurrent, Job
from bot.redisqueue import RedisQueue, job_id
from bot.status import RUNTIME
from tests.fakegithub import FakeGitHub
from tests.patience import PATIENCE, until
from tests.redisserver import RedisServer, redis_server
from tests.test_e2e import ROOT_DOCKERFILE, SECRET, completed_runs, pr_payload
from tests.test_redis import _never, _signed, job, web_queue, worker_queue

OUTAGE = 3.0  # seconds Redis stays down, as in the incident


async def outage(server: RedisServer) -> None:
    """Redis terminated, down for OUTAGE seconds, then started again on the same port (empty)."""
    server.stop()
    await asyncio.sleep(OUTAGE)
    server.start()


async def test_a_worker_runs_jobs_submitted_after_redis_restarted(tmp_path: Path) -> None:
    ran: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        ran.append(work.head_sha)

    with redis_server(tmp_path / "redis") as server:
        async with worker_queue(server.url, handler):
            async with web_queue(server.url) as web:
                assert await web.submit(job("before"))
                await until(lambda: _has(ran, ["before"]), "the job before the outage")
            await outage(server)
            async with web_queue(server.url) as web:
                heads = [f"after{i}" for i in range(5)]
                for number, head in enumerate(heads, start=10):
                    assert await web.submit(job(head, pr=number))
                await until(lambda: _has(ran, ["before", *heads]), "the jobs submitted after the restart")
    assert sorted(ran) == sorted(["before", *heads])  # each once


async def test_the_worker_loop_reports_itself_down_during_the_outage_and_up_after(tmp_path: Path) -> None:
    async def handler(work: Job, is_current: IsCurrent) -> None:
        raise AssertionError("no job was submitted")

    async def down(queue: RedisQueue) -> bool:
        return queue.worker_up is False

    async def up(queue: RedisQueue) -> bool:
        return queue.worker_up is True

    with redis_server(tmp_path / "redis") as server:
        async with worker_queue(server.url, handler) as (worker, _):
            assert worker.worker_up is True and worker.worker_restarts == 0
            stopped = asyncio.create_task(outage(server))
            await until(lambda: down(worker), "the worker reporting its loop down")
            await stopped
            await until(lambda: up(worker), "the worker loop running again")
            assert worker.worker_restarts >= 1


async def test_a_job_a_worker_took_just_before_it_lost_redis_runs_again_within_the_lease(redis_url: str) -> None:
    ran: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        ran.append(work.head_sha)

    stranded = job("stranded")
    async with web_queue(redis_url) as web:
        assert await web.submit(stranded)
        # What arq's start_jobs leaves when Redis goes away right after it took the job: the job
        # still queued, marked in progress for arq's whole timeout (job timeout + 70 s).
        await web.redis.psetex(in_progress_key_prefix + job_id(stranded), 970_000, b"1")
        async with worker_queue(redis_url, handler, lease=1.0):
            await until(lambda: _has(ran, ["stranded"]), "the stranded job running again")
    assert ran == ["stranded"]


async def test_a_worker_stopped_while_its_loop_is_down_stops(tmp_path: Path) -> None:
    async def handler(work: Job, is_current: IsCurrent) -> None:
        raise AssertionError("no job was submitted")

    with redis_server(tmp_path / "redis") as server:
        queue = RedisQueue(server.url, run_jobs=True, poll_delay=0.02)
        await queue.start(handler)
        server.stop()

        async def down() -> bool:
            return queue.worker_up is False

        await until(down, "the worker reporting its loop down")
        # Waiting out its backoff, with Redis still gone: the drain must not hang (the bound catches a hang).
        await asyncio.wait_for(queue.drain(1.0, _never), PATIENCE)
        assert queue.worker_up is None


async def test_serve_reports_the_worker_down_during_a_redis_restart_and_completes_later_deliveries(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake = fake_github
    prs = [
        fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, repo=f"octo/restart{i}")
        for i in range(4)
    ]
    with redis_server(tmp_path / "redis") as server:
        settings = AppSettings(
            app_id=fake.app.app_id,
            private_key=fake.app.private_pem,
            webhook_secret=SECRET,
            api_url=fake.base_url,
            redis_url=server.url,
            run_jobs=True,
        )
        app = make_app(settings)
        app[RUNTIME].retry = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
        test_server = TestServer(app, host="127.0.0.1")
        await test_server.start_server()
        try:
            async with aiohttp.ClientSession() as session:

                async def deliver(index: int) -> None:
                    body, headers = _signed(pr_payload(fake, prs[index]), uuid.uuid4().hex)
                    async with session.post(test_server.make_url("/webhook"), data=body, headers=headers) as response:
                        assert response.status == 202, await response.text()

                async def health() -> tuple[int, dict[str, object]]:
                    async with session.get(test_server.make_url("/healthz")) as response:
                        return response.status, await response.json()

                async def metric(name: str) -> float:
                    async with session.get(test_server.make_url("/metrics")) as response:
                        found = re.search(rf"^{name} (\S+)$", await response.text(), re.MULTILINE)
                        assert found, f"{name} is not in /metrics"
                        return float(found.group(1))

                async def checked(index: int) -> bool:
                    runs = completed_runs(fake, prs[index].repo, prs[index].head_sha)
                    return any(run.status == "completed" for run in runs)

                async def worker_is(state: str, status: int) -> bool:
                    answer, body = await health()
                    return answer == status and body.get("worker") == state

                await deliver(0)
                await until(lambda: checked(0), "the check run before the outage")
                status, body = await health()
                assert status == 200 and body["worker"] == "up"
                assert await metric("unroot_worker_up") == 1.0 and await metric("unroot_worker_restarts_total") == 0.0

                stopped = asyncio.create_task(outage(server))
                await until(lambda: worker_is("restarting", 503), "/healthz saying 503, worker restarting")
                assert await metric("unroot_worker_up") == 0.0
                await stopped
                await until(lambda: worker_is("up", 200), "/healthz saying 200, worker up")
                assert await metric("unroot_worker_up") == 1.0 and await metric("unroot_worker_restarts_total") >= 1.0

                for index in range(1, len(prs)):
                    await deliver(index)
                for index in range(1, len(prs)):
                    await until(lambda: checked(index), f"the check run of PR {index} after the restart")
        finally:
            await test_server.close()


async def _has(ran: list[str], heads: list[str]) -> bool:
    return set(heads) <= set(ran)
