"""The Redis queue against a real redis-server: shared deliveries, supersession, locks, limits, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio
from aiohttp.test_utils import TestServer
from arq.constants import in_progress_key_prefix

from bot.app import STATE, make_app
from bot.auth import RedisTokenStore, TokenCache
from bot.config import AppSettings
from bot.queue import IsCurrent, Job, JobKind
from bot.redisqueue import RedisQueue, job_id
from tests.fakegithub import FakeGitHub, generate_app_key, shared_app_key
from tests.patience import PATIENCE, until
from tests.redisserver import redis_server
from tests.test_e2e import ROOT_DOCKERFILE, SECRET, pr_payload

Handler = Callable[[Job, IsCurrent], Awaitable[None]]


def job(sha: str, *, pr: int | None = 1, repo: str = "o/r", installation: int = 1, ref: str = "refs/heads/x") -> Job:
    kind: JobKind = "pull_request" if pr is not None else "push"
    return Job(
        kind=kind,
        installation_id=installation,
        repo=repo,
        head_sha=sha,
        delivery_id=uuid.uuid4().hex,
        default_branch="main",
        pr_number=pr,
        ref=ref,
    )


@contextlib.asynccontextmanager
async def web_queue(url: str) -> AsyncIterator[RedisQueue]:
    """A queue as `unroot serve` has it with Redis: it only submits."""
    queue = RedisQueue(url, run_jobs=False)
    await queue.connect()
    try:
        yield queue
    finally:
        await queue.drain(0, _never)


@contextlib.asynccontextmanager
async def worker_queue(
    url: str, handler: Handler, **options: Any
) -> AsyncIterator[tuple[RedisQueue, list[tuple[Job, str]]]]:
    """A queue as `unroot worker` has it; yields it and the give-ups it made."""
    gave_up: list[tuple[Job, str]] = []

    async def give_up(work: Job, reason: str) -> None:
        gave_up.append((work, reason))

    queue = RedisQueue(url, run_jobs=True, poll_delay=0.02, **options)
    await queue.start(handler, give_up)
    try:
        yield queue, gave_up
    finally:
        await queue.drain(1.0, _never)


async def _never(work: Job) -> None:
    raise AssertionError("a Redis queue abandons nothing: jobs stay queued")


async def settle(queue: RedisQueue, timeout: float = PATIENCE) -> None:
    """Wait until nothing is queued or running."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        stats = await queue.stats()
        if stats.depth == 0 and stats.running == 0 and not await queue.redis.zcard("unroot:queue"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"queue did not settle: {await queue.stats()}")


async def test_two_web_processes_take_a_delivery_once(redis_url: str) -> None:
    async with web_queue(redis_url) as first, web_queue(redis_url) as second:
        assert await first.first_time("delivery-1")
        assert not await second.first_time("delivery-1")  # the redelivery went to the other server
        await second.forget("delivery-1")  # a delivery that could not be queued
        assert await first.first_time("delivery-1")
        ttl = await first.redis.ttl("unroot:delivery:delivery-1")
        assert 3 * 24 * 3600 - 60 < ttl <= 3 * 24 * 3600


async def test_a_commit_is_queued_once_and_a_newer_head_supersedes_the_queued_one(redis_url: str) -> None:
    ran: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        ran.append(work.head_sha)

    async with web_queue(redis_url) as web:
        assert await web.submit(job("a"))
        assert not await web.submit(job("a"))  # the same commit of the same PR: once
        assert await web.submit(job("b"))  # a newer head of PR 1
        assert await web.submit(job("c", pr=2))  # another PR: its own lane
        assert (await web.stats()).depth == 2  # "a" left the queue when "b" came: it takes no worker slot
        assert not await web.redis.exists("arq:job:o/r@a:pr1")
        async with worker_queue(redis_url, handler) as (worker, _):
            await settle(worker)
            counters = await worker.counters()
    assert sorted(ran) == ["b", "c"]
    assert counters["superseded"] == 1 and counters["completed"] == 2


async def test_a_delivery_that_a_slower_server_finishes_late_does_not_undo_a_newer_head(redis_url: str) -> None:
    async with web_queue(redis_url) as web:
        older, newer = job("a"), job("b")
        # "a" reached server 1 just before "b" reached server 2, but server 1 was busy: "b" is queued first.
        assert await web.submit(dataclasses.replace(newer, received=1000.002))
        assert not await web.submit(dataclasses.replace(older, received=1000.001))  # stale: changes nothing
        assert (await web.redis.get("unroot:lane:o/r:pr:1") or b"").startswith(b"b|")
        assert await web.redis.exists("arq:job:o/r@b:pr1") and not await web.redis.exists("arq:job:o/r@a:pr1")
        assert (await web.counters())["superseded"] == 1


