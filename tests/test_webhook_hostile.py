"""The webhook under attack, over real HTTP: no hostile delivery gets a 500 or a malformed job,
unauthenticated senders cannot exhaust memory, connections or metrics, and a delivery answered
400 can be redelivered."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot import server
from bot.app import STATE, make_app
from bot.config import AppSettings
from bot.queue import GiveUp, Handler, Job, MemoryQueue, QueueStats
from tests.fakegithub import FakeGitHub
from tests.hostile_webhooks import base_payload, cases, encode, signature

SECRET = "hostile-secret"
APP_ID = 4242


class RecordingQueue(MemoryQueue):
    """Takes jobs and keeps them: these tests are about what the webhook accepts, not the jobs' run."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[Job] = []

    async def submit(self, job: Job) -> bool:
        self.jobs.append(job)
        return True

    async def stats(self) -> QueueStats:
        return QueueStats(len(self.jobs), 0)

    async def start(self, handler: Handler, give_up: GiveUp | None = None) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def drain(self, grace: float, abandoned: Callable[[Job], Awaitable[None]]) -> None:
        return None


@pytest.fixture
async def app_server(fake_github: FakeGitHub) -> AsyncIterator[tuple[str, RecordingQueue, web.AppRunner]]:
    settings = AppSettings(
        app_id=APP_ID, private_key=fake_github.app.private_pem, webhook_secret=SECRET, api_url=fake_github.base_url
    )
    queue = RecordingQueue()
    app = make_app(settings, queue=queue)
    runner, listener = await server.start(app, "127.0.0.1", 0, header_timeout=2.0)
    port = listener.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", queue, runner
    await server.stop(runner, listener)


async def post(
    session: aiohttp.ClientSession,
    base: str,
    event: str,
    body: bytes,
    headers: dict[str, str],
    sign: bool,
    delivery: str = "",
) -> tuple[int, str]:
    sent = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or f"d-{time.monotonic_ns()}",
        "Content-Type": "application/json",
    }
    if sign:
        sent["X-Hub-Signature-256"] = signature(SECRET, body)
    sent.update(headers)
    async with session.post(f"{base}/webhook", data=body, headers=sent) as response:
        return response.status, await response.text()


_SHA = re.compile(r"[0-9a-f]{40}")


async def test_no_hostile_delivery_gets_a_500_or_a_malformed_job(
    app_server: tuple[str, RecordingQueue, object],
) -> None:
    base, queue, _ = app_server
    wrong: list[str] = []
    count = 0
    async with aiohttp.ClientSession() as session:
        for case in cases(SECRET, APP_ID):
            count += 1
            status, text = await post(session, base, case.event, case.body, case.headers, case.sign)
            if status not in case.allowed:
                wrong.append(f"{case.name}: {status} {text[:200]}")
        async with session.get(f"{base}/healthz") as health:
            assert health.status == 200
    assert count >= 124
    assert wrong == []
    for job in queue.jobs:  # whatever was accepted is a job the pipeline can run
        assert (
            _SHA.fullmatch(job.head_sha) and job.installation_id > 0 and re.fullmatch(r"[^/\s]+/[^/\s]+", job.repo)
        ), job
        assert job.pr_number is None or job.pr_number > 0
        assert job.changed_files is None or isinstance(job.changed_files, int)


async def test_a_malformed_field_is_named_in_the_400(app_server: tuple[str, RecordingQueue, object]) -> None:
    base, queue, _ = app_server
    data = base_payload("pull_request", APP_ID)
    data["pull_request"]["head"]["sha"] = {"evil": 1}
    async with aiohttp.ClientSession() as session:
        status, text = await post(session, base, "pull_request", encode(data), {}, True)
    assert status == 400 and "pull_request.head.sha" in text
    assert queue.jobs == []


async def test_a_delivery_answered_400_can_be_redelivered(app_server: tuple[str, RecordingQueue, object]) -> None:
    base, queue, _ = app_server
    good = base_payload("pull_request", APP_ID)
    bad = base_payload("pull_request", APP_ID)
    bad["number"] = "seven"
    async with aiohttp.ClientSession() as session:
        first, _ = await post(session, base, "pull_request", encode(bad), {}, True, delivery="same-id")
        second, text = await post(session, base, "pull_request", encode(good), {}, True, delivery="same-id")
        third, again = await post(session, base, "pull_request", encode(good), {}, True, delivery="same-id")
    assert (first, second, third) == (400, 202, 200), (text, again)
    assert "duplicate" in again and len(queue.jobs) == 1


async def test_unauthenticated_bodies_are_refused_before_they_are_read(
    app_server: tuple[str, RecordingQueue, object],
) -> None:
    base, _queue, _ = app_server
    big = b" " * (20 * 1024 * 1024)
    async with aiohttp.ClientSession() as session:
        # Without a well-formed signature the 20 MB are never read: the answer comes first.
        statuses = await asyncio.gather(*(post(session, base, "push", big, {}, False) for _ in range(16)))
    assert {status for status, _ in statuses} == {401}


async def test_bodies_in_flight_stay_within_the_byte_budget(
    app_server: tuple[str, RecordingQueue, web.AppRunner],
) -> None:
    base, _queue, runner = app_server
    state = runner.app[STATE]
    state.body_budget.limit = 3 * 1024 * 1024
    seen: list[int] = []

    async def watch() -> None:
        while True:
            seen.append(state.body_budget.used)
            await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    body = b"[" + b" " * (1024 * 1024) + b"]"
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(post(session, base, "push", body, {}, True) for _ in range(12)))
    watcher.cancel()
    assert {status for status, _ in results} <= {400, 503}  # signed, but not a push payload: 400
    assert max(seen) <= 3 * 1024 * 1024 and state.body_budget.used == 0


async def test_slow_senders_are_disconnected(app_server: tuple[str, RecordingQueue, object]) -> None:
    base, _queue, _ = app_server
    port = int(base.rsplit(":", 1)[1])

    async def slowloris(header_first: bool) -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        began = time.monotonic()
        if header_first:  # complete headers, then a body that never finishes
            writer.write(
                b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: s\r\n"
                b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\nContent-Length: 1000\r\n\r\n{"
            )
        else:
            writer.write(b"POST /webhook HTTP/1.1\r\n")
        for n in range(400):  # one byte every 0.1 s, for up to 40 s
            try:
                writer.write(b"X" if header_first else b"X-%d: y\r\n" % n)
                await writer.drain()
            except ConnectionError:
                break
            if reader.at_eof():
                break
            await asyncio.sleep(0.1)
            try:
                if await asyncio.wait_for(reader.read(1024), 0.001) == b"" or reader.at_eof():
                    break
            except TimeoutError:
                continue
        writer.close()
        return time.monotonic() - began

    import bot.app

    bot.app.BODY_TIMEOUT = 3.0
    try:
        waits = await asyncio.gather(*(slowloris(i % 2 == 0) for i in range(20)))
    finally:
        bot.app.BODY_TIMEOUT = 30.0
    assert max(waits) < 30, waits  # 2 s header deadline, 3 s body deadline: none is held on to


async def test_metrics_label_only_known_events(app_server: tuple[str, RecordingQueue, object]) -> None:
    base, _queue, _ = app_server
    async with aiohttp.ClientSession() as session:
        for n in range(300):
            await post(session, base, f"bogus-{n}", b"{}", {}, False)
        async with session.get(f"{base}/metrics") as response:
            text = await response.text()
    series = [line for line in text.splitlines() if line.startswith("unroot_deliveries_total")]
    assert len(series) <= 2 and 'event="other"' in text and "bogus" not in text
