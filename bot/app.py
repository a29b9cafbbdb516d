"""The aiohttp web app: verifies and acknowledges webhooks, queues jobs, reports health."""

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

from bot import handlers, job
from bot.analysis import AnalysisPool, Limits
from bot.auth import RedisTokenStore, TokenCache
from bot.config import AppSettings
from bot.observability import CONTENT_TYPE, Metrics, Redactor
from bot.github import Counters, GitHubError, InstallationClient, RetryPolicy
from bot.queue import Deliveries, DeliveryLog, IsCurrent, Job, JobQueue, MemoryQueue, QueueClosed, RetryLater
from bot.queue import RetryLaterPolicy
from bot.redisqueue import RedisQueue, url_secrets

log = logging.getLogger(__name__)


class Runtime:
    """What a process needs to run jobs: one HTTP session, the token cache, retry policy, counters
    and metrics. The web app (`State`) and the `unroot worker` process each have one."""

    def __init__(self, settings: AppSettings, queue: JobQueue) -> None:
        self.settings = settings
        self.queue = queue
        self.session: aiohttp.ClientSession | None = None
        self.tokens: TokenCache | None = None
        self.retry = RetryPolicy(secondary_floor=settings.secondary_limit_floor)
        self.counters = Counters()
        self.redactor = Redactor()
        self.metrics = Metrics(self.counters)
        self.analysis = AnalysisPool(settings.analysis_workers, Limits(settings.analysis_cpu_seconds, settings.analysis_memory_mb * 1024**2))
        for secret in (settings.webhook_secret, settings.private_key, *url_secrets(settings.redis_url)):
            self.redactor.add(secret)

    @property
    def requeues(self) -> bool:
        """Whether a cancelled job stays queued for another worker (Redis) or is over (in memory)."""
        return isinstance(self.queue, RedisQueue)

    async def open(self) -> None:
        """The HTTP session and the token cache (shared through Redis when the queue is)."""
        store = None
        if isinstance(self.queue, RedisQueue):
            await self.queue.connect()  # first: a process that cannot reach Redis exits saying so
            store = RedisTokenStore(self.queue.redis, self.settings.private_key)
        timeout = aiohttp.ClientTimeout(total=30, connect=10)
        self.session = aiohttp.ClientSession(timeout=timeout)
        self.tokens = TokenCache(
            self.settings.app_id, self.settings.private_key, self.fetch_token, on_token=self.redactor.add, store=store
        )
        self.tokens.app_jwt()  # load the key and the crypto backend now, not during the first webhook
        await self.queue.start(self.run_job, self.give_up)

    async def close(self) -> None:
        """Drain the queue (running jobs get the grace period) and close the session."""
        await self.queue.drain(self.settings.shutdown_grace, self.abandon)
        await self.analysis.close()
        if self.session is not None:
            await self.session.close()

    def client(self, installation_id: int) -> InstallationClient:
        assert self.session is not None and self.tokens is not None
        return InstallationClient(
            self.session, self.tokens, installation_id, self.settings.api_url, self.settings.graphql_url,
            self.retry, int(self.settings.app_id), self.counters,
        )

    async def fetch_token(self, installation_id: int, app_jwt: str) -> tuple[str, str]:
        assert self.session is not None
        url = f"{self.settings.api_url}/app/installations/{installation_id}/access_tokens"
        headers = {"Authorization": f"Bearer {app_jwt}", "Accept": "application/vnd.github+json", "User-Agent": "unroot-app"}
        try:
            async with self.session.post(url, headers=headers) as response:
                body = await response.json(content_type=None)
                if response.status != 201:
                    message = body.get("message", "") if isinstance(body, dict) else ""
                    # A rate limit on the token endpoint passes; other 4xx (app uninstalled) do not.
                    limited = response.status == 429 or (
                        response.status == 403 and ("retry-after" in response.headers or "rate limit" in str(message).lower())
                    )
                    raise GitHubError(
                        f"installation token for {installation_id}: {response.status} {message}", response.status,
                        transient=True if limited else None,
                    )
                return str(body["token"]), str(body["expires_at"])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise GitHubError(f"installation token for {installation_id}: {type(error).__name__} {error}") from None

    async def abandon(self, work: Job) -> None:
        await job.interrupted(self.client(work.installation_id), work)

    async def give_up(self, work: Job, reason: str) -> None:
        await job.give_up(self.client(work.installation_id), work, reason)
        self.metrics.jobs.labels("gave_up").inc()

    async def run_job(self, work: Job, is_current: IsCurrent) -> None:
        context = {"delivery": work.delivery_id, "repo": work.repo, "pr": work.pr_number, "sha": work.head_sha}
        log.info("job started", extra=context)
        started = time.monotonic()
        outcome_name = "error"
        try:
            outcome = await job.run(
                work, self.client(work.installation_id), is_current, self.settings.docs_url, requeued_on_cancel=self.requeues,
                analyse=self.analysis.analyse, resubmit=self.queue.submit,
            )
            outcome_name = outcome.conclusion
            log.info(
                "job done", extra={**context, "conclusion": outcome.conclusion, "findings": outcome.findings, "review": outcome.review_posted}
            )
        except asyncio.CancelledError:
            outcome_name = "interrupted"
            raise
        except RetryLater:
            outcome_name = "retry_later"
            raise
        finally:
            self.metrics.jobs.labels(outcome_name).inc()
            self.metrics.job_seconds.observe(time.monotonic() - started)