async def test_a_job_whose_lane_moved_on_as_a_worker_took_it_is_dropped_there(redis_url: str) -> None:
    ran: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        ran.append(work.head_sha)

    async with web_queue(redis_url) as web:
        await web.submit(job("a"))
        # A newer head's submit lost the race to the worker that took "a" (so "a" stayed queued).
        await web.redis.set("unroot:lane:o/r:pr:1", "b")
        async with worker_queue(redis_url, handler) as (worker, _):
            await settle(worker)
            counters = await worker.counters()
    assert ran == [] and counters["superseded"] == 1


async def test_a_running_job_learns_that_a_newer_head_arrived(redis_url: str) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    current: dict[str, bool] = {}

    async def handler(work: Job, is_current: IsCurrent) -> None:
        started.set()
        await release.wait()
        current[work.head_sha] = await is_current()

    async with web_queue(redis_url) as web, worker_queue(redis_url, handler) as (worker, _):
        await web.submit(job("a"))
        await asyncio.wait_for(started.wait(), PATIENCE)
        await web.submit(job("b"))
        release.set()
        await settle(worker)
    assert current == {"a": False, "b": True}  # "a" publishes no stale review


async def test_one_installation_cannot_take_every_worker(redis_url: str) -> None:
    running: Counter[int] = Counter()
    most: Counter[int] = Counter()
    events: list[tuple[str, int]] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        running[work.installation_id] += 1
        most[work.installation_id] = max(most[work.installation_id], running[work.installation_id])
        events.append(("start", work.installation_id))
        await asyncio.sleep(0.3)
        running[work.installation_id] -= 1
        events.append(("end", work.installation_id))

    async with web_queue(redis_url) as web:
        for n in range(4):
            await web.submit(job(f"busy{n}", repo=f"big/repo{n}", installation=1))
        await web.submit(job("small", repo="small/repo", installation=2))
        async with worker_queue(redis_url, handler, workers=4, installation_limit=2) as (worker, _):
            await settle(worker)
            counters = await worker.counters()
    assert most[1] == 2 and most[2] == 1
    assert counters["completed"] == 5 and counters["deferred_installation"] >= 1
    small_started = events.index(("start", 2))
    assert events[:small_started].count(("end", 1)) < 4  # installation 2 did not wait for all of installation 1


async def test_two_jobs_of_one_commit_never_overlap_and_a_pr_job_covers_a_later_push(redis_url: str) -> None:
    active: list[str] = []
    overlapped: list[bool] = []
    ran: list[str] = []
    push_started = asyncio.Event()

    async def handler(work: Job, is_current: IsCurrent) -> None:
        overlapped.append(bool(active))
        active.append(work.kind)
        ran.append(work.kind)
        if work.kind == "push":
            push_started.set()
        await asyncio.sleep(0.2)
        active.remove(work.kind)

    async with web_queue(redis_url) as web, worker_queue(redis_url, handler, workers=4) as (worker, _):
        await web.submit(job("s", pr=None))
        await asyncio.wait_for(push_started.wait(), PATIENCE)
        await web.submit(job("s", pr=3))  # the same commit while its push job runs: waits for it
        await settle(worker)
        await web.submit(job("t", pr=4))
        await web.submit(job("t", pr=None))  # the PR job of this commit publishes its check run
        await settle(worker)
        counters = await worker.counters()
    assert ran == ["push", "pull_request", "pull_request"]
    assert overlapped == [False, False, False]
    assert counters["deferred_commit"] >= 1 and counters["covered_by_pr"] == 1


async def test_a_job_cut_short_too_often_fails_its_run_instead_of_killing_workers(redis_url: str) -> None:
    ran: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        ran.append(work.head_sha)

    poison = job("p")
    async with web_queue(redis_url) as web:
        await web.submit(poison)
        # Three earlier attempts began and never ended (their workers were SIGKILLed).
        await web.redis.set("unroot:attempts:o/r@p:pr1", 3)
        async with worker_queue(redis_url, handler, attempts=3) as (worker, gave_up):
            await settle(worker)
    assert ran == []
    assert [(work.head_sha, reason) for work, reason in gave_up] == [
        ("p", "3 attempts were cut short (a worker died or lost Redis mid-job)")
    ]


