"""The aiohttp web app: verifies and acknowledges webhooks, queues jobs, reports health and metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from gidgethub import sansio
from redis.exceptions import RedisError

from bot import handlers
from bot.config import AppSettings
from bot.queue import Job, JobQueue, QueueClosed
from bot.runtime import Runtime, make_queue
from bot.status import RUNTIME, WEB, healthz, metrics

log = logging.getLogger(__name__)


class WebState:
    """What the web app holds beside its runtime: the delivery log, the accepted count, the body budget."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.deliveries = runtime.queue.deliveries()
        self.accepted = 0
        self.body_budget = ByteBudget(BODY_BUDGET)


STATE = web.AppKey("web-state", WebState)


def _json(http_status: int, **body: object) -> web.Response:
    return web.json_response(body, status=http_status)


# Events the App subscribes to, and the only values the deliveries metric labels take: the
# header is read before authentication, and a label per value sent would be a series per attacker.
KNOWN_EVENTS = frozenset(
    {"ping", "pull_request", "push", "check_suite", "check_run", "installation", "installation_repositories"}
)
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
BODY_TIMEOUT = 30.0  # seconds to receive a whole body (GitHub sends at most 25 MB, at once)
BODY_BUDGET = 64 * 1024**2  # bytes of unverified bodies held at once, whatever the number of senders
BUDGET_WAIT = 10.0  # seconds a delivery may wait for room in that budget before a 503


class ByteBudget:
    """Bounds the bytes of request bodies held in memory at once (before they are authenticated)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._changed = asyncio.Condition()

    async def take(self, size: int, wait: float) -> bool:
        """Reserve `size` bytes, waiting up to `wait` seconds; False when there is no room in time."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.used + size <= self.limit), wait)
            except TimeoutError:
                return False
            self.used += size
            return True

    async def give_back(self, size: int) -> None:
        async with self._changed:
            self.used -= size
            self._changed.notify_all()


async def webhook(request: web.Request) -> web.Response:
    """Verify, deduplicate, turn into jobs and acknowledge; the work happens in the queue."""
    state = request.app[STATE]
    response = await _answer(request, state)
    event = request.headers.get("X-GitHub-Event", "")
    state.runtime.metrics.deliveries.labels(event if event in KNOWN_EVENTS else "other", str(response.status)).inc()
    return response


async def _answer(request: web.Request, state: WebState) -> web.Response:
    received = time.time()  # before any await: two servers may finish deliveries out of order
    settings = state.runtime.settings
    # Everything that can be judged from the headers is judged before a byte of the body is read.
    refused = _judge_headers(request, settings)
    if refused is not None:
        return refused
    event_name = request.headers["X-GitHub-Event"]
    delivery_id = request.headers["X-GitHub-Delivery"]
    body = await _read_body(request, state, request.content_length or 0)
    if isinstance(body, web.Response):
        return body
    if settings.webhook_secret:
        expected = "sha256=" + hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers["X-Hub-Signature-256"]):
            return _json(401, error="bad signature")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also 5,000-digit integers
        return _json(400, error="body is not JSON")
    if event_name == "ping":
        return _json(200, msg="pong")
    jobs = await _understand(sansio.Event(data, event=event_name, delivery_id=delivery_id), settings.app_id, received)
    if isinstance(jobs, web.Response):
        return jobs
    return await _queue(state, event_name, delivery_id, jobs)


def _judge_headers(request: web.Request, settings: AppSettings) -> web.Response | None:
    """The refusal a delivery earns by its headers alone, if any."""
    if not request.headers.get("X-GitHub-Event", "") or not _DELIVERY_ID.fullmatch(
        request.headers.get("X-GitHub-Delivery", "")
    ):
        return _json(400, error="missing or malformed X-GitHub-Event or X-GitHub-Delivery")
    if settings.webhook_secret and not _SIGNATURE.fullmatch(request.headers.get("X-Hub-Signature-256", "")):
        # Only HMAC-SHA256 in GitHub's format: a sha1= signature would be a downgrade.
        return _json(401, error="missing or malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)")
    length = request.content_length
    if length is None:
        return _json(411, error="Content-Length required")
    if length > settings.max_body_bytes:
        return _json(413, error=f"body over {settings.max_body_bytes:,} bytes")
    return None