class State(Runtime):
    """The web app's runtime: also the delivery log and the count of accepted deliveries."""

    def __init__(self, settings: AppSettings, queue: JobQueue, deliveries: Deliveries | None = None) -> None:
        super().__init__(settings, queue)
        if deliveries is None:
            deliveries = queue if isinstance(queue, RedisQueue) else DeliveryLog()
        self.deliveries = deliveries
        self.accepted = 0
        self.body_budget = ByteBudget(BODY_BUDGET)


def make_queue(settings: AppSettings, run_jobs: bool) -> JobQueue:
    """The in-process queue, or Redis when REDIS_URL is set (jobs run here only when `run_jobs`)."""
    retry = RetryLaterPolicy(first=settings.retry_delay, cap=max(settings.retry_delay, 600.0), total=settings.retry_for)
    if not settings.redis_url:
        return MemoryQueue(settings.workers, retry)
    return RedisQueue(
        settings.redis_url, run_jobs=run_jobs, workers=settings.workers, installation_limit=settings.installation_jobs,
        lease=settings.lease_seconds, attempts=settings.job_attempts, job_timeout=settings.job_timeout,
        connect_wait=settings.redis_wait, retry=retry,
    )


STATE = web.AppKey("state", State)
RUNTIME = web.AppKey("runtime", Runtime)


def _json(http_status: int, **body: object) -> web.Response:
    return web.json_response(body, status=http_status)


# Events the App subscribes to, and the only values the deliveries metric labels take: the
# header is read before authentication, and a label per value sent would be a series per attacker.
KNOWN_EVENTS = frozenset({"ping", "pull_request", "push", "check_suite", "check_run", "installation", "installation_repositories"})
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
    state.metrics.deliveries.labels(event if event in KNOWN_EVENTS else "other", str(response.status)).inc()
    return response