async def test_failing_the_run_is_tried_again_when_github_cannot_be_reached_for_that_either(redis_url: str) -> None:
    calls: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        raise AssertionError("a job past its attempts does not run")

    async def give_up(work: Job, reason: str) -> None:
        calls.append(reason)
        if len(calls) == 1:
            raise ConnectionError("GitHub unreachable")

    async with web_queue(redis_url) as web:
        await web.submit(job("p"))
        await web.redis.set("unroot:attempts:o/r@p:pr1", 3)
        worker = RedisQueue(redis_url, run_jobs=True, poll_delay=0.02, attempts=3)
        worker.give_up_retry = (0.05, 0.1)
        await worker.start(handler, give_up)
        try:
            await settle(worker)
        finally:
            await worker.drain(1.0, _never)
    assert len(calls) == 2  # the second try failed the run; nothing was left in progress


async def test_a_job_over_its_time_limit_fails_its_run(redis_url: str) -> None:
    async def handler(work: Job, is_current: IsCurrent) -> None:
        await asyncio.sleep(60)

    async with web_queue(redis_url) as web, worker_queue(redis_url, handler, job_timeout=0.3) as (worker, gave_up):
        await web.submit(job("slow"))
        await settle(worker)
    assert [reason for _, reason in gave_up] == ["the job took longer than 0.3 s"]


async def test_a_gracefully_stopped_job_stays_queued_for_the_next_worker(redis_url: str) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(work: Job, is_current: IsCurrent) -> None:
        started.set()
        await asyncio.sleep(60)

    async def quick(work: Job, is_current: IsCurrent) -> None:
        finished.append(work.head_sha)

    async with web_queue(redis_url) as web:
        await web.submit(job("a"))
        first = RedisQueue(redis_url, run_jobs=True, poll_delay=0.02)
        await first.start(slow)
        await asyncio.wait_for(started.wait(), PATIENCE)
        await first.drain(0.1, _never)  # SIGTERM with a short grace: the job is cancelled, not lost
        assert (await web.stats()).depth == 1
        assert await web.redis.get("unroot:attempts:o/r@a:pr1") == b"0"  # a graceful stop is not an attempt
        async with worker_queue(redis_url, quick) as (second, _):
            await settle(second)
    assert finished == ["a"]


async def test_a_stopped_job_that_a_newer_head_supersedes_still_runs_to_complete_its_check_run(redis_url: str) -> None:
    started = asyncio.Event()
    ran: list[tuple[str, bool]] = []

    async def slow(work: Job, is_current: IsCurrent) -> None:
        started.set()  # (here the job would have created its check run, in progress)
        await asyncio.sleep(60)

    async def quick(work: Job, is_current: IsCurrent) -> None:
        ran.append((work.head_sha, await is_current()))

    async with web_queue(redis_url) as web:
        await web.submit(job("a"))
        first = RedisQueue(redis_url, run_jobs=True, poll_delay=0.02)
        await first.start(slow)
        await asyncio.wait_for(started.wait(), PATIENCE)
        await first.drain(0.1, _never)  # "a" goes back to the queue, its run still in progress
        await web.submit(job("b"))  # a newer head: "a" is not dropped, it has a run to complete
        async with worker_queue(redis_url, quick) as (second, _):
            await settle(second)
    assert sorted(ran) == [("a", False), ("b", True)]  # "a" completes its run and posts no review


async def test_a_job_from_another_release_with_an_extra_field_still_runs(redis_url: str) -> None:
    ran: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        ran.append(work.head_sha)

    async with web_queue(redis_url) as web:
        newer = {**dataclasses.asdict(job("a")), "priority": 3}
        await web.redis.set("unroot:lane:o/r:pr:1", "a")
        await web.redis.enqueue_job("unroot_job", newer, _job_id="o/r@a:pr1")
        async with worker_queue(redis_url, handler) as (worker, _):
            await settle(worker)
    assert ran == ["a"]


async def test_installation_tokens_are_fetched_once_for_every_process_and_stored_sealed(redis_url: str) -> None:
    pem = shared_app_key().private_pem
    fetched: list[int] = []

    async def fetch(installation_id: int, app_jwt: str) -> tuple[str, str]:
        fetched.append(installation_id)
        return f"ghs_token{len(fetched)}", "2099-01-01T00:00:00Z"

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        first = TokenCache("1", pem, fetch, store=RedisTokenStore(client, pem))
        second = TokenCache("1", pem, fetch, store=RedisTokenStore(client, pem))
        assert await first.token(7) == "ghs_token1"
        assert await second.token(7) == "ghs_token1"  # another process: from Redis, not from GitHub
        assert fetched == [7]
        sealed = await client.get("unroot:token:7")
        assert sealed is not None and b"ghs_token1" not in sealed
        other_app = TokenCache(
            "1", generate_app_key().private_pem, fetch, store=RedisTokenStore(client, generate_app_key().private_pem)
        )
        assert await other_app.token(7) == "ghs_token2"  # cannot open the sealed token: fetches its own
        await second.forget(7)  # GitHub said 401: gone for everyone
        assert await client.get("unroot:token:7") is None
        third = TokenCache("1", pem, fetch, store=RedisTokenStore(client, pem))
        assert await third.token(7) == "ghs_token3"
    finally:
        await client.aclose()