async def _understand(event: sansio.Event, app_id: int, received: float) -> list[Job] | web.Response:
    """The jobs a payload asks for, or the answer that refuses it. Understood first: a delivery
    answered 400 is not remembered, so a redelivery (after a fix on our side) is taken."""
    data = event.data
    if not isinstance(data, dict) or not isinstance(data.get("action", ""), str):
        # gidgethub routes on `action`: it must be a string before the router sees it.
        return _json(400, error="payload must be a JSON object whose action, if any, is a string")
    jobs: list[Job] = []

    async def collect(work: Job) -> bool:
        jobs.append(dataclasses.replace(work, received=received))
        return True

    try:
        await handlers.router.dispatch(event, collect, app_id)
    except handlers.PayloadError as error:
        log.warning("delivery %s (%s) refused: %s", event.delivery_id, event.event, error)
        return _json(400, error=str(error))
    except Exception:  # a programming error: say so, log it, and let GitHub redeliver
        log.exception("delivery %s (%s): handler failed", event.delivery_id, event.event)
        return _json(500, error="internal error; the delivery can be redelivered")
    return jobs


async def _queue(state: WebState, event_name: str, delivery_id: str, jobs: list[Job]) -> web.Response:
    """Remember the delivery and queue its jobs; 503 (and forget it) when the queue cannot take them."""
    try:
        if not await state.deliveries.first_time(delivery_id):
            return _json(200, status="duplicate delivery", delivery=delivery_id)
    except (RedisError, OSError) as error:
        log.error("delivery %s refused: Redis unreachable: %s", delivery_id, error)
        return _json(503, error="queue unreachable; redeliver later")
    try:
        queued = [await state.runtime.queue.submit(work) for work in jobs]
    except QueueClosed:
        await _forget(state, delivery_id)  # let GitHub's redelivery through once we are back
        return _json(503, error="shutting down; redeliver later")
    except (RedisError, OSError) as error:
        # Not acknowledged, so not lost: the delivery shows as failed in GitHub and can be redelivered.
        log.error("delivery %s refused: Redis failed: %s", delivery_id, error)
        await _forget(state, delivery_id)
        return _json(503, error="queue unreachable; redeliver later")
    state.accepted += 1
    return _json(202, queued=sum(queued), event=event_name, delivery=delivery_id)


async def _read_body(request: web.Request, state: WebState, length: int) -> bytes | web.Response:
    """The body, within the shared byte budget and the body deadline."""
    if not await state.body_budget.take(length, BUDGET_WAIT):
        return _json(503, error="too many deliveries being received; redeliver later")
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            body = await request.content.readexactly(length) if length else b""
    except TimeoutError:
        return _json(408, error=f"body not received within {BODY_TIMEOUT:g} s")
    except (asyncio.IncompleteReadError, aiohttp.ClientError, ConnectionError):
        return _json(400, error="body shorter than its Content-Length")
    finally:
        await state.body_budget.give_back(length)
    return body


async def _forget(state: WebState, delivery_id: str) -> None:
    try:
        await state.deliveries.forget(delivery_id)
    except (RedisError, OSError) as error:
        log.warning("could not forget delivery %s: %s", delivery_id, error)


def make_app(settings: AppSettings, queue: JobQueue | None = None) -> web.Application:
    """Build the app; nothing starts until aiohttp runs it (sessions and workers in cleanup_ctx)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    runtime = Runtime(settings, queue or make_queue(settings, run_jobs=settings.run_jobs))
    if not settings.webhook_secret:
        log.warning("INSECURE: webhook signatures are NOT verified (--insecure-no-secret); anyone can trigger jobs")
    app[STATE] = WebState(runtime)
    app[RUNTIME] = runtime
    app[WEB] = True

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await runtime.open()
        yield
        # SIGTERM: aiohttp has stopped listening; running jobs get the grace period. In memory the
        # rest have their check runs completed as interrupted, with a Re-run button; on Redis they
        # stay queued for another worker.
        await runtime.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