async def _answer(request: web.Request, state: State) -> web.Response:
    received = time.time()  # before any await: two servers may finish deliveries out of order
    # Everything that can be judged from the headers is judged before a byte of the body is read.
    event_name = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    if not event_name or not _DELIVERY_ID.fullmatch(delivery_id):
        return _json(400, error="missing or malformed X-GitHub-Event or X-GitHub-Delivery")
    signature = request.headers.get("X-Hub-Signature-256", "")
    if state.settings.webhook_secret and not _SIGNATURE.fullmatch(signature):
        # Only HMAC-SHA256 in GitHub's format: a sha1= signature would be a downgrade.
        return _json(401, error="missing or malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)")
    length = request.content_length
    if length is None:
        return _json(411, error="Content-Length required")
    if length > state.settings.max_body_bytes:
        return _json(413, error=f"body over {state.settings.max_body_bytes:,} bytes")
    body = await _read_body(request, state, length)
    if isinstance(body, web.Response):
        return body
    if state.settings.webhook_secret:
        expected = "sha256=" + hmac.new(state.settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return _json(401, error="bad signature")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also 5,000-digit integers
        return _json(400, error="body is not JSON")
    if event_name == "ping":
        return _json(200, msg="pong")
    if not isinstance(data, dict) or not isinstance(data.get("action", ""), str):
        # gidgethub routes on `action`: it must be a string before the router sees it.
        return _json(400, error="payload must be a JSON object whose action, if any, is a string")
    # Understand the payload first: a delivery answered 400 is not remembered, so a redelivery
    # (after a fix on our side) is taken.
    jobs: list[Job] = []

    async def collect(work: Job) -> bool:
        jobs.append(dataclasses.replace(work, received=received))
        return True

    try:
        await handlers.router.dispatch(sansio.Event(data, event=event_name, delivery_id=delivery_id), collect, int(state.settings.app_id))
    except handlers.PayloadError as error:
        log.warning("delivery %s (%s) refused: %s", delivery_id, event_name, error)
        return _json(400, error=str(error))
    except Exception:  # noqa: BLE001 - a programming error: say so, log it, and let GitHub redeliver
        log.exception("delivery %s (%s): handler failed", delivery_id, event_name)
        return _json(500, error="internal error; the delivery can be redelivered")
    try:
        if not await state.deliveries.first_time(delivery_id):
            return _json(200, status="duplicate delivery", delivery=delivery_id)
    except (RedisError, OSError) as error:
        log.error("delivery %s refused: Redis unreachable: %s", delivery_id, error)
        return _json(503, error="queue unreachable; redeliver later")
    try:
        queued = [await state.queue.submit(work) for work in jobs]
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


async def _read_body(request: web.Request, state: State, length: int) -> bytes | web.Response:
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


async def _forget(state: State, delivery_id: str) -> None:
    try:
        await state.deliveries.forget(delivery_id)
    except (RedisError, OSError) as error:
        log.warning("could not forget delivery %s: %s", delivery_id, error)


async def healthz(request: web.Request) -> web.Response:
    """Readiness: the HTTP session is up and the queue (Redis, when configured) answers."""
    state = request.app[RUNTIME]
    ready = state.session is not None and not state.session.closed
    body: dict[str, object] = {"role": "web" if STATE in request.app else "worker"}
    if STATE in request.app:
        body["insecure"] = not state.settings.webhook_secret
    try:
        stats = await state.queue.stats()
        body.update(queue=stats.backend, queue_depth=stats.depth, running=stats.running)
        if stats.backend == "redis":
            body["redis"] = "ok"
    except (RedisError, OSError) as error:
        ready = False
        body.update(queue="redis", redis=f"unreachable: {error}")
    worker_up = _worker_up(state.queue)
    if worker_up is not None:
        # Read without Redis: during an outage too, say whether this process's worker loop is down.
        body["worker"] = "up" if worker_up else "restarting"
        ready = ready and worker_up
    body["status"] = "ok" if ready else ("starting" if state.session is None else "unavailable")
    return web.json_response(body, status=200 if ready else 503)


def _worker_up(queue: JobQueue) -> bool | None:
    """Whether this process's arq worker loop runs (None: it runs none; the in-memory queue has no loop to lose)."""
    return queue.worker_up if isinstance(queue, RedisQueue) else None


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition (queue depth read from the queue, Redis included, on each scrape)."""
    state = request.app[RUNTIME]
    try:
        stats = await state.queue.stats()
        state.metrics.queue_depth.set(stats.depth)
        state.metrics.running.set(stats.running)
        state.metrics.queue_up.set(1)
    except (RedisError, OSError):
        state.metrics.queue_up.set(0)
    if isinstance(state.queue, RedisQueue):
        state.metrics.observe_worker(state.queue.worker_up, state.queue.worker_restarts)
    return web.Response(body=state.metrics.render(), headers={"Content-Type": CONTENT_TYPE})


def make_app(settings: AppSettings, queue: JobQueue | None = None) -> web.Application:
    """Build the app; nothing starts until aiohttp runs it (sessions and workers in cleanup_ctx)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    state = State(settings, queue or make_queue(settings, run_jobs=settings.run_jobs))
    if not settings.webhook_secret:
        log.warning("INSECURE: webhook signatures are NOT verified (--insecure-no-secret); anyone can trigger jobs")
    app[STATE] = state
    app[RUNTIME] = state

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await state.open()
        yield
        # SIGTERM: aiohttp has stopped listening; running jobs get the grace period. In memory the
        # rest have their check runs completed as interrupted, with a Re-run button; on Redis they
        # stay queued for another worker.
        await state.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def make_status_app(runtime: Runtime) -> web.Application:
    """`/healthz` and `/metrics` alone, for an `unroot worker` given a port (it takes no webhooks)."""
    app = web.Application()
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