def _signed(payload: dict[str, Any], delivery: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


async def test_serve_with_redis_enqueues_reports_depth_and_refuses_deliveries_while_redis_is_down(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake = fake_github
    prs = [
        fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, repo=f"octo/app{i}") for i in range(2)
    ]
    with redis_server(tmp_path / "redis") as server:
        settings = AppSettings(
            app_id=fake.app.app_id,
            private_key=fake.app.private_pem,
            webhook_secret=SECRET,
            api_url=fake.base_url,
            redis_url=server.url,
            run_jobs=False,
        )
        app = make_app(settings)
        test_server = TestServer(app, host="127.0.0.1")
        await test_server.start_server()
        try:
            async with aiohttp.ClientSession() as session:
                body, headers = _signed(pr_payload(fake, prs[0]), "d-1")
                async with session.post(test_server.make_url("/webhook"), data=body, headers=headers) as response:
                    assert response.status == 202
                async with session.post(test_server.make_url("/webhook"), data=body, headers=headers) as response:
                    assert response.status == 200 and (await response.json())["status"] == "duplicate delivery"
                async with session.get(test_server.make_url("/healthz")) as response:
                    health = await response.json()
                    assert response.status == 200
                    assert health["queue"] == "redis" and health["redis"] == "ok" and health["queue_depth"] == 1
                async with session.get(test_server.make_url("/metrics")) as response:
                    text = await response.text()
                    assert "unroot_queue_depth 1.0" in text and "unroot_queue_up 1.0" in text
                assert fake.requests == []  # serve without --run-jobs only enqueues

                server.stop()
                body, headers = _signed(pr_payload(fake, prs[1]), "d-2")
                async with session.post(test_server.make_url("/webhook"), data=body, headers=headers) as response:
                    assert response.status == 503  # not acknowledged: GitHub shows it failed, it can be redelivered
                async with session.get(test_server.make_url("/healthz")) as response:
                    health = await response.json()
                    assert response.status == 503 and health["redis"].startswith("unreachable")
                async with session.get(test_server.make_url("/metrics")) as response:
                    assert "unroot_queue_up 0.0" in await response.text()

                server.restart()  # an empty Redis: nothing was persisted
                async with session.post(test_server.make_url("/webhook"), data=body, headers=headers) as response:
                    assert response.status == 202  # the redelivery of d-2 is taken
                assert app[STATE].accepted == 2
        finally:
            await test_server.close()


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379"])
def test_a_redis_url_that_is_not_one_is_refused_at_start(url: str) -> None:
    from bot.config import SettingsError

    env = {
        "GITHUB_APP_ID": "1",
        "GITHUB_WEBHOOK_SECRET": "s",
        "GITHUB_PRIVATE_KEY": shared_app_key().private_pem,
        "REDIS_URL": url,
    }
    with pytest.raises(SettingsError, match="REDIS_URL must start with redis://"):
        AppSettings.from_env(env)


async def test_a_job_picked_by_a_worker_that_died_before_its_lease_runs_elsewhere(redis_url: str) -> None:
    # arq marks a job in progress when a worker picks it, for job_timeout + 60 s. A worker killed
    # between that pick and our lease left the mark behind, and the job waited 16 minutes for any
    # other worker (seen once in a loaded run of test_scaleout). Here the surviving worker's loop
    # is already running when the dead worker's mark appears.
    ran: list[str] = []

    async def handler(work: Job, is_current: IsCurrent) -> None:
        ran.append(work.head_sha)

    async with worker_queue(redis_url, handler, lease=0.5) as (worker, _), web_queue(redis_url) as web:
        work = job("d" * 40)
        await worker.redis.set(in_progress_key_prefix + job_id(work), b"1", px=960_000)  # the dead worker's pick
        assert await web.submit(work)

        async def done() -> bool:
            return ran == [work.head_sha]

        await until(done, "the job a dead worker had picked running on the live one")
